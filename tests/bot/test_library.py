"""Library: slow ingestions never take the threads other chats' questions need."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.library import Library, PdfLimits, SubtitleLimits
from kernel.errors import TooLargeError, UnsupportedLinkError
from storage.async_store import AsyncKnowledgeStore
from storage.index import QdrantIndex
from storage.store import KnowledgeStore
from tests.embedding import test_embedder
from tests.pdfs import make_paper_pdf
from tests.subtitle_samples import lecture_srt


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


async def test_subtitles_are_bounded_and_show_progress_while_read(
    store: AsyncKnowledgeStore,
) -> None:
    library = Library(
        store,
        pdf_limits=PdfLimits(ocr=False),
        transcript_languages=("en",),
        subtitle_limits=SubtitleLimits(max_bytes=2**20, max_segments=3),
    )
    stages: list[str] = []
    talk = lecture_srt(30).encode()  # half an hour: more than 3 segments
    with pytest.raises(TooLargeError):
        await library.add_subtitles(
            7, talk, filename="talk.srt", progress=lambda s, d, t: stages.append(s)
        )
    assert stages == ["reading"]  # the student saw it was being read, then why it stopped
    assert await library.sources(7) == []  # nothing half-stored
    with pytest.raises(TooLargeError):
        await library.add_subtitles(7, b"1" * (2**20 + 1), filename="huge.srt")
    with pytest.raises(UnsupportedLinkError):
        await library.add_subtitles(7, talk, filename="talk.srt", url="javascript:alert(1)")
    library.close()
