"""Hand-written stand-ins for the services, for handler tests (the end-to-end test uses the
real ones). Each keeps what it was asked and answers from a script, like the real service.
"""

from __future__ import annotations

import asyncio
import tempfile
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from bot.answering import Answer, AnswerEvent, Draft, Final
from bot.markup.formula_image import FormulaRenderer
from bot.report import Report, ReportSection, report_filename
from bot.report.files import report_file
from bot.report.models import ReportProgress
from bot.services import Services
from kernel.errors import CancelledByStudentError, MediaTooLongError, VideoMissingError
from kernel.models import (
    Citation,
    Note,
    PaperMeta,
    SourceKind,
    SourceRecord,
    SourceStatus,
    VideoMeta,
)
from storage.recovery import Recovery

T = TypeVar("T")
NOW = datetime(2026, 1, 1, tzinfo=UTC)


def paper_record(chat_id: int = 1001, **meta: Any) -> SourceRecord:
    paper = PaperMeta(
        **{
            "title": "BERT: Pre-training of Deep Bidirectional Transformers",
            "authors": ("Jacob Devlin", "Ming-Wei Chang"),
            "venue": "NAACL",
            "year": 2019,
            "link": "https://arxiv.org/abs/1810.04805",
            "pages": 16,
            **meta,
        }
    )
    return SourceRecord(
        chat_id=chat_id,
        source_id="src-paper-1",
        kind=SourceKind.PAPER,
        status=SourceStatus.READY,
        title=paper.title or "paper",
        paper=paper,
        chunks=42,
        warnings=("第 3 页没有文字层（可能是扫描页）",),
        created_at=NOW,
        updated_at=NOW,
    )


def video_record(chat_id: int = 1001, url: str | None = None) -> SourceRecord:
    video = VideoMeta(
        title="Attention lecture", url=url, language="en", duration_s=754.0, platform="youtube"
    )
    return SourceRecord(
        chat_id=chat_id,
        source_id="src-video-1",
        kind=SourceKind.VIDEO,
        status=SourceStatus.READY,
        title=video.title,
        video=video,
        chunks=12,
        created_at=NOW,
        updated_at=NOW,
    )


class FakeStore:
    embedder_loaded = False

    def __init__(self, recovery: Recovery | None = None) -> None:
        self.recovered = 0
        self.recovery = recovery or Recovery()

    async def recover(self) -> Recovery:
        self.recovered += 1
        return self.recovery

    async def drain(self) -> None:
        return None

    def close(self) -> None:
        return None


@dataclass
class FakeLibrary:
    """Scripted ``Library``: ``results`` are returned or raised in order per method."""

    results: dict[str, list[Any]] = field(default_factory=dict)
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    stages: list[tuple[str, int, int]] = field(default_factory=lambda: [("parsing", 1, 3)])
    busy: bool = False
    gate: asyncio.Event | None = None
    source_list: list[SourceRecord] = field(default_factory=list)
    forgotten: list[str] = field(default_factory=list)
    resets: list[int] = field(default_factory=list)
    max_seconds: float | None = None

    def is_busy(self, chat_id: int) -> bool:
        return self.busy

    async def _do(self, name: str, progress: Any, **kwargs: Any) -> SourceRecord:
        self.calls.append((name, kwargs))
        if progress is not None:  # like the real one: progress comes from a worker thread
            stages = list(self.stages)
            thread = threading.Thread(target=lambda: [progress(*s) for s in stages])
            thread.start()
            await asyncio.to_thread(thread.join)
            await asyncio.sleep(0.05)  # the work after the last report (indexing...) takes time
        cancel = kwargs.get("cancel")
        while self.gate is not None and not self.gate.is_set():
            if cancel is not None and cancel.is_set():  # like the real one: the stop button
                raise CancelledByStudentError("cancelled")
            await asyncio.sleep(0.01)
        result = self.results[name].pop(0)
        if isinstance(result, BaseException):
            raise result
        assert isinstance(result, SourceRecord)
        return result

    async def add_pdf(self, chat_id: int, data: bytes, *, progress: Any = None, **kw: Any) -> Any:
        return await self._do("add_pdf", progress, chat_id=chat_id, data=data, **kw)

    async def add_video_link(
        self, chat_id: int, text: str, *, progress: Any = None, **kw: Any
    ) -> Any:
        return await self._do("add_video_link", progress, chat_id=chat_id, text=text, **kw)

    async def add_media(self, chat_id: int, path: Path, *, progress: Any = None, **kw: Any) -> Any:
        # What the real one reads: the downloaded file, while it exists.
        kw["data"] = await asyncio.to_thread(path.read_bytes)
        return await self._do("add_media", progress, chat_id=chat_id, **kw)

    @contextmanager
    def scratch(self) -> Iterator[Path]:
        with tempfile.TemporaryDirectory(prefix="fake-scratch-") as folder:
            yield Path(folder)

    def check_media_length(self, seconds: float | None) -> None:
        if self.max_seconds is not None and seconds is not None and seconds > self.max_seconds:
            raise MediaTooLongError(
                "too_long", minutes=int(seconds // 60), limit=int(self.max_seconds // 60)
            )

    async def add_subtitles(
        self, chat_id: int, data: bytes, *, progress: Any = None, **kw: Any
    ) -> Any:
        return await self._do("add_subtitles", progress, chat_id=chat_id, data=data, **kw)

    async def sources(self, chat_id: int) -> list[SourceRecord]:
        return [s for s in self.source_list if s.chat_id == chat_id]

    async def forget(self, chat_id: int, source_id: str) -> None:
        self.forgotten.append(source_id)
        self.source_list = [s for s in self.source_list if s.source_id != source_id]

    async def reset(self, chat_id: int) -> None:
        self.resets.append(chat_id)
        self.source_list = [s for s in self.source_list if s.chat_id != chat_id]


@dataclass
class FakeListener:
    """Scripted ``Listener``: each voice message is heard as the next of ``texts``."""

    texts: list[str | BaseException] = field(default_factory=list)
    max_seconds: float = 180.0
    heard: list[dict[str, Any]] = field(default_factory=list)

    async def hear(self, path: Path, *, lang: str | None = None) -> str:
        data = await asyncio.to_thread(path.read_bytes)
        self.heard.append({"data": data, "lang": lang, "suffix": path.suffix})
        result = self.texts.pop(0)
        if isinstance(result, BaseException):
            raise result
        return result

    def close(self) -> None:
        return None


def citation(n: int = 1, **kw: Any) -> Citation:
    values: dict[str, Any] = {
        "n": n,
        "source_id": "src-paper-1",
        "kind": SourceKind.PAPER,
        "title": "BERT",
        "snippet": "We introduce BERT <Bidirectional> & more.",
        "page": 3,
    }
    values.update(kw)
    return Citation(**values)


@dataclass
class FakeAnswerer:
    """Scripted ``Answerer``: streams ``deltas`` as drafts, then the queued ``Answer``."""

    answers: list[Answer | BaseException] = field(default_factory=list)
    deltas: list[str] = field(default_factory=lambda: ["Transformer 是", "一种模型 [1]"])
    asked: list[dict[str, Any]] = field(default_factory=list)
    saved: list[Answer] = field(default_factory=list)  # like Answerer: saved before Final
    note_list: list[Note] = field(default_factory=list)

    async def answer(
        self, chat_id: int, question: str, *, lang: str | None = None, mode: str | None = None
    ) -> AsyncIterator[AnswerEvent]:
        self.asked.append({"chat_id": chat_id, "question": question, "lang": lang, "mode": mode})
        for piece in self.deltas:
            yield Draft(piece)
        result = self.answers.pop(0)
        if isinstance(result, BaseException):
            raise result
        self.saved.append(result)
        yield Final(result)

    async def notes(self, chat_id: int) -> list[Note]:
        return [n for n in self.note_list if n.chat_id == chat_id]

    async def remove_note(self, chat_id: int, note_id: str) -> bool:
        before = len(self.note_list)
        self.note_list = [n for n in self.note_list if (n.chat_id, n.note_id) != (chat_id, note_id)]
        return len(self.note_list) < before

    async def note(self, chat_id: int, note_id: str) -> Note | None:
        return next((n for n in await self.notes(chat_id) if n.note_id == note_id), None)

    async def star_note(self, chat_id: int, note_id: str, starred: bool) -> Note | None:
        note = await self.note(chat_id, note_id)
        if note is None:
            return None
        note = note.model_copy(update={"starred": starred})
        self.note_list = [note if n.note_id == note_id else n for n in self.note_list]
        return note


def answer(text: str = "Transformer 是一种模型 [1]。", **kw: Any) -> Answer:
    values: dict[str, Any] = {
        "question": "什么是 Transformer？",
        "answer": text,
        "grounded": True,
        "flagged": False,
        "citations": (citation(),),
        "note_id": "note-1",
        "lang": "zh",
        "queries": (),
    }
    values.update(kw)
    return Answer(**values)


def report(video: bool = True, *, reused: bool = False) -> Report:
    """A finished report (``reused``: kept whole from before, so sent as a file at once)."""
    return Report(
        title="大模型技术论文阅读报告",
        sections=(ReportSection("（1）论文基本信息", "正文", 10),),
        sources=("[1] BERT p.3",),
        chars=2345,
        citations=17,
        video_included=video,
        notes_used=3,
        paper_title="BERT: Pre-training",
        reused=reused,
    )


@dataclass
class FakeReports:
    """Builds return ``results`` in turn (a ``Report`` or an error to raise)."""

    results: list[Report | BaseException] = field(default_factory=list)
    builds: list[bool] = field(default_factory=list)
    papers: list[str | None] = field(default_factory=list)  # the paper_id of each build
    sections: list[int | None] = field(default_factory=list)  # the section= of each build
    authors: list[str] = field(default_factory=list)  # the author= of each rendered file

    async def build(
        self,
        chat_id: int,
        *,
        allow_no_video: bool = False,
        paper_id: str | None = None,
        progress: Callable[[ReportProgress], Awaitable[None]] | None = None,
        section: int | None = None,
        fresh: bool = False,
    ) -> Report:
        self.builds.append(allow_no_video)
        self.papers.append(paper_id)
        self.sections.append(section)
        result = self.results.pop(0)
        if isinstance(result, VideoMissingError) and allow_no_video:
            result = self.results.pop(0)
        if isinstance(result, BaseException):
            raise result
        done: list[tuple[int, float | None]] = [(0, 0.0)]
        for n in (1, 2, 3, None):
            if progress is not None:
                await progress(ReportProgress(n, tuple(done)))
            await asyncio.sleep(0.02)  # writing a section takes a while
            if n is not None:
                done.append((n, 12.0))
        return result

    async def render(self, report: Report, fmt: str, *, author: str = "") -> tuple[bytes, str]:
        # The real files: rendering is not what these fakes stand in for.
        self.authors.append(author)
        data = await asyncio.to_thread(report_file, report, fmt, author)
        return data, report_filename(report, fmt)


class NoPages:
    """A ``PageViewer`` for chats whose papers have no figures (tests of other features)."""

    async def figures(self, chat_id: int) -> list[Any]:
        return []

    async def for_answer(self, chat_id: int, citations: Any, answer: str = "") -> list[Any]:
        return []

    def close(self) -> None:
        return None


@dataclass
class FakeNextSteps:
    """Scripted ``NextSteps``: the same follow-up questions under every answer."""

    steps: list[str] = field(default_factory=list)
    asked: list[Answer] = field(default_factory=list)

    async def suggest(self, chat_id: int, answer: Answer) -> list[str]:
        self.asked.append(answer)
        return list(self.steps)


def services(
    library: FakeLibrary | None = None,
    answerer: FakeAnswerer | None = None,
    reports: FakeReports | None = None,
    pages: Any = None,
    next_steps: FakeNextSteps | None = None,
    listener: FakeListener | None = None,
    store: FakeStore | None = None,
) -> Services:
    """Scripted services; the quiz and glossary features are tested with the real ones."""
    return Services(
        store=store or FakeStore(),  # type: ignore[arg-type]
        library=library or FakeLibrary(),  # type: ignore[arg-type]
        answerer=answerer or FakeAnswerer(),  # type: ignore[arg-type]
        reports=reports or FakeReports(),  # type: ignore[arg-type]
        chat_model=None,  # type: ignore[arg-type]
        formulas=FormulaRenderer(),
        pages=pages or NoPages(),
        next_steps=next_steps or FakeNextSteps(),  # type: ignore[arg-type]
        quizzes=None,
        glossary=None,
        listener=listener or FakeListener(),  # type: ignore[arg-type]
    )


def transcribed_record(chat_id: int = 1001, **meta: Any) -> SourceRecord:
    """A lecture the bot recognised itself (no captions)."""
    video = VideoMeta(
        **{
            "title": "大模型技术讲座",
            "url": "https://www.bilibili.com/video/BV1GJ411x7h7",
            "platform": "bilibili",
            "language": "zh",
            "duration_s": 3480.0,
            "transcribed": True,
            "asr_model": "faster-whisper small",
            "uploader": "王老师",
            **meta,
        }
    )
    return SourceRecord(
        chat_id=chat_id,
        source_id="src-video-2",
        kind=SourceKind.VIDEO,
        status=SourceStatus.READY,
        title=video.title,
        video=video,
        chunks=40,
        warnings=("这份文字稿是语音识别自动生成的（没有可用的字幕），个别词句可能听错。",),
        created_at=NOW,
        updated_at=NOW,
    )
