"""An optional PDF copy of the report, without LibreOffice: HTML laid out by MuPDF.

The HTML and its styles are written here; ``ingest.paper.render.html_to_pdf`` lays them out on A4
pages (its built-in CJK font needs no system fonts) and numbers the pages. Figures go in as
images with their captions, in （3）关键技术解析.
"""

from __future__ import annotations

from pathlib import Path

from bot.report.escape import html_text
from bot.report.figures import figure_caption
from bot.report.formulas import display_formula, formula_block, print_width_in
from bot.report.models import Report, ReportFigure
from ingest.paper.render import html_to_pdf

__all__ = ["report_pdf", "write_pdf"]

_CSS = """
body { font-family: sans-serif; font-size: 11pt; line-height: 1.6; }
h1 { font-size: 18pt; text-align: center; }
h2 { font-size: 14pt; margin-top: 14pt; }
h3 { font-size: 12pt; margin-top: 12pt; }
p { text-indent: 22pt; margin: 4pt 0; }
p.source { text-indent: 0; }
p.formula { text-indent: 0; text-align: center; }
p.caption { text-indent: 0; text-align: center; font-size: 10pt; margin-bottom: 10pt; }
div.figure { text-align: center; margin-top: 8pt; }
"""
_FIGURE_WIDTH = 380  # points: a figure spans most of the text width


def _html(report: Report) -> tuple[str, dict[str, bytes]]:
    parts = [f"<h1>{html_text(report.title)}</h1>"]
    images: dict[str, bytes] = {}
    for index, section in enumerate(report.sections):
        parts.append(f"<h2>{html_text(section.heading)}</h2>")
        for block in report.blocks(index):
            if isinstance(block, ReportFigure):
                name = f"figure-{block.number}.png"
                images[name] = block.image
                parts.append(
                    f'<div class="figure"><img src="{name}" width="{_FIGURE_WIDTH}"/></div>'
                    f'<p class="caption">{html_text(figure_caption(block))}</p>'
                )
            elif (latex := display_formula(block)) is not None:
                formula = formula_block(latex)
                inches = print_width_in(formula.image) if formula.image else None
                if formula.image is None or inches is None:
                    parts.append(f'<p class="formula">{html_text(formula.text)}</p>')
                else:
                    name = f"formula-{len(images)}.png"
                    images[name] = formula.image
                    width = min(_FIGURE_WIDTH, round(inches * 72))
                    parts.append(f'<div class="figure"><img src="{name}" width="{width}"/></div>')
            else:
                parts.append(f"<p>{html_text(block)}</p>")
    parts.append("<h3>参考来源</h3>")
    parts += [
        f'<p class="source">[{n}] {html_text(s)}</p>' for n, s in enumerate(report.sources, start=1)
    ]
    return "<body>" + "".join(parts) + "</body>", images


def report_pdf(report: Report) -> bytes:
    """The report as the bytes of an A4 PDF."""
    body, images = _html(report)
    return html_to_pdf(body, _CSS, images=images)


def write_pdf(report: Report, path: Path) -> Path:
    """Write an A4 PDF of the report to ``path`` (through a temporary file); returns ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_name(path.name + ".part")
    part.write_bytes(report_pdf(report))
    part.replace(path)
    return path
