"""Progress of a lecture being read: where recognition is in the recording, an estimate of the
time left, and a stop button.

"🎙 转写中 12:30 / 58:00（约 9 分钟）": the estimate comes from how fast recognition has moved
so far (audio seconds per wall-clock second), shown once it has run long enough to mean
something. The stop button sets the job's cancel flag; the service stops at its next check
(between download chunks, recognised segments or windows) and stores nothing.
"""

from __future__ import annotations

import asyncio
import math
import secrets
import threading
import time
from collections.abc import Callable
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler, ContextTypes

from bot.telegram.i18n import lang_for, t
from bot.telegram.status import StatusMessage, progress_text
from kernel.locators import format_timestamp

__all__ = ["MediaProgress", "StopButtons", "estimate_text", "media_progress_text"]

_ESTIMATE_AFTER_S = 15.0  # a rate measured over less than this is noise


def estimate_text(lang: str, remaining_s: float | None) -> str:
    """ "（约 9 分钟）" / " (about 9 min left)"; empty when there is no estimate yet."""
    if remaining_s is None or not math.isfinite(remaining_s):
        return ""
    if remaining_s < 60:
        return t(lang, "eta_soon")
    return t(lang, "eta_minutes", minutes=math.ceil(remaining_s / 60))


def media_progress_text(lang: str, stage: str, done: int, total: int, estimate: str = "") -> str:
    """The status line of a lecture's stages (other stages as ``progress_text``)."""
    if stage == "probing":
        return t(lang, "probing")
    if stage == "downloading":
        if total > 0:
            return t(
                lang, "downloading_media", done=f"{done / 2**20:.1f}", total=f"{total / 2**20:.1f}"
            )
        return t(lang, "downloading_media_unknown", done=f"{done / 2**20:.1f}")
    if stage == "waiting":
        return t(lang, "waiting_asr")
    if stage == "transcribing":
        where = format_timestamp(done)
        if total > 0:
            where += " / " + format_timestamp(total)
        return t(lang, "transcribing", where=where, estimate=estimate)
    return progress_text(lang, stage, done, total)


class MediaProgress:
    """Turns a service's ``progress(stage, done, total)`` calls (from worker threads) into
    throttled edits of one status message, with an estimate while recognising."""

    def __init__(
        self,
        status: StatusMessage,
        lang: str,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._status = status
        self._lang = lang
        self._clock = clock
        self._started: tuple[float, int] | None = None  # (when, position) recognition began

    def text(self, stage: str, done: int, total: int) -> str:
        estimate = ""
        if stage == "transcribing":
            now = self._clock()
            if self._started is None:
                self._started = (now, done)
            began, first = self._started
            elapsed = now - began
            if total > 0 and elapsed >= _ESTIMATE_AFTER_S and done > first:
                rate = (done - first) / elapsed
                estimate = estimate_text(self._lang, (total - done) / rate)
        return media_progress_text(self._lang, stage, done, total, estimate)

    def callback(self) -> Callable[[str, int, int], None]:
        """A ``progress(stage, done, total)`` safe to call from any thread."""
        loop = asyncio.get_running_loop()

        def progress(stage: str, done: int, total: int) -> None:
            loop.call_soon_threadsafe(self._status.push, self.text(stage, done, total))

        return progress


class StopButtons:
    """Stop buttons for long jobs: each job gets a cancel flag and a button that sets it."""

    def __init__(self, prefix: str) -> None:
        self._prefix = prefix
        self._flags: dict[str, threading.Event] = {}

    def new(self, lang: str) -> tuple[str, threading.Event, InlineKeyboardMarkup]:
        """A fresh flag and the button markup that sets it; ``release(key)`` when done."""
        key = secrets.token_hex(6)
        flag = threading.Event()
        self._flags[key] = flag
        button = InlineKeyboardButton(t(lang, "btn_stop"), callback_data=self._prefix + key)
        return key, flag, InlineKeyboardMarkup([[button]])

    def release(self, key: str) -> None:
        self._flags.pop(key, None)

    async def handle_stop(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        assert query.data is not None
        lang = lang_for(update, context.user_data)
        flag = self._flags.get(query.data.removeprefix(self._prefix))
        if flag is None:  # finished meanwhile, or the bot restarted
            await query.answer(t(lang, "stop_too_late"))
            return
        flag.set()
        await query.answer(t(lang, "stopping"))

    def handler(self) -> CallbackQueryHandler[Any, None]:
        return CallbackQueryHandler(self.handle_stop, pattern=f"^{self._prefix}[0-9a-f]+$")
