"""The Qdrant adapter: collections, tenancy, hybrid search. The only module importing qdrant_client.

One code path for embedded Qdrant (``path``) and a server (``url``). Every point carries
``chat_id`` and every read filters by it. Data lives in five kinds of collections: ``chunks``
(dense + IDF-weighted sparse vectors) and the payload-only ``sources``, ``notes``, ``history``
and ``study`` (quiz questions and answers, the glossary; a ``type`` field tells them apart);
``{prefix}_meta`` records the embedding model the vectors were made with.

Tenancy differs by mode, behind the same API. A server keeps one collection per kind, with a
tenant keyword index (``is_tenant``) and per-tenant HNSW graphs, so a search touches only its
chat's data. Embedded Qdrant has no indexes at all (every search is brute force over the whole
collection), so there each chat gets its own collections (``{prefix}_chunks_{chat}``): search
time then depends on the chat's data only, not on how many other chats the bot serves.
"""

from __future__ import annotations

import contextlib
import re
import threading
import warnings
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal, TypeVar

import httpx

from kernel.errors import ConfigError, StoreInUseError, StoreUnavailableError
from storage.embedding.fastembed_import import hidden as _fastembed_hidden
from storage.embedding.sparse import SparseVec
from storage.qdrant.lock import in_use

# See storage.embedding.fastembed_import: qdrant-client's own fastembed use
with _fastembed_hidden():
    from qdrant_client import QdrantClient
    from qdrant_client import models as qm
    from qdrant_client.http.exceptions import ResponseHandlingException, UnexpectedResponse

__all__ = [
    "KINDS",
    "ChunkPoint",
    "ExportedPoint",
    "IndexQuery",
    "QdrantIndex",
    "RecordKind",
    "ScoredPayload",
    "SearchMode",
    "probe_server",
]

RecordKind = Literal["sources", "notes", "history", "study"]
SearchMode = Literal["hybrid", "dense", "sparse"]
KINDS: Final = ("chunks", "sources", "notes", "history", "study")
_META_ID: Final = "00000000-0000-0000-0000-00000000e3bd"  # the one meta point
_PAGE: Final = 256
T = TypeVar("T")


@dataclass(frozen=True)
class ChunkPoint:
    """A chunk ready to upsert: deterministic id, both vectors, payload (incl. chat_id)."""

    point_id: str
    dense: list[float]
    sparse: SparseVec
    payload: dict[str, Any]


@dataclass(frozen=True)
class IndexQuery:
    """One search of ``search_batch``: query vectors (one leg each) over some sources.

    ``sources`` maps each source id to the generation whose chunks are live (see
    ``SourceRecord``); chunks of other generations (a version being indexed, or an old one not
    deleted yet) are never found.
    """

    dense: Sequence[list[float]]
    sparse: Sequence[SparseVec]
    sources: Mapping[str, int]
    kinds: Sequence[str] | None = None
    k: int = 5
    mode: SearchMode = "hybrid"
    skip_roles: Sequence[str] = ()


@dataclass(frozen=True)
class ScoredPayload:
    point_id: str
    score: float
    payload: dict[str, Any]


def _unavailable(exc: BaseException) -> StoreUnavailableError:
    return StoreUnavailableError("unreachable", reason=exc)


def probe_server(url: str, api_key: str | None, *, timeout: float = 5.0) -> str:
    """Check a Qdrant server answers, is ready and accepts ``api_key``; return its version.

    Raises ``StoreUnavailableError`` (retryable: unreachable or not ready) or ``ConfigError``
    (bad URL, key refused), each naming the setting to check. Used at start-up and by
    ``papertutor health``, so an unreachable server is one clear sentence.
    """
    base = url.rstrip("/")
    if not base.startswith(("http://", "https://")):
        raise ConfigError("qdrant_url", url=repr(url))
    with warnings.catch_warnings():  # the index itself warns about plain http, once is enough
        warnings.filterwarnings("ignore", "Api key is used with an insecure connection")
        with _fastembed_hidden():
            client = QdrantClient(
                url=base, api_key=api_key, timeout=max(1, int(timeout)), check_compatibility=False
            )
    try:
        with contextlib.suppress(ValueError):  # "all shards are ready" is text, not JSON
            client.http.service_api.readyz()  # 503 while not ready
        client.get_collections()  # health routes may be open without a key: a data route is not
        return str(client.info().version or "?")
    except UnexpectedResponse as exc:
        if exc.status_code in (401, 403):
            raise ConfigError("qdrant_key", url=base) from exc
        raise StoreUnavailableError("server_not_ready", url=base, status=exc.status_code) from exc
    except (ResponseHandlingException, httpx.TransportError, OSError) as exc:
        raise StoreUnavailableError("server_unreachable", url=base) from exc
    finally:
        client.close()


def _match(key: str, value: Any) -> qm.FieldCondition:
    if isinstance(value, list | tuple | set | frozenset):
        return qm.FieldCondition(key=key, match=qm.MatchAny(any=list(value)))
    return qm.FieldCondition(key=key, match=qm.MatchValue(value=value))


def _generation(generation: int) -> qm.Condition:
    """Chunks of ``generation``; generation 0 is the chunks stored before generations existed,
    which carry no such field."""
    if generation == 0:
        return qm.IsEmptyCondition(is_empty=qm.PayloadField(key="generation"))
    return _match("generation", generation)


class QdrantIndex:
    """Thread-safe Qdrant access for the store (local mode blocks and is not thread-safe)."""

    def __init__(
        self,
        *,
        path: Path | None = None,
        url: str | None = None,
        api_key: str | None = None,
        prefix: str = "papertutor",
        timeout: int = 10,
        per_chat_collections: bool | None = None,
    ) -> None:
        """``per_chat_collections`` defaults to True embedded, False on a server (see above);
        overriding it is for benchmarks comparing the two layouts."""
        if (path is None) == (url is None):
            raise ValueError("give exactly one of path (embedded) or url (server)")
        self.prefix = prefix
        self.server = url is not None
        self.per_chat = (not self.server) if per_chat_collections is None else per_chat_collections
        self._lock = threading.RLock()
        self._known: set[str] = set()
        self._dim = 0
        try:
            if url is not None:
                # The version check runs in a background thread that raises there when the
                # server is down; get_collections below fails properly on the caller's thread.
                with _fastembed_hidden():
                    self._client = QdrantClient(
                        url=url, api_key=api_key, timeout=timeout, check_compatibility=False
                    )
            else:
                assert path is not None
                # Checked before opening: qdrant-client would load every collection first and
                # then leak the lock file's handle when the lock is taken.
                if in_use(path):
                    raise StoreInUseError("in_use", path=path)
                path.mkdir(parents=True, exist_ok=True)
                with _fastembed_hidden():
                    self._client = QdrantClient(path=str(path))
        except RuntimeError as exc:  # local: another client (maybe another process) has the path
            raise StoreInUseError("in_use", path=path) from exc
        self._known = {
            c.name for c in self._call(lambda: self._client.get_collections()).collections
        }

    # -- plumbing -----------------------------------------------------------------------------

    def _call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run one client call under the lock; connection failures become retryable errors."""
        with self._lock:
            try:
                return fn(*args, **kwargs)
            except (ResponseHandlingException, httpx.TransportError, ConnectionError) as exc:
                raise _unavailable(exc) from exc
            except UnexpectedResponse as exc:
                if exc.status_code is None or exc.status_code >= 500:
                    raise _unavailable(exc) from exc
                raise

    def _name(self, kind: str, chat_id: int | None = None) -> str:
        if not self.per_chat or chat_id is None:
            return f"{self.prefix}_{kind}"
        tag = str(chat_id) if chat_id >= 0 else f"n{-chat_id}"  # group chats are negative
        return f"{self.prefix}_{kind}_{tag}"

    def _chat_filter(
        self,
        chat_id: int,
        *,
        also: Sequence[qm.Condition] = (),
        must_not: Sequence[qm.Condition] | None = None,
        should: Sequence[qm.Condition] | None = None,
        **where: Any,
    ) -> qm.Filter:
        must: list[qm.Condition] = [_match("chat_id", chat_id)]
        if self.server:  # the keyword twin of chat_id carries the tenant index
            must.append(_match("tenant", str(chat_id)))
        must += [_match(key, value) for key, value in where.items() if value is not None]
        must += also
        return qm.Filter(
            must=must,
            must_not=list(must_not) if must_not else None,
            should=list(should) if should else None,
        )

    def _owner(self, chat_id: int) -> dict[str, Any]:
        return {"chat_id": chat_id, "tenant": str(chat_id)}

    def _create(self, fn: Callable[[], object]) -> None:
        try:
            self._call(fn)
        except UnexpectedResponse as exc:
            if exc.status_code != 409:  # another replica created it first: fine
                raise

    def _ensure(self, kind: str, chat_id: int | None = None) -> str:
        name = self._name(kind, chat_id)
        if name in self._known:
            return name
        with self._lock:  # two threads ingesting into a new chat must not both create it
            if name not in self._known:
                self._create_collection(name, kind)
                self._known.add(name)
        return name

    def _create_collection(self, name: str, kind: str) -> None:
        if kind == "chunks":
            vectors: dict[str, qm.VectorParams] = {
                "dense": qm.VectorParams(size=self._dim, distance=qm.Distance.COSINE)
            }
            sparse = {"sparse": qm.SparseVectorParams(modifier=qm.Modifier.IDF)}
            # Server: no global graph, one per chat (payload_m) - every search filters by chat.
            hnsw = qm.HnswConfigDiff(payload_m=16, m=0) if self.server else None
            self._create(
                lambda: self._client.create_collection(
                    name, vectors_config=vectors, sparse_vectors_config=sparse, hnsw_config=hnsw
                )
            )
        else:
            self._create(lambda: self._client.create_collection(name, vectors_config={}))
        if self.server and kind != "meta":
            self._create_payload_indexes(name, kind)

    def _create_payload_indexes(self, name: str, kind: str) -> None:
        """Server only (embedded Qdrant ignores payload indexes and warns about them)."""
        kw = qm.PayloadSchemaType.KEYWORD
        # is_tenant exists for keyword indexes only, hence the string twin "tenant" of chat_id.
        fields: dict[str, Any] = {
            "tenant": qm.KeywordIndexParams(type=qm.KeywordIndexType.KEYWORD, is_tenant=True),
            "chat_id": qm.IntegerIndexParams(
                type=qm.IntegerIndexType.INTEGER, lookup=True, range=False
            ),
        }
        if kind in ("chunks", "sources"):
            fields |= {"source_id": kw, "kind": kw}
        if kind == "chunks":
            fields["generation"] = qm.PayloadSchemaType.INTEGER
        if kind == "sources":
            fields["status"] = kw
        if kind in ("notes", "history"):
            fields["ts"] = qm.PayloadSchemaType.FLOAT  # order_by needs a range index
        if kind == "study":
            fields["type"] = kw
        for field, schema in fields.items():
            self._call(
                self._client.create_payload_index,
                name,
                field_name=field,
                field_schema=schema,
                wait=True,
            )

    def _exists(self, kind: str, chat_id: int | None) -> str | None:
        name = self._name(kind, chat_id)
        return name if name in self._known else None

    def _scroll(
        self,
        name: str,
        flt: qm.Filter | None,
        *,
        page: int = _PAGE,
        with_vectors: bool = False,
        fields: Sequence[str] | None = None,
    ) -> Iterator[qm.Record]:
        """Every point of ``name`` matching ``flt``, paged; ``fields``: only those payload keys."""
        offset: Any = None
        while True:
            points, offset = self._call(
                self._client.scroll,
                name,
                scroll_filter=flt,
                limit=page,
                offset=offset,
                with_payload=list(fields) if fields is not None else True,
                with_vectors=with_vectors,
            )
            yield from points
            if offset is None:
                return

    # -- lifecycle ----------------------------------------------------------------------------

    def open(self, model_name: str, dim: int) -> None:
        """Create the shared collections; refuse vectors from a different embedding model."""
        self._dim = dim
        meta = self._ensure("meta")
        found = self._call(lambda: self._client.retrieve(meta, [_META_ID], with_payload=True))
        if not found:
            payload = {"model": model_name, "dim": dim}
            self._call(
                lambda: self._client.upsert(
                    meta, [qm.PointStruct(id=_META_ID, vector={}, payload=payload)]
                )
            )
        else:
            stored = found[0].payload or {}
            if stored.get("model") != model_name or stored.get("dim") != dim:
                raise ConfigError(
                    "store_model",
                    stored=stored.get("model"),
                    stored_dim=stored.get("dim"),
                    model=model_name,
                    dim=dim,
                )
        if not self.per_chat:
            for kind in KINDS:
                self._ensure(kind)

    def close(self) -> None:
        self._call(self._client.close)

    # -- chunks -------------------------------------------------------------------------------

    def upsert_chunks(self, chat_id: int, points: Sequence[ChunkPoint]) -> None:
        name = self._ensure("chunks", chat_id)
        # A chat's first source also creates its notes and history collections, so its first
        # answer (often one of many at once) does not pay for two collection creations.
        self._ensure("notes", chat_id)
        self._ensure("history", chat_id)
        structs = []
        for p in points:
            vector: dict[str, Any] = {"dense": p.dense}
            if p.sparse.indices:  # a chunk of stopwords only has no lexical vector
                vector["sparse"] = qm.SparseVector(indices=p.sparse.indices, values=p.sparse.values)
            payload = p.payload | self._owner(chat_id)
            structs.append(qm.PointStruct(id=p.point_id, vector=vector, payload=payload))
        self._call(lambda: self._client.upsert(name, structs, wait=True))

    def _chunk_filter(
        self,
        chat_id: int,
        source_id: str | None,
        generation: int | None = None,
        keep: int | None = None,
    ) -> qm.Filter:
        return self._chat_filter(
            chat_id,
            source_id=source_id,
            also=[_generation(generation)] if generation is not None else (),
            must_not=[_generation(keep)] if keep is not None else None,
        )

    def delete_chunks(
        self,
        chat_id: int,
        source_id: str,
        *,
        generation: int | None = None,
        keep: int | None = None,
    ) -> None:
        """Delete a source's chunks: all, only those of ``generation``, or all but ``keep``."""
        if name := self._exists("chunks", chat_id):
            flt = self._chunk_filter(chat_id, source_id, generation, keep)
            selector = qm.FilterSelector(filter=flt)
            self._call(lambda: self._client.delete(name, selector, wait=True))

    def count_chunks(
        self, chat_id: int, source_id: str | None = None, *, generation: int | None = None
    ) -> int:
        if not (name := self._exists("chunks", chat_id)):
            return 0
        flt = self._chunk_filter(chat_id, source_id, generation)
        return self._call(lambda: self._client.count(name, count_filter=flt, exact=True)).count

    def chunk_payloads(self, chat_id: int, source_id: str, generation: int) -> list[dict[str, Any]]:
        """Payloads of every chunk of one generation of a source, in ordinal order."""
        if not (name := self._exists("chunks", chat_id)):
            return []
        flt = self._chunk_filter(chat_id, source_id, generation)
        payloads = [dict(r.payload or {}) for r in self._scroll(name, flt)]
        return sorted(payloads, key=lambda p: int(p.get("ordinal", 0)))

    def _chunk_collections(self) -> list[str]:
        if not self.per_chat:
            name = self._name("chunks")
            return [name] if name in self._known else []
        return sorted(n for n in self._known if n.startswith(f"{self.prefix}_chunks_"))

    def chunk_total(self) -> int:
        """How many chunk points the store holds, all chats together (recovery's quick check)."""
        return sum(
            self._call(lambda n=name: self._client.count(n, exact=True)).count
            for name in self._chunk_collections()
        )

    def chunk_groups(self) -> Counter[tuple[int, str, int]]:
        """How many chunks each (chat, source, generation) has, all chats together.

        Reads every chunk's owner fields (not its text or vectors): recovery uses it only when
        ``chunk_total`` says something is left over.
        """
        groups: Counter[tuple[int, str, int]] = Counter()
        fields = ("chat_id", "source_id", "generation")
        for name in self._chunk_collections():
            for p in self._scroll(name, None, page=_EXPORT_PAGE, fields=fields):
                payload = p.payload or {}
                key = (
                    int(payload["chat_id"]),
                    str(payload.get("source_id", "")),
                    int(payload.get("generation") or 0),
                )
                groups[key] += 1
        return groups

    def search(
        self,
        chat_id: int,
        *,
        dense: Sequence[list[float]],
        sparse: Sequence[SparseVec],
        sources: Mapping[str, int],
        kinds: Sequence[str] | None = None,
        k: int = 5,
        mode: SearchMode = "hybrid",
        skip_roles: Sequence[str] = (),
    ) -> list[ScoredPayload]:
        """Top ``k`` live chunks of ``sources`` (id -> generation), none whose ``role`` is in
        ``skip_roles``; every query vector is one leg, fused by RRF."""
        request = IndexQuery(dense, sparse, sources, kinds, k, mode, tuple(skip_roles))
        return self.search_batch(chat_id, [request])[0]

    def search_batch(
        self, chat_id: int, requests: Sequence[IndexQuery]
    ) -> list[list[ScoredPayload]]:
        """Several searches of one chat in one call (one round trip to a server)."""
        name = self._exists("chunks", chat_id)
        built = [self._query(chat_id, r) if name else None for r in requests]
        todo = [q for q in built if q is not None]
        if not todo or name is None:
            return [[] for _ in requests]
        responses = iter(self._call(lambda: self._client.query_batch_points(name, todo)))
        return [
            [
                ScoredPayload(str(p.id), p.score, dict(p.payload or {}))
                for p in next(responses).points
            ]
            if q is not None
            else []
            for q in built
        ]

    def _query(self, chat_id: int, r: IndexQuery) -> qm.QueryRequest | None:
        if not r.sources or r.k <= 0:
            return None
        kinds = list(r.kinds) if r.kinds else None
        # Each source with its live generation: never a version being indexed or replaced.
        live = [
            qm.Filter(must=[_match("source_id", sid), _generation(gen)])
            for sid, gen in r.sources.items()
        ]
        flt = self._chat_filter(chat_id, kind=kinds, should=live)
        if r.skip_roles:
            flt.must_not = [_match("role", list(r.skip_roles))]
        legs: list[qm.Prefetch] = []
        if r.mode in ("hybrid", "dense"):
            legs += [
                qm.Prefetch(query=v, using="dense", filter=flt, limit=4 * r.k) for v in r.dense
            ]
        if r.mode in ("hybrid", "sparse"):
            legs += [
                qm.Prefetch(
                    query=qm.SparseVector(indices=s.indices, values=s.values),
                    using="sparse",
                    filter=flt,
                    limit=4 * r.k,
                )
                for s in r.sparse
                if s.indices
            ]
        if not legs:
            return None
        if len(legs) == 1:  # one leg: keep its own scores (cosine / BM25) for the eval
            return qm.QueryRequest(
                query=legs[0].query,
                using=legs[0].using,
                filter=flt,
                limit=r.k,
                with_payload=True,
            )
        return qm.QueryRequest(
            prefetch=legs,
            query=qm.FusionQuery(fusion=qm.Fusion.RRF),
            filter=flt,
            limit=r.k,
            with_payload=True,
        )

    # -- payload-only records (sources, notes, history, study) ---------------------------------

    def put_record(
        self, kind: RecordKind, chat_id: int, point_id: str, payload: dict[str, Any]
    ) -> None:
        self.put_records(kind, chat_id, [(point_id, payload)])

    def put_records(
        self, kind: RecordKind, chat_id: int, items: Sequence[tuple[str, dict[str, Any]]]
    ) -> None:
        """Upsert several ``(point_id, payload)`` records of a chat in one call."""
        if not items:
            return
        name = self._ensure(kind, chat_id)
        points = [
            qm.PointStruct(id=pid, vector={}, payload=payload | self._owner(chat_id))
            for pid, payload in items
        ]
        self._call(lambda: self._client.upsert(name, points, wait=True))

    def get_record(self, kind: RecordKind, chat_id: int, point_id: str) -> dict[str, Any] | None:
        if not (name := self._exists(kind, chat_id)):
            return None
        found = self._call(lambda: self._client.retrieve(name, [point_id], with_payload=True))
        payload = dict(found[0].payload or {}) if found else None
        # Retrieval by id has no filter: check the owner explicitly (server mode shares ids).
        return payload if payload and payload.get("chat_id") == chat_id else None

    def records(self, kind: RecordKind, chat_id: int, **where: Any) -> list[dict[str, Any]]:
        """All records of a chat matching ``where`` (field == value), in storage order."""
        if not (name := self._exists(kind, chat_id)):
            return []
        return [
            dict(r.payload or {}) for r in self._scroll(name, self._chat_filter(chat_id, **where))
        ]

    def latest_records(self, kind: RecordKind, chat_id: int, limit: int) -> list[dict[str, Any]]:
        """The ``limit`` records with the highest ``ts``, newest first."""
        if not (name := self._exists(kind, chat_id)) or limit <= 0:
            return []
        order = qm.OrderBy(key="ts", direction=qm.Direction.DESC)
        points, _ = self._call(
            lambda: self._client.scroll(
                name, scroll_filter=self._chat_filter(chat_id), limit=limit, order_by=order
            )
        )
        return [dict(p.payload or {}) for p in points]

    def all_records(self, kind: RecordKind, **where: Any) -> list[dict[str, Any]]:
        """Records of every chat matching ``where`` (for startup recovery)."""
        flt = (
            qm.Filter(must=[_match(key, value) for key, value in where.items()]) if where else None
        )
        if not self.per_chat:
            names = [self._name(kind)] if self._name(kind) in self._known else []
        else:
            names = sorted(n for n in self._known if n.startswith(f"{self.prefix}_{kind}_"))
        return [dict(r.payload or {}) for n in names for r in self._scroll(n, flt)]

    def delete_record(self, kind: RecordKind, chat_id: int, point_id: str) -> bool:
        if self.get_record(kind, chat_id, point_id) is None:
            return False
        name = self._name(kind, chat_id)
        selector = qm.PointIdsList(points=[point_id])
        self._call(lambda: self._client.delete(name, selector, wait=True))
        return True

    def delete_chat(self, chat_id: int) -> None:
        """Remove every point of a chat (local mode: drop its collections)."""
        with self._lock:
            self._delete_chat(chat_id)

    def _delete_chat(self, chat_id: int) -> None:
        # Source records go first: a crash half-way leaves chunks nobody points to (recovery
        # removes them), never a source whose chunks are gone.
        for kind in ("sources", *(k for k in KINDS if k != "sources")):
            if not (name := self._exists(kind, chat_id)):
                continue
            if not self.per_chat:
                selector = qm.FilterSelector(filter=self._chat_filter(chat_id))
                self._call(self._client.delete, name, selector, wait=True)
            else:
                self._call(self._client.delete_collection, name)
                self._known.discard(name)

    # -- backup and migration (storage.backup) -------------------------------------------------

    def stored_model(self) -> tuple[str, int] | None:
        """The (model, dim) the store's vectors were made with; None for a new store.

        Reads only: unlike ``open`` it never writes, so a source store stays untouched.
        """
        if not (meta := self._exists("meta", None)):
            return None
        found = self._call(lambda: self._client.retrieve(meta, [_META_ID], with_payload=True))
        if not found:
            return None
        stored = found[0].payload or {}
        return str(stored.get("model")), int(stored.get("dim") or 0)

    def chats(self) -> list[int]:
        """Every chat id with data of any kind, sorted."""
        found: set[int] = set()
        if self.per_chat:
            pattern = re.compile(rf"^{re.escape(self.prefix)}_(?:{'|'.join(KINDS)})_(n?)(\d+)$")
            for name in self._known:
                if m := pattern.match(name):
                    found.add(-int(m[2]) if m[1] else int(m[2]))
        for kind in KINDS:  # shared collections (server layout) hold chats in the payload
            if (name := self._name(kind)) not in self._known:
                continue
            offset: Any = None
            while True:
                points, offset = self._call(
                    self._client.scroll,
                    name,
                    limit=_EXPORT_PAGE,
                    offset=offset,
                    with_payload=["chat_id"],
                    with_vectors=False,
                )
                found.update(int((p.payload or {})["chat_id"]) for p in points)
                if offset is None:
                    break
        return sorted(found)

    def count_points(self, kind: str, chat_id: int) -> int:
        """How many points of ``kind`` (chunks, sources, notes, history) the chat has."""
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
        if not (name := self._exists(kind, chat_id)):
            return 0
        flt = self._chat_filter(chat_id)
        return self._call(lambda: self._client.count(name, count_filter=flt, exact=True)).count

    def export_points(self, kind: str, chat_id: int) -> Iterator[ExportedPoint]:
        """Every point of ``kind`` of the chat with its vectors, paged (read only)."""
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
        if not (name := self._exists(kind, chat_id)):
            return
        records = self._scroll(
            name, self._chat_filter(chat_id), page=_EXPORT_PAGE, with_vectors=kind == "chunks"
        )
        for p in records:
            vectors = p.vector if isinstance(p.vector, dict) else {}
            dense = vectors.get("dense")
            sparse = vectors.get("sparse")
            yield ExportedPoint(
                point_id=str(p.id),
                payload=dict(p.payload or {}),
                dense=_floats(dense),
                sparse=(
                    SparseVec(list(sparse.indices), list(sparse.values))
                    if isinstance(sparse, qm.SparseVector)
                    else None
                ),
            )

    def import_points(self, kind: str, chat_id: int, points: Iterable[ExportedPoint]) -> int:
        """Upsert exported points into the chat (after ``open``); returns how many.

        Ids, payloads and vectors are kept as they are; only the owner fields are set for
        ``chat_id``. Chunks need a dense vector of the dimension ``open`` was given.
        """
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
        name = self._ensure(kind, chat_id)
        written = 0
        batch: list[qm.PointStruct] = []
        for p in points:
            vector: dict[str, Any] = {}
            if kind == "chunks":
                if p.dense is None or len(p.dense) != self._dim:
                    raise ValueError(f"chunk {p.point_id} has no {self._dim}-dim dense vector")
                vector["dense"] = p.dense
                if p.sparse is not None and p.sparse.indices:
                    vector["sparse"] = qm.SparseVector(
                        indices=p.sparse.indices, values=p.sparse.values
                    )
            payload = p.payload | self._owner(chat_id)
            batch.append(qm.PointStruct(id=p.point_id, vector=vector, payload=payload))
            if len(batch) >= _EXPORT_PAGE:
                self._call(self._client.upsert, name, batch, wait=True)
                written += len(batch)
                batch = []
        if batch:
            self._call(self._client.upsert, name, batch, wait=True)
            written += len(batch)
        return written

    def delete_all(self) -> None:
        """Drop every collection of this prefix: all chats and the model record (re-index)."""
        pattern = re.compile(
            rf"^{re.escape(self.prefix)}_(?:meta|(?:{'|'.join(KINDS)})(?:_n?\d+)?)$"
        )
        with self._lock:
            for name in sorted(n for n in self._known if pattern.match(n)):
                self._call(self._client.delete_collection, name)
                self._known.discard(name)


_EXPORT_PAGE: Final = 512


def _floats(vector: Any) -> list[float] | None:
    return [float(x) for x in vector] if isinstance(vector, list) else None


@dataclass(frozen=True)
class ExportedPoint:
    """One stored point as a backup holds it; ``dense``/``sparse`` only for chunks."""

    point_id: str
    payload: dict[str, Any]
    dense: list[float] | None = None
    sparse: SparseVec | None = None
