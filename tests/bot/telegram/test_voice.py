"""Voice questions: heard, shown as "🎤 …", then answered like a typed question."""

from __future__ import annotations

from dataclasses import replace

from telegram import Update
from telegram.ext import CallbackContext

from bot.telegram.ask import questions
from bot.telegram.i18n import LANG_KEY
from bot.telegram.voice import VoiceQuestions
from kernel.errors import NothingHeardError
from tests.fakes.harness import CONFIG, running
from tests.fakes.services import (
    FakeAnswerer,
    FakeLibrary,
    FakeListener,
    answer,
    services,
    transcribed_record,
)

CHAT = 1001


async def test_a_voice_question_is_shown_then_answered_like_a_typed_one() -> None:
    listener = FakeListener(texts=["DPO 和 RLHF 有什么区别？"])
    answerer = FakeAnswerer(answers=[answer("DPO 直接用偏好数据训练 [1]。")])
    async with running(services(answerer=answerer, listener=listener)) as h:
        await h.send(h.api.media_update("voice", b"OggS voice", duration=4, mime_type="audio/ogg"))
        messages = h.api.bot_messages(CHAT)
    heard, reply = messages[0], messages[-1]
    assert heard.history[0] == "🎧 正在听…"
    assert heard.plain == "🎤 DPO 和 RLHF 有什么区别？"
    assert [q["question"] for q in answerer.asked] == ["DPO 和 RLHF 有什么区别？"]
    assert "DPO 直接用偏好数据训练" in reply.plain
    assert [t for t, _ in reply.buttons] == ["🙂 讲得更简单", "📝 举个例子", "📚 查看来源"]
    assert listener.heard == [{"data": b"OggS voice", "lang": "zh", "suffix": ".ogg"}]


async def test_an_unclear_voice_message_asks_to_say_it_again() -> None:
    listener = FakeListener(texts=[NothingHeardError("voice_unclear")])
    answerer = FakeAnswerer()
    async with running(services(answerer=answerer, listener=listener)) as h:
        await h.send(h.api.media_update("voice", b"OggS hum", duration=3))
        [status] = h.api.bot_messages(CHAT)
    assert "没听清" in status.plain
    assert answerer.asked == []


async def test_a_long_voice_message_is_not_downloaded_as_a_question() -> None:
    listener = FakeListener()
    async with running(services(listener=listener)) as h:
        await h.send(h.api.media_update("voice", b"x", duration=900, user={"language_code": "en"}))
        [reply] = h.api.bot_messages(CHAT)
        assert h.api.of("getFile") == []
    assert "900 s" in reply.plain
    assert "audio file" in reply.plain
    assert listener.heard == []


async def test_short_audio_is_a_question_and_long_audio_a_lecture() -> None:
    listener = FakeListener(texts=["What is attention?"])
    library = FakeLibrary(results={"add_media": [transcribed_record()]}, stages=[])
    answerer = FakeAnswerer(answers=[answer()])
    async with running(services(library, answerer=answerer, listener=listener)) as h:
        await h.send(h.api.media_update("audio", b"short", duration=20, file_name="q.m4a"))
        await h.send(h.api.media_update("audio", b"long", duration=3000, file_name="talk.m4a"))
    assert [q["question"] for q in answerer.asked] == ["What is attention?"]
    assert [(name, call["data"]) for name, call in library.calls] == [("add_media", b"long")]


async def test_a_voice_question_is_heard_and_answered_in_the_language_the_student_chose() -> None:
    listener = FakeListener(texts=["What is DPO?"])
    answerer = FakeAnswerer(answers=[answer("DPO learns from preferences [1].", lang="en")])
    served = services(answerer=answerer, listener=listener)
    config = replace(CONFIG, edit_interval_s=0.0, send_rate=0.0)
    spoken = VoiceQuestions(served.library, listener, config, questions(served, config))  # type: ignore[arg-type]
    async with running(served) as h:  # a Chinese client whose student chose English
        update = Update.de_json(h.api.media_update("voice", b"OggS", duration=4), h.app.bot)
        context = CallbackContext.from_update(update, h.app)
        context.user_data[LANG_KEY] = "en"
        await spoken.handle_voice(update, context)
        heard, reply = h.api.bot_messages(CHAT)
    assert listener.heard == [{"data": b"OggS", "lang": "en", "suffix": ".ogg"}]
    assert heard.history == ["🎧 Listening…", "🎤 What is DPO?"]
    assert answerer.asked[0]["question"] == "What is DPO?"
    assert answerer.asked[0]["lang"] == "en"
    assert "DPO learns from preferences" in reply.plain
