"""Questions: a typing indicator, the answer's draft streamed into the chat, then the final HTML.

``Questions`` is the feature: its named handlers take typed questions, suggested-question
buttons and the buttons under an answer; ``Questions.answer`` asks the answerer and renders its
events (other features, e.g. voice questions, answer through it too). ``AnswerView`` is what one
answer looks like while it is written: "typing…", then the draft (a message draft in private
chats, else one message edited at most once per interval), then the checked answer with its [n]
markers, the numbered sources (split at 4096 characters) and buttons to explain more simply,
give an example, or show the sources. The draft is plain text: half-written HTML must never
reach Telegram.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import AsyncIterator, MutableMapping, Sequence
from typing import TYPE_CHECKING, Any

from telegram import (
    Bot,
    Chat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    ReplyParameters,
    Update,
)
from telegram.constants import ChatAction, ChatType, ParseMode
from telegram.error import RetryAfter, TelegramError
from telegram.ext import BaseHandler, CallbackQueryHandler, ContextTypes, MessageHandler, filters

from bot.answering import Draft, Final, Rewind
from bot.telegram.cards import ASK_CALLBACK, question_buttons, recall, remember
from bot.telegram.config import TelegramConfig
from bot.telegram.draft import DraftStream
from bot.telegram.errors import Told, failure_text, retry_markup
from bot.telegram.figures import answer_buttons
from bot.telegram.flood import droppable
from bot.telegram.formulas import send_formula_images
from bot.telegram.i18n import LANG_KEY, lang_for, t
from bot.telegram.render import preview_text, render_answer, render_citations, split_html
from bot.telegram.status import StatusMessage

if TYPE_CHECKING:
    from bot.answering import Answer, Answerer
    from bot.markup.formula_image import FormulaRenderer
    from bot.pages import PageViewer
    from bot.services import Services
    from bot.study import NextSteps

__all__ = ["ANSWER_CALLBACK", "AnswerView", "Questions"]

log = logging.getLogger(__name__)
ANSWER_CALLBACK = "a:"
TYPING_EVERY_S = 4.5  # Telegram shows "typing…" for about 5 seconds per call


async def _typing(chat: Chat) -> None:
    with contextlib.suppress(TelegramError):  # a nicety: never fail an answer over it
        await chat.send_action(ChatAction.TYPING)


async def _keep_typing(chat: Chat) -> None:
    while True:
        await asyncio.sleep(TYPING_EVERY_S)
        await _typing(chat)


def _answer_buttons(
    lang: str, key: str, extra_rows: Sequence[Sequence[InlineKeyboardButton]] = ()
) -> InlineKeyboardMarkup:
    def button(label: str, action: str) -> InlineKeyboardButton:
        return InlineKeyboardButton(
            t(lang, label), callback_data=f"{ANSWER_CALLBACK}{action}:{key}"
        )

    return InlineKeyboardMarkup(
        [
            [button("btn_simpler", "simpler"), button("btn_example", "example")],
            [button("btn_sources", "sources")],
            *extra_rows,
        ]
    )


class AnswerView:
    """One answer in one chat as it is written: typing, draft, final message (or failure).

    Call ``start``, then ``draft`` for each piece and ``final`` once, or ``fail``; ``close``
    always (it stops the typing indicator and the draft).
    """

    def __init__(
        self,
        bot: Bot,
        chat: Chat,
        config: TelegramConfig,
        *,
        drafts: bool,
        reply: ReplyParameters | None,
    ) -> None:
        self._chat = chat
        self._config = config
        self._reply = reply
        self._pieces: list[str] = []
        self._stream: StatusMessage | None = None
        self._draft = DraftStream(bot, chat.id, config.edit_interval_s) if drafts else None
        self._first_typing: asyncio.Task[None] | None = None
        self._typing: asyncio.Task[None] | None = None
        self._closed = False

    @property
    def drafts_refused(self) -> bool:
        """The Bot API refused a message draft (an older or self-hosted server)."""
        return self._draft is not None and self._draft.failed

    def start(self) -> None:
        """The typing indicator goes out alongside the work rather than before it (a Bot API
        round trip); whatever the view sends next waits for it, so it never lands after."""
        loop = asyncio.get_running_loop()
        self._first_typing = loop.create_task(_typing(self._chat))
        self._typing = loop.create_task(_keep_typing(self._chat))

    async def draft(self, piece: str) -> None:
        """Show the answer so far (plain text), as a draft or by editing one message."""
        self._pieces.append(piece)
        preview = preview_text("".join(self._pieces))
        if not preview:
            return
        if self._first_typing is not None:
            await self._first_typing  # done long ago, unless the answer came instantly
        if self._draft is not None and not self._draft.failed:
            await self._draft.push(preview)
            if not self._draft.failed:
                return
        if self._stream is None:
            try:
                with droppable():  # a preview: under flood control the next one tries again
                    sent = await self._chat.send_message(
                        preview, parse_mode=None, reply_parameters=self._reply
                    )
            except RetryAfter:
                return
            self._stream = StatusMessage(sent, self._config.edit_interval_s)
            if self._typing is not None:
                self._typing.cancel()
        else:
            self._stream.push(preview)

    def rewind(self) -> None:
        """The answer is being written again: the next draft replaces what was shown."""
        self._pieces.clear()

    async def final(
        self,
        answer: Answer,
        lang: str,
        chat_data: MutableMapping[Any, Any],
        extra_rows: Sequence[Sequence[InlineKeyboardButton]] = (),
    ) -> None:
        """The checked answer in HTML with its sources and buttons (``extra_rows`` after them):
        into the streamed message if there is one, else as new messages split at Telegram's
        limit."""
        await self.close()
        lang = answer.lang if answer.lang in ("zh", "en") else lang
        sources = render_citations(answer.citations, lang, expandable=False)
        key = remember(
            chat_data,
            {
                "question": answer.question,
                "lang": lang,
                "sources": sources if answer.citations else "",
            },
        )
        html = render_answer(answer, lang)
        buttons = _answer_buttons(lang, key, extra_rows)
        if self._stream is not None:
            await self._stream.finish(html, reply_markup=buttons)
            return
        parts = split_html(html)
        for i, part in enumerate(parts, start=1):
            await self._chat.send_message(
                part,
                parse_mode=ParseMode.HTML,
                reply_markup=buttons if i == len(parts) else None,
                reply_parameters=self._reply if i == 1 else None,
            )

    async def fail(self, text_html: str, retry: InlineKeyboardMarkup | None) -> None:
        """The answer could not be finished: one clean message says so (replacing a half
        streamed answer, never leaving it as if it were one), with a retry button."""
        await self.close()
        if self._stream is not None:
            await self._stream.finish(text_html, reply_markup=retry)
        else:
            await self._chat.send_message(
                text_html,
                parse_mode=ParseMode.HTML,
                reply_markup=retry,
                reply_parameters=self._reply,
            )

    async def close(self) -> None:
        """Stop the typing indicator and the draft (idempotent)."""
        if self._closed:
            return
        self._closed = True
        if self._typing is not None:
            self._typing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._typing
        if self._first_typing is not None:
            await self._first_typing
        if self._draft is not None:
            await self._draft.close()


class Questions:
    """The question feature: typed questions, suggested questions, and the answer buttons."""

    def __init__(
        self,
        answerer: Answerer,
        formulas: FormulaRenderer,
        pages: PageViewer,
        config: TelegramConfig,
        next_steps: NextSteps | None = None,
    ) -> None:
        self._answerer = answerer
        self._next_steps = next_steps
        self._formulas = formulas
        self._pages = pages
        self._config = config
        self._drafts_offered = config.use_drafts  # False once the Bot API refuses a draft
        self._turns: dict[int, asyncio.Lock] = {}  # one question at a time per chat, in order
        self._waiting: dict[int, int] = {}

    @contextlib.asynccontextmanager
    async def _turn(self, chat_id: int) -> AsyncIterator[bool]:
        """Wait for this chat's earlier questions (asyncio locks are first come, first
        served); yields whether it had to wait."""
        lock = self._turns.setdefault(chat_id, asyncio.Lock())
        self._waiting[chat_id] = self._waiting.get(chat_id, 0) + 1
        queued = lock.locked()
        try:
            async with lock:
                yield queued
        finally:
            self._waiting[chat_id] -= 1
            if not self._waiting[chat_id]:
                del self._waiting[chat_id], self._turns[chat_id]

    def handlers(self) -> list[BaseHandler[Update, Any, Any]]:
        """Register last: the question handler takes any other text."""
        only_new = filters.UpdateType.MESSAGE
        return [
            CallbackQueryHandler(self.handle_suggested, pattern=f"^{ASK_CALLBACK}[0-9a-f]+$"),
            CallbackQueryHandler(
                self.handle_answer_button,
                pattern=f"^{ANSWER_CALLBACK}(simpler|example|sources|retry):",
            ),
            MessageHandler(only_new & filters.TEXT & ~filters.COMMAND, self.handle_question),
        ]

    async def answer(
        self,
        context: ContextTypes.DEFAULT_TYPE,
        chat: Chat,
        question: str,
        lang: str,
        chosen: str | None,
        *,
        mode: str | None = None,
        reply_to: Message | None = None,
    ) -> None:
        """Answer ``question`` in ``chat``: draft while it is written, then the final HTML.

        ``lang`` is the chat's language for the bot's own words; ``chosen`` the language the
        student picked with /lang (None: the question's language decides the answer's).
        """
        assert context.chat_data is not None
        async with self._turn(chat.id) as queued:
            # In a group, or behind earlier questions, the answer quotes its question, so
            # the student can tell which answer is which.
            reply = None
            if reply_to is not None and (queued or chat.type != ChatType.PRIVATE):
                reply = ReplyParameters(reply_to.message_id, allow_sending_without_reply=True)
            await self._answer(context, chat, question, lang, chosen, mode, reply)

    async def _answer(
        self,
        context: ContextTypes.DEFAULT_TYPE,
        chat: Chat,
        question: str,
        lang: str,
        chosen: str | None,
        mode: str | None,
        reply: ReplyParameters | None,
    ) -> None:
        assert context.chat_data is not None
        drafts = self._drafts_offered and chat.type == ChatType.PRIVATE
        view = AnswerView(context.bot, chat, self._config, drafts=drafts, reply=reply)
        view.start()
        try:
            async for event in self._answerer.answer(chat.id, question, lang=chosen, mode=mode):
                if isinstance(event, Draft):
                    await view.draft(event.text)
                elif isinstance(event, Rewind):
                    view.rewind()
                elif isinstance(event, Final):
                    shown_lang = event.answer.lang if event.answer.lang in ("zh", "en") else lang
                    extra = await answer_buttons(
                        self._pages, context.chat_data, chat.id, event.answer, shown_lang
                    )
                    extra += await self._follow_ups(context.chat_data, chat.id, event.answer)
                    await view.final(event.answer, lang, context.chat_data, extra)
                    await send_formula_images(
                        chat, event.answer.answer, self._formulas, reply=reply
                    )
        except Exception as exc:
            retry = {"question": question, "lang": lang, "mode": mode}
            text, retryable = failure_text(exc, lang)
            buttons = None
            if retryable:
                key = remember(context.chat_data, retry)
                buttons = retry_markup(lang, f"{ANSWER_CALLBACK}retry:{key}")
            await view.fail(t(lang, "answer_failed", reason_html=text), buttons)
            raise Told(exc) from exc
        finally:
            await view.close()
            if view.drafts_refused:  # this Bot API server has no drafts: stop asking it
                self._drafts_offered = False

    async def _follow_ups(
        self, chat_data: MutableMapping[Any, Any], chat_id: int, answer: Answer
    ) -> list[list[InlineKeyboardButton]]:
        """Next-step questions under the answer, one button each (pressing one asks it): a
        nicety that never fails the answer."""
        if self._next_steps is None:
            return []
        try:
            questions = await self._next_steps.suggest(chat_id, answer)
        except Exception:
            log.warning("no next-step questions for chat %s", chat_id, exc_info=True)
            return []
        rows = question_buttons(chat_data, questions).inline_keyboard if questions else ()
        return [list(row) for row in rows]

    async def handle_question(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Any text that no other feature took is a question."""
        message = update.effective_message
        assert message is not None
        assert message.text is not None
        question = message.text
        username = context.bot.username
        if username:  # in groups the student addresses the bot by name
            question = re.sub(rf"@{re.escape(username)}\b", "", question, flags=re.I).strip()
        if not question:
            return
        lang = lang_for(update, context.user_data)
        chosen = (context.user_data or {}).get(LANG_KEY)
        await self.answer(context, message.chat, question, lang, chosen, reply_to=message)

    async def handle_suggested(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A suggested-question button (under a paper card): echo the question, answer it."""
        query = update.callback_query
        assert query is not None
        assert query.data is not None
        lang = lang_for(update, context.user_data)
        question = recall(context.chat_data, query.data.removeprefix(ASK_CALLBACK))
        message = query.message
        if not isinstance(question, str) or not isinstance(message, Message):
            await query.answer(t(lang, "expired"), show_alert=True)
            return
        await query.answer()
        await message.chat.send_message(t(lang, "asked", question=question))
        chosen = (context.user_data or {}).get(LANG_KEY)
        await self.answer(context, message.chat, question, lang, chosen)

    async def handle_answer_button(
        self, update: Update, context: ContextTypes.DEFAULT_TYPE
    ) -> None:
        """Under an answer: explain more simply, give an example, or show the sources."""
        query = update.callback_query
        assert query is not None
        assert query.data is not None
        _, action, key = query.data.split(":", 2)
        payload = recall(context.chat_data, key)
        lang = lang_for(update, context.user_data)
        message = query.message
        if not isinstance(payload, dict) or not isinstance(message, Message):
            await query.answer(t(lang, "expired"), show_alert=True)
            return
        await query.answer()
        lang = payload["lang"]
        if action == "retry":
            chosen = (context.user_data or {}).get(LANG_KEY)
            await query.edit_message_reply_markup(None)
            await self.answer(
                context, message.chat, payload["question"], lang, chosen, mode=payload["mode"]
            )
            return
        if action == "sources":
            text = payload["sources"] or t(lang, "no_citations")
            for part in split_html(text):
                await message.chat.send_message(part, parse_mode=ParseMode.HTML)
            return
        chosen = (context.user_data or {}).get(LANG_KEY) or lang
        await self.answer(context, message.chat, payload["question"], lang, chosen, mode=action)


def questions(services: Services, config: TelegramConfig) -> Questions:
    """The one ``Questions`` of an application (typed, pressed and spoken questions)."""
    return Questions(
        services.answerer, services.formulas, services.pages, config, services.next_steps
    )
