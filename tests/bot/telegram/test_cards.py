"""Suggested beginner questions after a paper is read."""

from __future__ import annotations

import pytest

from bot.telegram.cards import suggested_questions
from tests.fakes.services import paper_record


@pytest.mark.parametrize(
    ("title", "middle"),
    [
        ("BERT: Pre-training of Deep Bidirectional Transformers", "BERT 是什么？请用简单的话解释"),
        ("Direct Preference Optimization (DPO) explained", "DPO 是什么？请用简单的话解释"),
        ("Sparse Attention for Beginners", "Sparse Attention 是什么？请用简单的话解释"),
        ("Training language models to follow instructions", "这篇论文的核心方法是怎么工作的？"),
        ("注意力机制与外部记忆", "这篇论文的核心方法是怎么工作的？"),
    ],
)
def test_three_questions_built_from_the_title(title: str, middle: str) -> None:
    questions = suggested_questions(paper_record(title=title), "zh")
    assert len(questions) == 3
    assert questions[1] == middle


def test_english_questions() -> None:
    questions = suggested_questions(paper_record(title="BERT: x"), "en")
    assert questions[1] == "What is BERT? Explain it simply."
