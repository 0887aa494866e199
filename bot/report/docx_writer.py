"""The report as a Word document (.docx) that shows Chinese correctly on any machine.

Word picks the font of Chinese characters from ``w:eastAsia`` in ``w:rFonts``; python-docx's
``font.name`` sets only the Latin fonts, and the built-in heading/title styles point at theme
fonts (``asciiTheme`` …) that override explicit names. So every style used gets explicit
fonts with the theme attributes removed: 宋体 for body text, 黑体 for the title and headings.
The footer carries a PAGE field so Word numbers the pages. The paper's key figures sit in
section (3) as pictures with a caption paragraph (Word's "Caption" style) under each; display
formulas are pictures too (``bot.report.formulas``).
"""

from __future__ import annotations

import io
import re
import struct
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, TypeVar

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Mm, Pt, RGBColor

from bot.report.escape import plain
from bot.report.figures import figure_caption
from bot.report.formulas import display_formula, formula_block, print_width_in
from bot.report.models import Report, ReportFigure

__all__ = ["BODY_FONT", "HEADING_FONT", "LATIN_FONT", "report_filename", "write_docx"]

BODY_FONT = "宋体"
HEADING_FONT = "黑体"
LATIN_FONT = "Times New Roman"
P = TypeVar("P", Path, IO[bytes])
_FIGURE_CM = 14.0  # a figure's width: the text width of an A4 page with Word's margins
_THEME_ATTRS = ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme")


def _set_fonts(style: Any, east_asian: str, size: float, *, bold: bool | None = None) -> None:
    font = style.font
    font.name = LATIN_FONT
    font.size = Pt(size)
    if bold is not None:
        font.bold = bold
    font.color.rgb = RGBColor(0, 0, 0)  # heading styles default to theme blue
    r_pr = style.element.get_or_add_rPr()
    r_fonts = r_pr.find(qn("w:rFonts"))
    if r_fonts is None:
        r_fonts = OxmlElement("w:rFonts")
        r_pr.insert(0, r_fonts)
    for attr in _THEME_ATTRS:
        r_fonts.attrib.pop(qn(attr), None)
    for attr in ("w:ascii", "w:hAnsi", "w:cs"):
        r_fonts.set(qn(attr), LATIN_FONT)
    r_fonts.set(qn("w:eastAsia"), east_asian)


def _page_number_footer(document: Any) -> None:
    paragraph = document.sections[0].footer.paragraphs[0]
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = paragraph.add_run()
    for kind, text in (("begin", None), (None, " PAGE "), ("separate", None), ("end", None)):
        if kind is None:
            instr = OxmlElement("w:instrText")
            instr.set(qn("xml:space"), "preserve")
            instr.text = text
            run._r.append(instr)
            continue
        char = OxmlElement("w:fldChar")
        char.set(qn("w:fldCharType"), kind)
        run._r.append(char)
        if kind == "separate":
            run._r.append(_text_element("1"))  # shown until Word updates the field


def _text_element(text: str) -> Any:
    element = OxmlElement("w:t")
    element.text = text
    return element


def _add_figure(document: Any, figure: ReportFigure) -> None:
    """The picture, centred and as wide as the text at most, with its caption under it."""
    width = Cm(_FIGURE_CM)
    if figure.image[12:16] == b"IHDR":  # a PNG says its size in its first chunk
        w, h = struct.unpack(">II", figure.image[16:24])
        if h > w * 1.4:  # a tall figure: limit its height instead, so it fits on a page
            width = Cm(_FIGURE_CM * 1.4 * w / h)
    document.add_picture(io.BytesIO(figure.image), width=width)
    document.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER
    caption = document.add_paragraph(plain(figure_caption(figure)), style="Caption")
    caption.alignment = WD_ALIGN_PARAGRAPH.CENTER


def _properties(document: Any, report: Report, author: str) -> None:
    """Word's document properties and an A4 page (python-docx's template is US Letter)."""
    props = document.core_properties
    props.title = plain(report.title)
    props.author = plain(author)
    props.last_modified_by = plain(author)
    props.created = props.modified = datetime.now(UTC).replace(microsecond=0, tzinfo=None)
    props.comments = plain(report.paper_title)
    for section in document.sections:
        section.page_width, section.page_height = Mm(210), Mm(297)


def _add_formula(document: Any, latex: str) -> None:
    """A display formula, centred: its picture at the body text's size, else its Unicode."""
    formula = formula_block(latex)
    inches = print_width_in(formula.image) if formula.image else None
    if formula.image is None or inches is None:
        document.add_paragraph(plain(formula.text)).alignment = WD_ALIGN_PARAGRAPH.CENTER
        return
    document.add_picture(io.BytesIO(formula.image), width=Cm(min(_FIGURE_CM, inches * 2.54)))
    document.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER


def write_docx(report: Report, path: P, *, author: str = "") -> P:
    """Write the report to ``path`` (a .docx file, or a binary stream); returns ``path``.
    ``author``: the student's name, for the document's properties."""
    document = Document()
    _properties(document, report, author)
    styles = document.styles
    _set_fonts(styles["Normal"], BODY_FONT, 12)
    _set_fonts(styles["Title"], HEADING_FONT, 20, bold=True)
    _set_fonts(styles["Heading 1"], HEADING_FONT, 15, bold=True)
    _set_fonts(styles["Heading 2"], HEADING_FONT, 13, bold=True)
    styles["Normal"].paragraph_format.line_spacing = 1.5

    _set_fonts(styles["Caption"], BODY_FONT, 10.5, bold=False)

    # python-docx escapes XML itself; ``plain`` drops the characters XML cannot hold at all.
    title = document.add_paragraph(plain(report.title), style="Title")
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    for index, section in enumerate(report.sections):
        document.add_heading(plain(section.heading), level=1)
        for block in report.blocks(index):
            if isinstance(block, ReportFigure):
                _add_figure(document, block)
                continue
            if (latex := display_formula(block)) is not None:
                _add_formula(document, latex)
                continue
            paragraph = document.add_paragraph(plain(block))
            paragraph.paragraph_format.first_line_indent = Pt(24)  # two characters
    document.add_heading("参考来源", level=2)
    for n, source in enumerate(report.sources, start=1):
        document.add_paragraph(plain(f"[{n}] {source}"))
    _page_number_footer(document)
    if isinstance(path, Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        document.save(str(path))
    else:
        document.save(path)
    return path


_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]+')


def report_filename(report: Report, ext: str) -> str:
    """A safe file name from the paper title: ``<title>_阅读报告.<ext>``."""
    name = _UNSAFE.sub(" ", report.paper_title)
    name = " ".join(name.split()).strip(" .")[:80].strip(" .") or "论文"
    return f"{name}_阅读报告.{ext.lstrip('.')}"
