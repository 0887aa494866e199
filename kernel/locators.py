"""Where a snippet is: the one home of page and timestamp labels.

Every front door (Telegram, the CLI, prompts, the report) says "page 5" or "video 12:34" through
these functions, so a timestamp reads the same everywhere: ``m:ss`` under an hour, ``h:mm:ss``
from an hour on, always floored to the second the link opens at.
"""

from __future__ import annotations

import math

from kernel.models import SourceKind

__all__ = ["format_span", "format_timestamp", "page_label", "where"]

_WORDS = {
    "zh": {"page": "第 {page} 页", "pages": "第 {page}–{end} 页", "video": "视频"},
    "en": {"page": "p. {page}", "pages": "pp. {page}–{end}", "video": "video"},
}


def _seconds(value: float | None) -> int:
    return int(value) if value is not None and math.isfinite(value) and value > 0 else 0


def format_timestamp(seconds: float) -> str:
    """``m:ss`` under an hour, ``h:mm:ss`` from an hour on (floored): ``2:05``, ``1:02:05``."""
    hours, rest = divmod(_seconds(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{secs:02d}"
    return f"{minutes}:{secs:02d}"


def format_span(start: float, end: float) -> str:
    """``1:05–2:10`` (en dash), each end as ``format_timestamp`` writes it."""
    return f"{format_timestamp(start)}–{format_timestamp(end)}"


def page_label(page: int, page_end: int | None = None, lang: str = "en") -> str:
    """``p. 5`` / ``pp. 5–6`` (``第 5 页`` / ``第 5–6 页`` in Chinese)."""
    words = _WORDS["zh" if lang == "zh" else "en"]
    if page_end is not None and page_end > page:
        return words["pages"].format(page=page, end=page_end)
    return words["page"].format(page=page)


def where(
    kind: SourceKind,
    *,
    page: int | None = None,
    page_end: int | None = None,
    start_s: float | None = None,
    end_s: float | None = None,
    lang: str = "en",
    span: bool = False,
) -> str:
    """The locator of a snippet: ``p. 5`` for a paper, ``video 12:34`` (or the span
    ``video 12:34–13:50`` with ``span``) for a transcript; ``video`` alone when it has no time,
    and an empty string for a paper chunk without a page."""
    words = _WORDS["zh" if lang == "zh" else "en"]
    if kind is SourceKind.PAPER:
        return page_label(page, page_end, lang) if page is not None else ""
    if start_s is None:
        return words["video"]
    time = format_timestamp(start_s)
    if span and end_s is not None and end_s > start_s:
        time = format_span(start_s, end_s)
    return f"{words['video']} {time}"
