"""/sources, /forget, /reset and /report as the student sees them (/notes: test_notebook)."""

from __future__ import annotations

import dataclasses
from typing import Any

import pymupdf

from kernel.errors import LLMError, MissingSourceError, PaperChoiceError, VideoMissingError
from kernel.models import SourceRecord
from tests.fakes.harness import running
from tests.fakes.services import (
    FakeLibrary,
    FakeReports,
    paper_record,
    report,
    services,
    transcribed_record,
    video_record,
)

CHAT = 1001


async def test_sources_list_and_remove_button() -> None:
    library = FakeLibrary(source_list=[paper_record(), video_record(), transcribed_record()])
    async with running(services(library)) as h:
        await h.send(h.api.update("message", text="/sources"))
        listing = h.api.bot_messages(CHAT)[-1]
        assert "1. 📄 论文 BERT: Pre-training" in listing.plain
        assert "2. 🎬 视频 Attention lecture · 12:34\n" in listing.plain  # captions: no mark
        assert "3. 🎬 视频 大模型技术讲座 · 58:00 · 🎙 语音识别" in listing.plain
        assert [t for t, _ in listing.buttons] == ["🗑 删除 1", "🗑 删除 2", "🗑 删除 3"]
        await h.send(h.api.callback_update(CHAT, listing.message_id, listing.buttons[1][1]))
        after = h.api.chat(CHAT)
    assert library.forgotten == ["src-video-1"]
    # The list is drawn again without it, renumbered.
    assert "Attention lecture" not in after[-2].plain
    assert "2. 🎬 视频 大模型技术讲座" in after[-2].plain
    assert [t for t, _ in after[-2].buttons] == ["🗑 删除 1", "🗑 删除 2"]
    assert after[-1].plain == "🗑 已删除：Attention lecture"


async def test_forget_by_number_and_empty_list() -> None:
    library = FakeLibrary(source_list=[paper_record()])
    async with running(services(library)) as h:
        await h.send(h.api.update("message", text="/forget 1"))
        await h.send(h.api.update("message", text="/sources"))
        done, empty = h.api.bot_messages(CHAT)
    assert done.plain.startswith("🗑 已删除：BERT")
    assert "还没有资料" in empty.plain


async def test_reset_needs_confirmation() -> None:
    library = FakeLibrary(source_list=[paper_record()])
    async with running(services(library)) as h:
        await h.send(h.api.update("message", text="/reset"))
        ask = h.api.bot_messages(CHAT)[-1]
        assert library.resets == []
        no = ask.buttons[1][1]
        await h.send(h.api.callback_update(CHAT, ask.message_id, no))
        assert library.resets == []
        await h.send(h.api.update("message", text="/reset"))
        ask = h.api.bot_messages(CHAT)[-1]
        await h.send(h.api.callback_update(CHAT, ask.message_id, ask.buttons[0][1]))
        assert library.resets == [CHAT]
        assert "已清空" in h.api.bot_messages(CHAT)[-1].plain


async def accept(h: Any) -> None:
    """Press ✅ under the report's preview (the last message with buttons)."""
    preview = next(m for m in reversed(h.api.bot_messages(CHAT)) if m.buttons)
    await h.send(h.api.callback_update(CHAT, preview.message_id, preview.buttons[-1][1]))


async def test_report_shows_progress_a_preview_and_sends_the_docx_when_accepted() -> None:
    reports = FakeReports(results=[report(), report()])
    async with running(services(reports=reports)) as h:
        await h.send(h.api.update("message", text="/report"))
        assert len(h.api.bot_messages(CHAT)) == 1
        assert h.api.of("sendDocument") == []  # the preview comes first
        await accept(h)
        status, accepted, document = h.api.bot_messages(CHAT)
        [upload] = h.api.of("sendDocument")
    assert "✍️ 正在写（3）关键技术解析…\n（1）（2）已完成，用时 0 s / 12 s" in status.history
    assert "🔎 正在核对全文的字数和引用…" in status.history[-2]
    preview = status.history[-1]
    assert "报告预览" in status.plain
    assert "共 2345 字" in status.plain
    assert "引用 17 处" in status.plain
    assert "<blockquote expandable>正文</blockquote>" in preview
    assert "（1）论文基本信息</b> · 10 字" in preview
    assert status.buttons == []  # pressed: the buttons are gone
    assert "报告写好了" in accepted.plain
    name, data = upload.files["document"]
    assert name == "BERT Pre-training_阅读报告.docx"
    assert data.startswith(b"PK")  # a real .docx (zip) written by python-docx
    assert "字数：2345" in document.plain
    assert "用到 3 条笔记" in document.plain
    assert "包含视频要点" in document.plain
    assert reports.authors == ["小明"]  # the student's name goes into the file's properties


async def test_an_english_chat_gets_progress_and_preview_in_english() -> None:
    reports = FakeReports(results=[report()])
    async with running(services(reports=reports)) as h:
        await h.send(h.api.update("message", text="/report", user={"language_code": "en"}))
        [status] = h.api.bot_messages(CHAT)
    assert "✍️ Writing （3）关键技术解析…\n（1）（2） done, in 0 s / 12 s" in status.history
    assert "Report preview" in status.plain
    assert "17 citations, each checked" in status.plain
    assert [t for t, _ in status.buttons][-1] == "✅ Use this one (.docx)"
    assert "🔄 Rewrite （3）" in [t for t, _ in status.buttons]


async def test_the_preview_offers_a_rewrite_of_each_section() -> None:
    reports = FakeReports(results=[report(), report()])
    async with running(services(reports=reports)) as h:
        await h.send(h.api.update("message", text="/report"))
        preview = h.api.bot_messages(CHAT)[-1]
        labels = [t for t, _ in preview.buttons]
        assert labels == ["🔄 重写（2）", "🔄 重写（3）", "🔄 重写（4）", "✅ 就用这一版（.docx）"]
        await h.send(h.api.callback_update(CHAT, preview.message_id, preview.buttons[1][1]))
        again = h.api.bot_messages(CHAT)[-1]
    assert reports.sections == [None, 3]  # only section (3) is written again
    assert "报告预览" in again.plain
    assert h.api.of("sendDocument") == []


async def test_a_kept_report_is_sent_at_once() -> None:
    kept = dataclasses.replace(report(), reused=True)
    reports = FakeReports(results=[kept])
    async with running(services(reports=reports)) as h:
        await h.send(h.api.update("message", text="/report md"))
        [upload] = h.api.of("sendDocument")
    assert upload.files["document"][0].endswith(".md")


async def test_a_failed_report_offers_a_retry_that_continues() -> None:
    reports = FakeReports(
        results=[LLMError("模型没有回答。", "The model did not answer."), report()]
    )
    async with running(services(reports=reports)) as h:
        await h.send(h.api.update("message", text="/report pdf"))
        failed = h.api.bot_messages(CHAT)[-1]
        assert "模型没有回答" in failed.plain
        assert "重试" not in failed.plain  # the button is the advice
        assert [t for t, _ in failed.buttons] == ["🔄 再试一次"]
        await h.send(h.api.callback_update(CHAT, failed.message_id, failed.buttons[0][1]))
        preview = h.api.bot_messages(CHAT)[-1]
    assert len(reports.builds) == 2
    assert "报告预览" in preview.plain
    assert preview.buttons[-1][0] == "✅ 就用这一版（.pdf）"


async def test_a_report_that_cannot_be_mended_by_retrying_has_no_retry_button() -> None:
    reports = FakeReports(results=[MissingSourceError("还没有论文。", "No paper yet.")])
    async with running(services(reports=reports)) as h:
        await h.send(h.api.update("message", text="/report"))
        failed = h.api.bot_messages(CHAT)[-1]
    assert "还没有论文" in failed.plain
    assert failed.buttons == []


async def test_report_md_and_no_video_question() -> None:
    missing = VideoMissingError("还没有讲解视频。", "no video")
    reports = FakeReports(results=[missing, report(video=False), report(video=False)])
    async with running(services(reports=reports)) as h:
        await h.send(h.api.update("message", text="/report md"))
        ask = h.api.bot_messages(CHAT)[-1]
        assert "还没有视频资料" in ask.plain
        assert [t for t, _ in ask.buttons] == ["不含视频，直接写", "我先发视频"]
        await h.send(h.api.callback_update(CHAT, ask.message_id, ask.buttons[0][1]))
        preview = h.api.bot_messages(CHAT)[-1]
        assert "🔄 重写（4）" not in [t for t, _ in preview.buttons]  # no video: nothing to redo
        await accept(h)
        [upload] = h.api.of("sendDocument")
        caption = h.api.bot_messages(CHAT)[-1].plain
    assert reports.builds == [False, True, True]  # the choice holds when accepted
    name, data = upload.files["document"]
    assert name.endswith(".md")
    assert "（1）论文基本信息" in data.decode()
    assert "未包含视频" in caption


async def test_report_pdf_sends_a_pdf_copy() -> None:
    reports = FakeReports(results=[report(), report()])
    async with running(services(reports=reports)) as h:
        await h.send(h.api.update("message", text="/report pdf"))
        await accept(h)
        [upload] = h.api.of("sendDocument")
    name, data = upload.files["document"]
    assert name == "BERT Pre-training_阅读报告.pdf"
    assert data.startswith(b"%PDF-")
    with pymupdf.open(stream=data, filetype="pdf") as pdf:
        text = "".join(page.get_text() for page in pdf)
    assert "（1）论文基本信息" in text  # the CJK text is really in the PDF


def _two_papers() -> list[SourceRecord]:
    other = paper_record(title="GPT-3: Language Models are Few-Shot Learners")
    return [paper_record(), other.model_copy(update={"source_id": "src-paper-2"})]


async def test_report_with_two_papers_asks_which_one_and_remembers_it() -> None:
    papers = _two_papers()
    choices = tuple((p.source_id, p.title) for p in papers)
    reports = FakeReports(results=[PaperChoiceError("which_paper", choices=choices), report(),
                                   report(), report()])  # fmt: skip
    library = FakeLibrary(source_list=papers)
    async with running(services(library, reports=reports)) as h:
        await h.send(h.api.update("message", text="/report pdf"))
        ask = h.api.bot_messages(CHAT)[-1]
        assert "有 2 篇论文" in ask.plain
        assert [t for t, _ in ask.buttons] == [f"📄 {p.title}" for p in papers]
        await h.send(h.api.callback_update(CHAT, ask.message_id, ask.buttons[1][1]))
        await accept(h)
        await h.send(h.api.update("message", text="/report"))  # the choice is kept
        files = [c.files["document"][0] for c in h.api.of("sendDocument")]
    assert reports.papers == [None, "src-paper-2", "src-paper-2", "src-paper-2"]
    assert files[0] is not None
    assert files[0].endswith(".pdf")


async def test_sources_offers_the_report_choice_when_there_are_two_papers() -> None:
    papers = _two_papers()
    reports = FakeReports(results=[report()])
    async with running(services(FakeLibrary(source_list=papers), reports=reports)) as h:
        await h.send(h.api.update("message", text="/sources"))
        listing = h.api.bot_messages(CHAT)[-1]
        assert [t for t, _ in listing.buttons][-2:] == ["📝 报告写第 1 篇", "📝 报告写第 2 篇"]
        await h.send(h.api.callback_update(CHAT, listing.message_id, listing.buttons[-1][1]))
        said = h.api.bot_messages(CHAT)[-1]
        await h.send(h.api.update("message", text="/sources"))
        marked = h.api.bot_messages(CHAT)[-1]
        await h.send(h.api.update("message", text="/report"))
    assert "之后的报告都写《GPT-3: Language Models are Few-Shot Learners》" in said.plain
    assert "2. 📄 论文 GPT-3: Language Models are Few-Shot Learners · 16 p.（写报告用这篇）" in (
        marked.plain
    )
    assert reports.papers == ["src-paper-2"]


async def test_one_paper_gets_no_report_choice_buttons() -> None:
    async with running(services(FakeLibrary(source_list=[paper_record()]))) as h:
        await h.send(h.api.update("message", text="/sources"))
        listing = h.api.bot_messages(CHAT)[-1]
    assert [t for t, _ in listing.buttons] == ["🗑 删除 1"]
