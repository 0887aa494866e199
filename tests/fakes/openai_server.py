"""A fake OpenAI-compatible chat server on loopback, for testing the real ``openai`` client.

Runs ``http.server`` in a thread and answers ``POST /v1/chat/completions`` (plain and
``stream=true`` SSE). Replies are scripted with ``enqueue`` (text or a fault) or computed by a
default function; every JSON body received is recorded in ``requests``.

    with FakeOpenAI() as srv:
        srv.enqueue("Hello")                       # plain or streamed, as the client asks
        srv.enqueue(RateLimited(2))                # 429 twice, then the next queued reply
        srv.enqueue(CutOffStream(after_chars=10))  # some deltas, then the connection drops
        client = AsyncOpenAI(base_url=srv.base_url, api_key="test")

``FakeOpenAI(delay_s=1.0)`` (or setting ``srv.delay_s``) makes every reply wait that long
before its first byte, like a real model's latency (benchmarks).

Or as the pytest fixture ``fake_openai`` (``tests/conftest.py``): take ``fake_openai`` as a
test argument.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.fakes.http_server import QuietHTTPServer

__all__ = [
    "CutOffStream",
    "FakeOpenAI",
    "Fault",
    "Malformed",
    "RateLimited",
    "Status",
    "Timeout",
]


@dataclass
class Status:
    """Answer with this HTTP status and body (an OpenAI-style error by default)."""

    code: int
    body: str = '{"error": {"message": "fake server error", "type": "server_error"}}'


@dataclass
class Timeout:
    """Sleep ``seconds`` before answering (a late reply), so the client's timeout fires."""

    seconds: float
    reply: str = "too late"


@dataclass
class CutOffStream:
    """Send ``after_chars`` characters of ``text`` as deltas, then drop the connection.

    No finish_reason, no ``[DONE]``, no terminating chunk. A non-streaming request gets a
    truncated body (Content-Length larger than what is sent).
    """

    after_chars: int
    text: str = "This answer is going to be cut off in the middle of a sentence because"


@dataclass
class Malformed:
    """200 with a junk body (plain) or junk SSE lines (stream)."""

    body: str = "this is {not json"


@dataclass
class RateLimited:
    """Answer 429 ``times`` times, then serve the next queued reply."""

    times: int
    retry_after: float | None = None
    _left: int = field(default=-1, repr=False)


Fault = Status | Timeout | CutOffStream | Malformed | RateLimited
Reply = str | Fault


class FakeOpenAI:
    """A scripted OpenAI-compatible server on 127.0.0.1 (a context manager)."""

    def __init__(self, *, delay_s: float = 0.0) -> None:
        self.delay_s = delay_s
        """Seconds every reply waits before it is sent (model latency); 0 = at once."""
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []  # lower-cased header names, per request
        self.errors: list[str] = []  # scripting mistakes, e.g. nothing queued and no default
        self._queue: deque[tuple[Reply, int | None]] = deque()
        self._default: Callable[[dict[str, Any]], Reply] | None = None
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: QuietHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._counter = 0
        self.base_url = ""

    # -- scripting -------------------------------------------------------------------------

    def enqueue(self, reply: Reply, *, stream_chunks: int | None = None) -> None:
        """Queue one reply (text, or a fault). ``stream_chunks``: deltas a stream is split into."""
        with self._lock:
            self._queue.append((reply, stream_chunks))

    def set_default(self, fn: Callable[[dict[str, Any]], Reply] | None) -> None:
        """Reply with ``fn(request_body)`` (a text or a fault) whenever the queue is empty."""
        self._default = fn

    @property
    def pending(self) -> int:
        """Queued replies not served yet."""
        with self._lock:
            return len(self._queue)

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> FakeOpenAI:
        handler = type("_BoundHandler", (_Handler,), {"fake": self})
        self._server = QuietHTTPServer(("127.0.0.1", 0), handler)
        port = self._server.server_address[1]
        self.base_url = f"http://127.0.0.1:{port}/v1"
        # A short poll interval makes stop() quick (shutdown waits for the next poll).
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # wakes handlers sleeping in a Timeout fault
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> FakeOpenAI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- used by the handler -----------------------------------------------------------------

    def _next(self, body: dict[str, Any]) -> tuple[Reply, int | None]:
        with self._lock:
            self.requests.append(body)
            while self._queue:
                reply, chunks = self._queue[0]
                if isinstance(reply, RateLimited):
                    if reply._left < 0:
                        reply._left = reply.times
                    if reply._left > 0:
                        reply._left -= 1
                        return reply, None
                    self._queue.popleft()
                    continue
                self._queue.popleft()
                return reply, chunks
        if self._default is not None:
            return self._default(body), None
        self.errors.append("no reply queued and no default set")
        return Status(500, '{"error": {"message": "FakeOpenAI: nothing queued"}}'), None

    def _completion_id(self) -> str:
        with self._lock:
            self._counter += 1
            return f"chatcmpl-fake-{self._counter}"


def _split(text: str, chunks: int | None) -> list[str]:
    if not text:
        return []
    n = chunks if chunks and chunks > 0 else max(1, len(text) // 12)
    size = max(1, -(-len(text) // n))
    return [text[i : i + size] for i in range(0, len(text), size)]


class _Handler(BaseHTTPRequestHandler):
    fake: FakeOpenAI
    protocol_version = "HTTP/1.1"  # keep-alive and chunked streams, like real servers
    disable_nagle_algorithm = True  # small writes (headers, SSE chunks) go out at once

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep test output clean

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        if self.path.rstrip("/") != "/v1/chat/completions":
            self._send(404, '{"error": {"message": "not found"}}')
            return
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            self._send(400, '{"error": {"message": "bad json"}}')
            return
        self.fake.headers.append({k.lower(): v for k, v in self.headers.items()})
        reply, chunks = self.fake._next(body)
        stream = bool(body.get("stream"))
        model = str(body.get("model", "fake-model"))
        if self.fake.delay_s > 0 and self.fake._stopping.wait(self.fake.delay_s):
            return  # stopping: no reply
        # The client may have given up (its timeout fired): nothing to do then.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self._answer(reply, chunks, stream, model)

    def _answer(self, reply: Reply, chunks: int | None, stream: bool, model: str) -> None:
        if isinstance(reply, RateLimited):
            extra = {"Retry-After": str(reply.retry_after)} if reply.retry_after is not None else {}
            msg = '{"error": {"message": "Rate limit reached", "type": "rate_limit_exceeded"}}'
            self._send(429, msg, extra)
        elif isinstance(reply, Status):
            self._send(reply.code, reply.body)
        elif isinstance(reply, Timeout):
            if not self.fake._stopping.wait(reply.seconds):
                self._reply_text(reply.reply, chunks, stream, model)
        elif isinstance(reply, Malformed):
            if stream:
                self._start_stream()
                self._chunk(f"data: {reply.body}\n\n")
                self._chunk("data: [DONE]\n\n")
                self._chunk("")
            else:
                self._send(200, reply.body)
        elif isinstance(reply, CutOffStream):
            self._cut_off(reply, chunks, stream, model)
        else:
            self._reply_text(reply, chunks, stream, model)

    def _reply_text(self, text: str, chunks: int | None, stream: bool, model: str) -> None:
        cid = self.fake._completion_id()
        if not stream:
            payload = {
                "id": cid,
                "object": "chat.completion",
                "created": int(time.time()),
                "model": model,
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": text},
                        "finish_reason": "stop",
                    }
                ],
                "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
            }
            self._send(200, json.dumps(payload))
            return
        self._start_stream()
        self._event(cid, model, {"role": "assistant", "content": ""}, None)
        for piece in _split(text, chunks):
            self._event(cid, model, {"content": piece}, None)
        self._event(cid, model, {}, "stop")
        self._chunk("data: [DONE]\n\n")
        self._chunk("")

    def _cut_off(self, fault: CutOffStream, chunks: int | None, stream: bool, model: str) -> None:
        sent = fault.text[: fault.after_chars]
        if not stream:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "100000")
            self.end_headers()
            self.wfile.write(('{"id": "x", "choices": [{"message": {"content": "' + sent).encode())
        else:
            cid = self.fake._completion_id()
            self._start_stream()
            self._event(cid, model, {"role": "assistant", "content": ""}, None)
            for piece in _split(sent, chunks):
                self._event(cid, model, {"content": piece}, None)
        self.wfile.flush()
        self.close_connection = True  # no terminating chunk: the body is incomplete

    # -- low-level writing -------------------------------------------------------------------

    def _send(self, code: int, body: str, extra: dict[str, str] | None = None) -> None:
        data = body.encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for key, value in (extra or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def _start_stream(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

    def _chunk(self, text: str) -> None:
        data = text.encode()
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def _event(self, cid: str, model: str, delta: dict[str, Any], finish: str | None) -> None:
        payload = {
            "id": cid,
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }
        self._chunk(f"data: {json.dumps(payload, ensure_ascii=False)}\n\n")
