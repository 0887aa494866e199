"""Secrets never reach a log line or a printed message: masking text, and a logging filter.

Two kinds of masking: the secret values the settings hold (tokens, API keys, the webhook
secret), replaced wherever they appear; and shapes that are secret whatever the settings say:
Telegram bot tokens (they sit inside every Bot API URL) and the password part of a URL
(``https://user:password@proxy``). ``configure_logging`` sets up logging with the filter on
every handler of the root logger, so a record is masked whichever library logged it,
tracebacks included. Light on purpose: the front doors use it before loading anything heavy.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.settings import Settings

__all__ = ["Redactor", "configure", "configure_logging", "mask", "redactor"]

# A bot token is "<bot id>:<35 characters>"; the bot id is public (it is the bot's user id).
_BOT_TOKEN = re.compile(r"(?<![A-Za-z0-9])(\d{5,}):[A-Za-z0-9_-]{30,}")
_URL_PASSWORD = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^/\s:@]*):[^/\s@]+@")
_MIN_SECRET = 6  # shorter values would mask ordinary words; nobody uses them as keys


def mask(secret: str) -> str:
    """How a secret is shown: a bot token keeps its public bot id, anything else nothing."""
    token = _BOT_TOKEN.fullmatch(secret.strip())
    return f"{token.group(1)}:***" if token else "***"


class Redactor:
    """Masks ``secrets`` (and bot tokens, URL passwords) in any text."""

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        found = {s.strip() for s in secrets if s and len(s.strip()) >= _MIN_SECRET}
        self._secrets = sorted(found, key=len, reverse=True)  # longest first: no partial leaks

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, mask(secret))
        text = _BOT_TOKEN.sub(lambda m: f"{m.group(1)}:***", text)
        return _URL_PASSWORD.sub(r"\1:***@", text)


class _Filter(logging.Filter):
    def __init__(self, redact: Redactor) -> None:
        super().__init__()
        self._redact = redact
        self._formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self._redact(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self._redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self._redact(record.stack_info)
        return True


def configure(redact: Redactor, logger: logging.Logger | None = None) -> None:
    """Mask every record that reaches a handler of ``logger`` (default: the root logger)."""
    target = logger or logging.getLogger()
    for handler in target.handlers:
        if not any(isinstance(f, _Filter) for f in handler.filters):
            handler.addFilter(_Filter(redact))


def redactor(settings: Settings | None) -> Redactor:
    """A masker for every secret the settings hold (bot tokens and URL passwords always)."""
    if settings is None:
        return Redactor()
    secrets = (
        settings.telegram.token,
        settings.telegram.webhook_secret,
        settings.llm.api_key,
        settings.storage.qdrant_api_key,
        settings.embedding.api_key,
    )
    values = [s.get_secret_value() for s in secrets if s is not None]
    return Redactor([*values, settings.ingest.youtube_proxy])


def configure_logging(level: str, settings: Settings | None = None) -> Redactor:
    """Log to stderr at ``level`` with every secret of ``settings`` masked; returns the masker
    (for messages printed without logging)."""
    logging.basicConfig(
        level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # httpx logs every request URL at INFO, and Bot API URLs contain the token (masked anyway).
    for noisy in ("httpx", "httpx2", "httpcore", "httpcore2"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    redact = redactor(settings)
    configure(redact)
    return redact
