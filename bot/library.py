"""The student's sources: ingesting papers and videos into the chat's store, listing, forgetting.

Videos (links and recordings) are read by ``ingest.lecture.LectureReader``: captions when the
platform has them, otherwise speech recognition (in child processes of its own).

Blocking work runs in worker threads, in two pools: ingestion (PDF parsing, transcript
fetching, embedding a whole source) in a small pool of its own, and the quick store calls every
question makes (history, sources, search, saving) in another, so a slow ingestion never holds
the threads other chats' questions need. A PDF is parsed in a child process that its ingestion
thread waits for: MuPDF holds the GIL for a whole page (seconds for an OCR page), which would
freeze every chat. One ingestion at a time per chat: a second one waits its turn (``is_busy``
tells the caller it will wait). Progress callbacks are called from worker threads; front doors
marshal them to their loop.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from ingest.lecture import LectureReader
from ingest.pdf_process import parse_pdf_isolated
from ingest.routing import route_file
from ingest.transcript import video_source_from_subtitles
from kernel.errors import CancelledByStudentError, UnsupportedFileError
from kernel.models import ParsedSource, SourceRecord
from storage.store import KnowledgeStore

__all__ = ["Library", "PdfLimits", "Progress"]

T = TypeVar("T")

Progress = Callable[[str, int, int], None]
"""``progress(stage, done, total)``; stage is "parsing" (pages), "probing", "fetching",
"downloading" (bytes), "waiting" (for the speech recogniser), "transcribing" (seconds of the
recording; total 0 when unknown) or "indexing" (chunks)."""


@dataclass(frozen=True)
class PdfLimits:
    max_bytes: int = 50 * 2**20
    max_pages: int = 300
    ocr: bool = True
    ocr_languages: str = "chi_sim+eng"


class Library:
    """Adds, lists and removes the sources of each chat."""

    def __init__(
        self,
        store: KnowledgeStore,
        *,
        pdf_limits: PdfLimits,
        lectures: LectureReader,
        concurrency: int = 4,
        ingest_concurrency: int = 2,
    ) -> None:
        """``concurrency``: quick store calls at once; ``ingest_concurrency``: ingestion steps
        (parse or index) at once, across chats."""
        self._store = store
        self._limits = pdf_limits
        self._lectures = lectures
        # Threads start on first use and end when the Library is garbage collected or closed.
        self._quick = ThreadPoolExecutor(max(1, concurrency), thread_name_prefix="store")
        self._slow = ThreadPoolExecutor(max(1, ingest_concurrency), thread_name_prefix="ingest")
        self._chat_locks: dict[int, asyncio.Lock] = {}

    async def run_blocking(self, fn: Callable[[], T]) -> T:
        """Run ``fn`` (a quick blocking call) in a worker thread, bounded by ``concurrency``."""
        return await self._run_in(self._quick, fn)

    async def _run_ingestion(self, fn: Callable[[], T]) -> T:
        return await self._run_in(self._slow, fn)

    @staticmethod
    async def _run_in(pool: ThreadPoolExecutor, fn: Callable[[], T]) -> T:
        # Like asyncio.to_thread: the call sees the caller's context variables.
        call = functools.partial(contextvars.copy_context().run, fn)
        return await asyncio.get_running_loop().run_in_executor(pool, call)

    def close(self) -> None:
        """Stop the worker threads once their current work is done (idle ones end at once)."""
        self._quick.shutdown(wait=False)
        self._slow.shutdown(wait=False)

    def is_busy(self, chat_id: int) -> bool:
        """True while an ingestion of this chat runs (a new one would wait its turn)."""
        lock = self._chat_locks.get(chat_id)
        return lock is not None and lock.locked()

    async def _ingest(
        self,
        chat_id: int,
        parse: Callable[[], ParsedSource],
        progress: Progress | None,
        cancel: threading.Event | None = None,
    ) -> SourceRecord:
        lock = self._chat_locks.setdefault(chat_id, asyncio.Lock())
        async with lock:
            if cancel is not None and cancel.is_set():  # stopped while it waited its turn
                raise CancelledByStudentError("cancelled")
            parsed = await self._run_ingestion(parse)

            def index() -> SourceRecord:
                report = None
                if progress is not None:
                    report = lambda done, total: progress("indexing", done, total)  # noqa: E731
                return self._store.add_source(chat_id, parsed, report)

            return await self._run_ingestion(index)

    async def add_pdf(
        self,
        chat_id: int,
        data: bytes,
        *,
        filename: str | None = None,
        password: str | None = None,
        progress: Progress | None = None,
    ) -> SourceRecord:
        limits = self._limits

        def parse() -> ParsedSource:
            report = None
            if progress is not None:
                report = lambda done, total: progress("parsing", done, total)  # noqa: E731
            return parse_pdf_isolated(
                data,
                filename=filename,
                password=password,
                max_bytes=limits.max_bytes,
                max_pages=limits.max_pages,
                ocr=limits.ocr,
                ocr_languages=limits.ocr_languages,
                progress=report,
            )

        return await self._ingest(chat_id, parse, progress)

    async def add_video_link(
        self,
        chat_id: int,
        text: str,
        *,
        lang: str | None = None,
        progress: Progress | None = None,
        cancel: threading.Event | None = None,
    ) -> SourceRecord:
        """The lecture behind a video link in ``text`` (or ``text`` itself as a bare link):
        captions when the platform has them, otherwise speech recognition (``lang``, the
        student's language, helps when the speech's language is unclear)."""

        def parse() -> ParsedSource:
            return self._lectures.read_link(text, hint=lang, progress=progress, cancel=cancel)

        return await self._ingest(chat_id, parse, progress, cancel)

    async def add_media(
        self,
        chat_id: int,
        path: Path,
        *,
        filename: str | None = None,
        title: str | None = None,
        lang: str | None = None,
        progress: Progress | None = None,
        cancel: threading.Event | None = None,
    ) -> SourceRecord:
        """A lecture recording (audio or video file at ``path``), by speech recognition."""

        def parse() -> ParsedSource:
            return self._lectures.read_file(
                path, filename=filename, title=title, hint=lang, progress=progress, cancel=cancel
            )

        return await self._ingest(chat_id, parse, progress, cancel)

    def scratch(self) -> AbstractContextManager[Path]:
        """A private folder under the data directory for a download, removed afterwards."""
        return self._lectures.scratch()

    def check_media_length(self, seconds: float | None) -> None:
        """Raise ``MediaTooLongError`` now for a recording over the limit (before downloading)."""
        self._lectures.check_length(seconds)

    async def add_subtitles(
        self,
        chat_id: int,
        data: bytes,
        *,
        filename: str | None = None,
        url: str | None = None,
        title: str | None = None,
        progress: Progress | None = None,
    ) -> SourceRecord:
        def parse() -> ParsedSource:
            return video_source_from_subtitles(data, filename=filename, url=url, title=title)

        return await self._ingest(chat_id, parse, progress)

    async def add_file(
        self,
        chat_id: int,
        data: bytes,
        *,
        filename: str | None = None,
        password: str | None = None,
        url: str | None = None,
        title: str | None = None,
        lang: str | None = None,
        progress: Progress | None = None,
    ) -> SourceRecord:
        """Route a file by its content first, then by its name: a PDF, a subtitle file or a
        recording (``ingest.routing.route_file``)."""
        kind = route_file(filename, head=data[:64])
        if kind == "pdf":
            return await self.add_pdf(
                chat_id, data, filename=filename, password=password, progress=progress
            )
        if kind == "subtitles":
            return await self.add_subtitles(
                chat_id, data, filename=filename, url=url, title=title, progress=progress
            )
        if kind == "media":
            with self.scratch() as folder:
                path = folder / f"recording{Path(filename or '').suffix or '.bin'}"
                await asyncio.to_thread(path.write_bytes, data)
                return await self.add_media(
                    chat_id, path, filename=filename, title=title, lang=lang, progress=progress
                )
        raise UnsupportedFileError(
            "这种文件我读不了。请发送论文 PDF、讲座的视频/音频文件，"
            "或视频的字幕文件（.srt / .vtt / .json / .txt）。",
            "I can't read this kind of file. Send the paper as a PDF, the lecture as a video or "
            "audio file, or the video's subtitle file (.srt / .vtt / .json / .txt).",
        )

    async def sources(self, chat_id: int) -> list[SourceRecord]:
        return await self.run_blocking(lambda: self._store.sources(chat_id))

    async def forget(self, chat_id: int, source_id: str) -> None:
        await self.run_blocking(lambda: self._store.forget(chat_id, source_id))

    async def reset(self, chat_id: int) -> None:
        """Remove everything of this chat: sources, chunks, notes, history."""
        await self.run_blocking(lambda: self._store.reset_chat(chat_id))
