"""The bot's PTB persistence: survives a restart, and saves off the event loop once per round."""

from __future__ import annotations

import asyncio
import os
import threading
from pathlib import Path

from telegram.ext import ExtBot

from bot.telegram.app import ThreadedPicklePersistence
from tests.fakes.bot_api import TOKEN
from tests.fakes.harness import running
from tests.fakes.services import services

CHAT = 1001


async def test_a_restart_resumes_with_the_language_the_student_chose(tmp_path: Path) -> None:
    stored = tmp_path / "telegram.pickle"
    async with running(services(), persistence_path=stored) as h:
        await h.send(h.api.update("message", text="/lang en"))
    async with running(services(), persistence_path=stored) as h:
        assert h.app.user_data[CHAT] == {"lang": "en"}
        await h.send(h.api.update("message", text="/help"))  # a Chinese client, English chosen
        [reply] = h.api.bot_messages(CHAT)
    assert "/report" in reply.plain
    assert not any("\u4e00" <= ch <= "\u9fff" for ch in reply.plain)
    assert [name for name in os.listdir(tmp_path) if name.endswith(".partial")] == []


class CountingPersistence(ThreadedPicklePersistence):
    """Records the thread of every file write (a real write each time)."""

    def __init__(self, filepath: Path) -> None:
        super().__init__(filepath)
        self.writes: list[threading.Thread] = []

    def _write(self, data: dict[str, object]) -> None:
        self.writes.append(threading.current_thread())
        super()._write(data)


async def test_a_round_of_many_changed_chats_is_one_write_in_a_worker_thread(
    tmp_path: Path,
) -> None:
    persistence = CountingPersistence(tmp_path / "telegram.pickle")
    persistence.set_bot(ExtBot(TOKEN))
    await persistence.get_chat_data()  # loads (nothing yet), as the application does at start
    await persistence.get_user_data()
    # The way Application.update_persistence hands over a round: all updates at once.
    await asyncio.gather(
        *(persistence.update_chat_data(chat, {"last_video": f"v{chat}"}) for chat in range(100)),
        *(persistence.update_user_data(user, {"lang": "zh"}) for user in range(100)),
    )
    await persistence.written()
    assert len(persistence.writes) == 1
    assert persistence.writes[0] is not threading.main_thread()
    chats, users = await _reload(tmp_path / "telegram.pickle")
    assert chats[99] == {"last_video": "v99"}
    assert users[0] == {"lang": "zh"}

    await persistence.update_chat_data(5, {"last_video": "new"})  # a later round: written too
    await persistence.update_chat_data(6, {"last_video": "v6"})  # unchanged: no new write
    await persistence.written()
    assert len(persistence.writes) == 2
    chats, _ = await _reload(tmp_path / "telegram.pickle")
    assert chats[5] == {"last_video": "new"}


async def _reload(path: Path) -> tuple[dict[int, object], dict[int, object]]:
    """What a restarted bot reads back."""
    again = ThreadedPicklePersistence(path)
    again.set_bot(ExtBot(TOKEN))
    return dict(await again.get_chat_data()), dict(await again.get_user_data())
