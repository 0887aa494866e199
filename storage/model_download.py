"""Fetch an embedding model into the cache ahead of time (``papertutor models download``).

A server or an image is prepared before the first student arrives, so the first question does
not wait for a 640 MB download (or fail on a machine that cannot reach the hub). The files land
exactly where fastembed 0.9 looks for them: the Hugging Face cache layout
(``<cache_dir>/models--<org>--<name>/snapshots/<commit>/...``) under the same cache directory,
with the same file patterns fastembed asks for, so fastembed later finds the model offline.

This module does not import fastembed (only ``storage/embedder.py`` may): the Hugging Face repo
and ONNX file of the models we recommend are copied from fastembed's model list into
``KNOWN_MODELS`` (a test checks they still agree). Any other Hugging Face repo id is accepted
too; fastembed does not know such a model by name, so it is used through
``PAPERTUTOR_EMBEDDING_MODEL_PATH`` pointing at the returned directory.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kernel.errors import ConfigError, ServiceError

__all__ = [
    "BASE_FILES",
    "KNOWN_MODELS",
    "ModelFiles",
    "cached_snapshot",
    "default_cache_dir",
    "model_files",
    "prefetch_model",
]

# fastembed's own allow-list for every Hugging Face model (model_management.py); the cached
# snapshot must hold at least these or fastembed's offline check calls it incomplete.
BASE_FILES = (
    "config.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "preprocessor_config.json",
)

_DEFAULT_HUB = "https://huggingface.co"

_HINT_ZH = (
    "如果这台机器无法访问模型仓库，请设置 HF_ENDPOINT 指向可用的镜像（例如 https://hf-mirror.com），"
    "或在能联网的机器上下载后，把 PAPERTUTOR_EMBEDDING_MODEL_PATH 设为模型目录。"
)
_HINT_EN = (
    "If this machine cannot reach the model hub, set HF_ENDPOINT to a working mirror "
    "(e.g. https://hf-mirror.com), or download the model on a connected machine and set "
    "PAPERTUTOR_EMBEDDING_MODEL_PATH to its directory."
)


@dataclass(frozen=True)
class ModelFiles:
    """Where a model lives on the hub and which ONNX files it needs."""

    repo_id: str
    model_file: str | None  # None: an unknown repo, take the usual ONNX file names
    additional_files: tuple[str, ...] = ()
    known_to_fastembed: bool = True

    @property
    def patterns(self) -> list[str]:
        """``allow_patterns`` for the snapshot download (fastembed's list, then ours)."""
        if self.model_file is None:
            onnx = ["model.onnx", "onnx/model.onnx", "model.onnx_data", "onnx/model.onnx_data"]
        else:
            onnx = [self.model_file, *self.additional_files]
        return [*BASE_FILES, *onnx]


# fastembed model name (lower case: fastembed matches names case-insensitively) -> hub files.
# Copied from fastembed 0.9.1's TextEmbedding.list_supported_models(); the default first.
KNOWN_MODELS: dict[str, ModelFiles] = {
    "jinaai/jina-embeddings-v2-base-zh": ModelFiles(
        "jinaai/jina-embeddings-v2-base-zh", "onnx/model.onnx"
    ),
    "baai/bge-small-zh-v1.5": ModelFiles("Qdrant/bge-small-zh-v1.5", "model_optimized.onnx"),
    "sentence-transformers/paraphrase-multilingual-minilm-l12-v2": ModelFiles(
        "Qdrant/paraphrase-multilingual-MiniLM-L12-v2-onnx-Q", "model_optimized.onnx"
    ),
    "sentence-transformers/paraphrase-multilingual-mpnet-base-v2": ModelFiles(
        "Xenova/paraphrase-multilingual-mpnet-base-v2", "onnx/model.onnx"
    ),
    "intfloat/multilingual-e5-large": ModelFiles(
        "Qdrant/multilingual-e5-large-onnx", "model.onnx", ("model.onnx_data",)
    ),
    "sentence-transformers/all-minilm-l6-v2": ModelFiles(
        "Qdrant/all-MiniLM-L6-v2-onnx", "model.onnx"
    ),
}


def model_files(model_name: str) -> ModelFiles:
    """The hub files of ``model_name``: from the table, else the name read as a repo id."""
    known = KNOWN_MODELS.get(model_name.lower())
    if known is not None:
        return known
    return ModelFiles(model_name, None, known_to_fastembed=False)


def default_cache_dir() -> Path:
    """fastembed's cache when none is configured (``FASTEMBED_CACHE_PATH`` or the temp dir)."""
    fallback = os.path.join(tempfile.gettempdir(), "fastembed_cache")
    return Path(os.getenv("FASTEMBED_CACHE_PATH", fallback))


def cached_snapshot(model_name: str, cache_dir: Path | None) -> Path | None:
    """The cached snapshot holding ``model_name``'s ONNX file, or None (no network used)."""
    files = model_files(model_name)
    cache = cache_dir if cache_dir is not None else default_cache_dir()
    folder = cache / ("models--" + files.repo_id.replace("/", "--")) / "snapshots"
    wanted = [files.model_file] if files.model_file else ["model.onnx", "onnx/model.onnx"]
    if folder.is_dir():
        for snapshot in sorted(folder.iterdir()):
            if any((snapshot / name).is_file() for name in wanted):
                return snapshot
    return None


def _offline() -> bool:
    # Read at call time: huggingface_hub reads it once at import.
    return os.environ.get("HF_HUB_OFFLINE", "").strip().upper() in {"1", "TRUE", "YES", "ON"}


def _progress_class(progress: bool) -> type[Any]:
    from huggingface_hub.utils.tqdm import tqdm as hf_tqdm

    class ProgressBar(hf_tqdm):
        """Shown even without a terminal (``docker build`` logs), unless ``progress`` is off;
        HF_HUB_DISABLE_PROGRESS_BARS still wins inside huggingface_hub's tqdm."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs["disable"] = not progress
            super().__init__(*args, **kwargs)  # type: ignore[no-untyped-call]

    return ProgressBar


def _unreachable(model_name: str, endpoint: str, exc: BaseException) -> ServiceError:
    # huggingface_hub wraps the network error in a long generic text: show the cause's line.
    cause = exc.__cause__ or exc
    reason = f"{type(cause).__name__}: {str(cause).splitlines()[0] if str(cause) else ''}"
    return ServiceError(
        f"无法从 {endpoint} 下载嵌入模型 {model_name}（{reason}）。{_HINT_ZH}",
        f"Cannot download the embedding model {model_name} from {endpoint} ({reason}). {_HINT_EN}",
    )


def _offline_error(model_name: str) -> ConfigError:
    return ConfigError(
        f"已设置 HF_HUB_OFFLINE=1（离线模式），缓存里也没有嵌入模型 {model_name}，无法下载。"
        f"请取消 HF_HUB_OFFLINE 后重试。{_HINT_ZH}",
        f"HF_HUB_OFFLINE=1 (offline mode) is set and the embedding model {model_name} is not in "
        f"the cache, so it cannot be downloaded. Unset HF_HUB_OFFLINE and retry. {_HINT_EN}",
    )


def _not_found(model_name: str, repo_id: str, endpoint: str) -> ConfigError:
    return ConfigError(
        f"在 {endpoint} 上找不到模型仓库 {repo_id}（嵌入模型 {model_name}）。"
        "请检查 PAPERTUTOR_EMBEDDING_MODEL 的名字；如果使用镜像，请确认 HF_ENDPOINT 正确。",
        f"The model repo {repo_id} (embedding model {model_name}) was not found on {endpoint}. "
        "Check PAPERTUTOR_EMBEDDING_MODEL; if you use a mirror, check HF_ENDPOINT.",
    )


def _check_complete(model_name: str, files: ModelFiles, snapshot: Path) -> None:
    """The repo may lack the ONNX weights (e.g. a PyTorch-only repo): say so now, not at
    the first student question."""
    if files.model_file is not None:
        missing = [
            f for f in (files.model_file, *files.additional_files) if not (snapshot / f).exists()
        ]
    else:
        missing = [] if any(snapshot.rglob("*.onnx")) else ["model.onnx / onnx/model.onnx"]
    if missing:
        raise ConfigError(
            f"模型仓库 {files.repo_id} 里没有 {', '.join(missing)}，"
            f"无法作为嵌入模型 {model_name} 使用。请换一个提供 ONNX 文件的模型。",
            f"The model repo {files.repo_id} has no {', '.join(missing)}, so it cannot serve as "
            f"the embedding model {model_name}. Choose a model that ships ONNX files.",
        )


def prefetch_model(
    model_name: str,
    cache_dir: Path | None,
    *,
    repo_id: str | None = None,
    model_file: str | None = None,
    progress: bool = True,
    endpoint: str | None = None,
) -> Path:
    """Download ``model_name`` into ``cache_dir`` (fastembed's default when None), showing a
    progress bar on stderr; return the snapshot directory.

    ``repo_id``/``model_file`` override the table (any Hugging Face repo id works).
    ``endpoint`` defaults to ``HF_ENDPOINT`` read now (a mirror where the hub is blocked).
    Already-cached files are not fetched again. With ``HF_HUB_OFFLINE=1`` only the cache is
    consulted. Raises ``ConfigError`` (offline and not cached, unknown repo, no ONNX file)
    or ``ServiceError`` (the hub or mirror cannot be reached).
    """
    from huggingface_hub import constants, snapshot_download
    from huggingface_hub.errors import (
        GatedRepoError,
        HfHubHTTPError,
        LocalEntryNotFoundError,
        RepositoryNotFoundError,
    )
    from huggingface_hub.utils import httpx  # the HTTP library huggingface_hub is built on

    files = model_files(model_name)
    if repo_id is not None or model_file is not None:
        files = ModelFiles(
            repo_id or files.repo_id,
            model_file or files.model_file,
            files.additional_files if model_file is None else (),
            known_to_fastembed=files.known_to_fastembed and repo_id is None,
        )
    cache = cache_dir if cache_dir is not None else default_cache_dir()
    # An empty HF_ENDPOINT (e.g. an unset compose variable) means the default hub.
    hub = endpoint or os.environ.get("HF_ENDPOINT") or constants.ENDPOINT or _DEFAULT_HUB
    hub = hub.rstrip("/")
    offline = _offline()
    try:
        cache.mkdir(parents=True, exist_ok=True)
        result = snapshot_download(
            files.repo_id,
            cache_dir=cache,
            allow_patterns=files.patterns,
            local_files_only=offline,
            endpoint=hub,
            tqdm_class=_progress_class(progress),
        )
    except (RepositoryNotFoundError, GatedRepoError) as exc:
        raise _not_found(model_name, files.repo_id, hub) from exc
    except LocalEntryNotFoundError as exc:
        if offline:
            raise _offline_error(model_name) from exc
        raise _unreachable(model_name, hub, exc) from exc
    except PermissionError as exc:
        raise ConfigError(
            f"模型缓存目录 {cache} 不可写：{exc}。"
            "请检查 PAPERTUTOR_EMBEDDING_CACHE_DIR 和目录权限。",
            f"The model cache directory {cache} is not writable: {exc}. "
            "Check PAPERTUTOR_EMBEDDING_CACHE_DIR and its permissions.",
        ) from exc
    except (HfHubHTTPError, httpx.TransportError, OSError) as exc:
        raise _unreachable(model_name, hub, exc) from exc
    snapshot = Path(str(result))
    _check_complete(model_name, files, snapshot)
    return snapshot
