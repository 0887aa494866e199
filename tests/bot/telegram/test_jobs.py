"""A status message is written down while its work runs; after a crash, the next start edits it
to say what happened (the store's recovery says whether a previous version was kept)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bot.telegram.jobs import Job, JobLedger
from storage.recovery import Interrupted, Recovery
from tests.fakes.harness import running
from tests.fakes.services import FakeLibrary, FakeReports, FakeStore, paper_record, report, services

CHAT = 1001


async def test_a_status_message_is_written_down_until_its_work_ends(tmp_path: Path) -> None:
    gate = asyncio.Event()
    library = FakeLibrary(results={"add_pdf": [paper_record()]}, gate=gate)
    ledger = JobLedger(tmp_path)
    async with running(services(library), jobs_dir=tmp_path) as h:
        task = asyncio.create_task(h.send(h.api.document_update(b"%PDF-1.7", "bert.pdf")))
        for _ in range(200):
            await asyncio.sleep(0.01)
            if ledger.left_over():
                break
        [job] = ledger.left_over()  # on disk while the paper is being read
        [status] = h.api.bot_messages(CHAT)
        assert (job.chat_id, job.message_id, job.kind, job.name, job.lang) == (
            CHAT, status.message_id, "source", "bert.pdf", "zh",
        )  # fmt: skip
        gate.set()
        await task
    assert ledger.left_over() == []  # done: nothing to report after a restart
    assert "论文读完了" in h.api.bot_messages(CHAT)[0].plain


async def test_a_failed_download_ends_the_status_and_the_job(tmp_path: Path) -> None:
    async with running(services(FakeLibrary()), jobs_dir=tmp_path) as h:
        h.api.fail_methods["getFile"] = "Bad Request: file is too big"
        await h.send(h.api.document_update(b"%PDF-1.7", "bert.pdf"))
        [status, *_] = h.api.bot_messages(CHAT)
    # Not stuck at "下载中…": Telegram's refusal said, with what to do (no 🔄: it cannot help).
    assert "Telegram 不让机器人下载这么大的文件（上限 20 MB）" in status.plain
    assert status.buttons == []
    assert JobLedger(tmp_path).left_over() == []


def _leave(tmp_path: Path, job: Job) -> None:
    """What a killed process leaves: the job file of a status message."""
    asyncio.run(JobLedger(tmp_path).begin(job))


async def test_after_a_crash_the_status_says_the_resend_did_not_finish(tmp_path: Path) -> None:
    recovery = Recovery(interrupted=(Interrupted(CHAT, "src-1", "BERT", kept_previous=True),))
    store = FakeStore(recovery)
    async with running(services(store=store), jobs_dir=tmp_path) as h:
        # A message the previous process was editing when it died.
        frozen = await h.app.bot.send_message(CHAT, "🗂 建立索引 12/40…")
        await JobLedger(tmp_path).begin(Job(CHAT, frozen.message_id, "zh", "source", "bert.pdf"))
        await h.app.post_init(h.app)  # type: ignore[misc]  # what the next start runs
        [shown] = h.api.bot_messages(CHAT)
    assert store.recovered == 2  # the harness's start, and this one
    assert "重新发送的《BERT》没有处理完" in shown.plain
    assert "之前的版本没有受影响" in shown.plain
    assert JobLedger(tmp_path).left_over() == []  # said once, not at every start


async def test_every_kind_of_interrupted_work_gets_its_own_words(tmp_path: Path) -> None:
    new = Recovery(interrupted=(Interrupted(CHAT, "src-2", "GPT", kept_previous=False),))
    async with running(services(store=FakeStore(new)), jobs_dir=tmp_path) as h:
        ledger = JobLedger(tmp_path)
        sent = [await h.app.bot.send_message(CHAT, f"⏳ {n}") for n in range(2)]
        await ledger.begin(Job(CHAT, sent[0].message_id, "en", "source", "gpt.pdf"))
        await ledger.begin(Job(CHAT, sent[1].message_id, "zh", "report"))
        await ledger.begin(Job(2002, 999_999, "zh", "source", "lecture.srt"))  # message gone
        await h.app.post_init(h.app)  # type: ignore[misc]
        texts = [m.plain for m in h.api.bot_messages(CHAT)]
        elsewhere = [m.plain for m in h.api.bot_messages(2002)]
    assert "The bot restarted before “GPT” was finished" in texts[0]
    assert "阅读报告没有写完" in texts[1]
    assert "/report" in texts[1]
    assert elsewhere == [
        "⚠️ 机器人刚才重启了，“lecture.srt”没有处理完（已有的资料不受影响）。请重新发送一次。"
    ]


async def test_a_report_in_progress_is_written_down_too(tmp_path: Path) -> None:
    reports = FakeReports(results=[report(reused=True)])
    async with running(services(reports=reports), jobs_dir=tmp_path) as h:
        await h.send(h.api.update("message", text="/report"))
    assert JobLedger(tmp_path).left_over() == []
    assert h.api.of("sendDocument")
