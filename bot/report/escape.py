"""Report text made safe for each file format: what a title or a model's sentence holds stays
text, whatever characters it has.

The report carries untrusted text: titles and metadata from the student's files, and sections
a model wrote from them. ``plain`` drops the characters no XML document may hold (.docx would
refuse the whole file); ``html_text`` escapes for the PDF's HTML; ``markdown`` escapes what
Markdown would turn into markup (raw HTML such as ``<script>``, links, emphasis, headings and
lists at a line start) while the citation markers (``[论文 p.5]``) stay readable.
"""

from __future__ import annotations

import html
import re

__all__ = ["html_text", "markdown", "plain"]

# XML 1.0 allows tab, newline, carriage return and everything from U+0020 except surrogates
# and U+FFFE/U+FFFF; C1 controls are legal but invisible garbage in a report.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_MD_INLINE = re.compile(r"([\\`*_\[\]~|])")
_MD_LINE_START = re.compile(r"^(\s*)(?:([#>+\-=])|(\d+)([.)]))", re.MULTILINE)
_MARKER = re.compile(r"\\\[((?:论文|视频)[^\[\]\\\n]{0,40})\\\]")


def plain(text: str) -> str:
    """``text`` without characters an XML document (.docx) cannot hold."""
    return _NOT_XML.sub("", text)


def html_text(text: str) -> str:
    """``text`` as HTML text (the PDF copy is laid out from HTML)."""
    return html.escape(plain(text), quote=True)


def markdown(text: str) -> str:
    """``text`` as Markdown that renders as exactly this text."""
    out = html.escape(plain(text), quote=False)  # raw HTML stays text
    out = _MD_INLINE.sub(r"\\\1", out)
    out = _MARKER.sub(r"[\1]", out)  # citation markers: plain brackets read better
    out = out.replace("](", "]\\(")  # ...and never become a link
    return _MD_LINE_START.sub(_line_start, out)


def _line_start(m: re.Match[str]) -> str:
    """A heading, quote or list marker at a line start, escaped: ``\\#``, ``1\\.``."""
    if m.group(2):
        return f"{m.group(1)}\\{m.group(2)}"
    return f"{m.group(1)}{m.group(3)}\\{m.group(4)}"
