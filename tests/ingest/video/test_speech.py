"""What counts as heard, and the remote recogniser's windows (with an in-process endpoint;
the real openai client against a loopback server is in tests/bot/test_llm_transcription.py)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from ingest.video.speech import (
    EndpointReply,
    RemoteSpeechRecognizer,
    initial_prompt,
    keep_heard,
    language_code,
    require_speech,
)
from ingest.video.subtitles import Cue
from kernel.errors import CancelledByStudentError, NothingHeardError
from tests.fakes.speech import media_file


def test_phantom_lines_and_sound_marks_are_not_heard() -> None:
    cues = [
        Cue(0, 2, "Thanks for watching!"),
        Cue(2, 4, "♪♪♪"),
        Cue(4, 6, "[Music]"),
        Cue(6, 8, "字幕由Amara.org社区提供"),
        Cue(8, 10, "  Attention   is all you need. "),
        Cue(10, 12, "谢谢观看"),
        Cue(12, 14, "注意力机制的核心是加权求和。"),
    ]
    assert [c.text for c in keep_heard(cues)] == [
        "Attention is all you need.",
        "注意力机制的核心是加权求和。",
    ]


def test_require_speech_wants_some_words() -> None:
    require_speech([Cue(0, 1, "自注意力机制")])
    require_speech([Cue(0, 1, "DPO?")], voice=True)
    with pytest.raises(NothingHeardError) as lecture:
        require_speech([Cue(0, 1, "嗯")])
    assert lecture.value.key == "nothing_heard"
    with pytest.raises(NothingHeardError) as voice:
        require_speech([], voice=True)
    assert voice.value.key == "voice_unclear"


def test_language_names_become_codes() -> None:
    assert [language_code(v) for v in ("chinese", "English", "zh", "", None)] == [
        "zh",
        "en",
        "zh",
        None,
        None,
    ]
    assert "简体中文" in str(initial_prompt("zh"))
    assert initial_prompt("en") is None


@dataclass
class ScriptedEndpoint:
    """A ``TranscriptionEndpoint`` answering each window from ``replies`` (then silence)."""

    replies: list[EndpointReply]
    model_name: str = "whisper-1"
    seen: list[dict[str, object]] = field(default_factory=list)
    closed: bool = False

    def transcribe_wav(
        self, wav: bytes, *, language: str | None, prompt: str | None
    ) -> EndpointReply:
        self.seen.append({"bytes": len(wav), "language": language, "prompt": prompt})
        return self.replies.pop(0) if self.replies else EndpointReply("")

    def close(self) -> None:
        self.closed = True


def test_remote_windows_are_placed_on_the_recording_timeline(tmp_path: Path) -> None:
    endpoint = ScriptedEndpoint(
        [
            EndpointReply(
                "大家好。", "chinese", ((0.0, 2.0, "大家好。"), (2.0, 4.0, "今天讲注意力。"))
            ),
            EndpointReply("自注意力。", "chinese", ((1.0, 3.0, "自注意力让每个词看到其他词。"),)),
        ]
    )
    remote = RemoteSpeechRecognizer(endpoint, window_s=8.0)
    positions: list[float] = []
    result = remote.recognise(
        media_file("lecture_en.ogg"), duration_s=19.5, progress=lambda d, t: positions.append(d)
    )
    assert result.language == "zh"
    assert result.model == "whisper-1"
    assert not result.approximate_times
    # The second window starts where the first was cut (near 8 s): its times are shifted.
    second = result.cues[2]
    assert second.text == "自注意力让每个词看到其他词。"
    assert 6.0 < (second.start_s or 0) < 11.0
    # The first window has no language yet; afterwards the detected one, with the zh prompt.
    assert endpoint.seen[0]["language"] is None
    assert endpoint.seen[1]["language"] == "zh"
    assert "简体中文" in str(endpoint.seen[1]["prompt"])
    assert positions == sorted(positions)
    assert positions[-1] > 19


def test_an_endpoint_without_segment_times_gives_approximate_ones() -> None:
    endpoint = ScriptedEndpoint([EndpointReply("Attention is all you need, they said.", "en")])
    result = RemoteSpeechRecognizer(endpoint, window_s=600.0).recognise(
        media_file("lecture_en.ogg")
    )
    [cue] = result.cues
    assert result.approximate_times
    assert cue.start_s == 0.0
    assert 19 < (cue.end_s or 0) < 20


def test_a_remote_recognition_can_be_cancelled() -> None:
    cancel = threading.Event()
    cancel.set()
    endpoint = ScriptedEndpoint([])
    with pytest.raises(CancelledByStudentError):
        RemoteSpeechRecognizer(endpoint).recognise(media_file("lecture_en.ogg"), cancel=cancel)
    assert endpoint.seen == []


def test_a_remote_voice_question_leans_on_the_chat_language() -> None:
    endpoint = ScriptedEndpoint(
        [EndpointReply("什么是DPO？", "chinese", ((0.0, 1.9, "什么是DPO？"),))]
    )
    result = RemoteSpeechRecognizer(endpoint).recognise(
        media_file("question_en.ogg"), hint="zh", lane="voice"
    )
    assert result.text == "什么是DPO？"
    assert "简体中文" in str(endpoint.seen[0]["prompt"])
