"""The study records of a chat (quiz questions with their answers, the glossary): kept per chat,
the first answer counts, they survive a restart and leave with a reset."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from kernel.models import ChatGlossary, GlossaryEntry, QuizItem, QuizQuestion
from storage.async_store import AsyncKnowledgeStore
from tests.storage.support import open_store, paper

CHAT, OTHER = 31, 32
T0 = datetime(2026, 2, 1, tzinfo=UTC)


def _item(n: int, chat: int = CHAT, round_id: str = "r1") -> QuizItem:
    question = QuizQuestion(
        question=f"第 {n} 题：Transformer 用了几个头？",
        options=("8", "4", "16", "2"),
        correct_option_id=0,
        explanation="论文写明用了 8 个头。 📖 论文第 5 页",
        difficulty="easy",
    )
    return QuizItem(
        chat_id=chat,
        quiz_id=f"q{n}",
        round_id=round_id,
        question=question,
        asked_at=T0 + timedelta(seconds=n),
    )


def _glossary(chat: int = CHAT, lang: str = "zh") -> ChatGlossary:
    entry = GlossaryEntry(en="attention", zh="注意力", explanation="让模型关注重要的词。")
    return ChatGlossary(chat_id=chat, lang=lang, fingerprint="f1", entries=(entry,), built_at=T0)


def test_quiz_questions_and_answers_per_chat(tmp_path: Path) -> None:
    store = open_store(tmp_path / "q")
    store.put_quiz_items([_item(2), _item(1), _item(3, chat=OTHER)])
    assert [i.quiz_id for i in store.quiz_items(CHAT)] == ["q1", "q2"]  # asked order
    assert [i.quiz_id for i in store.quiz_items(OTHER)] == ["q3"]

    answered = store.answer_quiz(CHAT, "q1", 1)
    assert answered is not None
    item, first = answered
    assert first
    assert (item.chosen, item.correct) == (1, False)
    assert item.answered_at is not None
    again = store.answer_quiz(CHAT, "q1", 0)  # a poll takes one answer: the first counts
    assert again is not None
    assert again[0].correct is False
    assert again[1] is False
    assert store.answer_quiz(CHAT, "q3", 0) is None  # another chat's question
    assert store.answer_quiz(CHAT, "nope", 0) is None
    assert store.quiz_items(OTHER)[0].chosen is None
    store.close()

    reopened = open_store(tmp_path / "q")
    assert reopened.quiz_items(CHAT)[0].correct is False
    reopened.close()


def test_the_glossary_is_kept_per_chat_and_language_and_a_reset_removes_it(
    tmp_path: Path,
) -> None:
    store = open_store(tmp_path / "g")
    store.add_source(CHAT, paper())
    store.put_glossary(_glossary())
    store.put_glossary(_glossary(lang="en"))
    store.put_glossary(_glossary(chat=OTHER))
    store.put_quiz_items([_item(1)])
    assert store.glossary(CHAT, "zh") == _glossary()
    assert store.glossary(CHAT, "en") == _glossary(lang="en")
    assert store.glossary(OTHER, "en") is None

    store.reset_chat(CHAT)
    assert store.glossary(CHAT, "zh") is None
    assert store.quiz_items(CHAT) == []
    assert store.glossary(OTHER, "zh") == _glossary(chat=OTHER)
    store.close()


async def test_an_answer_is_read_back_in_the_chats_write_order(tmp_path: Path) -> None:
    store = AsyncKnowledgeStore(open_store(tmp_path / "a"))
    try:
        await store.save_quiz(CHAT, [_item(1), _item(2)])
        recorded = await store.answer_quiz(CHAT, "q2", 0)
        assert recorded is not None
        assert recorded[0].correct is True
        assert [i.correct for i in await store.quiz_items(CHAT)] == [None, True]
        await store.save_glossary(_glossary())
        assert await store.glossary(CHAT, "zh") == _glossary()
    finally:
        store.close()
