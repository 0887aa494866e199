"""/notes: the notebook the student curates — read a note in full, ⭐ star it (the report uses
starred notes first), remove it.

The list is one message, ten notes a page, with a row of buttons per note (📖 open, ⭐ star,
🗑 remove) and page buttons. Whatever changes a note — a button on the list or on a note opened
in full — the list message is drawn again from the store, so a removed note leaves the list and
the numbers stay in order. The chat remembers which message is its list (``chat_data``).
"""

from __future__ import annotations

import contextlib
from collections.abc import MutableMapping
from typing import TYPE_CHECKING, Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, ContextTypes, filters

from bot.markup.markdown import to_plain
from bot.telegram.i18n import lang_for, t
from bot.telegram.render import esc, render_answer_body, render_citations, split_html
from kernel.models import Note

if TYPE_CHECKING:
    from bot.answering import Answerer

__all__ = ["NOTEBOOK_CALLBACK", "format_notes"]

NOTEBOOK_CALLBACK = "nb:"
PAGE = 10  # notes per page of the list: it stays one message, its buttons under 100
_EXCERPT = 100
_LIST_KEY = "notebook_list"  # chat_data: (message id, page) of the chat's list message


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _EXCERPT else text[: _EXCERPT - 1] + "…"


def _excerpt(note: Note) -> str:
    return _clip(to_plain(note.answer))


def _note_buttons(note: Note, lang: str, n: int | None = None) -> list[InlineKeyboardButton]:
    """Open (on the list only), star or unstar, remove: ``n`` numbers them on the list."""
    num = f" {n}" if n is not None else ""
    star = "btn_note_unstar" if note.starred else "btn_note_star"
    row = [
        InlineKeyboardButton(
            t(lang, star) + num, callback_data=f"{NOTEBOOK_CALLBACK}s:{note.note_id}"
        ),
        InlineKeyboardButton(
            t(lang, "btn_note_remove") + num, callback_data=f"{NOTEBOOK_CALLBACK}d:{note.note_id}"
        ),
    ]
    if n is not None:
        opener = InlineKeyboardButton(
            t(lang, "btn_note_open") + num, callback_data=f"{NOTEBOOK_CALLBACK}o:{note.note_id}"
        )
        row.insert(0, opener)
    return row


def format_notes(
    notes: list[Note], lang: str, page: int = 0
) -> tuple[str, InlineKeyboardMarkup | None]:
    """One page of the numbered notebook (⭐ marks starred notes) and its buttons."""
    if not notes:
        return t(lang, "no_notes"), None
    pages = -(-len(notes) // PAGE)
    page = min(max(page, 0), pages - 1)
    starred = sum(n.starred for n in notes)
    lines = [t(lang, "notes_list", n=len(notes), starred=starred)]
    rows: list[list[InlineKeyboardButton]] = []
    first = page * PAGE
    for n, note in enumerate(notes[first : first + PAGE], start=first + 1):
        mark = "⭐ " if note.starred else ""
        question = (
            note.question if len(note.question) <= _EXCERPT else note.question[:_EXCERPT] + "…"
        )
        lines += ["", f"{n}. {mark}<b>{esc(question)}</b>", esc(_excerpt(note))]
        rows.append(_note_buttons(note, lang, n))
    lines += ["", t(lang, "notes_help")]
    if pages > 1:
        lines.append(t(lang, "notes_page", page=page + 1, pages=pages))
        nav = [
            InlineKeyboardButton(label, callback_data=f"{NOTEBOOK_CALLBACK}p:{to}")
            for label, to in (("◀", page - 1), ("▶", page + 1))
            if 0 <= to < pages
        ]
        rows.append(nav)
    return "\n".join(lines), InlineKeyboardMarkup(rows)


def format_note(note: Note, lang: str) -> str:
    """A note in full: its question, the whole answer and its sources."""
    mark = "⭐ " if note.starred else ""
    body = f"📝 {mark}<b>{esc(note.question)}</b>\n\n{render_answer_body(note.answer)}"
    if note.citations:
        body += "\n\n" + render_citations(note.citations, lang)
    return body


class Notebook:
    """The /notes command and its buttons."""

    def __init__(self, answerer: Answerer) -> None:
        self._answerer = answerer

    async def handle_notes(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        assert message is not None
        lang = lang_for(update, context.user_data)
        notes = await self._answerer.notes(message.chat_id)
        text, markup = format_notes(notes, lang)
        sent = await message.chat.send_message(text, parse_mode=ParseMode.HTML, reply_markup=markup)
        if context.chat_data is not None and notes:
            context.chat_data[_LIST_KEY] = (sent.message_id, 0)

    async def handle_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        assert query.data is not None
        lang = lang_for(update, context.user_data)
        message = query.message
        if not isinstance(message, Message):
            await query.answer()
            return
        chat_id = message.chat_id
        action, _, arg = query.data.removeprefix(NOTEBOOK_CALLBACK).partition(":")
        chat_data: MutableMapping[Any, Any] = (
            context.chat_data if context.chat_data is not None else {}
        )
        if action == "p":
            await query.answer()
            chat_data[_LIST_KEY] = (message.message_id, int(arg) if arg.isdigit() else 0)
            await self._redraw_list(message, chat_data, lang)
            return
        note = await self._answerer.note(chat_id, arg)
        if note is None:
            await query.answer(t(lang, "note_unknown"))
            await self._redraw_list(message, chat_data, lang)
            return
        if action == "o":
            await query.answer()
            parts = split_html(format_note(note, lang))
            markup = InlineKeyboardMarkup([_note_buttons(note, lang)])
            for i, part in enumerate(parts, start=1):
                await message.chat.send_message(
                    part,
                    parse_mode=ParseMode.HTML,
                    reply_markup=markup if i == len(parts) else None,
                )
            return
        on_list = chat_data.get(_LIST_KEY, (None,))[0] == message.message_id
        if action == "s":
            starred = await self._answerer.star_note(chat_id, note.note_id, not note.starred)
            await query.answer(
                t(lang, "note_starred" if starred and starred.starred else "note_unstarred")
            )
            if starred is not None and not on_list:  # a note opened in full: its own buttons
                with contextlib.suppress(BadRequest):
                    await query.edit_message_reply_markup(
                        InlineKeyboardMarkup([_note_buttons(starred, lang)])
                    )
        elif action == "d":
            removed = await self._answerer.remove_note(chat_id, note.note_id)
            await query.answer(t(lang, "note_deleted" if removed else "note_unknown"))
            if not on_list:  # a note opened in full: say it is gone, keep no buttons
                with contextlib.suppress(BadRequest):
                    await query.edit_message_text(t(lang, "note_deleted"))
        else:
            await query.answer()
            return
        await self._redraw_list(message, chat_data, lang)

    async def _redraw_list(
        self, message: Message, chat_data: MutableMapping[Any, Any], lang: str
    ) -> None:
        """Draw the chat's list message again from the store (a note was starred or removed)."""
        kept = chat_data.get(_LIST_KEY)
        if kept is None:
            return
        message_id, page = kept
        notes = await self._answerer.notes(message.chat_id)
        text, markup = format_notes(notes, lang, page)
        with contextlib.suppress(BadRequest):  # unchanged, or deleted by the student
            await message.get_bot().edit_message_text(
                text,
                chat_id=message.chat_id,
                message_id=message_id,
                parse_mode=ParseMode.HTML,
                reply_markup=markup,
            )

    def handlers(self) -> list[BaseHandler[Update, Any, Any]]:
        return [
            CommandHandler("notes", self.handle_notes, filters=filters.UpdateType.MESSAGE),
            CallbackQueryHandler(self.handle_button, pattern=f"^{NOTEBOOK_CALLBACK}[psod]:"),
        ]
