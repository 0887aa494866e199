"""Quizzer end to end: the real store (embedded Qdrant, the test model) and the real ``openai``
client against the fake model server, cooperative and misbehaving. Asserts on the questions the
student would get, what is stored, and what the model is sent."""

from __future__ import annotations

import random
from typing import Any

import pytest

from bot.llm import OpenAIChatModel
from bot.study import Quizzer
from bot.study.prompts import QUIZ_SYSTEM
from bot.study.quiz_check import check_question
from bot.study.text import key
from kernel.errors import LLMError, MissingSourceError, QuizError
from kernel.language import has_cjk
from kernel.models import QuizItem, SearchHit
from storage.async_store import AsyncKnowledgeStore
from storage.store import KnowledgeStore
from tests.bot.study.support import (
    CHAT,
    OTHER,
    chunk,
    note,
    prompt_of,
    user_text,
)
from tests.fakes.openai_server import FakeOpenAI, Status
from tests.fakes.study_model import BANK, quiz_reply, snippets_in


def _quizzer(store: AsyncKnowledgeStore, model: OpenAIChatModel) -> Quizzer:
    return Quizzer(store, model, rng=random.Random(7))


def _cooperative(body: dict[str, Any]) -> str:
    return quiz_reply(prompt_of(body))


def _right_option(item: QuizItem) -> str:
    return item.question.options[item.question.correct_option_id]


def _bank_answer(item: QuizItem) -> str:
    """The correct option of the bank fact the question is about."""
    fact = next(f for f in BANK if f.zh in item.question.question or f.en in item.question.question)
    return fact.options_zh[0] if item.lang == "zh" else fact.options_en[0]


async def test_a_round_is_checked_mixed_shuffled_and_stored(
    store: AsyncKnowledgeStore,
    core: KnowledgeStore,
    model: OpenAIChatModel,
    fake_openai: FakeOpenAI,
) -> None:
    fake_openai.set_default(_cooperative)
    made = await _quizzer(store, model).make(CHAT)

    assert 3 <= len(made.items) <= 5
    assert made.revisited == 0
    for item in made.items:
        q = item.question
        assert has_cjk(q.question)
        assert _right_option(item) == _bank_answer(item)  # the shuffle kept the answer
        assert q.citations
        assert q.citations[0].snippet
        assert "📖" in q.explanation
    assert any(i.question.correct_option_id != 0 for i in made.items)  # shuffled
    difficulties = [i.question.difficulty for i in made.items]
    assert difficulties[0] == "easy"
    assert difficulties[-1] != "easy"
    assert core.quiz_items(CHAT) == list(made.items)
    assert len({i.round_id for i in made.items}) == 1
    assert core.quiz_items(OTHER) == []

    [request] = fake_openai.requests  # one model call
    assert request["messages"][0]["content"] == QUIZ_SYSTEM
    sent = prompt_of(request)
    snippets = snippets_in(sent)
    assert 1 <= len(snippets) <= 8
    assert any("64 tokens" in s for s in snippets.values())  # the paper
    assert any("Attention lets every token" in s for s in snippets.values())  # and the video
    assert "Write 6 questions in 简体中文" in sent
    assert "<missed>" not in sent


async def test_a_misbehaving_model_is_asked_again_and_no_bad_question_gets_through(
    store: AsyncKnowledgeStore,
    core: KnowledgeStore,
    model: OpenAIChatModel,
    fake_openai: FakeOpenAI,
) -> None:
    bad = ("wrong_answer", "duplicate", "long_option", "wrong_language", "no_citation")

    def reply(body: dict[str, Any]) -> str:
        first = len(fake_openai.requests) == 1
        return quiz_reply(user_text(body), modes=bad if first else ("good",), think=True)

    fake_openai.set_default(reply)
    made = await _quizzer(store, model).make(CHAT)

    first, second = fake_openai.requests
    repair = second["messages"]
    assert [m["role"] for m in repair] == ["system", "user", "assistant", "user"]
    assert repair[2]["content"].startswith('{"questions"')  # its reply, reasoning removed
    problems = repair[3]["content"]
    for reason in ("not what the quote says", "two options are the same", "longer than 100"):
        assert reason in problems
    assert made.items
    hits = [chunk(core, c.snippet[:40]) for i in made.items for c in i.question.citations]
    for item, hit in zip(made.items, hits, strict=True):
        q = item.question
        assert _right_option(item) == _bank_answer(item)
        assert len({key(o) for o in q.options}) == len(q.options)
        assert all(len(o) <= 100 for o in q.options)
        assert has_cjk(q.question)
        raw = {
            "question": q.question,
            "options": list(q.options),
            "correct": q.correct_option_id,
            "snippet": 1,
            "quote": next(f.quote for f in BANK if f.zh in q.question),
        }
        assert not isinstance(check_question(raw, [hit], "zh"), str)  # still passes alone
    assert core.quiz_items(CHAT) == list(made.items)
    assert first["messages"][0]["content"] == QUIZ_SYSTEM


async def test_nothing_usable_after_two_tries_sends_nothing(
    store: AsyncKnowledgeStore,
    core: KnowledgeStore,
    model: OpenAIChatModel,
    fake_openai: FakeOpenAI,
) -> None:
    fake_openai.set_default(lambda body: quiz_reply(user_text(body), modes=("wrong_answer",)))
    with pytest.raises(QuizError) as raised:
        await _quizzer(store, model).make(CHAT)
    assert raised.value.retryable
    assert "没有发给你" in raised.value.message("zh")
    assert len(fake_openai.requests) == 2
    assert core.quiz_items(CHAT) == []


async def test_a_failing_model_and_a_chat_without_sources(
    store: AsyncKnowledgeStore, model: OpenAIChatModel, fake_openai: FakeOpenAI
) -> None:
    with pytest.raises(MissingSourceError) as missing:
        await _quizzer(store, model).make(OTHER)
    assert "/quiz" in missing.value.message("zh")
    assert fake_openai.requests == []
    fake_openai.set_default(lambda body: Status(500))
    with pytest.raises(LLMError):
        await _quizzer(store, model).make(CHAT)


async def test_answers_are_kept_and_the_next_round_revisits_what_was_missed(
    store: AsyncKnowledgeStore,
    core: KnowledgeStore,
    model: OpenAIChatModel,
    fake_openai: FakeOpenAI,
) -> None:
    fake_openai.set_default(_cooperative)
    quizzer = _quizzer(store, model)
    first = await quizzer.make(CHAT)
    missed, *rest = first.items
    wrong = (missed.question.correct_option_id + 1) % len(missed.question.options)
    answered = await quizzer.answer(CHAT, missed.quiz_id, wrong)
    assert answered is not None
    assert answered.first
    assert answered.item.correct is False
    assert (answered.score.answered, answered.score.done) == (1, False)
    again = await quizzer.answer(CHAT, missed.quiz_id, missed.question.correct_option_id)
    assert again is not None
    assert not again.first
    for item in rest:
        last = await quizzer.answer(CHAT, item.quiz_id, item.question.correct_option_id)
    assert last is not None
    assert last.score.done
    assert (last.score.correct, last.score.total) == (len(rest), len(first.items))
    assert await quizzer.answer(OTHER, missed.quiz_id, 0) is None  # another chat's question

    second = await quizzer.make(CHAT)
    sent = prompt_of(fake_openai.requests[-1])
    assert f"<missed>\n- {missed.question.question}\n</missed>" in sent
    assert "<earlier>" in sent
    first_snippet = snippets_in(sent)[1]
    assert missed.question.citations[0].snippet.removesuffix("…") in " ".join(first_snippet.split())
    assert second.revisited >= 1
    assert second.items[0].question.citations[0].snippet == missed.question.citations[0].snippet
    asked_before = {key(i.question.question) for i in first.items}
    assert not any(key(i.question.question) in asked_before for i in second.items)
    assert len(core.quiz_items(CHAT)) == len(first.items) + len(second.items)

    # Answered right this time: the mistake is not revisited any more.
    for item in second.items:
        await quizzer.answer(CHAT, item.quiz_id, item.question.correct_option_id)
    third = await quizzer.make(CHAT)
    assert "<missed>" not in prompt_of(fake_openai.requests[-1])
    assert third.revisited == 0


async def test_english_quiz_and_the_notes_material(
    store: AsyncKnowledgeStore,
    core: KnowledgeStore,
    model: OpenAIChatModel,
    fake_openai: FakeOpenAI,
) -> None:
    cited: SearchHit = chunk(core, "Training takes 3.5 days")
    note(core, "How long is training?", [cited])
    fake_openai.set_default(lambda body: quiz_reply(prompt_of(body), lang="en"))
    made = await _quizzer(store, model).make(CHAT, lang="en")
    sent = prompt_of(fake_openai.requests[0])
    assert "Training takes 3.5 days" in snippets_in(sent)[1]  # the note's snippet first
    assert "Write 6 questions in English" in sent
    assert made.items
    for item in made.items:
        assert not has_cjk(item.question.question + "".join(item.question.options))
        assert item.question.explanation.split("📖 ")[-1].startswith(("paper p.", "video"))
