"""Read a subtitle file a student sends (SRT, WebVTT, ASS, JSON transcripts, plain text) into cues.

The format is detected from the content (the file name is only a hint), because students rename
files and tools mislabel them. Parsing is tolerant of what real files contain: float
milliseconds, ``MM:SS`` mixed with ``HH:MM:SS``, BOMs and legacy encodings, styling tags, cue
settings, YouTube's rolling auto-caption lines, empty cues and NOTE/STYLE blocks. Anything that
is not a transcript raises ``SubtitleFormatError`` with a message the student can act on.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import pairwise
from pathlib import PurePath

from ingest.subtitle_text import (
    clean_line,
    decode_text,
    format_error,
    join_lines,
    join_text,
)

__all__ = [
    "Cue",
    "clean_line",  # re-exported from ingest.subtitle_text for the fetchers
    "decode_text",
    "join_text",
    "looks_like_subtitle_filename",
    "parse_subtitles",
]

SUBTITLE_SUFFIXES = (".srt", ".vtt", ".json", ".txt")


@dataclass(frozen=True)
class Cue:
    """One timed line of a transcript; times are None for plain text without timestamps."""

    start_s: float | None
    end_s: float | None
    text: str


def looks_like_subtitle_filename(name: str) -> bool:
    """Whether a file name suggests a transcript we read (.srt, .vtt, .json, .txt)."""
    return PurePath(name.strip().lower()).suffix in SUBTITLE_SUFFIXES


# --- SRT / WebVTT ----------------------------------------------------------------------------

_TIME = r"(?:(\d{1,3}):)?(\d{1,3}):(\d{1,2})(?:[,.:](\d{1,9})(?:\.(\d{1,20}))?)?"
_ARROW_LINE = re.compile(rf"^\s*{_TIME}\s*-{{1,2}}>\s*{_TIME}(?:\s.*)?$")
_BLOCK_KEYWORDS = ("WEBVTT", "NOTE", "STYLE", "REGION", "X-TIMESTAMP")


def _seconds(groups: Iterable[str | None]) -> float:
    hours, minutes, secs, frac, extra = groups
    value = int(hours or 0) * 3600 + int(minutes or 0) * 60 + int(secs or 0)
    if frac:
        # "560" is 0.560 s; the odd "560.0000000000009" of some exporters adds a sliver more.
        value += int(frac) / 10 ** len(frac)
        if extra:
            value += int(extra) / 10 ** len(extra) / 10 ** len(frac)
    return round(float(value), 6)


def _timed_blocks(text: str) -> list[tuple[float, float, list[str]]]:
    cues: list[tuple[float, float, list[str]]] = []
    lines: list[str] | None = None  # text lines of the cue being read
    last_opens_block = False  # the last text line came right after a blank line
    skipping = False  # inside a NOTE/STYLE/REGION block, until the next blank line
    previous_blank = True
    for raw in text.split("\n"):
        line = raw.strip()
        match = _ARROW_LINE.match(line)
        if match is not None:
            # The line just before a timing line is an SRT counter or a WebVTT cue id.
            if lines and (last_opens_block or lines[-1].isdigit()):
                lines.pop()
            groups = match.groups()
            start, end = _seconds(groups[:5]), _seconds(groups[5:])
            lines = []
            cues.append((start, max(start, end), lines))
            skipping = False
        elif not line:
            skipping = False
        elif previous_blank and line.startswith(_BLOCK_KEYWORDS):
            skipping = True
            lines = None
        elif not skipping and lines is not None:
            lines.append(line)
            last_opens_block = previous_blank
        previous_blank = not line
    return cues


def _dedupe_rolling(blocks: list[list[str]]) -> list[list[str]]:
    """Remove YouTube auto-caption roll-up repeats (each line shown again in the next cue)."""
    # Roll-up shows up as two-line cues whose first line is the previous cue's last line; a
    # single line said twice ("Yes." "Yes.") is not that and must stay.
    repeats = sum(1 for a, b in pairwise(blocks) if a and len(b) >= 2 and a[-1] == b[0])
    if repeats < max(2, len(blocks) // 5):
        return blocks
    recent: list[str] = []
    result: list[list[str]] = []
    for lines in blocks:
        fresh = [line for line in lines if line not in recent]
        result.append(fresh)
        recent = (recent + fresh)[-3:]
    return result


def _parse_timed(text: str) -> list[Cue]:
    blocks = _timed_blocks(text)
    lines_per_cue = [[c for c in (clean_line(x) for x in lines) if c] for _, _, lines in blocks]
    lines_per_cue = _dedupe_rolling(lines_per_cue)
    cues = [
        Cue(start, end, join_lines(lines))
        for (start, end, _), lines in zip(blocks, lines_per_cue, strict=True)
        if lines
    ]
    return sorted(cues, key=lambda c: c.start_s or 0.0)


# --- ASS / SSA ------------------------------------------------------------------------------

_ASS_DIALOGUE = re.compile(
    r"^Dialogue:\s*[^,]*,\s*(\d+):(\d{1,2}):(\d{1,2})[.,](\d{1,3}),"
    r"\s*(\d+):(\d{1,2}):(\d{1,2})[.,](\d{1,3}),(?:[^,\n]*,){6}(.*)$",
    re.MULTILINE,
)


def _parse_ass(text: str) -> list[Cue]:
    cues = []
    for match in _ASS_DIALOGUE.finditer(text):
        g = match.groups()
        start = _seconds((g[0], g[1], g[2], g[3], None))
        end = _seconds((g[4], g[5], g[6], g[7], None))
        line = join_lines(c for c in (clean_line(x) for x in re.split(r"\\[Nn]", g[8])) if c)
        if line:
            cues.append(Cue(start, max(start, end), line))
    return sorted(cues, key=lambda c: c.start_s or 0.0)


# --- JSON -----------------------------------------------------------------------------------


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) and 0 <= number < 1e7 else None


def _json_cue(
    text: object, start: object, end: object = None, duration: object = None
) -> Cue | None:
    if not isinstance(text, str):
        return None
    begin = _number(start)
    if begin is None:
        return None
    finish = _number(end)
    if finish is None and (length := _number(duration)) is not None:
        finish = begin + length
    line = join_lines(c for c in (clean_line(x) for x in text.split("\n")) if c)
    if not line:
        return None
    return Cue(begin, max(begin, finish if finish is not None else begin), line)


def _json_items(data: object) -> list[Cue | None] | None:
    """Cues of a known JSON transcript layout, or None when the layout is unknown."""
    if isinstance(data, dict):
        if isinstance(data.get("body"), list):  # Bilibili CC subtitles
            return [
                _json_cue(i.get("content"), i.get("from"), i.get("to"))
                for i in data["body"]
                if isinstance(i, dict)
            ]
        if isinstance(data.get("segments"), list):  # Whisper
            return [
                _json_cue(i.get("text"), i.get("start"), i.get("end"))
                for i in data["segments"]
                if isinstance(i, dict)
            ]
        if isinstance(data.get("events"), list):  # YouTube json3 (milliseconds)
            return [_json3_cue(i) for i in data["events"] if isinstance(i, dict)]
        return None
    if isinstance(data, list) and data:
        if all(isinstance(i, dict) for i in data):  # youtube-transcript-api raw data
            return [
                _json_cue(i.get("text"), i.get("start"), i.get("end"), i.get("duration"))
                for i in data
                if isinstance(i, dict)
            ]
        if all(isinstance(i, list) and len(i) >= 2 for i in data):  # [sentence, start, end]
            return [_json_cue(i[0], i[1], i[2] if len(i) > 2 else None) for i in data]
    return None


def _json3_cue(event: dict[str, object]) -> Cue | None:
    segs = event.get("segs")
    if not isinstance(segs, list):
        return None
    text = "".join(
        s["utf8"] for s in segs if isinstance(s, dict) and isinstance(s.get("utf8"), str)
    )
    start, duration = _number(event.get("tStartMs")), _number(event.get("dDurationMs"))
    if start is None:
        return None
    return _json_cue(text, start / 1000, None, None if duration is None else duration / 1000)


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except (ValueError, RecursionError):
        return False
    return True


def _parse_json(text: str) -> list[Cue]:
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as error:
        raise format_error(
            "这个 JSON 文件已损坏，无法读取。", "This JSON file is broken and cannot be read."
        ) from error
    items = _json_items(data)
    if items is None:
        raise format_error(
            "这个 JSON 文件不是认识的字幕格式（支持 B 站 CC 字幕、Whisper、YouTube 字幕 JSON）。",
            "This JSON file is not a subtitle layout we know "
            "(Bilibili CC subtitles, Whisper, YouTube transcript JSON).",
        )
    return sorted((c for c in items if c is not None), key=lambda c: c.start_s or 0.0)


# --- plain text and dispatch ------------------------------------------------------------------


def _parse_plain(text: str) -> list[Cue]:
    lower = text.lstrip()[:200].lower()
    if lower.startswith(("<!doctype", "<html", "<?xml", "<tt", "<transcript")):
        raise format_error(
            "这是网页或 XML 文件，不是字幕文件。", "This is a web page or XML file, not subtitles."
        )
    return [Cue(None, None, line) for line in (clean_line(x) for x in text.split("\n")) if line]


def parse_subtitles(data: bytes, filename: str | None = None) -> list[Cue]:
    """Parse subtitle bytes into cues sorted by start; the format comes from the content.

    Plain text without timestamps yields cues with ``start_s``/``end_s`` None. Raises
    ``SubtitleFormatError`` when the file is not a transcript or holds no usable text.
    """
    text = decode_text(data)
    stripped = text.lstrip()
    if not stripped:
        raise format_error("字幕文件是空的。", "The subtitle file is empty.")
    suffix = PurePath(filename or "").suffix.lower()
    is_timed = any(_ARROW_LINE.match(line.strip()) for line in text.split("\n"))
    cues: list[Cue]
    if is_timed:
        cues = _parse_timed(text)
    elif "[script info]" in stripped[:2000].lower() or _ASS_DIALOGUE.search(text):
        cues = _parse_ass(text)
    elif stripped[0] in "[{" and (suffix == ".json" or _is_json(stripped)):
        cues = _parse_json(stripped)
    else:
        cues = _parse_plain(text)
    if not cues:
        raise format_error(
            "这个字幕文件里没有可用的文字。", "This subtitle file contains no usable text."
        )
    return cues
