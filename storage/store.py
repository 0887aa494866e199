"""The knowledge store the bot layer uses: sources, hybrid search, notes and history per chat.

Synchronous and thread-safe (the bot calls it from worker threads). It turns value objects into
Qdrant points and back; ``storage.qdrant.index`` does the Qdrant work, an ``Embedder`` the vectors.

Each indexing of a source is a new *generation* of its chunks. A new source is written as
INDEXING first and flipped to READY only after its last chunk is stored. A replacement is
indexed beside the live version (the READY record only names the ``pending`` generation), then
one record write makes it live, and the old generation's chunks are deleted. Search reads only
the live generation of READY sources, so a half-indexed version is never visible and a crash
never loses the version that worked; ``recover`` (``storage.recovery``) cleans up after one.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid5

from kernel.errors import NotFoundError, ReplaceFailedError
from kernel.links import page_url, url_at
from kernel.models import (
    ChatGlossary,
    ChunkRole,
    Note,
    ParsedSource,
    QuizItem,
    SearchHit,
    SourceKind,
    SourceRecord,
    SourceStatus,
    Term,
    Turn,
)
from storage.diversity import select_hits
from storage.embedding.embedder import Embedder
from storage.embedding.sparse import sparse_document, sparse_query
from storage.qdrant.index import ChunkPoint, IndexQuery, QdrantIndex
from storage.recovery import Recovery, load, put_source, recover, roll_back

__all__ = [
    "NAMESPACE",
    "SEARCH_MODES",
    "ChatSnapshot",
    "KnowledgeStore",
    "Query",
    "chunk_id",
    "indexed_text",
    "source_id_for",
]

NAMESPACE = UUID("6f1c2a8e-3b7d-5e4f-9a21-7c0d4b8e2f15")  # fixed forever: ids depend on it
SEARCH_MODES = ("hybrid", "dense", "sparse")
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Query:
    """One search: query texts (one leg each, fused), how many hits, of which kinds of source.

    ``diverse``: drop near-duplicates and keep both kinds of source represented
    (``storage.diversity.select_hits``), choosing from twice as many hits. A paper's
    bibliography is left out unless ``references`` (it is not prose to quote, but it answers
    "which paper is [12]?"). ``dense``: the texts (of ``texts``) that get a dense leg in the
    hybrid and dense modes; None = all of them. The others are searched by their words only
    (one embedding fewer each).
    """

    texts: tuple[str, ...]
    k: int = 5
    mode: str = "hybrid"
    kinds: frozenset[SourceKind] | None = None
    diverse: bool = False
    references: bool = False
    dense: frozenset[str] | None = None


@dataclass(frozen=True)
class ChatSnapshot:
    """What a question or a report reads before it starts: sources (any status), the latest
    conversation turns (oldest first) and the notes (oldest first), each when asked for."""

    sources: tuple[SourceRecord, ...]
    turns: tuple[Turn, ...] = ()
    notes: tuple[Note, ...] = ()

    @property
    def ready(self) -> tuple[SourceRecord, ...]:
        return tuple(s for s in self.sources if s.status is SourceStatus.READY)


def _texts(query: Query) -> list[str]:
    return list(dict.fromkeys(t.strip() for t in query.texts if t and t.strip()))


def _dense_texts(query: Query, texts: Sequence[str]) -> list[str]:
    """The texts of a query that get a dense leg (none in sparse mode)."""
    if query.mode == "sparse":
        return []
    if query.dense is None:
        return list(texts)
    chosen = {t.strip() for t in query.dense}
    # None of them among the texts (a caller's slip): every text, never a search without meaning.
    return [t for t in texts if t in chosen] or list(texts)


def indexed_text(text: str, section: str | None) -> str:
    """What a chunk is found by (its dense and sparse vectors): its section heading, then its
    text. The heading puts a passage in context: "3.2.2 Multi-Head Attention" above a passage
    that only says "we project the queries h times"."""
    heading = (section or "").strip()
    if heading and heading not in text[: len(heading) + 20]:
        return f"{heading}\n{text}"
    return text


def source_id_for(chat_id: int, fingerprint: str) -> str:
    """Same content in the same chat -> same id, so re-ingesting replaces."""
    return str(uuid5(NAMESPACE, f"{chat_id}:{fingerprint}"))


def chunk_id(source_id: str, ordinal: int, generation: int = 0) -> str:
    """Generation 0 keeps the ids chunks had before generations existed."""
    if generation == 0:
        return str(uuid5(NAMESPACE, f"{source_id}:{ordinal}"))
    return str(uuid5(NAMESPACE, f"{source_id}:g{generation}:{ordinal}"))


def _point_id(kind: str, chat_id: int, item_id: str) -> str:
    return str(uuid5(NAMESPACE, f"{kind}:{chat_id}:{item_id}"))


def _now() -> datetime:
    return datetime.now(UTC)


def _record(
    chat_id: int, sid: str, parsed: ParsedSource, status: SourceStatus, created: datetime
) -> SourceRecord:
    """The record of ``parsed`` (its chunks counted), as of now."""
    return SourceRecord(
        chat_id=chat_id,
        source_id=sid,
        kind=parsed.kind,
        status=status,
        title=parsed.title,
        paper=parsed.paper,
        video=parsed.video,
        chunks=len(parsed.chunks),
        warnings=parsed.warnings,
        terms=parsed.terms,
        created_at=created,
        updated_at=_now(),
    )


class KnowledgeStore:
    """Embedder + Qdrant index behind the API the tutoring services use."""

    def __init__(
        self,
        index: QdrantIndex,
        embedder: Embedder | Callable[[], Embedder],
        *,
        batch_size: int = 16,
    ) -> None:
        """``embedder``, or a function that makes it when vectors are first needed: listing
        sources or notes then never loads a model (``papertutor sources`` starts at once).
        The index checks the embedder's model when it is set (``QdrantIndex.open``)."""
        self.index = index
        self.batch_size = max(1, batch_size)
        self._embedder: Embedder | None = None
        self._make_embedder: Callable[[], Embedder] | None = None
        self._embedder_lock = threading.Lock()
        if isinstance(embedder, Embedder):
            self.embedder = embedder
        else:
            self._make_embedder = embedder

    @property
    def embedder(self) -> Embedder:
        """The embedder (made and checked against the index on first use)."""
        if self._embedder is None:
            with self._embedder_lock:
                if self._embedder is None:
                    assert self._make_embedder is not None
                    self.embedder = self._make_embedder()
        assert self._embedder is not None
        return self._embedder

    @embedder.setter
    def embedder(self, embedder: Embedder) -> None:
        self.index.open(embedder.model_name, embedder.dim)
        self._embedder = embedder

    @property
    def embedder_loaded(self) -> bool:
        return self._embedder is not None

    # -- sources ------------------------------------------------------------------------------

    def add_source(
        self,
        chat_id: int,
        parsed: ParsedSource,
        progress: Callable[[int, int], None] | None = None,
    ) -> SourceRecord:
        """Index ``parsed`` for the chat; READY when it returns.

        Replacing a READY source is atomic: the new version is indexed beside it and made live
        in one record write. If that fails, the previous version stays as it was and
        ``ReplaceFailedError`` says so (the original error is its cause).
        """
        sid = source_id_for(chat_id, parsed.fingerprint)
        previous = self.source(chat_id, sid)
        generation = 1
        if previous is not None:
            generation = max(previous.generation, previous.pending or 0) + 1
        started = _now()
        created = previous.created_at if previous else started
        if previous is not None and previous.status is SourceStatus.READY:
            marked = previous.model_copy(update={"pending": generation, "pending_since": started})
        else:
            marked = _record(chat_id, sid, parsed, SourceStatus.INDEXING, created).model_copy(
                update={"chunks": 0, "pending": generation, "pending_since": started}
            )
        self._put_source(marked)
        try:
            self._index_chunks(chat_id, sid, generation, parsed, progress)
        except BaseException as exc:
            kept = self._undo(marked)
            if kept is not None and isinstance(exc, Exception):
                raise ReplaceFailedError("kept_previous", title=kept.title) from exc
            raise
        ready = _record(chat_id, sid, parsed, SourceStatus.READY, created)
        ready = ready.model_copy(update={"generation": generation})
        self._put_source(ready)  # the swap: from here on search reads the new generation
        if previous is None:
            return ready
        try:
            self.index.delete_chunks(chat_id, sid, keep=generation)
        except Exception:  # the new version is live; recovery removes the old chunks later
            log.warning("could not delete the replaced chunks of %s yet", sid, exc_info=True)
        return ready

    def _index_chunks(
        self,
        chat_id: int,
        sid: str,
        generation: int,
        parsed: ParsedSource,
        progress: Callable[[int, int], None] | None,
    ) -> None:
        source_url = (
            parsed.video.url if parsed.video else parsed.paper.link if parsed.paper else None
        )
        base: dict[str, Any] = {
            "source_id": sid,
            "generation": generation,
            "kind": parsed.kind.value,
            "title": parsed.title,
        }
        if parsed.video is not None and parsed.video.transcribed:
            base["transcribed"] = True  # citations say the words are a machine's hearing
        total = len(parsed.chunks)
        for start in range(0, total, self.batch_size):
            batch = parsed.chunks[start : start + self.batch_size]
            texts = [indexed_text(c.text, c.section) for c in batch]
            vectors = self.embedder.embed_passages(texts)
            points = [
                ChunkPoint(
                    point_id=chunk_id(sid, c.ordinal, generation),
                    dense=vector,
                    sparse=sparse_document(text),
                    payload=base | c.model_dump() | {"source_url": source_url},
                )
                for c, text, vector in zip(batch, texts, vectors, strict=True)
            ]
            self.index.upsert_chunks(chat_id, points)
            if progress is not None:
                progress(start + len(batch), total)

    def _undo(self, marked: SourceRecord) -> SourceRecord | None:
        """Best effort after an error: the pending chunks go, the previous version stays READY
        (returned), or a new source is marked FAILED (None). What is left, recovery finishes."""
        try:
            after = roll_back(self.index, marked)
        except Exception:  # keep the original error, it says what really went wrong
            log.warning("could not roll back %s; recovery will", marked.source_id, exc_info=True)
            return marked if marked.status is SourceStatus.READY else None
        return after if after.status is SourceStatus.READY else None

    def _put_source(self, record: SourceRecord) -> None:
        put_source(self.index, record)

    def sources(self, chat_id: int) -> list[SourceRecord]:
        """Every source of the chat (any status), oldest first."""
        found = [load(SourceRecord, p) for p in self.index.records("sources", chat_id)]
        return sorted(found, key=lambda r: r.created_at)

    def source(self, chat_id: int, source_id: str) -> SourceRecord | None:
        payload = self.index.get_record("sources", chat_id, source_id)
        return load(SourceRecord, payload) if payload else None

    def set_terms(self, chat_id: int, source_id: str, terms: Sequence[Term]) -> SourceRecord | None:
        """Replace a source's term list; None (and nothing written) if the source is gone."""
        record = self.source(chat_id, source_id)
        if record is None:
            return None
        updated = record.model_copy(update={"terms": tuple(terms)})
        self._put_source(updated)
        return updated

    def forget(self, chat_id: int, source_id: str) -> None:
        """Remove a source and its chunks (the record first: a crash in between leaves only
        chunks nobody points to, which recovery removes)."""
        if self.source(chat_id, source_id) is None:
            raise NotFoundError("source")
        self.index.delete_record("sources", chat_id, source_id)
        self.index.delete_chunks(chat_id, source_id)

    def chunks(self, chat_id: int, source_id: str) -> list[SearchHit]:
        """Every chunk of a READY source's live version, in reading order (for the report)."""
        record = self.source(chat_id, source_id)
        if record is None or record.status is not SourceStatus.READY:
            return []
        payloads = self.index.chunk_payloads(chat_id, source_id, record.generation)
        return [self._hit(i, 0.0, p) for i, p in enumerate(payloads, start=1)]

    def recover(self) -> Recovery:
        """Roll back ingestions a crash interrupted and remove orphan chunks (see
        ``storage.recovery``); what it did, for the front door to report."""
        return recover(self.index)

    # -- search -------------------------------------------------------------------------------

    def search(
        self,
        chat_id: int,
        queries: str | Sequence[str],
        *,
        k: int = 5,
        mode: str = "hybrid",
        kinds: Collection[SourceKind] | None = None,
        sources: Sequence[SourceRecord] | None = None,
        diverse: bool = False,
        references: bool = False,
        dense: Collection[str] | None = None,
    ) -> list[SearchHit]:
        """The ``k`` best chunks of the chat's READY sources for one or more query texts.

        ``sources``: the chat's source records when the caller has just read them (saves a
        read); otherwise they are read here. ``diverse``, ``references``, ``dense``: see
        ``Query``.
        """
        texts = (queries,) if isinstance(queries, str) else tuple(queries)
        chosen = frozenset(kinds) if kinds is not None else None
        query = Query(
            texts,
            k=k,
            mode=mode,
            kinds=chosen,
            diverse=diverse,
            references=references,
            dense=frozenset(dense) if dense is not None else None,
        )
        return self.search_many(chat_id, [query], sources=sources)[0]

    def search_many(
        self,
        chat_id: int,
        queries: Sequence[Query],
        *,
        sources: Sequence[SourceRecord] | None = None,
    ) -> list[list[SearchHit]]:
        """Several searches of one chat at once: the sources are read once, every distinct
        query text is embedded in one run, and the index answers all of them in one call."""
        for q in queries:
            if q.mode not in SEARCH_MODES:
                raise ValueError(f"mode must be one of {SEARCH_MODES}, not {q.mode!r}")
        records = self.sources(chat_id) if sources is None else sources
        ready = [r for r in records if r.status is SourceStatus.READY and r.chat_id == chat_id]
        groups = [_texts(q) for q in queries]
        dense_groups = [_dense_texts(q, g) for q, g in zip(queries, groups, strict=True)]
        dense_texts = list(dict.fromkeys(t for g in dense_groups for t in g))
        vectors = dict(zip(dense_texts, self._embed_queries(dense_texts), strict=True))
        requests = []
        for q, texts, dense in zip(queries, groups, dense_groups, strict=True):
            live = {
                r.source_id: r.generation for r in ready if q.kinds is None or r.kind in q.kinds
            }
            fetch = q.k * 2 if q.diverse else q.k
            requests.append(
                IndexQuery(
                    dense=[vectors[t] for t in dense],
                    sparse=[sparse_query(t) for t in texts] if q.mode != "dense" else [],
                    sources=live if texts else {},
                    kinds=[k.value for k in q.kinds] if q.kinds is not None else None,
                    k=fetch,
                    mode=q.mode,  # type: ignore[arg-type]  # checked against SEARCH_MODES above
                    skip_roles=() if q.references else (ChunkRole.REFERENCES.value,),
                )
            )
        found = self.index.search_batch(chat_id, requests)
        results = []
        for q, scored in zip(queries, found, strict=True):
            hits = [self._hit(i, f.score, f.payload) for i, f in enumerate(scored, start=1)]
            results.append(select_hits(hits, q.k) if q.diverse else hits)
        return results

    def _embed_queries(self, texts: list[str]) -> list[list[float]]:
        # One queue entry for all of a question's queries when the embedder batches them
        # (FastEmbedEmbedder); any other Embedder embeds them one by one.
        batched = getattr(self.embedder, "embed_queries", None)
        if callable(batched):
            return list(batched(texts))
        return [self.embedder.embed_query(t) for t in texts]

    @staticmethod
    def _hit(rank: int, score: float, payload: dict[str, Any]) -> SearchHit:
        kind = SourceKind(payload["kind"])
        source_url = payload.get("source_url")
        url = None
        if kind is SourceKind.VIDEO and source_url:
            url = url_at(source_url, payload.get("start_s"))
        elif kind is SourceKind.PAPER:
            url = page_url(source_url, payload.get("page"))
        fields = {k: v for k, v in payload.items() if k in SearchHit.model_fields}
        return SearchHit.model_validate(
            fields
            | {
                "rank": rank,
                "score": score,
                "chunk_id": chunk_id(
                    payload["source_id"],
                    int(payload["ordinal"]),
                    int(payload.get("generation") or 0),
                ),
                "url": url,
            }
        )

    # -- notes and history --------------------------------------------------------------------

    def put_note(self, note: Note) -> None:
        payload = note.model_dump(mode="json") | {"ts": note.created_at.timestamp()}
        self.index.put_record(
            "notes", note.chat_id, _point_id("note", note.chat_id, note.note_id), payload
        )

    def notes(self, chat_id: int) -> list[Note]:
        """The chat's notes, oldest first."""
        payloads = sorted(self.index.records("notes", chat_id), key=lambda p: float(p["ts"]))
        return [load(Note, p) for p in payloads]

    def delete_note(self, chat_id: int, note_id: str) -> bool:
        """True if the note existed."""
        return self.index.delete_record("notes", chat_id, _point_id("note", chat_id, note_id))

    def note(self, chat_id: int, note_id: str) -> Note | None:
        """One note of the chat, or None."""
        payload = self.index.get_record("notes", chat_id, _point_id("note", chat_id, note_id))
        return load(Note, payload) if payload else None

    def star_note(self, chat_id: int, note_id: str, starred: bool) -> Note | None:
        """The note with its star set (or cleared); None if the chat has no such note."""
        note = self.note(chat_id, note_id)
        if note is None:
            return None
        if note.starred != starred:
            note = note.model_copy(update={"starred": starred})
            self.put_note(note)
        return note

    def add_turn(self, turn: Turn) -> None:
        self.add_turns([turn])

    def add_turns(self, turns: Sequence[Turn]) -> None:
        """Store turns (of one or more chats) with one write per chat."""
        by_chat: dict[int, list[tuple[str, dict[str, Any]]]] = {}
        for turn in turns:
            payload = turn.model_dump(mode="json") | {"ts": turn.created_at.timestamp()}
            item = (_point_id("turn", turn.chat_id, turn.turn_id), payload)
            by_chat.setdefault(turn.chat_id, []).append(item)
        for chat_id, items in by_chat.items():
            self.index.put_records("history", chat_id, items)

    def save_exchange(self, turns: Sequence[Turn], note: Note | None = None) -> None:
        """A question's turns and its note (if any), written together."""
        self.add_turns(turns)
        if note is not None:
            self.put_note(note)

    def turns(self, chat_id: int, limit: int = 20) -> list[Turn]:
        """The last ``limit`` turns of the conversation, oldest first."""
        newest_first = self.index.latest_records("history", chat_id, limit)
        return [load(Turn, p) for p in reversed(newest_first)]

    def snapshot(self, chat_id: int, *, turns: int = 0, notes: bool = False) -> ChatSnapshot:
        """The chat's sources, and its last ``turns`` turns and its notes if asked, in one go."""
        return ChatSnapshot(
            sources=tuple(self.sources(chat_id)),
            turns=tuple(self.turns(chat_id, turns)) if turns > 0 else (),
            notes=tuple(self.notes(chat_id)) if notes else (),
        )

    # -- study tools: quiz questions with their answers, the glossary --------------------------

    def put_quiz_items(self, items: Sequence[QuizItem]) -> None:
        """Store quiz questions (of one or more chats) with one write per chat."""
        by_chat: dict[int, list[tuple[str, dict[str, Any]]]] = {}
        for item in items:
            payload = item.model_dump(mode="json") | {
                "type": "quiz",
                "ts": item.asked_at.timestamp(),
            }
            pid = _point_id("quiz", item.chat_id, item.quiz_id)
            by_chat.setdefault(item.chat_id, []).append((pid, payload))
        for chat_id, records in by_chat.items():
            self.index.put_records("study", chat_id, records)

    def quiz_items(self, chat_id: int) -> list[QuizItem]:
        """The chat's quiz questions, oldest first."""
        payloads = self.index.records("study", chat_id, type="quiz")
        return [load(QuizItem, p) for p in sorted(payloads, key=lambda p: float(p["ts"]))]

    def answer_quiz(self, chat_id: int, quiz_id: str, chosen: int) -> tuple[QuizItem, bool] | None:
        """Record the student's answer to a question; the first answer counts (a quiz poll
        takes one). Returns the item and whether this answer was the first, or None when the
        chat has no such question."""
        pid = _point_id("quiz", chat_id, quiz_id)
        payload = self.index.get_record("study", chat_id, pid)
        if payload is None:
            return None
        item = load(QuizItem, payload)
        if item.chosen is not None:
            return item, False
        answered = item.model_copy(
            update={
                "chosen": chosen,
                "correct": chosen == item.question.correct_option_id,
                "answered_at": _now(),
            }
        )
        self.put_quiz_items([answered])
        return answered, True

    def put_glossary(self, glossary: ChatGlossary) -> None:
        payload = glossary.model_dump(mode="json") | {"type": "glossary"}
        pid = _point_id("glossary", glossary.chat_id, glossary.lang)
        self.index.put_record("study", glossary.chat_id, pid, payload)

    def glossary(self, chat_id: int, lang: str) -> ChatGlossary | None:
        """The glossary last built for the chat in ``lang``, if any."""
        payload = self.index.get_record("study", chat_id, _point_id("glossary", chat_id, lang))
        return load(ChatGlossary, payload) if payload else None

    # -- lifecycle ----------------------------------------------------------------------------

    def reset_chat(self, chat_id: int) -> None:
        """Forget everything of a chat: sources, chunks, notes, history, quizzes, glossary."""
        self.index.delete_chat(chat_id)

    def close(self) -> None:
        """Close the index. The embedder is left to its owner (it may be shared)."""
        self.index.close()
