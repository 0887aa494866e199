"""/sources, /forget and /reset: what the chat has, and removing it (/notes: ``notebook``).

Removal goes through buttons: a source button removes that one and the list is drawn again;
/reset asks for a confirmation first because it removes everything of the chat (sources, notes,
history). When the chat holds several papers, /sources also offers a button per paper to choose
the one the report is about.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from telegram import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ParseMode
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, ContextTypes, filters

from bot.telegram.i18n import lang_for, t
from bot.telegram.render import esc, split_html
from bot.telegram.report import REPORT_PAPER_KEY
from kernel.locators import format_timestamp
from kernel.models import SourceKind, SourceRecord, SourceStatus

if TYPE_CHECKING:
    from bot.library import Library

__all__ = ["Sources", "format_sources"]

FORGET_CALLBACK = "src:"
PAPER_CALLBACK = "rpp:"
RESET_CALLBACK = "rst:"
_ID_CHARS = 56  # callback_data is at most 64 bytes


def _source_line(n: int, s: SourceRecord, lang: str, report_paper: str | None = None) -> str:
    if s.kind == SourceKind.PAPER:
        extra = f" · {s.paper.pages} p." if s.paper and s.paper.pages else ""
        line = f"{n}. 📄 {t(lang, 'kind_paper')} <b>{esc(s.title)}</b>{extra}"
    else:
        duration = s.video.duration_s if s.video else None
        extra = f" · {format_timestamp(duration)}" if duration else ""
        if s.video is not None and s.video.transcribed:
            extra += t(lang, "kind_transcribed")
        line = f"{n}. 🎬 {t(lang, 'kind_video')} <b>{esc(s.title)}</b>{extra}"
    if s.status == SourceStatus.INDEXING:
        line += t(lang, "status_indexing")
    elif s.status == SourceStatus.FAILED:
        line += t(lang, "status_failed")
    if s.source_id == report_paper:
        line += t(lang, "report_paper_mark")
    return line


def _remove_buttons(lang: str, label: str, prefix: str, ids: list[str]) -> InlineKeyboardMarkup:
    """One numbered remove button per item, three to a row."""
    buttons = [
        InlineKeyboardButton(t(lang, label, n=n), callback_data=prefix + item[:_ID_CHARS])
        for n, item in enumerate(ids, start=1)
    ]
    return InlineKeyboardMarkup([buttons[i : i + 3] for i in range(0, len(buttons), 3)])


def format_sources(
    sources: list[SourceRecord], lang: str, *, report_paper: str | None = None, choose: bool = False
) -> tuple[str, InlineKeyboardMarkup]:
    """The numbered source list and one remove button per source; with ``choose`` and several
    ready papers, also one button per paper to pick the one the report is about."""
    lines = [t(lang, "sources_list")]
    lines += [_source_line(n, s, lang, report_paper) for n, s in enumerate(sources, start=1)]
    ids = [s.source_id for s in sources]
    markup = _remove_buttons(lang, "btn_forget", FORGET_CALLBACK, ids)
    papers = [
        (n, s)
        for n, s in enumerate(sources, start=1)
        if s.kind is SourceKind.PAPER and s.status is SourceStatus.READY
    ]
    if choose and len(papers) > 1:
        pick = [
            InlineKeyboardButton(
                t(lang, "btn_report_paper", n=n), callback_data=PAPER_CALLBACK + s.source_id
            )
            for n, s in papers
        ]
        rows = [*markup.inline_keyboard, *(pick[i : i + 2] for i in range(0, len(pick), 2))]
        markup = InlineKeyboardMarkup(rows)
    return "\n".join(lines), markup


def _without_button(markup: InlineKeyboardMarkup | None, data: str) -> InlineKeyboardMarkup | None:
    if markup is None:
        return None
    rows = [[b for b in row if b.callback_data != data] for row in markup.inline_keyboard]
    rows = [row for row in rows if row]
    return InlineKeyboardMarkup(rows) if rows else None


async def _send_long(message: Message, html: str, markup: InlineKeyboardMarkup) -> None:
    parts = split_html(html)
    for i, part in enumerate(parts, start=1):
        await message.chat.send_message(
            part, parse_mode=ParseMode.HTML, reply_markup=markup if i == len(parts) else None
        )


class Sources:
    """Listing and removing sources, choosing the report's paper, and the chat reset."""

    def __init__(self, library: Library) -> None:
        self._library = library

    async def handle_sources(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        assert message is not None
        lang = lang_for(update, context.user_data)
        sources = await self._library.sources(message.chat_id)
        if not sources:
            await message.reply_text(t(lang, "no_sources"))
            return
        chosen = (context.chat_data or {}).get(REPORT_PAPER_KEY)
        text, markup = format_sources(sources, lang, report_paper=chosen, choose=True)
        await _send_long(message, text, markup)

    async def _pressed(
        self, update: Update, context: ContextTypes.DEFAULT_TYPE, callback: str
    ) -> tuple[CallbackQuery, Message, str, SourceRecord] | None:
        """The source a button under a source list names; None (and answered) when it is gone."""
        query = update.callback_query
        assert query is not None
        assert query.data is not None
        lang = lang_for(update, context.user_data)
        message = query.message
        if not isinstance(message, Message):
            await query.answer()
            return None
        prefix = query.data.removeprefix(callback)
        sources = await self._library.sources(message.chat_id)
        chosen = next((s for s in sources if s.source_id.startswith(prefix)), None)
        if chosen is None:
            await query.answer(t(lang, "forget_unknown"), show_alert=True)
            return None
        return query, message, lang, chosen

    async def handle_paper_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A paper chosen for the report in /sources."""
        found = await self._pressed(update, context, PAPER_CALLBACK)
        if found is None or context.chat_data is None:
            return
        query, message, lang, paper = found
        context.chat_data[REPORT_PAPER_KEY] = paper.source_id
        await query.answer()
        await message.chat.send_message(t(lang, "report_paper_set", title=paper.title))

    async def handle_forget(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        assert message is not None
        lang = lang_for(update, context.user_data)
        sources = await self._library.sources(message.chat_id)
        if not sources:
            await message.reply_text(t(lang, "no_sources"))
            return
        arg = (context.args or [""])[0]
        chosen = None
        if arg.isdigit() and 1 <= int(arg) <= len(sources):
            chosen = sources[int(arg) - 1]
        elif arg:
            chosen = next((s for s in sources if s.source_id.startswith(arg)), None)
            if chosen is None:
                await message.reply_text(t(lang, "forget_unknown"))
                return
        if chosen is None:
            text, markup = format_sources(sources, lang)
            await _send_long(message, t(lang, "forget_pick") + "\n\n" + text, markup)
            return
        await self._library.forget(message.chat_id, chosen.source_id)
        await message.reply_text(t(lang, "forgot", title=chosen.title))

    async def handle_forget_button(
        self, update: Update, context: ContextTypes.DEFAULT_TYPE
    ) -> None:
        found = await self._pressed(update, context, FORGET_CALLBACK)
        if found is None:
            return
        query, message, lang, chosen = found
        assert query.data is not None
        await self._library.forget(message.chat_id, chosen.source_id)
        await query.answer()
        # The list drawn again without it (renumbered); a list too long for one message keeps
        # its text and loses the button.
        left = await self._library.sources(message.chat_id)
        paper = (context.chat_data or {}).get(REPORT_PAPER_KEY)
        text, markup = (
            format_sources(left, lang, report_paper=paper, choose=True)
            if left
            else (t(lang, "no_sources"), None)
        )
        if len(split_html(text)) == 1:
            await query.edit_message_text(text, parse_mode=ParseMode.HTML, reply_markup=markup)
        else:
            markup = _without_button(message.reply_markup, query.data)
            await query.edit_message_reply_markup(markup)
        await message.chat.send_message(t(lang, "forgot", title=chosen.title))

    async def handle_reset(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        assert message is not None
        lang = lang_for(update, context.user_data)
        markup = InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(
                        t(lang, "btn_reset_yes"), callback_data=RESET_CALLBACK + "yes"
                    ),
                    InlineKeyboardButton(
                        t(lang, "btn_cancel"), callback_data=RESET_CALLBACK + "no"
                    ),
                ]
            ]
        )
        await message.reply_text(t(lang, "reset_confirm"), reply_markup=markup)

    async def handle_reset_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        assert query.data is not None
        lang = lang_for(update, context.user_data)
        message = query.message
        await query.answer()
        if not isinstance(message, Message) or query.data != RESET_CALLBACK + "yes":
            await query.edit_message_text(t(lang, "cancelled"))
            return
        await self._library.reset(message.chat_id)
        if context.chat_data is not None:
            context.chat_data.clear()
        await query.edit_message_text(t(lang, "reset_done"))

    def handlers(self) -> list[BaseHandler[Update, Any, Any]]:
        only_new = filters.UpdateType.MESSAGE
        return [
            CommandHandler("sources", self.handle_sources, filters=only_new),
            CommandHandler("forget", self.handle_forget, filters=only_new),
            CommandHandler("reset", self.handle_reset, filters=only_new),
            CallbackQueryHandler(self.handle_forget_button, pattern=f"^{FORGET_CALLBACK}"),
            CallbackQueryHandler(self.handle_paper_button, pattern=f"^{PAPER_CALLBACK}"),
            CallbackQueryHandler(self.handle_reset_button, pattern=f"^{RESET_CALLBACK}(yes|no)$"),
        ]
