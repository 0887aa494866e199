"""Run the real PTB ``Application`` of the bot against ``FakeBotApi`` without sockets."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from typing import Any

from telegram import Update
from telegram.ext import Application

from bot.services import Services
from bot.telegram.app import build_application
from bot.telegram.config import TelegramConfig
from tests.fakes.bot_api import TOKEN, FakeBotApi, RecordingRequest

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
