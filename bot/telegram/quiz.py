"""/quiz: a few checked questions as native Telegram quiz polls; the answers are kept per chat.

The polls are not anonymous, so Telegram reports each answer as a ``poll_answer`` update. That
update names the poll but not the chat, so each poll's id is mapped to its chat and question
in ``bot_data`` (persisted with PTB's other data). When every question of a round has its
answer, the chat gets the score and a button for another round, which revisits what was missed.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import TYPE_CHECKING, Any, cast

from telegram import (
    Chat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputPollOption,
    Message,
    Poll,
    Update,
)
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    PollAnswerHandler,
    filters,
)

from bot.telegram.config import TelegramConfig
from bot.telegram.errors import shown_on
from bot.telegram.i18n import lang_for, t
from bot.telegram.status import StatusMessage

if TYPE_CHECKING:
    from bot.study import Quizzer, RoundScore

__all__ = ["POLLS_KEY", "QUIZ_CALLBACK", "QuizFeature"]

QUIZ_CALLBACK = "quiz:"
POLLS_KEY = "quiz_polls"
MAX_POLLS = 2000  # poll ids remembered (the oldest are forgotten first)


def _score_text(score: RoundScore, lang: str) -> str:
    text = t(lang, "quiz_score", correct=score.correct, total=score.total)
    key = "quiz_all_right" if score.correct == score.total else "quiz_missed"
    return text + "\n" + t(lang, key)


def _again(lang: str) -> InlineKeyboardMarkup:
    button = InlineKeyboardButton(t(lang, "btn_quiz_again"), callback_data=QUIZ_CALLBACK + "again")
    return InlineKeyboardMarkup([[button]])


class QuizFeature:
    """The /quiz command, the another-round button and the poll answers."""

    def __init__(self, quizzes: Quizzer, config: TelegramConfig) -> None:
        self._quizzes = quizzes
        self._config = config

    def handlers(self) -> list[BaseHandler[Update, Any, Any]]:
        return [
            CommandHandler("quiz", self.handle_quiz, filters=filters.UpdateType.MESSAGE),
            CallbackQueryHandler(self.handle_again, pattern=f"^{QUIZ_CALLBACK}again$"),
            PollAnswerHandler(self.handle_poll_answer),
        ]

    async def run(self, chat: Chat, lang: str, bot_data: MutableMapping[Any, Any]) -> None:
        """Write a round and send it: an intro line, then one quiz poll per question."""
        interval = self._config.edit_interval_s
        status = await StatusMessage.send(chat, t(lang, "quiz_making"), interval)
        made = await shown_on(status, lang, self._quizzes.make(chat.id, lang=lang))
        if made is None:
            return
        intro = t(lang, "quiz_ready", n=len(made.items))
        if made.revisited:
            intro += "\n" + t(lang, "quiz_revisit", n=made.revisited)
        await status.finish(intro)
        polls: dict[str, dict[str, Any]] = bot_data.setdefault(POLLS_KEY, {})
        for item in made.items:
            q = item.question
            sent = await chat.send_poll(
                q.question,
                [InputPollOption(o, text_parse_mode=None) for o in q.options],
                type=Poll.QUIZ,
                # PTB types the ids as literals 0-11; the checks keep them within the options.
                correct_option_ids=cast("Any", [q.correct_option_id]),
                explanation=q.explanation,
                explanation_parse_mode=None,
                question_parse_mode=None,
                is_anonymous=False,
            )
            if sent.poll is not None:
                polls[sent.poll.id] = {"chat": chat.id, "quiz": item.quiz_id, "lang": lang}
        while len(polls) > MAX_POLLS:
            del polls[next(iter(polls))]

    async def handle_quiz(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        assert message is not None
        await self.run(message.chat, lang_for(update, context.user_data), context.bot_data)

    async def handle_again(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """🔁 under a round's score: another round."""
        query = update.callback_query
        assert query is not None
        await query.answer()
        message = query.message
        if not isinstance(message, Message):
            return
        await query.edit_message_reply_markup(None)
        await self.run(message.chat, lang_for(update, context.user_data), context.bot_data)

    async def handle_poll_answer(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Keep the answer; after a round's last answer, send its score."""
        answer = update.poll_answer
        assert answer is not None
        entry = context.bot_data.get(POLLS_KEY, {}).get(answer.poll_id)
        if entry is None or not answer.option_ids:  # not our poll, or a retracted vote
            return
        recorded = await self._quizzes.answer(entry["chat"], entry["quiz"], answer.option_ids[0])
        if recorded is None or not recorded.first or not recorded.score.done:
            return
        lang = entry["lang"]
        await context.bot.send_message(
            entry["chat"], _score_text(recorded.score, lang), reply_markup=_again(lang)
        )
