"""The CLI tests' environment: the papertutor CLI on the test model and the fake model server.

``env`` is shared by the command, figures and study tests (the backup tests set up their own).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fakes.embedding import TEST_MODEL_NAME, test_model_dir
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.pdfs import make_paper_pdf
from tests.fakes.secret_values import LLM_KEY
from tests.fakes.subtitle_samples import lecture_srt


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_openai: FakeOpenAI) -> Path:
    """A clean environment (no .env) on the test model and the fake model server."""
    monkeypatch.chdir(tmp_path)
    for name in ("PAPERTUTOR_QDRANT_URL", "PAPERTUTOR_EMBEDDING_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("PAPERTUTOR_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("PAPERTUTOR_EMBEDDING_MODEL", TEST_MODEL_NAME)
    monkeypatch.setenv("PAPERTUTOR_EMBEDDING_MODEL_PATH", str(test_model_dir()))
    monkeypatch.setenv("OPENAI_BASE_URL", fake_openai.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", LLM_KEY)
    monkeypatch.setenv("PAPERTUTOR_LLM_MAX_RETRIES", "0")
    (tmp_path / "paper.pdf").write_bytes(make_paper_pdf())
    (tmp_path / "lecture.srt").write_text(lecture_srt(6), encoding="utf-8")
    return tmp_path
