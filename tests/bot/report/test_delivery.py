"""The report as .docx (read back with python-docx), Markdown, and a safe file name."""

from __future__ import annotations

from pathlib import Path

import docx
from docx.oxml.ns import qn

from bot.report import (
    HEADINGS,
    REPORT_TITLE,
    Report,
    ReportSection,
    count_zi,
    report_filename,
    to_markdown,
    write_docx,
    write_pdf,
)
from tests.bot.report.support import sample_report


def _east_asia(style: docx.styles.style.BaseStyle) -> tuple[str | None, list[str]]:
    fonts = style.element.rPr.find(qn("w:rFonts"))
    themes = [a for a in fonts.attrib if "Theme" in a or "theme" in a]
    return fonts.get(qn("w:eastAsia")), themes


def test_docx_has_real_headings_chinese_fonts_and_page_numbers(tmp_path: Path) -> None:
    report = sample_report()
    path = write_docx(report, tmp_path / "out" / report_filename(report, "docx"))

    document = docx.Document(str(path))
    paragraphs = document.paragraphs
    assert paragraphs[0].text == REPORT_TITLE
    assert paragraphs[0].style.name == "Title"
    headings = [p.text for p in paragraphs if p.style.name == "Heading 1"]
    assert headings == list(HEADINGS)
    assert _east_asia(document.styles["Normal"]) == ("宋体", [])
    assert _east_asia(document.styles["Heading 1"]) == ("黑体", [])
    assert _east_asia(document.styles["Title"]) == ("黑体", [])

    # What Word counts over the four sections equals Report.chars.
    start = next(i for i, p in enumerate(paragraphs) if p.text == HEADINGS[0])
    end = next(i for i, p in enumerate(paragraphs) if p.text == "参考来源")
    assert sum(count_zi(p.text) for p in paragraphs[start:end]) == report.chars

    tail = [p.text for p in paragraphs[end + 1 :]]
    assert tail == [f"[{n}] {s}" for n, s in enumerate(report.sources, start=1)]
    footer = document.sections[0].footer._element.xml
    assert "PAGE" in footer
    assert 'w:fldCharType="begin"' in footer


def test_markdown_keeps_order_paragraphs_and_the_count() -> None:
    report = sample_report()
    md = to_markdown(report)
    positions = [md.index(f"## {h}") for h in HEADINGS]
    assert positions == sorted(positions)
    assert md.startswith(f"# {REPORT_TITLE}\n")
    assert "\n\n实验表明 BLEU 达到 28.4[论文 p.8]。\n" in md  # each body line its own paragraph
    assert "1. 论文：Vaswani" in md
    assert "2. 讲解视频" in md
    assert f"共 {report.chars} 字" in md
    assert "经逐句核对的引用 5 处" in md


def test_file_names_are_safe_and_come_from_the_title() -> None:
    assert report_filename(sample_report(), "docx") == "Attention Is All You Need_阅读报告.docx"
    weird = sample_report('A/B: "Why?" <Attention>|*\n  Works. ')
    name = report_filename(weird, ".md")
    assert name == "A B Why Attention Works_阅读报告.md"
    assert report_filename(sample_report("..."), "pdf") == "论文_阅读报告.pdf"
    assert len(report_filename(sample_report("长" * 300), "docx")) < 100


def test_pdf_copy_has_the_chinese_text_in_order_and_page_numbers(tmp_path: Path) -> None:
    import pymupdf

    base = sample_report()
    long_body = "\n".join(["注意力机制（Attention）计算查询与键的相似度[论文 p.4]。" * 6] * 20)
    sections = (*base.sections[:2], ReportSection(HEADINGS[2], long_body, 0), base.sections[3])
    report = Report(**{**base.__dict__, "sections": sections})

    path = write_pdf(report, tmp_path / report_filename(report, "pdf"))

    with pymupdf.open(str(path)) as document:
        pages = [page.get_text() for page in document]
    assert len(pages) > 1
    text = "".join(pages)
    positions = [text.index(h) for h in HEADINGS]
    assert positions == sorted(positions)
    assert "查询与键的相似度[论文 p.4]" in text
    for number, page in enumerate(pages, start=1):
        assert page.strip().splitlines()[-1] == str(number)
    assert not list(tmp_path.glob("*.tmp.pdf"))


HOSTILE = "<script>alert(1)</script> [click](javascript:alert(1)) **x** \x1b[31m\x00\x0b"


def hostile_report() -> Report:
    """Titles and text from a student's file, and a model's sentence, that try to be markup."""
    report = sample_report(paper_title=HOSTILE)
    first = report.sections[1]
    body = first.body + "\n# not a heading\n1. not a list\n" + HOSTILE + "[论文 p.2](javascript:x)"
    sections = (report.sections[0], ReportSection(first.heading, body, first.chars),
                *report.sections[2:])  # fmt: skip
    sources = (*report.sources, f"论文：《{HOSTILE}》")
    return Report(**{**report.__dict__, "title": HOSTILE, "sections": sections,
                     "sources": sources})  # fmt: skip


def test_markdown_renders_hostile_text_as_text() -> None:
    from markdown_it import MarkdownIt

    text = to_markdown(hostile_report())
    rendered = MarkdownIt("commonmark", {"html": True}).render(text)
    assert "<script" not in rendered
    assert "<a " not in rendered  # no link, javascript: or otherwise
    assert "<strong>" not in rendered
    assert rendered.count("<h1>") == 1  # the title; "# not a heading" stays a line
    assert rendered.count("<ol>") == 1  # the source list; "1. not a list" stays a line
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in rendered  # shown, as written
    assert "[论文 p.2]" in text  # citation markers stay readable in the file itself
    assert "\x1b" not in text
    assert "\x00" not in text


def test_docx_and_pdf_keep_hostile_text_as_plain_text(tmp_path: Path) -> None:
    report = hostile_report()
    path = write_docx(report, tmp_path / "r.docx")  # control characters would abort it
    paragraphs = [p.text for p in docx.Document(str(path)).paragraphs]
    assert paragraphs[0] == "<script>alert(1)</script> [click](javascript:alert(1)) **x** [31m"
    assert all("\x1b" not in p and "\x00" not in p for p in paragraphs)
    pdf = write_pdf(report, tmp_path / "r.pdf")
    import pymupdf

    with pymupdf.open(str(pdf)) as document:
        shown = " ".join(page.get_text() for page in document)
    assert "<script>alert(1)</script>" in " ".join(shown.split())  # text, not markup
