"""The student's sources: ingesting papers and videos into the chat's store, listing, forgetting.

Videos (links and recordings) are read by ``ingest.video.lecture.LectureReader``: captions when the
platform has them, otherwise speech recognition (in child processes of its own).

Reading a source (PDF parsing, a lecture's captions or recognition) blocks, so it runs in small
pools of the Library's own (lectures, which can take an hour, in a pool apart: they never hold the
threads papers are read in); indexing it runs in the store's indexing threads
(``AsyncKnowledgeStore``), so a slow ingestion never holds the threads other chats' questions need.
A PDF is parsed in a child process that its thread waits for: MuPDF holds the GIL for a whole page
(seconds for an OCR page), which would freeze every chat. One ingestion at a time per chat: a second
one waits its turn (``is_busy`` tells the caller it will wait). Progress callbacks are called from
worker threads; front doors marshal them to their loop. With ``files``, a paper's PDF and its
figures are kept beside the index (written before the source becomes ready, removed with it).

Every source, whatever reads it, passes through ``_ingest``, where it gets its bilingual term
list (``bot.glossary``): the terms its text defines at once, and the model's list, asked for
alongside indexing, merged in when it comes (a model that is down never fails an ingestion).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from bot.glossary import Glossary
from ingest.paper.pdf_process import parse_pdf_isolated
from ingest.routing import route_file
from ingest.terms import text_terms
from ingest.video.lecture import LectureReader
from ingest.video.transcript import check_segments, video_source_from_subtitles
from kernel.errors import CancelledByStudentError, UnsupportedFileError, UnsupportedLinkError
from kernel.links import web_url
from kernel.models import ParsedSource, SourceKind, SourceRecord, Term
from storage.async_store import AsyncKnowledgeStore
from storage.kept_reports import KeptReports
from storage.paper_files import PaperFiles
from storage.store import source_id_for

__all__ = ["Library", "PdfLimits", "Progress", "SubtitleLimits"]

T = TypeVar("T")

Progress = Callable[[str, int, int], None]
"""``progress(stage, done, total)``; stage is "parsing", "reading", "fetching" or "indexing"."""


@dataclass(frozen=True)
class PdfLimits:
    max_bytes: int = 50 * 2**20
    max_pages: int = 300
    ocr: bool = True
    ocr_languages: str = "chi_sim+eng"


@dataclass(frozen=True)
class SubtitleLimits:
    """Bounds on a transcript: the subtitle file's size, and the chunks of any transcript
    (~82 per hour of lecture), which bound the indexing time."""

    max_bytes: int = 5 * 2**20
    max_segments: int = 2000


class Library:
    """Adds, lists and removes the sources of each chat."""

    def __init__(
        self,
        store: AsyncKnowledgeStore,
        *,
        pdf_limits: PdfLimits,
        lectures: LectureReader,
        read_concurrency: int = 2,
        files: PaperFiles | None = None,
        glossary: Glossary | None = None,
        subtitle_limits: SubtitleLimits | None = None,
        reports: KeptReports | None = None,
    ) -> None:
        """``read_concurrency``: papers and subtitle files being read at once, across chats, and
        as many lectures (in a pool apart); ``glossary``: builds each source's term list with
        the model (None: from the text only); ``reports``: the chat's kept reports, removed
        with the chat."""
        self._store = store
        self._files = files
        self._reports = reports
        self._glossary = glossary or Glossary(None)
        self._terms_pending: set[asyncio.Future[SourceRecord]] = set()
        self._limits = pdf_limits
        self._lectures = lectures
        self._subtitles = subtitle_limits or SubtitleLimits()
        # Threads start on first use and end when the Library is closed.
        self._readers = ThreadPoolExecutor(max(1, read_concurrency), thread_name_prefix="ingest")
        self._listeners = ThreadPoolExecutor(max(1, read_concurrency), thread_name_prefix="lecture")
        self._chat_locks: dict[int, asyncio.Lock] = {}

    async def _read(self, fn: Callable[[], T], pool: ThreadPoolExecutor | None = None) -> T:
        # Like asyncio.to_thread: the call sees the caller's context variables.
        call = functools.partial(contextvars.copy_context().run, fn)
        return await asyncio.get_running_loop().run_in_executor(pool or self._readers, call)

    def close(self) -> None:
        """Stop the worker threads once their current work is done (idle ones end at once),
        and stop waiting for term lists (the sources keep the terms read from their text)."""
        self._readers.shutdown(wait=False, cancel_futures=True)
        self._listeners.shutdown(wait=False, cancel_futures=True)
        for pending in self._terms_pending:
            pending.cancel()

    def is_busy(self, chat_id: int) -> bool:
        """True while an ingestion of this chat runs (a new one would wait its turn)."""
        lock = self._chat_locks.get(chat_id)
        return lock is not None and lock.locked()

    async def _ingest(
        self,
        chat_id: int,
        parse: Callable[[], ParsedSource],
        progress: Progress | None,
        original: bytes | None = None,
        cancel: threading.Event | None = None,
        pool: ThreadPoolExecutor | None = None,
    ) -> SourceRecord:
        lock = self._chat_locks.setdefault(chat_id, asyncio.Lock())
        async with lock:
            if cancel is not None and cancel.is_set():  # stopped while it waited its turn
                raise CancelledByStudentError("cancelled")
            parsed = await self._read(parse, pool)
            if parsed.kind is SourceKind.VIDEO:  # whatever read it: bounded indexing time
                check_segments(len(parsed.chunks), self._subtitles.max_segments)
            files = self._files if original is not None else None
            if files is None or original is None:
                return await self._index(chat_id, parsed, progress)
            sid = source_id_for(chat_id, parsed.fingerprint)
            kept = original
            await self._read(lambda: files.save(chat_id, sid, kept, parsed.figures))
            try:  # ready implies kept: the files are written before the source is ready
                return await self._index(chat_id, parsed, progress)
            except BaseException:
                await self._read(lambda: files.delete_source(chat_id, sid))
                raise

    async def _index(
        self, chat_id: int, parsed: ParsedSource, progress: Progress | None
    ) -> SourceRecord:
        """Index ``parsed`` with its term list: the one read from its text at once; the model's,
        asked for alongside, merged in as soon as both are done. A model still writing when the
        indexing is done does not hold the student's card back: its list is stored when it
        comes (``wait_for_terms``), and questions asked meanwhile use the text's terms."""
        report = None
        if progress is not None:
            report = lambda done, total: progress("indexing", done, total)  # noqa: E731
        found = await self._read(lambda: text_terms(parsed))
        asking = asyncio.ensure_future(self._glossary.model_terms(parsed))
        try:
            with_terms = parsed.model_copy(update={"terms": found})
            record = await self._store.add_source(chat_id, with_terms, report)
        except BaseException:
            asking.cancel()  # indexing failed: the term list is not needed any more
            with contextlib.suppress(asyncio.CancelledError):
                await asking
            raise
        finishing = asyncio.ensure_future(self._store_terms(record, asking, found))
        if asking.done():
            return await finishing
        self._terms_pending.add(finishing)
        finishing.add_done_callback(self._terms_pending.discard)
        return record

    async def _store_terms(
        self,
        record: SourceRecord,
        asking: asyncio.Future[list[Term] | None],
        found: tuple[Term, ...],
    ) -> SourceRecord:
        listed = await asking
        if not listed:
            return record
        terms = Glossary.merged(listed, found)
        return await self._store.set_terms(record.chat_id, record.source_id, terms) or record

    async def wait_for_terms(self) -> None:
        """Wait until every term list still being written by the model is stored."""
        while self._terms_pending:
            await asyncio.wait(list(self._terms_pending))

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

        return await self._ingest(chat_id, parse, progress, original=data)

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

        return await self._ingest(chat_id, parse, progress, cancel=cancel, pool=self._listeners)

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

        return await self._ingest(chat_id, parse, progress, cancel=cancel, pool=self._listeners)

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
        if url is not None and web_url(url) is None:
            raise UnsupportedLinkError("not_web", url=url[:80])
        limits = self._subtitles

        def parse() -> ParsedSource:
            if progress is not None:
                progress("reading", 0, 1)
            return video_source_from_subtitles(
                data,
                filename=filename,
                url=url,
                title=title,
                max_bytes=limits.max_bytes,
                max_segments=limits.max_segments,
            )

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
                await self._read(lambda: path.write_bytes(data))
                return await self.add_media(
                    chat_id, path, filename=filename, title=title, lang=lang, progress=progress
                )
        raise UnsupportedFileError("unknown_kind")

    async def sources(self, chat_id: int) -> list[SourceRecord]:
        return await self._store.sources(chat_id)

    async def forget(self, chat_id: int, source_id: str) -> None:
        await self._store.forget(chat_id, source_id)
        if self._files is not None:
            files = self._files
            await self._read(lambda: files.delete_source(chat_id, source_id))
        if self._reports is not None:  # a report about this paper has lost its paper
            reports = self._reports
            await self._read(lambda: reports.forget(chat_id, source_id))

    async def reset(self, chat_id: int) -> None:
        """Remove everything of this chat: sources, chunks, notes, history, kept files and
        kept reports."""
        await self._store.reset_chat(chat_id)
        if self._files is not None:
            files = self._files
            await self._read(lambda: files.delete_chat(chat_id))
        if self._reports is not None:
            reports = self._reports
            await self._read(lambda: reports.forget(chat_id))
