"""Checks the citation markers a model wrote against the snippets it was actually given.

A marker ``[n]`` is valid only if snippet ``n`` was in the prompt. Anything else the model
writes (``[9]`` with five snippets, ``[0]``, ranges like ``[1-3]``, lists like ``[1, 2]``,
full-width ``［1］`` / ``【1】``) is normalised to plain ``[n]`` markers or removed, and the
answer is flagged. Valid citations are renumbered 1, 2, 3... in order of first use, so the
student sees only the snippets the answer really cites.

``check_answer`` is what the answering service calls: the marker syntax above, then the support
check (``bot.support``): each marked sentence is scored against its snippet, a marker moves to the
snippet that supports its sentence or is removed (the sentence is then labelled as background
knowledge, or dropped if it states a figure no snippet contains), and an answer that cites
nothing gets its markers from the code. Each resulting ``Citation`` carries its support score.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.prompts import BACKGROUND_LABEL
from bot.support import Candidate, Policy, SupportScorer, check_support, scorer_for
from kernel.errors import PaperTutorError
from kernel.models import Citation, SearchHit, Term
from storage.embedding.embedder import Embedder

__all__ = [
    "SNIPPET_CHARS",
    "CheckedAnswer",
    "CheckedText",
    "build_citations",
    "check_answer",
    "check_citations",
    "trim_snippet",
]

log = logging.getLogger(__name__)

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


def build_citations(
    used: Sequence[int],
    hits: Sequence[SearchHit],
    support: Mapping[int, float] | None = None,
) -> tuple[Citation, ...]:
    """One ``Citation`` per used snippet, numbered as in the checked text.

    ``support`` maps an original snippet number to its support score.
    """
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
                boxes=hit.boxes,
                support=None if support is None else support.get(original),
                transcribed=hit.transcribed,
            )
        )
    return tuple(citations)


UNCITED_SHOWN = 3  # best snippets listed under an answer that cites none
_ANSWER_MARKER = re.compile(r"\[([1-9]\d*)\]")


@dataclass(frozen=True)
class CheckedAnswer:
    """An answer after the marker and support checks, ready for the student.

    ``flagged``: markers had to be corrected, moved or removed. ``uncited``: the text cites
    nothing even after attribution; ``citations`` then lists the best snippets (unchecked,
    ``support`` None) so the answer stays checkable. ``attributed``: the model cited nothing and
    the code added the markers. ``removed``: markers whose snippet supported nothing.
    """

    text: str
    citations: tuple[Citation, ...]
    flagged: bool
    uncited: bool
    attributed: bool = False
    removed: int = 0


def _keep_numbers(text: str, available: int) -> tuple[str, bool]:
    """Markers in canonical ``[n]`` form with their original numbers (invalid ones removed)."""
    checked = check_citations(text, available)
    original = dict(enumerate(checked.used, start=1))
    return _ANSWER_MARKER.sub(lambda m: f"[{original[int(m.group(1))]}]", checked.text), (
        checked.flagged
    )


async def check_answer(
    embedder: Embedder,
    text: str,
    hits: Sequence[SearchHit],
    *,
    terms: Sequence[Term] = (),
    lang: str = "zh",
    scorer: SupportScorer | None = None,
) -> CheckedAnswer:
    """Check an answer's markers against the ``hits`` it was written from (see module doc).

    ``scorer`` scores sentences against snippets (the composition root's, whose snippet cache
    answers and reports share; default: the one cached for ``embedder``). The embedding runs
    in a worker thread. If the embedder fails, the markers are kept as the
    model wrote them, unchecked (``support`` None), and the failure is logged.
    """
    text, flagged = _keep_numbers(text.strip(), len(hits))
    candidates = [Candidate(f"[{n}]", hit.text) for n, hit in enumerate(hits, start=1)]
    policy = Policy(
        attribute="when_uncited",
        unsupported="label",
        label=BACKGROUND_LABEL.get(lang, BACKGROUND_LABEL["zh"]),
        labelled=tuple(BACKGROUND_LABEL.values()),
    )

    def resolve(marker: str) -> list[int]:
        return [int(marker[1:-1]) - 1]

    support: dict[int, float] | None = None
    attributed = removed = 0
    try:
        checked = await asyncio.to_thread(
            check_support,
            text,
            candidates,
            scorer or scorer_for(embedder),
            marker=_ANSWER_MARKER,
            resolve=resolve,
            policy=policy,
            terms=terms,
        )
    except PaperTutorError as exc:
        log.warning("support check skipped, the embedder failed: %s", exc)
    else:
        text = checked.text
        support = {int(m[1:-1]): min(s) for m, s in checked.scores.items()}
        attributed, removed = checked.attributed, checked.removed
        flagged = flagged or checked.moved > 0 or checked.removed > 0
    final = check_citations(text, len(hits))
    if not final.used:
        shown = list(range(1, min(UNCITED_SHOWN, len(hits)) + 1))
        return CheckedAnswer(final.text, build_citations(shown, hits), flagged, uncited=True)
    return CheckedAnswer(
        text=final.text,
        citations=build_citations(final.used, hits, support),
        flagged=flagged,
        uncited=False,
        attributed=attributed > 0,
        removed=removed,
    )
