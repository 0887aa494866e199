"""The composition root wires the settings into the services."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from bot.app import build_services
from bot.settings import LLMSettings, Settings, StorageSettings
from tests.embedding import test_embedder


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
