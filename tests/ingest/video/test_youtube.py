"""YouTube transcripts through the real youtube-transcript-api against an offline fake YouTube."""

from __future__ import annotations

import json
from collections.abc import Sequence

import pytest

from ingest.video.youtube import (
    DEFAULT_LANGUAGES,
    YouTubeTranscriptFetcher,
)
from kernel.errors import VideoUnavailableError
from kernel.links import VideoLink
from kernel.models import ParsedSource, SourceKind, VideoMeta
from tests.fakes.youtube import FakeTrack, FakeYouTube

VIDEO_ID = "eMlx5fFNoYc"
LINK = VideoLink("youtube", VIDEO_ID, f"https://www.youtube.com/watch?v={VIDEO_ID}", 42)

ZH_LINES = [
    (0.0, 3.0, "在上一章中，我们开始探讨 Transformer。"),
    (3.0, 4.0, "注意力机制让每个词根据上下文更新含义。"),
    (7.0, 3.5, "查询和键的点积决定权重。"),
]
EN_LINES = [
    (0.0, 3.0, "In the last chapter we looked inside a transformer."),
    (3.0, 4.0, "Attention lets each token update its meaning."),
    (7.0, 5.0, "Queries &amp; keys decide the weights."),
]
# A player answer whose captions renderer lacks captionTracks: YouTube's "disabled" shape.
NO_TRACKS_KEY = {
    "playabilityStatus": {"status": "OK"},
    "captions": {"playerCaptionsTracklistRenderer": {}},
}
DE_LINES = [(0.0, 4.0, "Aufmerksamkeit ist alles, was man braucht.")]


def fetch(
    fake: FakeYouTube, *, languages: Sequence[str] = DEFAULT_LANGUAGES, proxy: str | None = None
) -> ParsedSource:
    fetcher = YouTubeTranscriptFetcher(
        languages=languages, proxy=proxy, session_factory=fake.session
    )
    return fetcher.fetch(LINK)


def video_of(parsed: ParsedSource) -> VideoMeta:
    assert parsed.video is not None
    return parsed.video


def test_manual_chinese_transcript_with_title() -> None:
    fake = FakeYouTube(
        tracks=[
            FakeTrack("en", "English", EN_LINES),
            FakeTrack("zh-Hans", "Chinese (Simplified)", ZH_LINES),
        ]
    )
    source = YouTubeTranscriptFetcher(languages=DEFAULT_LANGUAGES, session_factory=fake.session)
    parsed = source.fetch(LINK)

    assert parsed.kind is SourceKind.VIDEO
    assert parsed.fingerprint == f"youtube:{VIDEO_ID}"
    video = video_of(parsed)
    assert video is not None
    assert video.title == "Attention in transformers"
    assert video.url == f"https://www.youtube.com/watch?v={VIDEO_ID}"
    assert (video.video_id, video.platform) == (VIDEO_ID, "youtube")
    assert (video.language, video.auto_generated) == ("zh-Hans", False)
    assert video.duration_s == pytest.approx(10.5)
    text = "".join(c.text for c in parsed.chunks)
    assert "注意力机制让每个词根据上下文更新含义。" in text
    assert "Attention" not in text
    assert parsed.chunks[0].start_s == 0.0
    assert parsed.warnings == ()
    # The title came from oEmbed, asked through the same session.
    oembed = [c.url for c in fake.calls if "/oembed" in c.url]
    assert len(oembed) == 1
    assert "format=json" in oembed[0]
    assert VIDEO_ID in oembed[0]


def test_only_english_auto_generated() -> None:
    fake = FakeYouTube(tracks=[FakeTrack("en", "English", EN_LINES, generated=True)])
    parsed = fetch(fake)
    video = video_of(parsed)
    assert (video.language, video.auto_generated) == ("en", True)
    text = " ".join(c.text for c in parsed.chunks)
    assert "Queries & keys decide the weights." in text
    assert any("自动生成" in w for w in parsed.warnings)


def test_only_another_language_is_taken_and_noted() -> None:
    fake = FakeYouTube(tracks=[FakeTrack("de", "German", DE_LINES)])
    parsed = fetch(fake)
    assert video_of(parsed).language == "de"
    assert "Aufmerksamkeit" in parsed.chunks[0].text
    assert any("de" in w and "German" in w for w in parsed.warnings)


@pytest.mark.parametrize(
    ("tracks", "languages", "expected"),
    [
        # Manual beats generated within a tier.
        (
            [
                FakeTrack("zh-Hans", "zh", ZH_LINES, generated=True),
                FakeTrack("zh-Hans", "zh", ZH_LINES),
            ],
            DEFAULT_LANGUAGES,
            ("zh-Hans", False),
        ),
        # Generated Chinese still beats manual English (tier order first).
        (
            [FakeTrack("en", "English", EN_LINES), FakeTrack("zh", "zh", ZH_LINES, generated=True)],
            DEFAULT_LANGUAGES,
            ("zh", True),
        ),
        # Simplified before Traditional, even a generated Simplified track.
        (
            [
                FakeTrack("zh-TW", "zh-TW", ZH_LINES),
                FakeTrack("zh-CN", "zh", ZH_LINES, generated=True),
            ],
            DEFAULT_LANGUAGES,
            ("zh-CN", True),
        ),
        # Traditional before English.
        (
            [FakeTrack("en", "English", EN_LINES), FakeTrack("zh-Hant", "zh-Hant", ZH_LINES)],
            DEFAULT_LANGUAGES,
            ("zh-Hant", False),
        ),
        # The preference is a parameter: English first.
        (
            [
                FakeTrack("zh-Hans", "zh", ZH_LINES),
                FakeTrack("en", "English", EN_LINES, generated=True),
            ],
            ["en", "zh-Hans"],
            ("en", True),
        ),
        # "en" finds a regional English track.
        (
            [FakeTrack("de", "German", DE_LINES), FakeTrack("en-GB", "English (UK)", EN_LINES)],
            DEFAULT_LANGUAGES,
            ("en-GB", False),
        ),
    ],
)
def test_language_preference(
    tracks: list[FakeTrack], languages: list[str], expected: tuple[str, bool]
) -> None:
    parsed = fetch(FakeYouTube(tracks=tracks), languages=languages)
    video = video_of(parsed)
    assert (video.language, video.auto_generated) == expected
    assert parsed.warnings == () or expected[1]


@pytest.mark.parametrize(
    ("fake", "says"),
    [
        (FakeYouTube(captions=False), "关闭了字幕"),
        (FakeYouTube(tracks=[]), "没有任何字幕"),
        (FakeYouTube(playability="unavailable"), "找不到这个视频"),
        (FakeYouTube(playability="age_restricted"), "年龄限制"),
        (FakeYouTube(playability="bot_detected"), "拒绝"),
        (FakeYouTube(watch_status=429), "拒绝"),
        (FakeYouTube(watch_page='<div class="g-recaptcha"></div>'), "拒绝"),
        (FakeYouTube(tracks=[FakeTrack("en", "English", EN_LINES, po_token=True)]), "PO Token"),
        (FakeYouTube(playability="unplayable"), "无法播放"),
        (FakeYouTube(watch_page="<html>no key here</html>"), "看不懂"),
        (FakeYouTube(player_body="<html>not json</html>"), "看不懂"),
        (
            FakeYouTube(player_body=json.dumps(NO_TRACKS_KEY)),
            "关闭了字幕",
        ),
        (
            FakeYouTube(player_body='{"playabilityStatus": {"status": "OK"}, "captions": 3}'),
            "看不懂",
        ),
        (FakeYouTube(player_status=500), "看不懂"),
        (
            FakeYouTube(
                tracks=[FakeTrack("en", "English", EN_LINES)], timedtext_body="<transcript"
            ),
            "看不懂",
        ),
        (FakeYouTube(tracks=[FakeTrack("en", "English", [(0.0, 1.0, "   ")])]), "字幕是空的"),
        (FakeYouTube(connection_error=True), "连接 YouTube 失败"),
    ],
)
def test_every_failure_asks_for_a_subtitle_file(fake: FakeYouTube, says: str) -> None:
    with pytest.raises(VideoUnavailableError) as caught:
        fetch(fake)
    error = caught.value
    assert says in error.message("zh")
    assert "字幕文件" in error.message("zh")
    assert "subtitle file" in error.message("en")
    assert ".srt" in error.message("zh")


def test_connection_errors_are_retryable_but_missing_captions_are_not() -> None:
    with pytest.raises(VideoUnavailableError) as offline:
        fetch(FakeYouTube(connection_error=True))
    with pytest.raises(VideoUnavailableError) as disabled:
        fetch(FakeYouTube(captions=False))
    assert offline.value.retryable
    assert not disabled.value.retryable


@pytest.mark.parametrize("title", [None, "", "   "])
def test_title_falls_back_to_the_video_id(title: str | None) -> None:
    fake = FakeYouTube(tracks=[FakeTrack("en", "English", EN_LINES)], title=title)
    parsed = fetch(fake)
    assert video_of(parsed).title == f"YouTube video {VIDEO_ID}"


def test_proxy_is_used_for_every_request() -> None:
    fake = FakeYouTube(tracks=[FakeTrack("en", "English", EN_LINES)])
    fetch(fake, proxy="http://user:pw@proxy.example:3128")
    assert len(fake.calls) == 4  # watch page, player, timedtext, oEmbed
    assert all(c.proxies.get("https") == "http://user:pw@proxy.example:3128" for c in fake.calls)
