"""One message that is edited as work goes on, at most about once a second.

Telegram flood-limits edits (about one per second per chat), so updates are coalesced: only
the latest text is shown, and an edit is delayed until the interval has passed. Intermediate
states are droppable under flood control (``bot.telegram.flood``); the final text is not. Progress
callbacks of the services run in worker threads; ``thread_callback`` marshals them onto the
event loop. A tracked status message is written down in the ``JobLedger`` until it is
finished, so a restart can tell the student if its work was cut short.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from telegram import Chat, InlineKeyboardMarkup, Message
from telegram.constants import ParseMode
from telegram.error import BadRequest, RetryAfter, TelegramError

from bot.telegram.flood import droppable, retry_seconds
from bot.telegram.i18n import t
from bot.telegram.jobs import Job, JobLedger
from bot.telegram.render import split_html

__all__ = ["Coalescer", "StatusMessage", "Tracking", "progress_text", "thread_callback"]

log = logging.getLogger(__name__)


class Coalescer:
    """Calls ``show(latest)`` at most once per ``interval`` s; values in between are dropped.

    ``show`` runs in a task; its ``TelegramError`` is logged, not raised: an intermediate
    state is never worth failing the job.
    """

    def __init__(
        self, show: Callable[[str], Awaitable[None]], interval: float, *, shown_at: float = 0.0
    ) -> None:
        self._show = show
        self._interval = interval
        self._last = shown_at
        self._latest = ""
        self._pending: asyncio.Task[None] | None = None
        self._closed = False

    def push(self, text: str) -> None:
        """Show ``text`` soon (now if the interval has passed, else when it has)."""
        if self._closed:
            return
        self._latest = text
        if self._pending is None:
            delay = max(0.0, self._last + self._interval - time.monotonic())
            self._pending = asyncio.get_running_loop().create_task(self._flush_later(delay))

    async def _flush_later(self, delay: float) -> None:
        try:
            await asyncio.sleep(delay)
            await self._show(self._latest)
        except TelegramError as exc:
            log.warning("could not show progress: %s", exc)
        finally:
            self._last = time.monotonic()
            self._pending = None

    async def close(self) -> None:
        """Stop: drop what is pending and show nothing more."""
        self._closed = True
        if self._pending is not None:
            self._pending.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pending


@dataclass(frozen=True)
class Tracking:
    """Write the status message's work down in ``ledger`` (``kind``: "source" or "report";
    ``name``: what the student sent, for the message after a restart)."""

    ledger: JobLedger
    lang: str
    kind: str
    name: str = ""


class StatusMessage:
    """A message showing the latest state of a long job, edited with throttling."""

    def __init__(self, message: Message, interval: float) -> None:
        self.message = message
        self._shown = message.text or ""
        self._edits = Coalescer(self._show, interval, shown_at=time.monotonic())
        self.markup: InlineKeyboardMarkup | None = None
        """Buttons shown under every progress edit (e.g. a stop button); ``finish`` drops them."""
        self._job: tuple[JobLedger, Job] | None = None

    @classmethod
    async def send(
        cls,
        chat: Chat,
        text: str,
        interval: float,
        *,
        markup: InlineKeyboardMarkup | None = None,
        track: Tracking | None = None,
    ) -> StatusMessage:
        message = await chat.send_message(text, reply_markup=markup)
        status = cls(message, interval)
        status.markup = markup
        if track is not None:
            job = Job(chat.id, message.message_id, track.lang, track.kind, track.name[:200])
            status._job = (track.ledger, job)
            await track.ledger.begin(job)
        return status

    def push(self, text: str) -> None:
        """Show ``text`` soon (now if the interval has passed, else when it has)."""
        self._edits.push(text)

    async def _show(self, text: str) -> None:
        """An intermediate state: dropped under flood control (a newer one follows)."""
        try:
            with droppable():
                await self._edit(text, None, self.markup)
        except RetryAfter as exc:
            log.info("progress edit dropped under flood control (%.0f s)", retry_seconds(exc))

    async def _edit(
        self, text: str, parse_mode: str | None, markup: InlineKeyboardMarkup | None
    ) -> None:
        if text == self._shown and (markup is None or markup is self.markup):
            return
        try:
            await self.message.edit_text(text, parse_mode=parse_mode, reply_markup=markup)
            self._shown = text
        except BadRequest as exc:
            if "not modified" not in str(exc).lower():
                raise

    async def finish(
        self, html_text: str, *, reply_markup: InlineKeyboardMarkup | None = None
    ) -> list[Message]:
        """Replace the status with the final HTML (split if long); buttons go on the last part."""
        try:
            return await self._finish(html_text, reply_markup)
        finally:
            if self._job is not None:
                ledger, job = self._job
                self._job = None
                await ledger.end(job)

    async def _finish(
        self, html_text: str, reply_markup: InlineKeyboardMarkup | None
    ) -> list[Message]:
        await self._edits.close()
        self.markup = None
        parts = split_html(html_text) or [html_text]
        first_markup = reply_markup if len(parts) == 1 else None
        try:
            await self._edit(parts[0], ParseMode.HTML, first_markup)
        except BadRequest:  # e.g. the student deleted the status message: send a new one
            self.message = await self.message.chat.send_message(
                parts[0], parse_mode=ParseMode.HTML, reply_markup=first_markup
            )
        sent = [self.message]
        for i, part in enumerate(parts[1:], start=2):
            markup = reply_markup if i == len(parts) else None
            sent.append(
                await self.message.chat.send_message(
                    part, parse_mode=ParseMode.HTML, reply_markup=markup
                )
            )
        return sent


def progress_text(lang: str, stage: str, done: int, total: int) -> str:
    """The status line for a service progress report."""
    if stage in ("parsing", "indexing") and total > 0:
        return t(lang, stage, done=min(done, total), total=total)
    if stage == "fetching":
        return t(lang, "fetching")
    if stage == "reading":
        return t(lang, "reading")
    return t(lang, "working")


def thread_callback(status: StatusMessage, lang: str) -> Callable[[str, int, int], None]:
    """A ``progress(stage, done, total)`` safe to call from a worker thread."""
    loop = asyncio.get_running_loop()

    def progress(stage: str, done: int, total: int) -> None:
        text = progress_text(lang, stage, done, total)
        loop.call_soon_threadsafe(status.push, text)

    return progress
