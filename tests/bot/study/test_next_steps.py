"""Next steps under an answer: follow-up questions about what the sources cover after the cited
passages (the paper's next sections, what the video says next, terms met there), in the chat's
language, nothing already asked, no model involved."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from bot.answering import Answer
from bot.citations import build_citations
from bot.study import NextSteps
from ingest.terms import text_terms
from kernel.models import Chunk, PaperMeta, ParsedSource, SearchHit, SourceKind, Term, VideoMeta
from storage.async_store import AsyncKnowledgeStore
from storage.qdrant.index import QdrantIndex
from storage.store import KnowledgeStore
from tests.bot.study.support import CHAT, note
from tests.fakes.embedding import test_embedder

_PAPER = (
    ("Abstract", "We propose the Transformer, a model based solely on attention mechanisms."),
    ("3.2 Scaled Dot-Product Attention", "We call our attention Scaled Dot-Product Attention."),
    ("3.2 Scaled Dot-Product Attention", "The scores are divided by the square root of d_k."),
    ("3.3 Multi-Head Attention", "Multi-head attention (MHA) runs 8 heads in parallel."),
    ("3.3 Multi-Head Attention", "MHA attends to different subspaces; MHA is cheap."),
    ("3.5 Positional Encoding", "Sine and cosine positional encodings give the order."),
    ("5 Training", "We trained on WMT 2014 with eight GPUs and report BLEU."),
    ("References", "[1] Ba et al. Layer normalization. MHA BLEU."),
)
_TALK = (
    "Each token starts as an embedding vector.",
    "The query asks a question and the key answers it.",
    "Softmax turns the scores into weights that add up to one.",
    "Masking stops later words from influencing earlier ones.",
)


def _paper(sections: Sequence[tuple[str, str]] = _PAPER) -> ParsedSource:
    chunks = tuple(
        Chunk(ordinal=i, text=text, page=i + 1, section=section)
        for i, (section, text) in enumerate(sections)
    )
    paper = ParsedSource(
        kind=SourceKind.PAPER,
        fingerprint="sha256:transformer",
        paper=PaperMeta(title="Attention Is All You Need", pages=len(chunks)),
        chunks=chunks,
    )
    # The term list ingestion gives it without a model (``Library``: read from the text).
    return paper.model_copy(update={"terms": text_terms(paper)})


def _talk() -> ParsedSource:
    chunks = tuple(
        Chunk(ordinal=i, text=text, start_s=60.0 * i, end_s=60.0 * i + 58)
        for i, text in enumerate(_TALK)
    )
    video = VideoMeta(title="Attention, visually", url="https://youtu.be/eMlx5fFNoYc")
    return ParsedSource(kind=SourceKind.VIDEO, fingerprint="youtube:eMlx5fFNoYc", video=video,
                        chunks=chunks)  # fmt: skip


@pytest.fixture
def core(tmp_path: Path) -> Iterator[KnowledgeStore]:
    st = KnowledgeStore(QdrantIndex(path=tmp_path / "qdrant"), test_embedder())
    st.add_source(CHAT, _paper())
    st.add_source(CHAT, _talk())
    return st


def _hits(core: KnowledgeStore, *needles: str) -> list[SearchHit]:
    every = [h for s in core.sources(CHAT) for h in core.chunks(CHAT, s.source_id)]
    return [next(h for h in every if needle in h.text) for needle in needles]


def _answer(
    hits: Sequence[SearchHit], question: str = "什么是缩放点积注意力？", **kw: object
) -> Answer:
    values: dict[str, object] = {
        "question": question,
        "answer": "缩放点积注意力把分数除以 √dₖ [1][2]。",
        "grounded": True,
        "flagged": False,
        "citations": build_citations(range(1, len(hits) + 1), hits),
        "note_id": "n1",
        "lang": "zh",
        "queries": (),
    }
    values.update(kw)
    return Answer(**values)  # type: ignore[arg-type]


async def test_what_comes_next_in_the_paper_and_the_video(
    core: KnowledgeStore, store: AsyncKnowledgeStore
) -> None:
    note(core, "softmax 是什么？", _hits(core, "divided by"), [("softmax", "归一化指数函数")])
    cited = _hits(core, "We call our attention", "The query asks")
    steps = await NextSteps(store).suggest(CHAT, _answer(cited))
    assert steps == [
        "论文接下来的“Multi-Head Attention”部分讲了什么？",
        "视频 2:00 之后讲到的 归一化指数函数（softmax） 是什么？",
        "论文接下来的“Positional Encoding”部分讲了什么？",
    ]  # "Multi-head attention (MHA)", a term of the paper's list, is that section's topic


async def test_terms_of_the_sources_term_list_met_next(
    core: KnowledgeStore, store: AsyncKnowledgeStore
) -> None:
    listed = (
        Term(en="Multi-head attention", zh="多头注意力", aliases=("MHA",)),
        Term(en="subspace", zh="子空间"),
    )
    core.add_source(CHAT, _paper().model_copy(update={"terms": listed}))  # the model's list
    steps = await NextSteps(store).suggest(CHAT, _answer(_hits(core, "runs 8 heads")))
    assert steps[0] == "论文接下来的“Positional Encoding”部分讲了什么？"
    assert "多头注意力（Multi-head attention） 是什么意思？" in steps  # named by its abbreviation
    english = _answer(_hits(core, "runs 8 heads"), question="What is MHA?", lang="en")
    assert "What does Multi-head attention mean?" in await NextSteps(store).suggest(CHAT, english)


async def test_nothing_the_student_asked_already_and_no_references(
    core: KnowledgeStore, store: AsyncKnowledgeStore
) -> None:
    note(core, "Multi-Head Attention 是什么？", _hits(core, "runs 8 heads"))
    steps = await NextSteps(store).suggest(CHAT, _answer(_hits(core, "We call our attention")))
    assert steps[0] == "论文接下来的“Positional Encoding”部分讲了什么？"
    assert not any("Multi-Head" in s for s in steps)
    last = await NextSteps(store).suggest(CHAT, _answer(_hits(core, "We trained on WMT")))
    assert last == []  # only the references follow (their abbreviations are not in the text)


async def test_english_and_what_gets_no_suggestions(
    core: KnowledgeStore, store: AsyncKnowledgeStore
) -> None:
    cited = _hits(core, "The scores are divided")
    english = _answer(cited, question="What is scaled attention?", lang="en")
    steps = await NextSteps(store).suggest(CHAT, english)
    assert steps[:2] == [
        "What does the paper's part “Multi-Head Attention” explain?",
        "What does the paper's part “Positional Encoding” explain?",
    ]
    nothing = NextSteps(store)
    assert await nothing.suggest(CHAT, _answer([], grounded=False, note_id=None)) == []
    assert await nothing.suggest(CHAT, _answer(cited, uncited=True)) == []


async def test_a_replaced_source_is_read_again(
    core: KnowledgeStore, store: AsyncKnowledgeStore
) -> None:
    steps = NextSteps(store)
    first = await steps.suggest(CHAT, _answer(_hits(core, "We call our attention")))
    assert "Multi-Head Attention" in first[0]
    renamed = [(s.replace("Multi-Head", "Many-Headed"), t) for s, t in _PAPER]
    core.add_source(CHAT, _paper(renamed))  # same file id: replaces the paper
    again = await steps.suggest(CHAT, _answer(_hits(core, "We call our attention")))
    assert "Many-Headed Attention" in again[0]


async def test_terms_are_named_in_the_chats_language(
    core: KnowledgeStore, store: AsyncKnowledgeStore
) -> None:
    note(
        core, "Why divide by the root?", _hits(core, "divided by"), [("softmax", "归一化指数函数")]
    )
    cited = _hits(core, "The query asks")
    english = await NextSteps(store).suggest(CHAT, _answer(cited, question="Query?", lang="en"))
    chinese = await NextSteps(store).suggest(CHAT, _answer(cited, question="查询是什么？"))
    assert english == ["What does the video say about softmax after 2:00?"]
    assert chinese == ["视频 2:00 之后讲到的 归一化指数函数（softmax） 是什么？"]
