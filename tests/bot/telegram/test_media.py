"""Lecture recordings and video links in the chat: refusals before downloading, progress with an
estimate and a stop button, the card that says the text was machine-transcribed."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

from telegram import Update
from telegram.ext import CallbackContext

from bot.telegram.cards import LAST_VIDEO_KEY
from bot.telegram.media import Recording, Recordings
from bot.telegram.videos import Videos, video_link_in
from kernel.errors import TranscriptionError, VideoUnavailableError
from tests.fakes.harness import CONFIG, running
from tests.fakes.services import FakeLibrary, services, transcribed_record, video_record

CHAT = 1001
MB = 2**20


async def test_a_video_file_is_transcribed_with_progress_then_the_card() -> None:
    library = FakeLibrary(
        results={"add_media": [transcribed_record()]},
        # Reports faster than the edit interval are coalesced: the last one is shown.
        stages=[("waiting", 0, 0), ("transcribing", 750, 3480)],
    )
    async with running(services(library)) as h:
        update = h.api.media_update(
            "video", b"fake mp4 bytes", duration=3480, file_name="第三讲.mp4", caption="第三讲"
        )
        await h.send(update)
        [status] = h.api.bot_messages(CHAT)
    [(name, call)] = library.calls
    assert name == "add_media"
    assert call["data"] == b"fake mp4 bytes"  # downloaded before the service ran
    assert (call["filename"], call["title"], call["lang"]) == ("第三讲.mp4", "第三讲", "zh")
    assert status.history[0] == "⏬ 下载中…"
    assert "🎙 转写中 12:30 / 58:00" in status.history
    # The stop button stays under every progress edit while the work runs.
    edits = [c for c in h.api.of("editMessageText") if "转写中" in c.params["text"]]
    assert edits
    assert all("⏹ 停止" in str(c.params.get("reply_markup")) for c in edits)
    card = status.plain
    for expected in ("视频字幕读完了", "大模型技术讲座", "王老师", "哔哩哔哩", "语音识别自动转写"):
        assert expected in card
    assert "faster-whisper small" in card
    assert status.buttons == []  # the stop button is gone with the work


async def test_a_recording_whose_reading_broke_offers_a_retry_that_reads_it_again() -> None:
    crashed = TranscriptionError("crashed")
    library = FakeLibrary(results={"add_media": [crashed, transcribed_record()]})
    async with running(services(library)) as h:
        update = h.api.media_update(
            "video", b"fake mp4 bytes", duration=600, file_name="第三讲.mp4", caption="第三讲"
        )
        await h.send(update)
        [failed] = h.api.bot_messages(CHAT)
        assert "语音识别程序意外退出了" in failed.plain
        assert [t for t, _ in failed.buttons] == ["🔄 再试一次"]
        await h.send(h.api.callback_update(CHAT, failed.message_id, failed.buttons[0][1]))
        failed, done = h.api.bot_messages(CHAT)
    assert failed.buttons == []
    assert "视频字幕读完了" in done.plain
    assert [(c["data"], c["filename"], c["title"]) for _, c in library.calls] == [
        (b"fake mp4 bytes", "第三讲.mp4", "第三讲")
    ] * 2  # downloaded again, with the same name and title


async def test_a_file_over_the_download_limit_is_explained_without_downloading() -> None:
    library = FakeLibrary()
    async with running(services(library)) as h:
        await h.send(
            h.api.media_update(
                "video", b"x", duration=3600, file_name="lecture.mp4", file_size=350 * MB
            )
        )
        [reply] = h.api.bot_messages(CHAT)
        assert h.api.of("getFile") == []
    assert "350 MB" in reply.plain
    assert "20 MB" in reply.plain
    assert "链接" in reply.plain  # what to do instead: the link, the sound alone, subtitles
    assert "m4a" in reply.plain
    assert library.calls == []


async def test_a_recording_over_the_length_limit_is_refused_at_once() -> None:
    library = FakeLibrary(max_seconds=4 * 3600)
    async with running(services(library)) as h:
        await h.send(h.api.media_update("audio", b"x", duration=5 * 3600, file_name="all-day.mp3"))
        [reply] = h.api.bot_messages(CHAT)
        assert h.api.of("getFile") == []
    assert "300 分钟" in reply.plain
    assert "240 分钟" in reply.plain
    assert library.calls == []


async def test_a_media_document_is_a_recording_not_an_unsupported_file() -> None:
    library = FakeLibrary(results={"add_media": [transcribed_record()]}, stages=[])
    async with running(services(library)) as h:
        await h.send(h.api.document_update(b"mkv", "lecture.mkv", mime_type="video/x-matroska"))
    assert [name for name, _ in library.calls] == ["add_media"]


async def test_the_stop_button_stops_the_work_and_says_nothing_was_kept() -> None:
    library = FakeLibrary(results={"add_media": []}, gate=asyncio.Event(), stages=[])
    async with running(services(library)) as h:
        working = asyncio.ensure_future(
            h.send(h.api.media_update("audio", b"mp3", duration=600, file_name="talk.mp3"))
        )
        await h.api.wait_for(lambda: bool(h.api.bot_messages(CHAT)), what="status")
        [status] = h.api.bot_messages(CHAT)
        await h.api.wait_for(lambda: bool(library.calls), what="the service call")
        [(_, stop)] = [(t, d) for t, d in status.buttons if t == "⏹ 停止"]
        await h.send(h.api.callback_update(CHAT, status.message_id, stop))
        await asyncio.wait_for(working, 10)
        [status] = h.api.bot_messages(CHAT)
    assert "已经停止，没有保存任何内容" in status.plain
    assert [c.params.get("text") for c in h.api.of("answerCallbackQuery")] == ["正在停止…"]


async def test_a_bare_link_in_a_chinese_chat_fails_in_chinese() -> None:
    # The message is only a URL (Latin letters): the chat's language decides, not the URL's.
    library = FakeLibrary(results={"add_video_link": [VideoUnavailableError("members")]})
    async with running(services(library)) as h:
        await h.send(h.api.update("message", text="https://www.bilibili.com/video/BV1GJ411x7h7"))
        [status] = h.api.bot_messages(CHAT)
    assert "这个视频只对会员或付费用户开放" in status.plain
    assert "音频/视频文件" in status.plain  # the next step
    [(_, call)] = library.calls
    assert call["lang"] == "zh"


async def test_a_download_that_broke_offers_a_retry_that_reads_the_link_again() -> None:
    link = "https://www.bilibili.com/video/BV1GJ411x7h7"
    broke = VideoUnavailableError("download_failed", retryable=True)
    library = FakeLibrary(results={"add_video_link": [broke, video_record(url=link)]})
    async with running(services(library)) as h:
        await h.send(h.api.update("message", text=link))
        failed = h.api.bot_messages(CHAT)[-1]
        assert "下载这个视频时网络出了问题" in failed.plain
        assert "再试" not in failed.plain  # one piece of advice: the button
        assert [t for t, _ in failed.buttons] == ["🔄 再试一次"]
        await h.send(h.api.callback_update(CHAT, failed.message_id, failed.buttons[0][1]))
        failed, done = h.api.bot_messages(CHAT)
    assert failed.buttons == []
    assert "视频字幕读完了" in done.plain
    assert [call["text"] for _, call in library.calls] == [link, link]


async def test_a_video_that_cannot_be_had_offers_no_retry() -> None:
    library = FakeLibrary(results={"add_video_link": [VideoUnavailableError("private")]})
    async with running(services(library)) as h:
        await h.send(h.api.update("message", text="https://www.bilibili.com/video/BV1GJ411x7h7"))
        [status] = h.api.bot_messages(CHAT)
    assert status.buttons == []


async def test_a_link_to_another_site_is_read_too() -> None:
    library = FakeLibrary(results={"add_video_link": [video_record(url="https://vimeo.com/1")]})
    async with running(services(library)) as h:
        await h.send(
            h.api.update("message", text="https://vimeo.com/1", user={"language_code": "en"})
        )
        [status] = h.api.bot_messages(CHAT)
    assert "Video transcript ready" in status.plain
    assert library.calls[0][1]["text"] == "https://vimeo.com/1"


def test_paper_links_are_not_taken_for_lectures() -> None:
    assert video_link_in("https://arxiv.org/abs/1706.03762") is None
    assert video_link_in("https://example.edu/papers/dpo.pdf") is None
    assert video_link_in("https://www.bilibili.com/video/BV1GJ411x7h7?p=2") is not None
    assert video_link_in("https://vimeo.com/76979871") == "https://vimeo.com/76979871"


async def test_a_link_read_remembers_the_videos_own_address_and_title() -> None:
    # What a subtitle file sent next is tied to: the video as the platform names it.
    short = "https://youtu.be/dQw4w9WgXcQ"
    text = f"look at this {short}"
    canonical = "https://www.youtube.com/watch?v=dQw4w9WgXcQ"
    library = FakeLibrary(results={"add_video_link": [video_record(url=canonical)]}, stages=[])
    videos = Videos(library, replace(CONFIG, edit_interval_s=0.0))  # type: ignore[arg-type]
    chat_data: dict[Any, Any] = {}
    async with running(services(library)) as h:
        chat = Update.de_json(h.api.update("message", text=text), h.app.bot).effective_chat
        assert chat is not None
        await videos.read_link(chat, chat_data, "en", text, short)
        [card] = h.api.bot_messages(CHAT)
    [(name, call)] = library.calls
    assert (name, call["chat_id"], call["text"], call["lang"]) == (
        "add_video_link",
        CHAT,
        text,
        "en",
    )
    assert chat_data[LAST_VIDEO_KEY] == {"url": canonical, "title": "Attention lecture"}
    assert "Video transcript ready" in card.plain
    assert card.buttons == []  # the stop button is gone with the work


async def test_a_recording_sent_while_another_file_is_read_waits_its_turn() -> None:
    library = FakeLibrary(results={"add_media": [transcribed_record()]}, busy=True, stages=[])
    recordings = Recordings(library, replace(CONFIG, edit_interval_s=0.0))  # type: ignore[arg-type]
    async with running(services(library)) as h:
        update = Update.de_json(h.api.update("message", text="第三讲"), h.app.bot)
        context = CallbackContext.from_update(update, h.app)
        assert update.effective_chat is not None
        sent = Recording(h.api.add_file(b"m4a bytes"), 9, 3480.0, "第三讲.m4a", ".m4a")
        await recordings.read_recording(update.effective_chat, context, "zh", sent, "第三讲")
        [status] = h.api.bot_messages(CHAT)
    [(name, call)] = library.calls
    assert (name, call["data"], call["filename"], call["title"]) == (
        "add_media",
        b"m4a bytes",
        "第三讲.m4a",
        "第三讲",
    )
    assert status.history[:2] == ["⏬ 下载中…", "⏳ 上一个文件还在处理，这个排队等它完成后再开始。"]
    assert "视频字幕读完了" in status.plain
