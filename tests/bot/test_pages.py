"""PageViewer and the figure requests: what a student asking to see a figure gets."""

from __future__ import annotations

from pathlib import Path

import pymupdf
import pytest

from bot.pages import PageViewer, figure_number, figure_query, relevant_figures
from bot.references import asks_about_references
from ingest.paper.pdf import parse_pdf
from kernel.errors import NotFoundError
from kernel.models import Citation, Figure, FigureKind, SourceKind, SourceStatus
from storage.paper_files import PaperFiles
from tests.bot.paper_chat import CHAT, SOURCE, OnePaperStore
from tests.fakes.pdfs import make_figures_pdf


@pytest.mark.parametrize(
    ("text", "kind", "number"),
    [
        ("给我看 Figure 1", FigureKind.FIGURE, "1"),
        ("Figure 1", FigureKind.FIGURE, "1"),
        ("图1", FigureKind.FIGURE, "1"),
        ("看看图 8.1", FigureKind.FIGURE, "8.1"),
        ("show me table 3", FigureKind.TABLE, "3"),
        ("表2", FigureKind.TABLE, "2"),
        ("Fig. 2 please", FigureKind.FIGURE, "2"),
    ],
)
def test_asking_to_see_a_numbered_figure(text: str, kind: FigureKind, number: str) -> None:
    query = figure_query(text)
    assert query is not None
    assert (query.kind, query.number) == (kind, number)


@pytest.mark.parametrize("text", ["架构图", "给我看架构图", "show me the architecture diagram"])
def test_asking_for_a_kind_of_diagram(text: str) -> None:
    query = figure_query(text)
    assert query is not None
    assert query.caption is not None
    assert query.caption.search("The Transformer - model architecture.")


@pytest.mark.parametrize(
    "text",
    [
        "Figure 1 里的 Encoder 是做什么的？",
        "什么是 Transformer？",
        "What does Table 2 tell us about BLEU?",
        "这篇论文的架构图说明了什么问题？为什么编码器和解码器要分开？",
    ],
)
def test_questions_about_figures_are_questions(text: str) -> None:
    assert figure_query(text) is None


def test_figure_numbers() -> None:
    assert [figure_number(x) for x in ("Figure 1", "Fig. 2", "图8.1", "Table 10", "x")] == [
        "1",
        "2",
        "8.1",
        "10",
        None,
    ]


def test_reference_questions() -> None:
    assert asks_about_references("[12] 是哪篇论文？")
    assert asks_about_references("Which paper is reference 12?")
    assert not asks_about_references("什么是自注意力？")


def _figure(
    label: str, page: int, caption: str = "", kind: FigureKind = FigureKind.FIGURE
) -> Figure:
    return Figure(
        chat_id=CHAT,
        source_id=SOURCE,
        figure_id=f"{SOURCE[:8]}-{page}",
        kind=kind,
        label=label,
        caption=caption or f"{label}: something.",
        page=page,
        bbox=(0, 0, 10, 10),
    )


def _cite(page: int, snippet: str = "text") -> Citation:
    return Citation(
        n=1, source_id=SOURCE, kind=SourceKind.PAPER, title="T", snippet=snippet, page=page
    )


def test_relevant_figures_cited_caption_then_named_then_same_page() -> None:
    fig1, fig2, table1 = (
        _figure("Figure 1", 3, "Figure 1: The model architecture."),
        _figure("Figure 2", 4),
        _figure("Table 1", 6, kind=FigureKind.TABLE),
    )
    figures = [fig1, fig2, table1]
    assert relevant_figures(figures, [_cite(3, "Figure 1: The model architecture.")]) == [fig1]
    assert relevant_figures(figures, [_cite(5)], "如 Table 1 所示") == [table1]
    assert relevant_figures(figures, [_cite(4)]) == [fig2]
    assert relevant_figures(figures, [_cite(9)]) == []
    video = Citation(n=1, source_id="v", kind=SourceKind.VIDEO, title="V", snippet="Figure 1")
    assert relevant_figures(figures, [video], "Figure 1") == []  # a video cites no figure


async def test_an_image_is_rendered_once_then_kept(tmp_path: Path) -> None:
    files = PaperFiles(tmp_path)
    parsed = parse_pdf(make_figures_pdf(), ocr=False)
    files.save(CHAT, SOURCE, make_figures_pdf(), parsed.figures)
    viewer = PageViewer(OnePaperStore(), files)  # type: ignore[arg-type]
    try:
        [fig1] = await viewer.find(CHAT, figure_query("Figure 1"))  # type: ignore[arg-type]
        png = await viewer.image(fig1)
        assert pymupdf.Pixmap(png).width > 500
        assert files.image(fig1) == png  # kept for next time
        assert await viewer.find(CHAT, figure_query("Figure 7")) == []  # type: ignore[arg-type]
        with pytest.raises(NotFoundError):
            await viewer.figure(CHAT + 1, fig1.figure_id)  # another chat
        passage = await viewer.passage(CHAT, SOURCE, parsed.chunks[0].boxes)
        assert pymupdf.Pixmap(passage).height > 100
    finally:
        viewer.close()


async def test_figures_of_a_paper_not_ready_are_not_shown(tmp_path: Path) -> None:
    files = PaperFiles(tmp_path)
    files.save(CHAT, SOURCE, make_figures_pdf(), parse_pdf(make_figures_pdf(), ocr=False).figures)
    viewer = PageViewer(OnePaperStore(SourceStatus.INDEXING), files)  # type: ignore[arg-type]
    try:
        assert await viewer.figures(CHAT) == []
    finally:
        viewer.close()


async def test_a_paper_whose_pdf_was_not_kept_says_so(tmp_path: Path) -> None:
    viewer = PageViewer(OnePaperStore(), PaperFiles(tmp_path))  # type: ignore[arg-type]
    try:
        with pytest.raises(NotFoundError) as info:
            await viewer.passage(CHAT, SOURCE, [(1, 0.0, 0.0, 100.0, 100.0)])
        assert "重新发送" in info.value.message("zh")
    finally:
        viewer.close()
