"""The study-tool tests' fixtures: the real store holding the material of ``support.py`` (the
paper and the lecture in ``CHAT``) and the real ``openai`` client against the fake model server.

A module may define its own ``core``; ``store`` then wraps that one.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot.llm import OpenAIChatModel
from ingest.paper.pdf import parse_pdf
from ingest.video.transcript import video_source_from_subtitles
from storage.async_store import AsyncKnowledgeStore
from storage.qdrant.index import QdrantIndex
from storage.store import KnowledgeStore
from tests.bot.study.support import CHAT, VIDEO_URL
from tests.fakes.embedding import test_embedder
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.pdfs import make_paper_pdf
from tests.fakes.subtitle_samples import SRT_EN


@pytest.fixture
def core(tmp_path: Path) -> KnowledgeStore:
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
