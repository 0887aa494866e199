"""Figures and tables of a paper page, found by their captions.

A caption is a paragraph that starts with a label: "Figure 1:", "Fig. 2.", "Table 3:",
"图8.1 注意力机制", "表 2 …" ("Table 2 summarizes …" and "图8.1给出了 …" are prose). The figure
or table is what sits next to its caption — above or below, in the caption's column of a
two-column page or across the page — up to the nearest body prose: drawings and images (raster
and vector alike), and the text set among them (labels, table cells). The region found is
what ``ingest.paper.render`` crops when the figure is shown.

The text inside a figure or table is not prose: ``parse_pdf`` takes those lines, and the
captions, out of the paragraphs (a caption becomes a chunk of its own).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ingest.paper.pdfmeta import Line
from ingest.text import is_cjk, join_lines, match_heading
from kernel.models import FigureKind

__all__ = ["FoundFigure", "caption_label", "find_figures"]

_CAPTION = re.compile(
    r"^(?P<word>Figure|FIGURE|Fig\.?|FIG\.?|Table|TABLE|Tab\.|图|表)\s*"
    r"(?P<num>(?:[A-Z]\.?)?\d{1,3}(?:[.\-–]\d{1,3})*[a-z]?)(?P<after>.*)$"
)
_CONTINUES = ("所示", "中", "给出", "是", "为", "展示", "表示", "说明", "可以", "的", "和", "与")
_GRAPHICS = ("fill-path", "stroke-path", "fill-image", "fill-imgmask", "fill-shade")
_ENDS_SENTENCE = re.compile(r"[.。!?！？:：;；]['\"”’)）]*$")
_SENTENCE_END = re.compile(r"[a-z\u4e00-\u9fff)）][.。!?！？]['\"”’)）]*$")
_REACH = 6.0  # how far (in body-text lines) a figure may sit from its caption


@dataclass(frozen=True)
class FoundFigure:
    """A figure or table of one page: label as printed, caption text, crop and the indexes of
    the page's lines that are its caption and its inside (which are not prose)."""

    kind: FigureKind
    label: str
    caption: str
    page: int
    bbox: tuple[float, float, float, float]
    caption_box: tuple[float, float, float, float]
    caption_lines: tuple[int, ...]
    inner_lines: tuple[int, ...]
    cells: tuple[str, ...] = field(default=())  # a table's rows, as text


def caption_label(ln: Line) -> tuple[FigureKind, str] | None:
    """(kind, label) when the line opens a caption ("Figure 1:" ...), else None."""
    m = _CAPTION.match(ln.text)
    if m is None:
        return None
    word, num, after = m.group("word"), m.group("num"), m.group("after")
    chinese = word in ("图", "表")
    rest = after.lstrip()
    if not rest:
        return None
    spaced = after[:1].isspace()
    if rest[0] in ":：.|":
        ok = not (rest[0] == "." and rest[1:2].isdigit())
    elif chinese:  # "图8.1 注意力机制", not "图8.1给出了……。" (the space may be lost)
        ok = not rest.startswith(_CONTINUES) and (
            spaced or (len(rest) <= 40 and not rest.endswith(("。", "，", "；", "：")))
        )
    else:  # "Fig. 1  Overview of …": the label stands apart (a wide gap), then a capital
        ok = bool(ln.parts) and ln.parts[0].strip() == ln.text[: m.end("num")].strip()
        ok = ok and (rest[0].isupper() or is_cjk(rest[0]))
    if not ok:
        return None
    kind = FigureKind.TABLE if word.lower().startswith("tab") or word == "表" else FigureKind.FIGURE
    label = f"{word}{num}" if chinese else f"{word} {num}"
    return kind, label


# -- geometry ---------------------------------------------------------------------------------

Rect = tuple[float, float, float, float]


def _union(a: Rect, b: Rect) -> Rect:
    return (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))


def _near(a: Rect, b: Rect, dx: float, dy: float) -> bool:
    return a[0] - dx <= b[2] and b[0] <= a[2] + dx and a[1] - dy <= b[3] and b[1] <= a[3] + dy


def _inside(point: tuple[float, float], r: Rect) -> bool:
    return r[0] <= point[0] <= r[2] and r[1] <= point[1] <= r[3]


def _box(ln: Line) -> Rect:
    return (ln.x0, ln.y0, ln.x1, ln.y1)


def _center(r: Rect) -> tuple[float, float]:
    return ((r[0] + r[2]) / 2, (r[1] + r[3]) / 2)


@dataclass
class _Page:
    """What the search looks at on one page."""

    lines: list[Line]
    width: float
    height: float
    body: float
    graphics: list[Rect]
    gutter: float | None  # x of the gap between two columns, None for one column
    prose: set[int]
    barriers: set[int]  # prose, headings and captions: a figure never reaches past them


def _graphics(page: Any) -> list[Rect]:
    area = page.rect.width * page.rect.height
    out: list[Rect] = []
    for kind, bbox in page.get_bboxlog():
        if kind not in _GRAPHICS:
            continue
        x0, y0, x1, y1 = (float(v) for v in bbox)
        x0, y0 = max(x0, 0.0), max(y0, 0.0)
        x1, y1 = min(x1, page.rect.width), min(y1, page.rect.height)
        if x1 < x0 or y1 < y0 or (x1 - x0) * (y1 - y0) >= 0.9 * area:
            continue  # outside the page, or a background / a whole scanned page
        out.append((x0, y0, x1, y1))
    return out


def _gutter(lines: list[Line], width: float, body: float) -> float | None:
    """The x between two columns of body text, if the page has two."""
    texty = [ln for ln in lines if not ln.vertical and abs(ln.size - body) <= 0.6]
    mid = width / 2
    left = [ln for ln in texty if ln.x1 < mid + 5 and ln.x1 - ln.x0 > 0.25 * width]
    right = [ln for ln in texty if ln.x0 > mid - 5 and ln.x1 - ln.x0 > 0.25 * width]
    across = [ln for ln in texty if ln.x0 < mid - 20 and ln.x1 > mid + 20]
    if len(left) < 4 or len(right) < 4 or len(across) > min(len(left), len(right)):
        return None
    return (max(ln.x1 for ln in left) + min(ln.x0 for ln in right)) / 2


def _words(text: str) -> int:
    return len(text.split()) + sum(map(is_cjk, text)) // 3


def _classify(
    lines: list[Line], graphics: list[Rect], body: float, width: float, captions: set[int]
) -> tuple[set[int], set[int]]:
    """Indexes of prose lines, and of barriers (prose, headings, captions)."""
    pictures = [g for g in graphics if (g[2] - g[0]) * (g[3] - g[1]) > 2000]

    texty = sorted(
        ln.x1 - ln.x0
        for ln in lines
        if not ln.vertical and abs(ln.size - body) <= 0.6 and len(ln.parts) <= 1
    )
    column = texty[int(0.9 * (len(texty) - 1))] if texty else width - 120

    prose: set[int] = set()
    for i, ln in enumerate(lines):
        if ln.vertical or i in captions or abs(ln.size - body) > 0.6 or len(ln.parts) > 1:
            continue
        if any(_inside(_center(_box(ln)), g) for g in pictures):
            continue
        long = ln.x1 - ln.x0 >= 0.55 * column
        sentence = _SENTENCE_END.search(ln.text) is not None and _words(ln.text) >= 4
        if (long and _words(ln.text) >= 5) or sentence:
            prose.add(i)
    # A paragraph's short last line (and its first, if indented) reads on from a long one.
    for _ in range(2):
        for i, ln in enumerate(lines):
            if i in prose or i in captions or ln.vertical or abs(ln.size - body) > 0.6:
                continue
            if len(ln.parts) > 1:
                continue
            for j in prose:
                other = lines[j]
                h = max(other.y1 - other.y0, 1.0)
                above = 0 <= ln.y0 - other.y1 <= 0.6 * h and abs(ln.x0 - other.x0) < 3
                below = 0 <= other.y0 - ln.y1 <= 0.6 * h and abs(ln.x1 - other.x1) < 3
                if above or below:
                    prose.add(i)
                    break
    headings = {
        i
        for i, ln in enumerate(lines)
        if not ln.vertical
        and (ln.bold or ln.size >= body * 1.1)
        # a numbered or named heading, or an unnumbered title set larger ("Attention
        # Visualizations" over an appendix figure)
        and (
            match_heading(ln.text) is not None
            or (ln.bold and ln.size >= body * 1.15 and _words(ln.text) <= 8)
        )
    }
    return prose, prose | headings | captions


# -- captions ---------------------------------------------------------------------------------


def _continues(prev: Line, ln: Line) -> bool:
    """Whether ``ln`` is the next line of the paragraph ``prev`` is in."""
    h = max(prev.y1 - prev.y0, 1.0)
    return (
        0 <= ln.y0 - prev.y1 <= 0.7 * h
        and abs(ln.size - prev.size) <= 0.6
        and min(ln.x1, prev.x1) - max(ln.x0, prev.x0) > 0.3 * min(ln.x1 - ln.x0, prev.x1 - prev.x0)
    )


def _caption_lines(lines: list[Line], start: int, all_starts: set[int]) -> list[int]:
    """The caption's lines: its first line and the ones that read on from it."""
    first = lines[start]
    chosen = [start]
    below = sorted(
        (
            i
            for i, ln in enumerate(lines)
            if ln.y0 > first.y0 and not ln.vertical and min(ln.x1, first.x1) > max(ln.x0, first.x0)
        ),
        key=lambda i: lines[i].y0,
    )
    for i in below:  # the lines under the caption's first line, in its column
        ln = lines[i]
        if len(chosen) >= 12 or i in all_starts or len(ln.parts) > 1:
            break
        if not _continues(lines[chosen[-1]], ln):
            break
        chosen.append(i)
    return chosen


def _starts_paragraph(lines: list[Line], i: int) -> bool:
    ln = lines[i]
    for other in lines:
        if other is ln or other.vertical:
            continue
        if _continues(other, ln) and not _ENDS_SENTENCE.search(other.text):
            return False
    return True


# -- the search -------------------------------------------------------------------------------


def _column(p: _Page, cap: Rect) -> tuple[float, float]:
    if p.gutter is None or (cap[0] < p.gutter - 10 and cap[2] > p.gutter + 10):
        return 0.0, p.width
    return (0.0, p.gutter) if cap[2] <= p.gutter + 10 else (p.gutter, p.width)


def _search(p: _Page, cap: Rect, below: bool, kind: FigureKind, skip: set[int]) -> Rect | None:
    """The figure on one side of the caption, or None."""
    cx0, cx1 = _column(p, cap)

    def in_column(r: Rect) -> bool:
        w = max(r[2] - r[0], 0.1)
        return min(r[2], cx1) - max(r[0], cx0) >= 0.5 * w

    def side(r: Rect) -> float:  # distance from the caption, negative if on the other side
        return r[1] - cap[3] if below else cap[1] - r[3]

    limit = p.height if below else 0.0
    for i, ln in enumerate(p.lines):
        r = _box(ln)
        if i in p.barriers and i not in skip and in_column(r) and side(r) >= -1:
            edge = r[1] if below else r[3]
            limit = min(limit, edge) if below else max(limit, edge)

    def in_band(r: Rect, slack: float = 1.0) -> bool:
        if not in_column(r) or side(r) < -2:
            return False
        return r[3] <= limit + slack if below else r[1] >= limit - slack

    # A drawing may reach a little past the prose line that bounds it (a frame, an arrow).
    graphics = [g for g in p.graphics if in_band(g, 0.6 * p.body)]
    texts = [
        _box(ln)
        for i, ln in enumerate(p.lines)
        if i not in p.barriers
        and i not in skip
        and in_band(_box(ln))
        and p.height * 0.06 < (ln.y0 + ln.y1) / 2 < p.height * 0.94
        and ln.y1 - ln.y0 < 0.5 * p.height  # not a margin stamp running down the page
    ]
    seeds = graphics or (
        [_box(ln) for ln in p.lines if len(ln.parts) > 1 and in_band(_box(ln))]
        if kind is FigureKind.TABLE
        else []
    )
    if not seeds:
        return None
    seeds.sort(key=side)
    region = seeds[0]
    if side(region) > _REACH * p.body * 1.5:
        return None  # nothing close to the caption
    pool = graphics + texts
    grown = True
    while grown:
        grown = False
        for r in pool:
            if _near(region, r, 4.0 * p.body, 1.5 * p.body) and _union(region, r) != region:
                region = _union(region, r)
                grown = True
    return region


def find_figures(page: Any, lines: list[Line], pno: int, body: float) -> list[FoundFigure]:
    """The captioned figures and tables of one page (``lines`` as ``page_lines`` made them)."""
    if page.rotation:  # a landscape table on a turned page: coordinates would need turning
        return []  # (none in the corpus; left out rather than cropped wrong)
    starts = {
        i
        for i, ln in enumerate(lines)
        if not ln.vertical and caption_label(ln) is not None and _starts_paragraph(lines, i)
    }
    if not starts:
        return []
    groups = {
        i: _caption_lines(lines, i, starts) for i in sorted(starts, key=lambda i: lines[i].y0)
    }
    caption_idx = {j for g in groups.values() for j in g}
    width, height = page.rect.width, page.rect.height
    graphics = _graphics(page)
    gutter = _gutter(lines, width, body)
    prose, barriers = _classify(lines, graphics, body, width, caption_idx)
    p = _Page(lines, width, height, body, graphics, gutter, prose, barriers)
    found: list[FoundFigure] = []
    for start, group in groups.items():
        labelled = caption_label(lines[start])
        assert labelled is not None
        kind, label = labelled
        cap: Rect = _box(lines[group[0]])
        for j in group[1:]:
            cap = _union(cap, _box(lines[j]))
        skip = set(group)
        above = _search(p, cap, below=False, kind=kind, skip=skip)
        under = _search(p, cap, below=True, kind=kind, skip=skip)
        # Figures sit above their captions by convention, tables either way: the closer wins.
        gap_above = cap[1] - above[3] - (12 if kind is FigureKind.FIGURE else 0) if above else None
        gap_under = under[1] - cap[3] if under else None
        if gap_above is None and gap_under is None:
            continue
        region = (
            above
            if gap_under is None or (gap_above is not None and gap_above <= gap_under)
            else under
        )
        assert region is not None
        x0, y0, x1, y1 = region
        if x1 - x0 < 30 or y1 - y0 < 12:
            continue
        # A little margin, but never into the caption (it is shown as text beside the crop).
        top, bottom = max(y0 - 3, 0.0), min(y1 + 3, height)
        if region is under:
            top = max(top, min(cap[3] + 0.5, y0))
        else:
            bottom = min(bottom, max(cap[1] - 0.5, y1))
        bbox = (max(x0 - 5, 0.0), top, min(x1 + 5, width), bottom)
        inner = tuple(
            i
            for i, ln in enumerate(lines)
            if i not in caption_idx and i not in prose and _inside(_center(_box(ln)), bbox)
        )
        cells = tuple(
            lines[i].text for i in sorted(inner, key=lambda i: (lines[i].y0, lines[i].x0))
        )
        found.append(
            FoundFigure(
                kind=kind,
                label=label,
                caption=join_lines([lines[j].text for j in group]),
                page=pno,
                bbox=bbox,
                caption_box=cap,
                caption_lines=tuple(group),
                inner_lines=inner,
                cells=cells if kind is FigureKind.TABLE else (),
            )
        )
    return found
