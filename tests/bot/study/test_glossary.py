"""The glossary: terms from the notes with where they were met, one checked model call for the
explanations (cooperative and misbehaving), kept until the notes change, exported as files,
and the report's term style."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest

from bot.llm import OpenAIChatModel
from bot.study import GlossaryBuilder, collect_terms, report_terms
from bot.study.glossary_files import glossary_file
from bot.study.prompts import GLOSSARY_SYSTEM
from kernel.models import ChatGlossary, Citation, GlossaryEntry, SourceKind, Term
from storage.async_store import AsyncKnowledgeStore
from storage.store import KnowledgeStore
from tests.bot.study.support import CHAT, OTHER, chunk, note, prompt_of
from tests.fakes.openai_server import FakeOpenAI, Status
from tests.fakes.study_model import glossary_reply, snippets_in, terms_in

SPARSE = ("sparse attention", "稀疏注意力")
BLOCK = ("global tokens", "全局 token")


def _notes(core: KnowledgeStore) -> None:
    intro = chunk(core, "Sparse attention keeps only a few links")
    method = chunk(core, "blocks of 64 tokens")
    note(core, "什么是稀疏注意力？", [intro], [SPARSE])
    note(core, "每个 token 关注哪些 token？", [method], [BLOCK, ("Sparse Attention", None)])


def test_terms_are_merged_and_placed_where_they_were_met(core: KnowledgeStore) -> None:
    _notes(core)
    sparse, block = collect_terms(core.notes(CHAT))
    assert (sparse.en, sparse.zh) == SPARSE  # "Sparse Attention" again: the same term
    assert [c.page for c in sparse.citations] == [1]  # both notes cite page 1: one place
    assert (block.en, block.zh) == BLOCK
    assert "8 global tokens" in block.citations[0].snippet
    assert report_terms(core.notes(CHAT)) == [
        "稀疏注意力（sparse attention）",
        "全局 token（global tokens）",
    ]


def test_a_name_the_notes_lack_comes_from_the_sources_term_list(core: KnowledgeStore) -> None:
    note(core, "What is a block?", [chunk(core, "blocks of 64 tokens")], [("Block", None)])
    listed = (Term(en="attention", zh="注意力"), Term(en="block", zh="块"))
    [entry] = collect_terms(core.notes(CHAT), listed)
    assert (entry.en, entry.zh) == ("Block", "块")
    [alone] = collect_terms(core.notes(CHAT))
    assert (alone.en, alone.zh) == ("Block", None)


async def test_cooperative_glossary_is_checked_stored_and_kept_until_the_notes_change(
    store: AsyncKnowledgeStore,
    core: KnowledgeStore,
    model: OpenAIChatModel,
    fake_openai: FakeOpenAI,
) -> None:
    _notes(core)
    fake_openai.set_default(lambda body: glossary_reply(prompt_of(body)))
    builder = GlossaryBuilder(store, model)
    glossary = await builder.glossary(CHAT)

    [request] = fake_openai.requests
    assert request["messages"][0]["content"] == GLOSSARY_SYSTEM
    sent = prompt_of(request)
    assert "<terms>" in sent
    assert "</terms>" in sent
    assert [(en, zh) for _, en, zh, _ in terms_in(sent)] == [SPARSE, BLOCK]
    assert any("Sparse attention keeps only" in s for s in snippets_in(sent).values())
    sparse, block = glossary.entries
    assert sparse.explanation == "稀疏注意力是材料中讲到的一个关键概念。"
    assert block.citations[0].page == 1
    assert core.glossary(CHAT, "zh") == glossary
    assert core.glossary(OTHER, "zh") is None

    assert await builder.glossary(CHAT) == glossary  # kept: no second call
    assert len(fake_openai.requests) == 1

    later = chunk(core, "Training takes 3.5 days")
    note(core, "训练要多久？", [later], [("GPUs", None)])
    grown = await builder.glossary(CHAT)
    assert len(fake_openai.requests) == 2
    assert [(en, zh) for _, en, zh, _ in terms_in(prompt_of(fake_openai.requests[1]))] == [
        ("GPUs", None)
    ]  # only the new term is explained; the others are reused
    assert grown.entries[:2] == glossary.entries
    assert grown.entries[2].zh == "补上的中文名"  # a missing name filled in
    assert "GPU" in grown.entries[2].citations[0].snippet


@pytest.mark.parametrize("mode", ["wrong_language", "wrong_snippet", "junk"])
async def test_explanations_that_fail_the_checks_give_way_to_the_snippet(
    store: AsyncKnowledgeStore,
    core: KnowledgeStore,
    model: OpenAIChatModel,
    fake_openai: FakeOpenAI,
    mode: str,
) -> None:
    _notes(core)
    fake_openai.set_default(lambda body: glossary_reply(prompt_of(body), mode=mode, think=True))
    glossary = await GlossaryBuilder(store, model).glossary(CHAT)
    sparse, block = glossary.entries
    # "sparse attention" explained from a snippet that does not mention it (wrong_snippet),
    # in English (wrong_language) or not at all (junk): the snippet's own sentence instead.
    assert sparse.explanation.startswith("原文：Sparse attention keeps only a few links per word")
    if mode == "wrong_snippet":  # the intro it names does mention global tokens: kept
        assert block.explanation == "全局 token是材料中讲到的一个关键概念。"
    else:
        assert block.explanation.startswith("原文：A token attends to its own block")
    assert all("key idea" not in e.explanation for e in glossary.entries)


async def test_a_failing_model_still_gives_the_glossary_and_is_asked_again_later(
    store: AsyncKnowledgeStore,
    core: KnowledgeStore,
    model: OpenAIChatModel,
    fake_openai: FakeOpenAI,
) -> None:
    _notes(core)
    fake_openai.set_default(lambda body: Status(500))
    builder = GlossaryBuilder(store, model)
    first = await builder.glossary(CHAT)
    assert [e.explanation[:3] for e in first.entries] == ["原文：", "原文："]
    assert core.glossary(CHAT, "zh") is None  # not kept: the next /terms tries again
    fake_openai.set_default(lambda body: glossary_reply(prompt_of(body), lang="en"))
    english = await builder.glossary(CHAT, lang="en")
    assert english.entries[0].explanation == "sparse attention is a key idea the material explains."


async def test_no_notes_no_terms_no_model_call(
    store: AsyncKnowledgeStore, model: OpenAIChatModel, fake_openai: FakeOpenAI
) -> None:
    glossary = await GlossaryBuilder(store, model).glossary(CHAT)
    assert glossary.entries == ()
    assert fake_openai.requests == []


def _glossary(lang: str = "zh") -> ChatGlossary:
    paper = Citation(
        n=1, source_id="p", kind=SourceKind.PAPER, title="T", snippet="Attention.", page=3
    )
    video = Citation(
        n=2,
        source_id="v",
        kind=SourceKind.VIDEO,
        title="L",
        snippet="attention",
        start_s=754.0,
        url="https://youtu.be/x?t=754",
    )
    return ChatGlossary(
        chat_id=CHAT,
        lang=lang,
        fingerprint="f",
        entries=(
            GlossaryEntry(
                en="Attention | mechanism",
                zh="注意力机制",
                explanation="让模型关注重要的词。",
                citations=(paper, video),
            ),
            GlossaryEntry(en="BLEU"),
        ),
        built_at=datetime(2026, 1, 1, tzinfo=UTC),
    )


def test_the_glossary_as_csv_and_markdown() -> None:
    data, name = glossary_file(_glossary(), "csv")
    assert name == "术语表.csv"
    assert data.startswith(b"\xef\xbb\xbf")  # a BOM: Excel reads UTF-8
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == ["中文", "English", "解释", "出处"]
    assert rows[1] == [
        "注意力机制",
        "Attention | mechanism",
        "让模型关注重要的词。",
        "论文第 3 页; 视频 12:34 https://youtu.be/x?t=754",
    ]
    assert rows[2] == ["", "BLEU", "", ""]
    md, md_name = glossary_file(_glossary(lang="en"), "md")
    assert md_name == "glossary.md"
    text = md.decode()
    assert text.startswith("# Glossary\n\n| Chinese | English | Explanation | Where it was met |")
    assert (
        "| 注意力机制 | Attention \\| mechanism | 让模型关注重要的词。 | paper p. 3; video 12:34"
        in text
    )
    with pytest.raises(ValueError, match="fmt must be one of"):
        glossary_file(_glossary(), "docx")
