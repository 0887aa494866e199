"""QdrantIndex against embedded Qdrant: tenancy, model guard, search legs, failures."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from kernel.errors import ConfigError, StoreInUseError, StoreUnavailableError
from storage.embedding.sparse import sparse_document, sparse_query
from storage.qdrant.index import ChunkPoint, QdrantIndex

DIM = 4


def _point(n: int, source_id: str, text: str, dense: list[float]) -> ChunkPoint:
    return ChunkPoint(
        point_id=f"00000000-0000-0000-0000-{n:012d}",
        dense=dense,
        sparse=sparse_document(text),
        payload={"source_id": source_id, "kind": "paper", "ordinal": n, "text": text},
    )


@pytest.fixture
def index(tmp_path: Path) -> Iterator[QdrantIndex]:
    idx = QdrantIndex(path=tmp_path / "qdrant", prefix="t")
    idx.open("fake-model", DIM)
    yield idx
    idx.close()


def test_another_embedding_model_is_refused_after_reopening(tmp_path: Path) -> None:
    first = QdrantIndex(path=tmp_path / "q")
    first.open("model-a", 384)
    first.close()

    for name, dim in (("model-b", 384), ("model-a", 768)):
        again = QdrantIndex(path=tmp_path / "q")
        with pytest.raises(ConfigError) as err:
            again.open(name, dim)
        assert "model-a" in err.value.message("en")
        assert "re-index" in err.value.message("en")
        assert "model-a" in err.value.message("zh")
        again.close()

    same = QdrantIndex(path=tmp_path / "q")
    same.open("model-a", 384)  # the original model still opens
    same.close()


def test_a_second_client_on_the_same_path_gets_a_clear_error(tmp_path: Path) -> None:
    first = QdrantIndex(path=tmp_path / "q")
    with pytest.raises(StoreInUseError) as err:
        QdrantIndex(path=tmp_path / "q")
    assert "in use by another process" in err.value.message("en")
    assert "正被另一个程序使用" in err.value.message("zh")
    assert err.value.retryable  # exit 75: trying again once the other process ends works
    first.close()
    QdrantIndex(path=tmp_path / "q").close()  # free again once the first one closed


def test_chats_never_see_each_others_chunks_even_with_equal_source_ids(index: QdrantIndex) -> None:
    index.upsert_chunks(1, [_point(1, "s", "alpha transformer", [1, 0, 0, 0])])
    index.upsert_chunks(-1001, [_point(2, "s", "beta transformer", [1, 0, 0, 0])])

    for chat, text in ((1, "alpha transformer"), (-1001, "beta transformer")):
        found = index.search(
            chat, dense=[[1, 0, 0, 0]], sparse=[sparse_query("transformer")], sources={"s": 0}
        )
        assert [f.payload["text"] for f in found] == [text]
        assert found[0].payload["chat_id"] == chat
    assert index.count_chunks(1) == 1
    assert index.search(7, dense=[[1, 0, 0, 0]], sparse=[], sources={"s": 0}) == []


def test_search_only_returns_the_listed_sources(index: QdrantIndex) -> None:
    index.upsert_chunks(1, [_point(1, "ready", "x", [1, 0, 0, 0])])
    index.upsert_chunks(1, [_point(2, "half", "x", [1, 0, 0, 0])])
    found = index.search(1, dense=[[1, 0, 0, 0]], sparse=[], sources={"ready": 0}, k=5)
    assert [f.payload["source_id"] for f in found] == ["ready"]
    assert index.search(1, dense=[[1, 0, 0, 0]], sparse=[], sources={}) == []


def test_each_mode_uses_its_own_leg(index: QdrantIndex) -> None:
    index.upsert_chunks(
        1,
        [
            _point(1, "s", "positional encoding sinusoid", [0, 1, 0, 0]),
            _point(2, "s", "unrelated words entirely", [1, 0, 0, 0]),
        ],
    )
    dvec, svec = [[1.0, 0, 0, 0]], [sparse_query("positional encoding")]
    dense = index.search(1, dense=dvec, sparse=svec, sources={"s": 0}, mode="dense")
    sparse = index.search(1, dense=dvec, sparse=svec, sources={"s": 0}, mode="sparse")
    hybrid = index.search(1, dense=dvec, sparse=svec, sources={"s": 0}, mode="hybrid")
    assert dense[0].payload["ordinal"] == 2
    assert dense[0].score == pytest.approx(1.0)  # a single leg keeps its cosine score
    assert [f.payload["ordinal"] for f in sparse] == [1]  # lexical: only the matching chunk
    assert {f.payload["ordinal"] for f in hybrid} == {1, 2}


def test_records_are_per_chat_and_latest_first(index: QdrantIndex) -> None:
    for n in range(5):
        pid = f"00000000-0000-0000-0000-{n:012d}"
        index.put_record("history", 1, pid, {"ts": float(n), "text": f"t{n}"})
    index.put_record("history", 2, "00000000-0000-0000-0000-000000000099", {"ts": 9.0})
    assert [r["text"] for r in index.latest_records("history", 1, 2)] == ["t4", "t3"]
    assert len(index.records("history", 1)) == 5
    assert index.get_record("history", 2, "00000000-0000-0000-0000-000000000001") is None
    assert index.delete_record("history", 2, "00000000-0000-0000-0000-000000000001") is False
    assert len(index.records("history", 1)) == 5


def test_delete_chat_removes_only_that_chat(index: QdrantIndex) -> None:
    for chat in (1, 2):
        index.upsert_chunks(chat, [_point(1, "s", "x", [1, 0, 0, 0])])
        index.put_record("notes", chat, "00000000-0000-0000-0000-000000000001", {"ts": 1.0})
    index.delete_chat(1)
    assert index.count_chunks(1) == 0
    assert index.records("notes", 1) == []
    assert index.count_chunks(2) == 1
    assert len(index.records("notes", 2)) == 1


def test_an_unreachable_server_is_a_retryable_error() -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(StoreUnavailableError) as err:
        QdrantIndex(url=f"http://127.0.0.1:{port}", timeout=2)
    assert err.value.retryable
    assert "Qdrant" in err.value.message("zh")


# -- server mode, against a recording stand-in for Qdrant's REST API -----------------------------
# No Qdrant server can run offline here; this checks what the real client sends in server mode.


class _FakeQdrant(BaseHTTPRequestHandler):
    calls: list[tuple[str, str, Any]]
    fail_with: int | None = None

    def _reply(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length)) if length else None
        path = self.path.split("?")[0]
        self.calls.append((method, path, body))
        if self.fail_with:
            self.send_response(self.fail_with)
            self.end_headers()
            return
        result: Any = {"operation_id": 0, "status": "completed"}
        if path == "/collections":
            result = {"collections": []}
        elif path.endswith("/points") and method == "POST":
            result = []  # retrieve: no meta point yet
        elif path.endswith("/points/query"):
            result = {"points": []}
        elif path.endswith("/points/query/batch"):
            result = [{"points": []} for _ in body["searches"]]
        elif method == "PUT" and path.count("/") == 2:
            result = True  # create collection
        data = json.dumps({"result": result, "status": "ok", "time": 0}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        self._reply("GET")

    def do_POST(self) -> None:
        self._reply("POST")

    def do_PUT(self) -> None:
        self._reply("PUT")

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def fake_server() -> Iterator[tuple[str, type[_FakeQdrant]]]:
    handler = type("Handler", (_FakeQdrant,), {"calls": [], "fail_with": None})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", handler
    server.shutdown()
    server.server_close()
    thread.join()


def test_server_mode_uses_shared_collections_with_a_tenant_index(
    fake_server: tuple[str, type[_FakeQdrant]],
) -> None:
    url, handler = fake_server
    index = QdrantIndex(url=url, prefix="p")
    index.open("model-a", DIM)

    created = {path: body for method, path, body in handler.calls if method == "PUT"}
    for kind in ("chunks", "sources", "notes", "history", "study", "meta"):
        assert f"/collections/p_{kind}" in created
    chunks = created["/collections/p_chunks"]
    assert chunks["vectors"]["dense"] == {"size": DIM, "distance": "Cosine"}
    assert chunks["sparse_vectors"]["sparse"]["modifier"] == "idf"
    assert chunks["hnsw_config"] == {"m": 0, "payload_m": 16}  # one graph per chat
    indexes = {
        (path.split("/")[2], body["field_name"]): body["field_schema"]
        for method, path, body in handler.calls
        if method == "PUT" and path.endswith("/index")
    }
    assert indexes[("p_chunks", "tenant")] == {"type": "keyword", "is_tenant": True}
    assert indexes[("p_chunks", "source_id")] == "keyword"
    assert indexes[("p_chunks", "generation")] == "integer"
    assert indexes[("p_history", "ts")] == "float"
    assert indexes[("p_study", "type")] == "keyword"  # quiz records and the glossary
    assert not any(name == "p_meta" for name, _ in indexes)

    handler.calls.clear()
    index.search(
        42, dense=[[1, 0, 0, 0]], sparse=[sparse_query("attention")], sources={"s1": 2}, k=3
    )
    ((_, path, batch),) = handler.calls
    assert path == "/collections/p_chunks/points/query/batch"
    (query,) = batch["searches"]
    assert query["query"] == {"fusion": "rrf"}
    assert [leg["using"] for leg in query["prefetch"]] == ["dense", "sparse"]
    must = query["filter"]["must"]
    assert {"key": "chat_id", "match": {"value": 42}} in must
    assert {"key": "tenant", "match": {"value": "42"}} in must
    # The source with its live generation only (not a version being indexed beside it).
    assert query["filter"]["should"] == [
        {
            "must": [
                {"key": "source_id", "match": {"value": "s1"}},
                {"key": "generation", "match": {"value": 2}},
            ]
        }
    ]
    assert all(leg["filter"] == query["filter"] for leg in query["prefetch"])
    index.close()


def test_a_server_error_is_retryable(fake_server: tuple[str, type[_FakeQdrant]]) -> None:
    url, handler = fake_server
    index = QdrantIndex(url=url, prefix="p")
    index.open("model-a", DIM)
    handler.fail_with = 503
    with pytest.raises(StoreUnavailableError):
        index.records("notes", 1)
    index.close()
