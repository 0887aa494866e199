"""Operator checks and chores: health (``papertutor health``, the Docker HEALTHCHECK) and
preparing the embedding and speech-recognition models ahead of the first student
(``papertutor models download``).

Nothing here talks to Telegram or imports an SDK: the Qdrant server is probed by
``storage.qdrant.index.probe_server``, the model downloads live in
``storage.embedding.model_download`` and ``ingest.video.asr``. Messages are for the operator, in
Chinese or English.
"""

from __future__ import annotations

import logging
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

from bot.settings import ASRSettings, Settings
from kernel.errors import ConfigError, PaperTutorError, StoreUnavailableError
from storage.embedding.model_download import cached_snapshot, model_files, prefetch_model
from storage.qdrant.index import probe_server

if TYPE_CHECKING:  # the recogniser's module loads only for the commands that use it
    from ingest.video.asr_process import WhisperSpec

log = logging.getLogger(__name__)

__all__ = [
    "check_data_dir",
    "describe_asr_download",
    "describe_download",
    "download_asr_model",
    "download_model",
    "health_check",
    "wait_for_qdrant",
    "whisper_spec",
]


def whisper_spec(cfg: ASRSettings) -> WhisperSpec:
    """The local recogniser's settings (what the bot runs and ``models download`` fetches)."""
    from ingest.video.asr_process import DEFAULT_MODEL, WhisperSpec

    return WhisperSpec(
        model=cfg.model or DEFAULT_MODEL,
        cache_dir=cfg.cache_dir,
        cpu_threads=cfg.threads,
        beam_size=cfg.beam_size,
        vad=cfg.vad,
    )


def check_data_dir(data_dir: Path) -> None:
    """Raise ``ConfigError`` unless ``data_dir`` exists (or can be made) and takes a file."""
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=data_dir, prefix=".health-", delete=True) as probe:
            probe.write(b"ok")
            probe.flush()
    except OSError as exc:
        raise ConfigError("data_dir", path=data_dir, reason=exc.strerror or exc) from exc


def wait_for_qdrant(url: str, api_key: str | None, wait_s: float) -> None:
    """Wait up to ``wait_s`` for the server (it may still be starting, e.g. under compose)."""
    deadline = time.monotonic() + wait_s
    while True:
        try:
            probe_server(url, api_key)
            return
        except StoreUnavailableError:
            if time.monotonic() >= deadline:
                raise
            log.warning("Qdrant at %s is not reachable yet; waiting…", url)
            time.sleep(min(2.0, max(0.0, deadline - time.monotonic())))


def _model_line(settings: Settings, lang: str) -> tuple[bool, str]:
    emb = settings.embedding
    if emb.model_path is not None:
        if not emb.model_path.is_dir():
            return False, (
                f"PAPERTUTOR_EMBEDDING_MODEL_PATH={emb.model_path} is not a directory"
                if lang == "en"
                else f"PAPERTUTOR_EMBEDDING_MODEL_PATH={emb.model_path} 不是一个目录"
            )
        return True, (
            f"model: local directory {emb.model_path}"
            if lang == "en"
            else f"模型：本地目录 {emb.model_path}"
        )
    if cached_snapshot(emb.model, emb.cache_dir) is not None:
        return True, f"model: {emb.model} cached" if lang == "en" else f"模型：{emb.model} 已缓存"
    # Not a failure: fastembed downloads it at startup when the hub is reachable.
    return True, (
        f"model: {emb.model} not cached yet (run `papertutor models download`)"
        if lang == "en"
        else f"模型：{emb.model} 尚未缓存（可先运行 `papertutor models download`）"
    )


def _asr_line(settings: Settings, lang: str) -> tuple[bool, str]:
    asr = settings.asr
    if asr.url:
        return True, (
            f"speech recognition: endpoint {asr.url}"
            if lang == "en"
            else f"语音识别：使用接口 {asr.url}"
        )
    spec = whisper_spec(asr)
    local = asr.model is not None and Path(asr.model).expanduser().exists()
    from ingest.video.asr_process import is_local_model

    if local and not is_local_model(spec.model):
        return False, (
            f"PAPERTUTOR_ASR_MODEL={asr.model} is not a CTranslate2 model directory (no model.bin)"
            if lang == "en"
            else f"PAPERTUTOR_ASR_MODEL={asr.model} 不是 CTranslate2 模型目录（没有 model.bin）"
        )
    from ingest.video.asr import cached_model  # faster-whisper: imported only when asked

    if cached_model(spec) is not None:
        return True, (
            f"speech recognition: faster-whisper {spec.model} ready"
            if lang == "en"
            else f"语音识别：faster-whisper {spec.model} 已就绪"
        )
    # Not a failure: it is downloaded on the first recording, when the hub is reachable.
    return True, (
        f"speech recognition: {spec.model} not cached yet (run `papertutor models download`)"
        if lang == "en"
        else f"语音识别：模型 {spec.model} 尚未缓存（可先运行 `papertutor models download`）"
    )


def health_check(settings: Settings, *, lang: str = "zh", timeout: float = 5.0) -> tuple[bool, str]:
    """Is this installation able to serve? Checks the data directory is writable and, when
    ``PAPERTUTOR_QDRANT_URL`` is set, that the server is reachable and takes the key.

    Returns ``(ok, report)``: one line per check. It never opens the embedded Qdrant store
    (the running bot holds its lock) and never downloads anything.
    """
    ok = True
    lines: list[str] = []
    data_dir = settings.storage.data_dir
    try:
        check_data_dir(data_dir)
        lines.append(
            f"OK   data dir {data_dir} writable"
            if lang == "en"
            else f"OK   数据目录 {data_dir} 可写"
        )
    except PaperTutorError as exc:
        ok = False
        lines.append(f"FAIL {exc.message(lang)}")
    url = settings.storage.qdrant_url
    if url:
        key = settings.storage.qdrant_api_key
        try:
            version = probe_server(url, key.get_secret_value() if key else None, timeout=timeout)
            lines.append(
                f"OK   Qdrant server {url} (version {version})"
                if lang == "en"
                else f"OK   Qdrant 服务器 {url}（版本 {version}）"
            )
        except PaperTutorError as exc:
            ok = False
            lines.append(f"FAIL {exc.message(lang)}")
    else:
        lines.append(
            f"OK   embedded Qdrant under {settings.storage.qdrant_path}"
            if lang == "en"
            else f"OK   内置 Qdrant，位于 {settings.storage.qdrant_path}"
        )
    for check in (_model_line, _asr_line):
        line_ok, text = check(settings, lang)
        ok = ok and line_ok
        lines.append(("OK   " if line_ok else "FAIL ") + text)
    return ok, "\n".join(lines)


def download_model(model_name: str, cache_dir: Path | None, *, progress: bool = True) -> Path:
    """Fetch ``model_name`` into ``cache_dir`` (progress bar on stderr); return its directory.

    Raises ``ConfigError``/``ServiceError`` with the HF_ENDPOINT and
    PAPERTUTOR_EMBEDDING_MODEL_PATH hints when the hub cannot be used.
    """
    return prefetch_model(model_name, cache_dir, progress=progress)


def describe_download(model_name: str, path: Path, lang: str = "zh") -> str:
    """What the operator should know after ``download_model``: where it is, what to set."""
    if model_files(model_name).known_to_fastembed:
        return (
            f"{model_name} is ready in {path}; the bot will load it from the cache."
            if lang == "en"
            else f"{model_name} 已下载到 {path}，机器人启动时会直接从缓存加载。"
        )
    return (
        f"{model_name} is downloaded to {path}. fastembed does not know this model by name: set "
        f"PAPERTUTOR_EMBEDDING_MODEL_PATH={path} to use it."
        if lang == "en"
        else f"{model_name} 已下载到 {path}。fastembed 不认识这个模型名，"
        f"请设置 PAPERTUTOR_EMBEDDING_MODEL_PATH={path} 来使用它。"
    )


def download_asr_model(cfg: ASRSettings) -> Path | None:
    """Fetch the speech-recognition model into its cache; None with a transcription endpoint
    (nothing to download). Raises ``TranscriptionError`` with the mirror hint."""
    if cfg.url:
        return None
    from ingest.video.asr import download_model as download_whisper

    return download_whisper(whisper_spec(cfg))


def describe_asr_download(cfg: ASRSettings, path: Path | None, lang: str = "zh") -> str:
    if path is None:
        return (
            f"speech recognition uses the endpoint {cfg.url}: no model to download."
            if lang == "en"
            else f"语音识别使用接口 {cfg.url}，不需要下载模型。"
        )
    from ingest.video.asr_process import DEFAULT_MODEL

    name = cfg.model or DEFAULT_MODEL
    return (
        f"speech recognition model {name} is ready in {path}."
        if lang == "en"
        else f"语音识别模型 {name} 已就绪：{path}"
    )
