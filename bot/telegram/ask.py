"""Questions: a typing indicator, the answer streamed into one message, then the final HTML.

The streamed draft is plain text (half-written HTML must never reach Telegram); the final
message is the checked answer with its [n] markers and the numbered source list, split at
4096 characters, with buttons to explain more simply, give an example, or show the sources.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from telegram import (
    Chat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    ReplyParameters,
    Update,
)
from telegram.constants import ChatAction, ChatType, ParseMode
from telegram.error import TelegramError
from telegram.ext import BaseHandler, CallbackQueryHandler, ContextTypes, MessageHandler, filters

from bot.telegram.cards import ASK_CALLBACK, recall, remember
from bot.telegram.config import TelegramConfig
from bot.telegram.draft import DraftStream
from bot.telegram.i18n import LANG_KEY, lang_for, t
from bot.telegram.render import esc, preview_text, render_answer, render_citations, split_html
from bot.telegram.status import StatusMessage

if TYPE_CHECKING:
    from bot.answering import Answer, Answerer
    from bot.services import Services

__all__ = ["ANSWER_CALLBACK", "DraftSupport", "answer_question", "build_handlers"]

ANSWER_CALLBACK = "a:"
TYPING_EVERY_S = 4.5  # Telegram shows "typing…" for about 5 seconds per call


async def _typing(chat: Chat) -> None:
    with contextlib.suppress(TelegramError):  # a nicety: never fail an answer over it
        await chat.send_action(ChatAction.TYPING)


async def _keep_typing(chat: Chat) -> None:
    while True:
        await asyncio.sleep(TYPING_EVERY_S)
        await _typing(chat)


async def _send_final(
    context: ContextTypes.DEFAULT_TYPE,
    chat: Chat,
    result: Answer,
    lang: str,
    stream: StatusMessage | None,
    reply: ReplyParameters | None,
) -> None:
    """The checked answer in HTML with its sources and buttons: into the streamed message if
    there is one, else as new messages split at Telegram's limit."""
    assert context.chat_data is not None
    lang = result.lang if result.lang in ("zh", "en") else lang
    html = render_answer(result, lang)
    key = remember(
        context.chat_data,
        {
            "question": result.question,
            "lang": lang,
            "sources": render_citations(result.citations, lang, expandable=False)
            if result.citations
            else "",
        },
    )
    buttons = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    t(lang, "btn_simpler"), callback_data=f"{ANSWER_CALLBACK}simpler:{key}"
                ),
                InlineKeyboardButton(
                    t(lang, "btn_example"), callback_data=f"{ANSWER_CALLBACK}example:{key}"
                ),
            ],
            [
                InlineKeyboardButton(
                    t(lang, "btn_sources"), callback_data=f"{ANSWER_CALLBACK}sources:{key}"
                )
            ],
        ]
    )
    if stream is not None:
        await stream.finish(html, reply_markup=buttons)
        return
    parts = split_html(html)
    for i, part in enumerate(parts, start=1):
        await chat.send_message(
            part,
            parse_mode=ParseMode.HTML,
            reply_markup=buttons if i == len(parts) else None,
            reply_parameters=reply if i == 1 else None,
        )


@dataclass
class DraftSupport:
    """Whether to stream answers as message drafts; turns False once the Bot API refuses one."""

    offered: bool


async def answer_question(
    answerer: Answerer,
    config: TelegramConfig,
    drafts: DraftSupport,
    context: ContextTypes.DEFAULT_TYPE,
    chat: Chat,
    question: str,
    lang: str,
    chosen: str | None,
    *,
    mode: str | None = None,
    reply_to: Message | None = None,
) -> None:
    """Stream the answer to ``question`` into ``chat`` and finish with the HTML version.

    The one answering path of every front-door message: typed questions, question buttons,
    "simpler"/"example" buttons and recognised voice questions (``bot.telegram.voice``).
    """
    assert context.chat_data is not None
    reply = None
    if reply_to is not None and chat.type != ChatType.PRIVATE:
        reply = ReplyParameters(reply_to.message_id, allow_sending_without_reply=True)
    # The typing indicator goes out alongside the work rather than before it (a Bot API
    # round trip); whatever the bot sends next waits for it, so it never lands after.
    loop = asyncio.get_running_loop()
    first_typing = loop.create_task(_typing(chat))
    typing = loop.create_task(_keep_typing(chat))
    pieces: list[str] = []
    stream: StatusMessage | None = None
    draft: DraftStream | None = None
    if drafts.offered and chat.type == ChatType.PRIVATE:
        draft = DraftStream(context.bot, chat.id, config.edit_interval_s)

    async def on_delta(piece: str) -> None:
        nonlocal stream
        pieces.append(piece)
        preview = preview_text("".join(pieces))
        if not preview:
            return
        await first_typing  # done long ago, unless the answer came instantly
        if draft is not None and not draft.failed:
            await draft.push(preview)
            if not draft.failed:
                return
        if stream is None:
            sent = await chat.send_message(preview, parse_mode=None, reply_parameters=reply)
            stream = StatusMessage(sent, config.edit_interval_s)
            typing.cancel()
        else:
            stream.push(preview)

    async def wind_down() -> None:
        """Stop the typing indicator and the draft (idempotent)."""
        typing.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await typing
        await first_typing
        if draft is not None:
            await draft.close()
            if draft.failed:  # this Bot API server has no drafts: stop asking it
                drafts.offered = False

    delivering = False

    async def deliver(result: Answer) -> None:
        """The final HTML answer, sent before the answerer writes its note."""
        nonlocal delivering
        delivering = True
        await wind_down()
        await _send_final(context, chat, result, lang, stream, reply)

    try:
        await answerer.ask(
            chat.id, question, lang=chosen, on_delta=on_delta, mode=mode, on_answer=deliver
        )
    except Exception:
        if not delivering:
            await wind_down()
            partial = preview_text("".join(pieces))
            if stream is not None:
                await stream.finish(esc(partial) + "\n\n" + t(lang, "failed"))
            elif partial:  # a draft vanishes: keep what the student was reading
                await chat.send_message(
                    esc(partial) + "\n\n" + t(lang, "failed"),
                    parse_mode=ParseMode.HTML,
                    reply_parameters=reply,
                )
        raise
    finally:
        await wind_down()


def build_handlers(
    services: Services, config: TelegramConfig
) -> list[BaseHandler[Update, Any, Any]]:
    """The question handler (register last: it takes any other text) and its buttons."""
    answer = functools.partial(
        answer_question, services.answerer, config, DraftSupport(config.use_drafts)
    )

    async def handle_question(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
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
        await answer(context, message.chat, question, lang, chosen, reply_to=message)

    async def handle_suggested(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
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
        await answer(context, message.chat, question, lang, chosen)

    async def handle_answer_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
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
        if action == "sources":
            text = payload["sources"] or t(lang, "no_citations")
            for part in split_html(text):
                await message.chat.send_message(part, parse_mode=ParseMode.HTML)
            return
        chosen = (context.user_data or {}).get(LANG_KEY) or lang
        await answer(context, message.chat, payload["question"], lang, chosen, mode=action)

    only_new = filters.UpdateType.MESSAGE
    return [
        CallbackQueryHandler(handle_suggested, pattern=f"^{ASK_CALLBACK}[0-9a-f]+$"),
        CallbackQueryHandler(
            handle_answer_button, pattern=f"^{ANSWER_CALLBACK}(simpler|example|sources):"
        ),
        MessageHandler(only_new & filters.TEXT & ~filters.COMMAND, handle_question),
    ]
