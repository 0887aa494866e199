"""Keeping, moving, adding and removing markers, with the offline test embedder."""

from __future__ import annotations

import re

import pytest

from bot.support import Candidate, Policy, SupportScorer, check_support
from tests.fakes.embedding import test_embedder

MARKER = re.compile(r"\[\d+\]")
SNIPPETS = (
    "The encoder is composed of a stack of six identical layers with residual connections.",
    "Label smoothing hurts perplexity but improves accuracy and the BLEU score.",
    "Byte pair encoding merges frequent character pairs into subword units.",
)
CANDIDATES = [Candidate(f"[{n}]", t) for n, t in enumerate(SNIPPETS, start=1)]
LABEL = "（背景知识）"


@pytest.fixture(scope="module")
def scorer() -> SupportScorer:
    return SupportScorer(test_embedder())


def check(text: str, scorer: SupportScorer, **policy: str) -> object:
    rules = {"attribute": "when_uncited", "unsupported": "label", **policy}
    return check_support(
        text,
        CANDIDATES,
        scorer,
        marker=MARKER,
        resolve=lambda m: [int(m[1:-1]) - 1],
        policy=Policy(label=LABEL, labelled=(LABEL,), **rules),
    )


def test_a_supported_marker_stays_with_its_score(scorer: SupportScorer) -> None:
    result = check("The encoder stacks six identical layers with residual connections [1].", scorer)
    assert result.text == "The encoder stacks six identical layers with residual connections [1]."
    assert (result.kept, result.moved, result.removed) == (1, 0, 0)
    [score] = result.scores["[1]"]
    assert scorer.calibration.threshold <= score <= 1


def test_a_marker_on_the_wrong_snippet_moves_to_the_right_one(scorer: SupportScorer) -> None:
    result = check("Label smoothing hurts perplexity but improves the BLEU score [3].", scorer)
    assert result.text == "Label smoothing hurts perplexity but improves the BLEU score [2]."
    assert (result.kept, result.moved, result.removed) == (0, 1, 0)


def test_an_unsupported_sentence_loses_its_marker_and_is_labelled(scorer: SupportScorer) -> None:
    result = check("猫喜欢在阳光下睡觉，这和模型无关[1]。编码器有六层[1]。", scorer)
    assert result.text.startswith(f"{LABEL}猫喜欢在阳光下睡觉，这和模型无关。")
    assert result.removed >= 1
    assert result.labelled >= 1


def test_a_sentence_with_a_figure_no_snippet_has_is_dropped(scorer: SupportScorer) -> None:
    text = (
        "The encoder is a stack of six identical layers [1]. "
        "Label smoothing raised the BLEU score by 37.5 points [2]."
    )
    result = check(text, scorer)
    assert "37.5" not in result.text
    assert result.dropped == 1
    assert result.text == "The encoder is a stack of six identical layers [1]."


def test_an_uncited_text_gets_markers_where_a_snippet_supports_it(scorer: SupportScorer) -> None:
    cat = "猫喜欢在温暖的阳光下睡觉。"
    text = f"Byte pair encoding merges frequent character pairs into subwords. {cat}"
    result = check(text, scorer)
    assert result.text == (
        f"Byte pair encoding merges frequent character pairs into subwords [3]. {LABEL}{cat}"
    )
    assert result.attributed == 1


def test_partly_cited_answers_keep_their_unmarked_sentences(scorer: SupportScorer) -> None:
    text = "The encoder is a stack of six identical layers [1]. Think of it as a tall cake."
    assert check(text, scorer).text == text


def test_model_labelled_background_is_left_alone_and_drop_policy_drops(
    scorer: SupportScorer,
) -> None:
    text = f"{LABEL}注意力机制后来被广泛使用。猫喜欢在阳光下睡觉[2]。"
    result = check(text, scorer, attribute="always", unsupported="drop")
    assert result.text == f"{LABEL}注意力机制后来被广泛使用。"
    assert result.dropped == 1
