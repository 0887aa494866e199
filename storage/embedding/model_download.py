"""Fetch an embedding model into the cache ahead of time (``papertutor models download``).

A server or an image is prepared before the first student arrives, so the first question does
not wait for a 640 MB download (or fail on a machine that cannot reach the hub). fastembed does
the work (``storage/embedding/embedder.py`` is its only importer): its model list says where a
model lives and which ONNX files it needs, and its own hub download puts the files where, and
checked the way, fastembed later looks for them offline. This module adds what an operator
needs: any Hugging Face repo id (fastembed does not know such a model by name, so it is used
through ``PAPERTUTOR_EMBEDDING_MODEL_PATH`` pointing at the returned directory), a progress bar
in ``docker build`` logs, and errors that say what to do.

The hub is ``HF_ENDPOINT`` (a mirror) when set; it must be set when the process starts, since
huggingface_hub's default client (which fastembed's download asks for the repo's file list)
reads it once, at import.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kernel.errors import ConfigError, ServiceError
from storage.embedding.embedder import default_cache_dir, fetch_from_hub, hub_model

__all__ = ["ModelFiles", "cached_snapshot", "default_cache_dir", "model_files", "prefetch_model"]

# The ONNX files of a repo fastembed does not know, under their usual names.
_USUAL_ONNX = ("model.onnx", "onnx/model.onnx", "model.onnx_data", "onnx/model.onnx_data")


@dataclass(frozen=True)
class ModelFiles:
    """Where a model lives on the hub and which ONNX files it needs."""

    repo_id: str
    model_file: str | None  # None: an unknown repo, take the usual ONNX file names
    additional_files: tuple[str, ...] = ()
    known_to_fastembed: bool = True

    @property
    def patterns(self) -> list[str]:
        """The model's own files (fastembed adds its tokenizer and config files)."""
        if self.model_file is None:
            return list(_USUAL_ONNX)
        return [self.model_file, *self.additional_files]


def model_files(model_name: str) -> ModelFiles:
    """The hub files of ``model_name``: fastembed's description, else the name as a repo id."""
    known = hub_model(model_name)
    if known is not None:
        return ModelFiles(known.repo_id, known.model_file, known.additional_files)
    return ModelFiles(model_name, None, known_to_fastembed=False)


def cached_snapshot(model_name: str, cache_dir: Path | None) -> Path | None:
    """The cached snapshot holding ``model_name``'s ONNX file, or None (no network used)."""
    files = model_files(model_name)
    cache = cache_dir if cache_dir is not None else default_cache_dir()
    if not cache.is_dir():
        return None
    try:
        snapshot = fetch_from_hub(files.repo_id, cache, files.patterns, local_only=True)
    except Exception:  # any failure of a cache-only look-up means "not cached"
        return None
    return snapshot if not _missing(files, snapshot) else None


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
    return ServiceError("hub_unreachable", model=model_name, hub=endpoint, reason=reason)


def _missing(files: ModelFiles, snapshot: Path) -> list[str]:
    """The model's ONNX files absent from ``snapshot``."""
    if files.model_file is None:
        return [] if any(snapshot.rglob("*.onnx")) else ["model.onnx / onnx/model.onnx"]
    return [f for f in (files.model_file, *files.additional_files) if not (snapshot / f).exists()]


def _check_complete(model_name: str, files: ModelFiles, snapshot: Path) -> None:
    """The repo may lack the ONNX weights (e.g. a PyTorch-only repo): say so now, not at
    the first student question."""
    missing = _missing(files, snapshot)
    if missing:
        raise ConfigError(
            "hub_no_onnx", repo=files.repo_id, missing=", ".join(missing), model=model_name
        )


def prefetch_model(
    model_name: str,
    cache_dir: Path | None,
    *,
    repo_id: str | None = None,
    model_file: str | None = None,
    progress: bool = True,
) -> Path:
    """Download ``model_name`` into ``cache_dir`` (fastembed's default when None), showing a
    progress bar on stderr; return the snapshot directory.

    ``repo_id``/``model_file`` override fastembed's description (any Hugging Face repo id
    works). Already-cached files are not fetched again. With ``HF_HUB_OFFLINE=1`` only the
    cache is consulted. Raises ``ConfigError`` (offline and not cached, unknown repo, no ONNX
    file) or ``ServiceError`` (the hub or mirror cannot be reached).
    """
    from huggingface_hub import constants
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
    hub = (os.environ.get("HF_ENDPOINT") or constants.ENDPOINT).rstrip("/")
    offline = _offline()
    try:
        cache.mkdir(parents=True, exist_ok=True)
        snapshot = fetch_from_hub(
            files.repo_id,
            cache,
            files.patterns,
            local_only=offline,
            endpoint=hub,
            tqdm_class=_progress_class(progress),
        )
    except (RepositoryNotFoundError, GatedRepoError) as exc:
        raise ConfigError("hub_no_repo", repo=files.repo_id, model=model_name, hub=hub) from exc
    except LocalEntryNotFoundError as exc:
        if offline:
            raise ConfigError("hub_offline", model=model_name) from exc
        raise _unreachable(model_name, hub, exc) from exc
    except PermissionError as exc:
        raise ConfigError("model_cache", path=cache, reason=exc) from exc
    except (HfHubHTTPError, httpx.TransportError, OSError, ValueError) as exc:
        raise _unreachable(model_name, hub, exc) from exc
    _check_complete(model_name, files, snapshot)
    return snapshot
