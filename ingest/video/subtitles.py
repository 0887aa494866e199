"""Read a subtitle file a student sends (SRT, WebVTT, ASS, JSON transcripts, plain text) into cues.

The format is detected from the content (the file name is only a hint), because students rename
files and tools mislabel them. Parsing is tolerant of what real files contain: float
milliseconds (``00:00:04,560.0000000000009`` is 4.56 s, as a student would expect), ``MM:SS``
mixed with ``HH:MM:SS``, BOMs and legacy encodings, styling tags, cue settings, YouTube's
rolling auto-caption lines, empty cues and NOTE/STYLE blocks. A cue whose timestamps cannot be
read at all (``00:00:0x,000``, ``01:99:10,000``, a time past 100 hours) is skipped with its
text, and counted: ``read_subtitles`` says how many, so the student can be told. Anything that
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

from ingest.video.subtitle_text import (
    clean_line,
    decode_text,
    join_lines,
    join_text,
)
from kernel.errors import SubtitleFormatError

__all__ = [
    "Cue",
    "SubtitleFile",
    "clean_line",  # re-exported from ingest.video.subtitle_text for the fetchers
    "decode_text",
    "join_text",
    "looks_like_subtitle_filename",
    "parse_subtitles",
    "read_subtitles",
]

SUBTITLE_SUFFIXES = (".srt", ".vtt", ".json", ".txt")


@dataclass(frozen=True)
class Cue:
    """One timed line of a transcript; times are None for plain text without timestamps."""

    start_s: float | None
    end_s: float | None
    text: str


@dataclass(frozen=True)
class SubtitleFile:
    """The cues of a file (sorted by start) and how many cues were skipped because their
    timestamps could not be read."""

    cues: list[Cue]
    dropped: int = 0


def looks_like_subtitle_filename(name: str) -> bool:
    """Whether a file name suggests a transcript we read (.srt, .vtt, .json, .txt)."""
    return PurePath(name.strip().lower()).suffix in SUBTITLE_SUFFIXES


# --- SRT / WebVTT ----------------------------------------------------------------------------

_TIME = r"(?:(\d{1,3}):)?(\d{1,3}):(\d{1,2})(?:[,.:](\d{1,9})(?:\.(\d{1,20}))?)?"
_ARROW_LINE = re.compile(rf"^\s*{_TIME}\s*-{{1,2}}>\s*{_TIME}(?:\s.*)?$")
# A line meant as a timing line that does not read as one ("00:00:0x,000 --> 00:00:06,000").
_BROKEN_TIMING = re.compile(r"^\s*\S*\d[:,.]\d\S*\s*-{1,2}>")
_BLOCK_KEYWORDS = ("WEBVTT", "NOTE", "STYLE", "REGION", "X-TIMESTAMP")
_MAX_S = 100 * 3600  # no lecture is longer; a bigger time is a broken one


def _seconds(groups: Iterable[str | None]) -> float:
    hours, minutes, secs, frac, extra = groups
    value = int(hours or 0) * 3600 + int(minutes or 0) * 60 + int(secs or 0)
    if frac:
        # "560" is 0.560 s; the odd "560.0000000000009" of some exporters adds a sliver more.
        value += int(frac) / 10 ** len(frac)
        if extra:
            value += int(extra) / 10 ** len(extra) / 10 ** len(frac)
    return round(float(value), 6)


def _readable(groups: tuple[str | None, ...]) -> bool:
    """Whether one timestamp's fields make a time: seconds (and, after hours, minutes) < 60."""
    hours, minutes, secs = groups[0], groups[1], groups[2]
    if int(secs or 0) >= 60 or (hours is not None and int(minutes or 0) >= 60):
        return False
    return _seconds(groups) < _MAX_S


def _timed_blocks(text: str) -> tuple[list[tuple[float, float, list[str]]], int]:
    """The timed cues of an SRT/WebVTT text, and how many were skipped as unreadable."""
    cues: list[tuple[float, float, list[str]]] = []
    dropped = 0
    lines: list[str] | None = None  # text lines of the cue being read
    last_opens_block = False  # the last text line came right after a blank line
    skipping = False  # inside a NOTE/STYLE/REGION block, until the next blank line
    previous_blank = True
    for raw in text.split("\n"):
        line = raw.strip()
        match = _ARROW_LINE.match(line)
        if match is not None or _BROKEN_TIMING.match(line):
            # The line just before a timing line is an SRT counter or a WebVTT cue id.
            if lines and (last_opens_block or lines[-1].isdigit()):
                lines.pop()
            groups = match.groups() if match is not None else ()
            if match is None or not (_readable(groups[:5]) and _readable(groups[5:])):
                dropped += 1  # skip the cue, text and all: its time is unknown
                lines = None
                skipping = True
                previous_blank = False
                continue
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
    return cues, dropped


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


def _parse_timed(text: str) -> SubtitleFile:
    blocks, dropped = _timed_blocks(text)
    lines_per_cue = [[c for c in (clean_line(x) for x in lines) if c] for _, _, lines in blocks]
    lines_per_cue = _dedupe_rolling(lines_per_cue)
    cues = [
        Cue(start, end, join_lines(lines))
        for (start, end, _), lines in zip(blocks, lines_per_cue, strict=True)
        if lines
    ]
    return SubtitleFile(sorted(cues, key=lambda c: c.start_s or 0.0), dropped)


# --- ASS / SSA ------------------------------------------------------------------------------

_ASS_DIALOGUE = re.compile(
    r"^Dialogue:\s*[^,]*,\s*(\d+):(\d{1,2}):(\d{1,2})[.,](\d{1,3}),"
    r"\s*(\d+):(\d{1,2}):(\d{1,2})[.,](\d{1,3}),(?:[^,\n]*,){6}(.*)$",
    re.MULTILINE,
)


def _parse_ass(text: str) -> SubtitleFile:
    cues = []
    read = 0
    for match in _ASS_DIALOGUE.finditer(text):
        read += 1
        g = match.groups()
        start = _seconds((g[0], g[1], g[2], g[3], None))
        end = _seconds((g[4], g[5], g[6], g[7], None))
        line = join_lines(c for c in (clean_line(x) for x in re.split(r"\\[Nn]", g[8])) if c)
        if line:
            cues.append(Cue(start, max(start, end), line))
    dialogues = len(re.findall(r"^Dialogue:", text, re.MULTILINE))
    return SubtitleFile(sorted(cues, key=lambda c: c.start_s or 0.0), max(0, dialogues - read))


# --- JSON -----------------------------------------------------------------------------------


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) and 0 <= number < 1e7 else None


class _Unreadable:
    """A JSON entry with text but no usable start time (counted as skipped)."""


_UNREADABLE = _Unreadable()


def _json_cue(
    text: object, start: object, end: object = None, duration: object = None
) -> Cue | _Unreadable | None:
    if not isinstance(text, str):
        return None
    begin = _number(start)
    if begin is None:
        return _UNREADABLE if text.strip() else None
    finish = _number(end)
    if finish is None and (length := _number(duration)) is not None:
        finish = begin + length
    line = join_lines(c for c in (clean_line(x) for x in text.split("\n")) if c)
    if not line:
        return None
    return Cue(begin, max(begin, finish if finish is not None else begin), line)


def _json_items(data: object) -> list[Cue | _Unreadable | None] | None:
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


def _json3_cue(event: dict[str, object]) -> Cue | _Unreadable | None:
    segs = event.get("segs")
    if not isinstance(segs, list):
        return None
    text = "".join(
        s["utf8"] for s in segs if isinstance(s, dict) and isinstance(s.get("utf8"), str)
    )
    start, duration = _number(event.get("tStartMs")), _number(event.get("dDurationMs"))
    if start is None:
        return _UNREADABLE if text.strip() else None
    return _json_cue(text, start / 1000, None, None if duration is None else duration / 1000)


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except (ValueError, RecursionError):
        return False
    return True


def _parse_json(text: str) -> SubtitleFile:
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as error:
        raise SubtitleFormatError("json_broken") from error
    items = _json_items(data)
    if items is None:
        raise SubtitleFormatError("json_layout")
    cues = [c for c in items if isinstance(c, Cue)]
    dropped = sum(isinstance(c, _Unreadable) for c in items)
    return SubtitleFile(sorted(cues, key=lambda c: c.start_s or 0.0), dropped)


# --- plain text and dispatch ------------------------------------------------------------------


def _parse_plain(text: str) -> list[Cue]:
    lower = text.lstrip()[:200].lower()
    if lower.startswith(("<!doctype", "<html", "<?xml", "<tt", "<transcript")):
        raise SubtitleFormatError("web_page")
    return [Cue(None, None, line) for line in (clean_line(x) for x in text.split("\n")) if line]


def read_subtitles(data: bytes, filename: str | None = None) -> SubtitleFile:
    """Parse subtitle bytes into cues sorted by start (the format comes from the content), and
    count the cues skipped because their timestamps could not be read.

    Plain text without timestamps yields cues with ``start_s``/``end_s`` None. Raises
    ``SubtitleFormatError`` when the file is not a transcript or holds no usable text.
    """
    text = decode_text(data)
    stripped = text.lstrip()
    if not stripped:
        raise SubtitleFormatError("empty")
    suffix = PurePath(filename or "").suffix.lower()
    lines = [line.strip() for line in text.split("\n")]
    timed = sum(1 for line in lines if _ARROW_LINE.match(line) or _BROKEN_TIMING.match(line))
    parsed: SubtitleFile
    if timed:
        parsed = _parse_timed(text)
    elif "[script info]" in stripped[:2000].lower() or _ASS_DIALOGUE.search(text):
        parsed = _parse_ass(text)
    elif stripped[0] in "[{" and (suffix == ".json" or _is_json(stripped)):
        parsed = _parse_json(stripped)
    else:
        parsed = SubtitleFile(_parse_plain(text))
    if not parsed.cues and parsed.dropped:
        raise SubtitleFormatError("timestamps_unreadable", n=parsed.dropped)
    if not parsed.cues:
        raise SubtitleFormatError("no_text")
    return parsed


def parse_subtitles(data: bytes, filename: str | None = None) -> list[Cue]:
    """``read_subtitles``' cues alone."""
    return read_subtitles(data, filename).cues
