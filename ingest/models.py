"""Value objects that ingestion produces and storage persists.

All frozen; ``storage`` may import this module (and ``errors``), never the parsers.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "Chunk",
    "PaperMeta",
    "ParsedSource",
    "SourceKind",
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
