"""Stand-ins for speech recognition where it is not what is tested.

- ``FakeRecognizer``: a scripted ``SpeechRecognizer`` (records its calls, reports progress like
  the real one, honours the cancel flag, can be held at a gate);
- ``FakeTranscriptionServer``: an OpenAI-compatible ``/v1/audio/transcriptions`` on 127.0.0.1
  for the real ``openai`` client (Chinese recognition is tested this way: espeak-ng's Mandarin
  is not intelligible to Whisper base).
"""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import default as email_policy
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

from ingest.video.downloader import Extract, MediaDownloader
from ingest.video.lecture import LectureReader, YouTubeFetch
from ingest.video.speech import Lane, Recognition, RecognitionProgress, SpeechRecognizer
from ingest.video.subtitles import Cue
from ingest.video.transcript_cache import TranscriptCache
from kernel.errors import CancelledByStudentError
from tests.fakes.http_server import QuietHTTPServer

__all__ = [
    "FakeRecognizer",
    "FakeTranscriptionServer",
    "heard",
    "lecture_reader",
    "transcription_server",
]


def heard(*lines: str, step: float = 5.0, language: str = "en") -> Recognition:
    """A recognition of ``lines``, one cue every ``step`` seconds."""
    cues = tuple(Cue(i * step, (i + 1) * step, text) for i, text in enumerate(lines))
    return Recognition(cues, language, "fake-asr", duration_s=len(lines) * step)


@dataclass
class FakeRecognizer:
    """``SpeechRecognizer`` answering from ``results`` (a Recognition or an exception each)."""

    results: list[Recognition | BaseException] = field(default_factory=list)
    gate: threading.Event | None = None
    model_name: str = "fake-asr"
    calls: list[dict[str, Any]] = field(default_factory=list)
    closed: bool = False

    def recognise(
        self,
        path: Path,
        *,
        hint: str | None = None,
        duration_s: float | None = None,
        progress: RecognitionProgress | None = None,
        cancel: threading.Event | None = None,
        lane: Lane = "lecture",
    ) -> Recognition:
        self.calls.append(
            {
                "path": path,
                "hint": hint,
                "duration_s": duration_s,
                "lane": lane,
                "exists": path.exists(),
            }
        )
        if progress is not None:
            progress(0.0, duration_s)
        if self.gate is not None:
            while not self.gate.wait(0.05):
                if cancel is not None and cancel.is_set():
                    break
        if cancel is not None and cancel.is_set():
            raise CancelledByStudentError("cancelled")
        result = self.results.pop(0)
        if isinstance(result, BaseException):
            raise result
        if progress is not None:
            progress(result.duration_s or 0.0, duration_s)
        return result

    def close(self) -> None:
        self.closed = True


@dataclass
class FakeTranscriptionServer:
    """Replies are dicts (sent as JSON) or ``(status, body)`` faults, in order; the last reply
    repeats. ``requests`` records each call's form fields and the audio's size."""

    replies: deque[dict[str, Any] | tuple[int, str]] = field(default_factory=deque)
    requests: list[dict[str, Any]] = field(default_factory=list)
    base_url: str = ""

    def reply(self, fields: dict[str, Any]) -> tuple[int, dict[str, Any] | str]:
        self.requests.append(fields)
        item = self.replies.popleft() if len(self.replies) > 1 else self.replies[0]
        if isinstance(item, tuple):
            return item
        if fields.get("response_format") == "json":
            return 200, {"text": item.get("text", "")}
        return 200, item


def _form(content_type: str, body: bytes) -> dict[str, Any]:
    head = f"Content-Type: {content_type}\r\n\r\n".encode()
    message = BytesParser(policy=email_policy).parsebytes(head + body)
    fields: dict[str, Any] = {}
    for part in message.iter_parts():
        name = str(part.get_param("name", header="content-disposition"))
        payload = part.get_payload(decode=True) or b""
        if part.get_filename() is not None:
            fields[name] = len(payload)
        else:
            value = payload.decode("utf-8")
            fields[name] = [*fields.get(name, []), value] if name.endswith("[]") else value
    return fields


@contextmanager
def transcription_server(
    *replies: dict[str, Any] | tuple[int, str],
) -> Iterator[FakeTranscriptionServer]:
    fake = FakeTranscriptionServer(deque(replies))

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            return

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            fields = _form(self.headers.get("Content-Type", ""), self.rfile.read(length))
            fields["path"] = self.path
            status, answer = fake.reply(fields)
            body = answer.encode() if isinstance(answer, str) else json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = QuietHTTPServer(("127.0.0.1", 0), Handler)
    fake.base_url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    thread = threading.Thread(target=server.serve_forever)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def lecture_reader(
    data_dir: Path,
    recognizer: SpeechRecognizer | None = None,
    *,
    extract: Extract | None = None,
    max_seconds: float | None = None,
    youtube: YouTubeFetch | None = None,
    languages: tuple[str, ...] = ("zh-Hans", "zh", "en"),
) -> LectureReader:
    """A ``LectureReader`` as the bot builds it, under ``data_dir`` (real downloader)."""
    return LectureReader(
        downloader=MediaDownloader(extract=extract, timeout_s=5.0),
        recognizer=recognizer or FakeRecognizer(),
        cache=TranscriptCache(data_dir / "transcripts"),
        work_dir=data_dir / "tmp",
        languages=languages,
        max_seconds=max_seconds,
        youtube=youtube,
    )
