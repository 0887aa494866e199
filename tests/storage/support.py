"""Stores and sources the storage tests share (and the CLI, injection and recovery tests)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from kernel.models import (
    ChatGlossary,
    Chunk,
    GlossaryEntry,
    Note,
    PaperMeta,
    ParsedSource,
    QuizItem,
    QuizQuestion,
    SearchHit,
    SourceKind,
    Turn,
    VideoMeta,
)
from storage.embedding.embedder import Embedder
from storage.qdrant.index import QdrantIndex
from storage.store import KnowledgeStore
from tests.fakes.embedding import test_embedder

__all__ = [
    "NEW_TEXTS",
    "PAPER_TEXTS",
    "QUERIES",
    "assert_same_chat",
    "fill",
    "open_store",
    "paper",
    "results",
    "video",
]

PAPER_TEXTS = (
    "The Transformer relies entirely on self-attention and dispenses with recurrence.",
    "Multi-head attention lets the model attend to information from different subspaces.",
    "We trained the base models for 100,000 steps on eight NVIDIA P100 GPUs.",
    "Positional encodings use sine and cosine functions of different frequencies.",
    "Label smoothing hurts perplexity but improves accuracy and BLEU score.",
)


def paper(fingerprint: str = "sha256:paper", texts: Sequence[str] = PAPER_TEXTS) -> ParsedSource:
    return ParsedSource(
        kind=SourceKind.PAPER,
        fingerprint=fingerprint,
        paper=PaperMeta(title="Attention Is All You Need", pages=len(texts)),
        chunks=tuple(
            Chunk(ordinal=i, text=t, page=i + 1, page_end=i + 1, section="Model")
            for i, t in enumerate(texts)
        ),
    )


def video() -> ParsedSource:
    return ParsedSource(
        kind=SourceKind.VIDEO,
        fingerprint="youtube:dQw4w9WgXcQ",
        video=VideoMeta(title="Lecture", url="https://www.youtube.com/watch?v=dQw4w9WgXcQ"),
        chunks=(
            Chunk(ordinal=0, text="Welcome to the lecture on GPU training", start_s=0, end_s=30),
            Chunk(ordinal=1, text="Attention heads look at other tokens", start_s=754.6, end_s=790),
        ),
    )


def open_store(
    path: Path, embedder: Embedder | None = None, batch_size: int = 16
) -> KnowledgeStore:
    return KnowledgeStore(
        QdrantIndex(path=path), embedder or test_embedder(), batch_size=batch_size
    )


NEW_TEXTS = tuple(
    f"Revised passage {i}: sparse mixtures of experts route tokens." for i in range(6)
)


QUERIES = (
    "How many GPUs were used for training?",
    "what are positional encodings",
    "attention heads",
    "多头注意力",
)


def fill(store: KnowledgeStore, chat: int, *, with_video: bool = True) -> None:
    store.add_source(chat, paper(fingerprint=f"sha256:paper{chat}"))
    if with_video:
        store.add_source(chat, video())
    start = datetime(2026, 3, 1, tzinfo=UTC)
    for i in range(3):
        store.put_note(
            Note(
                chat_id=chat,
                note_id=f"n{i}",
                question=f"问题 {i}",
                answer=f"答案 {i} [1]",
                grounded=i != 1,
                created_at=start + timedelta(minutes=i),
            )
        )
    for i in range(5):
        store.add_turn(
            Turn(
                chat_id=chat,
                turn_id=f"t{i}",
                role="user" if i % 2 == 0 else "assistant",
                text=f"turn {i}",
                created_at=start + timedelta(seconds=i),
            )
        )
    question = QuizQuestion(
        question="多少个头？", options=("8", "4", "16"), correct_option_id=0, explanation="见论文"
    )
    store.put_quiz_items(
        [QuizItem(chat_id=chat, quiz_id="q1", round_id="r1", question=question, asked_at=start)]
    )
    store.answer_quiz(chat, "q1", 1)
    entry = GlossaryEntry(en="attention", zh="注意力", explanation="关注重要的词")
    glossary = ChatGlossary(
        chat_id=chat, lang="zh", fingerprint="f", entries=(entry,), built_at=start
    )
    store.put_glossary(glossary)


def results(store: KnowledgeStore, chat: int) -> list[list[SearchHit]]:
    return [store.search(chat, q, k=4, mode=m) for q in QUERIES for m in ("hybrid", "dense")]


def assert_same_chat(a: KnowledgeStore, b: KnowledgeStore, chat: int) -> None:
    for hits_a, hits_b in zip(results(a, chat), results(b, chat), strict=True):
        assert [h.chunk_id for h in hits_a] == [h.chunk_id for h in hits_b]
        assert [h.text for h in hits_a] == [h.text for h in hits_b]
        for x, y in zip(hits_a, hits_b, strict=True):
            assert abs(x.score - y.score) < 1e-6
    assert a.notes(chat) == b.notes(chat)
    assert a.quiz_items(chat) == b.quiz_items(chat)
    assert a.glossary(chat, "zh") == b.glossary(chat, "zh")
    assert a.turns(chat, limit=50) == b.turns(chat, limit=50)
    assert a.sources(chat) == b.sources(chat)
