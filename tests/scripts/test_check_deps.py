"""Every third-party package the product imports is declared (``scripts/check_deps.py``)."""

from __future__ import annotations

from pathlib import Path

from scripts.check_deps import declared, imported, undeclared


def test_every_imported_package_is_declared() -> None:
    assert undeclared() == {}


def test_an_undeclared_import_is_found(tmp_path: Path) -> None:
    for package in ("bot", "ingest", "storage", "kernel"):
        (tmp_path / package).mkdir()
    (tmp_path / "pyproject.toml").write_text(
        '[project]\ndependencies = ["pymupdf>=1.24", "python-telegram-bot[job-queue]>=22"]\n',
        encoding="utf-8",
    )
    (tmp_path / "bot" / "a.py").write_text(
        "import os\nimport telegram\nfrom pymupdf import open\nfrom bot import x\n"
        "def f():\n    import httpx\n",
        encoding="utf-8",
    )
    assert set(imported(tmp_path)) == {"telegram", "pymupdf", "httpx"}
    assert declared(tmp_path) == {"pymupdf", "python-telegram-bot"}
    assert undeclared(tmp_path) == {"httpx": {"bot/a.py"}}
