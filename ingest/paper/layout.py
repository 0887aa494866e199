"""Page layout of a PDF: from pymupdf's text dictionary to clean paragraph blocks.

Used by ``ingest.paper.pdf`` (which opens, checks and OCRs the file). Three steps:
``page_lines`` rebuilds each visual line with its font size and boldness; ``remove_noise``
drops what only repeats or numbers the layout (running headers/footers, page numbers, review
line numbers, the vertical arXiv stamp) and moves margin notes after the body; ``to_blocks``
assembles paragraphs and section headings and re-joins a paragraph cut by a page break.
``body_size`` is the font size of the running text, which the other steps compare against.
"""

from __future__ import annotations

import math
import re
import statistics
from collections import Counter
from typing import Any

import pymupdf

from ingest.paper.chunking import Block
from ingest.paper.pdfmeta import Line
from ingest.text import join_lines, join_lines_at, match_heading, normalize_text, word_vocabulary

__all__ = ["body_size", "page_lines", "remove_noise", "to_blocks"]

_BOLD_FONT = re.compile(r"bold|black|heavy|medi|semibold|demi|hei", re.I)
_PAGE_NO = re.compile(
    r"^[-–—\s]*(?:page\s*)?\d{1,4}(?:\s*(?:/|of)\s*\d{1,4})?[-–—\s]*$|^第\s*\d+\s*页", re.I
)
_ARXIV_STAMP = re.compile(r"arXiv:\s*\S+", re.I)
_ENDS_SENTENCE = re.compile(r"[.。!?！？:：;；]['\"”’)）]*$")
_STICKY_NOTE, _FREE_TEXT = 0, 2  # PDF annotation types (pymupdf's PDF_ANNOT_TEXT, _FREE_TEXT)
_FOOTNOTE_MARK = re.compile(r"[\d∗*†‡§¶,]{1,4}")


def body_size(lines: list[Line]) -> float:
    """The font size most text is set in (weighted by characters)."""
    weights: dict[float, int] = {}
    for ln in lines:
        key = round(ln.size * 2) / 2
        weights[key] = weights.get(key, 0) + len(ln.text)
    best = max(weights.items(), key=lambda kv: kv[1])[0]
    return best if best > 0 else statistics.median(ln.size for ln in lines)


def _raised(text: str, before: str) -> str:
    """What a run of raised, smaller spans adds to a line that so far reads ``before``.

    A footnote mark ("gradients⁴", "RNNs.¹", "Vaswani∗", or the "⁴" that opens the footnote
    itself) adds nothing, so it is not glued to the word ("gradients4"); an exponent on a
    variable, a number or a bracket ("d²", "(n)²") stays, as does anything else raised
    (``−0.5``, ``T``, ``dmodel×dk``): text extraction writes them inline ("d2")."""
    mark = text.strip()
    if not _FOOTNOTE_MARK.fullmatch(mark):
        return text
    last = before[-1:]
    word = re.search(r"(\w*)$", before)
    letters = word.group(1) if word else ""
    if last and (last in ")]" or (last.isalnum() and (len(letters) < 2 or last.isdigit()))):
        return mark
    return ""


def _make_line(group: list[tuple[dict[str, Any], list[dict[str, Any]]]], pno: int) -> Line | None:
    """One visual line from pymupdf lines sharing a baseline (e.g. "1" and "Introduction")."""
    group.sort(key=lambda item: item[0]["bbox"][0])
    spans = [s for _, ss in group for s in ss]
    top = max(spans, key=lambda s: s["size"])
    chars: Counter[float] = Counter()
    bold_chars = 0
    segment, part, raised = "", "", ""
    segments: list[str] = []
    parts: list[str] = []
    prev: dict[str, Any] | None = None

    def settle() -> None:
        """Add the pending raised run to the segment (a dropped mark takes its space along)."""
        nonlocal segment, raised
        if raised:
            added = _raised(raised, segment)
            segment = segment + added if added else segment.rstrip(" ")
            raised = ""

    for s in spans:
        t = s["text"].replace("\ufffd", "")
        n = len(t.strip())
        chars[round(s["size"], 1)] += n
        if s["flags"] & 16 or _BOLD_FONT.search(s["font"]):
            bold_chars += n
        superscript = s["size"] <= 0.8 * top["size"] and (
            s["origin"][1] < top["origin"][1] - 0.1 * top["size"]
        )
        if not superscript:
            settle()
        if prev is not None:
            gap = s["bbox"][0] - prev["bbox"][2]
            size = max(s["size"], prev["size"])
            if gap > 0.9 * size:  # a wide gap separates things (names in a row, "1  Intro")
                settle()
                segments.append(segment)
                parts.append(part)
                segment = part = ""
            elif (
                gap > 0.15 * size
                and not (raised or segment).endswith(" ")
                and not t.startswith(" ")
            ):
                if raised:
                    raised += " "
                else:
                    segment += " "
                part += " "
        if superscript:
            raised += t
        else:
            segment += t
            part += t
        prev = s
    settle()
    segments.append(segment)
    parts.append(part)
    text = " ".join(x for x in (normalize_text(seg).strip() for seg in segments) if x)
    clean = text.strip()
    if not clean:
        return None
    x0 = min(item[0]["bbox"][0] for item in group)
    direction = group[0][0]["dir"]
    return Line(
        text=clean,
        page=pno,
        x0=x0,
        y0=min(item[0]["bbox"][1] for item in group),
        x1=max(item[0]["bbox"][2] for item in group),
        y1=max(item[0]["bbox"][3] for item in group),
        size=chars.most_common(1)[0][0],
        bold=bold_chars * 2 > sum(chars.values()),
        vertical=abs(direction[0]) < 0.9,
        parts=tuple(p for p in (normalize_text(x).strip() for x in parts) if p),
    )


def page_lines(page: Any, pno: int, textpage: Any = None) -> list[Line]:
    """The visual lines of a page in reading order, with font size and boldness."""
    flags = pymupdf.TEXT_PRESERVE_WHITESPACE | pymupdf.TEXT_MEDIABOX_CLIP
    data = page.get_text("dict", flags=flags, textpage=textpage)
    notes = _note_boxes(page)
    out: list[Line] = []
    for block in data["blocks"]:
        if block.get("type") != 0:
            continue
        groups: list[list[tuple[dict[str, Any], list[dict[str, Any]]]]] = []
        for line in block["lines"]:
            spans = [s for s in line["spans"] if s["text"]]
            if not any(s["text"].strip() for s in spans):
                continue
            y0, y1 = line["bbox"][1], line["bbox"][3]
            flat = abs(line["dir"][0]) >= 0.9
            for g in groups:
                gy0 = min(item[0]["bbox"][1] for item in g)
                gy1 = max(item[0]["bbox"][3] for item in g)
                overlap = min(y1, gy1) - max(y0, gy0)
                g_flat = abs(g[0][0]["dir"][0]) >= 0.9
                if flat and g_flat and overlap > 0.5 * min(y1 - y0, gy1 - gy0):
                    g.append((line, spans))
                    break
            else:
                groups.append([(line, spans)])
        out.extend(ln for ln in (_make_line(g, pno) for g in groups) if ln is not None)
    if notes:  # a reader's typed comments are not the paper's text
        out = [ln for ln in out if not any(_within(ln, r) for r in notes)]
    return out


def _note_boxes(page: Any) -> list[tuple[float, float, float, float]]:
    """Where a reader's text comments (free-text and sticky-note annotations) sit."""
    if page.first_annot is None:
        return []
    kinds = (_FREE_TEXT, _STICKY_NOTE)
    return [tuple(a.rect) for a in page.annots(types=kinds)]


def _within(ln: Line, r: tuple[float, float, float, float]) -> bool:
    cx, cy = (ln.x0 + ln.x1) / 2, (ln.y0 + ln.y1) / 2
    return r[0] - 1 <= cx <= r[2] + 1 and r[1] - 1 <= cy <= r[3] + 1


def _line_numbers(lines: list[Line], height: float) -> set[int]:
    """Indexes of review line numbers: a tall column of bare integers beside the text."""
    nums = [i for i, ln in enumerate(lines) if re.fullmatch(r"\d{1,4}", ln.text)]
    others = [ln for i, ln in enumerate(lines) if i not in set(nums) and not ln.vertical]
    if len(nums) < 5 or not others:
        return set()
    left, right = min(ln.x0 for ln in others), max(ln.x1 for ln in others)
    drop: set[int] = set()
    columns: dict[int, list[int]] = {}
    for i in nums:
        columns.setdefault(round((lines[i].x0 + lines[i].x1) / 12), []).append(i)
    for col in columns.values():
        ys = [lines[i].y0 for i in col]
        beside = all(lines[i].x1 <= left + 2 or lines[i].x0 >= right - 2 for i in col)
        if len(col) >= 5 and beside and max(ys) - min(ys) > 0.3 * height:
            drop.update(col)
    return drop


def _bands(lines: list[Line], height: float) -> list[Line]:
    by_y = sorted(lines, key=lambda ln: ln.y0)
    top = [ln for ln in by_y[:3] if ln.y0 < 0.12 * height]
    bottom = [ln for ln in by_y[-3:] if ln.y1 > 0.88 * height]
    return [ln for ln in top + bottom if not ln.vertical]


def _key(ln: Line) -> str:
    return re.sub(r"\d+", "#", ln.text.lower())


def _edge_numbers(ln: Line) -> list[int]:
    tokens = ln.text.split()
    return [int(t) for t in {tokens[0], tokens[-1]} if t.isdigit() and len(t) <= 4]


def remove_noise(pages: list[list[Line]], heights: list[float], body: float) -> list[list[Line]]:
    """Drop running headers/footers, page numbers, line numbers and arXiv stamps; move margin
    notes and other vertical text after the page's body so they do not split paragraphs."""
    n = len(pages)
    threshold = max(2, math.ceil(0.2 * n)) if n >= 3 else n + 1
    keys: Counter[str] = Counter()
    offsets: Counter[int] = Counter()
    for pno, (lines, h) in enumerate(zip(pages, heights, strict=True), start=1):
        band = _bands(lines, h)
        keys.update({_key(ln) for ln in band})
        offsets.update({num - pno for ln in band for num in _edge_numbers(ln)})
    out: list[list[Line]] = []
    for pno, (lines, h) in enumerate(zip(pages, heights, strict=True), start=1):
        drop = _line_numbers(lines, h)
        for ln in _bands(lines, h):
            heading = ln.bold and match_heading(ln.text) is not None
            offset_hit = any(offsets[num - pno] >= threshold for num in _edge_numbers(ln))
            if (
                _PAGE_NO.match(ln.text)
                or (keys[_key(ln)] >= threshold and ln.size <= body * 1.15)  # not the title
                or (offset_hit and not heading)
            ):
                drop.add(lines.index(ln))
        kept = [
            ln
            for i, ln in enumerate(lines)
            if i not in drop and not (ln.vertical and _ARXIV_STAMP.search(ln.text))
        ]
        main = [ln for ln in kept if not ln.vertical and abs(ln.size - body) <= 0.6]
        margin: list[Line] = []
        if len(main) >= 5:
            xs1, xs0 = sorted(ln.x1 for ln in main), sorted(ln.x0 for ln in main)
            right, left = xs1[int(0.95 * (len(xs1) - 1))], xs0[int(0.05 * (len(xs0) - 1))]
            margin = [
                ln
                for ln in kept
                if not ln.vertical
                and ln.size < body * 0.92
                and (ln.x0 >= right - 1 or ln.x1 <= left + 1)
            ]
        side = margin + [ln for ln in kept if ln.vertical]
        out.append([ln for ln in kept if ln not in side] + side)
    return out


def _is_heading(ln: Line, body: float) -> bool:
    return (
        not ln.vertical
        and match_heading(ln.text) is not None
        and (ln.bold or ln.size >= body * 1.1)
    )


def _paragraphs(lines: list[Line], body: float) -> list[tuple[bool, list[Line]]]:
    """Group a page's lines into (is_heading, lines) paragraphs."""
    out: list[tuple[bool, list[Line]]] = []
    cur: list[Line] = []
    for ln in lines:
        if _is_heading(ln, body):
            if cur:
                out.append((False, cur))
            out.append((True, [ln]))
            cur = []
            continue
        if cur:
            prev = cur[-1]
            height = max(prev.y1 - prev.y0, 1.0)
            gap = ln.y0 - prev.y1
            right = max(x.x1 for x in cur)
            ends = bool(_ENDS_SENTENCE.search(prev.text))
            new = (
                abs(ln.size - prev.size) > 1.0
                or ln.vertical != prev.vertical
                or gap > 0.8 * height
                or (gap < -height and ends)  # jumped up to the next column
                or (ends and len(cur) > 1 and prev.x1 < right - 1.5 * prev.size)
            )
            if new:
                out.append((False, cur))
                cur = []
        cur.append(ln)
    if cur:
        out.append((False, cur))
    return out


def _merge_pages(pages: list[list[tuple[Block, bool]]]) -> list[Block]:
    """Join a paragraph cut by a page break with its continuation on the next page, so the
    sentence stays whole; footnotes of the first page follow the joined paragraph."""
    out: list[Block] = []
    for i, page in enumerate(pages):
        if not page:
            continue
        nxt = pages[i + 1] if i + 1 < len(pages) else []
        body = [j for j, (_, is_body) in enumerate(page) if is_body]
        last = body[-1] if body else None
        for j, (block, _) in enumerate(page):
            if (
                j == last
                and nxt
                and nxt[0][1]
                and not _ENDS_SENTENCE.search(block.text)
                and not nxt[0][0].text[:1].isupper()
            ):
                cont = nxt.pop(0)[0]
                glue = _glue_text(block.text, cont.text)
                shift = len(block.text) + len(glue)
                block = Block(
                    text=block.text + glue + cont.text,
                    page=block.page,
                    breaks=((shift, cont.page),),
                    lines=block.lines
                    + tuple(
                        (at + shift, pg, x0, y0, x1, y1) for at, pg, x0, y0, x1, y1 in cont.lines
                    ),
                )
            out.append(block)
    return out


def _glue_text(a: str, b: str) -> str:
    return join_lines([a, b])[len(a) : len(join_lines([a, b])) - len(b)]


def to_blocks(pages: list[list[Line]], body: float) -> list[Block]:
    """Paragraph and heading blocks of the whole document, hyphenation undone."""
    vocab = word_vocabulary(ln.text for lines in pages for ln in lines)
    per_page: list[list[tuple[Block, bool]]] = []
    for lines in pages:
        blocks: list[tuple[Block, bool]] = []
        for heading, para in _paragraphs(lines, body):
            text, starts = join_lines_at([ln.text for ln in para], vocab)
            if sum(ch.isalpha() for ch in text) >= 2:
                is_body = not heading and abs(para[0].size - body) <= 0.6 and not para[0].vertical
                printed = tuple(
                    (at, ln.page, ln.x0, ln.y0, ln.x1, ln.y1)
                    for at, ln in zip(starts, para, strict=True)
                    if at >= 0
                )
                block = Block(text=text, page=para[0].page, heading=heading, lines=printed)
                blocks.append((block, is_body))
        per_page.append(blocks)
    return _merge_pages(per_page)
