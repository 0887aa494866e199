"""HttpEmbedder against real HTTP servers on loopback: batching, ordering, failures."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from kernel.errors import ConfigError, ServiceError
from storage.embedding.http_embedder import HttpEmbedder

Reply = Callable[[dict[str, Any]], tuple[int, Any]]


@contextmanager
def server(reply: Reply, seen: list[dict[str, Any]] | None = None) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            body["_path"] = self.path
            body["_auth"] = self.headers.get("Authorization")
            if seen is not None:
                seen.append(body)
            code, payload = reply(body)
            raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
            self.send_response(code)
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/v1/"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


def reversed_vectors(body: dict[str, Any]) -> tuple[int, Any]:
    """Answers with 2-d vectors [len, 1] in reverse list order, as servers may."""
    items = [{"index": i, "embedding": [len(t), 1]} for i, t in enumerate(body["input"])]
    return 200, {"data": items[::-1]}


def test_batches_prefixes_and_index_order() -> None:
    seen: list[dict[str, Any]] = []
    with server(reversed_vectors, seen) as url:
        emb = HttpEmbedder(url, "m", api_key="k", passage_prefix="p: ", batch_size=2)
        vectors = emb.embed_passages(["a", "bb", "ccc"])
        emb.close()
    assert emb.dim == 2
    assert vectors == [[4.0, 1.0], [5.0, 1.0], [6.0, 1.0]]
    batches = [b["input"] for b in seen[1:]]  # seen[0] is the dimension probe
    assert batches == [["p: a", "p: bb"], ["p: ccc"]]
    assert {b["_path"] for b in seen} == {"/v1/embeddings"}
    assert {b["model"] for b in seen} == {"m"}
    assert {b["_auth"] for b in seen} == {"Bearer k"}
    assert emb.embed_passages([]) == []


@pytest.mark.parametrize("code", [429, 500, 503])
def test_overload_and_server_errors_are_retryable(code: int) -> None:
    calls = {"n": 0}

    def reply(body: dict[str, Any]) -> tuple[int, Any]:
        calls["n"] += 1
        return (200, reversed_vectors(body)[1]) if calls["n"] == 1 else (code, {"error": "x"})

    with server(reply) as url:
        emb = HttpEmbedder(url, "m")
        with pytest.raises(ServiceError) as info:
            emb.embed_query("q")
    assert info.value.retryable
    assert "嵌入服务" in info.value.message("zh")


@pytest.mark.parametrize(
    "reply",
    [
        lambda body: (401, {"error": "bad key"}),
        lambda body: (200, b"not json"),
        lambda body: (200, {"data": []}),
        lambda body: (200, {"data": [{"index": 0, "embedding": "nope"}]}),
    ],
)
def test_unusable_answers_are_config_errors(reply: Reply) -> None:
    with server(reply) as url, pytest.raises(ConfigError):
        HttpEmbedder(url, "m")


def test_nothing_listening_is_retryable() -> None:
    with server(reversed_vectors) as url:
        pass  # the port is closed again
    with pytest.raises(ServiceError) as info:
        HttpEmbedder(url, "m", timeout=2)
    assert info.value.retryable
