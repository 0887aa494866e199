"""Rendering answers as Telegram HTML and splitting long HTML at 4096 characters."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.telegram.render import render_answer, split_html, utf16_len
from kernel.models import SourceKind
from tests.telegram.fakes import answer, citation


class _Checker(HTMLParser):
    """Fails on unbalanced tags, like Telegram's parser does."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack, f"unbalanced </{tag}>"
        assert self.stack[-1] == tag, f"unbalanced </{tag}> in {self.stack}"
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _visible(part: str) -> str:
    checker = _Checker()
    checker.feed(part)
    checker.close()
    assert not checker.stack, f"unclosed {checker.stack}"
    return "".join(checker.text)


def test_answer_escapes_model_text_and_lists_sources() -> None:
    video = citation(
        2,
        kind=SourceKind.VIDEO,
        title="Lecture <1>",
        page=None,
        start_s=754.0,
        url="https://www.youtube.com/watch?v=abcdefghijk",
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
