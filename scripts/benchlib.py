"""What the benchmark and eval scripts share: where the corpus and test model are, percentiles,
and writing one section of BENCHMARKS.md without touching the others."""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path

__all__ = [
    "MODEL_DIR",
    "MODEL_NAME",
    "ROOT",
    "corpus_dir",
    "percentile",
    "write_section",
]

ROOT = Path(__file__).resolve().parents[1]
MODEL_DIR = ROOT / ".cache" / "test-model"
MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"


def corpus_dir() -> Path:
    """``$PAPERTUTOR_CORPUS``, else ``../shared/corpus`` beside the repository."""
    env = os.environ.get("PAPERTUTOR_CORPUS")
    return Path(env) if env else ROOT.parent / "shared" / "corpus"


def percentile(samples: Sequence[float], q: float) -> float:
    """Nearest-rank percentile: the smallest sample with at least ``q`` % of samples <= it."""
    if not samples:
        raise ValueError("no samples")
    if not 0 < q <= 100:
        raise ValueError("q must be in (0, 100]")
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def write_section(heading: str, body: str, path: Path = ROOT / "BENCHMARKS.md") -> None:
    """Replace the section that starts with ``heading`` (or append it); others stay as they are.

    ``body`` is the whole section including its heading line.
    """
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    start = text.find(heading)
    if start == -1:
        text = text.rstrip("\n") + "\n\n" + body.rstrip("\n") + "\n"
    else:
        nxt = text.find("\n## ", start + len(heading))
        tail = text[nxt + 1 :] if nxt != -1 else ""
        text = text[:start] + body.rstrip("\n") + "\n" + ("\n" + tail if tail else "")
    path.write_text(text, encoding="utf-8")
