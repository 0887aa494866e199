"""Sending files: PDFs with progress and the paper card, passwords, subtitles, refusals."""

from __future__ import annotations

import asyncio

from kernel.errors import (
    NoTextError,
    PasswordRequiredError,
    ReplaceFailedError,
    WrongPasswordError,
)
from tests.fakes.harness import running
from tests.fakes.services import FakeLibrary, paper_record, services, video_record

CHAT = 1001


async def test_pdf_shows_progress_then_the_paper_card_with_questions() -> None:
    library = FakeLibrary(
        results={"add_pdf": [paper_record()]},
        stages=[("parsing", 1, 2), ("parsing", 2, 2), ("indexing", 5, 5)],
    )
    async with running(services(library)) as h:
        await h.send(h.api.document_update(b"%PDF-1.7 fake", "bert.pdf"))
        [status] = h.api.bot_messages(CHAT)
    assert library.calls == [
        (
            "add_pdf",
            {"chat_id": CHAT, "data": b"%PDF-1.7 fake", "filename": "bert.pdf", "password": None},
        )
    ]
    assert status.history[0] == "⏬ 下载中…"
    # Reports that come faster than the edit interval are coalesced: the latest one shows.
    assert "🗂 建立索引 5/5…" in status.history
    card = status.plain
    for expected in (
        "论文读完了",
        "标题：BERT: Pre-training of Deep Bidirectional Transformers",
        "作者：Jacob Devlin, Ming-Wei Chang",
        "发表：NAACL 2019",
        "链接：https://arxiv.org/abs/1810.04805",
        "页数：16 页（42 个片段）",
        "第 3 页没有文字层",
    ):
        assert expected in card
    questions = [text for text, _ in status.buttons]
    assert len(questions) == 3
    assert "BERT 是什么？请用简单的话解释" in questions


async def test_oversized_file_is_refused_before_downloading() -> None:
    library = FakeLibrary()
    async with running(services(library)) as h:
        await h.send(h.api.document_update(b"x", "big.pdf", file_size=25 * 2**20))
        [reply] = h.api.bot_messages(CHAT)
        assert h.api.of("getFile") == []
    assert "25.0 MB" in reply.plain
    assert "20 MB" in reply.plain
    assert library.calls == []


async def test_unsupported_file_gets_a_clear_reply() -> None:
    library = FakeLibrary()
    async with running(services(library)) as h:
        await h.send(h.api.document_update(b"PK..", "notes.docx"))
        [reply] = h.api.bot_messages(CHAT)
        assert h.api.of("getFile") == []
    assert "我能读 PDF 论文、讲座的视频/音频文件" in reply.plain
    assert "notes.docx" in reply.plain


async def test_encrypted_pdf_asks_for_the_password_and_deletes_it() -> None:
    library = FakeLibrary(
        results={
            "add_pdf": [
                PasswordRequiredError("需要密码", "password needed"),
                WrongPasswordError("密码错误", "wrong password"),
                paper_record(),
            ]
        }
    )
    async with running(services(library)) as h:
        await h.send(h.api.document_update(b"%PDF enc", "locked.pdf"))
        assert "请在下一条消息里只发送密码" in h.api.bot_messages(CHAT)[-1].plain
        wrong = h.api.update("message", text="nope")
        await h.send(wrong)
        assert "密码不对" in h.api.bot_messages(CHAT)[-1].plain
        assert "还可以试 2 次" in h.api.bot_messages(CHAT)[-1].plain
        right = h.api.update("message", text="s3cret")
        await h.send(right)
        texts = [m.text for m in h.api.chat(CHAT)]
        assert "s3cret" not in texts  # the password message was deleted
        assert "论文读完了" in h.api.bot_messages(CHAT)[-1].plain
    passwords = [kw["password"] for _, kw in library.calls]
    assert passwords == [None, "nope", "s3cret"]
    assert all(kw["data"] == b"%PDF enc" for _, kw in library.calls)


async def test_scanned_pdf_error_replaces_the_status() -> None:
    library = FakeLibrary(
        results={"add_pdf": [NoTextError("这份 PDF 是扫描版，没有文字。", "scanned")]}
    )
    async with running(services(library)) as h:
        await h.send(h.api.document_update(b"%PDF scan", "scan.pdf"))
        [status] = h.api.bot_messages(CHAT)
    assert status.plain == "这份 PDF 是扫描版，没有文字。"


async def test_subtitle_file_is_tied_to_the_last_video_link() -> None:
    url = "https://www.youtube.com/watch?v=dQw4w9WgXcQ"
    from kernel.errors import VideoUnavailableError

    library = FakeLibrary(
        results={
            "add_video_link": [VideoUnavailableError("private")],
            "add_subtitles": [video_record(url=url)],
        }
    )
    async with running(services(library)) as h:
        await h.send(h.api.update("message", text=f"看这个 {url}"))
        failed = h.api.bot_messages(CHAT)[-1].plain
        await h.send(h.api.document_update(b"1\n00:00:01,000 --> 00:00:02,000\nhi\n", "a.srt"))
        done = h.api.bot_messages(CHAT)[-1].plain
    assert "这个视频是私密的" in failed
    assert "字幕文件" in failed  # what to do instead
    assert library.calls[1][1]["url"] == url
    assert library.calls[1][1]["filename"] == "a.srt"
    for expected in (
        "视频字幕读完了",
        "Attention lecture",
        "语言：en",
        "时长：12:34",
        "片段：12 段",
    ):
        assert expected in done


async def test_a_second_file_while_busy_says_it_waits_its_turn() -> None:
    library = FakeLibrary(results={"add_pdf": [paper_record()]}, busy=True, stages=[])
    async with running(services(library)) as h:
        await h.send(h.api.document_update(b"%PDF", "p.pdf"))
        [status] = h.api.bot_messages(CHAT)
    assert any("排队" in text for text in status.history)


async def test_progress_edits_are_throttled() -> None:
    gate = asyncio.Event()
    library = FakeLibrary(
        results={"add_pdf": [paper_record()]},
        stages=[("parsing", i, 200) for i in range(1, 201)],
        gate=gate,
    )
    async with running(services(library), edit_interval_s=0.3) as h:
        task = asyncio.create_task(h.send(h.api.document_update(b"%PDF", "p.pdf")))
        await asyncio.sleep(0.8)
        gate.set()
        await task
        [status] = h.api.bot_messages(CHAT)
    # 200 reports in well under a second: at most a few edits, the last report shown.
    assert status.edits <= 5
    assert "📄 解析第 200/200 页…" in status.history


async def test_an_unexpected_failure_ends_the_status_and_apologises_once() -> None:
    library = FakeLibrary(results={"add_subtitles": [RuntimeError("parser bug")]})
    async with running(services(library)) as h:
        await h.send(h.api.document_update(b"1\n00:00:01,000 --> 00:00:02,000\nhi\n", "talk.srt"))
        status, apology = h.api.bot_messages(CHAT)
    assert status.plain == "❌ 没有完成。"  # the progress message does not stay "working…"
    assert "parser bug" not in apology.plain
    assert "抱歉" in apology.plain


async def test_a_second_paper_is_said_on_its_card() -> None:
    first = paper_record()
    second = paper_record(title="GPT-3").model_copy(update={"source_id": "src-paper-2"})
    library = FakeLibrary(results={"add_pdf": [second]}, source_list=[first, second])
    async with running(services(library)) as h:
        await h.send(h.api.document_update(b"%PDF-1.7 fake", "gpt3.pdf"))
        [card] = h.api.bot_messages(CHAT)
    assert "这是这个对话里的第 2 篇论文" in card.plain
    assert "/sources" in card.plain


async def test_a_failed_resend_says_the_previous_version_still_works() -> None:
    failed = ReplaceFailedError("kept_previous", title="BERT")
    library = FakeLibrary(results={"add_pdf": [failed]})
    async with running(services(library)) as h:
        await h.send(h.api.document_update(b"%PDF-1.7 fake", "bert.pdf"))
        [status] = h.api.bot_messages(CHAT)
    assert "重新发送的《BERT》没有处理完" in status.plain
    assert "之前的版本没有受影响" in status.plain
    assert "可以稍后重试" in status.plain


async def test_a_download_that_broke_offers_a_retry_that_downloads_the_file_again() -> None:
    library = FakeLibrary(results={"add_pdf": [paper_record()]})
    async with running(services(library)) as h:
        h.api.fail_methods["getFile"] = "Bad Request: temporarily unavailable"
        await h.send(h.api.document_update(b"%PDF-1.7 fake", "bert.pdf"))
        [failed] = h.api.bot_messages(CHAT)
        assert [t for t, _ in failed.buttons] == ["🔄 再试一次"]
        assert library.calls == []  # nothing was read: the file never arrived
        del h.api.fail_methods["getFile"]
        await h.send(h.api.callback_update(CHAT, failed.message_id, failed.buttons[0][1]))
        failed, done = h.api.bot_messages(CHAT)
    assert failed.buttons == []  # the button went with the press
    assert "论文读完了" in done.plain
    assert [(name, call["data"], call["filename"]) for name, call in library.calls] == [
        ("add_pdf", b"%PDF-1.7 fake", "bert.pdf")
    ]
