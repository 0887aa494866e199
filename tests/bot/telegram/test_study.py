"""/quiz, /terms and the next-step buttons as the student sees them: the real PTB application
over the fake Bot API (quiz polls and poll answers included), the real services on embedded
Qdrant with the test embedding model, and the fake model server, cooperative or misbehaving."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from bot.app import build_services
from bot.prompts import REWRITE_SYSTEM
from bot.services import Services
from bot.settings import LLMSettings, Settings, StorageSettings
from bot.study.prompts import GLOSSARY_SYSTEM, QUIZ_SYSTEM
from ingest.paper.pdf import parse_pdf
from ingest.video.transcript import video_source_from_subtitles
from kernel.models import Note, Term
from tests.bot.study.support import user_text
from tests.fakes.bot_api import Seen
from tests.fakes.embedding import test_embedder
from tests.fakes.harness import Harness, running
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.pdfs import make_paper_pdf
from tests.fakes.study_model import BANK, glossary_reply, quiz_reply, snippets_in
from tests.fakes.subtitle_samples import SRT_EN
from tests.fakes.tutor_model import quoted_words

CHAT = 1001
PAPER_TERMS = (Term(en="sparse attention", zh="稀疏注意力"), Term(en="memory", zh="内存"))
ANSWER = "稀疏注意力只让每个词关注一部分词，原文说：“{quote}” [1]。"  # quotes snippet 1


@dataclass
class Model:
    """The fake model's script: how the quiz misbehaves on the first and later calls."""

    first_quiz: tuple[str, ...] = ("good",)
    later_quiz: tuple[str, ...] = ("good",)
    quiz_calls: int = 0
    questions: list[str] = field(default_factory=list)

    def reply(self, body: dict[str, Any]) -> str:
        system = body["messages"][0]["content"]
        if system == REWRITE_SYSTEM:
            queries = ["sparse attention memory", body["messages"][-1]["content"][-80:]]
            return json.dumps({"queries": queries, "terms": []})
        if system == QUIZ_SYSTEM:
            self.quiz_calls += 1
            modes = self.first_quiz if self.quiz_calls == 1 else self.later_quiz
            lang = "en" if "in English" in user_text(body) else "zh"
            return quiz_reply(user_text(body), modes=modes, lang=lang, think=True)
        if system == GLOSSARY_SYSTEM:
            return glossary_reply(user_text(body))
        self.questions.append(body["messages"][-1]["content"])
        first = snippets_in(body["messages"][-1]["content"]).get(1, "")
        return ANSWER.format(quote=quoted_words(first))


@pytest.fixture
def llm() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as server:
        yield server


@dataclass
class Running(Harness):
    services: Services | None = None


@asynccontextmanager
async def _bot(
    tmp_path: Path, llm: FakeOpenAI, model: Model, **config: Any
) -> AsyncIterator[Running]:
    llm.set_default(model.reply)
    settings = Settings(
        storage=StorageSettings(data_dir=tmp_path),
        llm=LLMSettings(  # type: ignore[call-arg]
            OPENAI_BASE_URL=llm.base_url, OPENAI_API_KEY=SecretStr("test")
        ),
    )
    svc = build_services(settings, embedder=test_embedder())
    try:
        paper = parse_pdf(make_paper_pdf(), filename="sparse.pdf")
        # The term list ingestion gives the paper (``bot.glossary``): a Chinese question is
        # searched with the paper's English terms.
        paper = paper.model_copy(update={"terms": PAPER_TERMS})
        await svc.store.add_source(CHAT, paper)
        lecture = video_source_from_subtitles(
            SRT_EN.encode(), filename="talk.srt", url="https://youtu.be/dQw4w9WgXcQ"
        )
        await svc.store.add_source(CHAT, lecture)
        async with running(svc, **config) as h:
            yield Running(h.app, h.api, svc)
    finally:
        await svc.aclose()


def _answer_of(poll: dict[str, Any]) -> str:
    return str(poll["options"][poll["correct_option_ids"][0]])


def _bank_answer(poll: dict[str, Any]) -> str:
    question = str(poll["question"])
    fact = next(f for f in BANK if f.zh in question or f.en in question)
    return fact.options_zh[0] if fact.zh in question else fact.options_en[0]


async def test_quiz_polls_their_answers_and_a_round_that_revisits_the_mistake(
    tmp_path: Path, llm: FakeOpenAI
) -> None:
    async with _bot(tmp_path, llm, Model()) as h:
        await h.send(h.api.update("message", text="/quiz"))
        intro = h.api.bot_messages(CHAT)[0]
        polls = h.api.polls(CHAT)
        assert "⏳" not in intro.plain
        assert intro.history[0] == "🧠 正在出题…"
        assert intro.plain.startswith(f"🧠 小测验：{len(polls)} 道题。")
        assert 3 <= len(polls) <= 5
        assert h.api.rejected == []
        for poll in polls:
            assert poll["type"] == "quiz"
            assert poll["is_anonymous"] is False  # else Telegram sends no answers
            assert _answer_of(poll) == _bank_answer(poll)
            assert "📖" in poll["explanation"]
            assert "<think>" not in poll["question"] + poll["explanation"]
        sent = h.api.of("sendPoll")
        assert all(c.params.get("explanation_parse_mode") is None for c in sent)

        # The student answers: the first one wrong, the rest right. Noise is ignored.
        await h.send(h.api.poll_answer_update("no-such-poll", [0]))
        await h.send(h.api.poll_answer_update(polls[0]["id"], []))  # a retracted vote
        wrong = (polls[0]["correct_option_ids"][0] + 1) % len(polls[0]["options"])
        await h.send(h.api.poll_answer_update(polls[0]["id"], [wrong]))
        for poll in polls[1:]:
            assert "📊" not in h.api.bot_messages(CHAT)[-1].plain  # no score before the end
            await h.send(h.api.poll_answer_update(poll["id"], poll["correct_option_ids"]))
        score = h.api.bot_messages(CHAT)[-1]
        assert score.plain == (
            f"📊 这一轮答对 {len(polls) - 1}/{len(polls)} 题。\n"
            "答错的题，下一轮 /quiz 会换个问法再考你。"
        )
        [(label, data)] = score.buttons
        assert label == "🔁 再来一轮"

        await h.send(h.api.callback_update(CHAT, score.message_id, data))
        again = [m for m in h.api.bot_messages(CHAT) if m.plain.startswith("🧠 小测验")][-1]
        assert re.search(r"其中 [1-5] 道复习你上次答错的内容。", again.plain)
        new_polls = h.api.polls(CHAT)[len(polls) :]
        assert new_polls
        assert polls[0]["question"] in new_polls[0]["question"]  # asked again, in new words
        assert new_polls[0]["question"] != polls[0]["question"]
        assert "<missed>" in user_text(llm.requests[-1])
        assert h.api.bot_messages(CHAT)[-2].buttons == []  # the used button is gone


async def test_answering_polls_is_never_turned_away_by_the_rate_limit(
    tmp_path: Path, llm: FakeOpenAI
) -> None:
    async with _bot(tmp_path, llm, Model(), rate_limit_per_minute=1) as h:
        await h.send(h.api.update("message", text="/quiz"))
        for poll in h.api.polls(CHAT):
            await h.send(h.api.poll_answer_update(poll["id"], poll["correct_option_ids"]))
        score = h.api.bot_messages(CHAT)[-1]
    n = len(h.api.polls(CHAT))
    assert score.plain.startswith(f"📊 这一轮答对 {n}/{n} 题。")
    assert "全部答对" in score.plain


async def test_a_misbehaving_model_gets_a_second_try_and_bad_questions_never_reach_the_chat(
    tmp_path: Path, llm: FakeOpenAI
) -> None:
    bad = ("wrong_answer", "duplicate", "long_option", "english_options", "no_citation")
    async with _bot(tmp_path, llm, Model(first_quiz=bad)) as h:
        await h.send(h.api.update("message", text="/quiz"))
        polls = h.api.polls(CHAT)
    assert polls
    assert h.api.rejected == []
    for poll in polls:
        assert _answer_of(poll) == _bank_answer(poll)
        assert len(set(poll["options"])) == len(poll["options"])


async def test_nothing_usable_is_said_plainly_and_nothing_is_sent(
    tmp_path: Path, llm: FakeOpenAI
) -> None:
    model = Model(first_quiz=("wrong_answer",), later_quiz=("invented_quote",))
    async with _bot(tmp_path, llm, model) as h:
        await h.send(h.api.update("message", text="/quiz"))
        [status] = h.api.bot_messages(CHAT)
        assert h.api.of("sendPoll") == []
    assert "这次出的题没有通过检查" in status.plain
    assert "可以稍后重试" in status.plain


async def test_an_english_quiz(tmp_path: Path, llm: FakeOpenAI) -> None:
    async with _bot(tmp_path, llm, Model()) as h:
        await h.send(h.api.update("message", text="/lang en"))
        await h.send(h.api.update("message", text="/quiz"))
        intro = h.api.bot_messages(CHAT)[-1 - len(h.api.polls(CHAT))]
        polls = h.api.polls(CHAT)
    assert intro.plain.startswith(f"🧠 Quiz: {len(polls)} questions.")
    assert all(_answer_of(p) == _bank_answer(p) for p in polls)
    assert all(p["explanation"].split("📖 ")[1].startswith(("paper p.", "video")) for p in polls)


async def test_terms_are_listed_with_where_they_were_met_and_exported(
    tmp_path: Path, llm: FakeOpenAI
) -> None:
    async with _bot(tmp_path, llm, Model()) as h:
        await h.send(h.api.update("message", text="/terms"))
        assert "还没有术语" in h.api.bot_messages(CHAT)[-1].plain
        await h.send(h.api.update("message", text="什么是稀疏注意力？"))
        assert "来源" in h.api.bot_messages(CHAT)[-1].plain
        # The answer's note, with the key terms the rewrite step names (this fake names none).
        assert h.services is not None
        [saved] = await h.services.store.notes(CHAT)
        terms = (Term(en="sparse attention", zh="稀疏注意力"),)
        await h.services.store.put_note(Note(**(saved.model_dump() | {"terms": terms})))
        await h.send(h.api.update("message", text="/terms"))
        listing = h.api.bot_messages(CHAT)[-1]
        assert listing.plain.startswith("📖 术语表（共 1 个）：")
        assert "1. 稀疏注意力（sparse attention） — 稀疏注意力是材料中讲到的一个关键概念。" in (
            listing.plain
        )
        assert "论文第 1 页" in listing.plain
        assert [t for t, _ in listing.buttons] == ["📄 导出 CSV", "📄 导出 Markdown"]
        for _, data in listing.buttons:
            await h.send(h.api.callback_update(CHAT, listing.message_id, data))
        csv_upload, md_upload = h.api.of("sendDocument")
    name, data = csv_upload.files["document"]
    assert name == "术语表.csv"
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[1][:3] == [
        "稀疏注意力",
        "sparse attention",
        "稀疏注意力是材料中讲到的一个关键概念。",
    ]
    md_name, md = md_upload.files["document"]
    assert md_name == "术语表.md"
    assert "| 稀疏注意力 | sparse attention |" in md.decode()
    assert "术语表，共 1 个术语" in md_upload.params["caption"]
    glossary_calls = [r for r in llm.requests if r["messages"][0]["content"] == GLOSSARY_SYSTEM]
    assert len(glossary_calls) == 1  # listed, then exported twice: kept, not rebuilt


async def test_next_step_buttons_under_an_answer_ask_what_comes_next(
    tmp_path: Path, llm: FakeOpenAI
) -> None:
    model = Model()
    async with _bot(tmp_path, llm, model) as h:
        await h.send(h.api.update("message", text="什么是稀疏注意力？"))
        answer: Seen = h.api.bot_messages(CHAT)[-1]
        labels = [t for t, _ in answer.buttons]
        assert labels[:3] == ["🙂 讲得更简单", "📝 举个例子", "📚 查看来源"]
        steps = [(t, data) for t, data in answer.buttons if data.startswith("q:")]
        assert 2 <= len(steps) <= 3
        assert answer.buttons[-len(steps) :] == steps  # the last rows
        assert steps[0][0].startswith("论文接下来的“")  # the paper's next section
        assert all(t.startswith("论文接下来的“") or t.endswith(" 是什么意思？") for t, _ in steps)
        assert not any("References" in t for t, _ in steps)
        text, data = steps[0]
        await h.send(h.api.callback_update(CHAT, answer.message_id, data))
        echoed, second = h.api.bot_messages(CHAT)[-2:]
    assert echoed.plain == f"❓ {text}"
    assert f"<question>\n{text}\n</question>" in model.questions[-1]  # asked like any question
    assert "来源" in second.plain


async def test_a_re_explanation_updates_its_note_and_the_notebook_is_curated(
    tmp_path: Path, llm: FakeOpenAI
) -> None:
    async with _bot(tmp_path, llm, Model()) as h:
        assert h.services is not None
        await h.send(h.api.update("message", text="什么是稀疏注意力？"))
        answer: Seen = h.api.bot_messages(CHAT)[-1]
        simpler = dict(answer.buttons)["🙂 讲得更简单"]
        await h.send(h.api.callback_update(CHAT, answer.message_id, simpler))
        assert "来源" in h.api.bot_messages(CHAT)[-1].plain  # the simpler answer came
        [note] = await h.services.store.notes(CHAT)  # one question, one note
        assert note.question == "什么是稀疏注意力？"
        await h.send(h.api.update("message", text="/notes"))
        listing = h.api.bot_messages(CHAT)[-1]
        assert listing.plain.startswith("📝 你的笔记（共 1 条，⭐ 0 条）：")
        await h.send(
            h.api.callback_update(CHAT, listing.message_id, dict(listing.buttons)["☆ 加星 1"])
        )
        [starred] = await h.services.store.notes(CHAT)
        assert starred.starred
        assert "1. ⭐ 什么是稀疏注意力？" in h.api.bot_messages(CHAT)[-1].plain
        await h.send(h.api.callback_update(CHAT, listing.message_id, dict(listing.buttons)["📖 1"]))
        full = h.api.bot_messages(CHAT)[-1]
        assert full.plain.startswith("📝 ⭐ 什么是稀疏注意力？\n\n稀疏注意力只让每个词关注一部分词")
        assert "[1] " in full.plain
        await h.send(h.api.callback_update(CHAT, full.message_id, dict(full.buttons)["🗑"]))
        assert await h.services.store.notes(CHAT) == []
        edited = next(m for m in h.api.bot_messages(CHAT) if m.message_id == listing.message_id)
    assert edited.plain.startswith("还没有笔记")
