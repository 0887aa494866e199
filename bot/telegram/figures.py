"""/figures, "给我看 Figure 1", and the printed page behind a citation, as pictures.

``/figures`` lists the paper's figures and tables with one button each; a message that asks to
*see* a figure ("给我看 Figure 1", "Table 2", "架构图") gets the picture directly (a question
about a figure is answered as usual). Under an answer, ``answer_buttons`` adds "🖼 原文 p.4"
(the cited passage as printed: formulas, tables, scanned pages) and the figures its sources
point at. Pictures go out as photos, or as PNG files when Telegram refuses their shape.
"""

from __future__ import annotations

import logging
import re
from collections.abc import MutableMapping, Sequence
from typing import TYPE_CHECKING, Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.pages import figure_query
from bot.telegram.cards import recall, remember
from bot.telegram.i18n import lang_for, t
from bot.telegram.render import esc
from kernel.models import Citation, Figure, SourceKind

if TYPE_CHECKING:
    from telegram import Chat

    from bot.answering import Answer
    from bot.library import Library
    from bot.pages import PageViewer

__all__ = [
    "FIGURE_CALLBACK",
    "PASSAGE_CALLBACK",
    "Figures",
    "answer_buttons",
]

log = logging.getLogger(__name__)

FIGURE_CALLBACK = "fg:"
PASSAGE_CALLBACK = "pv:"
CAPTION_MAX = 1024  # Telegram's limit for a photo caption
_MAX_PASSAGES = 3  # "原文" buttons under one answer
_MAX_LISTED = 40  # figure buttons under /figures
_CAPTION_TEXT = 700  # of a figure's caption under its photo (with label and title: < 1024)


class _AsksForFigure(filters.MessageFilter):
    """Messages that ask to see a figure (``bot.pages.figure_query``)."""

    def filter(self, message: Message) -> bool:
        text = re.sub(r"@\w+", "", message.text or "")
        return figure_query(text) is not None


async def send_picture(chat: Chat, png: bytes, caption: str, filename: str) -> None:
    """A photo with an HTML caption; a PNG file if Telegram refuses the photo's shape."""
    if len(caption) > CAPTION_MAX:
        caption = caption[: CAPTION_MAX - 1]
        caption = re.sub(r"<[^>]*$|&[#\w]*$", "", caption) + "…"  # never cut a tag or entity
    try:
        await chat.send_photo(png, caption=caption, parse_mode=ParseMode.HTML)
    except BadRequest as exc:  # e.g. PHOTO_INVALID_DIMENSIONS for a very long, thin table
        log.info("photo refused (%s); sending %s as a file", exc, filename)
        await chat.send_document(png, filename=filename, caption=caption, parse_mode=ParseMode.HTML)


def _figure_caption(figure: Figure, title: str, lang: str) -> str:
    return t(
        lang,
        "figure_caption",
        label=figure.label,
        page=figure.page,
        title=title[:120],
        caption=figure.caption[:_CAPTION_TEXT],
    )


async def _send_figure(
    pages: PageViewer, chat: Chat, figure: Figure, lang: str, title: str
) -> None:
    png = await pages.image(figure)
    name = re.sub(r"[^\w.-]+", "_", figure.label) + ".png"
    await send_picture(chat, png, _figure_caption(figure, title, lang), name)


def _passage_rows(
    chat_data: MutableMapping[Any, Any], citations: Sequence[Citation], lang: str
) -> list[InlineKeyboardButton]:
    """One "🖼 原文 p.N" button per cited page of a paper (citations on one page share it)."""
    by_page: dict[tuple[str, int], dict[str, Any]] = {}
    for c in citations:
        if c.kind is not SourceKind.PAPER or not c.boxes or c.page is None:
            continue
        entry = by_page.setdefault(
            (c.source_id, c.page),
            {"source_id": c.source_id, "page": c.page, "title": c.title, "boxes": []},
        )
        entry["boxes"] += [list(b) for b in c.boxes if list(b) not in entry["boxes"]]
    buttons = []
    for (_, page), payload in list(by_page.items())[:_MAX_PASSAGES]:
        key = remember(chat_data, {"passage": payload})
        buttons.append(
            InlineKeyboardButton(
                t(lang, "btn_passage", page=page), callback_data=PASSAGE_CALLBACK + key
            )
        )
    return buttons


async def answer_buttons(
    pages: PageViewer,
    chat_data: MutableMapping[Any, Any],
    chat_id: int,
    result: Answer,
    lang: str,
) -> list[list[InlineKeyboardButton]]:
    """Rows to add under an answer: the cited passages as printed, and relevant figures.

    Never fails the answer: anything going wrong here only costs the extra buttons."""
    try:
        rows = []
        passages = _passage_rows(chat_data, result.citations, lang)
        if passages:
            rows.append(passages)
        figures = await pages.for_answer(chat_id, result.citations, result.answer)
        if figures:
            rows.append(
                [
                    InlineKeyboardButton(
                        t(lang, "btn_figure", label=f.label),
                        callback_data=FIGURE_CALLBACK + f.figure_id,
                    )
                    for f in figures
                ]
            )
        return rows
    except Exception:
        log.exception("could not add the figure buttons to an answer")
        return []


class Figures:
    """The figures feature: /figures, its buttons, the passage buttons of answers and "show
    me Figure N" messages."""

    def __init__(self, pages: PageViewer, library: Library) -> None:
        self._pages = pages
        self._library = library

    def handlers(self) -> list[BaseHandler[Update, Any, Any]]:
        only_new = filters.UpdateType.MESSAGE
        return [
            CommandHandler("figures", self.handle_figures),
            CallbackQueryHandler(self.handle_figure_button, pattern=f"^{FIGURE_CALLBACK}"),
            CallbackQueryHandler(self.handle_passage_button, pattern=f"^{PASSAGE_CALLBACK}"),
            MessageHandler(
                only_new & filters.TEXT & ~filters.COMMAND & _AsksForFigure(),
                self.handle_figure_request,
            ),
        ]

    async def _titles(self, chat_id: int) -> dict[str, str]:
        return {s.source_id: s.title for s in await self._library.sources(chat_id)}

    async def handle_figures(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        assert message is not None
        lang = lang_for(update, context.user_data)
        figures = await self._pages.figures(message.chat.id)
        if not figures:
            await message.reply_text(t(lang, "figures_none"))
            return
        lines = [t(lang, "figures_list", n=len(figures))]
        for f in figures:
            caption = f.caption if len(f.caption) <= 80 else f.caption[:79] + "…"
            lines.append(f"• <b>{esc(f.label)}</b> · p.{f.page} — {esc(caption)}")
        shown = figures[:_MAX_LISTED]
        buttons = [
            InlineKeyboardButton(
                f"{f.label} · p.{f.page}", callback_data=FIGURE_CALLBACK + f.figure_id
            )
            for f in shown
        ]
        markup = InlineKeyboardMarkup([buttons[i : i + 3] for i in range(0, len(buttons), 3)])
        text = "\n".join(lines)
        if len(text) > 3900:
            text = text[:3899].rsplit("\n", 1)[0] + "\n…"
        await message.reply_text(text, parse_mode=ParseMode.HTML, reply_markup=markup)

    async def handle_figure_button(
        self, update: Update, context: ContextTypes.DEFAULT_TYPE
    ) -> None:
        query = update.callback_query
        assert query is not None
        assert query.data is not None
        lang = lang_for(update, context.user_data)
        message = query.message
        if not isinstance(message, Message):
            await query.answer(t(lang, "expired"), show_alert=True)
            return
        await query.answer()
        figure = await self._pages.figure(message.chat.id, query.data.removeprefix(FIGURE_CALLBACK))
        title = (await self._titles(message.chat.id)).get(figure.source_id, "")
        await _send_figure(self._pages, message.chat, figure, lang, title)

    async def handle_passage_button(
        self, update: Update, context: ContextTypes.DEFAULT_TYPE
    ) -> None:
        query = update.callback_query
        assert query is not None
        assert query.data is not None
        lang = lang_for(update, context.user_data)
        payload = recall(context.chat_data, query.data.removeprefix(PASSAGE_CALLBACK))
        message = query.message
        if (
            not isinstance(payload, dict)
            or "passage" not in payload
            or not isinstance(message, Message)
        ):
            await query.answer(t(lang, "expired"), show_alert=True)
            return
        await query.answer()
        p = payload["passage"]
        boxes = [tuple(b) for b in p["boxes"]]
        png = await self._pages.passage(message.chat.id, p["source_id"], boxes)
        caption = t(lang, "passage_caption", page=p["page"], title=p["title"])
        await send_picture(message.chat, png, caption, f"page-{p['page']}.png")

    async def handle_figure_request(
        self, update: Update, context: ContextTypes.DEFAULT_TYPE
    ) -> None:
        message = update.effective_message
        assert message is not None
        assert message.text is not None
        lang = lang_for(update, context.user_data)
        query = figure_query(re.sub(r"@\w+", "", message.text))
        assert query is not None  # the filter let it through
        found = await self._pages.find(message.chat.id, query)
        if not found:
            what = message.text.strip()[:40]
            await message.reply_text(t(lang, "figure_missing", what=what))
            return
        names = await self._titles(message.chat.id)
        for figure in found[:2]:
            await _send_figure(
                self._pages, message.chat, figure, lang, names.get(figure.source_id, "")
            )
