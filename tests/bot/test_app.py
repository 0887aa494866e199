"""The composition root wires the settings into the services."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from bot.app import build_lectures, build_recognizer, build_services
from bot.settings import ASRSettings, IngestSettings, LLMSettings, Settings, StorageSettings
from kernel.errors import ConfigError
from tests.fakes.embedding import test_embedder
from tests.fakes.recognition import FakeRecognizer


@pytest.mark.parametrize(
    ("query_model", "expected"), [("fast-model", "fast-model"), (None, "main")]
)
async def test_the_query_model_setting_picks_the_model_that_writes_search_queries(
    tmp_path: Path, query_model: str | None, expected: str
) -> None:
    llm = LLMSettings(  # type: ignore[call-arg]
        OPENAI_API_KEY=SecretStr("key"),
        PAPERTUTOR_LLM_MODEL="main",
        PAPERTUTOR_LLM_QUERY_MODEL=query_model,
    )
    settings = Settings(storage=StorageSettings(data_dir=tmp_path), llm=llm)
    services = build_services(settings, embedder=test_embedder())
    try:
        assert services.answerer.model.model_name == "main"
        assert services.answerer.query_model.model_name == expected
        assert services.chat_model.model_name == "main"  # answers and reports use the main one
    finally:
        await services.aclose()


async def test_answers_and_reports_share_one_support_scorer(tmp_path: Path) -> None:
    settings = Settings(storage=StorageSettings(data_dir=tmp_path))  # type: ignore[call-arg]
    services = build_services(settings, embedder=test_embedder())
    try:
        scorer = services.answerer.support
        assert scorer is not None
        assert scorer.embedder is services.store.embedder
        assert services.reports._support is scorer  # the report builder's own attribute
    finally:
        await services.aclose()


def test_speech_recognition_is_local_by_default_or_the_configured_endpoint(
    tmp_path: Path,
) -> None:
    local = build_recognizer(ASRSettings())  # type: ignore[call-arg]
    remote = build_recognizer(ASRSettings(url="http://127.0.0.1:9/v1"))  # type: ignore[call-arg]
    try:
        assert local.model_name == "faster-whisper small"
        assert remote.model_name == "whisper-1"
    finally:
        local.close()
        remote.close()


def test_a_missing_cookies_file_is_named_at_start_up(tmp_path: Path) -> None:
    settings = Settings(
        storage=StorageSettings(data_dir=tmp_path),
        ingest=IngestSettings(cookies_file=tmp_path / "cookies.txt"),  # type: ignore[call-arg]
    )
    with pytest.raises(ConfigError) as caught:
        build_lectures(settings, FakeRecognizer())
    assert "PAPERTUTOR_COOKIES_FILE" in caught.value.message("zh")
