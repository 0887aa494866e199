"""Rendering answers as Telegram HTML and splitting long HTML at 4096 characters."""

from __future__ import annotations

import html
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.telegram.render import preview_text, render_answer, split_html, utf16_len
from kernel.models import SourceKind
from tests.bot.markup.support import FRAGMENTS
from tests.fakes.services import answer, citation
from tests.fakes.telegram_html import parse_html


def _visible(part: str) -> str:
    """What the student reads of ``part``; fails like Telegram on malformed markup."""
    return parse_html(part)[0]


def test_answer_escapes_model_text_and_lists_sources() -> None:
    video = citation(
        2,
        kind=SourceKind.VIDEO,
        title="Lecture <1>",
        page=None,
        start_s=754.0,
        url="https://www.youtube.com/watch?v=abcdefghijk&t=754s",  # as the store gives it
        snippet="attention weights",
    )
    out = render_answer(
        answer("用 <script> & **注意力** [1][2]", citations=(citation(), video)), "zh"
    )
    assert "&lt;script&gt; &amp; <b>注意力</b> [1][2]" in out
    assert "[1] <b>BERT</b> · 第 3 页" in out
    assert "<blockquote expandable>We introduce BERT &lt;Bidirectional&gt; &amp; more." in out
    assert '<a href="https://www.youtube.com/watch?v=abcdefghijk&amp;t=754s">视频 12:34</a>' in out
    assert "Lecture &lt;1&gt;" in out
    _visible(out)


def test_a_machine_transcribed_citation_says_so() -> None:
    heard = citation(
        1,
        kind=SourceKind.VIDEO,
        page=None,
        start_s=65.0,
        url="https://www.bilibili.com/video/BV1GJ411x7h7",
        transcribed=True,
    )
    zh = render_answer(answer("自注意力 [1]。", citations=(heard,)), "zh")
    assert "视频 1:05</a>（语音识别）" in zh
    en = render_answer(answer("Self-attention [1].", citations=(heard,), lang="en"), "en")
    assert "video 1:05</a> (machine-transcribed)" in en
    plain = render_answer(answer("自注意力 [1]。", citations=(citation(1),)), "zh")
    assert "语音识别" not in plain


def test_answer_in_english_uses_english_labels() -> None:
    out = render_answer(answer("A model [1].", lang="en"), "en")
    assert "<b>Sources</b>" in out
    assert "p. 3" in out


def test_short_text_is_one_part() -> None:
    assert split_html("<b>hi</b>") == ["<b>hi</b>"]
    assert split_html("") == []


def test_long_quote_is_split_with_tags_closed_and_reopened() -> None:
    body = (
        "<b>标题</b>\n"
        + '<blockquote expandable><a href="https://x.y/?a=1&amp;b=2">'
        + ("引用内容，" * 1500)
        + "</a></blockquote>\n结尾"
    )
    parts = split_html(body)
    assert len(parts) >= 2
    for part in parts:
        assert utf16_len(part) <= 4096
        _visible(part)
    assert parts[1].startswith('<blockquote expandable><a href="https://x.y/?a=1&amp;b=2">')
    assert "".join(_visible(p) for p in parts).replace("\n", "") == html.unescape(
        re.sub(r"<[^>]+>", "", body)
    ).replace("\n", "")


def test_entities_and_astral_characters_are_never_cut() -> None:
    body = ("&amp;😀" * 3000) + "end"
    parts = split_html(body, limit=100)
    for part in parts:
        assert utf16_len(part) <= 100
        _visible(part)
        assert not re.search(r"&[a-z]*$", part)
    assert "".join(html.unescape(p) for p in parts) == html.unescape(body)


@settings(max_examples=80, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["", "b", "i", "blockquote", "code"]),
            st.text(alphabet=st.sampled_from("ab 中文。\n<&>😀"), min_size=0, max_size=80),
        ),
        max_size=30,
    ),
    st.integers(min_value=40, max_value=300),
)
def test_split_keeps_every_character_and_balance(pieces: list[tuple[str, str]], limit: int) -> None:
    body = "".join(
        f"<{tag}>{html.escape(text)}</{tag}>" if tag else html.escape(text) for tag, text in pieces
    )
    parts = split_html(body, limit=limit)
    for part in parts:
        assert utf16_len(part) <= limit
    joined = "".join(_visible(p) for p in parts)
    expected = "".join(text for _, text in pieces)
    # Cuts may drop the newlines they happen at, and whitespace-only parts are not sent;
    # nothing else is lost or reordered.
    assert re.sub(r"\s", "", joined) == re.sub(r"\s", "", expected)


def test_markdown_answer_renders_like_a_chat_app() -> None:
    body = (
        "### 缩放点积注意力\n\n**核心**：用 $\\sqrt{d_k}$ 缩放 [1]。\n\n"
        "- 第一步 `QK^T`\n- 第二步 [2]\n\n$$\\frac{QK^T}{\\sqrt{d_k}}$$"
    )
    out = render_answer(answer(body, citations=(citation(), citation(2))), "zh")
    assert out.startswith("<b>缩放点积注意力</b>\n\n<b>核心</b>：用 √dₖ 缩放 [1]。")
    assert "• 第一步 <code>QK^T</code>\n• 第二步 [2]\n\nQKᵀ/√dₖ\n\n<b>来源</b>" in out
    text = _visible(out)
    assert "###" not in text
    assert "**" not in text
    assert "$" not in text


def test_preview_reads_like_the_answer_will() -> None:
    draft = "## 标题\n\n**注意力** 用 $\\sqrt{d_k}$ 缩放 [1]\n\n- 一\n- 二 $x_"
    assert preview_text(draft) == "标题\n\n注意力 用 √dₖ 缩放 [1]\n\n• 一\n• 二 $x_"


def test_preview_of_a_growing_draft_matches_the_whole_conversion() -> None:
    draft = "".join(FRAGMENTS[:30]) * 3
    for end in range(0, len(draft), 7):
        assert preview_text(draft[:end]) == preview_text(draft[:end] + " ")


def test_long_preview_keeps_the_end() -> None:
    draft = "**开头**\n\n" + "中间的句子。" * 2000 + "\n\n## 结尾"
    out = preview_text(draft)
    assert utf16_len(out) <= 4096 - 96
    assert out.startswith("…")
    assert out.endswith("结尾")


HOSTILE = ["<b>", "</blockquote>", "&", "<a href='x'>", '"', "标题 <i>", "[1]", "😀" * 3]


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.sampled_from(FRAGMENTS), max_size=60).map("".join),
    st.lists(st.tuples(st.sampled_from(HOSTILE), st.sampled_from(HOSTILE)), max_size=4),
    st.integers(min_value=60, max_value=4096),
)
def test_any_answer_is_valid_html_after_splitting(
    body: str, sources: list[tuple[str, str]], limit: int
) -> None:
    citations = tuple(
        citation(n, title=title, snippet=snippet * 50)
        for n, (title, snippet) in enumerate(sources, start=1)
    )
    out = render_answer(answer(body, citations=citations), "zh")
    parts = split_html(out, limit=limit)
    seen = "".join(_visible(p) for p in parts)  # each part parses as Telegram parses it
    assert all(utf16_len(p) <= limit for p in parts)
    for title, _ in sources:  # titles and snippets from papers are text, never markup
        assert title.strip("😀 ") in seen.replace("\n", "")
    assert "<script" not in out


def test_a_part_too_small_for_a_links_tags_keeps_its_text() -> None:
    out = render_answer(answer(">[链接](https://example.org/a?b=1&c=2)", citations=()), "zh")
    parts = split_html(out, limit=60)
    assert all(utf16_len(p) <= 60 for p in parts)
    assert "".join(_visible(p) for p in parts).strip() == "链接"
