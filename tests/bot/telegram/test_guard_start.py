"""The door (allow-list, rate limit) and the greeting/language commands."""

from __future__ import annotations

import pickle
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from telegram import Update
from telegram.ext import ApplicationHandlerStop, CallbackContext

from bot.telegram.guard import Guard, RateLimiter
from bot.telegram.i18n import LANG_KEY, lang_for
from bot.telegram.start import Start
from tests.fakes.bot_api import FakeBotApi
from tests.fakes.harness import CONFIG, Harness, running
from tests.fakes.services import FakeAnswerer, answer, services

CHAT = 1001


async def test_stranger_is_refused_politely_and_nothing_is_stored(tmp_path: Path) -> None:
    answerer = FakeAnswerer(answers=[answer(), answer()])
    stored = tmp_path / "telegram.pickle"
    async with running(
        services(answerer=answerer), allowed_users=frozenset({42}), persistence_path=stored
    ) as h:
        await h.send(h.api.update("message", text="什么是 Transformer？"))
        await h.send(h.api.update("message", text="/lang en"))
        [reply, reply2] = h.api.bot_messages(CHAT)
        await h.send(h.api.update("message", text="/lang en", chat={"id": 42}, user={"id": 42}))
        await h.app.update_persistence()
        assert CHAT not in h.app.chat_data
        assert CHAT not in h.app.user_data
    data = pickle.loads(stored.read_bytes())
    assert CHAT not in data["user_data"]
    assert CHAT not in data["chat_data"]
    assert data["user_data"][42] == {"lang": "en"}  # the invited student's choice is kept
    assert "只对受邀的同学开放" in reply.plain
    assert reply2.plain == reply.plain
    assert answerer.asked == []


async def test_allowed_user_passes() -> None:
    answerer = FakeAnswerer(answers=[answer()])
    async with running(services(answerer=answerer), allowed_users=frozenset({CHAT})) as h:
        await h.send(h.api.update("message", text="什么是 Transformer？"))
    assert len(answerer.asked) == 1


async def test_rate_limit_warns_once_then_stays_quiet() -> None:
    answerer = FakeAnswerer(answers=[answer(), answer()], deltas=[])
    async with running(services(answerer=answerer), rate_limit_per_minute=2) as h:
        for text in ("问题一", "问题二", "问题三", "问题四"):
            await h.send(h.api.update("message", text=text))
        replies = [m.plain for m in h.api.bot_messages(CHAT)]
        marked = [c.params for c in h.api.of("setMessageReaction")]
        student = [m.message_id for m in h.api.chat(CHAT) if not m.from_bot]
    assert [a["question"] for a in answerer.asked] == ["问题一", "问题二"]
    warnings = [r for r in replies if "你发得有点快" in r]
    assert len(warnings) == 1
    assert "秒后再发" in warnings[0]
    # The student sees which messages were not taken: each one is marked, none in silence.
    assert [int(p["message_id"]) for p in marked] == student[2:]
    assert all(p["reaction"] == [{"type": "emoji", "emoji": "🙈"}] for p in marked)


def _delivered(h: Harness, raw: dict[str, Any]) -> tuple[Update, Any]:
    """``raw`` as a handler gets it: the update and its context (no handler has run)."""
    update = Update.de_json(raw, h.app.bot)
    return update, CallbackContext.from_update(update, h.app)


async def _let_in(guard: Guard, h: Harness, text: str) -> bool:
    update, context = _delivered(h, h.api.update("message", text=text))
    try:
        await guard.check(update, context)
    except ApplicationHandlerStop:
        return False
    return True


async def test_the_guard_lets_a_student_in_again_once_the_minute_has_passed() -> None:
    now = 0.0
    guard = Guard(CONFIG, RateLimiter(1, clock=lambda: now))
    async with running(services()) as h:
        taken = [await _let_in(guard, h, "一")]
        now = 30.0
        taken += [await _let_in(guard, h, "二"), await _let_in(guard, h, "三")]
        now = 61.0  # the minute since "一" has passed
        taken.append(await _let_in(guard, h, "四"))
        now = 91.0  # and the minute since the last warning
        taken.append(await _let_in(guard, h, "五"))
        warnings = [m.plain for m in h.api.bot_messages(CHAT)]
        marked = [int(c.params["message_id"]) for c in h.api.of("setMessageReaction")]
        student = [m.message_id for m in h.api.chat(CHAT) if not m.from_bot]
    assert taken == [True, False, False, True, False]
    assert len(warnings) == 2  # "三" is turned away without a second warning
    assert all("请 30 秒后再发一次" in w for w in warnings)
    assert marked == [student[1], student[2], student[4]]


async def test_a_strangers_button_press_is_answered_with_an_alert_not_a_message() -> None:
    guard = Guard(replace(CONFIG, allowed_users=frozenset({42})))
    async with running(services()) as h:
        update, context = _delivered(h, h.api.update("callback_query", data="lang:en"))
        with pytest.raises(ApplicationHandlerStop):
            await guard.check(update, context)
        invited = h.api.update("callback_query", data="lang:en", user={"id": 42})
        await guard.check(*_delivered(h, invited))  # let through: no exception
        [alert] = h.api.of("answerCallbackQuery")
        assert h.api.bot_messages(CHAT) == []
    assert "只对受邀的同学开放" in alert.params["text"]
    assert alert.params["show_alert"] == "true"


async def test_start_is_chinese_by_default_and_english_for_english_clients() -> None:
    async with running(services()) as h:
        await h.send(h.api.update("message", text="/start"))
        await h.send(h.api.update("message_en", text="/help"))
        [zh] = h.api.bot_messages(CHAT)
        [en] = h.api.bot_messages(2002)
        commands = h.api.of("setMyCommands")
    assert "把论文 PDF 发给我" in zh.plain
    assert "/report" in zh.plain
    assert "Send me a paper as a PDF" in en.plain
    assert {c.params.get("language_code") for c in commands} == {"zh", None}
    zh_menu = next(c for c in commands if c.params.get("language_code") == "zh")
    assert {
        "command": "report",
        "description": "生成阅读报告 .docx（/report md、/report pdf 为其他格式）",
    } in (zh_menu.params["commands"])


async def test_lang_switch_is_remembered() -> None:
    async with running(services()) as h:
        await h.send(h.api.update("message", text="/lang"))
        chooser = h.api.bot_messages(CHAT)[-1]
        assert [t for t, _ in chooser.buttons] == ["中文", "English"]
        await h.send(h.api.callback_update(CHAT, chooser.message_id, chooser.buttons[1][1]))
        assert "English" in h.api.bot_messages(CHAT)[-1].plain
        await h.send(h.api.update("message", text="/start"))
        assert "Send me a paper as a PDF" in h.api.bot_messages(CHAT)[-1].plain
        await h.send(h.api.update("message", text="/lang zh"))
        await h.send(h.api.update("message", text="/help"))
        assert "把论文 PDF 发给我" in h.api.bot_messages(CHAT)[-1].plain


@pytest.mark.parametrize(
    ("args", "chosen", "reply"),
    [
        (["cn"], "zh", "好的，之后我用中文回答。"),
        (["中文"], "zh", "好的，之后我用中文回答。"),
        (["English"], "en", "OK, I will answer in English from now on."),
        (["fr"], None, "Choose a language:"),  # not a language it speaks: the two buttons
        ([], None, "Choose a language:"),
    ],
)
async def test_lang_reads_the_choice_from_its_argument(
    args: list[str], chosen: str | None, reply: str
) -> None:
    async with running(services()) as h:  # an English client, so "cn" must override it
        update, context = _delivered(h, h.api.update("message_en", text="/lang"))
        context.args = args
        await Start().handle_lang(update, context)
        [sent] = h.api.bot_messages(2002)
    assert context.user_data.get(LANG_KEY) == chosen
    assert sent.plain == reply
    assert len(sent.buttons) == (2 if chosen is None else 0)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("https://youtu.be/dQw4w9WgXcQ", "zh"),  # a link alone: the chat's language decides
        ("看这个 https://www.bilibili.com/video/BV1xx411c7mD", "zh"),
        ("youtube.com/watch?v=dQw4w9WgXcQ please read it", "en"),
        ("What is DPO?", "en"),
    ],
)
def test_the_language_of_a_link_is_the_chats_not_the_urls(text: str, expected: str) -> None:
    api = FakeBotApi()
    update = Update.de_json(api.update("message", text=text), None)
    assert lang_for(update) == expected
