"""Telegram's flood limits: nothing the student should get is lost to a 429, previews give way,
and a burst of questions is answered in the order asked, each answer quoting its question."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from telegram.error import RetryAfter

from bot.telegram.flood import ChatRateLimiter, Schedule, droppable
from tests.fakes.harness import running
from tests.fakes.services import FakeAnswerer, FakeReports, answer, report, services

CHAT = 1001


def test_a_schedule_allows_a_burst_then_one_call_per_interval() -> None:
    schedule = Schedule(rate=2.0, burst=3)
    waits = [schedule.reserve(10.0) for _ in range(5)]
    assert waits == [0.0, 0.0, 0.0, 0.5, 1.0]
    assert schedule.reserve(10.0, only_if_free=True) is None  # no room now: a preview gives way
    assert schedule.reserve(12.6, only_if_free=True) == 0.0  # room again later


class _Api:
    """A Bot API call that answers 429 ``floods`` times, then succeeds."""

    def __init__(self, floods: int = 0, retry_after: int = 1) -> None:
        self.floods = floods
        self.retry_after = retry_after
        self.calls: list[float] = []

    async def __call__(self) -> dict[str, Any]:
        self.calls.append(time.monotonic())
        if self.floods:
            self.floods -= 1
            raise RetryAfter(self.retry_after)
        return {"ok": True}


async def _send(limiter: ChatRateLimiter, api: _Api, chat: int, method: str = "sendMessage") -> Any:
    return await limiter.process_request(api, (), {}, method, {"chat_id": chat}, None)


async def test_a_final_message_waits_out_a_429_and_goes_through() -> None:
    limiter = ChatRateLimiter()
    api = _Api(floods=2)
    assert await _send(limiter, api, CHAT) == {"ok": True}
    assert len(api.calls) == 3
    assert api.calls[2] - api.calls[0] >= 1.9  # waited retry_after each time


async def test_a_preview_gives_way_and_other_chats_go_on_during_one_chats_pause() -> None:
    limiter = ChatRateLimiter()
    flooded = _Api(floods=1, retry_after=2)
    final = asyncio.ensure_future(_send(limiter, flooded, CHAT))
    await asyncio.sleep(0.1)  # the chat is paused now
    with droppable(), pytest.raises(RetryAfter):
        await _send(limiter, _Api(), CHAT, "editMessageText")  # dropped at once, not queued
    other = _Api()
    started = time.monotonic()
    await _send(limiter, other, 2002)
    assert time.monotonic() - started < 0.5  # another chat is not held by this one's pause
    assert await final == {"ok": True}
    assert limiter.dropped == 1


async def test_a_burst_of_questions_is_answered_in_order_each_quoting_its_question() -> None:
    n = 6
    answerer = FakeAnswerer(answers=[answer(f"第 {i} 个回答 [1]。") for i in range(n)])
    async with running(services(answerer=answerer), send_rate=1.0, use_drafts=False) as h:
        h.api.flood_limit = 2  # Telegram answers 429 above this, per chat and second
        updates = [h.api.update("message", text=f"问题 {i}？") for i in range(n)]
        await asyncio.gather(*(h.send(u) for u in updates))
        finals = [m for m in h.api.bot_messages(CHAT) if "回答" in m.plain]
        calls = h.api.calls
        assert h.api.flooded, "the burst did hit Telegram's limit"
    assert [q["question"] for q in answerer.asked] == [f"问题 {i}？" for i in range(n)]
    assert [next(i for i in range(n) if f"第 {i} 个" in m.plain) for m in finals] == list(range(n))
    # Every answer after the first waited behind another, so it quotes its own question.
    quoted = {
        c.params["reply_parameters"]["message_id"]
        for c in calls
        if c.method == "sendMessage" and "reply_parameters" in c.params
    }
    asked = [u["message"]["message_id"] for u in updates]
    assert set(asked[1:]) <= quoted


async def test_the_report_file_arrives_despite_flood_control() -> None:
    reports = FakeReports(results=[report(), report()])
    async with running(services(reports=reports), send_rate=1.0) as h:
        h.api.flood_limit = 1
        h.api.flood_retry_after = 1
        await h.send(h.api.update("message", text="/report"))
        preview = h.api.bot_messages(CHAT)[0]
        assert "报告预览" in preview.plain  # the preview did not stay on "开始写…"
        await h.send(h.api.callback_update(CHAT, preview.message_id, preview.buttons[-1][1]))
        documents = h.api.of("sendDocument")
        status = h.api.bot_messages(CHAT)[1]
        assert h.api.flooded, "the report's messages did hit Telegram's limit"
    assert len(documents) == 1
    assert "报告写好了" in status.plain  # the status message did not stay on "开始写…"
