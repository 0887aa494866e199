"""The quiz checks: a question passes only if it fits a Telegram quiz poll, is in the chat's
language and its marked answer is what the cited snippet says (by the snippet's text)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.prompts import format_snippets
from bot.study.quiz_check import check_question, parse_questions
from bot.study.text import key, utf16_len
from kernel.models import QuizQuestion, SearchHit, SourceKind
from tests.fakes.study_model import quiz_reply

METHOD = (
    "Each layer splits the sequence into blocks of 64 tokens. A token attends to its own "
    "block, to the previous block and to 8 global tokens. The cost is therefore linear in the "
    "length of the document."
)
RESULTS = (
    "On the long document benchmark the sparse model reaches 91.2 points, while the dense model "
    "reaches 91.5 points and runs out of memory on the longest inputs. Training takes 3.5 days "
    "on eight GPUs."
)
LECTURE = "Attention lets every token look at the other tokens and update its meaning."
CHINESE = "注意力机制可以看作一种资源分配方案，把有限的计算资源分配给更重要的信息。"


def _hit(n: int, text: str, kind: SourceKind = SourceKind.PAPER) -> SearchHit:
    video = kind is SourceKind.VIDEO
    return SearchHit(
        rank=n,
        score=1.0,
        chunk_id=f"c{n}",
        source_id=kind.value,
        kind=kind,
        title="Sparse Attention" if not video else "Lecture",
        text=text,
        ordinal=n,
        page=None if video else n + 2,
        start_s=754.0 if video else None,
        url="https://youtu.be/x?t=754" if video else None,
    )


HITS = [_hit(1, METHOD), _hit(2, RESULTS), _hit(3, LECTURE, SourceKind.VIDEO)]


def _questions(mode: str, lang: str = "zh") -> list[Any]:
    reply = quiz_reply(format_snippets(HITS), modes=[mode], lang=lang)
    found = parse_questions(reply)
    assert found is not None
    return found


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_cooperative_questions_pass_with_their_page_or_second(lang: str) -> None:
    checked = [check_question(q, HITS, lang) for q in _questions("good", lang)]
    assert len(checked) == 5  # two facts in each paper snippet, one in the lecture
    assert all(isinstance(q, QuizQuestion) for q in checked), checked
    first, *_, video = (q for q in checked if isinstance(q, QuizQuestion))
    assert first.options[first.correct_option_id] == "64"
    assert first.citations[0].page == 3
    assert first.citations[0].snippet.startswith("Each layer splits")
    where = "论文第 3 页" if lang == "zh" else "paper p. 3"
    assert first.explanation.endswith(f"📖 {where}")
    assert video.explanation.endswith("12:34")
    assert video.citations[0].url == "https://youtu.be/x?t=754"
    for q in checked:
        assert isinstance(q, QuizQuestion)
        assert utf16_len(q.question) <= 300
        assert 3 <= len(q.options) <= 5
        assert all(utf16_len(o) <= 100 for o in q.options)
        assert utf16_len(q.explanation) <= 200
        assert q.explanation.count("\n") == 0


@pytest.mark.parametrize(
    ("mode", "reason"),
    [
        ("wrong_answer", "not what the quote says"),
        ("duplicate", "two options are the same"),
        ("long_option", "longer than 100 characters"),
        ("wrong_language", "question not in Chinese"),
        ("english_options", "an option is not in Chinese"),
        ("no_citation", "no citation"),
        ("invented_quote", "the quote is not in snippet"),
    ],
)
def test_each_misbehaviour_is_refused_with_a_reason(mode: str, reason: str) -> None:
    results = [check_question(q, HITS, "zh") for q in _questions(mode)]
    assert len(results) == 5
    assert all(isinstance(r, str) and reason in r for r in results), results


def _raw(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "question": "训练稀疏模型用了几天？",
        "options": ["3.5 天", "1.5 天", "7 天", "10 天"],
        "correct": 0,
        "snippet": 2,
        "quote": "Training takes 3.5 days on eight GPUs",
        "explanation": "论文说训练在八块 GPU 上用了 3.5 天。",
        "difficulty": "easy",
    }
    return base | changes


def test_the_answer_is_judged_by_the_snippet_not_by_the_model() -> None:
    # The model marks 91.5 (the dense model's score) as the sparse model's: the quote it gives
    # says 91.2, so the question is refused whatever the model claims.
    raw = _raw(
        question="稀疏模型得了多少分？",
        options=["91.5", "91.2", "88.0", "93.4"],
        quote="the sparse model reaches 91.2 points",
    )
    assert "not what the quote says" in str(check_question(raw, HITS, "zh"))
    # A quote that states two of the options makes two answers right: refused.
    both = _raw(
        question="稠密模型得了多少分？",
        options=["91.5", "91.2", "88.0", "93.4"],
        quote="the sparse model reaches 91.2 points, while the dense model reaches 91.5 points",
    )
    assert "two options are right" in str(check_question(both, HITS, "zh"))


def test_a_chinese_option_over_an_english_snippet_needs_the_source_words() -> None:
    raw = _raw(
        question="稀疏注意力的代价和长度是什么关系？",
        options=["线性", "平方", "指数", "不变"],
        snippet=1,
        quote="The cost is therefore linear in the length of the document",
    )
    assert "brackets" in str(check_question(raw, HITS, "zh"))
    raw["options"] = ["线性（linear）", "平方（square）", "指数（exponential）", "不变（constant）"]
    assert isinstance(check_question(raw, HITS, "zh"), QuizQuestion)


def test_a_chinese_snippet_is_matched_by_its_characters() -> None:
    hits = [_hit(1, CHINESE)]
    raw = {
        "question": "注意力机制可以看作一种什么方案？",
        "options": ["资源分配方案", "数据压缩方案", "模型剪枝方案", "参数共享方案"],
        "correct": 0,
        "snippet": 1,
        "quote": "可以看作一种资源分配方案",
        "explanation": "原文把注意力机制比作资源分配。",
    }
    assert isinstance(check_question(raw, hits, "zh"), QuizQuestion)
    raw["correct"] = 1
    assert "not what the quote says" in str(check_question(raw, hits, "zh"))


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"options": ["3.5 天", "以上都对", "7 天", "10 天"]}, "all of the above"),
        ({"options": ["3.5 天", "两天", "一周", "十天"]}, "must be numbers too"),
        ({"options": ["3.5 天", "1.5 天"]}, "needs 3 to 5 options"),
        ({"options": ["3.5 天", "1.5 天", 7, "10 天"]}, "not a text"),
        ({"correct": 4}, "0-based index"),
        ({"correct": True}, "0-based index"),
        ({"snippet": 9}, "no citation"),
        ({"question": "训练" * 151}, "longer than 300"),
        ({"question": "   "}, "no question"),
        ({"quote": ""}, "no quote"),
    ],
)
def test_other_broken_questions(changes: dict[str, Any], reason: str) -> None:
    assert reason in str(check_question(_raw(**changes), HITS, "zh"))


def test_a_repeated_question_is_refused_and_difficulty_defaults() -> None:
    raw = _raw(difficulty="impossible")
    checked = check_question(raw, HITS, "zh")
    assert isinstance(checked, QuizQuestion)
    assert checked.difficulty == "medium"
    assert "repeats" in str(check_question(raw, HITS, "zh", avoid={key(raw["question"])}))


def test_an_explanation_in_the_wrong_language_becomes_the_quote_and_stays_short() -> None:
    raw = _raw(explanation="Because the paper says so. " * 20)
    checked = check_question(raw, HITS, "zh")
    assert isinstance(checked, QuizQuestion)
    assert checked.explanation == "原文：“Training takes 3.5 days on eight GPUs” 📖 论文第 4 页"
    long = check_question(_raw(explanation="训练用了三天半。" * 40), HITS, "zh")
    assert isinstance(long, QuizQuestion)
    assert utf16_len(long.explanation) <= 200
    assert long.explanation.endswith("… 📖 论文第 4 页")


def test_replies_are_read_past_reasoning_and_fences() -> None:
    body = {"questions": [_raw()]}
    think = '<think>maybe {"questions": [</think>\n```json\n' + json.dumps(body) + "\n```"
    assert parse_questions(think) == body["questions"]
    assert parse_questions(json.dumps([_raw()])) == [_raw()]
    assert parse_questions("I cannot write a quiz.") is None
    assert parse_questions('{"questions": "none"}') is None
