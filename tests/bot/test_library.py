"""Library: slow ingestions never take the threads other chats' questions need."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.library import Library, PdfLimits
from storage.async_store import AsyncKnowledgeStore
from storage.index import QdrantIndex
from storage.store import KnowledgeStore
from tests.embedding import test_embedder
from tests.pdfs import make_paper_pdf


@pytest.fixture
def store(tmp_path: Path) -> Iterator[AsyncKnowledgeStore]:
    st = AsyncKnowledgeStore(KnowledgeStore(QdrantIndex(path=tmp_path / "qdrant"), test_embedder()))
    yield st
    st.close()


async def test_store_calls_go_on_while_every_ingestion_thread_is_stuck(
    store: AsyncKnowledgeStore,
) -> None:
    library = Library(
        store,
        pdf_limits=PdfLimits(ocr=False),
        transcript_languages=("zh", "en"),
        read_concurrency=2,
    )
    release, both_stuck = threading.Event(), threading.Event()
    stuck: list[str] = []  # list.append is atomic across threads

    def progress(stage: str, done: int, total: int) -> None:
        if stage == "parsing" and done == 1:
            stuck.append(threading.current_thread().name)
            if len(stuck) == 2:
                both_stuck.set()
            release.wait(timeout=30)  # a slow parse (a huge scanned PDF, OCR...)

    pdf = make_paper_pdf()
    ingesting = [
        asyncio.ensure_future(library.add_pdf(chat, pdf, filename="p.pdf", progress=progress))
        for chat in (1, 2, 3)  # more ingestions than ingestion threads
    ]
    try:
        assert await asyncio.to_thread(both_stuck.wait, 30)
        # Quick calls (what a question needs) are served meanwhile.
        assert await asyncio.wait_for(library.sources(7), timeout=5) == []
        assert await asyncio.wait_for(store.search(7, "attention"), timeout=5) == []
        assert await asyncio.wait_for(store.notes(7), timeout=5) == []
    finally:
        release.set()
        records = await asyncio.gather(*ingesting)
    assert [r.title for r in records] == ["Sparse Attention for Beginners"] * 3
    assert [len(await library.sources(chat)) for chat in (1, 2, 3)] == [1, 1, 1]
    library.close()


class _BrokenEmbedder:
    """Embeds nothing: indexing fails after parsing succeeded."""

    model_name, dim = "broken", 384

    def embed_passages(self, texts: object) -> list[list[float]]:
        raise RuntimeError("the embedding model crashed")

    def embed_query(self, text: str) -> list[float]:
        raise RuntimeError("the embedding model crashed")

    def close(self) -> None:
        return None


async def test_a_papers_pdf_is_kept_while_it_is_a_source_and_only_then(tmp_path: Path) -> None:
    from storage.paper_files import PaperFiles

    files = PaperFiles(tmp_path / "papers")
    store = AsyncKnowledgeStore(
        KnowledgeStore(QdrantIndex(path=tmp_path / "qdrant"), test_embedder())
    )
    library = Library(
        store, pdf_limits=PdfLimits(ocr=False), transcript_languages=("en",), files=files
    )
    pdf = make_paper_pdf()
    try:
        record = await library.add_pdf(1, pdf, filename="p.pdf")
        assert files.original(1, record.source_id) == pdf
        await library.forget(1, record.source_id)
        assert files.original(1, record.source_id) is None
        record = await library.add_pdf(1, pdf, filename="p.pdf")
        await library.reset(1)
        assert files.original(1, record.source_id) is None
    finally:
        library.close()
        store.close()

    broken = AsyncKnowledgeStore(
        KnowledgeStore(QdrantIndex(path=tmp_path / "qdrant2"), _BrokenEmbedder())  # type: ignore[arg-type]
    )
    library = Library(
        broken, pdf_limits=PdfLimits(ocr=False), transcript_languages=("en",), files=files
    )
    try:
        with pytest.raises(RuntimeError, match="crashed"):
            await library.add_pdf(2, pdf, filename="p.pdf")
        left = tmp_path / "papers" / "2"
        assert not left.exists() or list(left.iterdir()) == []  # nothing left behind
    finally:
        library.close()
        broken.close()
