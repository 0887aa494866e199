"""The student's sources: ingesting papers and videos into the chat's store, listing, forgetting.

Reading a source (PDF parsing, transcript fetching) blocks, so it runs in a small pool of the
Library's own; indexing it runs in the store's indexing threads (``AsyncKnowledgeStore``), so a
slow ingestion never holds the threads other chats' questions need. A PDF is parsed in a child
process that its thread waits for: MuPDF holds the GIL for a whole page (seconds for an OCR
page), which would freeze every chat. One ingestion at a time per chat: a second one waits its
turn (``is_busy`` tells the caller it will wait). Progress callbacks are called from worker
threads; front doors marshal them to their loop.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

import requests

from ingest.pdf_process import parse_pdf_isolated
from ingest.subtitles import looks_like_subtitle_filename
from ingest.transcript import check_segments, video_source_from_subtitles
from ingest.youtube import YouTubeTranscriptFetcher, bilibili_unavailable
from kernel.errors import UnsupportedFileError, UnsupportedLinkError
from kernel.links import VideoLink, parse_video_link, web_url
from kernel.models import ParsedSource, SourceKind, SourceRecord
from storage.async_store import AsyncKnowledgeStore

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
        transcript_languages: Sequence[str],
        youtube_proxy: str | None = None,
        youtube_session_factory: Callable[[], requests.Session] | None = None,
        read_concurrency: int = 2,
        subtitle_limits: SubtitleLimits | None = None,
    ) -> None:
        """``read_concurrency``: sources being read (parsed, fetched) at once, across chats."""
        self._store = store
        self._limits = pdf_limits
        self._subtitles = subtitle_limits or SubtitleLimits()
        self._languages = tuple(transcript_languages)
        self._proxy = youtube_proxy
        self._session_factory = youtube_session_factory
        # Threads start on first use and end when the Library is closed.
        self._readers = ThreadPoolExecutor(max(1, read_concurrency), thread_name_prefix="ingest")
        self._chat_locks: dict[int, asyncio.Lock] = {}

    async def _read(self, fn: Callable[[], T]) -> T:
        # Like asyncio.to_thread: the call sees the caller's context variables.
        call = functools.partial(contextvars.copy_context().run, fn)
        return await asyncio.get_running_loop().run_in_executor(self._readers, call)

    def close(self) -> None:
        """Stop the worker threads once their current work is done (idle ones end at once)."""
        self._readers.shutdown(wait=False, cancel_futures=True)

    def is_busy(self, chat_id: int) -> bool:
        """True while an ingestion of this chat runs (a new one would wait its turn)."""
        lock = self._chat_locks.get(chat_id)
        return lock is not None and lock.locked()

    async def _ingest(
        self, chat_id: int, parse: Callable[[], ParsedSource], progress: Progress | None
    ) -> SourceRecord:
        lock = self._chat_locks.setdefault(chat_id, asyncio.Lock())
        async with lock:
            parsed = await self._read(parse)
            if parsed.kind is SourceKind.VIDEO:  # whatever read it: bounded indexing time
                check_segments(len(parsed.chunks), self._subtitles.max_segments)
            report = None
            if progress is not None:
                report = lambda done, total: progress("indexing", done, total)  # noqa: E731
            return await self._store.add_source(chat_id, parsed, report)

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
        self, chat_id: int, text: str, *, progress: Progress | None = None
    ) -> SourceRecord:
        link = parse_video_link(text)
        if link is None:
            raise UnsupportedLinkError(
                "这不是我能读取的视频链接。"
                "请发送 YouTube 链接，或直接发送字幕文件（.srt / .vtt）。",
                "This is not a video link I can read. Send a YouTube link, or the subtitle file "
                "(.srt / .vtt).",
            )
        return await self._ingest(chat_id, lambda: self._fetch(link, progress), progress)

    def _fetch(self, link: VideoLink, progress: Progress | None) -> ParsedSource:
        if link.platform == "bilibili":
            raise bilibili_unavailable(link)
        if progress is not None:
            progress("fetching", 0, 1)
        fetcher = YouTubeTranscriptFetcher(
            languages=self._languages, proxy=self._proxy, session_factory=self._session_factory
        )
        return fetcher.fetch(link)

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
        progress: Progress | None = None,
    ) -> SourceRecord:
        """Route a file by its content first, then by its name: a PDF or a subtitle file."""
        name = (filename or "").lower()
        if data.lstrip()[:5] == b"%PDF-" or name.endswith(".pdf"):
            return await self.add_pdf(
                chat_id, data, filename=filename, password=password, progress=progress
            )
        if looks_like_subtitle_filename(name) or filename is None:
            return await self.add_subtitles(
                chat_id, data, filename=filename, url=url, title=title, progress=progress
            )
        raise UnsupportedFileError(
            "这种文件我读不了。请发送论文 PDF，或视频的字幕文件（.srt / .vtt / .json / .txt）。",
            "I can't read this kind of file. Send the paper as a PDF, or the video's subtitle "
            "file (.srt / .vtt / .json / .txt).",
        )

    async def sources(self, chat_id: int) -> list[SourceRecord]:
        return await self._store.sources(chat_id)

    async def forget(self, chat_id: int, source_id: str) -> None:
        await self._store.forget(chat_id, source_id)

    async def reset(self, chat_id: int) -> None:
        """Remove everything of this chat: sources, chunks, notes, history."""
        await self._store.reset_chat(chat_id)
