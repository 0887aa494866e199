"""Cut a paper's paragraphs into retrieval-sized, sentence-aligned chunks.

Chunks never cross a section heading, never cut a sentence (unless the sentence alone is
longer than ``max_chars``), remember the page span they come from and where on the pages they
are printed, and repeat the last sentence of the previous chunk (a small overlap) so a thought
cut at a boundary is still findable. Chunks of the bibliography are marked as such
(``ChunkRole.REFERENCES``): search leaves them out of prose answers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ingest.text import is_cjk, split_sentences
from kernel.models import Box, Chunk, ChunkRole

__all__ = ["Block", "PrintedLine", "chunk_blocks", "merge_boxes"]

PrintedLine = tuple[int, int, float, float, float, float]
"""(character offset in the block's text where the line starts, page, x0, y0, x1, y1)."""

_MAX_BOXES = 4  # per page; more are merged into one
_REFERENCES = re.compile(
    r"^(?:[A-Z\d]{1,3}\.?\s*)?(?:references|bibliography|literature cited|参\s*考\s*文\s*献)$",
    re.I,
)


@dataclass(frozen=True)
class Block:
    """A paragraph of a page, or (``heading=True``) a section heading that starts a section."""

    text: str
    page: int
    heading: bool = False
    # (character offset, page) where a paragraph continued onto a later page
    breaks: tuple[tuple[int, int], ...] = ()
    lines: tuple[PrintedLine, ...] = ()  # where each line of the text is printed

    def boxes_between(self, start: int, end: int) -> list[Box]:
        """The printed lines holding characters ``start`` to ``end`` (exclusive)."""
        out: list[Box] = []
        for i, (at, page, x0, y0, x1, y1) in enumerate(self.lines):
            stop = self.lines[i + 1][0] if i + 1 < len(self.lines) else len(self.text)
            if at < end and stop > start:
                out.append((page, x0, y0, x1, y1))
        return out

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
    boxes: tuple[Box, ...] = ()


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


def merge_boxes(boxes: Sequence[Box]) -> tuple[Box, ...]:
    """Line boxes merged into one box per page and column: lines of one column stack up; a
    line beside them (the other column) starts a box of its own. Rounded to 0.1 pt."""
    merged: list[list[float]] = []  # [page, x0, y0, x1, y1]
    for page, x0, y0, x1, y1 in boxes:
        for m in merged:
            if m[0] != page:
                continue
            overlap = min(x1, m[3]) - max(x0, m[1])
            near = y0 <= m[4] + 2 * (y1 - y0) and y1 >= m[2] - 2 * (y1 - y0)
            if overlap > 0.5 * min(x1 - x0, m[3] - m[1]) and near:
                m[1:] = [min(x0, m[1]), min(y0, m[2]), max(x1, m[3]), max(y1, m[4])]
                break
        else:
            merged.append([page, x0, y0, x1, y1])
    per_page: dict[int, list[list[float]]] = {}
    for m in merged:
        per_page.setdefault(int(m[0]), []).append(m)
    out: list[Box] = []
    for page, ms in per_page.items():
        if len(ms) > _MAX_BOXES:  # scattered words (a diagram's labels): one box for the page
            ms = [
                [page, *(f(m[i] for m in ms) for i, f in ((1, min), (2, min), (3, max), (4, max)))]
            ]
        out.extend(
            (page, round(m[1], 1), round(m[2], 1), round(m[3], 1), round(m[4], 1)) for m in ms
        )
    return tuple(out)


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
            references = section is not None and _REFERENCES.match(section) is not None
            chunks.append(
                Chunk(
                    ordinal=len(chunks),
                    text=_join(current),
                    page=current[0].page,
                    page_end=max(u.page_end for u in current),
                    section=section,
                    boxes=merge_boxes([b for u in current for b in u.boxes]),
                    role=ChunkRole.REFERENCES if references else None,
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
            boxes = tuple(block.boxes_between(pos, pos + len(sentence)))
            unit = _Unit(sentence, block.page_at(pos), end, para, boxes)
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
