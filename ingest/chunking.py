"""Cut a paper's paragraphs into retrieval-sized, sentence-aligned chunks.

Chunks never cross a section heading, never cut a sentence (unless the sentence alone is
longer than ``max_chars``), remember the page span they come from, and repeat the last sentence
of the previous chunk (a small overlap) so a thought cut at a boundary is still findable.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ingest.text import is_cjk, split_sentences
from kernel.models import Chunk

__all__ = ["Block", "chunk_blocks"]


@dataclass(frozen=True)
class Block:
    """A paragraph of a page, or (``heading=True``) a section heading that starts a section."""

    text: str
    page: int
    heading: bool = False
    # (character offset, page) where a paragraph continued onto a later page
    breaks: tuple[tuple[int, int], ...] = ()

    def page_at(self, offset: int) -> int:
        """The page the character at ``offset`` is printed on."""
        page = self.page
        for at, later in self.breaks:
            if offset >= at:
                page = later
        return page


@dataclass(frozen=True)
class _Unit:
    text: str
    page: int
    page_end: int
    para: int  # paragraph number, to join sentences of one paragraph with a space


def _join(units: list[_Unit]) -> str:
    out = ""
    for i, u in enumerate(units):
        if i == 0:
            out = u.text
        elif u.para != units[i - 1].para:
            out += "\n" + u.text
        elif is_cjk(out[-1]) or is_cjk(u.text[0]):
            out += u.text
        else:
            out += " " + u.text
    return out


def _size(units: list[_Unit]) -> int:
    return sum(len(u.text) + 1 for u in units)


def chunk_blocks(
    blocks: Iterable[Block],
    *,
    target_chars: int = 1000,
    max_chars: int = 1200,
    overlap_sentences: int = 1,
) -> list[Chunk]:
    """Group sentences into chunks of about ``target_chars`` (at most ``max_chars``).

    A chunk closes once it reaches ``target_chars``, when the next sentence would overflow
    ``max_chars``, or at a heading. The next chunk in the same section starts with the last
    ``overlap_sentences`` sentences of the previous one, if they are short (under a quarter
    of the target)."""
    if not 0 < target_chars <= max_chars:
        raise ValueError("need 0 < target_chars <= max_chars")
    chunks: list[Chunk] = []
    section: str | None = None
    current: list[_Unit] = []
    fresh = 0  # units in ``current`` that are not overlap from the previous chunk

    def close(keep_overlap: bool) -> None:
        nonlocal current, fresh
        if fresh:
            chunks.append(
                Chunk(
                    ordinal=len(chunks),
                    text=_join(current),
                    page=current[0].page,
                    page_end=max(u.page_end for u in current),
                    section=section,
                )
            )
        tail = current[-overlap_sentences:] if keep_overlap and overlap_sentences > 0 else []
        current = tail if tail and _size(tail) <= target_chars // 4 else []
        fresh = 0

    for para, block in enumerate(blocks):
        text = block.text.strip()
        if not text:
            continue
        if block.heading:
            close(keep_overlap=False)
            section = text
            continue
        pos = 0
        for sentence in split_sentences(text, max_len=max_chars):
            found = block.text.find(sentence, pos)
            pos = found if found >= 0 else pos
            end = block.page_at(pos + len(sentence) - 1)
            unit = _Unit(sentence, block.page_at(pos), end, para)
            if fresh and _size([*current, unit]) > max_chars:
                close(keep_overlap=True)
                if _size([*current, unit]) > max_chars:
                    current = []
            current.append(unit)
            fresh += 1
            if _size(current) >= target_chars:
                close(keep_overlap=True)
    close(keep_overlap=False)
    return chunks
