"""Labelled snippets the model may cite, and the check that every marker it wrote resolves.

The model sees snippets as ``S3 [论文 p.5]`` followed by the text and must copy the marker.
``check_citations`` then rewrites the draft: markers that resolve to a given snippet become the
canonical form (``[论文 p.5]``, ``[视频 12:34]``), near misses that resolve unambiguously are
fixed (``[S3]``, ``【论文 第5页】``, ``[Paper p. 5, 7]``, ``[视频 1:02:03]``), everything else that
looks like a citation is removed. Ordinary brackets (``[CLS]``, ``（2017）``) are left alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bot.fence import fence
from kernel.locators import format_timestamp
from kernel.models import SourceKind

__all__ = ["Snippet", "check_citations", "format_snippets", "paper_marker"]


def paper_marker(page: int) -> str:
    return f"[论文 p.{page}]"


def _video_marker(seconds: float) -> str:
    return f"[视频 {format_timestamp(seconds)}]"


@dataclass(frozen=True)
class Snippet:
    """One citable passage: a paper chunk (pages) or a transcript chunk (seconds)."""

    sid: str
    kind: SourceKind
    text: str
    page: int | None = None
    page_end: int | None = None
    start_s: float | None = None
    end_s: float | None = None

    @property
    def marker(self) -> str:
        if self.kind is SourceKind.PAPER:
            return paper_marker(self.page or 1)
        if self.start_s is None:
            return "[视频]"
        return _video_marker(self.start_s)

    def covers_page(self, page: int) -> bool:
        if self.kind is not SourceKind.PAPER or self.page is None:
            return False
        return self.page <= page <= (self.page_end or self.page)

    def covers_time(self, seconds: float) -> bool:
        if self.kind is not SourceKind.VIDEO or self.start_s is None:
            return False
        end = self.end_s if self.end_s is not None else self.start_s
        # Timestamps are written to the second: allow the rounding either side.
        return self.start_s - 1.0 <= seconds <= end + 1.0


def format_snippets(snippets: Iterable[Snippet], *, max_chars: int = 900) -> str:
    """The snippet block of a prompt: each snippet fenced with its id and the marker to copy,
    its text shortened."""
    blocks = []
    for s in snippets:
        text = " ".join(s.text.split())
        if len(text) > max_chars:
            text = text[:max_chars].rstrip() + "……"
        blocks.append(fence("snippet", text, id=s.sid, marker=s.marker))
    return "\n\n".join(blocks)


# A bracketed span that might be a citation; the content decides whether it is one.
_BRACKETED = re.compile(
    r"\[([^\[\]\n]{1,60})\]|【([^【】\n]{1,60})】|[（(]([^（）()\[\]【】\n]{1,60})[）)]"
)
_PAPER_WORD = re.compile(r"论文|原文|paper|文献", re.IGNORECASE)
_VIDEO_WORD = re.compile(r"视频|video|讲解|字幕", re.IGNORECASE)
_PAGE = re.compile(
    r"(?:(?<![A-Za-z])pp?\.?\s*|(?<![A-Za-z])pages?\s*)(\d{1,4})|(\d{1,4})\s*页", re.IGNORECASE
)
_NUMBER = re.compile(r"(?<![\d.])(\d{1,4})(?![\d.:])")
_TIME = re.compile(r"(?<!\d)(\d{1,2}):(\d{2})(?::(\d{2}))?(?!\d)")
_SID = re.compile(r"^\s*S(\d{1,3})\s*$", re.IGNORECASE)
_BACKGROUND = re.compile(r"^\s*背景知识\s*$")


def _seconds(match: re.Match[str]) -> float:
    a, b, c = match.group(1), match.group(2), match.group(3)
    if c is not None:
        return int(a) * 3600 + int(b) * 60 + int(c)
    return int(a) * 60 + int(b)


def _looks_like_citation(content: str, strict: bool) -> bool:
    """Square brackets: anything citation-like. Parentheses: only with 论文/视频 named."""
    if _SID.match(content):
        return True
    named = bool(_PAPER_WORD.search(content) or _VIDEO_WORD.search(content))
    if strict:
        return named and bool(_PAGE.search(content) or _TIME.search(content))
    if named:
        return True
    bare = r"\s*(?:(?:pp?\.?|pages?)\s*\d+|第?\s*\d+\s*页|\d{1,2}:\d{2}(?::\d{2})?|\d+)\s*"
    return bool(re.fullmatch(bare, content, re.IGNORECASE))


def _resolve_place(part: str, kind: SourceKind | None, snippets: Sequence[Snippet]) -> str | None:
    """The canonical marker of one page or time reference (``kind``: what the bracket named
    so far), or None when it points at no snippet."""
    time = _TIME.search(part)
    if time and kind is not SourceKind.PAPER:
        seconds = _seconds(time)
        return _video_marker(seconds) if any(s.covers_time(seconds) for s in snippets) else None
    if kind is not SourceKind.VIDEO and not time:
        # A bare number is a page only when the bracket names the paper ("[论文 5]").
        page = _PAGE.search(part) or (_NUMBER.search(part) if kind else None)
        if page:
            number = int(page.group(page.lastindex or 1))
            return paper_marker(number) if any(s.covers_page(number) for s in snippets) else None
    if kind is SourceKind.VIDEO and not re.search(r"\d", part):
        untimed = [s for s in snippets if s.kind is SourceKind.VIDEO and s.start_s is None]
        return "[视频]" if untimed else None
    return None


def _resolve(content: str, snippets: Sequence[Snippet]) -> list[str]:
    """Canonical markers for the valid references inside one bracket (maybe none)."""
    by_sid = {s.sid.upper(): s for s in snippets}
    found: list[str] = []
    kind: SourceKind | None = None
    for part in re.split(r"[,，;；、]|\band\b|和", content):
        sid = _SID.match(part)
        if sid:
            hit = by_sid.get(f"S{int(sid.group(1))}")
            if hit is not None:
                found.append(hit.marker)
            continue
        if _VIDEO_WORD.search(part):
            kind = SourceKind.VIDEO
        elif _PAPER_WORD.search(part):
            kind = SourceKind.PAPER
        marker = _resolve_place(part, kind, snippets)
        if marker is not None:
            found.append(marker)
    return list(dict.fromkeys(found))


def check_citations(text: str, snippets: Sequence[Snippet]) -> tuple[str, int]:
    """Keep markers that resolve to ``snippets`` (canonical form), drop the rest.

    Returns the rewritten text and the number of valid markers in it.
    """
    count = 0

    def replace(match: re.Match[str]) -> str:
        nonlocal count
        square, lenticular, paren = match.group(1), match.group(2), match.group(3)
        content = square if square is not None else lenticular
        strict = content is None
        if content is None:
            content = paren
        if _BACKGROUND.match(content):
            return "（背景知识）"
        if not _looks_like_citation(content, strict):
            return match.group(0)
        markers = _resolve(content, snippets)
        count += len(markers)
        return "".join(markers)

    out = _BRACKETED.sub(replace, text)
    # A removed marker can leave "文本 。" or doubled spaces behind.
    out = re.sub(r"[ \t]+([，。；：！？、])", r"\1", out)
    out = re.sub(r"[ \t]{2,}", " ", out)
    return out, count


def count_markers(text: str) -> int:
    """How many canonical markers ``text`` holds (after ``check_citations``)."""
    return len(re.findall(r"\[(?:论文 p\.\d+|视频(?: \d{1,2}:\d{2}(?::\d{2})?)?)\]", text))
