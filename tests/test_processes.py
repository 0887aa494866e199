"""The bot and the CLI as real processes, the way an operator runs them, and every line they
print read for secrets (stdout, stderr and the log, at DEBUG level).

- A student re-sends a paper and the bot is killed (SIGKILL) while indexing it. The next start
  tells the student, in place of the frozen status message, that the re-send did not finish and
  the previous version still works; /sources shows the paper ready, and questions are answered.
- The CLI's commands and the bot's start-up failures (refused token, unreachable Bot API) run
  with every secret set: none of them appears in any output.

The fake Bot API and the fake OpenAI-compatible server run in this process, on loopback.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.bot_api import TOKEN, FakeBotApi, FakeBotApiServer, Seen
from tests.fakes.embedding import TEST_MODEL_NAME, test_model_dir
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.pdfs import make_paper_pdf
from tests.fakes.secret_values import (
    EMBEDDING_KEY,
    LLM_KEY,
    QDRANT_KEY,
    WEBHOOK_SECRET,
    WRONG_TOKEN,
    leaks,
)
from tests.fakes.subtitle_samples import lecture_srt

STUDENT = 1001
ROOT = Path(__file__).resolve().parents[1]
PAPERTUTOR = [sys.executable, "-m", "bot"]


def _model(body: dict[str, Any]) -> str:
    system = str(body["messages"][0]["content"])
    if "search engine" in system:  # the query rewrite
        return json.dumps({"queries": ["sparse attention memory"], "terms": []})
    return "稀疏注意力只让每个词关注一部分词，所以需要的内存更少 [1]。"


@pytest.fixture
def llm() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as server:
        server.set_default(_model)
        yield server


def _env(tmp_path: Path, llm: FakeOpenAI, **extra: str) -> dict[str, str]:
    """Every secret the settings know is set: each one must stay out of every output."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PAPERTUTOR_", "OPENAI_"))}
    env |= {
        "HF_HUB_OFFLINE": "1",
        "PAPERTUTOR_DATA_DIR": str(tmp_path / "data"),
        "PAPERTUTOR_EMBEDDING_MODEL": TEST_MODEL_NAME,
        "PAPERTUTOR_EMBEDDING_MODEL_PATH": str(test_model_dir()),
        "PAPERTUTOR_EMBEDDING_API_KEY": EMBEDDING_KEY,  # unused without a URL, but set
        "PAPERTUTOR_QDRANT_API_KEY": QDRANT_KEY,  # likewise
        "PAPERTUTOR_WEBHOOK_SECRET": WEBHOOK_SECRET,  # likewise (polling)
        "PAPERTUTOR_LOG_LEVEL": "DEBUG",
        "PAPERTUTOR_LLM_MAX_RETRIES": "0",
        "OPENAI_BASE_URL": llm.base_url,
        "OPENAI_API_KEY": LLM_KEY,
        "TELEGRAM_BOT_TOKEN": TOKEN,
    }
    return env | extra


class _Bot:
    """``papertutor run`` as a process, its output in a file."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.log = log
        self._out = log.open("ab")
        self.proc = subprocess.Popen(
            [*PAPERTUTOR, "run"], cwd=ROOT, env=env, stdout=self._out, stderr=self._out
        )

    def stop(self, sig: int = signal.SIGTERM) -> int:
        self.proc.send_signal(sig)
        code = self.proc.wait(timeout=60)
        self._out.close()
        return code


def _wait(predicate: Callable[[], bool], what: str, within: float = 120.0) -> None:
    deadline = time.monotonic() + within
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def _find(api: FakeBotApi, needle: str) -> Seen | None:
    found = [m for m in api.bot_messages(STUDENT) if needle in m.plain]
    return found[-1] if found else None


def _assert_clean(*texts: str) -> None:
    for text in texts:
        assert not leaks(text), f"a secret in the output: {leaks(text)}"


def test_a_resend_killed_mid_way_is_reported_and_the_paper_still_works(
    tmp_path: Path, llm: FakeOpenAI
) -> None:
    api = FakeBotApi()
    paper = make_paper_pdf(filler_pages=40)  # ~100 chunks: indexing takes seconds
    with FakeBotApiServer(api).running() as server:
        env = _env(
            tmp_path,
            llm,
            PAPERTUTOR_TELEGRAM_API_URL=server.base_url,
            PAPERTUTOR_TELEGRAM_FILE_URL=server.file_url,
        )
        first = _Bot(env, tmp_path / "first.log")
        try:
            api.queue(api.document_update(paper, "sparse.pdf"))
            _wait(lambda: _find(api, "论文读完了") is not None, "the paper card")
            api.queue(api.document_update(paper, "sparse.pdf"))  # the re-send
            _wait(
                lambda: any(
                    "建立索引" in text for m in api.bot_messages(STUDENT)[1:] for text in m.history
                ),
                "the re-send to be indexing",
            )
        finally:
            first.stop(signal.SIGKILL)
        frozen = api.bot_messages(STUDENT)[1]
        assert "建立索引" in frozen.plain  # as the kill left it

        second = _Bot(env, tmp_path / "second.log")
        try:
            _wait(lambda: "没有处理完" in api.bot_messages(STUDENT)[1].plain, "the report")
            told = api.bot_messages(STUDENT)[1]
            assert told.message_id == frozen.message_id  # the frozen message itself
            assert "重新发送的《Sparse Attention for Beginners》没有处理完" in told.plain
            assert "之前的版本没有受影响" in told.plain

            api.queue(api.update("message", text="/sources"))
            _wait(lambda: _find(api, "你的资料") is not None, "/sources")
            listing = _find(api, "你的资料")
            assert listing is not None
            assert "Sparse Attention for Beginners" in listing.plain
            assert "失败" not in listing.plain
            assert "处理中" not in listing.plain

            # The operator's command line lists what the running bot holds (bot.control).
            cli = subprocess.run(
                [*PAPERTUTOR, "sources", "--chat", str(STUDENT), "--json"],
                cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False,
            )  # fmt: skip
            assert cli.returncode == 0, cli.stderr
            [listed] = json.loads(cli.stdout)["sources"]
            assert listed["title"] == "Sparse Attention for Beginners"
            _assert_clean(cli.stdout, cli.stderr)

            api.queue(api.update("message", text="什么是稀疏注意力？"))
            _wait(lambda: _find(api, "来源") is not None, "an answer with sources")
        finally:
            assert second.stop() == 0
    logs = [first.log.read_text(errors="replace"), second.log.read_text(errors="replace")]
    _assert_clean(*logs)
    assert "Traceback" not in logs[1]
    assert "interrupted ingestion(s) rolled back" in logs[1]  # the operator's log says it too


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_no_output_of_the_cli_or_the_bot_start_up_shows_a_secret(
    tmp_path: Path, llm: FakeOpenAI
) -> None:
    (tmp_path / "paper.pdf").write_bytes(make_paper_pdf())
    (tmp_path / "talk.srt").write_text(lecture_srt(3), encoding="utf-8")
    env = _env(tmp_path, llm)

    def run(*argv: str, **extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*PAPERTUTOR, *argv],
            cwd=tmp_path,
            env=env | extra,
            capture_output=True,
            text=True,
            timeout=300,
        )

    outputs: list[subprocess.CompletedProcess[str]] = [
        run("ingest", "paper.pdf", "--chat", "5"),
        run("ingest", "talk.srt", "--chat", "5", "--url", "https://youtu.be/dQw4w9WgXcQ"),
        run("ask", "什么是稀疏注意力？", "--chat", "5"),
        run("sources", "--chat", "5", "--json"),
        run("export", "--all", "-o", "all.jsonl"),
        run("health"),
    ]
    assert [p.returncode for p in outputs] == [0] * len(outputs), [p.stderr for p in outputs]

    with FakeBotApiServer(FakeBotApi()).running() as server:
        refused = run(
            "run", TELEGRAM_BOT_TOKEN=WRONG_TOKEN, PAPERTUTOR_TELEGRAM_API_URL=server.base_url
        )
    unreachable = run(
        "run",
        PAPERTUTOR_TELEGRAM_API_URL=f"http://127.0.0.1:{_closed_port()}/bot",
        PAPERTUTOR_TELEGRAM_WAIT_S="1",
    )
    assert (refused.returncode, unreachable.returncode) == (2, 75)
    for failed in (refused, unreachable):
        assert "Traceback" not in failed.stderr
        assert failed.stderr.count("papertutor: ") == 1  # one line, both languages
    assert "987654321:***" in refused.stderr  # the token is named by its public bot id only
    for p in [*outputs, refused, unreachable]:
        _assert_clean(p.stdout, p.stderr)
