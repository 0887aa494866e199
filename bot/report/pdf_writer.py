"""An optional PDF copy of the report, without LibreOffice: ``pymupdf.Story`` lays out HTML.

pymupdf falls back to its built-in CJK font for Chinese characters, so no system fonts are
needed. Page numbers are stamped at the foot of each page afterwards.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pymupdf

from bot.report.escape import html_text
from bot.report.models import Report

__all__ = ["write_pdf"]

_CSS = """
body { font-family: sans-serif; font-size: 11pt; line-height: 1.6; }
h1 { font-size: 18pt; text-align: center; }
h2 { font-size: 14pt; margin-top: 14pt; }
h3 { font-size: 12pt; margin-top: 12pt; }
p { text-indent: 22pt; margin: 4pt 0; }
p.source { text-indent: 0; }
"""


def _html(report: Report) -> str:
    parts = [f"<h1>{html_text(report.title)}</h1>"]
    for section in report.sections:
        parts.append(f"<h2>{html_text(section.heading)}</h2>")
        parts += [f"<p>{html_text(line)}</p>" for line in section.body.split("\n") if line]
    parts.append("<h3>参考来源</h3>")
    parts += [
        f'<p class="source">[{n}] {html_text(s)}</p>' for n, s in enumerate(report.sources, start=1)
    ]
    return "<body>" + "".join(parts) + "</body>"


def write_pdf(report: Report, path: Path) -> Path:
    """Write an A4 PDF of the report to ``path``; returns ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # pymupdf ships only partial type hints: treat it as untyped here.
    fitz: Any = pymupdf
    story = fitz.Story(html=_html(report), user_css=_CSS)
    page_rect = fitz.paper_rect("a4")
    frame = fitz.Rect(64, 64, page_rect.width - 64, page_rect.height - 72)
    raw = path.with_suffix(".tmp.pdf")
    writer = fitz.DocumentWriter(str(raw))
    more = 1
    while more:
        device = writer.begin_page(page_rect)
        more, _ = story.place(frame)
        story.draw(device)
        writer.end_page()
    writer.close()
    with fitz.open(str(raw)) as document:
        for number, page in enumerate(document, start=1):
            foot = fitz.Point(page.rect.width / 2 - 4, page.rect.height - 36)
            page.insert_text(foot, str(number), fontsize=9)
        document.save(str(path), garbage=3, deflate=True)
    raw.unlink()
    return path
