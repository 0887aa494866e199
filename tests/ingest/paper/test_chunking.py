"""Chunking: sentence-aligned, sized, page-located, section-labelled chunks."""

from __future__ import annotations

import itertools

import pytest

from ingest.paper.chunking import Block, chunk_blocks
from ingest.text import split_sentences


def _sentences(n: int, start: int = 0) -> str:
    return " ".join(f"Sentence number {i} talks about attention heads." for i in range(start, n))


def test_chunks_respect_size_and_never_cut_sentences() -> None:
    blocks = [Block(_sentences(60), page=1), Block(_sentences(120, 60), page=2)]
    chunks = chunk_blocks(blocks, target_chars=400, max_chars=500)
    assert len(chunks) > 5
    assert [c.ordinal for c in chunks] == list(range(len(chunks)))
    originals = set(split_sentences(_sentences(120)))
    for c in chunks:
        assert len(c.text) <= 500
        assert set(split_sentences(c.text)) <= originals  # whole sentences only


def test_consecutive_chunks_overlap_by_one_sentence() -> None:
    chunks = chunk_blocks([Block(_sentences(40), page=1)], target_chars=300, max_chars=400)
    for a, b in itertools.pairwise(chunks):
        assert split_sentences(a.text)[-1] == split_sentences(b.text)[0]


def test_no_overlap_when_disabled_and_every_sentence_kept_once() -> None:
    text = _sentences(40)
    chunks = chunk_blocks([Block(text, page=1)], target_chars=300, overlap_sentences=0)
    assert " ".join(c.text for c in chunks) == text


def test_pages_and_page_spans() -> None:
    blocks = [Block(_sentences(3), page=4), Block(_sentences(6, 3), page=5)]
    (chunk,) = chunk_blocks(blocks, target_chars=2000, max_chars=2400)
    assert (chunk.page, chunk.page_end) == (4, 5)
    assert "\n" in chunk.text  # paragraphs stay visible


def test_block_continued_on_next_page_cites_the_right_pages() -> None:
    first, second = "The model is trained on eight GPUs and", "then evaluated. A new sentence."
    text = first + " " + second
    block = Block(text, page=2, breaks=((len(first) + 1, 3),))
    chunks = chunk_blocks([block], target_chars=20, max_chars=200, overlap_sentences=0)
    assert [(c.text, c.page, c.page_end) for c in chunks] == [
        ("The model is trained on eight GPUs and then evaluated.", 2, 3),
        ("A new sentence.", 3, 3),
    ]


def test_headings_start_sections_and_are_not_crossed() -> None:
    blocks = [
        Block("Front matter line.", page=1),
        Block("Abstract", page=1, heading=True),
        Block("We study attention.", page=1),
        Block("3.2 Attention", page=2, heading=True),
        Block("An attention function maps a query to an output.", page=2),
    ]
    chunks = chunk_blocks(blocks)
    assert [(c.section, c.text, c.page) for c in chunks] == [
        (None, "Front matter line.", 1),
        ("Abstract", "We study attention.", 1),
        ("3.2 Attention", "An attention function maps a query to an output.", 2),
    ]


def test_chinese_sentences_join_without_spaces() -> None:
    text = "注意力是一种资源分配方案。" * 30
    chunks = chunk_blocks([Block(text, page=1)], target_chars=100, max_chars=150)
    assert all(" " not in c.text for c in chunks)
    assert all(c.text.endswith("。") for c in chunks)
    assert all(len(c.text) <= 150 for c in chunks)


def test_sentence_longer_than_max_is_cut() -> None:
    long = "，".join(["这是一个很长的从句"] * 80) + "。"
    chunks = chunk_blocks([Block(long, page=1)], target_chars=100, max_chars=120)
    assert all(len(c.text) <= 120 for c in chunks)
    assert len(chunks) > 5


def test_empty_input_and_bad_sizes() -> None:
    assert chunk_blocks([]) == []
    assert chunk_blocks([Block("   ", page=1)]) == []
    with pytest.raises(ValueError, match="target_chars"):
        chunk_blocks([], target_chars=500, max_chars=100)


def test_line_boxes_merge_per_page_and_column() -> None:
    from ingest.paper.chunking import merge_boxes

    lines = [
        (1, 50.0, 700.0, 290.0, 710.0),  # left column, bottom
        (1, 50.0, 712.0, 280.0, 722.0),
        (1, 310.0, 60.0, 550.0, 70.0),  # right column, top
        (1, 310.0, 72.0, 540.0, 82.0),
        (2, 50.0, 60.0, 290.0, 70.0),  # next page
    ]
    assert merge_boxes(lines) == (
        (1, 50.0, 700.0, 290.0, 722.0),
        (1, 310.0, 60.0, 550.0, 82.0),
        (2, 50.0, 60.0, 290.0, 70.0),
    )
    scattered = [(1, 100.0 + 20 * i, 100.0, 110.0 + 20 * i, 140.0) for i in range(8)]
    assert merge_boxes(scattered) == ((1, 100.0, 100.0, 250.0, 140.0),)  # one box, not eight
