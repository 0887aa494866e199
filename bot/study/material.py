"""A chat's sources in reading order, for the study tools: every chunk of a source, kept in
memory while the source is unchanged, plus what code can tell about it without a model.

Quizzes sample chunks across a source; next steps look at the chunks after the one an answer
cited (the next section, the next minutes of the video) for the terms of the source's term
list (``SourceRecord.terms``, built at ingestion by ``bot.glossary``).
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

from kernel.models import ChunkRole, SearchHit, SourceRecord
from storage.async_store import AsyncKnowledgeStore

__all__ = ["SKIPPED_SECTION", "Outline", "Outlines", "clean_heading", "content"]

SKIPPED_SECTION = re.compile(
    r"^\s*(?:[\dIVXA-Z]+(?:\.\d+)*\.?\s+)?(?:references?|bibliography|acknowledge?ments?|"
    r"appendix|appendices|supplementary|exercises?|参考文献|致谢|附录|习题|练习)",
    flags=re.IGNORECASE,
)
_NUMBERING = re.compile(
    r"^\s*(?:第\s*[\d一二三四五六七八九十]+\s*[章节部分]\s*|[\dIVX]+(?:\.\d+)*\.?\s+)"
)
_CACHED = 32  # sources kept in memory


def clean_heading(section: str | None) -> str | None:
    """A section heading without its numbering ("3.2.2 Multi-Head Attention" ->
    "Multi-Head Attention"); None for an empty or over-long one."""
    if not section:
        return None
    title = _NUMBERING.sub("", " ".join(section.split())).strip(" .:：")
    return title if 2 <= len(title) <= 60 else None


@dataclass(frozen=True)
class Outline:
    """One source (with its term list, ``source.terms``) and its chunks in reading order."""

    source: SourceRecord
    chunks: tuple[SearchHit, ...]

    def after(self, ordinal: int, count: int) -> Sequence[SearchHit]:
        """Up to ``count`` chunks that follow chunk ``ordinal``."""
        at = next((i for i, c in enumerate(self.chunks) if c.ordinal > ordinal), None)
        return () if at is None else self.chunks[at : at + count]


def content(chunks: Sequence[SearchHit]) -> list[SearchHit]:
    """The chunks that are the source's own prose: no bibliography, appendix or table cells."""
    return [
        c
        for c in chunks
        if c.role not in (ChunkRole.REFERENCES, ChunkRole.TABLE)
        and not SKIPPED_SECTION.match(c.section or "")
    ]


class Outlines:
    """``Outline``s of a chat's sources, read from the store once per version of a source."""

    def __init__(self, store: AsyncKnowledgeStore) -> None:
        self._store = store
        self._cache: OrderedDict[tuple[int, str], Outline] = OrderedDict()

    async def of(self, source: SourceRecord) -> Outline:
        """The outline of a ready source (re-read when the source was replaced)."""
        slot = (source.chat_id, source.source_id)
        cached = self._cache.get(slot)
        if cached is not None and cached.source.updated_at == source.updated_at:
            self._cache.move_to_end(slot)
            return cached
        chunks = tuple(await self._store.chunks(source.chat_id, source.source_id))
        outline = Outline(source, chunks)
        self._cache[slot] = outline
        while len(self._cache) > _CACHED:
            self._cache.popitem(last=False)
        return outline
