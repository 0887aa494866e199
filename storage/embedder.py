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
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from ingest.errors import ConfigError

__all__ = ["Embedder", "FastEmbedEmbedder"]


@runtime_checkable
class Embedder(Protocol):
    """Turns text into dense vectors of ``dim`` floats (cosine space)."""

    model_name: str
    dim: int

    def embed_passages(self, texts: Sequence[str]) -> list[list[float]]: ...

    def embed_query(self, text: str) -> list[float]: ...

    def close(self) -> None: ...


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
        raise ConfigError(
            f"本地嵌入模型目录 {model_path} 里没有 .onnx 文件，"
            "请检查 PAPERTUTOR_EMBEDDING_MODEL_PATH。",
            f"No .onnx file in the local embedding model directory {model_path}; "
            "check PAPERTUTOR_EMBEDDING_MODEL_PATH.",
        )
    return found[0].relative_to(model_path).as_posix()


def _register_custom(model_name: str, model_path: Path) -> None:
    """Make an unknown model name loadable from ``model_path`` (mean pooling, normalised)."""
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
    where = f"本地目录 {model_path}" if model_path else "模型下载"
    where_en = f"the local directory {model_path}" if model_path else "the model download"
    return ConfigError(
        f"无法加载嵌入模型 {model_name}（{where}）：{exc}。"
        "如果无法访问模型仓库，请设置 HF_ENDPOINT 指向可用的镜像，"
        "或把 PAPERTUTOR_EMBEDDING_MODEL_PATH 设为已下载的 ONNX 模型目录。",
        f"Cannot load the embedding model {model_name} from {where_en}: {exc}. "
        "If the model hub is unreachable, set HF_ENDPOINT to a working mirror, or set "
        "PAPERTUTOR_EMBEDDING_MODEL_PATH to a downloaded ONNX model directory.",
    )


class FastEmbedEmbedder:
    """fastembed ``TextEmbedding`` in-process; thread-safe (one embedding call at a time)."""

    def __init__(
        self,
        model_name: str,
        *,
        model_path: Path | None = None,
        cache_dir: Path | None = None,
        threads: int | None = None,
        batch_size: int = 16,
    ) -> None:
        self.model_name = model_name
        self.batch_size = batch_size
        # One call at a time: concurrent ONNX runs only compete for the same cores and
        # multiply peak memory.
        self._lock = threading.Lock()
        try:
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

    def embed_passages(self, texts: Sequence[str]) -> list[list[float]]:
        """Vectors of passages to store, in input order."""
        if not texts:
            return []
        with self._lock:
            vectors = self._model.passage_embed(list(texts), batch_size=self.batch_size)
            return [vector.tolist() for vector in vectors]

    def embed_query(self, text: str) -> list[float]:
        """Vector of a search query."""
        with self._lock:
            vector = next(iter(self._model.query_embed(text)))
            result: list[float] = vector.tolist()
            return result

    def close(self) -> None:
        """Release the ONNX session (the object must not be used afterwards)."""
        with self._lock:
            self._model = None
