"""Telegram's flood limits: every Bot API call goes through ``ChatRateLimiter``.

Telegram answers 429 (``retry_after``) to a bot that sends more than about one message a second
to a chat, twenty a minute to a group, or thirty a second overall. A final answer, a file or an
error message must never be lost to that; a progress edit or a draft preview may be, since a
newer one follows.

Why not python-telegram-bot's ``AIORateLimiter``: on one chat's 429 it pauses *every* chat, it
cannot tell a preview (worth dropping) from an answer (worth waiting for), and it only limits
groups, not private chats, where our students are. This limiter keeps one schedule per chat
(a small burst, then a steady rate; groups slower) and one overall, and after a 429 pauses only
the chat it concerns. Calls made inside ``droppable()`` (progress edits, drafts, "typing…") are
refused at once when their chat has no room or is paused, instead of delaying the calls that
matter; every other call waits its turn and is retried after ``retry_after`` until it goes
through (within ``max_wait_s``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import warnings
from collections.abc import Callable, Coroutine, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter
from telegram.warnings import PTBDeprecationWarning

__all__ = ["ChatRateLimiter", "Schedule", "droppable", "retry_seconds"]

log = logging.getLogger(__name__)

_DROPPABLE: ContextVar[bool] = ContextVar("telegram_call_droppable", default=False)
# Calls that are not messages: they take no room in a chat's schedule.
_NOT_MESSAGES = frozenset(
    {"sendChatAction", "answerCallbackQuery", "getFile", "setMessageReaction", "getMe"}
)


@contextlib.contextmanager
def droppable() -> Iterator[None]:
    """Bot API calls made inside may be dropped (``RetryAfter`` raised at once) under flood
    control: for previews that a newer one replaces."""
    token = _DROPPABLE.set(True)
    try:
        yield
    finally:
        _DROPPABLE.reset(token)


@dataclass
class Schedule:
    """Calls at ``rate`` per second with bursts of ``burst`` (the generic cell rate algorithm),
    and a pause after Telegram's own ``retry_after``."""

    rate: float
    burst: int
    _next_free: float = 0.0  # when the schedule is empty again ("theoretical arrival time")
    paused_until: float = 0.0

    def idle(self, now: float) -> bool:
        """Nothing booked and no pause: the schedule can be forgotten."""
        return now >= self._next_free and now >= self.paused_until

    def reserve(self, now: float, *, only_if_free: bool = False) -> float | None:
        """Book one call: how long to wait before making it (0: now). ``only_if_free``: book
        only if it can go now, else None."""
        interval = 1.0 / self.rate
        start = max(now, self.paused_until, self._next_free - (self.burst - 1) * interval)
        if only_if_free and start > now:
            return None
        self._next_free = max(self._next_free, start) + interval
        return start - now


@dataclass
class _Limits:
    private: tuple[float, int] = (1.0, 3)  # per second, burst
    group: tuple[float, int] = (20 / 60, 3)
    overall: tuple[float, int] = (30.0, 30)
    schedules: dict[int | str, Schedule] = field(default_factory=dict)


class ChatRateLimiter(BaseRateLimiter[None]):
    """Per-chat and overall schedules, 429 handling per chat; see the module docstring."""

    def __init__(
        self,
        *,
        private_rate: float = 1.0,
        group_per_minute: float = 20,
        overall_rate: float = 30.0,
        burst: int = 3,
        max_wait_s: float = 120.0,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self._limits = _Limits(
            private=(private_rate, burst),
            group=(group_per_minute / 60, burst),
            overall=(overall_rate, max(1, int(overall_rate))),
        )
        self._overall = Schedule(*self._limits.overall)
        self._max_wait_s = max_wait_s
        self._clock = clock
        self.dropped = 0
        """Droppable calls refused so far (previews a newer one replaced)."""

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    def _now(self) -> float:
        return self._clock() if self._clock else asyncio.get_running_loop().time()

    def _schedule(self, chat: int | str) -> Schedule:
        schedules = self._limits.schedules
        if chat not in schedules:
            if len(schedules) > 4096:  # forget idle chats
                now = self._now()
                for key in [k for k, s in schedules.items() if s.idle(now)]:
                    del schedules[key]
            group = isinstance(chat, str) or chat < 0
            schedules[chat] = Schedule(*(self._limits.group if group else self._limits.private))
        return schedules[chat]

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        chat_id = data.get("chat_id")
        if chat_id is None:
            return await callback(*args, **kwargs)
        with contextlib.suppress(ValueError, TypeError):
            chat_id = int(chat_id)
        schedule = self._schedule(chat_id)
        drop = _DROPPABLE.get() or endpoint == "sendChatAction"
        counts = endpoint not in _NOT_MESSAGES
        started = self._now()
        while True:
            now = self._now()
            if counts:
                wait = schedule.reserve(now, only_if_free=drop)
                overall = self._overall.reserve(now, only_if_free=drop)
                if wait is None or overall is None:
                    self.dropped += 1
                    raise RetryAfter(max(1, math.ceil(schedule.paused_until - now)))
                await asyncio.sleep(max(wait, overall))
            elif schedule.paused_until > now:
                if drop:
                    self.dropped += 1
                    raise RetryAfter(max(1, math.ceil(schedule.paused_until - now)))
                await asyncio.sleep(schedule.paused_until - now)
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                seconds = retry_seconds(exc)
                schedule.paused_until = max(schedule.paused_until, self._now() + seconds)
                if drop or self._now() + seconds - started > self._max_wait_s:
                    raise
                log.info("flood control in chat %s: %s waits %.1f s", chat_id, endpoint, seconds)


def retry_seconds(exc: RetryAfter) -> float:
    """``exc.retry_after`` in seconds (an int now, a timedelta in PTB's next major version)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        retry_after: int | timedelta = exc.retry_after
    if isinstance(retry_after, timedelta):
        return retry_after.total_seconds()
    return float(retry_after)
