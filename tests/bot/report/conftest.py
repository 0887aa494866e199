"""The report tests' store (embedded Qdrant, test embedder) and model (the fake server)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot.llm import OpenAIChatModel
from storage.async_store import AsyncKnowledgeStore
from storage.store import KnowledgeStore
from tests.bot.report.support import open_store
from tests.fakes.openai_server import FakeOpenAI


@pytest.fixture
def store(tmp_path: Path) -> Iterator[KnowledgeStore]:
    st = open_store(tmp_path / "qdrant")
    yield st
    st.close()


@pytest.fixture
def served(store: KnowledgeStore) -> Iterator[AsyncKnowledgeStore]:
    """``store`` as the services use it (set up and check through ``store``)."""
    st = AsyncKnowledgeStore(store)
    yield st
    st.close()


@pytest.fixture
async def model(fake_openai: FakeOpenAI) -> AsyncIterator[OpenAIChatModel]:
    llm = OpenAIChatModel(fake_openai.base_url, "k", "writer", timeout_s=5, retry_backoff_s=0.01)
    yield llm
    await llm.aclose()
