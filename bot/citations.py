"""Checks the citation markers a model wrote against the snippets it was actually given.

A marker ``[n]`` is valid only if snippet ``n`` was in the prompt. Anything else the model
writes (``[9]`` with five snippets, ``[0]``, ranges like ``[1-3]``, lists like ``[1, 2]``,
full-width ``［1］`` / ``【1】``) is normalised to plain ``[n]`` markers or removed, and the
answer is flagged. Valid citations are renumbered 1, 2, 3... in order of first use, so the
student sees only the snippets the answer really cites.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from kernel.models import Citation, SearchHit

__all__ = ["SNIPPET_CHARS", "CheckedText", "build_citations", "check_citations", "trim_snippet"]

SNIPPET_CHARS = 300  # how much of a snippet a citation quotes
MAX_RANGE = 6  # "[1-3]" is expanded; a wider range is more likely a mistake than a citation

_OPEN = r"\[［【"
_CLOSE = r"\]］】"
_SEP = r"[,，、;；]"
_DASH = r"[-–—~～]"
_MARKER = re.compile(
    rf"(?P<space>[ \t]*)[{_OPEN}]\s*(?P<body>\d+(?:\s*(?:{_SEP}|{_DASH})\s*\d+)*)\s*[{_CLOSE}]"
)
_CANONICAL = re.compile(r"\[(?:[1-9]\d*)\]")


@dataclass(frozen=True)
class CheckedText:
    """An answer with only valid, renumbered markers.

    ``used`` holds the original snippet numbers (1-based, as in the prompt) in order of first
    use: new marker ``[i]`` refers to original snippet ``used[i - 1]``.
    """

    text: str
    used: tuple[int, ...]
    flagged: bool


def _numbers(body: str) -> tuple[list[int], bool]:
    """The numbers a marker body names, and whether it was in canonical ``n`` form."""
    numbers: list[int] = []
    canonical = bool(re.fullmatch(r"[1-9]\d*", body))
    for part in re.split(_SEP, body):
        bounds = [int(x) for x in re.split(_DASH, part.strip()) if x.strip()]
        if len(bounds) == 2 and 0 <= bounds[1] - bounds[0] < MAX_RANGE:
            numbers.extend(range(bounds[0], bounds[1] + 1))
        elif len(bounds) == 1:
            numbers.append(bounds[0])
        # anything else (a reversed or huge range) names nothing we can trust
    return numbers, canonical


def check_citations(text: str, available: int) -> CheckedText:
    """Keep markers that refer to snippets 1..``available``; renumber them by first use."""
    order: dict[int, int] = {}  # original number -> new number
    flagged = False

    for match in _MARKER.finditer(text):
        numbers, canonical = _numbers(match["body"])
        raw = match.group(0).strip()
        flagged = flagged or not canonical or not _CANONICAL.fullmatch(raw)
        for n in numbers:
            if 1 <= n <= available:
                order.setdefault(n, len(order) + 1)
            else:
                flagged = True

    def replace(match: re.Match[str]) -> str:
        numbers, _ = _numbers(match["body"])
        new = list(dict.fromkeys(order[n] for n in numbers if n in order))
        if not new:
            return ""  # drop the marker and the space before it
        return match["space"] + "".join(f"[{n}]" for n in new)

    checked = _MARKER.sub(replace, text)
    return CheckedText(text=checked, used=tuple(order), flagged=flagged)


def trim_snippet(text: str, limit: int = SNIPPET_CHARS) -> str:
    """The snippet as quoted to the student: whitespace collapsed, cut at a word near ``limit``."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    cut = flat[:limit]
    space = cut.rfind(" ")
    if space > limit * 0.6:  # Chinese text has no spaces: then cut at the limit
        cut = cut[:space]
    return cut.rstrip(" ,.;:，。；：") + "…"


def build_citations(used: Sequence[int], hits: Sequence[SearchHit]) -> tuple[Citation, ...]:
    """One ``Citation`` per used snippet, numbered as in the checked text."""
    citations = []
    for new, original in enumerate(used, start=1):
        hit = hits[original - 1]
        citations.append(
            Citation(
                n=new,
                source_id=hit.source_id,
                kind=hit.kind,
                title=hit.title,
                snippet=trim_snippet(hit.text),
                page=hit.page,
                start_s=hit.start_s,
                end_s=hit.end_s,
                url=hit.url,
                transcribed=hit.transcribed,
            )
        )
    return tuple(citations)
