"""Start-up: the configuration check explains what is missing instead of a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from bot.settings import LLMSettings, Settings, StorageSettings, TelegramSettings
from bot.telegram.app import check_config, run_bot, telegram_config
from kernel.errors import ConfigError
from tests.fakes.bot_api import TOKEN


def _settings(tmp_path: Path, token: str | None, key: str | None, **tg: object) -> Settings:
    # Aliases (the names in .env), and "" rather than None so the environment cannot fill in.
    return Settings(
        storage=StorageSettings(data_dir=tmp_path),
        llm=LLMSettings(OPENAI_API_KEY=SecretStr(key or "")),  # type: ignore[call-arg]
        telegram=TelegramSettings(TELEGRAM_BOT_TOKEN=SecretStr(token or ""), **tg),  # type: ignore[call-arg]
    )


def test_missing_token_and_key_are_both_explained(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        run_bot(_settings(tmp_path, None, None))
    zh, en = caught.value.message("zh"), caught.value.message("en")
    assert "TELEGRAM_BOT_TOKEN" in zh
    assert "@BotFather" in zh
    assert "/newbot" in zh
    assert "OPENAI_API_KEY" in zh
    assert "OPENAI_BASE_URL" in zh
    assert "@BotFather" in en
    assert "OpenAI-compatible" in en
    assert not (tmp_path / "qdrant").exists()  # nothing was built


def test_malformed_token_and_plain_http_webhook(tmp_path: Path) -> None:
    settings = _settings(tmp_path, "12345", "sk-x", webhook_url="http://example.org/hook")
    with pytest.raises(ConfigError) as caught:
        check_config(settings)
    text = caught.value.message("en")
    assert "looks wrong" in text
    assert "https://" in text
    assert "OPENAI_API_KEY" not in text


def test_valid_settings_become_a_plain_config(tmp_path: Path) -> None:
    settings = _settings(
        tmp_path, TOKEN, "sk-x", allowed_users=[1, 2], max_download_mb=5, webhook_secret="s"
    )
    check_config(settings)
    config = telegram_config(settings)
    assert config.token == TOKEN
    assert config.allowed_users == frozenset({1, 2})
    assert config.max_download_bytes == 5 * 2**20
    assert config.webhook_secret == "s"
    assert config.persistence_path == tmp_path / "telegram.pickle"
    assert config.use_drafts is True


def test_drafts_can_be_switched_off_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PAPERTUTOR_TELEGRAM_DRAFTS", "false")
    settings = _settings(tmp_path, TOKEN, "sk-x")
    assert telegram_config(settings).use_drafts is False
