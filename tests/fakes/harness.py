"""Run the real PTB ``Application`` of the bot against ``FakeBotApi``: without sockets
(``running``), or polling it over HTTP on 127.0.0.1 (``polling``) with the real services
(``real_services``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from pydantic import SecretStr
from telegram import Update
from telegram.ext import Application

from bot.app import build_services
from bot.services import Services
from bot.settings import LLMSettings, Settings, StorageSettings
from bot.telegram.app import build_application
from bot.telegram.config import TelegramConfig
from tests.fakes.bot_api import TOKEN, FakeBotApi, FakeBotApiServer, RecordingRequest, Seen
from tests.fakes.embedding import test_embedder
from tests.fakes.openai_server import FakeOpenAI

__all__ = ["CONFIG", "Harness", "last_text", "polling", "real_services", "running", "wait_text"]

CONFIG = TelegramConfig(token=TOKEN, api_url="http://fake/bot", file_url="http://fake/file/bot")


@dataclass
class Harness:
    app: Application[Any, Any, Any, Any, Any, Any]
    api: FakeBotApi

    async def send(self, raw: dict[str, Any]) -> None:
        """Deliver one update and wait until its handlers are done."""
        await self.app.process_update(Update.de_json(raw, self.app.bot))


@asynccontextmanager
async def running(services: Services, **config: Any) -> AsyncIterator[Harness]:
    api = FakeBotApi()
    # No pacing by default (handler tests send many messages at once); flood tests set it.
    cfg = replace(CONFIG, **{"edit_interval_s": 0.0, "send_rate": 0.0, **config})
    app = build_application(
        services, cfg, request=RecordingRequest(api), get_updates_request=RecordingRequest(api)
    )
    try:
        async with app:  # initialize (getMe) ... shutdown
            await app.post_init(app)  # type: ignore[misc]  # run_polling would call it
            yield Harness(app, api)
    finally:
        services.formulas.close()


@asynccontextmanager
async def polling(
    api: FakeBotApi, svc: Services, tmp_path: Path, **config: Any
) -> AsyncIterator[None]:
    """The real ``Application`` polling ``api`` served over HTTP on 127.0.0.1, as in production
    (with sockets, unlike ``running``)."""
    with FakeBotApiServer(api).running() as server:
        cfg = TelegramConfig(
            token=TOKEN,
            api_url=server.base_url,
            file_url=server.file_url,
            persistence_path=tmp_path / "telegram.pickle",
            edit_interval_s=0.2,
            **config,
        )
        app = build_application(svc, cfg)
        async with app:
            assert app.post_init is not None
            await app.post_init(app)
            assert app.updater is not None
            await app.updater.start_polling(poll_interval=0.0, timeout=1)
            await app.start()
            try:
                yield
            finally:
                await app.updater.stop()
                await app.stop()


def last_text(api: FakeBotApi, chat: int, needle: str) -> Seen | None:
    """The bot's last message to ``chat`` containing ``needle``."""
    found = [m for m in api.bot_messages(chat) if needle in m.plain]
    return found[-1] if found else None


async def wait_text(api: FakeBotApi, chat: int, needle: str, within: float = 60) -> Seen:
    """Wait for a message containing ``needle`` in ``chat``."""
    await api.wait_for(lambda: last_text(api, chat, needle) is not None, within=within, what=needle)
    found = last_text(api, chat, needle)
    assert found is not None
    return found


def real_services(tmp_path: Path, llm: FakeOpenAI) -> Services:
    """The real services on tmp_path, the test embedder and the fake model server."""
    settings = Settings(
        storage=StorageSettings(data_dir=tmp_path),
        llm=LLMSettings(  # type: ignore[call-arg]
            OPENAI_BASE_URL=llm.base_url, OPENAI_API_KEY=SecretStr("test")
        ),
    )
    return build_services(settings, embedder=test_embedder())
