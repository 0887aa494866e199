"""Figures and tables: captions found, regions cropped, their text kept out of the prose."""

from __future__ import annotations

import pymupdf
import pytest

from ingest.paper.figures import caption_label
from ingest.paper.pdf import ocr_available, parse_pdf
from ingest.paper.pdfmeta import Line
from ingest.paper.render import render_regions
from kernel.models import ChunkRole, FigureKind, PageFigure, ParsedSource
from tests.fakes.pdfs import make_figures_pdf, make_scanned_pdf


@pytest.fixture(scope="module")
def parsed() -> ParsedSource:
    return parse_pdf(make_figures_pdf(), ocr=False)


def _line(text: str, parts: tuple[str, ...] = ()) -> Line:
    return Line(text, 1, 72, 100, 400, 110, 10.0, parts=parts or (text,))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Figure 1: The Transformer - model architecture.", (FigureKind.FIGURE, "Figure 1")),
        ("Fig. 2. Attention weights of one head.", (FigureKind.FIGURE, "Fig. 2")),
        ("Table 3: Variations on the Transformer.", (FigureKind.TABLE, "Table 3")),
        ("图8.1 注意力机制", (FigureKind.FIGURE, "图8.1")),
        ("图3注意力机制示意", (FigureKind.FIGURE, "图3")),  # the space lost in extraction
        ("表 2：实验结果", (FigureKind.TABLE, "表2")),
        ("Table 2 summarizes our results and compares them.", None),
        ("Figure 3 shows the attention of one head.", None),
        ("图8.1给出了注意力机制的示例。", None),
        ("图 3 所示的模型", None),
        ("Table 2.5 lists the sizes", None),
    ],
)
def test_caption_labels(text: str, expected: tuple[FigureKind, str] | None) -> None:
    assert caption_label(_line(text)) == expected


def test_a_label_standing_apart_opens_a_caption_without_a_colon() -> None:
    line = _line("Fig. 3 Overview of the model", parts=("Fig. 3", "Overview of the model"))
    assert caption_label(line) == (FigureKind.FIGURE, "Fig. 3")


def _contains(outer: tuple[float, float, float, float], inner: tuple[float, ...]) -> bool:
    return (
        outer[0] <= inner[0]
        and outer[1] <= inner[1]
        and outer[2] >= inner[2]
        and outer[3] >= inner[3]
    )


def test_every_figure_and_table_is_found_with_its_caption(parsed: ParsedSource) -> None:
    found = {f.label: f for f in parsed.figures}
    assert sorted(found) == ["Fig. 2", "Figure 1", "Table 1", "图3"]
    fig1, table1, fig2, fig3 = found["Figure 1"], found["Table 1"], found["Fig. 2"], found["图3"]
    assert (fig1.kind, fig1.page, fig1.caption) == (
        FigureKind.FIGURE,
        1,
        "Figure 1: The model architecture.",
    )
    assert (table1.kind, table1.page) == (FigureKind.TABLE, 1)
    assert table1.caption == "Table 1: Scores on two benchmarks."
    assert (fig2.page, fig2.caption) == (2, "Fig. 2. Attention weights of one head.")
    assert (fig3.page, fig3.kind) == (3, FigureKind.FIGURE)
    # The crops hold what was drawn (the diagram's boxes, the table's rules, the picture,
    # the circle), and not the prose around them.
    assert _contains(fig1.bbox, (180, 166, 420, 271))
    assert fig1.bbox[3] < 285  # the caption (at about y 288) is not in the crop
    assert _contains(table1.bbox, (150, 430, 450, 484))
    assert _contains(fig2.bbox, (330, 190, 530, 320))
    assert fig2.bbox[0] > 300  # the right column only, on a two-column page
    assert _contains(fig3.bbox, (200, 210, 330, 270))


def test_a_figure_crop_renders_the_drawing(parsed: ParsedSource) -> None:
    data = make_figures_pdf()
    fig1 = next(f for f in parsed.figures if f.label == "Figure 1")
    png = render_regions(data, [(fig1.page, *fig1.bbox)])
    pix = pymupdf.Pixmap(png)
    assert pix.width >= 750  # 3x zoom for a small figure (about 1000 pixels for a big one)
    samples = pix.samples
    pixels = [tuple(samples[i : i + 3]) for i in range(0, len(samples), pix.n)]
    light_blue = sum(1 for r, g, b in pixels if b > 240 and 190 < r < 220 and 220 < g < 240)
    assert light_blue > 0.1 * len(pixels)  # the encoder and decoder boxes are in it


def test_figure_and_table_text_stays_out_of_the_prose(parsed: ParsedSource) -> None:
    prose = "\n".join(c.text for c in parsed.chunks if c.role is None)
    for inside in ("Encoder", "Decoder", "Inputs", "28.4", "Baseline", "Figure 1:", "Table 1:"):
        assert inside not in prose
    assert "Table 1 shows the scores" in prose  # prose naming a table is still prose
    by_role = {c.role: c for c in parsed.chunks if c.role in (ChunkRole.FIGURE, ChunkRole.TABLE)}
    assert by_role[ChunkRole.TABLE].text.startswith("Table 1: Scores on two benchmarks.")
    assert "28.4" in by_role[ChunkRole.TABLE].text  # a table's cells are searchable with it
    captions = {c.text for c in parsed.chunks if c.role is ChunkRole.FIGURE}
    assert "Figure 1: The model architecture." in captions
    assert "Fig. 2. Attention weights of one head." in captions


def test_the_bibliography_is_marked_and_the_appendix_is_not(parsed: ParsedSource) -> None:
    refs = [c for c in parsed.chunks if c.role is ChunkRole.REFERENCES]
    assert refs
    assert any("[1] Jimmy Lei Ba" in c.text for c in refs)
    assert all("注意力机制把有限的计算资源" not in c.text for c in refs)
    assert any("注意力机制把有限的计算资源" in c.text for c in parsed.chunks if c.role is None)


def test_chunks_know_where_they_are_printed(parsed: ParsedSource) -> None:
    first = parsed.chunks[0]
    assert first.text.startswith("The encoder reads")
    page, x0, y0, x1, _ = first.boxes[0]
    assert (page, round(x0)) == (1, 72)
    assert 60 < y0 < 80
    assert x1 > 400
    for chunk in parsed.chunks:
        assert chunk.boxes, chunk.text[:40]
        assert {b[0] for b in chunk.boxes} <= set(range(chunk.page or 1, (chunk.page_end or 1) + 1))
    caption = next(c for c in parsed.chunks if c.text == "Figure 1: The model architecture.")
    fig1 = next(f for f in parsed.figures if f.label == "Figure 1")
    assert _contains(caption.boxes[0][1:], fig1.bbox)  # the figure and its caption


def test_regions_of_several_pages_stack_into_one_image(parsed: ParsedSource) -> None:
    data = make_figures_pdf()
    one = pymupdf.Pixmap(render_regions(data, [(1, 72, 60, 460, 120)]))
    two = pymupdf.Pixmap(render_regions(data, [(1, 72, 60, 460, 120), (2, 50, 60, 240, 200)]))
    assert two.height > one.height * 2
    with pytest.raises(ValueError, match="page 9"):
        render_regions(data, [(9, 72, 60, 460, 120)])


def test_a_scanned_page_region_renders_its_picture() -> None:
    data = make_scanned_pdf(text_pages=0, scanned_pages=1)
    pix = pymupdf.Pixmap(render_regions(data, [(1, 60, 160, 560, 220)]))
    dark = sum(1 for v in pix.samples[:: pix.n] if v < 100)
    assert dark > 500  # the scanned words are in the picture


def test_figures_are_plain_values(parsed: ParsedSource) -> None:
    assert all(isinstance(f, PageFigure) for f in parsed.figures)
    assert parsed.model_copy() == parsed


@pytest.mark.skipif(not ocr_available(), reason="Tesseract is not installed")
def test_an_ocred_scanned_page_shows_its_cited_passage() -> None:
    data = make_scanned_pdf(text_pages=0, scanned_pages=1)
    src = parse_pdf(data, ocr_languages="eng")
    [chunk] = [c for c in src.chunks if "attention" in c.text.lower()]
    [(page, x0, y0, _x1, y1)] = chunk.boxes  # where OCR read the words on the picture
    assert page == 1
    assert 50 < x0 < 100
    assert 150 < y0 < 210
    assert y1 < 230
    pix = pymupdf.Pixmap(render_regions(data, chunk.boxes))
    dark = sum(1 for v in pix.samples[:: pix.n] if v < 100)
    assert dark > 500  # the scanned words, as printed
