"""Text helpers: normalisation, line joining, sentence splitting, heading shapes."""

from __future__ import annotations

import pytest

from ingest.text import join_lines, match_heading, normalize_text, split_sentences, word_vocabulary


def test_normalize_fixes_kangxi_radicals_and_ligatures() -> None:
    assert normalize_text("⼤模型的⽅法") == "大模型的方法"
    assert normalize_text("signiﬁcantly eﬃcient") == "significantly efficient"


def test_normalize_keeps_chinese_punctuation_and_drops_cjk_spaces() -> None:
    assert normalize_text("注意力 机制，是 一种 方案！") == "注意力机制，是一种方案！"
    assert normalize_text("第8 章 与 2019 年4 月") == "第8章与2019年4月"


def test_normalize_collapses_spaces_keeps_newlines_and_latin_spacing() -> None:
    assert (
        normalize_text("a \t b\u00ad\u200b c\n\n用 Transformer 模型")
        == "a b c\n\n用 Transformer 模型"
    )
    assert normalize_text("") == ""


def test_join_lines_undoes_hyphenation_across_line_breaks() -> None:
    assert join_lines(["we use a trans-", "former model"]) == "we use a transformer model"


def test_join_lines_keeps_real_compounds() -> None:
    vocab = word_vocabulary(["self-attention is used", "and more self-attention"])
    assert join_lines(["multi-head self-", "attention layers"], vocab) == (
        "multi-head self-attention layers"
    )
    assert join_lines(["state-of-the-", "art results"]) == "state-of-the-art results"
    assert join_lines(["the English-", "to-German task"]) == "the English-to-German task"


def test_join_lines_spaces_latin_but_not_cjk() -> None:
    assert join_lines(["注意力机制是一种", "资源分配方案。"]) == "注意力机制是一种资源分配方案。"
    assert join_lines(["attention is", "all you need"]) == "attention is all you need"


def test_split_sentences_english_respects_abbreviations_and_decimals() -> None:
    text = (
        "As shown by Vaswani et al. (2017), attention works. Fig. 2 reports 28.4 BLEU! "
        "Does it scale? Yes, e.g. to long inputs."
    )
    assert split_sentences(text) == [
        "As shown by Vaswani et al. (2017), attention works.",
        "Fig. 2 reports 28.4 BLEU!",
        "Does it scale?",
        "Yes, e.g. to long inputs.",
    ]


def test_split_sentences_chinese_and_mixed() -> None:
    text = "注意力是什么？它是一种资源分配方案。我们用softmax归一化；然后加权求和！Done. 好的"
    assert split_sentences(text) == [
        "注意力是什么？",
        "它是一种资源分配方案。",
        "我们用softmax归一化；",
        "然后加权求和！",
        "Done.",
        "好的",
    ]


def test_split_sentences_blank_line_is_a_boundary_single_newline_is_not() -> None:
    assert split_sentences("Title\n\nThe model is\nsmall") == ["Title", "The model is small"]


def test_split_sentences_cuts_only_overlong_sentences() -> None:
    long = "Word " * 100 + "end."
    pieces = split_sentences("Short one. " + long, max_len=120)
    assert pieces[0] == "Short one."
    assert all(len(p) <= 120 for p in pieces)
    assert " ".join(pieces[1:]).split() == long.split()


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("3.2 Attention", "3.2 Attention"),
        ("1 Introduction", "1 Introduction"),
        ("Abstract", "Abstract"),
        ("摘要", "摘要"),
        ("第3章 注意力机制", "第3章 注意力机制"),
        ("第8章注意力机制与外部记忆", "第8章 注意力机制与外部记忆"),
        ("8.1.3 注意力机制的变体", "8.1.3 注意力机制的变体"),
        ("A Related Work", "A Related Work"),
        ("3 the model is trained with", None),
        ("2. http://commoncrawl.org", None),
        ("12 34 56", None),
        ("We train the model for 3 days.", None),
        ("1 We show that this long sentence is not a heading at all even though it starts.", None),
    ],
)
def test_match_heading(line: str, expected: str | None) -> None:
    assert match_heading(line) == expected
