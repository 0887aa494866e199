"""Operator checks and chores: health (``papertutor health``, the Docker HEALTHCHECK) and
preparing the embedding model ahead of the first student (``papertutor models download``).

Nothing here talks to Telegram or imports an SDK: the Qdrant server is probed over plain HTTP
(its ``/readyz`` and ``/collections`` routes), the model download lives in
``storage.model_download``. Messages are for the operator, in Chinese or English.
"""

from __future__ import annotations

import json
import logging
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from bot.settings import Settings
from kernel.errors import ConfigError, PaperTutorError, StoreUnavailableError
from storage.model_download import cached_snapshot, model_files, prefetch_model

log = logging.getLogger(__name__)

__all__ = [
    "check_data_dir",
    "check_qdrant_server",
    "describe_download",
    "download_model",
    "health_check",
    "wait_for_qdrant",
]


def check_data_dir(data_dir: Path) -> None:
    """Raise ``ConfigError`` unless ``data_dir`` exists (or can be made) and takes a file."""
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=data_dir, prefix=".health-", delete=True) as probe:
            probe.write(b"ok")
            probe.flush()
    except OSError as exc:
        raise ConfigError(
            f"数据目录 {data_dir} 不可写（{exc.strerror or exc}）。请检查 PAPERTUTOR_DATA_DIR，"
            "并确认运行机器人的用户有写权限（Docker：卷的属主要是容器里的用户）。",
            f"The data directory {data_dir} is not writable ({exc.strerror or exc}). Check "
            "PAPERTUTOR_DATA_DIR and that the bot's user may write there (Docker: the volume "
            "must belong to the container user).",
        ) from exc


def _get(url: str, api_key: str | None, timeout: float) -> tuple[int, bytes]:
    headers = {"api-key": api_key} if api_key else {}
    request = urllib.request.Request(url, headers=headers, method="GET")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return int(response.status), bytes(response.read())
    except urllib.error.HTTPError as exc:
        try:
            return exc.code, exc.read()
        finally:
            exc.close()  # an error response is an open socket too


def check_qdrant_server(url: str, api_key: str | None, *, timeout: float = 5.0) -> str:
    """Check the Qdrant server answers, is ready and accepts ``api_key``; return its version.

    Raises ``StoreUnavailableError`` (retryable: unreachable or not ready) or ``ConfigError``
    (bad URL, key refused). Used at startup so an unreachable server is one clear sentence.
    """
    base = url.rstrip("/")
    if not base.startswith(("http://", "https://")):
        raise ConfigError(
            f"PAPERTUTOR_QDRANT_URL={url!r} 不是 http(s) 地址，例如 http://qdrant:6333。",
            f"PAPERTUTOR_QDRANT_URL={url!r} is not an http(s) URL, e.g. http://qdrant:6333.",
        )
    try:
        status, _ = _get(f"{base}/readyz", api_key, timeout)
        if status in (401, 403):
            raise _key_refused(base)
        if status != 200:
            raise StoreUnavailableError(
                f"Qdrant 服务器 {base} 还没有准备好（HTTP {status}），请稍后再试。",
                f"The Qdrant server at {base} is not ready yet (HTTP {status}); try again soon.",
            )
        # Health routes may be open without a key: a data route tells whether it is accepted.
        status, _ = _get(f"{base}/collections", api_key, timeout)
        if status in (401, 403):
            raise _key_refused(base)
        root_status, body = _get(base + "/", api_key, timeout)
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise StoreUnavailableError(
            f"连接不上 Qdrant 服务器 {base}（{reason}）。请确认 PAPERTUTOR_QDRANT_URL 正确、"
            "服务器已启动（Docker：qdrant 服务在运行）；不设置这个变量则使用内置的本地存储。",
            f"Cannot reach the Qdrant server at {base} ({reason}). Check PAPERTUTOR_QDRANT_URL "
            "and that the server is running (Docker: the qdrant service is up); leave it unset "
            "to use the embedded store.",
        ) from exc
    if status != 200:
        raise StoreUnavailableError(
            f"Qdrant 服务器 {base} 返回了错误（HTTP {status}）。",
            f"The Qdrant server at {base} answered with an error (HTTP {status}).",
        )
    try:
        version = str(json.loads(body).get("version", "?")) if root_status == 200 else "?"
    except (ValueError, AttributeError):
        version = "?"
    return version


def wait_for_qdrant(url: str, api_key: str | None, wait_s: float) -> None:
    """Wait up to ``wait_s`` for the server (it may still be starting, e.g. under compose)."""
    deadline = time.monotonic() + wait_s
    while True:
        try:
            check_qdrant_server(url, api_key)
            return
        except StoreUnavailableError:
            if time.monotonic() >= deadline:
                raise
            log.warning("Qdrant at %s is not reachable yet; waiting…", url)
            time.sleep(min(2.0, max(0.0, deadline - time.monotonic())))


def _key_refused(base: str) -> ConfigError:
    return ConfigError(
        f"Qdrant 服务器 {base} 拒绝了 API 密钥。请让 PAPERTUTOR_QDRANT_API_KEY 与服务器的 "
        "QDRANT__SERVICE__API_KEY 一致。",
        f"The Qdrant server at {base} refused the API key. Make PAPERTUTOR_QDRANT_API_KEY match "
        "the server's QDRANT__SERVICE__API_KEY.",
    )


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
            version = check_qdrant_server(
                url, key.get_secret_value() if key else None, timeout=timeout
            )
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
    model_ok, model_text = _model_line(settings, lang)
    ok = ok and model_ok
    lines.append(("OK   " if model_ok else "FAIL ") + model_text)
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
