"""Paper metadata from generated PDFs: found when stated, unknown (never guessed) otherwise."""

from __future__ import annotations

import pytest

from ingest.paper.pdf import parse_pdf
from ingest.paper.pdfmeta import looks_like_real_title
from tests.fakes.pdfs import PAPER_ABSTRACT, make_chinese_pdf, make_paper_pdf, make_plain_pdf


def test_english_paper_metadata() -> None:
    meta = parse_pdf(make_paper_pdf(), filename="paper.pdf").paper
    assert meta is not None
    assert meta.title == "Sparse Attention for Beginners"
    assert meta.authors == ("Alice Zhang", "Bob Smith")
    assert meta.affiliations == ("Department of Computer Science, Tsinghua University",)
    assert (meta.venue, meta.year) == ("NeurIPS", 2021)
    assert meta.arxiv_id == "2101.00001"
    assert meta.link == "https://arxiv.org/abs/2101.00001"
    assert meta.abstract == PAPER_ABSTRACT
    assert (meta.pages, meta.filename) == (3, "paper.pdf")


def test_arxiv_only_paper_gets_arxiv_venue_and_year_from_the_id() -> None:
    meta = parse_pdf(make_paper_pdf(venue_line=None, arxiv_id="1706.03762")).paper
    assert meta is not None
    assert (meta.venue, meta.year, meta.link) == (
        "arXiv",
        2017,
        "https://arxiv.org/abs/1706.03762",
    )


def test_doi_builds_the_link_when_there_is_no_arxiv_id() -> None:
    meta = parse_pdf(
        make_paper_pdf(arxiv_id=None, venue_line="Nature 323, 533-536. doi:10.1038/323533a0.")
    ).paper
    assert meta is not None
    assert meta.arxiv_id is None
    assert meta.doi == "10.1038/323533a0"
    assert meta.link == "https://doi.org/10.1038/323533a0"


def test_nothing_stated_means_nothing_guessed() -> None:
    data = make_plain_pdf(
        [
            "some notes about attention written in one size of text",
            "Alice Zhang, Bob Smith wrote this line but it is not marked as authors",
            "the model was trained in 2021 and it works quite well on our data",
        ],
        metadata={"title": "Microsoft Word - notes_final.docx", "author": "admin"},
    )
    meta = parse_pdf(data).paper
    assert meta is not None
    assert meta.title is None
    assert meta.authors == ()
    assert (meta.venue, meta.year, meta.arxiv_id, meta.doi, meta.link) == (None,) * 5
    assert meta.abstract is None


def test_real_pdf_metadata_title_is_used_when_the_page_has_none() -> None:
    data = make_plain_pdf(
        ["plain text without a big title, long enough to count as a page"],
        metadata={"title": "Learning Representations by Back-propagating Errors"},
    )
    meta = parse_pdf(data).paper
    assert meta is not None
    assert meta.title == "Learning Representations by Back-propagating Errors"


def test_chinese_chapter_title_and_no_invented_authors() -> None:
    meta = parse_pdf(make_chinese_pdf()).paper
    assert meta is not None
    assert meta.title == "第3章 注意力机制"
    assert meta.authors == ()
    assert meta.venue is None
    assert meta.link is None


@pytest.mark.parametrize(
    ("title", "real"),
    [
        ("Attention Is All You Need", True),
        ("注意力机制与外部记忆", True),
        ("Microsoft Word - paper.docx", False),
        ("main.tex", False),
        ("Untitled", False),
        ("", False),
        (None, False),
    ],
)
def test_looks_like_real_title(title: str | None, real: bool) -> None:
    assert looks_like_real_title(title) is real
