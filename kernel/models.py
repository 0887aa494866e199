"""The value objects every layer shares: what ingestion produces and what the store keeps.

All frozen pydantic models. Ingestion produces ``ParsedSource`` (``Chunk``s with ``PaperMeta`` or
``VideoMeta``); the store keeps ``SourceRecord``s, returns ``SearchHit``s and keeps the chat's
``Note``s (with their ``Citation``s and ``Term``s) and conversation ``Turn``s.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "Chunk",
    "Citation",
    "Note",
    "PaperMeta",
    "ParsedSource",
    "SearchHit",
    "SourceKind",
    "SourceRecord",
    "SourceStatus",
    "Term",
    "Turn",
    "VideoMeta",
]


class SourceKind(StrEnum):
    PAPER = "paper"
    VIDEO = "video"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Chunk(_Frozen):
    """One retrievable passage of a source.

    Papers fill ``page`` (1-based) and ``page_end`` (same page unless the chunk spans pages) and
    ``section`` when a heading was detected. Videos fill ``start_s``/``end_s`` (seconds; both
    None for a plain-text transcript without times).
    """

    ordinal: int = Field(ge=0, description="position of the chunk in its source, 0-based")
    text: str
    page: int | None = None
    page_end: int | None = None
    section: str | None = None
    start_s: float | None = None
    end_s: float | None = None


class PaperMeta(_Frozen):
    """What the paper says about itself. ``None`` / empty means unknown, never a guess."""

    title: str | None = None
    authors: tuple[str, ...] = ()
    affiliations: tuple[str, ...] = ()
    venue: str | None = None
    year: int | None = None
    arxiv_id: str | None = None
    doi: str | None = None
    link: str | None = None
    abstract: str | None = None
    pages: int = 0
    filename: str | None = None


class VideoMeta(_Frozen):
    """A lecture video known only through its transcript."""

    title: str
    url: str | None = None
    video_id: str | None = None
    platform: str | None = Field(default=None, description='"youtube", "bilibili" or None')
    language: str | None = None
    auto_generated: bool | None = None
    duration_s: float | None = None
    filename: str | None = None


class ParsedSource(_Frozen):
    """A source ready to be indexed.

    ``fingerprint`` identifies the content (sha256 of the file bytes, or ``youtube:<id>``), so
    ingesting the same thing again in the same chat yields the same source id and replaces it.
    ``warnings`` are things the student should be told (e.g. pages without a text layer).
    """

    kind: SourceKind
    fingerprint: str
    paper: PaperMeta | None = None
    video: VideoMeta | None = None
    chunks: tuple[Chunk, ...]
    warnings: tuple[str, ...] = ()

    @property
    def title(self) -> str:
        if self.paper is not None:
            return self.paper.title or self.paper.filename or "Untitled paper"
        if self.video is not None:
            return self.video.title
        return "Untitled"


# -- what the store keeps and returns ---------------------------------------------------------


class SourceStatus(StrEnum):
    INDEXING = "indexing"
    READY = "ready"
    FAILED = "failed"


class SourceRecord(_Frozen):
    """One ingested paper or video of one chat. Searchable only when ``status`` is READY.

    Its chunks are those of ``generation`` (each indexing of a source is a new generation; 0 is
    a source stored before generations existed, whose chunks carry none). While a new version
    is indexed beside the live one, ``pending`` names its generation; the record is rewritten
    in one write to make it live, so a crash at any point leaves the previous version READY.
    """

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
    generation: int = Field(default=0, ge=0)
    pending: int | None = Field(default=None, ge=1)
    pending_since: datetime | None = None


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
