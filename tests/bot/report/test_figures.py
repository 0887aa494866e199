"""The paper's key figures in section (3) of the report: picture, number, caption, page."""

from __future__ import annotations

import base64
import re
import uuid
from pathlib import Path

import docx
import pymupdf

from bot.pages import PageViewer
from bot.report import HEADINGS, count_zi, to_markdown, write_docx, write_pdf
from bot.report.figures import add_key_figures, figure_caption, pick_figures
from bot.report.models import TECH_SECTION, Report, ReportSection
from ingest.paper.pdf import parse_pdf
from kernel.models import Citation, Figure, FigureKind, Note, SourceKind
from storage.paper_files import PaperFiles
from tests.bot.paper_chat import CHAT, SOURCE, OnePaperStore
from tests.bot.report.support import sample_report
from tests.fakes.pdfs import make_figures_pdf
from tests.fakes.services import NOW


def _with_tech(report: Report, body: str) -> Report:
    sections = list(report.sections)
    heading = HEADINGS[TECH_SECTION]
    sections[TECH_SECTION] = ReportSection(heading, body, count_zi(heading) + count_zi(body))
    return Report(
        **{**report.__dict__, "sections": tuple(sections), "chars": sum(s.chars for s in sections)}
    )


async def _report_with_figures(tmp_path: Path, notes: list[Note] | None = None) -> Report:
    files = PaperFiles(tmp_path)
    files.save(CHAT, SOURCE, make_figures_pdf(), parse_pdf(make_figures_pdf(), ocr=False).figures)
    viewer = PageViewer(OnePaperStore(), files)  # type: ignore[arg-type]
    body = "模型由编码器和解码器组成，结构见 Figure 1[论文 p.1]。\n第二段讲注意力的计算[论文 p.2]。"
    try:
        return await add_key_figures(
            viewer, CHAT, SOURCE, _with_tech(sample_report(), body), notes or []
        )
    finally:
        viewer.close()


async def test_the_architecture_figure_goes_after_the_paragraph_naming_it(tmp_path: Path) -> None:
    report = await _report_with_figures(tmp_path)
    assert [f.label for f in report.figures] == ["Figure 1", "Fig. 2"]
    fig1 = report.figures[0]
    assert (fig1.number, fig1.page, fig1.after, fig1.section) == (1, 1, 0, TECH_SECTION)
    assert figure_caption(fig1) == "图 1　The model architecture.（原文 Figure 1）[论文 p.1]"
    assert report.figures[1].after == -1  # named nowhere: at the section's end
    blocks = report.blocks(TECH_SECTION)
    assert blocks[1] is fig1
    assert blocks[-1] is report.figures[1]
    # The captions count as text, the pictures do not; their page markers are citations.
    base = _with_tech(
        sample_report(),
        "模型由编码器和解码器组成，结构见 Figure 1[论文 p.1]。\n第二段讲注意力的计算[论文 p.2]。",
    )
    extra = sum(count_zi(figure_caption(f)) for f in report.figures)
    assert report.chars == base.chars + extra
    assert report.sections[TECH_SECTION].chars == base.sections[TECH_SECTION].chars + extra
    assert report.citations == base.citations + 2


async def test_the_docx_holds_the_picture_and_its_caption(tmp_path: Path) -> None:
    report = await _report_with_figures(tmp_path / "files")
    path = write_docx(report, tmp_path / "r.docx")
    document = docx.Document(str(path))
    pictures = [r for r in document.part.related_parts.values() if r.content_type == "image/png"]
    assert len(pictures) == 2
    assert pymupdf.Pixmap(pictures[0].blob).width > 500
    captions = [p.text for p in document.paragraphs if p.style.name == "Caption"]
    assert captions == [figure_caption(f) for f in report.figures]
    texts = [p.text for p in document.paragraphs]
    first = texts.index("模型由编码器和解码器组成，结构见 Figure 1[论文 p.1]。")
    assert texts[first + 2] == captions[0]  # paragraph, picture, caption
    # Word's count over the four sections (captions included) is the report's.
    start = texts.index(HEADINGS[0])
    end = texts.index("参考来源")
    assert sum(count_zi(t) for t in texts[start:end]) == report.chars


async def test_markdown_and_pdf_show_the_figures_too(tmp_path: Path) -> None:
    report = await _report_with_figures(tmp_path / "files")
    md = to_markdown(report)
    images = re.findall(r"!\[图 (\d)\]\(data:image/png;base64,([A-Za-z0-9+/=]+)\)", md)
    assert [n for n, _ in images] == ["1", "2"]
    assert base64.b64decode(images[0][1]) == report.figures[0].image
    assert f"*{figure_caption(report.figures[0])}*" in md
    path = write_pdf(report, tmp_path / "r.pdf")
    with pymupdf.open(str(path)) as document:
        text = "".join(page.get_text() for page in document)
        shown = sum(len(page.get_images()) for page in document)
    assert shown == 2
    assert "图 1　The model architecture.（原文 Figure 1）" in text


def test_key_figures_follow_the_notes_first() -> None:
    def figure(label: str, page: int, caption: str) -> Figure:
        return Figure(chat_id=CHAT, source_id=SOURCE, figure_id=f"{SOURCE[:8]}-{page}",
                      kind=FigureKind.FIGURE, label=label, caption=caption, page=page,
                      bbox=(0, 0, 1, 1))  # fmt: skip

    overview = figure("Figure 1", 2, "Figure 1: Overview of the model.")
    heads = figure("Figure 3", 9, "Figure 3: Attention heads of layer 5.")
    loss = figure("Figure 2", 5, "Figure 2: Loss curves.")
    cite = Citation(n=1, source_id=SOURCE, kind=SourceKind.PAPER, title="T", snippet="s", page=9)
    note = Note(chat_id=CHAT, note_id="n", question="q", answer="a", grounded=True,
                citations=(cite,), created_at=NOW)  # fmt: skip
    assert pick_figures([overview, loss, heads], [note]) == [heads, overview]
    assert pick_figures([loss, overview], []) == [overview, loss]
    table = overview.model_copy(update={"kind": FigureKind.TABLE, "label": "Table 1"})
    assert pick_figures([table], []) == []  # tables are not the report's figures


async def test_no_figures_no_change(tmp_path: Path) -> None:
    viewer = PageViewer(OnePaperStore(), PaperFiles(tmp_path))  # type: ignore[arg-type]
    try:
        report = sample_report()
        assert await add_key_figures(viewer, CHAT, str(uuid.uuid4()), report, []) == report
    finally:
        viewer.close()
