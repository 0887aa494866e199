"""Turn the bytes of a paper PDF into a ParsedSource: metadata plus page-located chunks.

Checks the input first (empty, not a PDF, too large, damaged, password) and raises the matching
``kernel.errors`` error with nothing half-done. Then reads each page (reporting progress), OCRs
pages without a text layer when Tesseract is installed (otherwise names them in a warning), and
finds the figures and tables (``ingest.paper.figures``: cropped, their captions made chunks of their
own, their text kept out of the prose) and hands the rest of the lines to ``ingest.paper.layout``
(noise removal, paragraphs, headings) and ``ingest.paper.chunking``.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable
from typing import Any

import pymupdf

from ingest.paper.chunking import Block, chunk_blocks, merge_boxes
from ingest.paper.figures import FoundFigure, caption_label, find_figures
from ingest.paper.layout import body_size, page_lines, remove_noise, to_blocks
from ingest.paper.pdfmeta import Line, extract_meta
from kernel.errors import (
    DamagedFileError,
    EmptyFileError,
    NotAPDFError,
    NoTextError,
    PasswordRequiredError,
    TooLargeError,
    WrongPasswordError,
)
from kernel.models import Chunk, ChunkRole, FigureKind, PageFigure, ParsedSource, SourceKind

__all__ = ["ocr_available", "parse_pdf"]

_CAPTION_CHARS = 1200  # a table's chunk: caption, then as much of its cells as fits
_MIN_PAGE_CHARS = 20  # fewer visible characters than this, plus an image: a scanned page
# Resolution scanned pages are rendered at for OCR (chi_sim+eng, shared 2-core machine, noisy).
# backprop_old.pdf (4 pages scanned at 200 dpi): 200 dpi 56 s, 93.7% of Latin words in a
# dictionary; 300 dpi 62 s, 91.8%; 86% of the words identical in order. Text pages rendered as
# 300-dpi scans, words/characters recovered vs. the real text layer at 200 | 300 dpi: English
# 97.4% | 97.6%, Chinese 93.3% | 91.4%. No quality gain from 300 dpi, ~10% more time and 2.25x
# the pixels in memory. (The language set is the bigger lever: eng alone took 20 s, not 56 s.)
_OCR_DPI = 200


def ocr_available() -> bool:
    """True when Tesseract is installed: pymupdf's built-in OCR finds its language data
    through the ``tesseract`` binary (unless TESSDATA_PREFIX is set)."""
    return shutil.which("tesseract") is not None


def _image_cover(page: Any) -> float:
    """Share of the page covered by images (a scan is one big image; a logo is not)."""
    area = page.rect.width * page.rect.height or 1.0
    covered = 0.0
    r = page.rect
    for info in page.get_image_info():
        x0, y0, x1, y1 = info["bbox"]
        w = min(x1, r.x1) - max(x0, r.x0)
        h = min(y1, r.y1) - max(y0, r.y0)
        covered += max(w, 0.0) * max(h, 0.0)
    return min(covered / area, 1.0)


def _page_list(pages: list[int]) -> str:
    """ "3–5, 8" from [3, 4, 5, 8]."""
    spans: list[str] = []
    start = prev = pages[0]
    for p in [*pages[1:], None]:
        if p is not None and p == prev + 1:
            prev = p
            continue
        spans.append(f"{start}" if start == prev else f"{start}–{prev}")
        if p is not None:
            start = prev = p
    return ", ".join(spans)


def _open(data: bytes, filename: str | None, password: str | None, max_bytes: int) -> Any:
    name = filename or "?"
    if not data:
        raise EmptyFileError("empty", name=name)
    if len(data) > max_bytes:
        mb, limit = len(data) / 2**20, max_bytes / 2**20
        raise TooLargeError("pdf_bytes", mb=f"{mb:.1f}", limit=f"{limit:.0f}")
    if b"%PDF-" not in data[:1024]:
        raise NotAPDFError("not_pdf", name=name)
    damaged = DamagedFileError("pdf_damaged")
    try:
        doc: Any = pymupdf.open(stream=data, filetype="pdf")  # type: ignore[no-untyped-call]  # pymupdf ships partial hints
    except Exception as exc:  # pymupdf raises several types for broken files
        raise damaged from exc
    # A file cut short has no end-of-file marker; pymupdf "repairs" it and silently loses pages.
    truncated = b"%%EOF" not in data[-2048:] and bool(getattr(doc, "is_repaired", False))
    if doc.page_count == 0 or truncated:
        doc.close()
        raise damaged
    if doc.needs_pass:
        if password is None:
            doc.close()
            raise PasswordRequiredError("pdf_password")
        if not doc.authenticate(password):
            doc.close()
            raise WrongPasswordError("wrong_password")
    return doc


def _ocr_lines(page: Any, pno: int, languages: str) -> list[Line]:
    """OCR one page; falls back to English alone if the Chinese model is missing."""
    for langs in dict.fromkeys([languages, "eng"]):
        try:
            tp = page.get_textpage_ocr(language=langs, dpi=_OCR_DPI, full=True)
            return page_lines(page, pno, textpage=tp)
        except Exception:  # Tesseract missing a language or crashing: try the next option
            continue
    return []


def _figures(
    doc: Any, pages: list[list[Line]], body: float
) -> list[tuple[PageFigure, FoundFigure]]:
    """Find the figures and tables; their captions and inner text leave ``pages`` (they are
    not prose)."""
    out: list[tuple[PageFigure, FoundFigure]] = []
    for i, lines in enumerate(pages):
        if not any(caption_label(ln) for ln in lines if not ln.vertical):
            continue  # most pages: no caption, no drawing is even looked at
        found = find_figures(doc[i], lines, i + 1, body)
        taken = {k for f in found for k in (*f.caption_lines, *f.inner_lines)}
        pages[i] = [ln for k, ln in enumerate(lines) if k not in taken]
        for f in found:
            figure = PageFigure(
                kind=f.kind,
                label=f.label,
                caption=f.caption,
                page=f.page,
                bbox=tuple(round(v, 1) for v in f.bbox),
            )
            out.append((figure, f))
    return out


def _caption_chunks(found: list[tuple[PageFigure, FoundFigure]], first: int) -> list[Chunk]:
    """One chunk per figure or table: its caption (a table's cells after it), searchable like
    text and marked with its role; its boxes cover the figure and the caption."""
    chunks: list[Chunk] = []
    for n, (figure, f) in enumerate(found):
        text = figure.caption
        if f.cells:
            text = (text + "\n" + " · ".join(f.cells))[:_CAPTION_CHARS]
        boxes = merge_boxes([(figure.page, *figure.bbox), (figure.page, *f.caption_box)])
        chunks.append(
            Chunk(
                ordinal=first + n,
                text=text,
                page=figure.page,
                page_end=figure.page,
                boxes=boxes,
                role=ChunkRole.TABLE if figure.kind is FigureKind.TABLE else ChunkRole.FIGURE,
            )
        )
    return chunks


def parse_pdf(
    data: bytes,
    *,
    filename: str | None = None,
    password: str | None = None,
    max_bytes: int = 50 * 2**20,
    max_pages: int = 300,
    ocr: bool = True,
    ocr_languages: str = "chi_sim+eng",
    progress: Callable[[int, int], None] | None = None,
) -> ParsedSource:
    """Parse a paper PDF. Raises an ``InputError`` subclass for unusable input."""
    doc = _open(data, filename, password, max_bytes)
    try:
        total = doc.page_count
        if total > max_pages:
            raise TooLargeError("pdf_pages", pages=total, limit=max_pages)
        can_ocr = ocr and ocr_available()
        pages: list[list[Line]] = []
        scanned: list[int] = []
        ocred: list[int] = []
        sizes: list[Line] = []
        heights: list[float] = []
        for i in range(total):
            try:
                page = doc[i]
                lines = page_lines(page, i + 1)
                visible = sum(len(ln.text.replace(" ", "")) for ln in lines if not ln.vertical)
                if visible < _MIN_PAGE_CHARS and _image_cover(page) >= 0.3:
                    lines = _ocr_lines(page, i + 1, ocr_languages) if can_ocr else []
                    (ocred if lines else scanned).append(i + 1)
            except Exception as exc:  # a page pymupdf cannot decode: the file is damaged
                raise DamagedFileError("pdf_page_damaged", page=i + 1) from exc
            pages.append(lines)
            heights.append(page.rect.height)
            sizes.extend(ln for ln in lines if not ln.vertical)
            if progress is not None:
                progress(i + 1, total)
        if not sizes:
            raise NoTextError("scanned")
        body = body_size(sizes)
        first = next(i for i, lines in enumerate(pages) if lines)
        meta = extract_meta(
            pages[first],
            doc.metadata,
            body_size=body,
            page_height=heights[first],
            trust_fonts=first + 1 not in ocred,  # OCR line heights say nothing about fonts
        )
        found = _figures(doc, pages, body)
        clean = remove_noise(pages, heights, body)
        blocks: list[Block] = to_blocks(clean, body)
        chunks = chunk_blocks(blocks)
        chunks += _caption_chunks(found, len(chunks))
        if not chunks:
            raise NoTextError("no_body")
        warnings: list[str] = []
        if scanned:
            p = _page_list(scanned)
            warnings.append(
                f"第 {p} 页没有文字层（可能是扫描页），这些页的内容没有读取。 / "
                f"Page(s) {p} have no text layer (probably scanned) and were skipped."
            )
        if ocred:
            p = _page_list(ocred)
            warnings.append(
                f"第 {p} 页是扫描页，文字由 OCR 识别，可能有错字。 / "
                f"Page(s) {p} were scanned; their text comes from OCR and may contain errors."
            )
        return ParsedSource(
            kind=SourceKind.PAPER,
            fingerprint=hashlib.sha256(data).hexdigest(),
            paper=meta.model_copy(update={"pages": total, "filename": filename}),
            chunks=tuple(chunks),
            warnings=tuple(warnings),
            figures=tuple(figure for figure, _ in found),
        )
    finally:
        doc.close()
