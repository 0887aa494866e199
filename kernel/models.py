"""The value objects every layer shares: what ingestion produces and what the store keeps.

All frozen pydantic models. Ingestion produces ``ParsedSource`` (``Chunk``s with ``PaperMeta`` or
``VideoMeta``); the store keeps ``SourceRecord``s, returns ``SearchHit``s and keeps the chat's
``Note``s (with their ``Citation``s and ``Term``s) and conversation ``Turn``s. The study tools
add ``QuizQuestion``s (kept as ``QuizItem``s with the student's answer) and the chat's
``ChatGlossary`` of ``GlossaryEntry``s.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "Box",
    "ChatGlossary",
    "Chunk",
    "ChunkRole",
    "Citation",
    "Figure",
    "FigureKind",
    "GlossaryEntry",
    "Note",
    "PageFigure",
    "PaperMeta",
    "ParsedSource",
    "QuizItem",
    "QuizQuestion",
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


class ChunkRole(StrEnum):
    """What a paper chunk is when it is not body prose (body prose has no role)."""

    REFERENCES = "references"  # the bibliography: for "which paper is [12]?", not as prose
    FIGURE = "figure"  # a figure's caption
    TABLE = "table"  # a table's caption (and the text of its cells)


class FigureKind(StrEnum):
    FIGURE = "figure"
    TABLE = "table"


Box = tuple[int, float, float, float, float]
"""A region of a paper page: (page, x0, y0, x1, y1) in PDF points, origin top left."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Chunk(_Frozen):
    """One retrievable passage of a source.

    Papers fill ``page`` (1-based) and ``page_end`` (same page unless the chunk spans pages),
    ``section`` when a heading was detected, ``boxes`` (where the text is printed, one box per
    page and column) and ``role`` for what is not body prose. Videos fill ``start_s``/``end_s``
    (seconds; both None for a plain-text transcript without times).
    """

    ordinal: int = Field(ge=0, description="position of the chunk in its source, 0-based")
    text: str
    page: int | None = None
    page_end: int | None = None
    section: str | None = None
    start_s: float | None = None
    end_s: float | None = None
    boxes: tuple[Box, ...] = ()
    role: ChunkRole | None = None


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
    """A lecture video known only through its transcript.

    ``auto_generated``: the platform's automatic captions were used. ``transcribed``: there were
    no captions, so the bot recognised the speech itself with ``asr_model``; ``language`` is then
    the language it detected. Both say the text is a machine's hearing, not a person's.
    """

    title: str
    url: str | None = None
    video_id: str | None = None
    platform: str | None = Field(
        default=None,
        description='"youtube", "bilibili", another site\'s downloader name, or None (a file)',
    )
    language: str | None = None
    auto_generated: bool | None = None
    duration_s: float | None = None
    filename: str | None = None
    transcribed: bool = False
    asr_model: str | None = None
    uploader: str | None = None


class PageFigure(_Frozen):
    """A figure or table found on a paper page at ingestion.

    ``label`` is as printed ("Figure 1", "Table 3", "图8.1"); ``bbox`` is the region to crop
    (without the caption), in PDF points. The crop itself is rendered from the kept PDF when
    it is first shown (rendering every figure at ingestion would double the parsing time).
    """

    kind: FigureKind
    label: str
    caption: str
    page: int = Field(ge=1)
    bbox: tuple[float, float, float, float]


class Figure(_Frozen):
    """A stored figure or table of one chat's paper."""

    chat_id: int
    source_id: str
    figure_id: str
    kind: FigureKind
    label: str
    caption: str
    page: int
    bbox: tuple[float, float, float, float]


class Term(_Frozen):
    """A technical term in both languages where known: a key term of an answer's note, or an
    entry of a source's term list. ``aliases``: other ways the source writes it (abbreviations
    such as "RLHF", symbols such as "d_k")."""

    en: str | None = None
    zh: str | None = None
    aliases: tuple[str, ...] = ()


class ParsedSource(_Frozen):
    """A source ready to be indexed.

    ``fingerprint`` identifies the content (sha256 of the file bytes, or ``youtube:<id>``), so
    ingesting the same thing again in the same chat yields the same source id and replaces it.
    ``warnings`` are things the student should be told (e.g. pages without a text layer).
    ``figures`` are a paper's figures and tables with their crops.
    ``terms``: the source's bilingual term list (``bot.glossary`` fills it in after parsing;
    the store keeps it on the ``SourceRecord``).
    """

    kind: SourceKind
    fingerprint: str
    paper: PaperMeta | None = None
    video: VideoMeta | None = None
    chunks: tuple[Chunk, ...]
    warnings: tuple[str, ...] = ()
    figures: tuple[PageFigure, ...] = ()
    terms: tuple[Term, ...] = ()

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
    terms: tuple[Term, ...] = Field(
        default=(),
        description="the source's bilingual term list, for expanding questions without a model",
    )
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
    url: str | None = Field(
        default=None, description="video link that opens at start_s, or the paper's page link"
    )
    boxes: tuple[Box, ...] = ()
    role: ChunkRole | None = None
    transcribed: bool = Field(default=False, description="a machine-recognised transcript")


class Citation(_Frozen):
    """A numbered reference in an answer, resolved to the snippet it quotes.

    ``support``: how strongly the snippet supports the sentences citing it (the lowest of their
    support-check scores, 0..1); None when it was not checked (a snippet listed under an answer
    that cites nothing, or a note stored before the check existed).
    """

    n: int = Field(ge=1)
    source_id: str
    kind: SourceKind
    title: str
    snippet: str
    page: int | None = None
    start_s: float | None = None
    end_s: float | None = None
    url: str | None = None
    boxes: tuple[Box, ...] = Field(default=(), description="where the cited chunk is printed")
    support: float | None = Field(default=None, ge=0, le=1)
    transcribed: bool = False


class Note(_Frozen):
    """One question and its checked answer, kept for the report. A re-explanation ("simpler",
    "an example") replaces the answer of its question's note; ``starred`` notes come first in
    the report."""

    chat_id: int
    note_id: str
    question: str
    answer: str
    grounded: bool
    citations: tuple[Citation, ...] = ()
    terms: tuple[Term, ...] = ()
    lang: str = "zh"
    created_at: datetime
    starred: bool = False


class Turn(_Frozen):
    """One message of the conversation history (``role`` is "user" or "assistant")."""

    chat_id: int
    turn_id: str
    role: str
    text: str
    created_at: datetime


# -- study tools: quizzes and the glossary ----------------------------------------------------


class QuizQuestion(_Frozen):
    """One checked multiple-choice question; every field fits a Telegram quiz poll.

    ``correct_option_id`` indexes ``options`` (0-based); ``explanation`` ends with where the
    answer is (page or video time); ``citations`` holds the snippet that supports the answer.
    """

    question: str
    options: tuple[str, ...]
    correct_option_id: int = Field(ge=0)
    explanation: str
    citations: tuple[Citation, ...] = ()
    difficulty: str = Field(default="medium", description='"easy", "medium" or "hard"')


class QuizItem(_Frozen):
    """A quiz question as asked in a chat (one of a round), and the first answer it got."""

    chat_id: int
    quiz_id: str
    round_id: str
    question: QuizQuestion
    lang: str = "zh"
    asked_at: datetime
    chosen: int | None = None
    correct: bool | None = None
    answered_at: datetime | None = None


class GlossaryEntry(Term):
    """A ``Term`` of the student's glossary (``/terms``): both names where known, one line of
    explanation, and the snippets where the student met it."""

    explanation: str = ""
    citations: tuple[Citation, ...] = ()


class ChatGlossary(_Frozen):
    """The student's glossary of a chat, built from its notes (not a source's term list: that
    is ``SourceRecord.terms``); ``fingerprint`` names those notes, so the
    glossary is kept until they change."""

    chat_id: int
    lang: str
    fingerprint: str
    entries: tuple[GlossaryEntry, ...] = ()
    built_at: datetime
