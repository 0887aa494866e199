"""How fast the command line answers (issue 12's goals: ``--help`` ≤ 0.5 s, ``sources`` ≤ 1.5 s).

    .venv/bin/python -m scripts.bench_cli

Runs the installed ``papertutor`` command as an operator does: each run is a fresh process
(cold: nothing imported yet, the OS file cache warm), the commands taking turns, median of 15
runs, wall time from start to exit. ``sources`` and ``notes`` read a chat holding one ingested
subtitle file (ingested once beforehand with the test model, in a temporary data directory):
first with nothing else running (the command opens the store itself), then while a stand-in
for the bot holds the store and answers on its socket (``bot.control``), as in production.
Prints a Markdown section and rewrites "## CLI start-up (issue 12)" in BENCHMARKS.md. Needs
the test model.
"""

from __future__ import annotations

import asyncio
import os
import resource
import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from scripts.benchlib import MODEL_DIR, MODEL_NAME, ROOT, write_section

SECTION = "## CLI start-up (issue 12)"
COMMAND = ".venv/bin/python -m scripts.bench_cli"
RUNS = 15
PAPERTUTOR = ROOT / ".venv" / "bin" / "papertutor"
GOALS = {"--help": 0.5, "sources": 1.5, "notes": 1.5}
PYTHON = ROOT / ".venv" / "bin" / "python"

_SRT = """1
00:00:01,000 --> 00:00:04,000
Today we look at how attention weighs the tokens of a sentence.

2
00:00:04,500 --> 00:00:08,000
Each query is compared with every key, and the scores become weights.
"""


def _run(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """One fresh process: its wall time and its CPU time (user + system), in seconds."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    done = subprocess.run([str(PAPERTUTOR), *argv], env=env, capture_output=True, text=True)
    elapsed = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"papertutor {' '.join(argv)} failed: {done.stderr.strip()[-300:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return elapsed, cpu


def _rounds(commands: list[list[str]], env: dict[str, str]) -> list[list[tuple[float, float]]]:
    """``RUNS`` (wall, CPU) times of each command, the commands taking turns, so a drift in
    the machine's speed (a shared host) reaches all of them alike."""
    times: list[list[tuple[float, float]]] = [[] for _ in commands]
    for _ in range(RUNS):
        for argv, out in zip(commands, times, strict=True):
            out.append(_run(argv, env))
    return times


@contextmanager
def _running_bot(data_dir: Path) -> Iterator[None]:
    """The bot's part here: holding the embedded store and answering on its socket, on an event
    loop of its own in this process (no Telegram: the command line only talks to the socket)."""
    from bot.control import ControlServer, socket_path
    from storage.async_store import AsyncKnowledgeStore
    from storage.qdrant.index import QdrantIndex
    from storage.store import KnowledgeStore
    from tests.fakes.embedding import test_embedder

    store = AsyncKnowledgeStore(
        KnowledgeStore(QdrantIndex(path=data_dir / "qdrant"), test_embedder())
    )
    server = ControlServer(store, socket_path(data_dir))
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        if not asyncio.run_coroutine_threadsafe(server.start(), loop).result(30):
            raise SystemExit("bench_cli: the bot's socket could not be made")
        yield
    finally:
        asyncio.run_coroutine_threadsafe(server.close(), loop).result(30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(30)
        store.close()


def _imports(argv: list[str], env: dict[str, str]) -> tuple[list[tuple[str, float]], bool]:
    """What one run imports (``-X importtime``): the top-level imports of 50 ms or more, with
    their cumulative seconds, and whether fastembed was loaded."""
    done = subprocess.run(
        [str(PYTHON), "-X", "importtime", "-m", "bot", *argv],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    top: list[tuple[str, float]] = []
    fastembed = False
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        _, cumulative, name = line.split("|", 2)
        if not cumulative.strip().isdigit():
            continue  # the header line
        seconds = int(cumulative) / 1e6
        if name.strip() == "fastembed" and seconds > 0.01:
            fastembed = True
        if name.startswith(" ") and not name.startswith("  ") and seconds >= 0.05:
            top.append((name.strip(), seconds))
    return sorted(top, key=lambda t: -t[1]), fastembed


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PAPERTUTOR_", "OPENAI_"))}
        env |= {
            "HF_HUB_OFFLINE": "1",
            "PAPERTUTOR_DATA_DIR": str(Path(tmp) / "data"),
            "PAPERTUTOR_EMBEDDING_MODEL": MODEL_NAME,
            "PAPERTUTOR_EMBEDDING_MODEL_PATH": str(MODEL_DIR),
            "OPENAI_API_KEY": "unused",
        }
        subtitle = Path(tmp) / "lecture.srt"
        subtitle.write_text(_SRT, encoding="utf-8")
        _run(["ingest", str(subtitle), "--chat", "1", "--title", "Attention"], env)
        commands = [["--help"], ["sources", "--chat", "1"], ["notes", "--chat", "1"]]
        help_t, sources_t, notes_t = _rounds(commands, env)
        imported, fastembed = _imports(["sources", "--chat", "1"], env)
        with _running_bot(Path(tmp) / "data"):
            bot_sources_t, bot_notes_t = _rounds(commands[1:], env)
            bot_imported, _ = _imports(["sources", "--chat", "1"], env)
        rows = [
            ("--help", "`papertutor --help`", help_t),
            ("sources", "`papertutor sources --chat 1`", sources_t),
            ("notes", "`papertutor notes --chat 1`", notes_t),
            ("sources", "`papertutor sources --chat 1`, the bot running", bot_sources_t),
            ("notes", "`papertutor notes --chat 1`, the bot running", bot_notes_t),
        ]
    load = os.getloadavg()
    lines = [
        SECTION,
        "",
        f"Command: `{COMMAND}` ({time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} cores, "
        f"load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} "
        "(1/5/15 min) at the end). Wall time of a fresh `.venv/bin/papertutor` process, "
        f"start to exit, {RUNS} runs each (the three commands in turn), and its CPU time "
        "(user + system); `sources` and `notes` read a chat holding one subtitle file, first "
        "opening the store themselves (nothing else running), then while a stand-in for the bot "
        "holds the store and answers on its socket (`bot.control`), as in production. "
        "Before issue 12: `--help` 5.7 s, `sources` 8-9 s on a busy 2-core machine.",
        "",
        "| command | median s | min s | max s | CPU s, median | goal s |",
        "|---|---|---|---|---|---|",
    ]
    walls = {label: [wall for wall, _ in runs] for _, label, runs in rows}
    lines += [
        f"| {label} | {statistics.median(walls[label]):.2f} | {min(walls[label]):.2f} "
        f"| {max(walls[label]):.2f} | {statistics.median(cpu for _, cpu in runs):.2f} "
        f"| ≤ {GOALS[key]} |"
        for key, label, runs in rows
    ]
    goals = [
        f"- {label}: median {statistics.median(walls[label]):.2f} s, goal ≤ {GOALS[key]} s: "
        + ("met" if statistics.median(walls[label]) <= GOALS[key] else "MISSED")
        for key, label, _ in rows
    ]
    heavy = ", ".join(f"`{name}` {seconds:.2f} s" for name, seconds in imported)
    bot_heavy = ", ".join(f"`{name}` {seconds:.2f} s" for name, seconds in bot_imported) or "none"
    lines += [
        "",
        *goals,
        "",
        "What one `sources` run imports (`-X importtime`, top-level imports of 50 ms or more, "
        f"cumulative): {heavy}. fastembed "
        + ("was" if fastembed else "was not")
        + " imported (qdrant-client would import it for helpers of its own; "
        "`storage/embedding/fastembed_import.py` keeps it out). The store cannot be read without "
        "qdrant_client, which is most of what is left. With the bot running, the command asks "
        f"it over `DATA_DIR/bot.sock` and imports (50 ms or more): {bot_heavy}.",
    ]
    section = "\n".join(lines) + "\n"
    print(section)
    write_section(SECTION, section)
    return 0


if __name__ == "__main__":
    if not (MODEL_DIR / "model.onnx").is_file():
        print(f"bench_cli: test model missing at {MODEL_DIR}; skipped")
        raise SystemExit(0)
    raise SystemExit(main())
