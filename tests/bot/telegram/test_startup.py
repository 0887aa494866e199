"""``papertutor run`` explains every start-up failure in one line, in both languages, with the
exit status the README documents, and never shows the token: a refused token at once (2), an
unreachable Bot API after waiting (75); a Bot API that comes up late is waited for."""

from __future__ import annotations

import logging
import socket
from pathlib import Path
from typing import Any

import pytest
from telegram.error import NetworkError

from bot.cli import main
from bot.telegram.app import check_telegram
from bot.telegram.config import TelegramConfig
from tests.fakes.bot_api import BOT_USERNAME, TOKEN, FakeBotApi, FakeBotApiServer, RecordingRequest
from tests.fakes.secret_values import LLM_KEY, WRONG_TOKEN, leaks


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Settings for `papertutor run`; the embedding model path is bogus on purpose: every
    failure below must be found before the model is loaded."""
    monkeypatch.chdir(tmp_path)
    for name in ("PAPERTUTOR_QDRANT_URL", "PAPERTUTOR_EMBEDDING_URL", "PAPERTUTOR_WEBHOOK_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("PAPERTUTOR_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("PAPERTUTOR_EMBEDDING_MODEL_PATH", str(tmp_path / "no-model-here"))
    monkeypatch.setenv("OPENAI_API_KEY", LLM_KEY)
    return tmp_path


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    assert not leaks(err)
    return lines[0]


def test_a_refused_token_is_said_at_once_in_one_line_without_the_token(
    env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with FakeBotApiServer(FakeBotApi()).running() as server:  # knows only TOKEN
        monkeypatch.setenv("PAPERTUTOR_TELEGRAM_API_URL", server.base_url)
        monkeypatch.setenv("TELEGRAM_BOT_TOKEN", WRONG_TOKEN)
        assert main(["run"]) == 2
    line = _one_line(capsys.readouterr().err)
    assert "Telegram 拒绝了机器人令牌 987654321:***" in line  # the bot id is public
    assert "Telegram refused the bot token" in line  # and the English, after it
    assert "@BotFather" in line


def test_an_unreachable_bot_api_is_retried_then_exit_75(
    env: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv("PAPERTUTOR_TELEGRAM_API_URL", f"http://127.0.0.1:{_closed_port()}/bot")
    monkeypatch.setenv("PAPERTUTOR_TELEGRAM_WAIT_S", "1.5")
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    with caplog.at_level(logging.WARNING, logger="bot.telegram.app"):
        assert main(["--lang", "en", "run"]) == 75
    line = _one_line(capsys.readouterr().err)
    assert line.startswith("papertutor: Telegram (127.0.0.1) could not be reached for 2 s")
    assert "连不上 Telegram" in line
    retries = [r for r in caplog.records if "not reachable yet" in r.getMessage()]
    assert retries, "it waited and tried again before giving up"


class _DownAtFirst(RecordingRequest):
    """The Bot API is down for the first ``fail`` calls, then answers."""

    def __init__(self, api: FakeBotApi, fail: int) -> None:
        super().__init__(api)
        self.fail = fail

    async def do_request(self, url: str, method: str, *args: Any, **kwargs: Any) -> Any:
        if self.fail > 0:
            self.fail -= 1
            raise NetworkError("connection refused")
        return await super().do_request(url, method, *args, **kwargs)


async def test_a_bot_api_that_comes_up_late_is_waited_for() -> None:
    request = _DownAtFirst(FakeBotApi(), fail=1)
    config = TelegramConfig(token=TOKEN, api_url="http://fake/bot", startup_wait_s=30)
    assert await check_telegram(config, request=request) == BOT_USERNAME
    assert request.fail == 0


def test_a_wrong_setting_is_named_before_anything_starts(
    env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("PAPERTUTOR_REPORT_MIN_CHARS", "two thousand")
    monkeypatch.setenv("PAPERTUTOR_TELEGRAM_API_URL", "api.telegram.org/bot")
    assert main(["run"]) == 2
    line = _one_line(capsys.readouterr().err)
    assert "PAPERTUTOR_REPORT_MIN_CHARS='two thousand'" in line
    assert "设置有误" in line
    assert "A setting is wrong" in line
    assert not (env / "data" / "qdrant").exists()

    monkeypatch.delenv("PAPERTUTOR_REPORT_MIN_CHARS")
    assert main(["--lang", "en", "run"]) == 2  # the URL: checked before the store is opened
    err = capsys.readouterr().err
    assert "PAPERTUTOR_TELEGRAM_API_URL should be an http(s):// URL" in err
    assert "Traceback" not in err
    assert not (env / "data" / "qdrant").exists()
