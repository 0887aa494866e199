"""A report that survives: each accepted section is kept, a failed call costs one section only,
a second build continues (or reuses the whole report), and a change of material starts over.

Real store (embedded Qdrant), real OpenAI client, the fake model server; model calls are
counted by the section prompt they carry.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import docx
import pytest
from docx.shared import Mm

from bot.llm import OpenAIChatModel
from bot.report import HEADINGS, ReportBuilder
from bot.report.models import ReportProgress
from bot.report.prompts import VERIFY_SYSTEM
from kernel.errors import LLMError, ReportSectionError
from storage.async_store import AsyncKnowledgeStore
from storage.kept_reports import KeptReports
from storage.store import KnowledgeStore
from tests.bot.report.support import (
    CHAT,
    cooperative,
    note,
    paper_source,
    prompt_of,
    video_source,
)
from tests.fakes.openai_server import FakeOpenAI, Status

WRITES = {2: "（2）核心内容摘要”部分", 3: "（3）关键技术解析”部分", 4: "（4）视频补充要点”部分"}
"""The words of each section's first-draft prompt (revisions and checks name it otherwise)."""


def first_drafts(fake: FakeOpenAI, since: int = 0) -> list[int]:
    """The sections whose first draft was asked for, in order, from request ``since`` on."""
    asked = []
    for body in fake.requests[since:]:
        if body["messages"][0]["content"] == VERIFY_SYSTEM:
            continue
        prompt = prompt_of(body)
        asked += [n for n, words in WRITES.items() if f"请撰写报告的“{words}" in prompt]
    return asked


def section_calls(fake: FakeOpenAI, since: int, section: int) -> int:
    """Model calls from ``since`` on that are about ``section`` (drafts, revisions, checks)."""
    heading = HEADINGS[section - 1]
    return sum(
        1
        for body in fake.requests[since:]
        if heading in prompt_of(body) or heading[3:] in prompt_of(body)
    )


@pytest.fixture
def material(store: KnowledgeStore) -> KnowledgeStore:
    """The chat's paper, video and one note, in ``store``."""
    store.add_source(CHAT, paper_source())
    store.add_source(CHAT, video_source())
    note(store, "什么是Transformer？", [("Transformer", "变换器")])
    return store


@pytest.fixture
def builder(
    material: KnowledgeStore, served: AsyncKnowledgeStore, model: OpenAIChatModel, tmp_path: Path
) -> Callable[[], ReportBuilder]:
    """Makes a builder as a new process would: its own view of the kept reports on disk."""
    return lambda: ReportBuilder(served, model, kept=KeptReports(tmp_path / "reports"))


def failing_tech(reply: Any) -> Callable[[dict[str, Any]], Any]:
    """Cooperative, except that the first draft of section (3) gets ``reply`` (a fault)."""

    def answer(body: dict[str, Any]) -> Any:
        if body["messages"][0]["content"] != VERIFY_SYSTEM and WRITES[3] in prompt_of(body):
            return reply
        return cooperative(body)

    return answer


@pytest.mark.parametrize(
    "fault",
    [Status(500, '{"error": {"message": "boom"}}'), ""],
    ids=["server-error", "empty-reply"],
)
async def test_a_failed_section_is_the_only_one_written_again(
    builder: Callable[[], ReportBuilder],
    fake_openai: FakeOpenAI,
    fault: Any,
) -> None:
    fake_openai.set_default(failing_tech(fault))
    with pytest.raises(LLMError):
        await builder().build(CHAT)
    drafts = first_drafts(fake_openai)  # (2) written and kept; (3) failed, however retried
    assert drafts[:3] == [2, 3, 3]
    assert set(drafts[1:]) == {3}

    fake_openai.set_default(cooperative)
    before = len(fake_openai.requests)
    steps: list[ReportProgress] = []

    async def progress(p: ReportProgress) -> None:
        steps.append(p)

    report = await builder().build(CHAT, progress=progress)

    assert first_drafts(fake_openai, before) == [3, 4]  # (2) was not written again
    assert section_calls(fake_openai, before, 2) == 0
    assert 2000 <= report.chars <= 3000
    assert all(s.body for s in report.sections)
    assert not report.reused
    # Progress says which section is written (0-based), and which were kept from before.
    assert [p.writing for p in steps] == [2, 3, None]
    assert steps[0].done == ((0, 0.0), (1, None))  # (1) by code, (2) kept
    assert steps[-1].done[-1][0] == 3
    assert steps[-1].done[-1][1] is not None


async def test_kept_sections_survive_a_cancelled_build(
    builder: Callable[[], ReportBuilder], fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    fake_openai.set_default(cooperative)
    reached = asyncio.Event()

    async def progress(p: ReportProgress) -> None:
        if p.writing == 2:  # (1) and (2) are done, (3) is next: the work stops here
            reached.set()
            await asyncio.sleep(3600)

    task = asyncio.create_task(builder().build(CHAT, progress=progress))
    await asyncio.wait_for(reached.wait(), 60)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert [p.name for p in (tmp_path / "reports" / str(CHAT)).iterdir()] != []

    before = len(fake_openai.requests)
    report = await builder().build(CHAT)

    assert first_drafts(fake_openai, before) == [3, 4]
    assert 2000 <= report.chars <= 3000


async def test_a_finished_report_is_reused_until_the_material_changes(
    store: KnowledgeStore,
    builder: Callable[[], ReportBuilder],
    fake_openai: FakeOpenAI,
) -> None:
    fake_openai.set_default(cooperative)
    first = await builder().build(CHAT)
    calls = len(fake_openai.requests)

    again = await builder().build(CHAT)
    assert len(fake_openai.requests) == calls  # no model call at all
    assert again.reused
    assert not first.reused
    assert again.sections == first.sections
    assert again.citations == first.citations

    note(store, "多头注意力有什么用？", [("Multi-Head Attention", "多头注意力")])
    changed = await builder().build(CHAT)
    assert first_drafts(fake_openai, calls) == [2, 3, 4]  # a new note: written anew
    assert not changed.reused
    assert changed.notes_used == 2

    calls = len(fake_openai.requests)
    await builder().build(CHAT, fresh=True)
    assert first_drafts(fake_openai, calls) == [2, 3, 4]  # --fresh ignores what was kept


async def test_a_new_generation_of_the_paper_makes_the_kept_report_stale(
    store: KnowledgeStore,
    builder: Callable[[], ReportBuilder],
    fake_openai: FakeOpenAI,
) -> None:
    fake_openai.set_default(cooperative)
    await builder().build(CHAT)
    calls = len(fake_openai.requests)
    store.add_source(CHAT, paper_source(repeat=3))  # the same paper sent again: re-ingested
    await builder().build(CHAT)
    assert first_drafts(fake_openai, calls) == [2, 3, 4]


async def test_one_section_is_regenerated_and_the_others_kept(
    builder: Callable[[], ReportBuilder],
    fake_openai: FakeOpenAI,
) -> None:
    fake_openai.set_default(cooperative)
    first = await builder().build(CHAT)
    calls = len(fake_openai.requests)

    again = await builder().build(CHAT, section=3)

    assert first_drafts(fake_openai, calls) == [3]
    assert section_calls(fake_openai, calls, 2) == 0
    assert section_calls(fake_openai, calls, 4) == 0
    assert "换一种组织方式" in prompt_of(fake_openai.requests[calls])
    assert again.sections[1] == first.sections[1]
    assert again.sections[3] == first.sections[3]
    assert 2000 <= again.chars <= 3000
    assert again.citations > 0
    # The regenerated report is the kept one now: reused as it is.
    calls = len(fake_openai.requests)
    reused = await builder().build(CHAT)
    assert len(fake_openai.requests) == calls
    assert reused.sections == again.sections


async def test_section_one_cannot_be_regenerated(builder: Callable[[], ReportBuilder]) -> None:
    with pytest.raises(ReportSectionError) as caught:
        await builder().build(CHAT, section=1)
    assert "（2）（3）（4）" in caught.value.message("zh")


def test_kept_reports_are_scoped_to_the_chat_and_removed_with_it(tmp_path: Path) -> None:
    from storage.kept_reports import KeptDraft, KeptReport

    kept = KeptReports(tmp_path)
    kept.save(CHAT, "paper-1", KeptReport("fp", {1: KeptDraft("正文")}))
    kept.save(CHAT + 1, "paper-1", KeptReport("fp", {1: KeptDraft("别人的")}))
    found = kept.load(CHAT, "paper-1", "fp")
    assert found is not None
    assert found.drafts[1].body == "正文"
    assert kept.load(CHAT, "paper-1", "other") is None  # another material: stale
    kept.forget(CHAT)
    assert kept.load(CHAT, "paper-1", "fp") is None
    other = kept.load(CHAT + 1, "paper-1", "fp")
    assert other is not None
    assert other.drafts[1].body == "别人的"
    (tmp_path / str(CHAT + 1) / "paper-1.json").write_text("{half", "utf-8")
    assert kept.load(CHAT + 1, "paper-1", "fp") is None  # unreadable: written again
    with pytest.raises(ValueError, match="not a source id"):
        kept.save(CHAT, "../../etc", KeptReport("fp"))


async def test_the_docx_says_its_title_author_and_date_on_a4(
    builder: Callable[[], ReportBuilder],
    fake_openai: FakeOpenAI,
) -> None:
    fake_openai.set_default(cooperative)
    reports = builder()
    report = await reports.build(CHAT)
    data, name = await reports.render(report, "docx", author="李同学")

    document = docx.Document(io.BytesIO(data))
    props = document.core_properties
    assert props.title == "大模型技术论文阅读报告"
    assert props.author == "李同学"
    assert props.created is not None
    created = props.created.replace(tzinfo=UTC) if props.created.tzinfo is None else props.created
    assert abs(datetime.now(UTC) - created) < timedelta(minutes=5)
    section = document.sections[0]
    assert section.page_width is not None
    assert section.page_height is not None
    assert abs(section.page_width - Mm(210)) < Mm(1)
    assert abs(section.page_height - Mm(297)) < Mm(1)
    assert name.endswith(".docx")


async def test_a_note_explained_again_makes_the_kept_report_stale(
    store: KnowledgeStore, builder: Callable[[], ReportBuilder], fake_openai: FakeOpenAI
) -> None:
    fake_openai.set_default(cooperative)
    await builder().build(CHAT)
    calls = len(fake_openai.requests)
    [kept] = store.notes(CHAT)
    store.put_note(kept.model_copy(update={"answer": "更简单地说：Transformer 只用注意力 [1]。"}))
    assert [n.answer for n in store.notes(CHAT)] == ["更简单地说：Transformer 只用注意力 [1]。"]
    await builder().build(CHAT)
    assert first_drafts(fake_openai, calls) == [2, 3, 4]
