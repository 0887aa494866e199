"""Records the store keeps and returns: sources, search hits, notes, conversation turns."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from ingest.models import PaperMeta, SourceKind, VideoMeta

__all__ = [
    "Citation",
    "Note",
    "SearchHit",
    "SourceRecord",
    "SourceStatus",
    "Term",
    "Turn",
]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SourceStatus(StrEnum):
    INDEXING = "indexing"
    READY = "ready"
    FAILED = "failed"


class SourceRecord(_Frozen):
    """One ingested paper or video of one chat. Searchable only when ``status`` is READY."""

    chat_id: int
    source_id: str
    kind: SourceKind
    status: SourceStatus
    title: str
    paper: PaperMeta | None = None
    video: VideoMeta | None = None
    chunks: int = 0
    warnings: tuple[str, ...] = ()
    created_at: datetime
    updated_at: datetime


class SearchHit(_Frozen):
    """A retrieved chunk with the display info of its source."""

    rank: int = Field(ge=1)
    score: float
    chunk_id: str
    source_id: str
    kind: SourceKind
    title: str
    text: str
    ordinal: int
    page: int | None = None
    page_end: int | None = None
    section: str | None = None
    start_s: float | None = None
    end_s: float | None = None
    url: str | None = Field(default=None, description="video link that opens at start_s")


class Citation(_Frozen):
    """A numbered reference in an answer, resolved to the snippet it quotes."""

    n: int = Field(ge=1)
    source_id: str
    kind: SourceKind
    title: str
    snippet: str
    page: int | None = None
    start_s: float | None = None
    end_s: float | None = None
    url: str | None = None


class Term(_Frozen):
    """A key term an answer explained, in both languages where known."""

    en: str | None = None
    zh: str | None = None


class Note(_Frozen):
    """One question and its checked answer, kept for the report."""

    chat_id: int
    note_id: str
    question: str
    answer: str
    grounded: bool
    citations: tuple[Citation, ...] = ()
    terms: tuple[Term, ...] = ()
    lang: str = "zh"
    created_at: datetime


class Turn(_Frozen):
    """One message of the conversation history (``role`` is "user" or "assistant")."""

    chat_id: int
    turn_id: str
    role: str
    text: str
    created_at: datetime
