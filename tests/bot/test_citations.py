"""Citation checking: only markers that point at a given snippet survive, renumbered."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from bot.citations import build_citations, check_answer, check_citations, trim_snippet
from kernel.errors import ServiceError
from kernel.models import SearchHit, SourceKind
from tests.fakes.embedding import test_embedder


def hit(n: int, kind: SourceKind = SourceKind.PAPER, text: str | None = None) -> SearchHit:
    video = kind is SourceKind.VIDEO
    return SearchHit(
        rank=n,
        score=1.0 / n,
        chunk_id=f"c{n}",
        source_id="vid" if video else "pdf",
        kind=kind,
        title="Lecture" if video else "Attention Is All You Need",
        text=text or f"snippet number {n}",
        ordinal=n,
        page=None if video else n + 1,
        start_s=60.0 * n if video else None,
        end_s=60.0 * n + 30 if video else None,
        url=f"https://youtu.be/x?t={60 * n}" if video else None,
    )


def test_valid_markers_are_kept_and_not_flagged() -> None:
    checked = check_citations("Attention weighs words [1]. It is fast [2][1].", 3)
    assert checked.text == "Attention weighs words [1]. It is fast [2][1]."
    assert checked.used == (1, 2)
    assert not checked.flagged


def test_renumbered_in_order_of_first_use() -> None:
    checked = check_citations("First [3]. Then [1]. Again [3].", 5)
    assert checked.text == "First [1]. Then [2]. Again [1]."
    assert checked.used == (3, 1)
    assert not checked.flagged


@pytest.mark.parametrize(
    ("raw", "expected", "used"),
    [
        ("Invented [9].", "Invented.", ()),
        ("Zero [0] here.", "Zero here.", ()),
        ("Mixed [2][9].", "Mixed [1].", (2,)),
        ("Range [1-3].", "Range [1][2][3].", (1, 2, 3)),
        ("List [1, 2].", "List [1][2].", (1, 2)),
        ("Full width ［2］ and 【1】.", "Full width [1] and [2].", (2, 1)),
        ("中文句子［1］。", "中文句子[1]。", (1,)),
        ("Partly out [4-6].", "Partly out [1].", (4,)),
        ("Reversed [3-1].", "Reversed.", ()),
        ("Spaced [ 2 ].", "Spaced [1].", (2,)),
    ],
)
def test_invalid_or_odd_markers_are_fixed_and_flagged(
    raw: str, expected: str, used: tuple[int, ...]
) -> None:
    checked = check_citations(raw, 4)
    assert checked.text == expected
    assert checked.used == used
    assert checked.flagged


def test_text_in_brackets_that_is_not_a_marker_is_untouched() -> None:
    text = "(Background knowledge) A list [a, b] and [citation needed]."
    checked = check_citations(text, 2)
    assert checked.text == text
    assert not checked.flagged


def test_no_snippets_removes_every_marker() -> None:
    checked = check_citations("Claim [1].", 0)
    assert checked.text == "Claim."
    assert checked.flagged


def test_build_citations_carries_the_hit_details() -> None:
    hits = [hit(1), hit(2, SourceKind.VIDEO), hit(3)]
    citations = build_citations((2, 3), hits)
    assert [c.n for c in citations] == [1, 2]
    video, paper = citations
    assert video.kind is SourceKind.VIDEO
    assert (video.start_s, video.end_s, video.url) == (120.0, 150.0, "https://youtu.be/x?t=120")
    assert video.snippet == "snippet number 2"
    assert paper.page == 4
    assert paper.title == "Attention Is All You Need"
    assert paper.url is None


def test_snippets_are_trimmed_for_quoting() -> None:
    long_en = "word " * 200
    trimmed = trim_snippet(long_en)
    assert len(trimmed) <= 301
    assert trimmed.endswith("…")
    assert not trimmed.endswith(" …")
    long_zh = "注意力机制让每个词都能看到其他词。" * 40
    assert len(trim_snippet(long_zh)) == 301
    assert trim_snippet("  short\n text ") == "short text"


class _DownEmbedder:
    """An embedding server that cannot be reached."""

    model_name = "down"
    dim = 3

    def embed_passages(self, texts: Sequence[str]) -> list[list[float]]:
        raise ServiceError("嵌入服务不可用。", "The embedding server is down.")

    def embed_query(self, text: str) -> list[float]:
        raise ServiceError("嵌入服务不可用。", "The embedding server is down.")

    def close(self) -> None:
        pass


async def test_an_unreachable_embedder_leaves_the_markers_unchecked_not_lost() -> None:
    hits = [hit(1, text="Attention weighs words."), hit(2, text="It runs in parallel.")]
    checked = await check_answer(_DownEmbedder(), "Attention weighs words [1]. [7]", hits)
    assert checked.text == "Attention weighs words [1]."
    assert checked.flagged  # [7] pointed at nothing
    [citation] = checked.citations
    assert citation.support is None  # not checked, and the student's JSON says so


async def test_checked_citations_carry_their_support() -> None:
    hits = [hit(1, text="The encoder is a stack of six identical layers."), hit(2)]
    checked = await check_answer(
        test_embedder(), "The encoder is a stack of six identical layers [2].", hits, lang="en"
    )
    assert checked.text == "The encoder is a stack of six identical layers [1]."
    assert checked.flagged  # moved from snippet 2 to snippet 1
    [citation] = checked.citations
    assert citation.page == 2  # hit 1 (page n + 1)
    assert citation.support is not None
    assert citation.support > 0.5
