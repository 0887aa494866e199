"""Streaming an answer as a message draft in private chats (``sendMessageDraft``, Bot API 9.3+).

A draft is an ephemeral, animated preview that needs no message to edit and no edit flood
budget; the final answer is then sent as a normal message. Where the Bot API refuses drafts
(older or self-hosted servers), ``DraftStream.failed`` turns true and the caller falls back to
editing a message.
"""

from __future__ import annotations

import itertools
import logging
import time

from telegram import Bot
from telegram.error import RetryAfter, TelegramError

from bot.telegram.flood import droppable, retry_seconds
from bot.telegram.status import Coalescer

__all__ = ["DraftStream"]

log = logging.getLogger(__name__)
_draft_ids = itertools.count(1)  # non-zero and unique per process, as the Bot API requires


class DraftStream:
    """The latest preview text of one answer, shown as a draft at most once per interval."""

    def __init__(self, bot: Bot, chat_id: int, interval: float) -> None:
        self._bot = bot
        self._chat_id = chat_id
        self._draft_id = next(_draft_ids)
        self.failed = False
        self._interval = interval
        self._updates: Coalescer | None = None

    async def push(self, text: str) -> None:
        """Show ``text``: the first one at once (the student sees the answer start), later
        ones coalesced to at most one per interval."""
        if self.failed:
            return
        if self._updates is None:
            self._updates = Coalescer(self._show, self._interval, shown_at=time.monotonic())
            await self._show(text)
        else:
            self._updates.push(text)

    async def _show(self, text: str) -> None:
        if self.failed:
            return
        try:
            with droppable():
                await self._bot.send_message_draft(
                    self._chat_id, self._draft_id, text, parse_mode=None
                )
        except RetryAfter as exc:  # flood control: this preview is dropped, a newer one follows
            log.info("draft dropped under flood control (%.0f s)", retry_seconds(exc))
        except TelegramError as exc:
            # Not offered here (or refused): stop trying; the caller edits a message instead.
            log.info("message drafts unavailable, falling back to edits: %s", exc)
            self.failed = True

    async def close(self) -> None:
        if self._updates is not None:
            await self._updates.close()
