"""Read the sound of an audio or video file: how long it is, and its samples in windows.

The one module that imports ``av`` (PyAV: FFmpeg's decoders bundled in a wheel, so no system
ffmpeg is needed). Every container FFmpeg reads works: mp4, mkv, webm, mov, mp3, m4a, wav,
ogg/opus (Telegram voice messages), flac…

Speech recognition wants 16 kHz mono floats. A three-hour lecture is 690 MB of them, so the
file is decoded as a stream and handed over in windows of about ten minutes, each cut at the
quietest tenth of a second near its end (between words, not through one). Memory stays at one
window whatever the length, and recognition reports progress and can stop between windows.
"""

from __future__ import annotations

import io
import wave
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
import numpy.typing as npt
from av.audio.stream import AudioStream

from kernel.errors import DamagedFileError, NoAudioError

__all__ = ["SAMPLE_RATE", "AudioInfo", "Samples", "probe", "wav_bytes", "windows"]

SAMPLE_RATE = 16_000
Samples = npt.NDArray[np.float32]

_FRAME = SAMPLE_RATE // 10  # the quietest 100 ms is where a window is cut
_SEARCH_S = 8.0  # how far before the window's end the cut may move


@dataclass(frozen=True)
class AudioInfo:
    """What the container says: ``duration_s`` is None when it does not know."""

    duration_s: float | None
    has_audio: bool


def _open(path: Path) -> av.container.InputContainer:
    try:
        return av.open(str(path), mode="r")
    except (av.FFmpegError, UnicodeDecodeError, ValueError) as exc:
        raise DamagedFileError("media_unreadable") from exc


def _audio_stream(container: av.container.InputContainer) -> AudioStream | None:
    return next(iter(container.streams.audio), None)


def probe(path: Path) -> AudioInfo:
    """Duration and whether there is a sound track, from the container's header (fast)."""
    with _open(path) as container:
        stream = _audio_stream(container)
        duration: float | None = None
        if stream is not None and stream.duration is not None and stream.time_base is not None:
            duration = float(stream.duration * stream.time_base)
        elif container.duration is not None:
            duration = container.duration / av.time_base
        return AudioInfo(
            duration_s=duration if duration and duration > 0 else None,
            has_audio=stream is not None,
        )


def _decoded(path: Path) -> Iterator[Samples]:
    """The sound track as 16 kHz mono float32 pieces; undecodable packets are skipped."""
    with _open(path) as container:
        stream = _audio_stream(container)
        if stream is None:
            raise NoAudioError("no_audio")
        resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
        try:
            for packet in container.demux(stream):
                try:
                    frames = packet.decode()
                except av.error.InvalidDataError:
                    continue  # one damaged packet: skip it, as players do
                for frame in frames:
                    for out in resampler.resample(frame):
                        yield _floats(out)
            for out in resampler.resample(None):
                yield _floats(out)
        except av.FFmpegError as exc:
            raise DamagedFileError("media_unreadable") from exc


def _floats(frame: av.AudioFrame) -> Samples:
    pcm = frame.to_ndarray().reshape(-1)
    return (pcm.astype(np.float32) / 32768.0).astype(np.float32)


def _quiet_cut(samples: Samples, target: int) -> int:
    """A cut near ``target`` at the quietest 100 ms in the ``_SEARCH_S`` before it (at most a
    quarter of the window)."""
    start = max(0, target - min(int(_SEARCH_S * SAMPLE_RATE), target // 4))
    region = samples[start:target]
    frames = len(region) // _FRAME
    if frames < 2:
        return target
    energy = np.square(region[: frames * _FRAME].reshape(frames, _FRAME)).mean(axis=1)
    quietest = int(np.argmin(energy))
    return start + quietest * _FRAME + _FRAME // 2


def windows(path: Path, window_s: float = 600.0) -> Iterator[tuple[float, Samples]]:
    """``(offset_s, samples)`` windows of about ``window_s`` seconds covering the sound track.

    Raises ``NoAudioError`` for a file without sound and ``DamagedFileError`` for one FFmpeg
    cannot read.
    """
    size = int(window_s * SAMPLE_RATE)
    pending: list[Samples] = []
    buffered = 0
    offset = 0
    for piece in _decoded(path):
        pending.append(piece)
        buffered += len(piece)
        if buffered >= size:
            samples = np.concatenate(pending)
            cut = _quiet_cut(samples, size)
            yield offset / SAMPLE_RATE, samples[:cut]
            offset += cut
            rest = samples[cut:]
            pending, buffered = [rest], len(rest)
    if buffered:
        yield offset / SAMPLE_RATE, np.concatenate(pending)


def wav_bytes(samples: Samples) -> bytes:
    """``samples`` as a 16 kHz mono 16-bit WAV file (what transcription endpoints accept)."""
    pcm = (np.clip(samples, -1.0, 1.0) * 32767.0).astype("<i2")
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(SAMPLE_RATE)
        wav.writeframes(pcm.tobytes())
    return out.getvalue()
