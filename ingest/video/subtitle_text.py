"""Text-level help for subtitle files: decoding bytes, stripping styling, joining lines.

Split from ``ingest.video.subtitles`` to keep each module small; nothing here knows about cue
formats. ``join_text`` is the one rule for gluing transcript pieces: no space next to Chinese
or Japanese, one space between Latin words.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable

from kernel.errors import SubtitleFormatError

__all__ = ["clean_line", "decode_text", "join_lines", "join_text"]

# --- decoding ------------------------------------------------------------------------------

_BOMS = (
    (b"\xef\xbb\xbf", "utf-8-sig"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f\ufffd]")
_BINARY_MAGIC = {
    b"%PDF": ("PDF 文件", "a PDF file"),
    b"PK\x03\x04": ("压缩包或 Word/Office 文件", "a ZIP or Word/Office file"),
    b"\x89PNG": ("图片", "an image"),
    b"\xff\xd8\xff": ("图片", "an image"),
    b"GIF8": ("图片", "an image"),
}


def decode_text(data: bytes) -> str:
    """Bytes to text: BOM first, then UTF-8, UTF-16 without BOM, GB18030 (covers GBK), cp1252."""
    for magic, (zh, en) in _BINARY_MAGIC.items():
        if data.startswith(magic):
            raise SubtitleFormatError("binary", kind_zh=zh, kind_en=en)
    text = _decode(data)
    if text.startswith("\ufeff"):
        text = text[1:]
    if len(_CONTROL.findall(text)) > max(2, len(text) // 100):
        raise SubtitleFormatError("not_text")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _decode(data: bytes) -> str:
    """The text of ``data``: by its BOM, else as UTF-16 without BOM (every other byte of ASCII
    text is NUL), else in the first of UTF-8, GB18030 and cp1252 that fits, else Latin-1."""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            return data.decode(codec, errors="replace")
    sample = data[:4000]
    if len(sample) >= 4 and sample[1::2].count(0) > len(sample) * 0.4:
        return data.decode("utf-16-le", errors="replace")
    if len(sample) >= 4 and sample[0::2].count(0) > len(sample) * 0.4:
        return data.decode("utf-16-be", errors="replace")
    for codec in ("utf-8", "gb18030", "cp1252"):
        try:
            return data.decode(codec)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


# --- cleaning ------------------------------------------------------------------------------

_TAGS = re.compile(
    r"</?(?:i|b|u|s|c|v|lang|ruby|rt|font|span|br|em|strong)(?:[.\s][^<>]*)?/?>"
    r"|<\d{1,2}(?::\d{1,2}){1,2}(?:[.,]\d+)?>",
    re.IGNORECASE,
)
_ASS_OVERRIDE = re.compile(r"\{\\[^{}]*\}")
_SPACES = re.compile(r"[ \t\u00a0\u3000]+")


def clean_line(line: str) -> str:
    """Drop styling (``<i>``, ``<font>``, ``<c>``, ``<00:00:01.000>``, ``{\\an8}``), unescape."""
    line = _ASS_OVERRIDE.sub("", _TAGS.sub("", line))
    line = html.unescape(line.replace("\\N", " ").replace("\\n", " ").replace("\\h", " "))
    return _SPACES.sub(" ", _CONTROL.sub("", line)).strip()


_CJK = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef]")


def join_text(left: str, right: str) -> str:
    """Join two pieces of transcript: no space next to Chinese/Japanese, one space otherwise."""
    if not left:
        return right
    if not right:
        return left
    if _CJK.match(left[-1]) or _CJK.match(right[0]):
        return left + right
    return f"{left} {right}"


def join_lines(lines: Iterable[str]) -> str:
    """Join the lines of one cue with ``join_text``."""
    result = ""
    for line in lines:
        result = join_text(result, line)
    return result
