"""Embedders for tests: the offline model (located, loaded once, failing loudly when missing),
and a deterministic stand-in for tests where the vectors' meaning does not matter."""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Sequence
from functools import cache
from pathlib import Path

from storage.embedding.embedder import FastEmbedEmbedder
from tests.fakes.requirements import missing

__all__ = ["TEST_MODEL_NAME", "HashEmbedder", "test_embedder", "test_model_dir"]

TEST_MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"


def test_model_dir() -> Path:
    """The local all-MiniLM-L6-v2 ONNX directory; the calling test fails if it is missing."""
    path = Path(__file__).resolve().parents[2] / ".cache" / "test-model"
    if not (path / "tokenizer.json").is_file():
        missing(
            f"the offline test embedding model ({path})",
            "run `make test` (or `python scripts/assemble_test_model.py .cache/test-model`)",
        )
    return path


@cache
def _load(path: Path) -> FastEmbedEmbedder:
    return FastEmbedEmbedder(TEST_MODEL_NAME, model_path=path)


def test_embedder() -> FastEmbedEmbedder:
    """One shared embedder on the test model (loading costs ~1 s; it is thread-safe)."""
    return _load(test_model_dir())


# These helpers are named test_* for readability; tell pytest they are not tests.
test_model_dir.__test__ = False  # type: ignore[attr-defined]
test_embedder.__test__ = False  # type: ignore[attr-defined]


class HashEmbedder:
    """A deterministic stand-in for the embedding model where the vectors' meaning does not
    matter (storage's bookkeeping: recovery, generations, kills): no model file, no ONNX. Each
    text's vector comes from its hash; ``batch_delay_s`` per passage batch makes indexing take
    a little time, as a real model's does, so a kill can land inside it."""

    model_name = "test-hash"
    dim = 32

    def __init__(self, batch_delay_s: float = 0.0) -> None:
        self.batch_delay_s = batch_delay_s

    def _vector(self, text: str) -> list[float]:
        digest = hashlib.sha256(text.encode("utf-8")).digest()
        raw = [b / 255 - 0.5 for b in digest]
        norm = math.sqrt(sum(x * x for x in raw)) or 1.0
        return [x / norm for x in raw]

    def embed_passages(self, texts: Sequence[str]) -> list[list[float]]:
        if self.batch_delay_s:
            time.sleep(self.batch_delay_s)
        return [self._vector(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self._vector(text)

    def close(self) -> None:
        return None
