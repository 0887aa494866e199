"""ingest.paper.layout directly: visual lines from a real pymupdf page, then noise removal and
paragraph assembly on hand-placed lines (cases the generated papers of test_pdf do not reach)."""

# pymupdf 2.0 ships partial type hints (Document() and close() are unannotated).
# mypy: disable-error-code="no-untyped-call"

from __future__ import annotations

import pymupdf

from ingest.paper.layout import body_size, page_lines, remove_noise, to_blocks
from ingest.paper.pdfmeta import Line

_H = 842.0  # A4 height in points


def _ln(
    text: str,
    page: int,
    y: float,
    *,
    x0: float = 72.0,
    x1: float = 520.0,
    size: float = 10.0,
    bold: bool = False,
    vertical: bool = False,
) -> Line:
    return Line(
        text=text,
        page=page,
        x0=x0,
        y0=y,
        x1=x1,
        y1=y + size * 1.2,
        size=size,
        bold=bold,
        vertical=vertical,
    )


def _body(page: int, first_y: float = 150.0, count: int = 6) -> list[Line]:
    """A paragraph of ``count`` full-width body lines, one sentence, ending with a period."""
    lines = [
        _ln(f"body text of page {page} line {i} goes on", page, first_y + i * 13)
        for i in range(count)
    ]
    return [
        *lines[:-1],
        _ln(f"and page {page} ends its sentence.", page, first_y + (count - 1) * 13),
    ]


def _texts(page: list[Line]) -> list[str]:
    return [ln.text for ln in page]


# --- page_lines ------------------------------------------------------------------------------


def test_page_lines_joins_a_baseline_and_marks_font_facts() -> None:
    doc = pymupdf.open()
    page = doc.new_page(width=595, height=_H)
    page.insert_text((72, 100), "1", fontsize=12, fontname="hebo")
    page.insert_text((100, 100), "Introduction", fontsize=12, fontname="hebo")
    page.insert_text((72, 160), "Alice Zhang", fontsize=10)
    page.insert_text((250, 160), "Bob Smith", fontsize=10)
    page.insert_text((30, 600), "arXiv:1706.03762v1 [cs.CL]", fontsize=18, rotate=90)
    lines = {ln.text: ln for ln in page_lines(page, 7)}
    doc.close()

    heading = lines["1 Introduction"]
    assert (heading.page, heading.size, heading.bold, heading.vertical) == (7, 12.0, True, False)
    assert heading.parts == ("1", "Introduction")  # the wide gap is kept as a boundary
    authors = lines["Alice Zhang Bob Smith"]
    assert (authors.bold, authors.parts) == (False, ("Alice Zhang", "Bob Smith"))
    assert lines["arXiv:1706.03762v1 [cs.CL]"].vertical


def _raised(base: str, raised: str, after: str) -> str:
    """The text of a line printing ``base``, then ``raised`` small and raised, then ``after``."""
    doc = pymupdf.open()
    page = doc.new_page(width=595, height=_H)
    w = pymupdf.get_text_length(base, fontsize=10)
    page.insert_text((72, 130), base, fontsize=10)
    page.insert_text((72 + w + 0.5, 126), raised, fontsize=6)  # raised and small
    w1 = pymupdf.get_text_length(raised, fontsize=6)
    page.insert_text((72 + w + w1 + 1, 130), after, fontsize=10)
    (line,) = page_lines(page, 1)
    doc.close()
    return line.text


def test_page_lines_drops_a_footnote_mark_from_text_and_parts() -> None:
    doc = pymupdf.open()
    page = doc.new_page(width=595, height=_H)
    w = pymupdf.get_text_length("Vaswani et al.", fontsize=10)
    page.insert_text((72, 130), "Vaswani et al.", fontsize=10)
    page.insert_text((72 + w + 0.5, 126), "1", fontsize=6)  # raised and small: a footnote mark
    w1 = pymupdf.get_text_length("1", fontsize=6)
    page.insert_text((72 + w + w1 + 1, 130), " wrote it.", fontsize=10)
    (line,) = page_lines(page, 1)
    doc.close()
    assert line.text == "Vaswani et al. wrote it."  # not "al.1": the mark is not glued on
    assert line.parts == ("Vaswani et al. wrote it.",)


def test_footnote_marks_go_and_exponents_stay_readable() -> None:
    assert _raised("small gradients", "4", ". To counteract") == "small gradients. To counteract"
    assert _raised("Ashish Vaswani", "*", " Google Brain") == "Ashish Vaswani Google Brain"
    # An exponent stays (written inline, as text extraction always did).
    assert _raised("cost O(n · d", "2", ") per layer") == "cost O(n · d2) per layer"
    assert _raised("a rate of 10", "-9", " is used") == "a rate of 10-9 is used"


# --- body_size -------------------------------------------------------------------------------


def test_body_size_is_weighted_by_characters_not_lines() -> None:
    headings = [_ln(f"{i} Heading", 1, 100 + i * 20, size=14.0) for i in range(8)]
    prose = [_ln("a long line of running text in the body font " * 3, 1, 400, size=9.9)] * 3
    assert body_size(headings + prose) == 10.0  # rounded to half points


# --- remove_noise ----------------------------------------------------------------------------


def test_page_numbers_in_many_forms_are_dropped() -> None:
    forms = ["3", "- 4 -", "Page 5 of 9", "第 6 页"]
    pages = [[*_body(p), _ln(form, p, 800, x0=280, x1=320)] for p, form in enumerate(forms, 1)]
    out = remove_noise(pages, [_H] * 4, 10.0)
    assert out == [_body(p) for p in range(1, 5)]


def test_running_header_goes_but_a_one_off_top_line_and_big_titles_stay() -> None:
    pages = [[_ln("Journal of Tests, Vol. 3", p, 40, size=8.0), *_body(p)] for p in range(1, 6)]
    pages[2].insert(0, _ln("Only here: a note at the top", 3, 20, size=8.0))
    # Slides-like: the same large title on every page is content, not a running header.
    for p, page in enumerate(pages, 1):
        page.insert(0, _ln("Attention Basics", p, 60, size=20.0, bold=True))
    out = remove_noise(pages, [_H] * 5, 10.0)
    assert all("Journal of Tests, Vol. 3" not in _texts(page) for page in out)
    assert "Only here: a note at the top" in _texts(out[2])
    assert all("Attention Basics" in _texts(page) for page in out)


def test_changing_running_heads_go_by_their_page_number_offset() -> None:
    # Book-style heads: the section name changes, the printed number is always page + 10.
    names = ["Intro", "Method", "Results", "Discussion", "Appendix"]
    pages = [[_ln(f"{name} {p + 10}", p, 40), *_body(p)] for p, name in enumerate(names, 1)]
    # A bold numbered heading in the bottom band whose number also fits the offset stays.
    pages[4].append(_ln("15 Related Work", 5, 790, bold=True, size=12.0))
    out = remove_noise(pages, [_H] * 5, 10.0)
    assert out[:4] == [_body(p) for p in range(1, 5)]
    assert _texts(out[4]) == [*_texts(_body(5)), "15 Related Work"]


def test_a_numbered_column_inside_the_text_is_not_a_line_number_column() -> None:
    def page(x0: float, x1: float) -> list[Line]:
        numbers = [_ln(str(100 + i * 50), 1, 150 + i * 60, x0=x0, x1=x1) for i in range(8)]
        return [*_body(1, count=10), *numbers]

    beside, inside = page(30, 45), page(300, 320)  # left margin vs. a table in the column
    assert remove_noise([beside], [_H], 10.0) == [_body(1, count=10)]
    assert remove_noise([inside], [_H], 10.0) == [inside]


def test_margin_notes_and_vertical_text_move_after_the_body_stamp_dropped() -> None:
    body = _body(1, count=8)
    note = _ln("Note: see Fig. 2", 1, 113, x0=530, x1=590, size=7.0)
    stamp = _ln("arXiv:2101.00001v1 [cs.CL] 4 Jan 2021", 1, 300, x0=10, x1=35, vertical=True)
    side = _ln("Preprint under review", 1, 300, x0=560, x1=580, vertical=True)
    page = [*body[:2], note, stamp, *body[2:4], side, *body[4:]]
    (out,) = remove_noise([page], [_H], 10.0)
    assert out == [*body, note, side]


# --- to_blocks -------------------------------------------------------------------------------


def test_paragraphs_split_on_gaps_headings_and_column_jumps() -> None:
    lines = [
        _ln("2 Method", 1, 80, size=12.0, bold=True),
        _ln("The first paragraph starts here and", 1, 100),
        _ln("it ends on this line.", 1, 113),
        _ln("A second paragraph after a blank gap", 1, 140),
        _ln("ends at the foot of the column.", 1, 153),
        _ln("The right column starts at the top again.", 1, 80, x0=310),
        _ln("12", 1, 170),  # no letters: not a paragraph
    ]
    blocks = to_blocks([lines], 10.0)
    assert [(b.text, b.heading) for b in blocks] == [
        ("2 Method", True),
        ("The first paragraph starts here and it ends on this line.", False),
        ("A second paragraph after a blank gap ends at the foot of the column.", False),
        ("The right column starts at the top again.", False),
    ]


def test_a_paragraph_cut_by_a_page_break_is_joined_and_remembers_the_break() -> None:
    page1 = [
        _ln("The model reads the whole document", 1, 700),
        _ln("and then it", 1, 713),
        _ln("1 A footnote in small type.", 1, 780, size=7.0),
    ]
    page2 = [_ln("writes a short summary.", 2, 80), _ln("Next paragraph.", 2, 110)]
    blocks = to_blocks([page1, page2], 10.0)
    joined = "The model reads the whole document and then it writes a short summary."
    assert [b.text for b in blocks] == [joined, "1 A footnote in small type.", "Next paragraph."]
    cut = joined.index("writes")
    assert (blocks[0].page_at(cut - 2), blocks[0].page_at(cut)) == (1, 2)


def test_a_capitalised_next_page_starts_a_new_paragraph() -> None:
    page1 = [_ln("This paragraph has no final stop", 1, 700)]
    page2 = [_ln("Table 3 lists the results.", 2, 80)]
    blocks = to_blocks([page1, page2], 10.0)
    assert [(b.text, b.page, b.breaks) for b in blocks] == [
        ("This paragraph has no final stop", 1, ()),
        ("Table 3 lists the results.", 2, ()),
    ]
