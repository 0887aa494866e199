"""The fake Bot API refuses what Telegram refuses, so a test catches broken markup."""

from __future__ import annotations

from typing import Any

import pytest
from telegram import Bot, Poll
from telegram.constants import ParseMode
from telegram.error import BadRequest

from tests.fakes.bot_api import TOKEN, FakeBotApi, RecordingRequest
from tests.fakes.telegram_html import HtmlError, parse_html

CHAT = 1001


@pytest.mark.parametrize(
    ("html", "error"),
    [
        ("a < b", 'unsupported start tag "" at byte offset 2'),
        ("<script>x</script>", 'unsupported start tag "script" at byte offset 0'),
        ("<b>bold", "can't find end tag corresponding to start tag b"),
        ("<b>x</i>", 'unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("<b><i>x</b></i>", 'expected "</i>", found "</b>"'),
        ("x</b>", "unexpected end tag at byte offset 1"),
        ("注意<b", "unclosed start tag at byte offset 6"),
        ("<a href>x</a>", 'expected equal sign in declaration of an attribute of the tag "a"'),
        ('<span class="x">s</span>', 'tag "span" must have class "tg-spoiler"'),
        ("<blockquote>a<blockquote>b</blockquote></blockquote>", "a quote inside a quote"),
        ("<code><b>x</b></code>", '"b" inside code or pre'),
        ('<a href="https://a.org"><code>x</code></a>', '"code" inside a link'),
        ('<a href="javascript:alert(1)">x</a>', "Telegram drops a link"),
    ],
)
def test_malformed_html_is_refused_like_telegram(html: str, error: str) -> None:
    with pytest.raises(HtmlError, match=error.replace("(", r"\(").replace(")", r"\)")):
        parse_html(html)


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ("<b>粗</b> &lt;i&gt; &amp; &quot;q&quot; &#39;s&#x27;", "粗 <i> & \"q\" 's'"),
        ("AT&T &nbsp; &unknown;", "AT&T &nbsp; &unknown;"),  # not entities: kept as text
        ('<pre><code class="language-python">x = 1</code></pre>', "x = 1"),
        ("<blockquote expandable>quote</blockquote>", "quote"),
        ('<a href="https://a.org/?x=1&amp;y=2"><b>link</b></a>', "link"),
        ("<b><code>bold code</code></b>", "bold code"),
        ('<tg-spoiler>s</tg-spoiler><span class="tg-spoiler">t</span>', "st"),
    ],
)
def test_valid_html_is_read_as_telegram_reads_it(html: str, text: str) -> None:
    assert parse_html(html)[0] == text


async def test_the_bot_gets_telegrams_400_answers() -> None:
    api = FakeBotApi()
    bot = Bot(TOKEN, request=RecordingRequest(api))
    async with bot:
        with pytest.raises(BadRequest, match="Can't parse entities: unsupported start tag"):
            await bot.send_message(CHAT, "1 <2 and 3", parse_mode=ParseMode.HTML)
        with pytest.raises(BadRequest, match="Message is too long"):
            await bot.send_message(CHAT, "字" * 4097)
        with pytest.raises(BadRequest, match="Message text is empty"):
            await bot.send_message(CHAT, "<b> </b>", parse_mode=ParseMode.HTML)
        with pytest.raises(BadRequest, match="Message caption is too long"):
            await bot.send_photo(CHAT, b"png", caption="x" * 1025)
        sent = await bot.send_message(CHAT, "1 &lt;2 " + "<b>字</b>" * 4000, parse_mode="HTML")
    assert sent.message_id
    assert [reason for _, reason in api.rejected] == [
        'Can\'t parse entities: unsupported start tag "2" at byte offset 2',
        "message is too long",
        "message text is empty",
        "message caption is too long",
    ]
    assert len(api.bot_messages(CHAT)) == 1  # only the valid message reached the chat


async def test_quiz_polls_are_checked_like_telegram_checks_them() -> None:
    api = FakeBotApi()
    bot = Bot(TOKEN, request=RecordingRequest(api))
    good: dict[str, Any] = {
        "question": "几个头？",
        "options": ["8", "4", "16"],
        "type": Poll.QUIZ,
        "correct_option_ids": [0],
        "explanation": "见论文第 5 页",
        "is_anonymous": False,
    }
    async with bot:
        sent = await bot.send_poll(CHAT, **good)
        assert sent.poll is not None
        assert sent.poll.correct_option_ids == (0,)
        for changes, error in (
            ({"question": "问" * 301}, "poll question length"),
            ({"options": ["8"]}, "at least 2 option"),
            ({"options": ["8", "x" * 101]}, "must not exceed 100"),
            ({"options": ["8", "8", "4"]}, "must be unique"),
            ({"explanation": "解" * 201}, "explanation is too long"),
            ({"explanation": "a\nb\nc\nd"}, "at most 2 line feeds"),
            ({"correct_option_ids": [3]}, "wrong quiz correct option"),
        ):
            with pytest.raises(BadRequest, match=f"(?i){error}"):
                await bot.send_poll(CHAT, **(good | changes))
    [poll] = api.polls(CHAT)
    assert poll["options"] == ["8", "4", "16"]
    assert poll["is_anonymous"] is False
    assert len(api.rejected) == 7
