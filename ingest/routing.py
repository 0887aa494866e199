"""What kind of file the student sent: the one home of file-type routing.

The Telegram front door (before downloading, from the name and MIME type Telegram reports) and
the library (``add_file``, from the name and the first bytes) both ask ``route_file``.
"""

from __future__ import annotations

from pathlib import PurePath
from typing import Literal

from ingest.video.subtitles import SUBTITLE_SUFFIXES

__all__ = ["MEDIA_SUFFIXES", "FileKind", "route_file"]

FileKind = Literal["pdf", "subtitles", "media"]

MEDIA_SUFFIXES = (
    # video
    ".mp4", ".m4v", ".mkv", ".webm", ".mov", ".avi", ".flv", ".wmv", ".mpg", ".mpeg", ".ts",
    ".3gp",
    # audio
    ".mp3", ".m4a", ".aac", ".wav", ".ogg", ".oga", ".opus", ".flac", ".wma", ".amr", ".weba",
)  # fmt: skip

_MEDIA_MAGIC = (b"ID3", b"fLaC", b"OggS", b"\x1a\x45\xdf\xa3", b"#!AMR")  # mp3, flac, ogg, mkv


def _media_head(head: bytes) -> bool:
    if head.startswith(_MEDIA_MAGIC):
        return True
    if head[4:8] == b"ftyp":  # mp4 / m4a / mov
        return True
    if head[:4] == b"RIFF" and head[8:12] in (b"WAVE", b"AVI "):
        return True
    # An MPEG audio frame (or ADTS AAC) starts with 11 set bits; FF FE / FF FF are text BOMs.
    return len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0 and head[1] < 0xFE


def route_file(
    filename: str | None, *, mime: str | None = None, head: bytes = b""
) -> FileKind | None:
    """ "pdf", "subtitles", "media" (audio or video), or None for a file we cannot read.

    A PDF is known by its content (``head``: the file's first bytes, when known) or its name;
    subtitles by their name; a recording by its name, MIME type or content. A nameless text with
    nothing else to go by is read as subtitles.
    """
    if head.lstrip()[:5] == b"%PDF-":
        return "pdf"
    suffix = PurePath((filename or "").strip().lower()).suffix
    mime = (mime or "").lower()
    if suffix == ".pdf" or (not suffix and mime == "application/pdf"):
        return "pdf"
    if suffix in SUBTITLE_SUFFIXES:
        return "subtitles"
    if suffix in MEDIA_SUFFIXES or mime.startswith(("video/", "audio/")):
        return "media"
    if head and _media_head(head):
        return "media"
    if not filename and not mime:
        return "subtitles"
    return None
