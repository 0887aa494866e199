"""/terms: the bilingual glossary of the chat (中文 / English / one line / where it was met),
with buttons that send it as a CSV or Markdown file."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, ContextTypes, filters

from bot.study import glossary_file
from bot.study.text import place
from bot.telegram.config import TelegramConfig
from bot.telegram.errors import shown_on
from bot.telegram.i18n import lang_for, t
from bot.telegram.render import esc
from bot.telegram.status import StatusMessage
from kernel.models import ChatGlossary, GlossaryEntry

if TYPE_CHECKING:
    from bot.study import GlossaryBuilder

__all__ = ["TERMS_CALLBACK", "Terms", "render_glossary"]

TERMS_CALLBACK = "terms:"


def _entry(n: int, entry: GlossaryEntry, lang: str) -> str:
    names = [x for x in ((entry.zh, entry.en) if lang == "zh" else (entry.en, entry.zh)) if x]
    head = f"{n}. <b>{esc(names[0] if names else '')}</b>"
    if len(names) > 1:
        head += f"（{esc(names[1])}）" if lang == "zh" else f" ({esc(names[1])})"
    if entry.explanation:
        head += f" — {esc(entry.explanation)}"
    places = []
    for c in entry.citations:
        label = esc(place(c.kind, c.page, c.start_s, lang))
        places.append(f'<a href="{esc(c.url)}">{label}</a>' if c.url else label)
    if places:
        head += f" 〔{'；'.join(places) if lang == 'zh' else '; '.join(places)}〕"
    return head


def render_glossary(glossary: ChatGlossary, lang: str) -> str:
    """The glossary as Telegram HTML, one term per line."""
    lines = [t(lang, "terms_list", n=len(glossary.entries))]
    lines += [_entry(n, e, lang) for n, e in enumerate(glossary.entries, start=1)]
    return "\n".join(lines)


def _export_buttons(lang: str) -> InlineKeyboardMarkup:
    row = [
        InlineKeyboardButton(t(lang, f"btn_terms_{fmt}"), callback_data=TERMS_CALLBACK + fmt)
        for fmt in ("csv", "md")
    ]
    return InlineKeyboardMarkup([row])


class Terms:
    """/terms and its export buttons."""

    def __init__(self, builder: GlossaryBuilder, config: TelegramConfig) -> None:
        self._builder = builder
        self._config = config

    def handlers(self) -> list[BaseHandler[Update, Any, Any]]:
        return [
            CommandHandler("terms", self.handle_terms, filters=filters.UpdateType.MESSAGE),
            CallbackQueryHandler(self.handle_export, pattern=f"^{TERMS_CALLBACK}(csv|md)$"),
        ]

    async def handle_terms(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/terms: the glossary (built from the answers so far, or kept) with export buttons."""
        message = update.effective_message
        assert message is not None
        lang = lang_for(update, context.user_data)
        status = await StatusMessage.send(
            message.chat, t(lang, "terms_making"), self._config.edit_interval_s
        )
        found = await shown_on(status, lang, self._builder.glossary(message.chat.id, lang=lang))
        if found is None:
            return
        if not found.entries:
            await status.finish(t(lang, "terms_empty"))
            return
        await status.finish(render_glossary(found, lang), reply_markup=_export_buttons(lang))

    async def handle_export(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """📄 CSV / Markdown: the glossary as a file."""
        query = update.callback_query
        assert query is not None
        assert query.data is not None
        lang = lang_for(update, context.user_data)
        await query.answer()
        message = query.message
        if not isinstance(message, Message):
            return
        fmt = query.data.removeprefix(TERMS_CALLBACK)
        found = await self._builder.glossary(message.chat.id, lang=lang)  # kept: no model call
        if not found.entries:
            await message.chat.send_message(t(lang, "terms_empty"))
            return
        data, filename = glossary_file(found, fmt)
        caption = t(lang, "terms_caption", n=len(found.entries))
        await message.chat.send_document(data, filename=filename, caption=caption)
