"""Speech recognition as the rest of the bot sees it: a ``SpeechRecognizer`` turns a recording
into timestamped ``Cue``s, the same cues a subtitle file gives, so a recognised lecture is
chunked, cited and linked to the second exactly like captions.

Two recognisers implement it: ``LocalSpeechRecognizer`` (faster-whisper in a child process,
``ingest/video/asr_process.py``) and ``RemoteSpeechRecognizer`` (below), which sends the audio in
windows to any OpenAI-compatible ``/v1/audio/transcriptions`` endpoint through a
``TranscriptionEndpoint`` (implemented by ``bot/llm.py``, the one module that imports openai).

Both keep only what was really heard: a window in which the model hears nothing, or writes one
of Whisper's well-known phantom lines on music and silence ("Thanks for watching!", "字幕由…
提供"), adds nothing; a recording with no usable speech at all raises ``NothingHeardError`` and
nothing is stored.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

from ingest.video import audio
from ingest.video.subtitles import Cue
from kernel.errors import CancelledByStudentError, NothingHeardError

__all__ = [
    "EndpointReply",
    "Lane",
    "Recognition",
    "RecognitionProgress",
    "RemoteSpeechRecognizer",
    "SpeechRecognizer",
    "TranscriptionEndpoint",
    "initial_prompt",
    "keep_heard",
    "language_code",
    "require_speech",
]

Lane = Literal["lecture", "voice"]
"""Which queue a job waits in: a voice question never waits behind a two-hour lecture."""

RecognitionProgress = Callable[[float, float | None], None]
"""``progress(position_s, total_s)``: how far into the recording recognition has come."""


@dataclass(frozen=True)
class Recognition:
    """What was heard: timestamped cues, the language detected, the model that heard it."""

    cues: tuple[Cue, ...]
    language: str | None
    model: str
    duration_s: float | None = None
    approximate_times: bool = False
    """The endpoint gave no segment times: each cue spans a whole window of the recording."""

    @property
    def text(self) -> str:
        return " ".join(c.text for c in self.cues).strip()


class SpeechRecognizer(Protocol):
    """Recognises the speech of an audio or video file (synchronous: call it in a thread)."""

    model_name: str

    def recognise(
        self,
        path: Path,
        *,
        hint: str | None = None,
        duration_s: float | None = None,
        progress: RecognitionProgress | None = None,
        cancel: threading.Event | None = None,
        lane: Lane = "lecture",
    ) -> Recognition:
        """The recording's cues. ``hint`` is the student's language, used when the model is
        unsure which language it hears. Raises ``NothingHeardError`` (no usable speech),
        ``CancelledByStudentError`` (``cancel`` was set), ``TranscriptionError``."""
        ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class EndpointReply:
    """One window's answer from a transcription endpoint (times relative to the window)."""

    text: str
    language: str | None = None
    segments: tuple[tuple[float, float, str], ...] = ()


class TranscriptionEndpoint(Protocol):
    """An OpenAI-compatible ``/v1/audio/transcriptions`` endpoint (synchronous)."""

    model_name: str

    def transcribe_wav(
        self, wav: bytes, *, language: str | None, prompt: str | None
    ) -> EndpointReply:
        """Raises ``TranscriptionError`` when the endpoint fails or refuses."""
        ...

    def close(self) -> None: ...


# -- what counts as heard ------------------------------------------------------------------

# Lines Whisper is known to write over silence, music and applause (learned from subtitle
# credits in its training data), not speech. Matched against a whole segment.
_PHANTOMS = re.compile(
    r"(?i)^[\s\W]*(?:"
    r"thanks? (?:you )?(?:so much )?for watching\W*|thank you\W*|bye\W*|you\W*|"
    r"please subscribe.*|subscribe to .*|subtitles? by .*|captions? by .*|"
    r"\(?(?:music|applause|laughter|silence|音乐|掌声|笑声)\)?|"
    r"字幕(?:由|提供|製作|制作).*|.*amara\.org.*|请不吝点赞.*|谢谢(?:大家)?(?:观看|收看)\W*|"
    r"明镜与点点.*"
    r")[\s\W]*$"
)
_SOUND_ONLY = re.compile(r"^[\s\W_♪♫♬]*$")
_MEANINGFUL = re.compile(r"[A-Za-z0-9\u3400-\u9fff]")
_MIN_MEANINGFUL = 6  # fewer letters than this in a whole recording is not a lecture


def keep_heard(cues: Iterable[Cue]) -> list[Cue]:
    """Cues without the phantom lines and sound-only marks; text stripped."""
    kept = []
    for cue in cues:
        text = " ".join(cue.text.split())
        if not text or _SOUND_ONLY.match(text) or _PHANTOMS.match(text):
            continue
        kept.append(Cue(cue.start_s, cue.end_s, text))
    return kept


def require_speech(cues: Sequence[Cue], *, voice: bool = False) -> None:
    """Raise ``NothingHeardError`` unless the cues hold some real words."""
    letters = sum(len(_MEANINGFUL.findall(c.text)) for c in cues)
    if letters < (2 if voice else _MIN_MEANINGFUL):
        raise NothingHeardError("voice_unclear" if voice else "nothing_heard")


_LANGUAGE_NAMES = {
    "chinese": "zh",
    "mandarin": "zh",
    "english": "en",
    "japanese": "ja",
    "korean": "ko",
    "french": "fr",
    "german": "de",
    "spanish": "es",
    "russian": "ru",
    "cantonese": "yue",
}


def language_code(value: str | None) -> str | None:
    """``"zh"`` for ``"chinese"`` or ``"zh"`` (endpoints answer with names or codes)."""
    if not value:
        return None
    value = value.strip().lower()
    return _LANGUAGE_NAMES.get(value, value) or None


def initial_prompt(language: str | None) -> str | None:
    """A first line in the lecture's language and style. For Mandarin it asks, by example,
    for Simplified characters and punctuation (Whisper otherwise often writes Traditional
    characters without punctuation)."""
    if language == "zh":
        return "以下是一段普通话讲座的文字记录，使用简体中文，并带有标点符号。"
    return None


def _check(cancel: threading.Event | None) -> None:
    if cancel is not None and cancel.is_set():
        raise CancelledByStudentError("cancelled")


class RemoteSpeechRecognizer:
    """``SpeechRecognizer`` over a transcription endpoint: the recording goes in windows of
    ``window_s`` (5 min = 9.6 MB of WAV, under the usual 25 MB upload limit), so progress is
    reported and a cancel takes effect between windows."""

    def __init__(self, endpoint: TranscriptionEndpoint, *, window_s: float = 300.0) -> None:
        self._endpoint = endpoint
        self._window_s = window_s
        self.model_name = endpoint.model_name

    def recognise(
        self,
        path: Path,
        *,
        hint: str | None = None,
        duration_s: float | None = None,
        progress: RecognitionProgress | None = None,
        cancel: threading.Event | None = None,
        lane: Lane = "lecture",
    ) -> Recognition:
        voice = lane == "voice"
        language: str | None = None
        cues: list[Cue] = []
        approximate = False
        end = 0.0
        for offset, samples in audio.windows(path, self._window_s):
            _check(cancel)
            span = len(samples) / audio.SAMPLE_RATE
            # A short question says too little for a safe guess: the chat's language leads it.
            prompt = initial_prompt(language or (hint if voice else None))
            reply = self._endpoint.transcribe_wav(
                audio.wav_bytes(samples), language=language, prompt=prompt
            )
            language = language or language_code(reply.language)
            if reply.segments:  # times within the window (an endpoint may overshoot its end)
                for start, stop, text in reply.segments:
                    start = min(max(start, 0.0), span)
                    cues.append(Cue(offset + start, offset + min(max(stop, start), span), text))
            elif reply.text.strip():  # no times from this endpoint: the window is the time
                approximate = True
                cues.append(Cue(offset, offset + span, reply.text))
            end = offset + span
            if progress is not None:
                progress(end, duration_s)
        _check(cancel)
        heard = keep_heard(cues)
        require_speech(heard, voice=voice)
        return Recognition(
            cues=tuple(heard),
            language=language,
            model=self.model_name,
            duration_s=duration_s or end or None,
            approximate_times=approximate,
        )

    def close(self) -> None:
        self._endpoint.close()
