"""Cleaning model drafts into one section's plain paragraphs, judging and trimming them."""

from __future__ import annotations

from bot.report.drafts import (
    clean_draft,
    is_chinese,
    markers_before_stop,
    split_sentences,
    trim_to,
)
from bot.report.models import HEADINGS
from bot.report.wordcount import count_zi


def test_markdown_and_own_heading_are_removed() -> None:
    draft = (
        "```\n## （2）核心内容摘要\n**研究背景**：本文研究翻译。\n"
        "- 方法：注意力。\n\n* 结论：更快。\n```"
    )
    assert (
        clean_draft(draft, HEADINGS[1]) == "研究背景：本文研究翻译。\n方法：注意力。\n结论：更快。"
    )


def test_a_whole_report_is_cut_down_to_the_asked_section() -> None:
    draft = (
        "（1）论文基本信息\n标题：某论文。\n"
        "（2）核心内容摘要\n摘要第一段。\n摘要第二段。\n"
        "### （3）关键技术解析\n技术部分。\n（4）视频补充要点\n视频部分。"
    )
    assert clean_draft(draft, HEADINGS[1]) == "摘要第一段。\n摘要第二段。"
    assert clean_draft(draft, HEADINGS[3]) == "视频部分。"


def test_other_headings_only_keep_the_text_before_them() -> None:
    draft = "本部分正文。\n二、关键技术解析\n不该出现的内容。"
    assert clean_draft(draft, HEADINGS[1]) == "本部分正文。"


def test_markers_move_before_the_full_stop() -> None:
    assert markers_before_stop("句子。[论文 p.5][视频 01:00]下一句。") == (
        "句子[论文 p.5][视频 01:00]。下一句。"
    )


def test_chinese_prose_is_told_from_english_junk() -> None:
    assert is_chinese("本文提出了一种完全基于注意力机制（Attention）的模型 Transformer[论文 p.2]。")
    assert not is_chinese("This paper proposes the Transformer, based only on attention. " * 5)
    assert not is_chinese("")
    assert not is_chinese("好的。")  # too little to be a section


def test_trim_drops_whole_sentences_from_the_end() -> None:
    text = "第一句很重要。第二句也重要！\n第三句稍次要？第四句最不重要；"
    trimmed = trim_to(text, count_zi("第一句很重要。第二句也重要！") + 2)
    assert trimmed == "第一句很重要。第二句也重要！"
    assert trim_to("只有一句话，而且很长很长", 3) == "只有一句话，而且很长很长"
    assert split_sentences("甲。乙！丙") == ["甲。", "乙！", "丙"]
