"""Language detection: a message's language comes from its words, never from a link."""

from __future__ import annotations

import pytest

from kernel.language import message_language


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("https://www.youtube.com/watch?v=dQw4w9WgXcQ", None),
        ("www.bilibili.com/video/BV1GJ411x7h7?p=2", None),
        ("https://b23.tv/AbCd123", None),
        ("看这个视频 https://youtu.be/dQw4w9WgXcQ", "zh"),
        ("please read this https://youtu.be/dQw4w9WgXcQ", "en"),
        ("@papertutor_test_bot https://vimeo.com/1", None),
        ("What is DPO?", "en"),
        ("DPO是什么？", "zh"),
        ("ok", None),
    ],
)
def test_message_language_ignores_links(text: str, lang: str | None) -> None:
    assert message_language(text) == lang
