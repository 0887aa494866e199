"""The report as Markdown (for the chat preview and for students who prefer plain text).

Figures are embedded as PNG data URIs, so the one file shows them in any Markdown viewer.
"""

from __future__ import annotations

import base64

from bot.report.escape import markdown
from bot.report.figures import figure_caption
from bot.report.formulas import display_formula, formula_block
from bot.report.models import Report, ReportFigure

__all__ = ["to_markdown"]


def _figure(figure: ReportFigure) -> list[str]:
    data = base64.b64encode(figure.image).decode("ascii")
    return [
        f"![图 {figure.number}](data:image/png;base64,{data})",
        "",
        f"*{markdown(figure_caption(figure))}*",
        "",
    ]


def _formula(latex: str) -> list[str]:
    formula = formula_block(latex)
    if formula.image is None:
        return [markdown(formula.text), ""]
    data = base64.b64encode(formula.image).decode("ascii")
    return [f"![{markdown(formula.text)}](data:image/png;base64,{data})", ""]


def to_markdown(report: Report) -> str:
    """Title, the four ``##`` sections (figures in place), the numbered source list, then the
    字数 line. Every text is escaped (``bot.report.escape``): a title holding ``<script>`` stays
    text."""
    parts = [f"# {markdown(report.title)}", ""]
    for index, section in enumerate(report.sections):
        parts += [f"## {markdown(section.heading)}", ""]
        for block in report.blocks(index):
            if isinstance(block, ReportFigure):
                parts += _figure(block)
            elif (latex := display_formula(block)) is not None:
                parts += _formula(latex)
            else:
                # Markdown would join adjacent lines; each body line is its own paragraph.
                parts += [markdown(block), ""]
    parts += ["## 参考来源", ""]
    parts += [f"{n}. {markdown(source)}" for n, source in enumerate(report.sources, start=1)]
    parts += [
        "",
        f"*正文四个部分共 {report.chars} 字（按 Word 字数统计口径），"
        f"经逐句核对的引用 {report.citations} 处。*",
        "",
    ]
    return "\n".join(parts)
