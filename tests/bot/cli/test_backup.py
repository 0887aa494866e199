"""``papertutor export|import|migrate|reindex`` and start-up against an unreachable server,
run through ``bot.cli.main`` with settings from the environment, as an operator would."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from bot.app import build_index
from bot.cli import main
from bot.settings import StorageSettings
from kernel.errors import StoreUnavailableError
from storage.qdrant.index import QdrantIndex
from tests.fakes.embedding import TEST_MODEL_NAME, test_model_dir
from tests.storage.support import assert_same_chat, fill, open_store


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A clean environment (no .env) on the test model, data under ``tmp_path/a``."""
    monkeypatch.chdir(tmp_path)
    for name in ("PAPERTUTOR_QDRANT_URL", "PAPERTUTOR_QDRANT_API_KEY", "PAPERTUTOR_EMBEDDING_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("PAPERTUTOR_DATA_DIR", str(tmp_path / "a"))
    monkeypatch.setenv("PAPERTUTOR_EMBEDDING_MODEL", TEST_MODEL_NAME)
    monkeypatch.setenv("PAPERTUTOR_EMBEDDING_MODEL_PATH", str(test_model_dir()))
    store = open_store(tmp_path / "a" / "qdrant")
    fill(store, 7)
    fill(store, 8, with_video=False)
    store.close()
    return tmp_path


def test_export_then_import_into_a_fresh_data_dir(
    env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--lang", "en", "export", "--chat", "7", "-o", "chat7.jsonl.gz"]) == 0
    assert "exported 1 chat(s): 2 sources, 7 chunks, 3 notes, 5 history" in capsys.readouterr().out

    monkeypatch.setenv("PAPERTUTOR_DATA_DIR", str(env / "b"))
    assert main(["import", "chat7.jsonl.gz"]) == 0
    assert "已从 chat7.jsonl.gz 导入 1 个聊天" in capsys.readouterr().out

    a, b = open_store(env / "a" / "qdrant"), open_store(env / "b" / "qdrant")
    try:
        assert_same_chat(a, b, 7)
        assert b.sources(8) == []
    finally:
        a.close()
        b.close()


def test_import_with_another_configured_model_is_refused(
    env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["export", "--all", "-o", "all.jsonl.gz"]) == 0
    monkeypatch.setenv("PAPERTUTOR_DATA_DIR", str(env / "b"))
    monkeypatch.setenv("PAPERTUTOR_EMBEDDING_MODEL", "BAAI/bge-small-zh-v1.5")

    assert main(["--lang", "en", "import", "all.jsonl.gz"]) == 2
    err = capsys.readouterr().err
    assert f"PAPERTUTOR_EMBEDDING_MODEL={TEST_MODEL_NAME}" in err
    assert "Traceback" not in err


def test_migrate_to_another_data_dir_keeps_the_source(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--lang", "en", "migrate", "--to", str(env / "c")]) == 0
    out = capsys.readouterr().out
    assert "migrated 2 chat(s)" in out
    assert "counts verified" in out
    assert f"PAPERTUTOR_DATA_DIR={env / 'c'}" in out

    a, c = open_store(env / "a" / "qdrant"), open_store(env / "c" / "qdrant")
    try:
        for chat in (7, 8):
            assert_same_chat(a, c, chat)
    finally:
        a.close()
        c.close()


def test_a_running_bot_holding_the_store_is_named(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bot = QdrantIndex(path=env / "a" / "qdrant")  # the bot process holds the embedded store
    try:
        assert main(["--lang", "en", "migrate", "--to", str(env / "c")]) == 75  # try later
    finally:
        bot.close()
    err = capsys.readouterr().err
    assert "in use by another process" in err
    assert "stop it first" in err
    assert "Traceback" not in err


def test_reindex_when_the_model_already_matches_changes_nothing(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--lang", "en", "reindex"]) == 0
    assert "nothing to do" in capsys.readouterr().out
    assert not (env / "a" / "backups").exists()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_an_unreachable_server_is_one_clear_sentence_at_startup(
    env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    with pytest.raises(StoreUnavailableError) as exc:
        build_index(StorageSettings(qdrant_url=url, qdrant_wait_s=0))
    assert url in exc.value.message("en")
    assert "PAPERTUTOR_QDRANT_URL" in exc.value.message("zh")

    monkeypatch.setenv("PAPERTUTOR_QDRANT_URL", url)
    monkeypatch.setenv("PAPERTUTOR_QDRANT_WAIT_S", "0")
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123456789:" + "A" * 35)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    for argv in (["--lang", "en", "run"], ["--lang", "en", "export", "--all", "-o", "x.jsonl"]):
        assert main(argv) == 75
        captured = capsys.readouterr()
        lines = captured.err.strip().splitlines()
        assert len(lines) == 1, captured.err
        assert lines[0].startswith(f"papertutor: Cannot reach the Qdrant server at {url}")
        assert captured.out == ""


def test_papers_pdfs_go_into_the_backup_and_come_back(
    env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from storage.paper_files import PaperFiles

    store = open_store(env / "a" / "qdrant")
    sid = next(s.source_id for s in store.sources(7) if s.kind.value == "paper")
    store.close()
    PaperFiles(env / "a" / "papers").save(7, sid, b"%PDF-1.7 kept", [])
    assert main(["--lang", "en", "export", "--chat", "7", "-o", "chat7.jsonl.gz"]) == 0
    assert "2 paper files" in capsys.readouterr().out  # the PDF and its (empty) figure list
    monkeypatch.setenv("PAPERTUTOR_DATA_DIR", str(env / "b"))
    assert main(["import", "chat7.jsonl.gz"]) == 0
    assert PaperFiles(env / "b" / "papers").original(7, sid) == b"%PDF-1.7 kept"
    monkeypatch.setenv("PAPERTUTOR_DATA_DIR", str(env / "a"))
    assert main(["migrate", "--to", str(env / "c")]) == 0
    assert PaperFiles(env / "c" / "papers").original(7, sid) == b"%PDF-1.7 kept"
