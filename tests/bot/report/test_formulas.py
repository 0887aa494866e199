"""Formulas in the report: Unicode inline, pictures for display formulas, never raw LaTeX."""

from __future__ import annotations

from pathlib import Path

import docx
import pytest

from bot.report import HEADINGS, Report, ReportSection, count_zi, to_markdown, write_docx
from bot.report.drafts import clean_draft
from bot.report.formulas import clean_math, display_formula
from bot.report.pdf_writer import report_pdf
from tests.bot.report.support import sample_report

ATTENTION = r"\mathrm{Attention}(Q,K,V)=\mathrm{softmax}\left(\frac{QK^T}{\sqrt{d_k}}\right)V"


def test_inline_math_becomes_readable_unicode() -> None:
    text = clean_math(r"缩放因子为 $\sqrt{d_k}$，权重为 $\alpha_i$[论文 p.4]。")
    assert "$" not in text
    assert "√dₖ" in text
    assert "αᵢ" in text
    assert text.endswith("[论文 p.4]。")


def test_a_display_formula_gets_a_line_of_its_own_wherever_it_was_written() -> None:
    text = clean_math(f"注意力的计算方式如下：$${ATTENTION}$$其中 $d_k$ 是键的维度。")
    lines = text.split("\n")
    assert display_formula(lines[1]) == ATTENTION
    assert lines[0] == "注意力的计算方式如下："
    assert "dₖ" in lines[2]
    across_lines = clean_math("公式为\n\\[\n  E = mc^2\n\\]\n即质能关系。")
    assert [display_formula(x) for x in across_lines.split("\n") if x.strip()] == [
        None,
        "E = mc^2",
        None,
    ]


@pytest.mark.parametrize(
    "source",
    [
        "价格从 $5 涨到 $10，变化不大。",  # dollars, not math: a space before the closing one
        "没有公式的普通句子[论文 p.2]。",
    ],
)
def test_text_without_math_is_left_as_it_is(source: str) -> None:
    assert clean_math(source) == source


def test_a_draft_keeps_its_formula_lines_and_loses_the_markdown_around_them() -> None:
    draft = f"**（3）关键技术解析**\n- 注意力按下式计算[论文 p.4]：\n$$\n{ATTENTION}\n$$\n"
    body = clean_draft(draft, HEADINGS[2])
    assert body.split("\n") == ["注意力按下式计算[论文 p.4]：", f"$${ATTENTION}$$"]


def _with_formulas(*latex: str) -> Report:
    base = sample_report()
    tech = base.sections[2]
    body = tech.body + "".join(f"\n$${x}$$" for x in latex)
    sections = list(base.sections)
    sections[2] = ReportSection(tech.heading, body, count_zi(tech.heading) + count_zi(body))
    return Report(**{**base.__dict__, "sections": tuple(sections)})


UNDRAWABLE = r"\begin{pmatrix} a & b \\ c & d \end{pmatrix}"  # mathtext has no matrices


def test_the_docx_shows_a_display_formula_as_a_picture_and_never_as_latex(
    tmp_path: Path,
) -> None:
    plain_doc = docx.Document(str(write_docx(sample_report(), tmp_path / "plain.docx")))
    document = docx.Document(str(write_docx(_with_formulas(ATTENTION), tmp_path / "f.docx")))
    assert len(document.inline_shapes) == len(plain_doc.inline_shapes) + 1
    picture = document.inline_shapes[-1]
    assert 2.0 < picture.width.cm <= 14.0  # printed about the size of the text
    text = "\n".join(p.text for p in document.paragraphs)
    assert "$$" not in text
    assert "\\frac" not in text


def test_a_formula_that_cannot_be_drawn_is_shown_as_its_text(tmp_path: Path) -> None:
    report = _with_formulas(UNDRAWABLE)
    document = docx.Document(str(write_docx(report, tmp_path / "f.docx")))
    text = "\n".join(p.text for p in document.paragraphs)
    assert "$$" not in text
    assert "\\begin" not in text
    markdown = to_markdown(report)
    assert "$$" not in markdown
    assert "\\begin" not in markdown


def test_markdown_and_pdf_carry_the_formula_picture() -> None:
    report = _with_formulas(ATTENTION)
    markdown = to_markdown(report)
    assert markdown.count("data:image/png;base64,") == 1
    assert "$$" not in markdown
    pdf = report_pdf(report)
    assert pdf.startswith(b"%PDF")
    plain_pdf = report_pdf(sample_report())
    assert len(pdf) > len(plain_pdf) + 1000  # the picture is in it
