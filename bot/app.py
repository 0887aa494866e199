"""The composition root: settings -> adapters -> services.

Nothing else constructs adapters. Both front doors (the Telegram bot and the CLI) call
``build_services`` once and close the result at shutdown.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path

import requests
from pydantic import SecretStr

from bot.answering import Answerer
from bot.library import Library, PdfLimits
from bot.listening import Listener
from bot.llm import ChatModel, OpenAIChatModel, OpenAITranscriptionEndpoint
from bot.ops import check_qdrant_server, whisper_spec
from bot.report.builder import ReportBuilder
from bot.services import Services
from bot.settings import ASRSettings, EmbeddingSettings, Settings, StorageSettings
from ingest.asr_process import LocalSpeechRecognizer
from ingest.downloader import Extract, MediaDownloader
from ingest.lecture import LectureReader
from ingest.speech import RemoteSpeechRecognizer, SpeechRecognizer
from ingest.transcript_cache import TranscriptCache
from ingest.youtube import YouTubeTranscriptFetcher
from kernel.errors import ConfigError, StoreUnavailableError
from kernel.links import VideoLink
from kernel.models import ParsedSource
from storage.embedder import Embedder, FastEmbedEmbedder
from storage.http_embedder import HttpEmbedder
from storage.index import QdrantIndex
from storage.store import KnowledgeStore

__all__ = [
    "build_embedder",
    "build_index",
    "build_lectures",
    "build_recognizer",
    "build_services",
    "configure_logging",
    "storage_at",
    "wait_for_qdrant",
]

log = logging.getLogger(__name__)


def configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # httpx logs every request URL at INFO, and Bot API URLs contain the token.
    for noisy in ("httpx", "httpx2", "httpcore", "httpcore2"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def build_embedder(cfg: EmbeddingSettings) -> Embedder:
    if cfg.url:
        return HttpEmbedder(
            cfg.url,
            cfg.model,
            api_key=cfg.api_key.get_secret_value() if cfg.api_key else None,
            query_prefix=cfg.query_prefix,
            passage_prefix=cfg.passage_prefix,
            batch_size=cfg.batch_size,
        )
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
        endpoint = OpenAITranscriptionEndpoint(
            cfg.url,
            cfg.api_key.get_secret_value() if cfg.api_key else None,
            cfg.model or REMOTE_ASR_DEFAULT_MODEL,
            timeout_s=cfg.timeout_s,
        )
        return RemoteSpeechRecognizer(endpoint)
    return LocalSpeechRecognizer(whisper_spec(cfg))


def build_lectures(
    settings: Settings,
    recognizer: SpeechRecognizer,
    *,
    youtube_session_factory: Callable[[], requests.Session] | None = None,
    extract: Extract | None = None,
) -> LectureReader:
    """Links and recordings -> video sources (captions first, else ``recognizer``)."""
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


def wait_for_qdrant(url: str, api_key: str | None, wait_s: float) -> None:
    """Wait up to ``wait_s`` for the server (it may still be starting, e.g. under compose)."""
    deadline = time.monotonic() + wait_s
    while True:
        try:
            check_qdrant_server(url, api_key)
            return
        except StoreUnavailableError:
            if time.monotonic() >= deadline:
                raise
            log.warning("Qdrant at %s is not reachable yet; waiting…", url)
            time.sleep(min(2.0, max(0.0, deadline - time.monotonic())))


def build_index(cfg: StorageSettings) -> QdrantIndex:
    api_key = cfg.qdrant_api_key.get_secret_value() if cfg.qdrant_api_key else None
    if cfg.qdrant_url:
        # Fail at start-up with a message naming the setting, not on a student's first question.
        wait_for_qdrant(cfg.qdrant_url, api_key, cfg.qdrant_wait_s)
    return QdrantIndex(
        path=None if cfg.qdrant_url else cfg.qdrant_path,
        url=cfg.qdrant_url,
        api_key=api_key,
        prefix=cfg.collection_prefix,
    )


def build_services(
    settings: Settings,
    *,
    chat_model: ChatModel | None = None,
    embedder: Embedder | None = None,
    youtube_session_factory: Callable[[], requests.Session] | None = None,
    recognizer: SpeechRecognizer | None = None,
    extract: Extract | None = None,
) -> Services:
    """Build every adapter and service from ``settings``; tests may pass their own adapters
    (``extract``: recorded video-site metadata instead of yt-dlp's network extractors)."""
    owns_embedder = embedder is None
    embedder = embedder or build_embedder(settings.embedding)
    index = build_index(settings.storage)
    store = KnowledgeStore(index, embedder, batch_size=settings.embedding.batch_size)
    query_model: ChatModel | None = None
    if chat_model is None:
        llm = settings.llm
        chat_model = OpenAIChatModel(
            base_url=llm.base_url,
            api_key=llm.api_key.get_secret_value() if llm.api_key else None,
            model=llm.model,
            timeout_s=llm.timeout_s,
            max_retries=llm.max_retries,
            temperature=llm.temperature,
        )
        if llm.query_model and llm.query_model != llm.model:
            # The query rewrite is on the critical path of follow-ups and cross-lingual
            # questions: a faster model there shortens the wait before the answer starts.
            query_model = chat_model.for_model(llm.query_model)
    ing = settings.ingest
    owns_recognizer = recognizer is None
    recognizer = recognizer or build_recognizer(settings.asr)
    lectures = build_lectures(
        settings, recognizer, youtube_session_factory=youtube_session_factory, extract=extract
    )
    library = Library(
        store,
        pdf_limits=PdfLimits(
            max_bytes=int(ing.max_file_mb * 2**20),
            max_pages=ing.max_pages,
            ocr=ing.ocr,
            ocr_languages=ing.ocr_languages,
        ),
        lectures=lectures,
        concurrency=settings.telegram.concurrency,
    )
    answerer = Answerer(
        store, chat_model, query_model=query_model, run_blocking=library.run_blocking
    )
    rep = settings.report
    reports = ReportBuilder(
        store,
        chat_model,
        min_chars=rep.min_chars,
        max_chars=rep.max_chars,
        max_revisions=rep.max_revisions,
        run_blocking=library.run_blocking,
    )
    return Services(
        store=store,
        library=library,
        answerer=answerer,
        reports=reports,
        chat_model=chat_model,
        listener=Listener(lectures, max_seconds=ing.voice_max_seconds),
        owns_embedder=owns_embedder,
        on_close=[recognizer.close] if owns_recognizer else [],
    )


def storage_at(cfg: StorageSettings, target: str, api_key: str | None = None) -> StorageSettings:
    """``cfg`` pointed at another store (``papertutor migrate --to``): an http(s) URL is a
    Qdrant server, anything else another data directory (its embedded store is ``qdrant/``)."""
    if target.startswith(("http://", "https://")):
        key = SecretStr(api_key) if api_key else None
        return cfg.model_copy(update={"qdrant_url": target, "qdrant_api_key": key})
    return cfg.model_copy(
        update={"data_dir": Path(target), "qdrant_url": None, "qdrant_api_key": None}
    )
