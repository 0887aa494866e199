"""yt-dlp behind ``MediaDownloader``: the generic extractor for real against a local server,
platform extractors through recorded metadata (real format and caption selection), failures."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ingest.video.downloader import MediaDownloader, translate_error
from kernel.errors import CancelledByStudentError, VideoUnavailableError
from tests.fakes.http_server import collect_ytdlp_leaks, static_files
from tests.fakes.recorded_media import BILIBILI_SRT, bilibili_info, live_info, youtube_info
from tests.fakes.speech import media_file

SOUND = media_file("lecture_en.ogg").read_bytes()


@pytest.fixture(autouse=True)
def _ytdlp_leaks() -> Iterator[None]:
    yield
    collect_ytdlp_leaks()


def recorded(info: dict[str, Any]) -> MediaDownloader:
    return MediaDownloader(extract=lambda ydl, url: info, timeout_s=5.0)


def test_generic_extractor_reads_and_downloads_a_direct_link(tmp_path: Path) -> None:
    with static_files({"/talks/lecture.ogg": SOUND}) as server:
        downloader = MediaDownloader(timeout_s=5.0)
        url = f"{server.url}/talks/lecture.ogg"
        media = downloader.probe(url)
        seen: list[tuple[int, int | None]] = []
        path = downloader.download_audio(media, tmp_path, lambda d, t: seen.append((d, t)))
    assert media.platform == "web"
    assert media.fingerprint == f"web:{url}"  # a file name is no identity; the address is
    assert media.captions == ()
    assert not media.live
    assert path.read_bytes() == SOUND
    assert seen[-1] == (len(SOUND), len(SOUND))


def test_a_cancelled_download_stops_and_says_so(tmp_path: Path) -> None:
    with static_files({"/lecture.ogg": SOUND}) as server:
        downloader = MediaDownloader(timeout_s=5.0)
        media = downloader.probe(f"{server.url}/lecture.ogg")
        stop = threading.Event()
        stop.set()
        with pytest.raises(CancelledByStudentError):
            downloader.download_audio(media, tmp_path, cancel=stop)
    # At most an unfinished ".part" stays behind (the caller's scratch folder goes away).
    assert [p.name for p in tmp_path.iterdir() if not p.name.endswith(".part")] == []


def test_missing_and_unreachable_links_are_clear_messages() -> None:
    with static_files({}) as server:
        missing = server.url + "/gone.mp4"
        with pytest.raises(VideoUnavailableError) as gone:
            MediaDownloader(timeout_s=5.0).probe(missing)
    assert gone.value.key == "deleted"
    assert "字幕文件" in gone.value.message("zh")  # the next step is always said
    with pytest.raises(VideoUnavailableError) as down:
        MediaDownloader(timeout_s=5.0).probe(missing)  # the server is gone now
    assert down.value.key == "download_failed"
    assert down.value.retryable


def test_bilibili_part_with_captions_chapters_and_a_small_audio_stream(tmp_path: Path) -> None:
    with static_files({"/bili-audio.m4s": SOUND}) as server:
        downloader = recorded(bilibili_info(server.url))
        media = downloader.probe("https://b23.tv/AbCd123")
        path = downloader.download_audio(media, tmp_path)
        fetched = [s.split("?")[0] for s in server.seen]
    assert media.platform == "bilibili"
    assert media.fingerprint == "bilibili:BV1GJ411x7h7:p2"  # the part is its own video
    assert media.url == "https://www.bilibili.com/video/BV1GJ411x7h7?p=2"
    assert media.uploader == "王老师"
    assert [(c.start_s, c.title) for c in media.chapters] == [(0.0, "引言"), (300.0, "自注意力")]
    # Danmaku comments are not captions; the AI subtitles are the machine's.
    assert [(t.language_code, t.is_generated) for t in media.captions] == [
        ("zh-CN", False),
        ("zh", True),
    ]
    assert downloader.caption(media.captions[0]).decode() == BILIBILI_SRT
    assert fetched == ["/bili-audio.m4s"]  # the audio-only stream, not the video
    assert path.read_bytes() == SOUND


def test_youtube_machine_translations_are_not_captions(tmp_path: Path) -> None:
    with static_files({"/yt-249.webm": SOUND, "/yt-en.vtt": b"WEBVTT\n"}) as server:
        downloader = recorded(youtube_info(server.url))
        media = downloader.probe("https://youtu.be/eMlx5fFNoYc")
        downloader.download_audio(media, tmp_path)
        fetched = [s.split("?")[0] for s in server.seen]
    assert media.fingerprint == "youtube:eMlx5fFNoYc"
    assert [(t.language_code, t.is_generated, t.ext) for t in media.captions] == [
        ("en", True, "vtt")
    ]
    assert fetched == ["/yt-249.webm"]  # 50 kbit/s opus: enough to hear, quick to fetch


def test_a_live_stream_is_marked_live() -> None:
    media = recorded(live_info("http://127.0.0.1:9")).probe("https://youtu.be/liveLIVE123")
    assert media.live


@pytest.mark.parametrize(
    ("message", "key", "retryable"),
    [
        (
            "ERROR: [youtube] abc: Private video. Sign in if you've been granted access",
            "private",
            False,
        ),
        ("ERROR: [youtube] abc: Video unavailable. This video has been removed", "deleted", False),
        (
            "ERROR: [youtube] abc: Join this channel to get access to members-only content",
            "members",
            False,
        ),
        ("ERROR: [youtube] abc: Sign in to confirm your age", "login", False),
        ("ERROR: [youtube] abc: Sign in to confirm you're not a bot", "blocked", True),
        ("ERROR: [BiliBili] BV1: This is a supporter-only video: 充电专属", "members", False),
        ("ERROR: [BiliBili] BV1: Request is rejected by server (352)", "blocked", True),
        ("ERROR: [youtube] abc: This live event will begin in 3 hours", "live", False),
        ("ERROR: Unsupported URL: https://example.com/page", "unsupported_site", False),
        ("ERROR: The uploader has not made this video available in your country", "region", False),
        (
            "ERROR: unable to download video data: <urlopen error timed out>",
            "download_failed",
            True,
        ),
    ],
)
def test_every_failure_is_one_clear_message(message: str, key: str, retryable: bool) -> None:
    error = translate_error(Exception(message))
    assert (error.key, error.retryable) == (key, retryable)
    assert error.message("zh") != error.message("en")
