"""The door: group-chat addressing, the allow-list and a per-user rate limit.

Runs in handler group -1, before any feature. An update it rejects stops there
(``ApplicationHandlerStop``): no handler runs and no chat or user data is touched, so a
stranger leaves nothing behind.
"""

from __future__ import annotations

import contextlib
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from telegram import Message, MessageEntity, Update
from telegram.constants import ChatType, ReactionEmoji
from telegram.error import TelegramError
from telegram.ext import ApplicationHandlerStop, ContextTypes, TypeHandler

from bot.telegram.config import TelegramConfig
from bot.telegram.i18n import lang_for, t

__all__ = ["GUARD_GROUP", "Guard", "RateLimiter", "addressed_to_bot"]

GUARD_GROUP = -1
WINDOW_S = 60.0


@dataclass
class RateLimiter:
    """Sliding one-minute window of updates per user."""

    per_minute: int
    clock: Callable[[], float] = time.monotonic
    _seen: dict[int, deque[float]] = field(default_factory=dict)
    _warned: dict[int, float] = field(default_factory=dict)

    def check(self, user_id: int) -> float:
        """0 when allowed (and counted), else seconds until the next one is allowed."""
        now = self._now()
        seen = self._seen.setdefault(user_id, deque())
        while seen and now - seen[0] >= WINDOW_S:
            seen.popleft()
        if len(seen) < self.per_minute:
            seen.append(now)
            return 0.0
        return max(1.0, WINDOW_S - (now - seen[0]))

    def should_warn(self, user_id: int) -> bool:
        """Warn once per window, not on every extra message."""
        now = self._now()
        if now - self._warned.get(user_id, -WINDOW_S) < WINDOW_S:
            return False
        self._warned[user_id] = now
        return True

    def _now(self) -> float:
        return self.clock()


def _mentions(message: Message, username: str, bot_id: int) -> bool:
    entities = message.entities or message.caption_entities
    parsed = (
        message.parse_entities() if message.text is not None else message.parse_caption_entities()
    )
    for entity in entities:
        if entity.type == MessageEntity.MENTION:
            if parsed.get(entity, "").lower() == f"@{username}".lower():
                return True
        elif (
            entity.type == MessageEntity.TEXT_MENTION
            and entity.user is not None
            and entity.user.id == bot_id
        ):
            return True
    return False


def addressed_to_bot(message: Message, username: str, bot_id: int) -> bool:
    """In a group: a command, a mention of the bot, or a reply to one of its messages."""
    if message.chat.type == ChatType.PRIVATE:
        return True
    text = message.text or ""
    if text.startswith("/"):
        return True
    reply = message.reply_to_message
    if reply is not None and reply.from_user is not None and reply.from_user.id == bot_id:
        return True
    return _mentions(message, username, bot_id)


class Guard:
    """The door in group -1: lets through only what the bot should act on (see the module
    docstring); anything else stops there (``ApplicationHandlerStop``)."""

    def __init__(self, config: TelegramConfig, limiter: RateLimiter | None = None) -> None:
        self._limiter = limiter or RateLimiter(config.rate_limit_per_minute)
        self._allowed = config.allowed_users

    def handlers(self) -> list[TypeHandler[Update, ContextTypes.DEFAULT_TYPE, None]]:
        """One handler, for ``GUARD_GROUP``, that sees every update."""
        handler: TypeHandler[Update, ContextTypes.DEFAULT_TYPE, None] = TypeHandler(
            Update, self.check
        )
        return [handler]

    async def check(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Return to let ``update`` through; raise ``ApplicationHandlerStop`` to stop it."""
        message = update.message
        if message is not None and not addressed_to_bot(
            message, context.bot.username, context.bot.id
        ):
            _leave_no_trace(update, context)
            raise ApplicationHandlerStop
        user = update.effective_user
        if user is None:
            raise ApplicationHandlerStop
        lang = lang_for(update)  # never user_data here: nothing may be stored for strangers
        if self._allowed and user.id not in self._allowed:
            _leave_no_trace(update, context)
            await _tell(update, t(lang, "not_allowed"))
            raise ApplicationHandlerStop
        # A quiz answer is a tap on a poll the bot sent (no model call): never turned away,
        # or the student's score would miss it.
        wait = self._limiter.check(user.id) if update.poll_answer is None else 0.0
        if wait:
            await _mark_not_taken(update)
            if self._limiter.should_warn(user.id):
                await _tell(update, t(lang, "rate_limited", seconds=int(wait + 0.5)))
            raise ApplicationHandlerStop


def _leave_no_trace(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Keep PTB from persisting empty chat/user entries for an update we turn away.

    PTB creates (empty) chat/user entries for every update and marks them for persistence;
    dropping an empty entry cancels that, while real data (a group's) stays untouched.
    """
    application = context.application
    chat, user = update.effective_chat, update.effective_user
    if chat is not None and not application.chat_data.get(chat.id):
        application.drop_chat_data(chat.id)
    if user is not None and not application.user_data.get(user.id):
        application.drop_user_data(user.id)


async def _mark_not_taken(update: Update) -> None:
    """Mark a message the limit turned away with 🙈, so the student sees which to send again
    (a reaction is no message: it adds nothing to the flood)."""
    message = update.message
    if message is None:
        return
    with contextlib.suppress(TelegramError):  # older clients or servers: the warning remains
        await message.set_reaction(ReactionEmoji.SEE_NO_EVIL_MONKEY)


async def _tell(update: Update, text: str) -> None:
    if update.callback_query is not None:
        await update.callback_query.answer(text, show_alert=True)
    elif update.effective_message is not None:
        await update.effective_message.reply_text(text)
