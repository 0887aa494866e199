"""Local speech recognition in child processes, so a lecture never holds the bot's interpreter.

faster-whisper's CTranslate2 inference releases the GIL, but audio decoding, feature extraction
and voice-activity detection run Python and numpy code for seconds at a time, and recognising a
lecture keeps both CPU cores busy for many minutes. In a child process at a lower CPU priority
(nice 10) the bot's event loop keeps answering the other chats (BENCHMARKS.md, "Speech
recognition": the largest loop stall measured while a lecture was transcribed).

Two long-lived workers, one per ``Lane``: lectures queue in one, voice questions in the other,
so a question never waits behind a two-hour lecture. Each loads the model once and keeps it.
Segments and the position reached come back over a pipe as they are heard. Cancelling kills the
worker (the next job starts a fresh one); a worker that dies mid-job is a ``TranscriptionError``,
and the parent dying ends its workers (they read EOF on the pipe).
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import traceback
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

from ingest.children import context
from ingest.video.speech import (
    Lane,
    Recognition,
    RecognitionProgress,
    keep_heard,
    require_speech,
)
from ingest.video.subtitles import Cue
from kernel.errors import CancelledByStudentError, PaperTutorError, TranscriptionError

__all__ = [
    "DEFAULT_MODEL",
    "LocalSpeechRecognizer",
    "WhisperSpec",
    "is_local_model",
    "model_label",
]

log = logging.getLogger(__name__)

DEFAULT_MODEL = "small"
"""The largest Whisper that recognises well under real time on 2 CPU cores; Chinese accuracy
rises steeply with size (BENCHMARKS.md, "Speech recognition")."""

_NICE = 10  # recognition is background work: the students waiting for answers come first
_POLL_S = 0.2  # how often a waiting job looks at its cancel flag
_JOIN_S = 5.0


@dataclass(frozen=True)
class WhisperSpec:
    """How to load and run the model (picklable: it travels to the child process)."""

    model: str = DEFAULT_MODEL
    cache_dir: Path | None = None
    cpu_threads: int = 0  # 0: CTranslate2 decides (all cores)
    compute_type: str = "int8"
    beam_size: int = 5
    vad: bool = True
    window_s: float = 600.0


def is_local_model(model: str) -> bool:
    """A directory holding a CTranslate2 model rather than a name to download."""
    path = Path(model).expanduser()
    return path.is_dir() and (path / "model.bin").is_file()


def model_label(model: str) -> str:
    """How the model is named to students and in stored metadata: ``faster-whisper small``."""
    name = Path(model).name if is_local_model(model) else model
    return f"faster-whisper {name}"


def _serve(conn: Connection, spec: WhisperSpec) -> None:
    """The child: load the model on the first job, then recognise one file per request."""
    os.nice(_NICE)
    from ingest.video.asr import load_model, transcribe_file  # faster-whisper only in the child

    model: Any = None

    def emit(*message: Any) -> None:
        conn.send(message)

    while True:
        try:
            _, path, hint = conn.recv()
        except (EOFError, OSError):  # the parent is gone
            return
        try:
            if model is None:
                model = load_model(spec)
            transcribe_file(model, spec, Path(path), hint, emit)
            conn.send(("done",))
        except (BrokenPipeError, ConnectionResetError):
            return
        except PaperTutorError as err:
            conn.send(("error", err))
        except Exception:  # a bug: the parent raises it with this traceback for the log
            conn.send(("bug", traceback.format_exc()))


class _Worker:
    """One child process and the lock that makes its jobs take turns."""

    def __init__(self, spec: WhisperSpec, name: str) -> None:
        self._spec = spec
        self._name = name
        self.lock = threading.Lock()
        self._process: BaseProcess | None = None
        self._conn: Connection | None = None

    def _started(self) -> tuple[BaseProcess, Connection]:
        if self._process is None or self._conn is None or not self._process.is_alive():
            self.stop()
            ctx = context()
            mine, theirs = ctx.Pipe(duplex=True)
            process = ctx.Process(  # type: ignore[attr-defined]
                target=_serve, args=(theirs, self._spec), name=self._name, daemon=True
            )
            process.start()
            theirs.close()
            self._process, self._conn = process, mine
        return self._process, self._conn

    def run(
        self,
        path: Path,
        hint: str | None,
        position: RecognitionProgress,
        total: float | None,
        cancel: threading.Event | None,
    ) -> tuple[list[Cue], str | None]:
        """Recognise ``path`` in the child; the caller holds ``lock``."""
        process, conn = self._started()
        conn.send(("transcribe", str(path), hint))
        cues: list[Cue] = []
        language: str | None = None
        while True:
            if cancel is not None and cancel.is_set():
                self.stop()
                raise CancelledByStudentError("cancelled")
            try:
                if not conn.poll(_POLL_S):
                    if not process.is_alive():
                        raise EOFError
                    continue
                message = conn.recv()
            except (EOFError, OSError):
                code = process.exitcode
                self.stop()
                log.error("speech recognition child %s died (exit code %s)", self._name, code)
                raise TranscriptionError("crashed") from None
            kind = message[0]
            if kind == "segment":
                cues.append(Cue(float(message[1]), float(message[2]), str(message[3])))
            elif kind == "progress":
                position(float(message[1]), total)
            elif kind == "language":
                language = str(message[1])
            elif kind == "done":
                return cues, language
            elif kind == "error":
                raise message[1]
            else:
                self.stop()
                raise RuntimeError(f"speech recognition failed in the child:\n{message[1]}")

    def stop(self) -> None:
        """End the child (killed if busy) and forget it; the next job starts a new one."""
        process, conn = self._process, self._conn
        self._process = self._conn = None
        if conn is not None:
            conn.close()  # an idle child reads EOF and leaves
        if process is not None:
            process.join(0.5)
            if process.is_alive():
                process.kill()
                process.join(_JOIN_S)


class LocalSpeechRecognizer:
    """``SpeechRecognizer`` with faster-whisper in two long-lived child processes."""

    def __init__(self, spec: WhisperSpec) -> None:
        self.spec = spec
        self.model_name = model_label(spec.model)
        self._workers: dict[Lane, _Worker] = {
            "lecture": _Worker(spec, "asr-lecture"),
            "voice": _Worker(spec, "asr-voice"),
        }

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
        worker = self._workers[lane]

        def position(done: float, total: float | None) -> None:
            if progress is not None:
                progress(done, total)

        while not worker.lock.acquire(timeout=_POLL_S):  # queued: may be cancelled meanwhile
            if cancel is not None and cancel.is_set():
                raise CancelledByStudentError("cancelled")
        try:
            position(0.0, duration_s)
            cues, language = worker.run(path, hint, position, duration_s, cancel)
        finally:
            worker.lock.release()
        heard = keep_heard(cues)
        require_speech(heard, voice=lane == "voice")
        return Recognition(
            cues=tuple(heard), language=language, model=self.model_name, duration_s=duration_s
        )

    def busy(self, lane: Lane = "lecture") -> bool:
        """True while a job runs in ``lane`` (a new one would wait its turn)."""
        return self._workers[lane].lock.locked()

    def close(self) -> None:
        for worker in self._workers.values():
            with contextlib.suppress(OSError):
                worker.stop()
