"""ReportBuilder end to end: real store (embedded Qdrant), real OpenAI client, fake server.

Models that misbehave (too short, too long, whole reports, invented citations, English) must
still end in a report with the four headings in order, a 字数 within range and only citations
that resolve to the paper's pages or the talk's timestamps.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from bot.llm import OpenAIChatModel
from bot.report import HEADINGS, Report, ReportBuilder, to_markdown
from bot.report.citations import count_markers
from bot.report.material import gather_material
from bot.report.models import ReportProgress
from bot.report.prompts import NO_NOTES_TEXT, NO_VIDEO_TEXT, VERIFY_SYSTEM
from bot.report.sections import checked_note
from bot.report.support import MARKER, resolver
from bot.report.wordcount import count_zi
from bot.support import scorer_for, split_sentences
from kernel.errors import (
    LLMError,
    MissingSourceError,
    PaperChoiceError,
    ReportTooShortError,
    ReportUnsupportedError,
    VideoMissingError,
)
from kernel.models import PaperMeta
from storage.async_store import AsyncKnowledgeStore
from storage.store import KnowledgeStore
from tests.bot.report.support import (
    CHAT,
    VIDEO_URL,
    cooperative,
    note,
    paper_source,
    prompt_of,
    video_source,
    writer_reply,
)
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.tutor_model import MODES, TutorModel

PAPER_PAGES = set(range(1, 11))
TALK_SECONDS = [(60.0 * i, 60.0 * i + 58) for i in range(12)]


@pytest.fixture
def full_store(store: KnowledgeStore) -> KnowledgeStore:
    store.add_source(CHAT, paper_source())
    store.add_source(CHAT, video_source())
    note(store, "什么是Transformer？", [("Transformer", "变换器")])
    note(store, "多头注意力有什么用？", [("Multi-Head Attention", "多头注意力")])
    return store


def _seconds(stamp: str) -> int:
    parts = [int(p) for p in stamp.split(":")]
    return (
        parts[0] * 60 + parts[1] if len(parts) == 2 else parts[0] * 3600 + parts[1] * 60 + parts[2]
    )


def assert_well_formed(report: Report, lo: int = 2000, hi: int = 3000) -> None:
    """Structure, range and citations every student must get."""
    assert [s.heading for s in report.sections] == list(HEADINGS)
    assert all(s.body.strip() for s in report.sections)
    assert report.chars == sum(count_zi(s.heading) + count_zi(s.body) for s in report.sections)
    assert lo <= report.chars <= hi
    found = 0
    for section in report.sections:
        for marker in re.findall(r"\[[^\[\]]*\]", section.body):
            paper = re.fullmatch(r"\[论文 p\.(\d+)\]", marker)
            talk = re.fullmatch(r"\[视频 (\d+:\d\d(?::\d\d)?)\]", marker)
            assert paper or talk, f"stray marker {marker!r}"
            if paper:
                assert int(paper.group(1)) in PAPER_PAGES
                assert section.heading != HEADINGS[3], "section (4) cites the video only"
            if talk:
                t = _seconds(talk.group(1))
                assert any(a - 1 <= t <= b + 1 for a, b in TALK_SECONDS), marker
                assert section.heading != HEADINGS[1], "section (2) cites the paper only"
            found += 1
    assert found == report.citations


async def test_cooperative_model_gives_the_full_report(
    full_store: KnowledgeStore,
    model: OpenAIChatModel,
    fake_openai: FakeOpenAI,
    served: AsyncKnowledgeStore,
) -> None:
    fake_openai.set_default(cooperative)
    steps: list[int | None] = []

    async def progress(p: ReportProgress) -> None:
        steps.append(p.writing)

    report = await ReportBuilder(served, model).build(CHAT, progress=progress)

    assert_well_formed(report)
    assert steps == [1, 2, 3, None]  # each section, then the whole report's check
    assert report.video_included
    assert report.notes_used == 2
    assert report.paper_title == "Attention Is All You Need"
    info = report.sections[0].body
    assert "论文标题：Attention Is All You Need" in info
    assert "Ashish Vaswani" in info
    assert "Google Brain" in info
    assert "发表刊物或会议：未知（论文中未注明）" in info  # the metadata has no venue
    assert "https://arxiv.org/abs/1706.03762" in info
    assert any("https://arxiv.org/abs/1706.03762" in s for s in report.sources)
    assert any(VIDEO_URL in s for s in report.sources)
    assert "[视频" in report.sections[3].body
    assert "[论文" in report.sections[1].body
    prompts = [prompt_of(body) for body in fake_openai.requests]
    tech = next(p for p in prompts if "关键技术解析" in p)
    assert "什么是Transformer？" in tech
    assert "多头注意力（Multi-Head Attention）" in tech
    talk = next(p for p in prompts if "视频补充要点" in p)
    assert "[论文" not in talk
    assert "Softmax turns the scores" in talk
    assert "Layer normalization" not in next(p for p in prompts if "核心内容摘要" in p)


async def test_too_short_drafts_are_revised_into_range(
    full_store: KnowledgeStore,
    model: OpenAIChatModel,
    fake_openai: FakeOpenAI,
    served: AsyncKnowledgeStore,
) -> None:
    for _ in range(3):
        fake_openai.enqueue("本部分内容较为简略，仅作概述[论文 p.3]。")
    fake_openai.set_default(cooperative)

    report = await ReportBuilder(served, model).build(CHAT)

    assert_well_formed(report)
    assert len(fake_openai.requests) > 3  # revisions were asked for


async def test_a_model_that_stays_terse_still_reaches_the_minimum(
    full_store: KnowledgeStore,
    model: OpenAIChatModel,
    fake_openai: FakeOpenAI,
    served: AsyncKnowledgeStore,
) -> None:
    # Every draft and revision is a third of what was asked; only "expand" works.
    def terse(body: dict[str, object]) -> str:
        prompt = prompt_of(body)  # type: ignore[arg-type]
        return writer_reply(prompt, scale=1.0 if "续写" in prompt else 0.3)

    fake_openai.set_default(terse)
    report = await ReportBuilder(served, model, max_revisions=1).build(CHAT)

    assert_well_formed(report)
    assert any("续写" in prompt_of(b) for b in fake_openai.requests)


async def test_too_long_drafts_are_trimmed_at_sentence_ends(
    full_store: KnowledgeStore,
    model: OpenAIChatModel,
    fake_openai: FakeOpenAI,
    served: AsyncKnowledgeStore,
) -> None:
    fake_openai.set_default(lambda body: writer_reply(prompt_of(body), scale=4.0))

    report = await ReportBuilder(served, model, max_revisions=1).build(CHAT)

    assert_well_formed(report)
    for section in report.sections[1:]:
        assert all(p.endswith("。") for p in section.body.split("\n"))


async def test_whole_report_markdown_and_invented_citations_are_cleaned(
    full_store: KnowledgeStore,
    model: OpenAIChatModel,
    fake_openai: FakeOpenAI,
    served: AsyncKnowledgeStore,
) -> None:
    summary = writer_reply("篇幅：约 900 字\nS1 [论文 p.1]\n")
    fake_openai.enqueue(
        "# 大模型技术论文阅读报告\n## （1）论文基本信息\n作者是某某。\n"
        f"## （2）核心内容摘要\n**研究背景**\n{summary}\n"
        "另据研究，该模型在 99 种语言上取得最佳成绩[论文 p.99][视频 99:00][S999]。\n"
        "## （3）关键技术解析\n这里是别的部分。"
    )
    fake_openai.set_default(cooperative)

    report = await ReportBuilder(served, model).build(CHAT)

    assert_well_formed(report)
    body = report.sections[1].body
    assert "作者是某某" not in body
    assert "这里是别的部分" not in body
    assert "#" not in body
    assert "**" not in body
    assert "论文 p.99" not in body
    assert "99:00" not in body
    assert "S999" not in body


async def test_english_junk_is_rejected_and_rewritten(
    full_store: KnowledgeStore,
    model: OpenAIChatModel,
    fake_openai: FakeOpenAI,
    served: AsyncKnowledgeStore,
) -> None:
    for _ in range(3):
        fake_openai.enqueue("As an AI model I think the paper is about attention. " * 30)
    fake_openai.set_default(cooperative)

    report = await ReportBuilder(served, model).build(CHAT)

    assert_well_formed(report)
    assert all("As an AI" not in s.body for s in report.sections)
    assert any("没有使用中文书面语" in prompt_of(b) for b in fake_openai.requests)


async def test_a_model_that_never_writes_chinese_gives_a_clear_error(
    full_store: KnowledgeStore,
    model: OpenAIChatModel,
    fake_openai: FakeOpenAI,
    served: AsyncKnowledgeStore,
) -> None:
    fake_openai.set_default(lambda body: "Sorry, I can only answer in English. " * 20)

    with pytest.raises(LLMError) as info:
        await ReportBuilder(served, model, max_revisions=1).build(CHAT)

    assert info.value.retryable
    assert "稍后重试" in info.value.message("zh")


async def test_no_video_asks_first_then_says_so_plainly(
    store: KnowledgeStore,
    model: OpenAIChatModel,
    fake_openai: FakeOpenAI,
    served: AsyncKnowledgeStore,
) -> None:
    store.add_source(CHAT, paper_source())
    fake_openai.set_default(cooperative)
    builder = ReportBuilder(served, model)

    with pytest.raises(VideoMissingError) as info:
        await builder.build(CHAT)
    assert "视频" in info.value.message("zh")
    assert "video" in info.value.message("en")
    assert fake_openai.requests == []

    report = await builder.build(CHAT, allow_no_video=True)

    assert_well_formed(report)
    assert report.sections[3].body == NO_VIDEO_TEXT
    assert not report.video_included
    assert not any("讲解视频" in s for s in report.sources)
    assert not any("视频补充要点" in prompt_of(b) for b in fake_openai.requests)
    assert "[视频" not in "".join(s.body for s in report.sections)
    # No notes either: section (3) is about the paper's own techniques.
    assert report.notes_used == 0
    assert any(NO_NOTES_TEXT in prompt_of(b) for b in fake_openai.requests)


async def test_no_paper_asks_for_the_pdf(
    store: KnowledgeStore, served: AsyncKnowledgeStore
) -> None:
    from tests.fakes.chat import ScriptedChatModel

    store.add_source(CHAT, video_source())
    with pytest.raises(MissingSourceError) as info:
        await ReportBuilder(served, ScriptedChatModel()).build(CHAT, allow_no_video=True)
    assert "PDF" in info.value.message("zh")
    assert "PDF" in info.value.message("en")


async def test_configured_range_is_respected(
    full_store: KnowledgeStore,
    model: OpenAIChatModel,
    fake_openai: FakeOpenAI,
    served: AsyncKnowledgeStore,
) -> None:
    fake_openai.set_default(cooperative)
    report = await ReportBuilder(served, model, min_chars=1000, max_chars=1400).build(CHAT)
    assert_well_formed(report, 1000, 1400)


async def test_a_paper_too_short_for_the_report_is_explained(
    store: KnowledgeStore,
    model: OpenAIChatModel,
    fake_openai: FakeOpenAI,
    served: AsyncKnowledgeStore,
) -> None:
    store.add_source(CHAT, paper_source(meta=PaperMeta(title="A Tiny Note", pages=1), repeat=1))
    fake_openai.set_default(lambda body: writer_reply(prompt_of(body), scale=0.2))

    with pytest.raises(ReportTooShortError) as info:
        await ReportBuilder(served, model, max_revisions=1).build(CHAT, allow_no_video=True)

    assert not info.value.retryable
    assert "论文可用的文字太少" in info.value.message("zh")


async def test_video_points_without_a_timestamp_are_dropped(
    full_store: KnowledgeStore, served: AsyncKnowledgeStore
) -> None:
    from tests.fakes.chat import ScriptedChatModel

    model = ScriptedChatModel()
    model.set_default(lambda messages: writer_reply(messages[-1]["content"]))
    model.enqueue(lambda messages: writer_reply(messages[-1]["content"]))  # section (2)
    model.enqueue(lambda messages: writer_reply(messages[-1]["content"]))  # section (3)
    model.enqueue(
        lambda messages: (
            writer_reply(messages[-1]["content"])
            + "\n要点九：视频还讨论了强化学习与人类反馈的关系，这是视频中最精彩的部分之一。"
        )
    )

    report = await ReportBuilder(served, model).build(CHAT)

    assert_well_formed(report)
    assert "强化学习" not in report.sections[3].body
    assert all("[视频" in p for p in report.sections[3].body.split("\n"))


async def assert_citations_checked(report: Report, store: AsyncKnowledgeStore) -> None:
    """Every marker in sections (2)-(4) is supported by a snippet it names, and the footer and
    the reference list say only what is true."""
    material = await gather_material(store, CHAT)
    scorer = scorer_for(store.embedder)
    for section, snippets in zip(
        report.sections[1:], (material.summary, material.tech, material.talk), strict=True
    ):
        assert count_markers(section.body) > 0, f"{section.heading} has no checked citation"
        resolve = resolver(snippets)
        marked = [s for s in split_sentences(section.body, MARKER) if s.markers]
        scores = scorer.scores([s.text for s in marked], [s.text for s in snippets])
        for sentence, row in zip(marked, scores, strict=True):
            for marker in sentence.markers:
                best = max(row[j] for j in resolve(marker))
                assert best >= scorer.calibration.threshold, (marker, sentence.text)
    assert f"经逐句核对的引用 {report.citations} 处" in to_markdown(report)
    assert report.sources[-1] == checked_note(report.model_verified)


@pytest.mark.parametrize("mode", MODES)
async def test_every_report_citation_is_checked_whatever_the_model_does(
    full_store: KnowledgeStore,
    model: OpenAIChatModel,
    fake_openai: FakeOpenAI,
    mode: str,
    served: AsyncKnowledgeStore,
) -> None:
    tutor = TutorModel(mode)
    fake_openai.set_default(tutor.for_body)

    report = await ReportBuilder(served, model).build(CHAT)

    assert_well_formed(report)
    await assert_citations_checked(report, served)
    assert report.model_verified
    assert tutor.calls["verify"] >= 3  # every section's claims went to the model too
    assert "37.5" not in "".join(s.body for s in report.sections)
    if mode == "cooperative":
        assert (report.citations_moved, report.citations_removed) == (0, 0)
        assert report.citations_attributed == 0
    if mode == "no_markers":  # the model wrote no marker: every one was added by the code
        assert report.citations_attributed >= report.citations > 0
        assert (report.citations_moved, report.citations_removed) == (0, 0)
    if mode == "least_related":
        assert report.citations_moved > 0
    if mode == "invents_numbers":
        assert report.citations_removed > 0


async def test_a_claim_the_model_rejects_is_dropped_with_its_marker(
    full_store: KnowledgeStore,
    model: OpenAIChatModel,
    fake_openai: FakeOpenAI,
    served: AsyncKnowledgeStore,
) -> None:
    def writer(body: dict[str, object]) -> str:
        if body["messages"][0]["content"] == VERIFY_SYSTEM:  # type: ignore[index]
            return '{"unsupported": [1]}'
        return cooperative(body)  # type: ignore[arg-type]

    fake_openai.set_default(writer)
    report = await ReportBuilder(served, model).build(CHAT)

    assert_well_formed(report)
    assert report.citations_removed > 0
    assert report.model_verified


def off_topic_video_points(point: str) -> Callable[[dict[str, Any]], str]:
    """A model that cooperates except in section (4), where it repeats ``point``."""

    def writer(body: dict[str, Any]) -> str:
        if "视频补充要点" in prompt_of(body) and body["messages"][0]["content"] != VERIFY_SYSTEM:
            return point * 8
        return cooperative(body)

    return writer


async def test_a_section_no_snippet_supports_is_named_not_delivered(
    full_store: KnowledgeStore,
    model: OpenAIChatModel,
    fake_openai: FakeOpenAI,
    served: AsyncKnowledgeStore,
) -> None:
    fake_openai.set_default(
        off_topic_video_points("要点一：作者周末爱去郊外爬山钓鱼，与课程毫无关系[视频 1:00]。")
    )
    with pytest.raises(ReportUnsupportedError) as caught:
        await ReportBuilder(served, model, max_revisions=1).build(CHAT)
    assert "（4）视频补充要点" in caught.value.message("zh")
    assert "找不到依据" in caught.value.message("zh")
    assert caught.value.retryable


async def test_a_section_with_too_little_material_says_so(
    store: KnowledgeStore,
    model: OpenAIChatModel,
    fake_openai: FakeOpenAI,
    served: AsyncKnowledgeStore,
) -> None:
    store.add_source(CHAT, paper_source())
    store.add_source(CHAT, video_source(n=1))  # one line of transcript: nothing to build on
    fake_openai.set_default(
        off_topic_video_points("要点一：讲者详细介绍了模型的训练过程和评测结果[视频 0:00]。")
    )
    with pytest.raises(ReportUnsupportedError) as caught:
        await ReportBuilder(served, model, max_revisions=1).build(CHAT)
    assert "（4）视频补充要点" in caught.value.message("zh")
    assert "资料太少" in caught.value.message("zh")
    assert not caught.value.retryable


async def test_a_machine_transcribed_video_says_so_in_section_4_and_the_sources(
    store: KnowledgeStore,
    model: OpenAIChatModel,
    fake_openai: FakeOpenAI,
    served: AsyncKnowledgeStore,
) -> None:
    store.add_source(CHAT, paper_source())
    talk = video_source()
    assert talk.video is not None
    heard = talk.video.model_copy(update={"transcribed": True, "asr_model": "faster-whisper small"})
    store.add_source(CHAT, talk.model_copy(update={"video": heard}))
    fake_openai.set_default(cooperative)
    report = await ReportBuilder(served, model).build(CHAT)
    assert_well_formed(report)
    section = report.sections[3].body
    assert section.startswith(
        "说明：该视频没有可用的字幕，以下要点依据语音识别自动转写的文字稿整理"
    )
    assert "[视频" in section
    video_entry = next(s for s in report.sources if s.startswith("讲解视频"))
    assert "文字稿由语音识别（faster-whisper small）自动转写" in video_entry


async def test_with_two_papers_sections_one_and_two_describe_the_chosen_paper_only(
    full_store: KnowledgeStore,
    model: OpenAIChatModel,
    fake_openai: FakeOpenAI,
    served: AsyncKnowledgeStore,
) -> None:
    other = paper_source(meta=PaperMeta(title="Denoising Diffusion Models", pages=10))
    second = full_store.add_source(CHAT, other.model_copy(update={"fingerprint": "sha256:ddpm"}))
    fake_openai.set_default(cooperative)
    builder = ReportBuilder(served, model)
    with pytest.raises(PaperChoiceError):
        await builder.build(CHAT)
    assert fake_openai.requests == []  # asked before any model call

    report = await builder.build(CHAT, paper_id=second.source_id)
    assert report.paper_title == "Denoising Diffusion Models"
    info = report.sections[0].body
    assert "论文标题：Denoising Diffusion Models" in info
    assert "Attention Is All You Need" not in info
    assert "Vaswani" not in info  # the other paper's authors are not this one's
    summary_prompt = prompt_of(fake_openai.requests[0])
    assert "Denoising Diffusion Models" in summary_prompt
    assert "Attention Is All You Need" not in summary_prompt
    assert not any("Attention Is All You Need" in s for s in report.sources)
