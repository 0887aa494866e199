"""Material for the study-tool tests: the generated sparse-attention paper (parsed by the real
PDF parser, with its sections), the English lecture subtitles, notes citing them, and the real
store and ``openai`` client against the fake model server."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.citations import build_citations
from bot.llm import OpenAIChatModel
from ingest.paper.pdf import parse_pdf
from ingest.video.transcript import video_source_from_subtitles
from kernel.models import Note, SearchHit, SourceKind, Term
from storage.async_store import AsyncKnowledgeStore
from storage.index import QdrantIndex
from storage.store import KnowledgeStore
from tests.fakes.embedding import test_embedder
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.pdfs import make_paper_pdf
from tests.fakes.subtitle_samples import SRT_EN

__all__ = [
    "CHAT",
    "OTHER",
    "VIDEO_URL",
    "chunk",
    "core",
    "model",
    "note",
    "prompt_of",
    "store",
    "user_text",
]

CHAT, OTHER = 11, 12
VIDEO_URL = "https://www.youtube.com/watch?v=dQw4w9WgXcQ"
_T0 = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
def core(tmp_path: Path) -> Iterator[KnowledgeStore]:
    """The store with the paper and the lecture in ``CHAT`` (set up and checked directly)."""
    st = KnowledgeStore(QdrantIndex(path=tmp_path / "qdrant"), test_embedder())
    st.add_source(CHAT, parse_pdf(make_paper_pdf(), filename="sparse.pdf"))
    lecture = video_source_from_subtitles(
        SRT_EN.encode(), filename="lecture.srt", url=VIDEO_URL, title="Attention lecture"
    )
    st.add_source(CHAT, lecture)
    return st


@pytest.fixture
def store(core: KnowledgeStore) -> Iterator[AsyncKnowledgeStore]:
    st = AsyncKnowledgeStore(core)
    yield st
    st.close()


@pytest.fixture
async def model(fake_openai: FakeOpenAI) -> AsyncIterator[OpenAIChatModel]:
    llm = OpenAIChatModel(
        fake_openai.base_url, "k", "tutor", timeout_s=2, max_retries=1, retry_backoff_s=0.01
    )
    yield llm
    await llm.aclose()


def chunk(core: KnowledgeStore, needle: str, chat: int = CHAT) -> SearchHit:
    """The stored chunk whose text contains ``needle``."""
    for source in core.sources(chat):
        for hit in core.chunks(chat, source.source_id):
            if needle in hit.text:
                return hit
    raise AssertionError(f"no chunk holds {needle!r}")


def note(
    core: KnowledgeStore,
    question: str,
    cited: Sequence[SearchHit],
    terms: Sequence[tuple[str | None, str | None]] = (),
    *,
    chat: int = CHAT,
) -> Note:
    """A stored note whose answer cites ``cited`` (as the answerer cites: trimmed snippets)."""
    made = Note(
        chat_id=chat,
        note_id=f"note-{len(core.notes(chat)) + 1}",
        question=question,
        answer="回答 [1]。",
        grounded=True,
        citations=build_citations(range(1, len(cited) + 1), cited),
        terms=tuple(Term(en=en, zh=zh) for en, zh in terms),
        lang="zh",
        created_at=_T0 + timedelta(minutes=len(core.notes(chat))),
    )
    core.put_note(made)
    return made


def prompt_of(body: dict[str, Any]) -> str:
    """The last user message of a chat-completions request body."""
    return str(body["messages"][-1]["content"])


def user_text(body: dict[str, Any]) -> str:
    """Every user message of a request body (a second try repeats none of the snippets)."""
    return "\n".join(str(m["content"]) for m in body["messages"] if m["role"] == "user")


PAPER, VIDEO = SourceKind.PAPER, SourceKind.VIDEO
