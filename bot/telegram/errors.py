"""The one error handler: expected errors become their message, anything else an apology.

``PaperTutorError`` carries the student-facing text in both languages (and whether retrying
helps); everything else is a bug, logged with the update id and answered with a short apology.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable
from typing import TypeVar

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot.telegram.i18n import lang_for, t
from bot.telegram.render import esc
from bot.telegram.status import StatusMessage
from kernel.errors import PaperTutorError

__all__ = ["Told", "error_text", "failure_text", "handle_error", "shown_on"]

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
) -> T | None:
    """``work``'s result; if it fails, ``status`` ends with what the student should read.

    A known error shows its text and gives ``None`` (the caller stops there). Anything else
    shows the short failure line and is re-raised, for the error handler to log. Errors in
    ``unless`` are re-raised untouched: the caller has its own reply for them.
    """
    try:
        return await work
    except unless:
        raise
    except PaperTutorError as exc:
        await status.finish(esc(error_text(exc, lang)))
        return None
    except Exception:
        await status.finish(t(lang, "failed"))
        raise


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
