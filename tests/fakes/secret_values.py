"""The secrets the tests use, in one place: no output of any test may contain one of them.

``tests/conftest.py`` checks every test's captured stdout, stderr and log for them; the tests
that run the bot and the CLI as processes (``tests/test_processes.py``) check those outputs.
A token counts as leaked if its secret part (after the bot id) shows: the bot id is public.
"""

from __future__ import annotations

from tests.fakes.bot_api import TOKEN

__all__ = [
    "EMBEDDING_KEY",
    "LLM_KEY",
    "QDRANT_KEY",
    "SECRETS",
    "WEBHOOK_SECRET",
    "WRONG_TOKEN",
    "leaks",
]

LLM_KEY = "sk-test-SECRET-llm-7c1e5a90"
QDRANT_KEY = "qdrant-SECRET-key-93b2c4"
WEBHOOK_SECRET = "webhook-SECRET-5d7f11"
EMBEDDING_KEY = "emb-SECRET-key-41aa08"
WRONG_TOKEN = "987654321:AAWrongTokenForOfflineTests_SECRET_0042"

SECRETS = (TOKEN, WRONG_TOKEN, LLM_KEY, QDRANT_KEY, WEBHOOK_SECRET, EMBEDDING_KEY)


def _secret_part(value: str) -> str:
    return value.split(":", 1)[1] if value[:1].isdigit() and ":" in value else value


def leaks(text: str) -> list[str]:
    """The test secrets ``text`` shows (their secret part), masked for the failure message."""
    return [f"{s[:6]}…" for s in SECRETS if _secret_part(s) in text]
