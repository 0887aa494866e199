"""Plain settings of the Telegram front door (built from ``bot.settings`` or by tests)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["TelegramConfig"]


@dataclass(frozen=True)
class TelegramConfig:
    """What the handlers and the application need; no secrets beyond the token."""

    token: str
    api_url: str = "https://api.telegram.org/bot"
    file_url: str = "https://api.telegram.org/file/bot"
    allowed_users: frozenset[int] = field(default_factory=frozenset)
    rate_limit_per_minute: int = 20
    max_download_bytes: int = 20 * 2**20
    local_mode: bool = False
    """A self-hosted Bot API server in ``--local`` mode: files are read from its disk."""
    webhook_url: str | None = None
    webhook_port: int = 8443
    webhook_listen: str = "0.0.0.0"
    webhook_secret: str | None = None
    use_drafts: bool = True
    """Stream answers as message drafts in private chats (falls back to edits if refused)."""
    edit_interval_s: float = 1.0
    """Least time between two edits of one status or streaming message (flood limit)."""
    send_rate: float = 1.0
    """Messages per second to one private chat, after a burst of three (Telegram's flood limit;
    groups get twenty a minute, all chats together thirty a second). See ``bot.telegram.flood``.
    0: no pacing at all (tests of what handlers send: no limiter)."""
    persistence_path: Path | None = None
    """Pickle file for chat/user data (language choice, remembered video link); None = memory."""
    jobs_dir: Path | None = None
    """Where work under way is written down (``bot.telegram.jobs``); None = nowhere."""
    startup_wait_s: float = 60.0
    """How long start-up waits for an unreachable Bot API before giving up."""
