"""The composition root: settings -> adapters -> services.

Nothing else constructs adapters. Both front doors (the Telegram bot and the CLI) call
``build_services`` once and close the result at shutdown.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, cast

from pydantic import SecretStr

from bot.services import Services
from bot.settings import ASRSettings, EmbeddingSettings, Settings, StorageSettings
from kernel.errors import ConfigError
from kernel.links import VideoLink
from kernel.models import ParsedSource

if TYPE_CHECKING:  # the builders import what they make, so a command loads only what it uses
    import requests

    from bot.answering import Answerer
    from bot.library import Library
    from bot.listening import Listener
    from bot.llm import ChatModel
    from bot.markup.formula_image import FormulaRenderer
    from bot.pages import PageViewer
    from bot.report.builder import ReportBuilder
    from bot.study import GlossaryBuilder, NextSteps, Quizzer
    from bot.support import SupportScorer
    from ingest.video.downloader import Extract
    from ingest.video.lecture import LectureReader
    from ingest.video.speech import SpeechRecognizer
    from storage.async_store import AsyncKnowledgeStore
    from storage.embedding.embedder import Embedder
    from storage.kept_reports import KeptReports
    from storage.paper_files import PaperFiles
    from storage.qdrant.index import QdrantIndex

__all__ = [
    "build_embedder",
    "build_index",
    "build_lectures",
    "build_recognizer",
    "build_services",
    "storage_at",
]


def build_embedder(cfg: EmbeddingSettings) -> Embedder:
    if cfg.url:
        from storage.embedding.http_embedder import HttpEmbedder

        return HttpEmbedder(
            cfg.url,
            cfg.model,
            api_key=cfg.api_key.get_secret_value() if cfg.api_key else None,
            query_prefix=cfg.query_prefix,
            passage_prefix=cfg.passage_prefix,
            batch_size=cfg.batch_size,
        )
    from storage.embedding.embedder import FastEmbedEmbedder

    return FastEmbedEmbedder(
        cfg.model,
        model_path=cfg.model_path,
        cache_dir=cfg.cache_dir,
        threads=cfg.threads,
        batch_size=cfg.batch_size,
    )


REMOTE_ASR_DEFAULT_MODEL = "whisper-1"


def build_recognizer(cfg: ASRSettings) -> SpeechRecognizer:
    """The transcription endpoint when ``PAPERTUTOR_ASR_URL`` is set, else local faster-whisper."""
    if cfg.url:
        from bot.llm import OpenAITranscriptionEndpoint
        from ingest.video.speech import RemoteSpeechRecognizer

        endpoint = OpenAITranscriptionEndpoint(
            cfg.url,
            cfg.api_key.get_secret_value() if cfg.api_key else None,
            cfg.model or REMOTE_ASR_DEFAULT_MODEL,
            timeout_s=cfg.timeout_s,
        )
        return RemoteSpeechRecognizer(endpoint)
    from bot.ops import whisper_spec
    from ingest.video.asr_process import LocalSpeechRecognizer

    return LocalSpeechRecognizer(whisper_spec(cfg))


def build_lectures(
    settings: Settings,
    recognizer: SpeechRecognizer,
    *,
    youtube_session_factory: Callable[[], requests.Session] | None = None,
    extract: Extract | None = None,
) -> LectureReader:
    """Links and recordings -> video sources (captions first, else ``recognizer``)."""
    from ingest.video.downloader import MediaDownloader
    from ingest.video.lecture import LectureReader
    from ingest.video.transcript_cache import TranscriptCache
    from ingest.video.youtube import YouTubeTranscriptFetcher

    ing = settings.ingest
    if ing.cookies_file is not None and not ing.cookies_file.is_file():
        raise ConfigError(
            f"PAPERTUTOR_COOKIES_FILE={ing.cookies_file} 不存在。请检查路径，或删掉这个设置。",
            f"PAPERTUTOR_COOKIES_FILE={ing.cookies_file} does not exist. Check the path, or "
            "unset it.",
        )

    def youtube(link: VideoLink) -> ParsedSource:
        fetcher = YouTubeTranscriptFetcher(
            languages=ing.transcript_languages,
            proxy=ing.youtube_proxy,
            session_factory=youtube_session_factory,
        )
        return fetcher.fetch(link)

    data = settings.storage.data_dir
    return LectureReader(
        downloader=MediaDownloader(
            proxy=ing.youtube_proxy, cookies_file=ing.cookies_file, extract=extract
        ),
        recognizer=recognizer,
        cache=TranscriptCache(data / "transcripts"),
        work_dir=data / "tmp",
        languages=ing.transcript_languages,
        max_seconds=ing.max_media_minutes * 60,
        youtube=youtube,
    )


def build_index(cfg: StorageSettings) -> QdrantIndex:
    from bot.ops import check_data_dir, wait_for_qdrant
    from storage.qdrant.index import QdrantIndex

    api_key = cfg.qdrant_api_key.get_secret_value() if cfg.qdrant_api_key else None
    if cfg.qdrant_url:
        # Fail at start-up with a message naming the setting, not on a student's first question.
        wait_for_qdrant(cfg.qdrant_url, api_key, cfg.qdrant_wait_s)
    else:
        check_data_dir(cfg.data_dir)  # not writable: a sentence naming the setting
    return QdrantIndex(
        path=None if cfg.qdrant_url else cfg.qdrant_path,
        url=cfg.qdrant_url,
        api_key=api_key,
        prefix=cfg.collection_prefix,
    )


class _Makers:
    """How each service of ``build_services`` is made (each method makes one, on first use);
    the adapters given replace the configured ones."""

    def __init__(
        self,
        settings: Settings,
        *,
        chat_model: ChatModel | None,
        embedder: Embedder | None,
        youtube_session_factory: Callable[[], requests.Session] | None,
        recognizer: SpeechRecognizer | None,
        extract: Extract | None,
    ) -> None:
        self.settings = settings
        self.chat_model = chat_model
        self.embedder = embedder
        self.youtube_session_factory = youtube_session_factory
        self.recognizer = recognizer
        self.extract = extract
        self.services = Services(
            makers={  # the store first: a data directory in use is said before any model loads
                "store": self.make_store,
                "formulas": self.make_formulas,
                "pages": self.make_pages,
                "listener": self.make_listener,
                "chat_model": self.make_chat_model,
                "library": self.make_library,
                "answerer": self.make_answerer,
                "reports": self.make_reports,
                "quizzes": self.make_quizzes,
                "glossary": self.make_glossary,
                "next_steps": self.make_next_steps,
            },
            owns_embedder=embedder is None,
        )

    @functools.cached_property
    def paper_files(self) -> PaperFiles:
        from storage.paper_files import PaperFiles

        return PaperFiles(self.settings.storage.papers_path)

    @functools.cached_property
    def kept_reports(self) -> KeptReports:
        from storage.kept_reports import KeptReports

        return KeptReports(self.settings.storage.data_dir / "reports")

    @functools.cached_property
    def lectures(self) -> LectureReader:
        speech = self.recognizer
        if speech is None:
            speech = build_recognizer(self.settings.asr)
            self.services.on_close(speech.close)
        return build_lectures(
            self.settings,
            speech,
            youtube_session_factory=self.youtube_session_factory,
            extract=self.extract,
        )

    @functools.cached_property
    def support(self) -> SupportScorer:
        """One citation support scorer for answers and reports (its snippet cache is shared);
        made with the store's embedder, so it loads the model."""
        from bot.support import SupportScorer

        return SupportScorer(self.services.store.embedder)

    @functools.cached_property
    def query_model(self) -> ChatModel | None:
        """A faster model on the same endpoint, if one is set, for the query rewrite (on the
        critical path of the questions the code cannot search at once) and term lists."""
        llm = self.settings.llm
        for_model = getattr(self.services.chat_model, "for_model", None)
        if llm.query_model and llm.query_model != llm.model and for_model is not None:
            return cast("ChatModel", for_model(llm.query_model))
        return None

    def make_store(self) -> AsyncKnowledgeStore:
        from storage.async_store import AsyncKnowledgeStore
        from storage.store import KnowledgeStore

        settings = self.settings
        model: Embedder | Callable[[], Embedder] = self.embedder or (
            lambda: build_embedder(settings.embedding)
        )
        core = KnowledgeStore(
            build_index(settings.storage), model, batch_size=settings.embedding.batch_size
        )
        return AsyncKnowledgeStore(core, threads=settings.telegram.concurrency)

    def make_chat_model(self) -> ChatModel:
        if self.chat_model is not None:
            return self.chat_model
        from bot.llm import OpenAIChatModel

        llm = self.settings.llm
        return OpenAIChatModel(
            base_url=llm.base_url,
            api_key=llm.api_key.get_secret_value() if llm.api_key else None,
            model=llm.model,
            timeout_s=llm.timeout_s,
            max_retries=llm.max_retries,
            retry_budget_s=llm.retry_budget_s,
            temperature=llm.temperature,
        )

    def make_listener(self) -> Listener:
        from bot.listening import Listener

        return Listener(self.lectures, max_seconds=self.settings.ingest.voice_max_seconds)

    def make_library(self) -> Library:
        from bot.glossary import Glossary
        from bot.library import Library, PdfLimits, SubtitleLimits

        ing = self.settings.ingest
        return Library(
            self.services.store,
            pdf_limits=PdfLimits(
                max_bytes=int(ing.max_file_mb * 2**20),
                max_pages=ing.max_pages,
                ocr=ing.ocr,
                ocr_languages=ing.ocr_languages,
            ),
            lectures=self.lectures,
            subtitle_limits=SubtitleLimits(
                max_bytes=int(ing.max_subtitle_mb * 2**20), max_segments=ing.max_segments
            ),
            files=self.paper_files,
            reports=self.kept_reports,
            # One model call per source for its term list: it runs alongside indexing, and
            # questions are searched with its terms.
            glossary=Glossary(
                self.query_model or self.services.chat_model,
                timeout_s=self.settings.llm.timeout_s,
            ),
        )

    def make_pages(self) -> PageViewer:
        from bot.pages import PageViewer

        return PageViewer(self.services.store, self.paper_files)

    def make_answerer(self) -> Answerer:
        from bot.answering import Answerer

        return Answerer(
            self.services.store,
            self.services.chat_model,
            query_model=self.query_model,
            support=self.support,
        )

    def make_reports(self) -> ReportBuilder:
        from bot.report.builder import ReportBuilder
        from bot.report.figures import add_key_figures

        rep = self.settings.report
        return ReportBuilder(
            self.services.store,
            self.services.chat_model,
            min_chars=rep.min_chars,
            max_chars=rep.max_chars,
            max_revisions=rep.max_revisions,
            figures=functools.partial(add_key_figures, self.services.pages),
            support=self.support,
            kept=self.kept_reports,
        )

    @staticmethod
    def make_formulas() -> FormulaRenderer:
        from bot.markup.formula_image import FormulaRenderer

        return FormulaRenderer()

    def make_quizzes(self) -> Quizzer:
        from bot.study import Quizzer

        return Quizzer(self.services.store, self.services.chat_model)

    def make_glossary(self) -> GlossaryBuilder:
        from bot.study import GlossaryBuilder

        return GlossaryBuilder(self.services.store, self.services.chat_model)

    def make_next_steps(self) -> NextSteps:
        from bot.study import NextSteps

        return NextSteps(self.services.store)


def build_services(
    settings: Settings,
    *,
    chat_model: ChatModel | None = None,
    embedder: Embedder | None = None,
    youtube_session_factory: Callable[[], requests.Session] | None = None,
    recognizer: SpeechRecognizer | None = None,
    extract: Extract | None = None,
    lazy: bool = False,
) -> Services:
    """Every adapter and service from ``settings``; tests may pass their own adapters
    (``extract``: recorded video-site metadata instead of yt-dlp's network extractors).

    With ``lazy`` each service is made when first used (a CLI command builds only what it
    needs); otherwise all are made now, embedding model included.
    """
    services = _Makers(
        settings,
        chat_model=chat_model,
        embedder=embedder,
        youtube_session_factory=youtube_session_factory,
        recognizer=recognizer,
        extract=extract,
    ).services
    if not lazy:
        services.build_all()
        _ = services.store.embedder  # load the model (and check it against the store) now
    return services


def storage_at(cfg: StorageSettings, target: str, api_key: str | None = None) -> StorageSettings:
    """``cfg`` pointed at another store (``papertutor migrate --to``): an http(s) URL is a
    Qdrant server, anything else another data directory (its embedded store is ``qdrant/``)."""
    if target.startswith(("http://", "https://")):
        key = SecretStr(api_key) if api_key else None
        return cfg.model_copy(update={"qdrant_url": target, "qdrant_api_key": key})
    return cfg.model_copy(
        update={"data_dir": Path(target), "qdrant_url": None, "qdrant_api_key": None}
    )
