"""The whole bot over HTTP: the real Application polls a fake Bot API server on 127.0.0.1,
the real services use Qdrant local mode in tmp_path, the test embedding model and a fake
OpenAI-compatible server. Assertions are on what the student sees.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

import docx
from pydantic import SecretStr

from bot.app import build_services
from bot.prompts import REWRITE_SYSTEM
from bot.services import Services
from bot.settings import LLMSettings, Settings, StorageSettings
from tests.fakes.bot_api import FakeBotApi, Seen
from tests.fakes.embedding import test_embedder
from tests.fakes.harness import last_text, polling, real_services, wait_text
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.pdfs import make_paper_pdf
from tests.fakes.services import FakeReports, report, services
from tests.fakes.speech import media_file, recognizer, video_file
from tests.fakes.subtitle_samples import SRT_EN
from tests.fakes.tutor_model import quoted_words

STUDENT = 1001
STRANGER = 777


def _model(body: dict[str, Any]) -> str:
    """The fake LLM: search queries for the rewrite step, otherwise an answer written from the
    first snippet of the paper (it quotes a few of its words) and citing it."""
    messages = body["messages"]
    if messages[0]["content"] == REWRITE_SYSTEM:
        question = messages[-1]["content"]
        return json.dumps({"queries": ["sparse attention memory", question[-80:]], "terms": []})
    snippets = re.findall(
        r'<snippet n="(\d+)" source="([^"]*)">\n(.*?)\n</snippet>', messages[-1]["content"], re.S
    )
    n, _, text = next((s for s in snippets if s[1].startswith("paper")), ("1", "", ""))
    quote = quoted_words(text)
    return (
        f"稀疏注意力只让每个词关注一部分词，所以需要的内存更少，原文说：“{quote}” [{n}]。"
        "这样模型可以在固定的内存预算里读很长的文档，效果和普通注意力差不多。"
    )


async def test_student_journey(tmp_path: Path) -> None:
    api = FakeBotApi()
    with FakeOpenAI() as llm:
        llm.set_default(_model)
        svc = real_services(tmp_path, llm)
        try:
            async with polling(api, svc, tmp_path, allowed_users=frozenset({STUDENT})):
                await _journey(api, llm, svc)
                # A stranger: refused, and nothing is stored or asked of the model.
                calls_before = len(llm.requests)
                api.queue(
                    api.update(
                        "message",
                        text="什么是稀疏注意力？",
                        chat={"id": STRANGER},
                        user={"id": STRANGER},
                    )
                )
                refusal = await wait_text(api, STRANGER, "只对受邀的同学开放")
                assert refusal.plain.startswith("抱歉")
                assert await svc.library.sources(STRANGER) == []
                assert await svc.answerer.notes(STRANGER) == []
                assert len(llm.requests) == calls_before
        finally:
            await svc.aclose()


async def _journey(api: FakeBotApi, llm: FakeOpenAI, svc: Services) -> None:
    api.queue(api.update("message", text="/start"))
    await wait_text(api, STUDENT, "把论文 PDF 发给我")

    api.queue(api.document_update(make_paper_pdf(), "sparse.pdf"))
    card = await wait_text(api, STUDENT, "论文读完了")
    assert "Sparse Attention for Beginners" in card.plain
    assert "Alice Zhang" in card.plain
    assert "2021" in card.plain
    assert "⏬ 下载中…" in card.history
    assert [t for t, _ in card.buttons][1] == "Sparse Attention 是什么？请用简单的话解释"

    api.queue(api.document_update(SRT_EN.encode(), "lecture.srt"))
    video = await wait_text(api, STUDENT, "视频字幕读完了")
    assert "片段" in video.plain

    for n, question in enumerate(
        ["什么是稀疏注意力？", "How does it save memory?", "那它为什么效果差不多？"], start=1
    ):
        api.queue(api.update("message", text=question))
        await api.wait_for(
            lambda n=n: (
                sum("来源" in m.plain or "Sources" in m.plain for m in api.bot_messages(STUDENT))
                >= n
            ),
            within=60,
            what=f"answer {n}",
        )
    answers = [m for m in api.bot_messages(STUDENT) if "来源" in m.plain or "Sources" in m.plain]
    first = answers[0]
    assert "稀疏注意力只让每个词关注一部分词" in first.plain
    assert "[1] " in first.plain
    assert "<blockquote expandable>" in first.text
    labels = [t for t, _ in first.buttons]
    assert labels[:3] == ["🙂 讲得更简单", "📝 举个例子", "📚 查看来源"]
    # The cited passage, as printed on the page of the PDF the student sent.
    passage = next(data for text, data in first.buttons if text.startswith("🖼 原文 p."))
    api.queue(api.callback_update(STUDENT, first.message_id, passage))
    await api.wait_for(lambda: bool(api.of("sendPhoto")), within=60, what="the printed passage")
    photo = api.of("sendPhoto")[0]
    assert photo.params["caption"].startswith("原文 第 ")
    assert photo.params["caption"].endswith("Sparse Attention for Beginners")
    assert photo.files["photo"][1].startswith(b"\x89PNG")
    # Then what the paper covers next, as questions to press (the last buttons).
    steps = [label for label in labels if label.startswith("论文接下来的“")]
    assert 2 <= len(steps) <= 3
    assert labels[-len(steps) :] == steps
    # The follow-up was searched with the conversation so far.
    rewrite = [r for r in llm.requests if r["messages"][0]["content"] == REWRITE_SYSTEM][-1]
    assert "什么是稀疏注意力" in rewrite["messages"][-1]["content"]

    # Asked right after the answer arrived: the note was saved before it was shown.
    api.queue(api.update("message", text="/notes"))
    notes = await wait_text(api, STUDENT, "📝 你的笔记")
    assert "共 3 条" in notes.plain

    api.queue(api.update("message", text="/sources"))
    listing = await wait_text(api, STUDENT, "📚 你的资料")
    assert "Sparse Attention for Beginners" in listing.plain
    assert len(listing.buttons) == 2
    video_button = next(
        data for text, data in listing.buttons if text.endswith(str(_line_of(listing, "🎬")))
    )
    api.queue(api.callback_update(STUDENT, listing.message_id, video_button))
    await wait_text(api, STUDENT, "已删除")
    api.queue(api.update("message", text="/sources"))
    await api.wait_for(
        lambda: sum("📚 你的资料" in m.plain for m in api.bot_messages(STUDENT)) == 2
    )
    after = last_text(api, STUDENT, "📚 你的资料")
    assert after is not None
    assert "🎬" not in after.plain
    assert len(after.buttons) == 1

    api.queue(api.document_update(b"PK\x03\x04", "slides.pptx"))
    await wait_text(api, STUDENT, "slides.pptx")

    downloads = len(api.of("getFile"))
    api.queue(api.document_update(b"%PDF-1.7", "huge.pdf", file_size=30 * 2**20))
    await wait_text(api, STUDENT, "超过了 Telegram 允许机器人下载的上限")
    assert len(api.of("getFile")) == downloads


def _line_of(message: Seen, marker: str) -> int:
    for line in message.plain.splitlines():
        if marker in line:
            return int(line.split(".", 1)[0])
    raise AssertionError(marker)


async def test_report_document_is_uploaded_as_multipart(tmp_path: Path) -> None:
    api = FakeBotApi()
    reports = FakeReports(results=[report(reused=True)])  # kept whole: sent at once
    async with polling(api, services(reports=reports), tmp_path):
        api.queue(api.update("message", text="/report"))
        await api.wait_for(lambda: bool(api.of("sendDocument")), what="sendDocument")
    [upload] = api.of("sendDocument")
    name, data = upload.files["document"]
    assert name is not None
    assert name.endswith("_阅读报告.docx")
    assert data.startswith(b"PK")
    assert "字数：2345" in upload.params["caption"]


async def test_a_recorded_lecture_and_a_voice_question(tmp_path: Path) -> None:
    """Real speech recognition (Whisper base) end to end: a lecture video sent in the chat is
    transcribed with progress, then a voice question is heard and answered from it."""
    api = FakeBotApi()
    local = recognizer()
    with FakeOpenAI() as llm:
        llm.set_default(_model)
        settings = Settings(
            storage=StorageSettings(data_dir=tmp_path),
            llm=LLMSettings(  # type: ignore[call-arg]
                OPENAI_BASE_URL=llm.base_url, OPENAI_API_KEY=SecretStr("test")
            ),
        )
        svc = build_services(settings, embedder=test_embedder(), recognizer=local)
        try:
            async with polling(api, svc, tmp_path):
                clip = video_file(tmp_path / "lecture.mp4", sound=media_file("lecture_en.ogg"))
                api.queue(api.media_update("video", clip.read_bytes(), duration=19))
                card = await wait_text(api, STUDENT, "视频字幕读完了", within=240)
                assert "语音识别自动转写（faster-whisper whisper-base）" in card.plain
                assert any(h.startswith("🎙 转写中") for h in card.history)
                assert "语言：en" in card.plain

                voice = media_file("question_en.ogg").read_bytes()
                api.queue(api.media_update("voice", voice, duration=2, mime_type="audio/ogg"))
                heard = await wait_text(api, STUDENT, "🎤", within=240)
                assert "self-attention" in heard.plain.lower()
                # An English question gets an English answer, like a typed one.
                answered = await wait_text(api, STUDENT, "Sources", within=120)
                assert "稀疏注意力只让每个词关注一部分词" in answered.plain  # the fake model's
                assert "video 0:00 (machine-transcribed)" in answered.plain
                assert "self-attention" in answered.plain  # the quoted, recognised snippet
                asked = [r["messages"][-1]["content"] for r in llm.requests]
                assert any("self-attention" in a.lower() for a in asked)

                api.queue(api.update("message", text="/sources"))
                listing = await wait_text(api, STUDENT, "📚 你的资料")
                assert "🎙 语音识别" in listing.plain
        finally:
            await svc.aclose()


async def test_a_report_that_survives_a_failed_section_and_a_restart(tmp_path: Path) -> None:
    """The real builder and the fake model behind the fake Bot API (with its flood limit):
    section (3) fails, 🔄 continues from the kept (2); 🔄 (3) rewrites (3) alone; ✅ sends
    the .docx with the student's name; after a restart /report md costs no model call."""
    from bot.report.prompts import VERIFY_SYSTEM
    from tests.bot.report.support import cooperative, note, paper_source, video_source
    from tests.fakes.openai_server import Status

    writes = {n: f"请撰写报告的“{h}”部分" for n, h in ((2, "（2）核心内容摘要"),
              (3, "（3）关键技术解析"), (4, "（4）视频补充要点"))}  # fmt: skip
    failing = {"on": True}

    def model(body: dict[str, Any]) -> Any:
        prompt = str(body["messages"][-1]["content"])
        checking = body["messages"][0]["content"] == VERIFY_SYSTEM
        if failing["on"] and not checking and writes[3] in prompt:
            return Status(500, '{"error": {"message": "overloaded"}}')
        return cooperative(body)

    def drafts(llm: FakeOpenAI, since: int) -> list[int]:
        asked = [str(b["messages"][-1]["content"]) for b in llm.requests[since:]]
        return [n for a in asked for n, words in writes.items() if words in a]

    api = FakeBotApi()
    api.flood_limit = 2
    with FakeOpenAI() as llm:
        llm.set_default(model)
        svc = real_services(tmp_path, llm)
        try:
            svc.store.core.add_source(STUDENT, paper_source())
            svc.store.core.add_source(STUDENT, video_source())
            note(svc.store.core, "什么是Transformer？", [("Transformer", "变换器")], STUDENT)
            async with polling(api, svc, tmp_path):
                api.queue(api.update("message", text="/report"))
                await api.wait_for(
                    lambda: any(m.buttons for m in api.bot_messages(STUDENT)),
                    within=120,
                    what="the failed report's 🔄",
                )
                [failed] = api.bot_messages(STUDENT)
                assert [t for t, _ in failed.buttons] == ["🔄 再试一次"]
                assert "语言模型" in failed.plain  # what went wrong, in the chat's language
                assert drafts(llm, 0)[:2] == [2, 3]

                failing["on"] = False
                calls = len(llm.requests)
                api.queue(api.callback_update(STUDENT, failed.message_id, failed.buttons[0][1]))
                preview = await wait_text(api, STUDENT, "报告预览", within=120)
                assert drafts(llm, calls) == [3, 4]  # (2) was kept
                assert "<blockquote expandable>" in preview.text

                calls = len(llm.requests)
                again = dict(preview.buttons)["🔄 重写（3）"]
                api.queue(api.callback_update(STUDENT, preview.message_id, again))
                await api.wait_for(
                    lambda: sum("报告预览" in m.plain for m in api.bot_messages(STUDENT)) == 2,
                    within=120,
                    what="the second preview",
                )
                assert drafts(llm, calls) == [3]  # only (3) was written again
                second = last_text(api, STUDENT, "报告预览")
                assert second is not None
                accept = second.buttons[-1][1]
                api.queue(api.callback_update(STUDENT, second.message_id, accept))
                await api.wait_for(lambda: bool(api.of("sendDocument")), within=60)
                [upload] = api.of("sendDocument")
                name, data = upload.files["document"]
                assert name is not None
                assert name.endswith(".docx")
                props = docx.Document(io.BytesIO(data)).core_properties
                assert (props.title, props.author) == ("大模型技术论文阅读报告", "小明")
        finally:
            await svc.aclose()

        # A restart: new services over the same data directory.
        calls = len(llm.requests)
        svc = real_services(tmp_path, llm)
        try:
            async with polling(api, svc, tmp_path):
                api.queue(api.update("message", text="/report md"))
                await api.wait_for(lambda: len(api.of("sendDocument")) == 2, within=60)
        finally:
            await svc.aclose()
        assert len(llm.requests) == calls  # the kept report, sent again without the model
        assert api.of("sendDocument")[-1].files["document"][0].endswith(".md")
