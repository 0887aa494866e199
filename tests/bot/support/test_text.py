"""Sentences with their markers, figures and shared words: the text side of the support check."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from bot.support.text import coverage, join_sentences, numbers, split_sentences, with_markers
from kernel.models import Term

MARKER = re.compile(r"\[\d+\]")


def test_chinese_sentences_keep_their_markers_before_or_after_the_stop() -> None:
    text = "DPO 用偏好数据训练[1]。可以把它想成老师。[2]\n\n（背景知识）它很常用。它还省事[2][3]！"
    sentences = split_sentences(text, MARKER)
    cited = [(s.text, s.markers) for s in sentences if s.text]
    assert cited == [
        ("DPO 用偏好数据训练。", ("[1]",)),
        ("可以把它想成老师。", ("[2]",)),
        ("（背景知识）它很常用。", ()),
        ("它还省事！", ("[2]", "[3]")),
    ]
    assert join_sentences(sentences) == text


def test_english_sentences_do_not_end_at_abbreviations_or_decimals() -> None:
    text = "It reaches 28.4 BLEU, e.g. on WMT [1]. See Fig. 2 and Vaswani et al. 2017. [2] Done"
    sentences = split_sentences(text, MARKER)
    assert [s.markers for s in sentences] == [("[1]",), ("[2]",), ()]
    assert sentences[0].text == "It reaches 28.4 BLEU, e.g. on WMT."
    assert join_sentences(sentences) == text


@given(st.text(alphabet="ab .。！?[]12\n", max_size=60))
def test_splitting_then_joining_gives_the_text_back(text: str) -> None:
    expected = "\n".join(line.rstrip() for line in text.split("\n")).rstrip()
    assert join_sentences(split_sentences(text, MARKER)).rstrip() == expected


def test_new_markers_go_where_the_old_stood_or_before_the_stop() -> None:
    [zh] = split_sentences("它直接用偏好数据训练[4]。", MARKER)
    assert with_markers(zh, ["[1]", "[2]"], MARKER).raw == "它直接用偏好数据训练[1][2]。"
    [bare] = split_sentences("它直接用偏好数据训练。", MARKER)
    assert with_markers(bare, ["[3]"], MARKER).raw == "它直接用偏好数据训练[3]。"
    [en] = split_sentences("It trains on pairs.", MARKER)
    assert with_markers(en, ["[1]"], MARKER).raw == "It trains on pairs [1]."
    assert with_markers(zh, [], MARKER).raw == "它直接用偏好数据训练。"


def test_figures_are_read_in_either_language_and_scale() -> None:
    assert numbers("13 亿参数的模型胜过 1750 亿参数的 GPT-3") == numbers(
        "the 1.3B model beats the 175B GPT-3"
    )
    assert numbers("约 450 万个句子对") == numbers("about 4.5 million sentence pairs")
    assert numbers("训练了十二个小时，用了八块 GPU") == numbers("twelve hours on eight GPUs")
    assert numbers("约占全部参数的三分之一") == numbers("about a third of all parameters")
    assert numbers("幻觉率约为一半") == numbers("about half as often") == {0.5}
    assert numbers("ε = 10−9, β1 = 0.9") == {10, 9, 0.9}


def test_names_ordinals_articles_and_scratch_are_not_figures() -> None:
    assert numbers("GPT-3 在 P100 上训练，β1 很小") == frozenset()
    assert numbers("第一步是收集数据；一是计算分布，二是加权平均；要点三") == frozenset()
    assert numbers("一个向量，从零开始") == frozenset()
    assert numbers("Step 2: train a reward model") == frozenset()


def test_coverage_bridges_languages_with_the_key_terms() -> None:
    snippet = (
        "Direct Preference Optimization (DPO) fine-tunes a language model on preference pairs."
    )
    sentence = "直接偏好优化用成对的偏好数据微调语言模型。"
    assert coverage(sentence, snippet) == 0.0  # no word of it can appear in English text
    term = Term(en="Direct Preference Optimization", zh="直接偏好优化")
    assert coverage(sentence, snippet, [term]) == 3 / 4  # direct, preference, optimization
    assert coverage("DPO 很好。", snippet) == 0.5  # one shared word is weak evidence
    assert coverage("The encoder has six layers.", snippet) == 0.0
