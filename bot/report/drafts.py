"""Turning a model's draft into clean section body text, judging it, and trimming it.

Models add headings, Markdown, whole reports instead of one section, or answer in English;
``clean_draft`` keeps only this section's paragraphs as plain text, ``is_chinese`` rejects
drafts that are not Chinese prose, and ``trim_to`` shortens at sentence boundaries.
"""

from __future__ import annotations

import re

from bot.report.formulas import clean_math, display_formula
from bot.report.models import HEADINGS
from bot.report.wordcount import count_zi, is_cjk

__all__ = [
    "clean_draft",
    "drop_last_sentence",
    "is_chinese",
    "markers_before_stop",
    "split_sentences",
    "trim_to",
]

_NAMES = tuple(h[3:] for h in HEADINGS)  # "论文基本信息", ...
_HEADING_LINE = re.compile(
    r"^\s*(?:#{1,6}\s*)?(?:\*\*)?\s*(?:[（(]?\s*[1-4一二三四]\s*[)）.、]?\s*)?"
    r"(" + "|".join(_NAMES) + r")\s*(?:\*\*)?\s*[:：]?\s*$"
)
_MD_HEADING = re.compile(r"^\s*#{1,6}\s+")
_BULLET = re.compile(r"^\s*(?:[-*•+]\s+)")
_FENCE = re.compile(r"^\s*```")
_STOP = "。！？；!?"


def _own_part(lines: list[str], heading: str) -> list[str]:
    """If the draft carries section headings, the lines under this section's heading."""
    name = heading[3:]
    marks = [(i, m.group(1)) for i, line in enumerate(lines) if (m := _HEADING_LINE.match(line))]
    if not marks:
        return lines
    for n, (i, found) in enumerate(marks):
        if found == name:
            end = marks[n + 1][0] if n + 1 < len(marks) else len(lines)
            return lines[i + 1 : end]
    return lines[: marks[0][0]]  # other sections' headings only: keep what came before them


def clean_draft(text: str, heading: str) -> str:
    """Plain paragraphs (one per line) of this section only; no headings or Markdown; math as
    ``bot.report.formulas.clean_math`` leaves it (Unicode inline, ``$$latex$$`` lines)."""
    text = clean_math(text.replace("\r", ""))
    lines = [line for line in text.split("\n") if not _FENCE.match(line)]
    paragraphs = []
    for line in _own_part(lines, heading):
        if _MD_HEADING.match(line):
            continue  # a sub-heading of the model's own; the report has four headings only
        if display_formula(line) is not None:
            paragraphs.append(line.strip())
            continue
        line = _BULLET.sub("", line)
        line = re.sub(r"\*\*|__|(?<!\w)\*(?!\s)|`", "", line).strip()
        if line:
            paragraphs.append(line)
    return "\n".join(paragraphs)


def markers_before_stop(text: str) -> str:
    """``……。[论文 p.5]`` -> ``……[论文 p.5]。`` so a marker stays with its sentence."""
    return re.sub(r"([。！？；])((?:\[(?:论文|视频)[^\]\n]*\])+)", r"\2\1", text)


def is_chinese(text: str) -> bool:
    """Chinese prose: enough CJK characters, and far more of them than Latin words."""
    cjk = sum(1 for ch in text if is_cjk(ch))
    latin_words = count_zi(text) - cjk
    return cjk >= 10 and cjk >= 3 * latin_words


def split_sentences(paragraph: str) -> list[str]:
    """Sentences ending in 。！？； (the last may have no stop)."""
    parts = re.split(f"(?<=[{_STOP}])", paragraph)
    return [p for p in parts if p.strip()]


def drop_last_sentence(text: str) -> str | None:
    """``text`` without its last sentence; None if only one sentence is left."""
    paragraphs = [split_sentences(p) for p in text.split("\n") if p.strip()]
    if not paragraphs or (len(paragraphs) == 1 and len(paragraphs[0]) <= 1):
        return None
    paragraphs[-1].pop()
    if not paragraphs[-1]:
        paragraphs.pop()
    return "\n".join("".join(p) for p in paragraphs)


def trim_to(text: str, max_zi: int) -> str:
    """Drop whole sentences from the end until ``count_zi`` fits; the first sentence stays."""
    while count_zi(text) > max_zi:
        shorter = drop_last_sentence(text)
        if shorter is None:
            break
        text = shorter
    return text
