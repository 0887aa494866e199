"""Reading a lecture: captions first, speech recognition otherwise, once per video, limits
checked before anything is downloaded. Recorded platform metadata and a local file server
stand in for the video sites; recognition is scripted here (it is tested for real in
test_asr_process.py)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from ingest.video.lecture import LectureReader, file_fingerprint
from kernel.errors import (
    CancelledByStudentError,
    MediaTooLongError,
    NoAudioError,
    UnsupportedLinkError,
    VideoUnavailableError,
)
from kernel.links import VideoLink
from kernel.models import ParsedSource
from tests.fakes.http_server import StaticFiles, collect_ytdlp_leaks, static_files
from tests.fakes.recognition import FakeRecognizer, heard, lecture_reader
from tests.fakes.recorded_media import bilibili_info, live_info, youtube_info
from tests.fakes.speech import media_file, video_file

SOUND = media_file("lecture_en.ogg").read_bytes()
BILIBILI = "https://www.bilibili.com/video/BV1GJ411x7h7?p=2"


@pytest.fixture
def site() -> Iterator[StaticFiles]:
    vtt = b"WEBVTT\n\n00:00.000 --> 00:03.000\nAttention is all you need.\n"
    files = {"/bili-audio.m4s": SOUND, "/yt-249.webm": SOUND, "/yt-en.vtt": vtt}
    with static_files(files) as served:
        yield served
    collect_ytdlp_leaks()


def _reader(
    tmp_path: Path, site: StaticFiles, info: dict[str, object], **kw: object
) -> tuple[LectureReader, FakeRecognizer]:
    recognizer = kw.pop("recognizer", None) or FakeRecognizer()
    assert isinstance(recognizer, FakeRecognizer)
    reader = lecture_reader(
        tmp_path,
        recognizer,
        extract=lambda ydl, url: dict(info),
        **kw,  # type: ignore[arg-type]
    )
    return reader, recognizer


def test_platform_captions_come_first_and_chapters_name_the_chunks(
    tmp_path: Path, site: StaticFiles
) -> None:
    reader, recognizer = _reader(tmp_path, site, bilibili_info(site.url))
    stages: list[str] = []
    source = reader.read_link(BILIBILI, progress=lambda s, d, t: stages.append(s))
    assert source.video is not None
    assert source.fingerprint == "bilibili:BV1GJ411x7h7:p2"
    assert (source.video.language, source.video.auto_generated) == ("zh-CN", False)
    assert not source.video.transcribed
    assert source.video.uploader == "王老师"
    assert [c.section for c in source.chunks] == ["引言", "自注意力"]
    assert "自注意力让每个词" in source.chunks[1].text
    assert recognizer.calls == []
    assert not site.downloaded("/bili-audio.m4s")
    assert stages == ["probing", "fetching"]


def test_without_captions_the_speech_is_recognised_once_for_every_chat(
    tmp_path: Path, site: StaticFiles
) -> None:
    recognition = heard("大家好，今天讲注意力。", "自注意力让每个词看到其他词。", language="zh")
    reader, recognizer = _reader(
        tmp_path,
        site,
        bilibili_info(site.url, subtitles=False),
        recognizer=FakeRecognizer([recognition]),
    )
    stages: list[str] = []
    first = reader.read_link(BILIBILI, hint="zh", progress=lambda s, d, t: stages.append(s))
    assert first.video is not None
    assert first.video.transcribed
    assert first.video.asr_model == "fake-asr"
    assert first.video.language == "zh"
    assert first.video.platform == "bilibili"
    assert any("语音识别" in w for w in first.warnings)
    assert [c.text for c in first.chunks] == ["大家好，今天讲注意力。自注意力让每个词看到其他词。"]
    [call] = recognizer.calls
    assert (call["hint"], call["lane"], call["exists"]) == ("zh", "lecture", True)
    assert call["duration_s"] == 1203.5
    assert stages[:3] == ["probing", "waiting", "downloading"]
    assert "transcribing" in stages
    assert list((tmp_path / "tmp").iterdir()) == []  # the download is gone
    # Another chat sends the same video: no download, no recognition.
    downloads = len(site.seen)
    second = reader.read_link("https://b23.tv/AbCd123")
    assert second.chunks == first.chunks
    assert len(recognizer.calls) == 1
    assert [s for s in site.seen[downloads:] if "audio" in s] == []


def test_two_chats_at_once_share_one_recognition(tmp_path: Path, site: StaticFiles) -> None:
    gate = threading.Event()
    recognizer = FakeRecognizer([heard("一次就够了。")], gate=gate)
    reader, _ = _reader(
        tmp_path, site, bilibili_info(site.url, subtitles=False), recognizer=recognizer
    )
    results: list[ParsedSource] = []
    threads = [
        threading.Thread(target=lambda: results.append(reader.read_link(BILIBILI)))
        for _ in range(2)
    ]
    for thread in threads:
        thread.start()
    gate.set()
    for thread in threads:
        thread.join(30)
    assert len(results) == 2
    assert results[0].chunks == results[1].chunks
    assert len(recognizer.calls) == 1


def test_a_too_long_video_is_refused_before_downloading(tmp_path: Path, site: StaticFiles) -> None:
    reader, recognizer = _reader(
        tmp_path, site, bilibili_info(site.url, subtitles=False), max_seconds=600
    )
    with pytest.raises(MediaTooLongError) as caught:
        reader.read_link(BILIBILI)
    assert "20 分钟" in caught.value.message("zh")
    assert "10 分钟" in caught.value.message("zh")
    assert not site.downloaded("/bili-audio.m4s")
    assert recognizer.calls == []
    # With captions, length does not matter: nothing has to be recognised.
    reader, _ = _reader(tmp_path, site, bilibili_info(site.url), max_seconds=600)
    assert reader.read_link(BILIBILI).chunks


def test_a_live_stream_is_refused(tmp_path: Path, site: StaticFiles) -> None:
    reader, recognizer = _reader(tmp_path, site, live_info(site.url))
    with pytest.raises(VideoUnavailableError) as caught:
        reader.read_link("https://www.youtube.com/watch?v=liveLIVE123")
    assert caught.value.key == "live"
    assert recognizer.calls == []


def test_youtube_transcript_api_first_then_the_platform_tracks(
    tmp_path: Path, site: StaticFiles
) -> None:
    asked: list[VideoLink] = []

    def blocked(link: VideoLink) -> ParsedSource:
        asked.append(link)
        raise VideoUnavailableError("blocked", retryable=True)

    reader, recognizer = _reader(tmp_path, site, youtube_info(site.url), youtube=blocked)
    source = reader.read_link("看这个 https://youtu.be/eMlx5fFNoYc 谢谢")
    assert [link.video_id for link in asked] == ["eMlx5fFNoYc"]
    assert source.video is not None
    assert source.video.auto_generated
    assert source.chunks[0].text == "Attention is all you need."
    assert any("自动生成" in w for w in source.warnings)
    assert recognizer.calls == []


def test_a_recording_is_recognised_and_kept_by_its_content(tmp_path: Path) -> None:
    clip = video_file(tmp_path / "第三讲.mp4", sound=media_file("question_en.ogg"))
    recognizer = FakeRecognizer([heard("What is self attention?")])
    reader = lecture_reader(tmp_path / "data", recognizer)
    source = reader.read_file(clip, filename="第三讲.mp4", hint="zh")
    assert source.fingerprint == file_fingerprint(clip)
    assert source.video is not None
    assert (source.video.title, source.video.filename) == ("第三讲", "第三讲.mp4")
    assert source.video.transcribed
    assert source.video.url is None
    again = reader.read_file(clip, filename="copy.mp4")
    assert again.chunks == source.chunks
    assert len(recognizer.calls) == 1


def test_a_video_without_sound_is_refused_before_recognition(tmp_path: Path) -> None:
    mute = video_file(tmp_path / "mute.mp4", sound=None)
    recognizer = FakeRecognizer()
    with pytest.raises(NoAudioError):
        lecture_reader(tmp_path / "data", recognizer).read_file(mute)
    assert recognizer.calls == []


def test_a_cancelled_recognition_stores_nothing(tmp_path: Path, site: StaticFiles) -> None:
    cancel = threading.Event()
    recognizer = FakeRecognizer([heard("never")], gate=threading.Event())
    reader, _ = _reader(
        tmp_path, site, bilibili_info(site.url, subtitles=False), recognizer=recognizer
    )

    def progress(stage: str, done: int, total: int) -> None:
        if stage == "transcribing":
            cancel.set()

    with pytest.raises(CancelledByStudentError):
        reader.read_link(BILIBILI, progress=progress, cancel=cancel)
    assert not (tmp_path / "transcripts").exists() or not any((tmp_path / "transcripts").iterdir())
    assert list((tmp_path / "tmp").iterdir()) == []


def test_not_a_link_is_a_clear_message(tmp_path: Path) -> None:
    with pytest.raises(UnsupportedLinkError) as caught:
        lecture_reader(tmp_path).read_link("什么是注意力机制？")
    assert "B 站" in caught.value.message("zh")
