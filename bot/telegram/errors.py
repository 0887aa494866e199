"""The one error handler: expected errors become their message, anything else an apology.

``PaperTutorError`` carries the student-facing text in both languages (and whether retrying
helps); everything else is a bug, logged with the update id and answered with a short apology.
"""

from __future__ import annotations

import contextlib
import logging

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot.telegram.i18n import lang_for, t
from bot.telegram.render import esc
from ingest.errors import PaperTutorError

__all__ = ["error_text", "handle_error"]

log = logging.getLogger(__name__)


def error_text(exc: PaperTutorError, lang: str) -> str:
    """The plain text a student sees for ``exc`` (with a retry hint when retrying helps)."""
    text = exc.message(lang)
    if exc.retryable:
        text += "\n" + t(lang, "retry_later")
    return text


async def handle_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Tell the student what happened; log what they cannot fix."""
    exc = context.error
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
