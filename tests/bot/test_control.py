"""The running bot answers ``papertutor sources|notes`` over its socket: what the operator sees
while the bot holds the embedded store, and what a stray or hostile request gets."""

from __future__ import annotations

import asyncio
import json
import shutil
import socket
import stat
import tempfile
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.cli import main
from bot.control import BotUnreachableError, ControlServer, read_from_bot, socket_path
from kernel.models import Chunk, Note, PaperMeta, ParsedSource, SourceKind
from storage.async_store import AsyncKnowledgeStore
from storage.qdrant.index import QdrantIndex
from storage.store import KnowledgeStore
from tests.fakes.embedding import TEST_MODEL_NAME, test_embedder, test_model_dir

CHAT, OTHER = 5, 6


def _paper() -> ParsedSource:
    return ParsedSource(
        kind=SourceKind.PAPER,
        fingerprint="sha256:control",
        paper=PaperMeta(title="Sparse Attention for Beginners", pages=1),
        chunks=(Chunk(ordinal=0, text="Sparse attention reads long documents.", page=1),),
    )


def _note() -> Note:
    return Note(
        chat_id=CHAT,
        note_id="n1",
        question="什么是稀疏注意力？",
        answer="稀疏注意力只看一部分词[1]。",
        grounded=True,
        created_at=datetime(2026, 12, 1, tzinfo=UTC),
    )


@pytest.fixture
def data_dir() -> Iterator[Path]:
    """A short path: a Unix socket's address holds ~100 bytes, pytest's tmp_path can be longer."""
    path = Path(tempfile.mkdtemp(prefix="ptc", dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
async def bot_store(data_dir: Path) -> AsyncIterator[AsyncKnowledgeStore]:
    """The running bot's store: holding the embedded store's lock, one paper and one note."""
    core = KnowledgeStore(QdrantIndex(path=data_dir / "qdrant"), test_embedder())
    core.add_source(CHAT, _paper())
    core.put_note(_note())
    store = AsyncKnowledgeStore(core)
    yield store
    store.close()


@pytest.fixture
async def control(bot_store: AsyncKnowledgeStore, data_dir: Path) -> AsyncIterator[ControlServer]:
    server = ControlServer(bot_store, socket_path(data_dir))
    assert await server.start()
    yield server
    await server.close()


async def _raw(path: Path, request: bytes) -> dict[str, object]:
    def ask() -> bytes:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            conn.settimeout(10)
            conn.connect(str(path))
            conn.sendall(request)
            return conn.makefile("rb").readline()

    reply = json.loads(await asyncio.to_thread(ask))
    assert isinstance(reply, dict)
    return reply


async def test_the_running_bot_answers_what_its_store_holds(
    control: ControlServer, bot_store: AsyncKnowledgeStore, data_dir: Path
) -> None:
    sources = await asyncio.to_thread(read_from_bot, data_dir, "sources", CHAT)
    assert sources == [r.model_dump(mode="json") for r in await bot_store.sources(CHAT)]
    assert sources[0]["title"] == "Sparse Attention for Beginners"
    notes = await asyncio.to_thread(read_from_bot, data_dir, "notes", CHAT)
    assert [Note.model_validate(n) for n in notes] == [_note()]
    # Each chat's own: another chat's reads find nothing of this one.
    assert await asyncio.to_thread(read_from_bot, data_dir, "sources", OTHER) == []
    assert await asyncio.to_thread(read_from_bot, data_dir, "notes", OTHER) == []
    # Only its owner may connect.
    assert stat.S_IMODE(control.path.stat().st_mode) == 0o600


async def test_only_the_two_reads_are_served_and_junk_gets_an_error(
    control: ControlServer, data_dir: Path
) -> None:
    for request in (
        b"not json\n",
        b"[1, 2]\n",
        b'{"read": "turns", "chat": 5}\n',
        b'{"read": "sources", "chat": "5"}\n',
        b'{"read": "sources", "chat": true}\n',
        b'{"forget": "everything", "chat": 5}\n',
        b"\n",
        b'{"read": "sources", "chat": 5, "pad": "' + b"x" * 10_000 + b'"}\n',  # too long
    ):
        assert await _raw(control.path, request) == {"error": "bad request"}, request
    with pytest.raises(ValueError, match="kind"):
        read_from_bot(data_dir, "history", CHAT)
    # Still serving after all that.
    assert await asyncio.to_thread(read_from_bot, data_dir, "sources", CHAT)


async def test_a_stale_socket_is_replaced_and_a_stopped_bot_is_unreachable(
    bot_store: AsyncKnowledgeStore, data_dir: Path
) -> None:
    path = socket_path(data_dir)
    path.write_text("left by a killed bot")
    server = ControlServer(bot_store, path)
    assert await server.start()
    assert await asyncio.to_thread(read_from_bot, data_dir, "sources", CHAT)
    await server.close()
    assert not path.exists()
    with pytest.raises(BotUnreachableError):
        read_from_bot(data_dir, "sources", CHAT, timeout=2)
    # A socket path too long for an address: the bot runs on without it.
    deep = data_dir / ("d" * 120)
    assert not await ControlServer(bot_store, socket_path(deep)).start()


@pytest.fixture
def cli_env(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(data_dir)
    for name in ("PAPERTUTOR_QDRANT_URL", "PAPERTUTOR_EMBEDDING_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PAPERTUTOR_DATA_DIR", str(data_dir))
    monkeypatch.setenv("PAPERTUTOR_EMBEDDING_MODEL", TEST_MODEL_NAME)
    monkeypatch.setenv("PAPERTUTOR_EMBEDDING_MODEL_PATH", str(test_model_dir()))
    monkeypatch.setenv("OPENAI_API_KEY", "unused")


@pytest.mark.usefixtures("cli_env")
async def test_the_command_line_lists_sources_and_notes_while_the_bot_runs(
    control: ControlServer, capsys: pytest.CaptureFixture[str]
) -> None:
    def run(*argv: str) -> int:
        return main(["--lang", "en", *argv])

    assert await asyncio.to_thread(run, "sources", "--chat", str(CHAT), "--json") == 0
    [source] = json.loads(capsys.readouterr().out)["sources"]
    assert source["title"] == "Sparse Attention for Beginners"
    assert source["kind"] == "paper"
    assert await asyncio.to_thread(run, "notes", "--chat", str(CHAT)) == 0
    text = capsys.readouterr().out
    assert "什么是稀疏注意力？" in text
    assert "稀疏注意力只看一部分词[1]。" in text
    assert await asyncio.to_thread(run, "sources", "--chat", str(OTHER)) == 0
    assert capsys.readouterr().out.strip() == "(no sources)"
    # Writes are not the bot's to take from here: they wait until it stops.
    for argv in (("notes", "--chat", str(CHAT), "--remove", "n1"), ("forget", "x", "--chat", "5")):
        assert await asyncio.to_thread(run, *argv) == 75
        assert "in use by another process" in capsys.readouterr().err
    assert await asyncio.to_thread(run, "notes", "--chat", str(CHAT), "--json") == 0
    assert [n["note_id"] for n in json.loads(capsys.readouterr().out)["notes"]] == ["n1"]
