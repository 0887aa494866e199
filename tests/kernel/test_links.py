"""Recognising video links in what students paste, and links that open a video at a second."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kernel.links import VideoLink, bare_url, page_url, parse_video_link, url_at

YT = "dQw4w9WgXcQ"
CANONICAL = f"https://www.youtube.com/watch?v={YT}"


@pytest.mark.parametrize(
    ("text", "start"),
    [
        (f"https://www.youtube.com/watch?v={YT}", None),
        (f"http://youtube.com/watch?v={YT}", None),
        (f"youtube.com/watch?v={YT}", None),
        (f"www.youtube.com/watch?v={YT}&list=PLx0sYbCqOb8TBPRdmBHs5Iftvv9TPboYG&index=3", None),
        (f"https://www.youtube.com/watch?feature=share&v={YT}", None),
        (f"https://www.youtube.com/watch?v={YT}&t=90", 90),
        (f"https://www.youtube.com/watch?v={YT}&t=90s", 90),
        (f"https://www.youtube.com/watch?v={YT}&t=1h2m3s", 3723),
        (f"https://www.youtube.com/watch?v={YT}#t=2m", 120),
        (f"https://youtu.be/{YT}", None),
        (f"https://youtu.be/{YT}?si=AbCdEf&t=42", 42),
        (f"https://m.youtube.com/watch?v={YT}", None),
        (f"https://music.youtube.com/watch?v={YT}&feature=share", None),
        (f"https://www.youtube.com/shorts/{YT}", None),
        (f"https://youtube.com/shorts/{YT}?feature=share", None),
        (f"https://www.youtube.com/embed/{YT}?start=30", 30),
        (f"https://www.youtube-nocookie.com/embed/{YT}", None),
        (f"https://www.youtube.com/live/{YT}?si=x", None),
        (f"HTTPS://WWW.YOUTUBE.COM/watch?v={YT}", None),
    ],
)
def test_youtube_forms(text: str, start: int | None) -> None:
    assert parse_video_link(text) == VideoLink("youtube", YT, CANONICAL, start)


@pytest.mark.parametrize(
    ("text", "video_id", "url", "start", "part"),
    [
        (
            "https://www.bilibili.com/video/BV1GJ411x7h7",
            "BV1GJ411x7h7",
            "https://www.bilibili.com/video/BV1GJ411x7h7",
            None,
            None,
        ),
        (
            "https://www.bilibili.com/video/BV1GJ411x7h7/?p=3&t=125.4&vd_source=abc",
            "BV1GJ411x7h7",
            "https://www.bilibili.com/video/BV1GJ411x7h7?p=3",
            125,
            3,
        ),
        (
            "m.bilibili.com/video/BV1GJ411x7h7?p=1",
            "BV1GJ411x7h7",
            "https://www.bilibili.com/video/BV1GJ411x7h7",
            None,
            None,
        ),
        (
            "https://www.bilibili.com/video/av170001/",
            "av170001",
            "https://www.bilibili.com/video/av170001",
            None,
            None,
        ),
        (
            "https://b23.tv/BV1GJ411x7h7",
            "BV1GJ411x7h7",
            "https://www.bilibili.com/video/BV1GJ411x7h7",
            None,
            None,
        ),
        ("https://b23.tv/xY12AbC", "xY12AbC", "https://b23.tv/xY12AbC", None, None),
    ],
)
def test_bilibili_forms(
    text: str, video_id: str, url: str, start: int | None, part: int | None
) -> None:
    assert parse_video_link(text) == VideoLink("bilibili", video_id, url, start, part)


def test_fingerprint_distinguishes_bilibili_parts() -> None:
    one = parse_video_link("https://www.bilibili.com/video/BV1GJ411x7h7")
    two = parse_video_link("https://www.bilibili.com/video/BV1GJ411x7h7?p=2")
    assert one is not None
    assert two is not None
    assert one.fingerprint == "bilibili:BV1GJ411x7h7"
    assert two.fingerprint == "bilibili:BV1GJ411x7h7:p2"
    assert VideoLink("youtube", YT, CANONICAL).fingerprint == f"youtube:{YT}"


@pytest.mark.parametrize(
    "message",
    [
        f"老师，这个视频讲得很好：https://youtu.be/{YT}，请帮我看看",
        f"看这个https://www.youtube.com/watch?v={YT}。",
        f"(see https://www.youtube.com/watch?v={YT}).",
        f"Link: <https://youtu.be/{YT}>",
        f'<a href="https://youtu.be/{YT}">video</a>',
        f"first a channel https://www.youtube.com/@3blue1brown then https://youtu.be/{YT}",
    ],
)
def test_link_inside_a_message(message: str) -> None:
    link = parse_video_link(message)
    assert link is not None
    assert (link.platform, link.video_id) == ("youtube", YT)


def test_first_link_wins() -> None:
    text = f"https://www.bilibili.com/video/BV1GJ411x7h7 and https://youtu.be/{YT}"
    link = parse_video_link(text)
    assert link is not None
    assert link.platform == "bilibili"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "什么是注意力机制？",
        "https://example.com/watch?v=dQw4w9WgXcQ",
        f"https://notyoutube.com/watch?v={YT}",
        f"https://youtube.com.evil.example/watch?v={YT}",
        "https://www.youtube.com/watch?v=short",
        "https://www.youtube.com/@3blue1brown/videos",
        "https://www.youtube.com/",
        "https://www.bilibili.com/video/BV123",
        "https://space.bilibili.com/12345",
        "https://b23.tv/",
        "https://arxiv.org/abs/1706.03762",
    ],
)
def test_not_a_video_link(text: str) -> None:
    assert parse_video_link(text) is None


@pytest.mark.parametrize(
    ("url", "seconds", "expected"),
    [
        (CANONICAL, 123.9, f"{CANONICAL}&t=123s"),
        (f"{CANONICAL}&t=5s", 123, f"{CANONICAL}&t=123s"),
        (f"https://www.youtube.com/watch?t=5&v={YT}&list=PL1", 60, None),
        (f"https://youtu.be/{YT}", 123, f"https://youtu.be/{YT}?t=123"),
        (f"https://youtu.be/{YT}?t=9", 123, f"https://youtu.be/{YT}?t=123"),
        (f"https://www.youtube.com/shorts/{YT}", 7, f"{CANONICAL}&t=7s"),
        (f"https://www.youtube.com/embed/{YT}?start=30", 7, f"{CANONICAL}&t=7s"),
        (CANONICAL, -3, f"{CANONICAL}&t=0s"),
        (
            "https://www.bilibili.com/video/BV1GJ411x7h7",
            65.5,
            "https://www.bilibili.com/video/BV1GJ411x7h7?t=65",
        ),
        (
            "https://www.bilibili.com/video/BV1GJ411x7h7?p=2&t=3",
            65,
            "https://www.bilibili.com/video/BV1GJ411x7h7?p=2&t=65",
        ),
        ("https://example.com/lecture.mp4", 30, "https://example.com/lecture.mp4"),
        (CANONICAL + "&t=5s", None, CANONICAL + "&t=5s"),
        ("https://example.com/x?t=1", None, "https://example.com/x?t=1"),
    ],
)
def test_url_at(url: str, seconds: float | None, expected: str | None) -> None:
    result = url_at(url, seconds)
    if expected is not None:
        assert result == expected
    else:  # parameter order kept, old t replaced
        assert result == f"https://www.youtube.com/watch?v={YT}&list=PL1&t=60s"


@given(st.text(max_size=300))
def test_parse_never_crashes(text: str) -> None:
    link = parse_video_link(text)
    assert link is None or link.platform in ("youtube", "bilibili")


@given(st.text(max_size=200), st.none() | st.floats(allow_nan=True, allow_infinity=True))
def test_url_at_never_crashes(url: str, seconds: float | None) -> None:
    assert isinstance(url_at(url, seconds), str)


_ID = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-",
    min_size=11,
    max_size=11,
)


@given(_ID, st.floats(min_value=0, max_value=20_000))
def test_url_at_round_trips(video_id: str, seconds: float) -> None:
    for base in (f"https://www.youtube.com/watch?v={video_id}", f"https://youtu.be/{video_id}"):
        link = parse_video_link(url_at(base, seconds))
        assert link is not None
        assert link.video_id == video_id
        assert link.start_s == int(seconds)


@pytest.mark.parametrize(
    ("link", "page", "expected"),
    [
        ("https://arxiv.org/abs/1706.03762", 4, "https://arxiv.org/pdf/1706.03762#page=4"),
        ("http://arxiv.org/pdf/1706.03762v5.pdf", 1, "https://arxiv.org/pdf/1706.03762v5#page=1"),
        ("https://arxiv.org/abs/cs.CL/0101001", 2, "https://arxiv.org/pdf/cs.CL/0101001#page=2"),
        ("https://doi.org/10.18653/v1/P19-1139", 3, None),  # a DOI names no page
        ("https://arxiv.org/abs/1706.03762", None, None),
        (None, 3, None),
    ],
)
def test_page_url_opens_an_arxiv_pdf_at_the_page(
    link: str | None, page: int | None, expected: str | None
) -> None:
    assert page_url(link, page) == expected


@pytest.mark.parametrize(
    ("text", "url"),
    [
        ("https://vimeo.com/76979871", "https://vimeo.com/76979871"),
        ("  http://127.0.0.1:8000/talk.mp3\n", "http://127.0.0.1:8000/talk.mp3"),
        ("https://www.ted.com/talks/x.", "https://www.ted.com/talks/x"),
        ("what does https://example.com/a say?", None),  # a question that mentions a link
        ("https://localhost", None),
        ("ftp://files.example.com/a.mp3", None),
        ("不是链接", None),
    ],
)
def test_bare_url_is_a_message_that_is_only_a_link(text: str, url: str | None) -> None:
    assert bare_url(text) == url
