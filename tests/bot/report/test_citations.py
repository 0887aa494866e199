"""Citation markers in a draft: valid ones kept (canonical), near misses fixed, others removed."""

from __future__ import annotations

import pytest

from bot.report.citations import Snippet, check_citations, count_markers, format_snippets
from kernel.models import SourceKind

SNIPPETS = (
    Snippet("S1", SourceKind.PAPER, "Scaled dot-product attention.", page=5, page_end=6),
    Snippet("S2", SourceKind.PAPER, "Results on WMT 2014.", page=9, page_end=9),
    Snippet("S3", SourceKind.VIDEO, "The query asks a question.", start_s=750.0, end_s=790.0),
    Snippet("S4", SourceKind.VIDEO, "Late in the talk.", start_s=3723.0, end_s=3760.0),
)


@pytest.mark.parametrize(
    ("draft", "expected", "valid"),
    [
        ("注意力[论文 p.5]。", "注意力[论文 p.5]。", 1),
        ("跨页片段[论文 p.6]。", "跨页片段[论文 p.6]。", 1),  # S1 spans pages 5-6
        ("紧凑写法[论文p.9]。", "紧凑写法[论文 p.9]。", 1),
        ("英文写法[Paper p. 5, 9]。", "英文写法[论文 p.5][论文 p.9]。", 2),
        ("全角括号【论文 第9页】。", "全角括号[论文 p.9]。", 1),
        ("圆括号（论文第5页）。", "圆括号[论文 p.5]。", 1),
        ("编号[S3]与[S2]。", "编号[视频 12:30]与[论文 p.9]。", 2),
        ("视频[视频 12:34]。", "视频[视频 12:34]。", 1),
        ("英文视频[video 0:12:40]。", "英文视频[视频 12:40]。", 1),
        ("一小时后[视频 1:02:10]。", "一小时后[视频 1:02:10]。", 1),
        ("混合[论文 p.5；视频 12:40]。", "混合[论文 p.5][视频 12:40]。", 2),
        ("编造页码[论文 p.99]。", "编造页码。", 0),
        ("编造时间[视频 20:00]。", "编造时间。", 0),
        ("不存在的编号[S9]。", "不存在的编号。", 0),
        ("纯数字[1]。", "纯数字。", 0),
        ("页码错放到视频[视频 p.5]。", "页码错放到视频。", 0),
        ("标注[背景知识]。", "标注（背景知识）。", 0),
    ],
)
def test_markers_are_checked(draft: str, expected: str, valid: int) -> None:
    assert check_citations(draft, SNIPPETS) == (expected, valid)
    assert count_markers(expected) == valid


@pytest.mark.parametrize(
    "text",
    [
        "分类标记 [CLS] 位于序列开头。",
        "该论文发表于 2017 年（2017）。",
        "注意力机制（Attention）是核心。",
        "见论文第3节（论文第3节）。",  # a section, not a page: not a citation
        "列表（1）和（2）。",
    ],
)
def test_ordinary_brackets_are_left_alone(text: str) -> None:
    assert check_citations(text, SNIPPETS) == (text, 0)


def test_a_citation_inside_an_explanation_keeps_the_explanation() -> None:
    text = "多头注意力（Multi-Head Attention，见[论文 p.5]）。"
    assert check_citations(text, SNIPPETS) == (text, 1)


def test_only_the_sections_own_snippets_count() -> None:
    paper_only = SNIPPETS[:2]
    assert check_citations("视频说[视频 12:34]。", paper_only) == ("视频说。", 0)


def test_snippets_are_shown_with_the_marker_to_copy() -> None:
    block = format_snippets(SNIPPETS[:1] + SNIPPETS[3:], max_chars=10)
    assert block.splitlines()[0] == '<snippet id="S1" marker="[论文 p.5]">'  # fenced: data
    assert '<snippet id="S4" marker="[视频 1:02:03]">' in block
    assert "Scaled dot……\n</snippet>" in block
