"""Which parts of a long paper and talk the report's prompts get."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.report.material import gather_material
from kernel.models import Chunk, PaperMeta, ParsedSource, SourceKind
from storage.async_store import AsyncKnowledgeStore
from storage.store import KnowledgeStore
from tests.bot.report.support import CHAT, note, open_store, video_source


@pytest.fixture
def store(tmp_path: Path) -> Iterator[KnowledgeStore]:
    st = open_store(tmp_path / "qdrant")
    yield st
    st.close()


def long_paper() -> ParsedSource:
    """40 pages: body on 1-30, acknowledgements, appendix, then the reference list."""
    chunks = []
    for page in range(1, 41):
        if page <= 30:
            section = "Method" if page < 20 else "Conclusion" if page == 30 else "Experiments"
        elif page == 31:
            section = "Acknowledgments"
        elif page <= 36:
            section = f"B.{page - 31} Extra tables"
        else:
            section = "References"
        text = f"Page {page} of section {section} about attention and translation quality."
        chunks.append(Chunk(ordinal=page - 1, text=text, page=page, page_end=page, section=section))
    return ParsedSource(
        kind=SourceKind.PAPER,
        fingerprint="sha256:long",
        paper=PaperMeta(title="Long", pages=40),
        chunks=tuple(chunks),
    )


async def test_summary_keeps_to_the_body_and_the_talk_is_sampled_throughout(
    store: KnowledgeStore,
) -> None:
    store.add_source(CHAT, long_paper())
    store.add_source(CHAT, video_source(n=120))  # a two-hour talk
    asked = note(store, "What is attention?", [("Attention", "注意力")])

    served = AsyncKnowledgeStore(store)
    material = await gather_material(served, CHAT)
    served.close()

    summary_pages = {s.page for s in material.summary}
    assert summary_pages
    assert max(p for p in summary_pages if p is not None) <= 30
    assert 30 in summary_pages  # the conclusion is there
    assert all(s.kind is SourceKind.PAPER for s in material.summary)
    assert all((s.page or 0) < 37 for s in material.tech if s.kind is SourceKind.PAPER)
    starts = sorted(s.start_s for s in material.talk if s.start_s is not None)
    assert starts[0] < 600
    assert starts[-1] > 6000  # the last part of the talk, not just its first hour
    assert all(s.kind is SourceKind.VIDEO for s in material.talk)
    # What the tutor already showed the student can be cited again.
    assert any(s.text == asked.citations[0].snippet for s in material.tech)
    assert material.notes == (asked,)
    assert len({s.sid for s in (*material.summary, *material.tech, *material.talk)}) == len(
        set((*material.summary, *material.tech, *material.talk))
    )
