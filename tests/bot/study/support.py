"""Material for the study-tool tests: the generated sparse-attention paper (parsed by the real
PDF parser, with its sections), the English lecture subtitles and notes citing them. The real
store and ``openai`` client against the fake model server are fixtures (``conftest.py``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.citations import build_citations
from kernel.models import Note, SearchHit, SourceKind, Term
from storage.store import KnowledgeStore

__all__ = [
    "CHAT",
    "OTHER",
    "VIDEO_URL",
    "chunk",
    "note",
    "prompt_of",
    "user_text",
]

CHAT, OTHER = 11, 12
VIDEO_URL = "https://www.youtube.com/watch?v=dQw4w9WgXcQ"
_T0 = datetime(2026, 1, 1, tzinfo=UTC)


def chunk(core: KnowledgeStore, needle: str, chat: int = CHAT) -> SearchHit:
    """The stored chunk whose text contains ``needle``."""
    for source in core.sources(chat):
        for hit in core.chunks(chat, source.source_id):
            if needle in hit.text:
                return hit
    raise AssertionError(f"no chunk holds {needle!r}")


def note(
    core: KnowledgeStore,
    question: str,
    cited: Sequence[SearchHit],
    terms: Sequence[tuple[str | None, str | None]] = (),
    *,
    chat: int = CHAT,
) -> Note:
    """A stored note whose answer cites ``cited`` (as the answerer cites: trimmed snippets)."""
    made = Note(
        chat_id=chat,
        note_id=f"note-{len(core.notes(chat)) + 1}",
        question=question,
        answer="回答 [1]。",
        grounded=True,
        citations=build_citations(range(1, len(cited) + 1), cited),
        terms=tuple(Term(en=en, zh=zh) for en, zh in terms),
        lang="zh",
        created_at=_T0 + timedelta(minutes=len(core.notes(chat))),
    )
    core.put_note(made)
    return made


def prompt_of(body: dict[str, Any]) -> str:
    """The last user message of a chat-completions request body."""
    return str(body["messages"][-1]["content"])


def user_text(body: dict[str, Any]) -> str:
    """Every user message of a request body (a second try repeats none of the snippets)."""
    return "\n".join(str(m["content"]) for m in body["messages"] if m["role"] == "user")


PAPER, VIDEO = SourceKind.PAPER, SourceKind.VIDEO
