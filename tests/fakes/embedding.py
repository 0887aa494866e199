"""The offline embedding model for tests: locate it, fail loudly without it, load it once."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from storage.embedding.embedder import FastEmbedEmbedder
from tests.fakes.requirements import missing

__all__ = ["TEST_MODEL_NAME", "test_embedder", "test_model_dir"]

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
