"""Crash recovery: an ingestion killed after any one of its writes leaves the store consistent.

The store is killed deterministically: after N writes to Qdrant every further call fails, as
if the process had died there (nothing of the store's own error handling gets through), then
the store is reopened and recovered. Every N from 0 to the whole ingestion is tried, so each
point between two writes is covered. The vectors' meaning does not matter here (a search of k
larger than the source finds every chunk), so these run on the hash stand-in, not the model;
the legacy-store test searches by meaning and keeps the model. ``scripts/crash_loop.py`` and
``tests/storage/test_kill_loop.py`` do the same with real ``kill -9``.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import pytest

from kernel.models import SourceStatus
from storage.embedding.sparse import sparse_document
from storage.qdrant.index import ChunkPoint, QdrantIndex
from storage.store import KnowledgeStore, chunk_id, source_id_for
from tests.fakes.embedding import HashEmbedder, test_embedder
from tests.storage.support import NEW_TEXTS, PAPER_TEXTS, open_store, paper

WRITES = ("put_record", "put_records", "upsert_chunks", "delete_chunks", "delete_record")


class _Killed(BaseException):
    """The process died here."""


class _DyingIndex:
    """The real index until ``writes`` writes have been made; then every call fails."""

    def __init__(self, real: QdrantIndex, writes: int) -> None:
        self._real = real
        self._left = writes
        self.dead = False

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._real, name)
        if not callable(attr):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            if self.dead:
                raise _Killed(name)
            if name in WRITES:
                if self._left == 0:
                    self.dead = True
                    raise _Killed(name)
                self._left -= 1
            return attr(*args, **kwargs)

        return call


KILL_POINTS = 7  # kill_after = 0 .. 6: before the first write of an ingestion to after its last


def _writes_of_one_ingestion(path: Path) -> int:
    """How many writes a replacement makes (measured, so the test follows the code)."""
    store = open_store(path, HashEmbedder(), batch_size=2)
    store.add_source(1, paper())
    real = store.index
    counting = _DyingIndex(real, 10**6)
    store.index = counting  # type: ignore[assignment]
    store.add_source(1, paper(texts=NEW_TEXTS))
    store.close()
    return 10**6 - counting._left


def _assert_consistent(store: KnowledgeStore, chat: int) -> None:
    """One READY version, searchable whole, no pending work, no chunk of any other version."""
    records = store.sources(chat)
    assert all(r.status is not SourceStatus.INDEXING and r.pending is None for r in records)
    groups = store.index.chunk_groups()
    live = {(chat, r.source_id, r.generation): r.chunks for r in records if r.chunks}
    assert dict(groups) == live, "orphan or missing chunks"


@pytest.mark.parametrize("kill_after", range(KILL_POINTS))
def test_a_replacement_killed_after_any_write_keeps_one_whole_version(
    tmp_path: Path, kill_after: int
) -> None:
    store = open_store(tmp_path / "q", HashEmbedder(), batch_size=2)
    old = store.add_source(1, paper())
    real = store.index
    store.index = _DyingIndex(real, kill_after)  # type: ignore[assignment]
    with contextlib.suppress(_Killed):
        store.add_source(1, paper(texts=NEW_TEXTS))
    real.close()

    again = KnowledgeStore(QdrantIndex(path=tmp_path / "q"), HashEmbedder())
    recovery = again.recover()
    (record,) = again.sources(1)
    assert record.status is SourceStatus.READY
    texts = {h.text for h in again.search(1, "Transformer experts route tokens GPUs", k=20)}
    if record.generation == old.generation:  # the swap had not happened: the old version
        assert texts == set(PAPER_TEXTS)
        # Killed before its first write, the re-send left nothing to undo.
        assert [i.kept_previous for i in recovery.interrupted] == [True] * (kill_after > 0)
    else:
        assert texts == set(NEW_TEXTS)
        assert recovery.interrupted == ()
    _assert_consistent(again, 1)
    assert not again.recover()
    again.close()


def test_the_kill_points_cover_every_write_of_an_ingestion(tmp_path: Path) -> None:
    # The last kill point must let the whole ingestion through.
    assert _writes_of_one_ingestion(tmp_path / "q") == KILL_POINTS - 1


@pytest.mark.parametrize("kill_after", range(KILL_POINTS))
def test_a_new_source_killed_after_any_write_is_failed_or_whole(
    tmp_path: Path, kill_after: int
) -> None:
    store = open_store(tmp_path / "q", HashEmbedder(), batch_size=2)
    real = store.index
    dying = _DyingIndex(real, kill_after)
    store.index = dying  # type: ignore[assignment]
    with contextlib.suppress(_Killed):
        store.add_source(1, paper())
    real.close()

    again = KnowledgeStore(QdrantIndex(path=tmp_path / "q"), HashEmbedder())
    recovery = again.recover()
    records = again.sources(1)
    if not dying.dead:
        assert [r.status for r in records] == [SourceStatus.READY]
    if records and records[0].status is SourceStatus.FAILED:
        assert [i.kept_previous for i in recovery.interrupted] == [False]
    else:  # killed before its first write, or it finished
        assert recovery.interrupted == ()
    _assert_consistent(again, 1)
    again.close()


def test_chunks_no_record_points_to_are_removed(tmp_path: Path) -> None:
    store = open_store(tmp_path / "q", HashEmbedder())
    kept = store.add_source(1, paper())
    gone = store.add_source(2, paper("sha256:other"))
    # A crash half-way through forgetting: the record is deleted, its chunks are not yet.
    store.index.delete_record("sources", 2, gone.source_id)
    recovery = store.recover()
    assert recovery.orphans == 5
    assert recovery.interrupted == ()
    assert store.index.count_chunks(2) == 0
    assert store.index.count_chunks(1) == kept.chunks
    assert not store.recover()
    store.close()


def test_a_store_from_before_generations_is_searched_and_replaced(tmp_path: Path) -> None:
    """Chunks written before generations existed carry none: they are generation 0."""
    store = open_store(tmp_path / "q")
    new = store.add_source(1, paper())
    # Rewrite it as the old code stored it: chunks without a generation, a record without one.
    payloads = store.index.chunk_payloads(1, new.source_id, new.generation)
    store.index.delete_chunks(1, new.source_id)
    embedder = test_embedder()
    store.index.upsert_chunks(
        1,
        [
            ChunkPoint(
                chunk_id(new.source_id, int(p["ordinal"])),
                embedder.embed_passages([p["text"]])[0],
                sparse_document(p["text"]),
                {k: v for k, v in p.items() if k not in ("generation", "chat_id", "tenant")},
            )
            for p in payloads
        ],
    )
    legacy = new.model_dump(mode="json")
    for field in ("generation", "pending", "pending_since"):
        legacy.pop(field)
    store.index.put_record("sources", 1, new.source_id, legacy)
    assert not store.recover()
    assert store.search(1, "How many GPUs were used for training?", k=1)[0].page == 3

    replaced = store.add_source(1, paper(texts=NEW_TEXTS))
    assert replaced.generation == 1
    assert store.index.count_chunks(1) == len(NEW_TEXTS)  # the legacy chunks are gone
    _assert_consistent(store, 1)
    assert source_id_for(1, "sha256:paper") == replaced.source_id
    store.close()
