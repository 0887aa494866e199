"""The composition root: settings -> adapters -> services.

Nothing else constructs adapters. Both front doors (the Telegram bot and the CLI) call
``build_services`` once and close the result at shutdown.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import requests
from pydantic import SecretStr

from bot.answering import Answerer
from bot.library import Library, PdfLimits, SubtitleLimits
from bot.llm import ChatModel, OpenAIChatModel
from bot.ops import check_data_dir, wait_for_qdrant
from bot.report.builder import ReportBuilder
from bot.services import Services
from bot.settings import EmbeddingSettings, Settings, StorageSettings
from storage.async_store import AsyncKnowledgeStore
from storage.embedder import Embedder, FastEmbedEmbedder
from storage.http_embedder import HttpEmbedder
from storage.index import QdrantIndex
from storage.store import KnowledgeStore

__all__ = [
    "build_embedder",
    "build_index",
    "build_services",
    "storage_at",
]


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


def build_index(cfg: StorageSettings) -> QdrantIndex:
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


def build_services(
    settings: Settings,
    *,
    chat_model: ChatModel | None = None,
    embedder: Embedder | None = None,
    youtube_session_factory: Callable[[], requests.Session] | None = None,
) -> Services:
    """Build every adapter and service from ``settings``; tests may pass their own adapters.

    The store is opened first: a data directory in use or a Qdrant server that is down is said
    at once, not after loading the embedding model.
    """
    index = build_index(settings.storage)
    owns_embedder = embedder is None
    try:
        embedder = embedder or build_embedder(settings.embedding)
    except BaseException:
        index.close()
        raise
    store = AsyncKnowledgeStore(
        KnowledgeStore(index, embedder, batch_size=settings.embedding.batch_size),
        threads=settings.telegram.concurrency,
    )
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
    library = Library(
        store,
        pdf_limits=PdfLimits(
            max_bytes=int(ing.max_file_mb * 2**20),
            max_pages=ing.max_pages,
            ocr=ing.ocr,
            ocr_languages=ing.ocr_languages,
        ),
        transcript_languages=ing.transcript_languages,
        youtube_proxy=ing.youtube_proxy,
        youtube_session_factory=youtube_session_factory,
        subtitle_limits=SubtitleLimits(
            max_bytes=int(ing.max_subtitle_mb * 2**20), max_segments=ing.max_segments
        ),
    )
    answerer = Answerer(store, chat_model, query_model=query_model)
    rep = settings.report
    reports = ReportBuilder(
        store,
        chat_model,
        min_chars=rep.min_chars,
        max_chars=rep.max_chars,
        max_revisions=rep.max_revisions,
    )
    return Services(
        store=store,
        library=library,
        answerer=answerer,
        reports=reports,
        chat_model=chat_model,
        owns_embedder=owns_embedder,
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
