"""The one error handler: expected errors become their message, anything else an apology.

``PaperTutorError`` carries the student-facing text in both languages (and whether retrying
helps); everything else is a bug, logged with the update id and answered with a short apology.
Where retrying helps (a failed answer, report or download), the failure carries one 🔄 button
(``retry_markup``); its callback data is the feature's own, so the feature does the retry.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, TypeVar

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import TelegramError
from telegram.ext import CallbackQueryHandler, ContextTypes

from bot.telegram.cards import recall, remember
from bot.telegram.i18n import lang_for, t
from bot.telegram.render import esc
from bot.telegram.status import StatusMessage
from kernel.errors import PaperTutorError

__all__ = [
    "Again",
    "Told",
    "error_text",
    "failure_text",
    "handle_error",
    "retry_data",
    "retry_handler",
    "retry_markup",
    "shown_on",
]

log = logging.getLogger(__name__)
T = TypeVar("T")


class Told(Exception):  # noqa: N818 - not an error of its own: a marker around one
    """The student has been told about ``__cause__`` already (with a retry button where it
    helps): the error handler only logs it."""


def failure_text(exc: BaseException, lang: str) -> tuple[str, bool]:
    """What went wrong, as HTML for the student, and whether trying again may help. No advice
    in the text: the caller offers it (a retry button)."""
    if isinstance(exc, PaperTutorError):
        return esc(exc.message(lang)), exc.retryable
    return t(lang, "apology_short"), True


def retry_markup(lang: str, callback_data: str) -> InlineKeyboardMarkup:
    """The one 🔄 button under a failure; pressing it sends ``callback_data`` to the feature
    that failed."""
    button = InlineKeyboardButton(t(lang, "btn_retry"), callback_data=callback_data)
    return InlineKeyboardMarkup([[button]])


Again = Callable[[Message, ContextTypes.DEFAULT_TYPE, str, Any], Awaitable[None]]
"""``again(message, context, lang, payload)``: do the failed work again (under ``message``)."""


def retry_data(chat_data: MutableMapping[Any, Any], prefix: str, payload: Any) -> str:
    """The callback data of a 🔄 button that gives ``payload`` back to ``retry_handler``."""
    return f"{prefix}{remember(chat_data, payload)}"


def retry_handler(prefix: str, again: Again) -> CallbackQueryHandler[Any, Any]:
    """Handles the 🔄 buttons made with ``retry_data(…, prefix, …)``: the button goes, and
    ``again`` runs with the kept payload (an expired one is said in a short alert)."""

    async def handle(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        assert query.data is not None
        lang = lang_for(update, context.user_data)
        payload = recall(context.chat_data, query.data.removeprefix(prefix))
        message = query.message
        if payload is None or not isinstance(message, Message):
            await query.answer(t(lang, "expired"), show_alert=True)
            return
        await query.answer()
        await query.edit_message_reply_markup(None)
        await again(message, context, lang, payload)

    return CallbackQueryHandler(handle, pattern=f"^{re.escape(prefix)}[0-9a-f]+$")


def error_text(exc: PaperTutorError, lang: str) -> str:
    """The plain text a student sees for ``exc`` (with a retry hint when retrying helps)."""
    text = exc.message(lang)
    if exc.retryable:
        text += "\n" + t(lang, "retry_later")
    return text


async def shown_on(
    status: StatusMessage,
    lang: str,
    work: Awaitable[T],
    *,
    unless: tuple[type[PaperTutorError], ...] = (),
    retry: str | None = None,
) -> T | None:
    """``work``'s result; if it fails, ``status`` ends with what the student should read.

    A known error shows its text and gives ``None`` (the caller stops there). Anything else
    shows the short failure line and is re-raised, for the error handler to log. Errors in
    ``unless`` are re-raised untouched: the caller has its own reply for them. With ``retry``
    (a feature's callback data), a failure that retrying may mend ends with a 🔄 button instead
    of advice; an unexpected one is then re-raised as ``Told`` (logged only).
    """
    try:
        return await work
    except unless:
        raise
    except PaperTutorError as exc:
        if retry is None:
            await status.finish(esc(error_text(exc, lang)))
            return None
        text, retryable = failure_text(exc, lang)
        await status.finish(text, reply_markup=retry_markup(lang, retry) if retryable else None)
        return None
    except Exception as exc:
        if retry is None:
            await status.finish(t(lang, "failed"))
            raise
        text = t(lang, "failed_retry", reason_html=failure_text(exc, lang)[0])
        await status.finish(text, reply_markup=retry_markup(lang, retry))
        raise Told(exc) from exc


async def handle_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Tell the student what happened; log what they cannot fix."""
    exc = context.error
    if isinstance(exc, Told):
        cause = exc.__cause__
        if isinstance(cause, PaperTutorError):
            log.info("update %s: %s", getattr(update, "update_id", "?"), cause)
        else:
            log.error("update %s failed", getattr(update, "update_id", "?"), exc_info=cause)
        return
    if not isinstance(update, Update):
        log.error("error outside an update", exc_info=exc)
        return
    lang = lang_for(update, context.user_data if update.effective_user else None)
    if isinstance(exc, PaperTutorError):
        log.info("update %s: %s", update.update_id, exc)
        text = esc(error_text(exc, lang))
    else:
        log.error("update %s failed", update.update_id, exc_info=exc)
        text = t(lang, "apology")
    chat = update.effective_chat
    if update.callback_query is not None:
        with contextlib.suppress(TelegramError):
            await update.callback_query.answer()
    if chat is None:
        return
    try:
        await context.bot.send_message(chat.id, text)
    except TelegramError:
        log.warning(
            "could not tell chat %s about the error of update %s", chat.id, update.update_id
        )
