"""Putting the store right after a crash: unfinished ingestions rolled back, orphan chunks removed.

An ingestion writes its source record first (INDEXING for a new source; for a replacement the
READY record only gains a ``pending`` generation), then the new generation's chunks, then the
record that makes them live, then it deletes the previous generation's chunks. Killed at any
point, the store holds at most: a record with a ``pending`` generation (or INDEXING) whose
chunks are partly there, and chunks of generations no record points to. ``recover`` finds
both and returns what it did, so each front door can say so.

Embedded Qdrant allows one process, so everything pending there was interrupted. A Qdrant
server may be shared by several bot processes: there a pending generation younger than
``STALE_AFTER`` may still be being written by another process and is left alone.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from pydantic import BaseModel

from kernel.models import SourceRecord, SourceStatus
from storage.qdrant.index import QdrantIndex

__all__ = [
    "STALE_AFTER",
    "Interrupted",
    "Recovery",
    "load",
    "put_source",
    "recover",
    "roll_back",
]

log = logging.getLogger(__name__)

STALE_AFTER = timedelta(hours=1)  # server mode: another process may still be indexing
M = TypeVar("M", bound=BaseModel)


def load(model: type[M], payload: dict[str, Any]) -> M:
    """Payload -> model, dropping the index's own fields (tenant, ts)."""
    return model.model_validate({k: v for k, v in payload.items() if k in model.model_fields})


def put_source(index: QdrantIndex, record: SourceRecord) -> None:
    """Write a source record: one point, so each state change is one atomic write."""
    payload = record.model_dump(mode="json")
    index.put_record("sources", record.chat_id, record.source_id, payload)


@dataclass(frozen=True)
class Interrupted:
    """An ingestion that did not finish. ``kept_previous``: the chat still has the version it
    had before (a re-send was interrupted); otherwise the source is marked FAILED."""

    chat_id: int
    source_id: str
    title: str
    kept_previous: bool


@dataclass(frozen=True)
class Recovery:
    """What ``recover`` did: the ingestions it rolled back and the orphan chunks it removed."""

    interrupted: tuple[Interrupted, ...] = ()
    orphans: int = 0

    def __bool__(self) -> bool:
        return bool(self.interrupted or self.orphans)


def roll_back(index: QdrantIndex, record: SourceRecord) -> SourceRecord:
    """Undo an unfinished ingestion of ``record``: drop its pending chunks; the previous
    version stays READY, or a new source becomes FAILED. Returns the record as written."""
    now = datetime.now(UTC)
    if record.status is SourceStatus.READY:
        if record.pending is not None:
            index.delete_chunks(record.chat_id, record.source_id, generation=record.pending)
        kept = record.model_copy(update={"pending": None, "pending_since": None})
        put_source(index, kept)
        return kept
    # A new source (or one whose earlier version had failed): nothing of it is usable.
    index.delete_chunks(record.chat_id, record.source_id)
    failed = record.model_copy(
        update={
            "status": SourceStatus.FAILED,
            "chunks": 0,
            "pending": None,
            "pending_since": None,
            "updated_at": now,
        }
    )
    put_source(index, failed)
    return failed


def _unfinished(record: SourceRecord) -> bool:
    return record.pending is not None or record.status is SourceStatus.INDEXING


def recover(index: QdrantIndex) -> Recovery:
    """Roll back every interrupted ingestion and remove orphan chunks (see the module doc)."""
    cutoff = datetime.now(UTC) - STALE_AFTER
    records = [load(SourceRecord, p) for p in index.all_records("sources")]
    interrupted: list[Interrupted] = []
    busy: set[tuple[int, str, int]] = set()  # (chat, source, generation) still being written
    settled: list[SourceRecord] = []
    for record in records:
        if not _unfinished(record):
            settled.append(record)
            continue
        since = record.pending_since or record.updated_at
        if index.server and since > cutoff:
            busy.add((record.chat_id, record.source_id, record.pending or 0))
            settled.append(record)
            continue
        after = roll_back(index, record)
        settled.append(after)
        interrupted.append(
            Interrupted(
                record.chat_id,
                record.source_id,
                record.title,
                kept_previous=after.status is SourceStatus.READY,
            )
        )
    orphans = _remove_orphans(index, settled, busy)
    found = Recovery(tuple(interrupted), orphans)
    if found:
        log.info(
            "recovery: %d interrupted ingestion(s) rolled back, %d orphan chunk(s) removed",
            len(found.interrupted),
            found.orphans,
        )
    return found


def _remove_orphans(
    index: QdrantIndex, records: list[SourceRecord], busy: set[tuple[int, str, int]]
) -> int:
    live = {
        (r.chat_id, r.source_id, r.generation) for r in records if r.status is SourceStatus.READY
    }
    expected = sum(r.chunks for r in records if r.status is SourceStatus.READY)
    if not busy and index.chunk_total() == expected:
        return 0  # the quick check: every chunk belongs to a live generation
    removed = 0
    for (chat, sid, generation), n in index.chunk_groups().items():
        if (chat, sid, generation) in live or (chat, sid, generation) in busy:
            continue
        if index.server and _claimed(index, chat, sid, generation):
            continue  # another process started this ingestion after the records were read
        index.delete_chunks(chat, sid, generation=generation)
        removed += n
    return removed


def _claimed(index: QdrantIndex, chat: int, sid: str, generation: int) -> bool:
    payload = index.get_record("sources", chat, sid)
    if payload is None:
        return False
    record = load(SourceRecord, payload)
    return generation in (record.generation, record.pending)
