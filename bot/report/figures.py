"""The paper's key figures in the report's （3）关键技术解析, with caption, number and page.

Which figures: the ones the student's notes point at (a cited caption, a figure named in an
answer or a cited snippet, one printed on a cited page), then the paper's overview or
architecture figure, then its first figure; two at most. Each goes after the paragraph of
section (3) that names it ("Figure 1", "图 1"), else at the section's end, with a caption such
as ``图 1　The Transformer - model architecture.（原文 Figure 1）[论文 p.3]``. The caption is
text and counts toward 字数, as Word counts it; the picture does not.
"""

from __future__ import annotations

import dataclasses
import logging
import re
from collections.abc import Sequence

from bot.pages import PageViewer, figure_number, relevant_figures
from bot.report.citations import count_markers, paper_marker
from bot.report.models import TECH_SECTION, Report, ReportFigure
from bot.report.wordcount import count_zi
from kernel.models import Figure, FigureKind, Note

__all__ = ["MAX_FIGURES", "add_key_figures", "figure_caption", "pick_figures"]

log = logging.getLogger(__name__)

MAX_FIGURES = 2
_KEY_CAPTION = re.compile(
    r"architect|overview|framework|pipeline|model|method|approach|diagram|架构|结构|框架|流程|模型",
    re.I,
)
_LABEL_PREFIX = re.compile(
    r"^\s*(?:figure|fig\.?|table|tab\.?|图|表)\s*[\w.\-–]+\s*[:：.|]?\s*", re.I
)


def figure_caption(figure: ReportFigure) -> str:
    """``图 1　<the paper's caption>（原文 Figure 1）[论文 p.3]``."""
    text = _LABEL_PREFIX.sub("", figure.caption, count=1).strip() or figure.caption
    return f"图 {figure.number}　{text}（原文 {figure.label}）{paper_marker(figure.page)}"


def pick_figures(figures: Sequence[Figure], notes: Sequence[Note]) -> list[Figure]:
    """The key figures of the paper (see the module docstring), best first."""
    pictures = [f for f in figures if f.kind is FigureKind.FIGURE]
    chosen: list[Figure] = []
    for note in notes:
        for f in relevant_figures(pictures, note.citations, note.answer):
            if f not in chosen:
                chosen.append(f)
    key = [f for f in pictures if _KEY_CAPTION.search(f.caption)]
    for f in [*key, *pictures]:
        if f not in chosen:
            chosen.append(f)
    return chosen[:MAX_FIGURES]


def _mentions(line: str, figure: Figure) -> bool:
    number = figure_number(figure.label)
    if number is None:
        return False
    pattern = rf"(?:Figure|Fig\.?|图)\s*{re.escape(number)}(?![\d.])"
    return re.search(pattern, line, re.I) is not None


def _place(report: Report, figures: Sequence[tuple[Figure, bytes]]) -> Report:
    section = report.sections[TECH_SECTION]
    lines = [line.strip() for line in section.body.split("\n") if line.strip()]
    placed = []
    for n, (figure, image) in enumerate(figures, start=1):
        after = next((i for i, line in enumerate(lines) if _mentions(line, figure)), -1)
        placed.append(
            ReportFigure(
                number=n,
                label=figure.label,
                caption=figure.caption,
                page=figure.page,
                image=image,
                section=TECH_SECTION,
                after=after,
            )
        )
    captions = [figure_caption(f) for f in placed]
    extra = sum(count_zi(c) for c in captions)
    sections = list(report.sections)
    sections[TECH_SECTION] = dataclasses.replace(section, chars=section.chars + extra)
    return dataclasses.replace(
        report,
        sections=tuple(sections),
        chars=report.chars + extra,
        citations=report.citations + sum(count_markers(c) for c in captions),
        figures=tuple(placed),
    )


async def add_key_figures(
    pages: PageViewer, chat_id: int, source_id: str, report: Report, notes: Sequence[Note]
) -> Report:
    """``report`` with the key figures of the paper ``source_id`` in section (3). A figure
    that cannot be shown (no kept PDF, a rendering failure) is left out; the report is never
    lost over it."""
    try:
        figures = [f for f in await pages.figures(chat_id) if f.source_id == source_id]
    except Exception:
        log.exception("could not list the figures of chat %s for the report", chat_id)
        return report
    shown: list[tuple[Figure, bytes]] = []
    for figure in pick_figures(figures, notes):
        try:
            shown.append((figure, await pages.image(figure)))
        except Exception:
            log.exception("could not render %s for the report", figure.figure_id)
    return _place(report, shown) if shown else report
