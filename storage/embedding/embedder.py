"""Dense text embeddings: the ``Embedder`` port and its fastembed adapter.

The only module that imports ``fastembed``. Queries and passages are embedded by separate calls
(some models prefix them differently). A local ONNX directory can replace the model download,
for air-gapped machines and regions where the model hub is blocked.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from kernel.errors import ConfigError
from storage.embedding.fastembed_import import allowed as fastembed_allowed

__all__ = [
    "Embedder",
    "FastEmbedEmbedder",
    "HubModel",
    "default_cache_dir",
    "fetch_from_hub",
    "hub_model",
]


@runtime_checkable
class Embedder(Protocol):
    """Turns text into dense vectors of ``dim`` floats (cosine space)."""

    model_name: str
    dim: int

    def embed_passages(self, texts: Sequence[str]) -> list[list[float]]: ...

    def embed_query(self, text: str) -> list[float]: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class HubModel:
    """Where fastembed finds a model on the Hugging Face hub and which ONNX files it needs."""

    repo_id: str
    model_file: str
    additional_files: tuple[str, ...] = ()


def hub_model(model_name: str) -> HubModel | None:
    """fastembed's own description of ``model_name`` (names match case-insensitively), or None
    when fastembed does not know the name or does not fetch it from the hub."""
    with fastembed_allowed():
        from fastembed import TextEmbedding

    for described in TextEmbedding.list_supported_models():
        if described["model"].lower() == model_name.lower():
            repo = (described.get("sources") or {}).get("hf")
            if not repo:
                return None
            extra = tuple(described.get("additional_files") or ())
            return HubModel(repo, described["model_file"], extra)
    return None


def default_cache_dir() -> Path:
    """fastembed's cache when none is configured (``FASTEMBED_CACHE_PATH`` or the temp dir)."""
    with fastembed_allowed():
        from fastembed.common.utils import define_cache_dir

    return Path(define_cache_dir(None))


def fetch_from_hub(
    repo_id: str,
    cache_dir: Path,
    files: Sequence[str],
    *,
    local_only: bool,
    endpoint: str | None = None,
    tqdm_class: type[Any] | None = None,
) -> Path:
    """Fetch ``files`` of ``repo_id`` (plus fastembed's tokenizer/config files) into
    ``cache_dir`` the way fastembed does before loading a model (same cache layout and file
    check), so fastembed later finds it offline; return the snapshot directory.

    ``local_only`` only looks in the cache. The hub is huggingface_hub's (``HF_ENDPOINT`` when
    the process started; ``endpoint`` must name the same hub, for the file downloads).
    Raises huggingface_hub's errors, ``OSError`` or ``ValueError`` (a file did not arrive
    whole).
    """
    with fastembed_allowed():
        from fastembed import TextEmbedding
        from huggingface_hub.utils.tqdm import enable_progress_bars

    kwargs: dict[str, Any] = {} if tqdm_class is None else {"tqdm_class": tqdm_class}
    if endpoint is not None:
        kwargs["endpoint"] = endpoint
    try:
        found = TextEmbedding.download_files_from_huggingface(
            repo_id,
            cache_dir=str(cache_dir),
            extra_patterns=list(files),
            local_files_only=local_only,
            **kwargs,
        )
    finally:
        # fastembed turns huggingface_hub's progress bars off for cached files, for the process.
        enable_progress_bars()
    return Path(str(found))


@contextmanager
def _hub_offline() -> Iterator[None]:
    """Set HF_HUB_OFFLINE for one call: with a local directory there is nothing to download,
    and without it a missing file costs ~39 s of futile retries."""
    was_set = "HF_HUB_OFFLINE" in os.environ
    if not was_set:
        os.environ["HF_HUB_OFFLINE"] = "1"
    try:
        yield
    finally:
        if not was_set:
            os.environ.pop("HF_HUB_OFFLINE", None)


def _onnx_file(model_path: Path) -> str:
    """The ONNX file of a local model directory, relative to it."""
    for candidate in ("onnx/model.onnx", "model.onnx"):
        if (model_path / candidate).is_file():
            return candidate
    found = sorted(model_path.rglob("*.onnx"))
    if not found:
        raise ConfigError("no_onnx_file", path=model_path)
    return found[0].relative_to(model_path).as_posix()


def _register_custom(model_name: str, model_path: Path) -> None:
    """Make an unknown model name loadable from ``model_path`` (mean pooling, normalised)."""
    with fastembed_allowed():
        from fastembed import TextEmbedding
        from fastembed.common.model_description import ModelSource, PoolingType

    known = {m["model"].lower() for m in TextEmbedding.list_supported_models()}
    if model_name.lower() in known:
        return
    TextEmbedding.add_custom_model(
        model=model_name,
        pooling=PoolingType.MEAN,
        normalization=True,
        sources=ModelSource(hf=model_name),
        dim=_config_dim(model_path),
        model_file=_onnx_file(model_path),
    )


def _config_dim(model_path: Path) -> int:
    """Hidden size from ``config.json`` when present; the real size is probed after loading."""
    import json

    try:
        config = json.loads((model_path / "config.json").read_text(encoding="utf-8"))
        return int(config.get("hidden_size") or config.get("d_model") or 0)
    except (OSError, ValueError, TypeError):
        return 0


def _load_error(model_name: str, model_path: Path | None, exc: BaseException) -> ConfigError:
    return ConfigError(
        "embedder_load",
        model=model_name,
        where_zh=f"本地目录 {model_path}" if model_path else "模型下载",
        where_en=f"the local directory {model_path}" if model_path else "the model download",
        reason=exc,
    )


class _Slot:
    """One waiting query: its text, then its vector or the error of the run it was in."""

    __slots__ = ("done", "error", "text", "vector")

    def __init__(self, text: str) -> None:
        self.text = text
        self.done = False
        self.vector: list[float] = []
        self.error: BaseException | None = None


class FastEmbedEmbedder:
    """fastembed ``TextEmbedding`` in-process; thread-safe, and queries never wait long.

    One ONNX run at a time: concurrent runs only compete for the same cores and multiply peak
    memory. Queries go first: ``embed_passages`` runs in slices of ``passage_slice`` texts
    (~0.1 s each for 2 passages of 256 tokens on 2 cores) and lets every waiting query in before
    its next slice, so a question asked while a 67-page paper is being indexed waits for one
    slice, not for a whole batch. Queries that wait together are embedded together in one ONNX
    run (about half the cost per query of running them one by one).
    """

    def __init__(
        self,
        model_name: str,
        *,
        model_path: Path | None = None,
        cache_dir: Path | None = None,
        threads: int | None = None,
        batch_size: int = 16,
        passage_slice: int = 2,
        max_query_batch: int = 32,
    ) -> None:
        self.model_name = model_name
        self.batch_size = batch_size
        self.passage_slice = max(1, passage_slice)
        self.max_query_batch = max(1, max_query_batch)
        self._cond = threading.Condition()
        self._running = False  # an ONNX run is in progress (guarded by _cond)
        self._queries: list[_Slot] = []  # queries waiting, oldest first (guarded by _cond)
        try:
            with fastembed_allowed():
                from fastembed import TextEmbedding

            kwargs: dict[str, Any] = {"threads": threads}
            if cache_dir is not None:
                kwargs["cache_dir"] = str(cache_dir)
            if model_path is not None:
                if not model_path.is_dir():
                    raise FileNotFoundError(f"{model_path} is not a directory")
                _register_custom(model_name, model_path)
                with _hub_offline():
                    self._model: Any = TextEmbedding(
                        model_name, specific_model_path=str(model_path), **kwargs
                    )
            else:
                self._model = TextEmbedding(model_name, **kwargs)
            # The registry's size can be a placeholder for a custom model: measure it.
            self.dim = len(self.embed_query("dimension probe"))
        except ConfigError:
            raise
        except Exception as exc:  # fastembed raises ValueError, OSError, onnxruntime errors...
            raise _load_error(model_name, model_path, exc) from exc

    @contextmanager
    def _turn(self, *, passage: bool) -> Iterator[None]:
        """Hold the one ONNX turn; a passage slice also waits until no query is waiting."""
        with self._cond:
            while self._running or (passage and self._queries):
                self._cond.wait()
            self._running = True
        try:
            yield
        finally:
            with self._cond:
                self._running = False
                self._cond.notify_all()

    def embed_passages(self, texts: Sequence[str]) -> list[list[float]]:
        """Vectors of passages to store, in input order."""
        out: list[list[float]] = []
        step = self.passage_slice
        for start in range(0, len(texts), step):
            piece = list(texts[start : start + step])
            with self._turn(passage=True):
                vectors = self._model.passage_embed(piece, batch_size=step)
                out.extend(vector.tolist() for vector in vectors)
        return out

    def embed_query(self, text: str) -> list[float]:
        """Vector of a search query (possibly computed in one run with other waiting queries)."""
        return self.embed_queries([text])[0]

    def embed_queries(self, texts: Sequence[str]) -> list[list[float]]:
        """Vectors of several queries of one question, queued together so one ONNX run (with
        any other waiting queries) usually computes them all."""
        slots = [_Slot(t) for t in texts]
        with self._cond:
            self._queries.extend(slots)
        while True:
            with self._cond:
                while not all(s.done for s in slots) and self._running:
                    self._cond.wait()
                if all(s.done for s in slots):
                    break
                # The turn is free: run the oldest waiting queries (ours among them, unless
                # more than a batch waits ahead of them: then loop).
                batch = self._queries[: self.max_query_batch]
                del self._queries[: len(batch)]
                self._running = True
            self._run_queries(batch)
        for s in slots:
            if s.error is not None:
                raise s.error
        return [s.vector for s in slots]

    def _run_queries(self, batch: list[_Slot]) -> None:
        try:
            vectors = self._model.query_embed([s.text for s in batch], batch_size=len(batch))
            for s, vector in zip(batch, vectors, strict=True):
                s.vector = vector.tolist()
        except BaseException as exc:  # every waiting caller gets the error, not a hang
            for s in batch:
                s.error = exc
        finally:
            with self._cond:
                for s in batch:
                    s.done = True
                self._running = False
                self._cond.notify_all()

    def close(self) -> None:
        """Release the ONNX session (the object must not be used afterwards)."""
        with self._turn(passage=False):
            self._model = None
