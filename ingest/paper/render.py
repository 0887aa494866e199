"""Drawing with MuPDF for the layers above: regions of a paper's pages as a PNG, HTML as a PDF.

``render_regions`` shows a passage or a figure exactly as printed (formulas, tables, scanned
pages alike): the regions, each a ``(page, x0, y0, x1, y1)`` box in PDF points, are placed one
under the other on a fresh page and rendered at about 1000 pixels across. Only the page's
own content is drawn, not a reader's annotations. ``html_to_pdf`` lays out HTML on A4 pages
with ``pymupdf.Story`` (its built-in CJK font covers Chinese, no system fonts needed), images
included, and numbers the pages. Both are blocking MuPDF work: callers run them off the event
loop (``ingest.paper.pdf_process`` runs ``render_regions`` in a child process).
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Any

import pymupdf

from kernel.errors import DamagedFileError, PasswordRequiredError
from kernel.models import Box

__all__ = ["html_to_pdf", "render_regions"]

# pymupdf ships only partial type hints: it is used untyped here.
_fitz: Any = pymupdf

TARGET_PX = 1000  # pixels across an image
_MIN_ZOOM, _MAX_ZOOM = 1.5, 3.0
_PAD_X, _PAD_Y = 6.0, 4.0  # points of margin around each region
_GAP = 10.0  # points between two stacked regions


def _open(data: bytes) -> Any:
    try:
        doc = _fitz.open(stream=data, filetype="pdf")
    except Exception as exc:  # pymupdf raises several types for broken files
        raise DamagedFileError("render_damaged") from exc
    if doc.needs_pass:
        doc.close()
        raise PasswordRequiredError("render_password")
    return doc


def render_regions(
    data: bytes, regions: Sequence[Box], *, target_px: int = TARGET_PX, pad: bool = True
) -> bytes:
    """A PNG of ``regions`` of the PDF ``data``, stacked top to bottom in the order given.

    Regions are padded a little (unless ``pad`` is false: a figure's region has its margin
    already, and more would reach into its caption) and clipped to their page; a region on a
    page the PDF does not have, or an empty list, raises ``ValueError``."""
    if not regions:
        raise ValueError("no region to render")
    src = _open(data)
    try:
        clips: list[tuple[int, Any]] = []
        for page_no, x0, y0, x1, y1 in regions:
            if not 1 <= page_no <= src.page_count:
                raise ValueError(f"page {page_no} is not in this PDF ({src.page_count} pages)")
            page_rect = src[page_no - 1].rect
            dx, dy = (_PAD_X, _PAD_Y) if pad else (0.0, 0.0)
            clip = _fitz.Rect(x0 - dx, y0 - dy, x1 + dx, y1 + dy) & page_rect
            if clip.is_empty:
                raise ValueError(f"region {(x0, y0, x1, y1)} is outside page {page_no}")
            clips.append((page_no - 1, clip))
        width = max(clip.width for _, clip in clips)
        height = sum(clip.height for _, clip in clips) + _GAP * (len(clips) - 1)
        out = _fitz.open()
        try:
            canvas = out.new_page(width=width, height=height)
            y = 0.0
            for index, clip in clips:
                target = _fitz.Rect(0, y, clip.width, y + clip.height)
                canvas.show_pdf_page(target, src, index, clip=clip)
                y += clip.height + _GAP
            zoom = min(max(target_px / width, _MIN_ZOOM), _MAX_ZOOM)
            pix = canvas.get_pixmap(matrix=_fitz.Matrix(zoom, zoom), alpha=False)
            return bytes(pix.tobytes("png"))
        finally:
            out.close()
    finally:
        src.close()


def html_to_pdf(
    body_html: str,
    css: str,
    *,
    images: Mapping[str, bytes] | None = None,
    margin: float = 64.0,
) -> bytes:
    """An A4 PDF of ``body_html`` styled by ``css``; ``<img src="NAME">`` takes ``images[NAME]``.
    Page numbers are stamped at the foot of each page."""
    archive = _fitz.Archive()
    for name, data in (images or {}).items():
        archive.add((data, name))
    story = _fitz.Story(html=body_html, user_css=css, archive=archive)
    page_rect = _fitz.paper_rect("a4")
    frame = _fitz.Rect(margin, margin, page_rect.width - margin, page_rect.height - margin - 8)
    raw = io.BytesIO()
    writer = _fitz.DocumentWriter(raw)
    more = 1
    while more:
        device = writer.begin_page(page_rect)
        more, _ = story.place(frame)
        story.draw(device)
        writer.end_page()
    writer.close()
    with _fitz.open(stream=raw.getvalue(), filetype="pdf") as document:
        for number, page in enumerate(document, start=1):
            foot = _fitz.Point(page.rect.width / 2 - 4, page.rect.height - 36)
            page.insert_text(foot, str(number), fontsize=9)
        return bytes(document.tobytes(garbage=3, deflate=True))
