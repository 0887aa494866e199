"""The paper as printed: its figures and tables, and the passage a citation quotes, as images.

Used by both front doors. ``PageViewer`` lists a chat's figures (of its ready papers only),
finds the ones a student asks for ("给我看 Figure 1", "架构图") or the ones an answer's sources
point at, and renders images from the PDF kept at ingestion: a figure's crop (rendered once,
then kept) or a cited passage's region. Rendering runs in a child process
(``ingest.paper.pdf_process``), waited for in this service's own threads, a few at a time.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import re
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

from ingest.paper.pdf_process import render_regions_isolated
from kernel.errors import NotFoundError
from kernel.models import Box, Citation, Figure, FigureKind, SourceKind, SourceStatus
from storage.async_store import AsyncKnowledgeStore
from storage.paper_files import PaperFiles

__all__ = ["FigureQuery", "PageViewer", "figure_number", "figure_query", "relevant_figures"]

T = TypeVar("T")

_LABEL = re.compile(
    r"(?<![A-Za-z])(?P<word>figure|fig\.?|table|tab\.?|图|表)\s*"
    r"(?P<num>(?:[A-Z]\.?)?\d{1,3}(?:[.\-]\d{1,3})*[a-z]?)",
    re.I,
)
_SHOW = re.compile(
    r"给我看|看看|看一下|看下|瞧瞧|显示|展示|发一?下?|发给我|打开|找一?下?|在哪|"
    r"\b(?:show|display|send|open|see|view|where\s+is)\b",
    re.I,
)
# Kinds of diagram a student names without a number, and caption words that signal them.
_KINDS: tuple[tuple[re.Pattern[str], re.Pattern[str]], ...] = (
    (
        re.compile(r"架构图|结构图|框架图|模型图|architecture|model\s+diagram|structure", re.I),
        re.compile(r"architect|structure|framework|overview|\bmodel\b|架构|结构|框架|模型", re.I),
    ),
    (
        re.compile(r"流程图|pipeline|flow\s*chart|workflow|步骤图", re.I),
        re.compile(r"pipeline|procedure|steps?\b|process|flow|diagram|流程|步骤", re.I),
    ),
    (
        re.compile(r"示意图|diagram|illustration", re.I),
        re.compile(r"diagram|illustrat|overview|schematic|example|示意|示例", re.I),
    ),
)
_MAX_OFFERED = 2


@dataclass(frozen=True)
class FigureQuery:
    """What a message asks to see: a numbered figure/table, or a kind of diagram."""

    kind: FigureKind | None = None
    number: str | None = None
    caption: re.Pattern[str] | None = None


def figure_number(label: str) -> str | None:
    """The number in a printed label: "Figure 1" -> "1", "图8.1" -> "8.1"."""
    m = _LABEL.search(label)
    return m.group("num").lower() if m else None


def _kind(word: str) -> FigureKind:
    w = word.lower()
    return FigureKind.TABLE if w.startswith("tab") or w == "表" else FigureKind.FIGURE


def figure_query(text: str) -> FigureQuery | None:
    """The figure a message asks to *see*, or None for anything else (a question about a
    figure is a question: it is answered, and the figure offered under the answer)."""
    t = text.strip()
    if not t or len(t) > 60:
        return None
    label = _LABEL.search(t)
    rest = _LABEL.sub("", t) if label else t
    showing = _SHOW.search(t) is not None
    if label is not None:
        alone = re.fullmatch(r"[\W_]*(?:请|please)?[\W_]*", _SHOW.sub("", rest), re.I)
        if showing or alone:
            return FigureQuery(_kind(label.group("word")), label.group("num").lower())
        return None
    for named, caption in _KINDS:
        if named.search(t):
            words = named.sub("", _SHOW.sub("", t))
            if showing or re.fullmatch(
                r"[\W_]*(?:的|the|a|论文|paper|请|please|\s)*[\W_]*", words, re.I
            ):
                return FigureQuery(FigureKind.FIGURE, None, caption)
    return None


def _matches(query: FigureQuery, figures: Sequence[Figure]) -> list[Figure]:
    if query.number is not None:
        return [
            f for f in figures if f.kind is query.kind and figure_number(f.label) == query.number
        ]
    assert query.caption is not None
    pattern = query.caption
    found = [f for f in figures if f.kind is FigureKind.FIGURE and pattern.search(f.caption)]
    return found[:1]


def relevant_figures(
    figures: Sequence[Figure], citations: Sequence[Citation], answer: str = ""
) -> list[Figure]:
    """The figures an answer points at, best first (at most two): a cited caption, a figure
    named in the answer or a cited snippet ("Figure 2", "图8.1"), then one printed on a cited
    page of the same paper."""
    cited = [c for c in citations if c.kind is SourceKind.PAPER]
    chosen: list[Figure] = []

    def add(found: Iterable[Figure]) -> None:
        for f in found:
            if f not in chosen:
                chosen.append(f)

    for c in cited:
        add(
            f
            for f in figures
            if f.source_id == c.source_id and c.snippet.startswith(f.caption[:40])
        )
    named = {(_kind(m.group("word")), m.group("num").lower()) for m in _LABEL.finditer(answer)}
    for c in cited:
        named |= {
            (_kind(m.group("word")), m.group("num").lower()) for m in _LABEL.finditer(c.snippet)
        }
    sources = {c.source_id for c in cited}
    add(f for f in figures if f.source_id in sources and (f.kind, figure_number(f.label)) in named)
    pages = {(c.source_id, c.page) for c in cited}
    add(f for f in figures if (f.source_id, f.page) in pages)
    return chosen[:_MAX_OFFERED]


class PageViewer:
    """Figures, tables and cited passages of a chat's papers, as images."""

    def __init__(self, store: AsyncKnowledgeStore, files: PaperFiles, *, renders: int = 2) -> None:
        """``renders``: images rendered at once (each in a child process)."""
        self._store = store
        self._files = files
        self._renders = max(1, renders)
        self._pool = ThreadPoolExecutor(self._renders + 1, thread_name_prefix="pages")
        self._gate: asyncio.Semaphore | None = None

    async def _run(self, fn: Callable[[], T]) -> T:
        call = functools.partial(contextvars.copy_context().run, fn)
        return await asyncio.get_running_loop().run_in_executor(self._pool, call)

    async def _render(self, pdf: bytes, boxes: Sequence[Box], *, pad: bool = True) -> bytes:
        if self._gate is None:
            self._gate = asyncio.Semaphore(self._renders)
        async with self._gate:
            return await self._run(lambda: render_regions_isolated(pdf, boxes, pad=pad))

    def close(self) -> None:
        self._pool.shutdown(wait=False)

    async def _ready(self, chat_id: int) -> set[str]:
        sources = await self._store.sources(chat_id)
        return {s.source_id for s in sources if s.status is SourceStatus.READY}

    async def figures(self, chat_id: int) -> list[Figure]:
        """Every figure and table of the chat's ready papers."""
        ready = await self._ready(chat_id)
        return await self._run(lambda: self._files.figures(chat_id, ready))

    async def figure(self, chat_id: int, figure_id: str) -> Figure:
        """One figure; ``NotFoundError`` if the chat has no such figure (any more)."""
        found = await self._run(lambda: self._files.figure(chat_id, figure_id))
        if found is None or found.source_id not in await self._ready(chat_id):
            raise NotFoundError("figure", figure_id=figure_id)
        return found

    async def find(self, chat_id: int, query: FigureQuery) -> list[Figure]:
        """The figures a request names (none if the paper has no such figure)."""
        return _matches(query, await self.figures(chat_id))

    async def for_answer(
        self, chat_id: int, citations: Sequence[Citation], answer: str = ""
    ) -> list[Figure]:
        """The figures worth offering under an answer (see ``relevant_figures``)."""
        if not any(c.kind is SourceKind.PAPER for c in citations):
            return []
        return relevant_figures(await self.figures(chat_id), citations, answer)

    async def image(self, figure: Figure) -> bytes:
        """The figure's crop as a PNG (rendered the first time, then kept)."""
        cached = await self._run(lambda: self._files.image(figure))
        if cached is not None:
            return cached
        pdf = await self._original(figure.chat_id, figure.source_id)
        png = await self._render(pdf, [(figure.page, *figure.bbox)], pad=False)
        await self._run(lambda: self._files.put_image(figure, png))
        return png

    async def passage(self, chat_id: int, source_id: str, boxes: Sequence[Box]) -> bytes:
        """The printed region of a cited chunk as a PNG (its boxes stacked in order)."""
        if not boxes:
            raise NotFoundError("original")
        return await self._render(await self._original(chat_id, source_id), boxes)

    async def _original(self, chat_id: int, source_id: str) -> bytes:
        pdf = await self._run(lambda: self._files.original(chat_id, source_id))
        if pdf is None:
            raise NotFoundError("original")
        return pdf
