"""Material for the report tests: a generated paper, a talk, notes, and a cooperative writer."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.report import HEADINGS, REPORT_TITLE, Report, ReportSection
from bot.report.prompts import VERIFY_SYSTEM
from bot.report.wordcount import count_zi
from kernel.models import (
    Chunk,
    Citation,
    Note,
    PaperMeta,
    ParsedSource,
    SourceKind,
    Term,
    VideoMeta,
)
from storage.qdrant.index import QdrantIndex
from storage.store import KnowledgeStore
from tests.fakes.embedding import test_embedder
from tests.fakes.tutor_model import TutorModel, quoted_words, report_snippets

__all__ = [
    "CHAT",
    "VIDEO_URL",
    "cooperative",
    "markers_in",
    "note",
    "open_store",
    "paper_source",
    "prompt_of",
    "sample_report",
    "video_source",
    "writer_reply",
]

CHAT = 42
VIDEO_URL = "https://www.youtube.com/watch?v=eMlx5fFNoYc"

_SECTIONS = (
    ("Abstract", "We propose the Transformer, a model based solely on attention mechanisms."),
    ("1 Introduction", "Recurrent networks process tokens one by one and are hard to parallelize."),
    ("3 Model Architecture", "The encoder maps an input sequence to continuous representations."),
    ("3.2 Attention", "Scaled dot-product attention divides the scores by the square root of d_k."),
    ("3.3 Multi-Head Attention", "Multi-head attention runs several attention heads in parallel."),
    ("3.5 Positional Encoding", "Sine and cosine positional encodings give the order of tokens."),
    ("5 Training", "We trained on the WMT 2014 English-German dataset with eight GPUs."),
    ("6 Results", "The big model reaches 28.4 BLEU on English-to-German translation."),
    ("7 Conclusion", "Attention-only models train faster and translate better than RNNs."),
    (
        "References",
        "[1] Jimmy Lei Ba, Jamie Ryan Kiros, and Geoffrey E Hinton. Layer normalization.",
    ),
)


def paper_source(*, meta: PaperMeta | None = None, repeat: int = 2) -> ParsedSource:
    """A ten-section paper, ``repeat`` chunks per section, one section per page."""
    chunks = []
    for page, (section, text) in enumerate(_SECTIONS, start=1):
        for r in range(repeat):
            chunks.append(
                Chunk(
                    ordinal=len(chunks),
                    text=f"{text} Detail {r + 1} of section {section}: {text.lower()}",
                    page=page,
                    page_end=page,
                    section=section,
                )
            )
    return ParsedSource(
        kind=SourceKind.PAPER,
        fingerprint="sha256:attention",
        paper=meta
        or PaperMeta(
            title="Attention Is All You Need",
            authors=("Ashish Vaswani", "Noam Shazeer", "Niki Parmar", "Jakob Uszkoreit"),
            affiliations=("Google Brain", "Google Research"),
            year=2017,
            arxiv_id="1706.03762",
            pages=len(_SECTIONS),
        ),
        chunks=tuple(chunks),
    )


def video_source(n: int = 12) -> ParsedSource:
    """A talk of ``n`` 60-second transcript chunks."""
    lines = [
        "Each token starts as an embedding vector in a high dimensional space.",
        "The query asks a question and the key answers it; their dot product is the score.",
        "Softmax turns the scores into weights that add up to one.",
        "Masking stops later words from influencing earlier ones during training.",
    ]
    chunks = tuple(
        Chunk(ordinal=i, text=lines[i % len(lines)], start_s=60.0 * i, end_s=60.0 * i + 58)
        for i in range(n)
    )
    return ParsedSource(
        kind=SourceKind.VIDEO,
        fingerprint="youtube:eMlx5fFNoYc",
        video=VideoMeta(
            title="Attention in transformers, visually explained",
            url=VIDEO_URL,
            video_id="eMlx5fFNoYc",
            platform="youtube",
            duration_s=60.0 * n,
        ),
        chunks=chunks,
    )


def note(
    store: KnowledgeStore, question: str, terms: Sequence[tuple[str, str]], chat: int = CHAT
) -> Note:
    """A stored note of ``chat`` citing page 3 of its paper."""
    paper = next(r for r in store.sources(chat) if r.kind is SourceKind.PAPER)
    made = Note(
        chat_id=chat,
        note_id=f"n{len(store.notes(chat)) + 1}",
        question=question,
        answer="Transformer 是一种只依靠注意力机制的模型 [1]。",
        grounded=True,
        citations=(
            Citation(
                n=1,
                source_id=paper.source_id,
                kind=SourceKind.PAPER,
                title=paper.title,
                snippet="The encoder maps an input sequence.",
                page=3,
            ),
        ),
        terms=tuple(Term(en=en, zh=zh) for en, zh in terms),
        created_at=datetime.now(UTC),
    )
    store.put_note(made)
    return made


def open_store(path: Path) -> KnowledgeStore:
    return KnowledgeStore(QdrantIndex(path=path), test_embedder())


def prompt_of(body: dict[str, Any]) -> str:
    """The user prompt of a chat-completions request body."""
    return str(body["messages"][-1]["content"])


def markers_in(text: str) -> list[str]:
    return re.findall(r"\[[^\[\]]*\]", text)


_SENTENCE = "资料中写道“{quote}”，这说明作者在这一部分详细讨论了相应的方法与设计思路{marker}。"


def writer_reply(prompt: str, *, scale: float = 1.0) -> str:
    """Chinese prose of about the length the prompt asks for, each sentence quoting a few words
    of the snippet it cites, citing the snippets in turn (a model that writes from its sources)."""
    asked = re.search(r"(?:到约|续写约|篇幅：约) (\d+) 字", prompt)
    target = int(int(asked.group(1)) * scale) if asked else 300
    blocks = report_snippets(prompt) or [("", "")]
    sentences: list[str] = []
    while count_zi("".join(sentences)) < target - 20:
        marker, text = blocks[len(sentences) % len(blocks)]
        sentences.append(_SENTENCE.format(quote=quoted_words(text), marker=marker))
    paragraphs = ["".join(sentences[i : i + 3]) for i in range(0, len(sentences), 3)]
    return "\n\n".join(paragraphs)


def cooperative(body: dict[str, Any]) -> str:
    """A FakeOpenAI default: a model that does what it is asked (and checks claims honestly)."""
    if body["messages"][0]["content"] == VERIFY_SYSTEM:
        return TutorModel("cooperative").for_body(body)
    return writer_reply(prompt_of(body))


def sample_report(paper_title: str = "Attention Is All You Need") -> Report:
    bodies = (
        "论文标题：Attention Is All You Need\n作者：Ashish Vaswani、Noam Shazeer",
        "本文提出变换器（Transformer）[论文 p.2]。\n实验表明 BLEU 达到 28.4[论文 p.8]。",
        "注意力机制（Attention）计算查询与键的相似度[论文 p.4][视频 12:34]。",
        "要点一：视频用直观的动画解释了注意力[视频 03:10]。",
    )
    sections = tuple(
        ReportSection(h, b, count_zi(h) + count_zi(b))
        for h, b in zip(HEADINGS, bodies, strict=True)
    )
    return Report(
        title=REPORT_TITLE,
        sections=sections,
        sources=("论文：Vaswani 等.《Attention Is All You Need》", "讲解视频：《Attention》"),
        chars=sum(s.chars for s in sections),
        citations=5,
        video_included=True,
        notes_used=1,
        paper_title=paper_title,
    )
