"""Local speech recognition for real: faster-whisper with Whisper base (assembled from PyPI) on
espeak-ng speech, in the child processes the bot uses."""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ingest.video.asr_process import LocalSpeechRecognizer, WhisperSpec, model_label
from kernel.errors import CancelledByStudentError, NothingHeardError, TranscriptionError
from tests.fakes.speech import LECTURE_WORDS, media_file, recognizer, silence_wav, tone_wav


@pytest.fixture(scope="module")
def local() -> Iterator[LocalSpeechRecognizer]:
    r = recognizer()
    yield r
    r.close()


def test_an_english_lecture_is_heard_with_timestamps(local: LocalSpeechRecognizer) -> None:
    positions: list[tuple[float, float | None]] = []
    result = local.recognise(
        media_file("lecture_en.ogg"),
        hint="zh",  # a Chinese chat: the speech is clearly English, so English it is
        duration_s=19.5,
        progress=lambda done, total: positions.append((done, total)),
    )
    text = result.text.lower()
    assert sum(word in text for word in LECTURE_WORDS) >= 5, text
    assert result.language == "en"
    assert result.model == "faster-whisper whisper-base"
    starts = [c.start_s or 0.0 for c in result.cues]
    assert starts == sorted(starts)
    assert all(0 <= (c.start_s or 0) < (c.end_s or 0) <= 20.5 for c in result.cues)
    # Progress moves forward through the recording and reaches its end.
    done = [p for p, _ in positions]
    assert done == sorted(done)
    assert done[0] == 0.0
    assert done[-1] > 18
    assert {total for _, total in positions} == {19.5}


def test_a_voice_question_is_heard_in_its_own_lane(local: LocalSpeechRecognizer) -> None:
    result = local.recognise(media_file("question_en.ogg"), hint="en", lane="voice")
    assert "self" in result.text.lower()
    assert "attention" in result.text.lower()
    assert result.text.rstrip().endswith("?")


@pytest.mark.parametrize("make", [silence_wav, tone_wav], ids=["silence", "music"])
def test_no_speech_is_nothing_heard(
    local: LocalSpeechRecognizer, tmp_path: Path, make: object
) -> None:
    path = make(tmp_path / "noise.wav")  # type: ignore[operator]
    with pytest.raises(NothingHeardError) as caught:
        local.recognise(path)
    assert "什么也没有保存" in caught.value.message("zh")


def test_cancel_stops_recognition_and_the_next_job_still_runs(
    local: LocalSpeechRecognizer,
) -> None:
    cancel = threading.Event()
    started = threading.Event()
    failure: list[BaseException] = []

    def run() -> None:
        try:
            local.recognise(
                media_file("lecture_en.ogg"),
                cancel=cancel,
                progress=lambda done, total: started.set(),
            )
        except BaseException as exc:
            failure.append(exc)

    worker = threading.Thread(target=run)
    worker.start()
    assert started.wait(60)
    cancel.set()
    began = time.monotonic()
    worker.join(30)
    assert not worker.is_alive()
    assert time.monotonic() - began < 5  # stopped at once, not when the lecture was done
    assert [type(e) for e in failure] == [CancelledByStudentError]
    again = local.recognise(media_file("question_en.ogg"))
    assert "attention" in again.text.lower()


def test_a_worker_that_dies_is_a_clear_error(local: LocalSpeechRecognizer) -> None:
    failure: list[BaseException] = []
    started = threading.Event()

    def run() -> None:
        try:
            local.recognise(media_file("lecture_en.ogg"), progress=lambda d, t: started.set())
        except BaseException as exc:
            failure.append(exc)

    worker = threading.Thread(target=run)
    worker.start()
    assert started.wait(60)
    [child] = [p for p in multiprocessing.active_children() if p.name == "asr-lecture"]
    assert child.pid is not None
    os.kill(child.pid, signal.SIGKILL)  # e.g. the kernel's out-of-memory killer
    worker.join(30)
    assert [type(e) for e in failure] == [TranscriptionError]
    assert isinstance(failure[0], TranscriptionError)
    assert failure[0].key == "crashed"
    assert failure[0].retryable


def test_an_unknown_model_is_a_clear_operator_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    spec = WhisperSpec(model="no-such-model", cache_dir=tmp_path)
    broken = LocalSpeechRecognizer(spec)
    try:
        with pytest.raises(TranscriptionError) as caught:
            broken.recognise(media_file("question_en.ogg"))
    finally:
        broken.close()
    assert caught.value.key == "model_unavailable"
    assert "papertutor models download" in caught.value.message("en")
    assert model_label("small") == "faster-whisper small"
