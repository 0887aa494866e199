"""count_zi counts 字数 the way Word does for Chinese documents."""

from __future__ import annotations

import pytest

from bot.report.wordcount import count_zi


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", 0),
        ("   \n\t ", 0),
        ("注意力机制", 5),
        ("你好，世界。", 6),  # full-width punctuation counts one each
        ("《大模型技术论文阅读报告》", 13),
        ("“注意力”……", 7),  # “ ” and each … count one
        ("Transformer", 1),
        ("Attention Is All You Need", 5),
        ("2017", 1),
        ("28.4 BLEU", 2),  # a decimal is one run
        ("GPT-3 和 GPT-4", 3),  # connectors inside a run keep it one word
        ("don't stop", 2),
        ("don’t", 1),  # a curly apostrophe inside a word is not Chinese punctuation
        ("注意力机制（Attention）", 8),  # 5 + （ + Attention + ）
        ("Transformer模型", 3),  # a Latin run next to Han characters
        ("使用8个GPU训练", 7),  # 使 用 8 个 GPU 训 练
        ("[论文 p.5]", 3),  # ASCII brackets count zero; p.5 is one run
        ("[视频 12:34]", 3),
        ("[视频 1:02:03]", 3),
        ("d_k", 1),
        ("a - b", 2),  # a dash between spaces is not a word
        ("Ｇ１", 2),  # full-width letters/digits count one each
        ("Ünïcödé naïve", 2),
        ("α 和 β", 3),
        ("⼤模型", 3),  # a Kangxi radical extracted from a PDF still counts one
        ("第一行\n第二行", 6),
        ("English, punctuation; only!", 3),
    ],
)
def test_count_zi(text: str, expected: int) -> None:
    assert count_zi(text) == expected


def test_mixed_paragraph() -> None:
    text = "Transformer（变换器）于2017年提出，BLEU达到28.4[论文 p.8]。"
    # Transformer 1, （变换器） 5, 于 1, 2017 1, 年提出， 4, BLEU 1, 达到 2, 28.4 1,
    # 论文 2, p.5 1, 。 1
    assert count_zi(text) == 20


def test_count_is_additive_over_paragraphs() -> None:
    a, b = "第一段 text 123。", "Second 段落，GPT-3！"
    assert count_zi(a + "\n" + b) == count_zi(a) + count_zi(b)
