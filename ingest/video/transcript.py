"""Turn transcript cues into retrievable windows of the talk, and subtitle files into sources.

A chunk is a stretch of the lecture of about a minute (``target_s``) or ``max_chars``
characters, whichever comes first, that ends where a sentence ends (or at a long pause), so a
cited timestamp span reads as a complete thought. The last sentence of a chunk is repeated at
the start of the next one, so an idea cut at a boundary can still be found.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from pathlib import PurePath

from ingest.text import split_sentences
from ingest.video.subtitle_text import join_text
from ingest.video.subtitles import Cue, read_subtitles
from kernel.errors import TooLargeError
from kernel.language import transcript_language
from kernel.links import parse_video_link
from kernel.models import Chunk, ParsedSource, SourceKind, VideoMeta

__all__ = ["SEGMENTS_PER_HOUR", "check_segments", "chunk_cues", "video_source_from_subtitles"]

SEGMENTS_PER_HOUR = 82  # measured: 164 chunks for the 1:56 h nanoGPT lecture

_SENTENCE_END = re.compile(r"[.?!。？！…][\"'”’」』）)】\]]*$")
_LONG_PAUSE_S = 2.0
_SOFT = 0.8  # a window may close at a sentence end once it reaches 80 % of a limit
_HARD_S = 1.2  # and must close before passing 120 % of target_s (or max_chars)
_OVERLAP_SHARE = 0.25  # the repeated tail is at most a quarter of max_chars


def _sentences(cue: Cue, max_len: int) -> list[Cue]:
    """Cut a cue at its sentence ends (and a long sentence at ``max_len``), sharing its time
    span by length, so windows can end where a sentence ends even mid-cue (Whisper wraps
    lines anywhere)."""
    pieces = split_sentences(cue.text, max_len=max_len) or [cue.text]
    if len(pieces) == 1:
        return [cue]
    if cue.start_s is None or cue.end_s is None:
        return [Cue(None, None, p) for p in pieces]
    total = sum(len(p) for p in pieces)
    span = cue.end_s - cue.start_s
    out: list[Cue] = []
    done = 0
    for piece in pieces:
        start = cue.start_s + span * done / total
        done += len(piece)
        out.append(Cue(round(start, 3), round(cue.start_s + span * done / total, 3), piece))
    return out


def _ends_sentence(units: Sequence[Cue], i: int) -> bool:
    if i + 1 >= len(units) or _SENTENCE_END.search(units[i].text):
        return True
    end, following = units[i].end_s, units[i + 1].start_s
    return end is not None and following is not None and following - end >= _LONG_PAUSE_S


def _duration(window: Sequence[Cue]) -> float:
    start = window[0].start_s
    ends = [c.end_s for c in window if c.end_s is not None]
    return max(ends) - start if start is not None and ends else 0.0


def _chars(window: Sequence[Cue]) -> int:
    return sum(len(c.text) + 1 for c in window)


def _make_chunk(ordinal: int, window: Sequence[Cue]) -> Chunk:
    text = ""
    for cue in window:
        text = join_text(text, cue.text)
    ends = [c.end_s for c in window if c.end_s is not None]
    return Chunk(
        ordinal=ordinal,
        text=text,
        start_s=window[0].start_s,
        end_s=max(ends) if ends and window[0].start_s is not None else None,
    )


def chunk_cues(cues: Sequence[Cue], *, target_s: float = 75, max_chars: int = 900) -> list[Chunk]:
    """Group cues into sentence-aligned windows of ~``target_s`` seconds or ``max_chars``.

    Plain-text cues (no times) are grouped by length alone and give chunks without times.
    """
    units = [u for cue in cues if cue.text.strip() for u in _sentences(cue, max_chars // 2)]
    # Pieces of a split cue can start after a cue that overlaps it: keep windows in time order.
    units.sort(key=lambda u: u.start_s or 0.0)
    boundary = [_ends_sentence(units, i) for i in range(len(units))]
    max_overlap = int(max_chars * _OVERLAP_SHARE)
    chunks: list[Chunk] = []
    window: list[int] = []  # indexes into units
    carried = 0  # how many leading window entries repeat the previous chunk

    def emit(upto: int) -> None:
        """Emit window[:upto] as a chunk; keep its last sentence plus window[upto:]."""
        nonlocal window, carried
        done = window[:upto]
        chunks.append(_make_chunk(len(chunks), [units[i] for i in done]))
        tail: list[int] = []
        for i in reversed(done[1:]):
            if (tail and boundary[i]) or len(tail) >= 4:
                break
            tail.insert(0, i)
        if _chars([units[i] for i in tail]) > max_overlap:
            tail = done[-1:] if len(units[done[-1]].text) < max_overlap and len(done) > 1 else []
        window = tail + window[upto:]
        carried = len(tail)

    for i in range(len(units)):
        candidate = [units[j] for j in [*window, i]]
        too_big = _duration(candidate) > target_s * _HARD_S or _chars(candidate) > max_chars
        if window and too_big:
            if len(window) <= carried:
                window, carried = [], 0  # the repeat alone would overflow: drop it
            else:
                # Cut at the last sentence end in the second half of the window, if any.
                floor = max(carried, len(window) // 2)
                cuts = [k for k in range(len(window) - 1, floor - 1, -1) if boundary[window[k]]]
                emit((cuts[0] if cuts else len(window) - 1) + 1)
        window.append(i)
        sized = [units[j] for j in window]
        soft = _duration(sized) >= target_s * _SOFT or _chars(sized) >= max_chars * _SOFT
        if soft and boundary[i] and len(window) > carried:
            emit(len(window))
    if len(window) > carried:
        emit(len(window))
    return chunks


# File names that say only the language or that it is a subtitle file, not which video.
_GENERIC_STEM = re.compile(
    r"(?i)(?:[a-z]{2}(?:[-_][a-z]{2,4})?|subtitles?|captions?|transcript|字幕)"
    r"(?:[._-](?:[a-z]{2}(?:[-_][a-z]{2,4})?|subtitles?|captions?|sentence_timings|srt|vtt))*"
)


def check_segments(count: int, limit: int | None) -> None:
    """``TooLargeError`` when a transcript has more than ``limit`` chunks (None: no limit)."""
    if limit is not None and count > limit:
        hours = round(limit / SEGMENTS_PER_HOUR)
        raise TooLargeError("segments", n=count, limit=limit, hours=hours)


def video_source_from_subtitles(
    data: bytes,
    *,
    filename: str | None,
    url: str | None = None,
    title: str | None = None,
    max_bytes: int | None = None,
    max_segments: int | None = None,
) -> ParsedSource:
    """Parse and chunk a subtitle file into a video source ready to index.

    With a recognised YouTube/Bilibili ``url`` the fingerprint is ``youtube:<id>`` (so the
    file replaces a fetched transcript of the same video); otherwise the sha256 of the bytes.
    A file over ``max_bytes`` or a transcript of more than ``max_segments`` chunks is refused
    (``TooLargeError``); cues skipped for unreadable timestamps are counted in a warning.
    """
    if max_bytes is not None and len(data) > max_bytes:
        raise TooLargeError(
            "subtitle_bytes", mb=f"{len(data) / 2**20:.1f}", limit=f"{max_bytes / 2**20:g}"
        )
    parsed = read_subtitles(data, filename)
    cues = parsed.cues
    chunks = chunk_cues(cues)
    check_segments(len(chunks), max_segments)
    link = parse_video_link(url) if url else None
    fingerprint = link.fingerprint if link else hashlib.sha256(data).hexdigest()
    ends = [c.end_s for c in cues if c.end_s is not None]
    stem = PurePath(filename).stem if filename else ""
    if _GENERIC_STEM.fullmatch(stem):  # "zh.srt", "en.vtt", "subtitles.srt" name no video
        stem = ""
    platform_name = {"youtube": "YouTube", "bilibili": "Bilibili"}
    default_title = (
        f"{platform_name[link.platform]} video {link.video_id}"
        if link
        else f"视频字幕（{filename}）"
        if filename
        else "视频字幕"
    )
    warnings: tuple[str, ...] = ()
    if not ends:
        warnings = (
            "字幕文件没有时间戳，引用视频时只能给出原文，无法给出时间点。 / "
            "The subtitle file has no timestamps, so video citations cannot show a time.",
        )
    if parsed.dropped:
        total = parsed.dropped + len(cues)
        warnings += (
            f"字幕中有 {parsed.dropped} 条（共 {total} 条）的时间戳无法识别，已跳过；"
            f"其余 {len(cues)} 条已读入。 / {parsed.dropped} of {total} cues had timestamps "
            f"that could not be read and were skipped; the other {len(cues)} were read.",
        )
    meta = VideoMeta(
        title=(title or stem or default_title).strip() or default_title,
        url=link.url if link else url,
        video_id=link.video_id if link else None,
        platform=link.platform if link else None,
        language=transcript_language(" ".join(c.text for c in cues[:400])),
        auto_generated=None,
        duration_s=max(ends) if ends else None,
        filename=filename,
    )
    return ParsedSource(
        kind=SourceKind.VIDEO,
        fingerprint=fingerprint,
        video=meta,
        chunks=tuple(chunks),
        warnings=warnings,
    )
