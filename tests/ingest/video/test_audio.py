"""Reading the sound of recordings: probing, windows cut between words, failures."""

from __future__ import annotations

import io
import itertools
import wave
from pathlib import Path

import numpy as np
import pytest

from ingest.video import audio
from kernel.errors import DamagedFileError, NoAudioError
from tests.fakes.speech import media_file, silence_wav, video_file


def test_probe_reads_duration_and_sound_of_an_opus_voice_file() -> None:
    info = audio.probe(media_file("lecture_en.ogg"))
    assert info.has_audio
    assert info.duration_s is not None
    assert 15 < info.duration_s < 25


def test_a_video_without_sound_is_no_audio(tmp_path: Path) -> None:
    mute = video_file(tmp_path / "mute.mp4", sound=None)
    assert not audio.probe(mute).has_audio
    with pytest.raises(NoAudioError) as caught:
        list(audio.windows(mute))
    assert "没有声音" in caught.value.message("zh")


def test_a_video_with_sound_decodes_its_audio_track(tmp_path: Path) -> None:
    clip = video_file(tmp_path / "clip.mp4", sound=media_file("question_en.ogg"))
    info = audio.probe(clip)
    assert info.has_audio
    [(offset, samples)] = list(audio.windows(clip))
    assert offset == 0.0
    assert 1.5 * audio.SAMPLE_RATE < len(samples) < 3 * audio.SAMPLE_RATE
    assert float(np.abs(samples).max()) > 0.05  # the voice is there, not silence


def test_a_file_that_is_not_media_is_damaged(tmp_path: Path) -> None:
    junk = tmp_path / "talk.mp4"
    junk.write_bytes(b"this is not a video at all" * 100)
    with pytest.raises(DamagedFileError) as caught:
        audio.probe(junk)
    assert caught.value.key == "media_unreadable"


def test_windows_cover_everything_and_cut_in_the_quietest_place(tmp_path: Path) -> None:
    rate = audio.SAMPLE_RATE
    loud = np.full(rate * 30, 0.5, dtype=np.float32)
    loud[int(rate * 8.2) : int(rate * 8.5)] = 0.0  # a pause 1.8 s before the 10 s mark
    path = tmp_path / "steady.wav"
    pcm = (loud * 32767).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(pcm.tobytes())
    found = list(audio.windows(path, window_s=10.0))
    offsets = [offset for offset, _ in found]
    assert offsets[0] == 0.0
    assert 8.2 <= offsets[1] <= 8.5  # cut inside the pause, not through the sound at 10 s
    total = sum(len(samples) for _, samples in found)
    assert abs(total - len(loud)) < rate * 0.05  # nothing lost, nothing repeated
    for (start, samples), (following, _) in itertools.pairwise(found):
        assert abs(start + len(samples) / rate - following) < 1e-6


def test_wav_bytes_round_trip(tmp_path: Path) -> None:
    samples = next(audio.windows(silence_wav(tmp_path / "quiet.wav", seconds=1.0)))[1]
    data = audio.wav_bytes(samples)
    with wave.open(io.BytesIO(data)) as wav:
        assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (16_000, 1, 2)
        assert wav.getnframes() == len(samples)
