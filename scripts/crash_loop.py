"""kill -9 at random points of ingestion and re-ingestion; after each kill: reopen, recover, check.

    .venv/bin/python -m scripts.crash_loop [--cycles 200] [--cli-cycles 20] [--seed 1]

Store loop: a worker process re-ingests one source (a new version each time, same source id)
and then ingests a new one, into an embedded store, and is killed with SIGKILL at a random
moment: after a random delay, or a few milliseconds after a random indexing batch. Workers are
forked from a "zygote" process that has the store's modules loaded, so a cycle costs
milliseconds, not an interpreter start. After each kill the store is opened again (which
recovers it) and checked:

- lost: the re-ingested source is not READY with one whole version (the old or the new one);
- leftovers: a source still INDEXING, or with a pending version, after the open;
- orphans: chunks of a version no READY source points to.

CLI loop (needs the test model and the corpus): ``papertutor ingest`` of a lecture's subtitles
(English and Chinese in turn, tied to the same video URL, so each run replaces the other) is
killed at a random moment, then ``papertutor sources`` (the next open) must show the lecture
READY and nothing INDEXING, and the store must hold no orphan chunk.

Prints a Markdown section and rewrites "## Crash recovery (issue 14)" in BENCHMARKS.md;
``tests/storage/test_kill_loop.py`` runs the store loop in CI size.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import queue
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from kernel.models import Chunk, PaperMeta, ParsedSource, SourceKind, SourceRecord, SourceStatus
from storage.qdrant.index import QdrantIndex
from storage.recovery import load
from storage.store import KnowledgeStore, source_id_for
from tests.fakes.embedding import HashEmbedder

__all__ = ["HashEmbedder", "Tally", "Zygote", "check_store", "run_store_loop"]

ROOT = Path(__file__).resolve().parents[1]
SECTION = "## Crash recovery (issue 14)"
COMMAND = ".venv/bin/python -m scripts.crash_loop"
CHAT = 7
MAIN = "sha256:crash-loop-main"  # the source every cycle re-ingests
CHUNKS, EXTRA_CHUNKS, BATCH = 40, 12, 4
VIDEO_URL = "https://youtu.be/eMlx5fFNoYc"
# Per passage batch of the stand-in embedder: a real model takes longer, so kills land inside
# indexing too.
INDEXING_DELAY_S = 0.004


def version_texts(version: int) -> tuple[str, ...]:
    """The texts of one version of the re-ingested source (versions differ in every chunk)."""
    return tuple(f"Version {version} passage {i}: attention weights tokens." for i in range(CHUNKS))


def _paper(fingerprint: str, texts: Sequence[str], title: str) -> ParsedSource:
    return ParsedSource(
        kind=SourceKind.PAPER,
        fingerprint=fingerprint,
        paper=PaperMeta(title=title, pages=len(texts)),
        chunks=tuple(Chunk(ordinal=i, text=t, page=i + 1) for i, t in enumerate(texts)),
    )


def _open(data: Path, delay_s: float = 0.0) -> KnowledgeStore:
    return KnowledgeStore(QdrantIndex(path=data), HashEmbedder(delay_s), batch_size=BATCH)


# -- the worker and the zygote that forks it ------------------------------------------------------


def _say(line: str) -> None:
    os.write(1, f"{os.getpid()} {line}\n".encode())  # unbuffered: the parent acts on it at once


def _work(data: Path, cycle: int) -> None:
    store = _open(data, INDEXING_DELAY_S)
    _say("open")
    store.add_source(
        CHAT,
        _paper(MAIN, version_texts(cycle % 2), f"Main v{cycle % 2}"),
        lambda done, total: _say(f"progress {done}"),
    )
    _say("replaced")
    extra = tuple(f"Cycle {cycle} extra passage {i}." for i in range(EXTRA_CHUNKS))
    store.add_source(
        CHAT,
        _paper(f"sha256:extra-{cycle}", extra, f"Extra {cycle}"),
        lambda done, total: _say(f"progress {CHUNKS + done}"),
    )
    _say("done")
    store.close()


def _zygote() -> None:
    """Read one JSON command per line; fork a worker for it; report its pid and its end."""
    _say("ready")
    for line in sys.stdin:
        command = json.loads(line)
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                _work(Path(command["data"]), int(command["cycle"]))
            except BaseException:  # a worker bug must show, not hang the loop
                import traceback

                traceback.print_exc()
                code = 1
            os._exit(code)
        os.write(1, f"{os.getpid()} pid {pid}\n".encode())
        _, status = os.waitpid(pid, 0)
        os.write(1, f"{os.getpid()} exit {pid} {status}\n".encode())


class Zygote:
    """The zygote process, and the lines its workers print (``pid word [number]``)."""

    def __init__(self) -> None:
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "scripts.crash_loop", "--zygote"],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        self._lines: queue.Queue[list[str]] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self._expect("ready", timeout=120)

    def _read(self) -> None:
        assert self._proc.stdout is not None
        for line in self._proc.stdout:
            self._lines.put(line.split())

    def _next(self, timeout: float) -> list[str]:
        try:
            return self._lines.get(timeout=timeout)
        except queue.Empty:
            raise TimeoutError("the crash-loop zygote went quiet") from None

    def _expect(self, word: str, timeout: float) -> list[str]:
        while True:
            parts = self._next(timeout)
            if len(parts) >= 2 and parts[1] == word:
                return parts

    def start(self, data: Path, cycle: int) -> int:
        assert self._proc.stdin is not None
        self._proc.stdin.write(json.dumps({"data": str(data), "cycle": cycle}) + "\n")
        self._proc.stdin.flush()
        return int(self._expect("pid", timeout=60)[2])

    def events(self, timeout: float, tick: float = 0.001) -> Iterator[list[str] | None]:
        """Worker lines as they come (``[pid, word, *rest]``), None every ``tick`` s without."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                yield self._lines.get(timeout=tick)
            except queue.Empty:
                yield None
        raise TimeoutError("a crash-loop worker did not finish")

    def close(self) -> None:
        if self._proc.stdin is not None:
            self._proc.stdin.close()
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        if self._proc.stdout is not None:
            self._proc.stdout.close()

    def __enter__(self) -> Zygote:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# -- checking -------------------------------------------------------------------------------------


@dataclass
class Observed:
    """One check of the store after a kill (the open that does it recovers the store)."""

    lost: bool
    leftovers: int
    orphans: int
    rolled_back: int
    problems: list[str] = field(default_factory=list)


def check_store(data: Path, main_id: str, versions: Sequence[set[str]]) -> Observed:
    """Open the store (recovering it) and check the source ``main_id`` and every chunk."""
    store = _open(data)
    try:
        recovery = store.recover()
        records = store.sources(CHAT)
        problems: list[str] = []
        leftovers = sum(r.status is SourceStatus.INDEXING or r.pending is not None for r in records)
        if leftovers:
            problems.append(f"{leftovers} source(s) unfinished after the open")
        main = next((r for r in records if r.source_id == main_id), None)
        texts = {c.text for c in store.chunks(CHAT, main_id)} if main else set()
        lost = main is None or main.status is not SourceStatus.READY or texts not in versions
        if lost:
            problems.append(f"the re-ingested source is not whole: {main and main.status}")
        for r in records:
            if r.status is SourceStatus.FAILED and r.chunks:
                problems.append(f"a failed source claims {r.chunks} chunks")
        live = {
            (CHAT, r.source_id, r.generation)
            for r in records
            if r.status is SourceStatus.READY and r.chunks
        }
        groups = store.index.chunk_groups()
        orphans = sum(n for key, n in groups.items() if key not in live)
        # Search sees exactly the live versions: no half-indexed or replaced chunk.
        allowed = {c.text for r in records for c in store.chunks(CHAT, r.source_id)}
        found = {h.text for h in store.search(CHAT, "passage attention tokens", k=200)}
        if not found <= allowed or (texts and not found & texts):
            problems.append("search shows chunks of a version that is not live")
            lost = True
        missing = [r.title for r in records if r.status is SourceStatus.READY and r.chunks
                   and groups.get((CHAT, r.source_id, r.generation), 0) != r.chunks]  # fmt: skip
        if orphans:
            problems.append(f"{orphans} orphan chunk(s)")
        if missing:
            lost = True
            problems.append(f"sources missing chunks: {missing}")
        return Observed(lost, leftovers, orphans, len(recovery.interrupted), problems)
    finally:
        store.close()


@dataclass
class Tally:
    """The figures of a loop."""

    cycles: int = 0
    killed: int = 0  # killed before the worker finished
    finished: int = 0
    rolled_back: int = 0  # interrupted ingestions the next open rolled back
    lost: int = 0
    leftovers: int = 0
    orphans: int = 0
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)

    def add(self, seen: Observed, cycle: int) -> None:
        self.cycles += 1
        self.rolled_back += seen.rolled_back
        self.lost += int(seen.lost)
        self.leftovers += seen.leftovers
        self.orphans += seen.orphans
        self.problems += [f"cycle {cycle}: {p}" for p in seen.problems]


def _run_worker(zygote: Zygote, data: Path, cycle: int, rng: random.Random, span: float) -> bool:
    """One worker, killed at a random moment; True if it was killed before finishing."""
    pid = zygote.start(data, cycle)
    started = time.monotonic()
    by_progress = rng.random() < 0.5
    batches = (CHUNKS + EXTRA_CHUNKS) // BATCH
    kill_at_batch = rng.randint(1, batches)
    kill_after = rng.uniform(0, span)
    killed = False
    for parts in zygote.events(timeout=120):
        if parts is None:
            pass
        elif parts[0] == str(pid) and parts[1] == "progress" and by_progress and not killed:
            if int(parts[2]) >= kill_at_batch * BATCH:
                time.sleep(rng.uniform(0, 0.006))  # land before, in or after the next write
                killed = _kill(pid)
        elif parts[1] == "exit" and parts[2] == str(pid):
            return killed
        if not by_progress and not killed and time.monotonic() - started >= kill_after:
            killed = _kill(pid)
    raise AssertionError("unreachable")  # events() raises on a timeout


def _kill(pid: int) -> bool:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
        return True
    return False


def run_store_loop(workdir: Path, cycles: int, seed: int = 1) -> Tally:
    """The store loop (see the module docstring): ``cycles`` kills after one uncut ingestion."""
    rng = random.Random(seed)
    data = workdir / "qdrant"
    main_id = source_id_for(CHAT, MAIN)
    versions = [set(version_texts(0)), set(version_texts(1))]
    tally = Tally()
    began = time.monotonic()
    with Zygote() as zygote:
        first = time.monotonic()
        zygote.start(data, 0)
        for parts in zygote.events(timeout=120):
            if parts is not None and parts[1] == "exit":
                if parts[3] != "0":
                    raise AssertionError("the first, uncut ingestion failed")
                break
        span = (time.monotonic() - first) * 1.1  # kill times cover a whole run
        for cycle in range(1, cycles + 1):
            killed = _run_worker(zygote, data, cycle, rng, span)
            tally.killed += int(killed)
            tally.finished += int(not killed)
            tally.add(check_store(data, main_id, versions), cycle)
    tally.seconds = time.monotonic() - began
    return tally


# -- the CLI loop (script only) -------------------------------------------------------------------


def _cli_env(data_dir: Path) -> dict[str, str]:
    from scripts.benchlib import MODEL_DIR, MODEL_NAME

    env = dict(os.environ)
    for name in ("PAPERTUTOR_QDRANT_URL", "PAPERTUTOR_EMBEDDING_URL"):
        env.pop(name, None)
    env |= {
        "HF_HUB_OFFLINE": "1",
        "PAPERTUTOR_DATA_DIR": str(data_dir),
        "PAPERTUTOR_EMBEDDING_MODEL": MODEL_NAME,
        "PAPERTUTOR_EMBEDDING_MODEL_PATH": str(MODEL_DIR),
        "OPENAI_API_KEY": "unused-by-these-commands",
    }
    return env


def run_cli_loop(workdir: Path, cycles: int, seed: int = 1) -> Tally | None:
    """The CLI loop; None when the corpus or the test model is missing."""
    from scripts.benchlib import MODEL_DIR, corpus_dir

    folder = corpus_dir() / "subtitles" / "3b1b-attention"
    files = [folder / "en.srt", folder / "zh.srt"]
    if not all(f.is_file() for f in files) or not (MODEL_DIR / "model.onnx").is_file():
        return None
    rng = random.Random(seed)
    data_dir = workdir / "cli"
    env = _cli_env(data_dir)
    cli = [str(ROOT / ".venv" / "bin" / "papertutor")]

    def ingest(path: Path) -> subprocess.Popen[str]:
        argv = [*cli, "ingest", str(path), "--chat", str(CHAT), "--url", VIDEO_URL, "--json"]
        return subprocess.Popen(
            argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )

    tally = Tally()
    began = time.monotonic()
    first = time.monotonic()
    out, _ = ingest(files[0]).communicate(timeout=600)
    span = time.monotonic() - first
    video_id = json.loads(out)["source_id"]
    for cycle in range(1, cycles + 1):
        proc = ingest(files[cycle % 2])
        try:
            proc.wait(timeout=rng.uniform(0.2, span * 1.1))
            tally.finished += 1
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            tally.killed += 1
        proc.communicate()
        listing = subprocess.run(
            [*cli, "sources", "--chat", str(CHAT), "--json"],
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        sources = json.loads(listing.stdout)["sources"]
        seen = Observed(lost=False, leftovers=0, orphans=0, rolled_back=0)
        if "papertutor:" in listing.stderr and any(
            word in listing.stderr for word in ("rolled back", "回滚")
        ):
            seen.rolled_back = 1
        statuses = {s["source_id"]: s["status"] for s in sources}
        seen.leftovers = sum(s == "indexing" for s in statuses.values())
        seen.lost = statuses.get(video_id) != "ready"
        seen.orphans = _orphans(data_dir / "qdrant")
        if seen.lost or seen.leftovers or seen.orphans:
            seen.problems.append(f"sources {statuses}, orphans {seen.orphans}")
        tally.add(seen, cycle)
    tally.seconds = time.monotonic() - began
    return tally


def _orphans(path: Path) -> int:
    """Chunks no READY source points to, read without recovering (the CLI already did)."""
    index = QdrantIndex(path=path)
    try:
        records = [load(SourceRecord, p) for p in index.all_records("sources")]
        live = {
            (r.chat_id, r.source_id, r.generation)
            for r in records
            if r.status is SourceStatus.READY
        }
        return sum(n for key, n in index.chunk_groups().items() if key not in live)
    finally:
        index.close()


# -- report ----------------------------------------------------------------------------------------


def _row(name: str, t: Tally) -> str:
    return (
        f"| {name} | {t.cycles} | {t.killed} | {t.rolled_back} | {t.lost} | {t.leftovers} | "
        f"{t.orphans} | {t.seconds:.0f} |"
    )


def _section(store: Tally, cli: Tally | None, seed: int) -> str:
    load = os.getloadavg()[0]
    lines = [
        SECTION,
        "",
        f"Command: `{COMMAND} --cycles {store.cycles} --cli-cycles {cli.cycles if cli else 0} "
        f"--seed {seed}` ({time.strftime('%Y-%m-%d')}, 2 cores shared with other work, load "
        f"average {load:.1f} at the end). Each cycle kills an ingestion with SIGKILL at a random "
        "moment (a random delay, or just after a random indexing batch), then opens the store "
        "again, which recovers it, and checks it. Store loop: a worker re-ingests one source "
        "(a new version every cycle, 40 chunks) and then adds a new one (12 chunks), embedded "
        "Qdrant, a hashing stand-in for the embedding model. CLI loop: `papertutor ingest` of "
        "the 3Blue1Brown attention subtitles (English and Chinese in turn, same video URL, so "
        "each replaces the other; offline test model), then `papertutor sources`.",
        "",
        "| loop | cycles | killed mid-way | rolled back on the next open | sources lost | "
        "`indexing` left after the next open | orphan chunks left | seconds |",
        "|---|---|---|---|---|---|---|---|",
        _row("store (kill -9 of a worker process)", store),
    ]
    if cli is not None:
        lines.append(_row("CLI (`papertutor ingest` killed)", cli))
    else:
        lines.append("| CLI | skipped: corpus or test model missing | | | | | | |")
    lines += [
        "",
        "Goal: 0 sources lost, 0 `indexing` leftovers, 0 orphan chunks. "
        "`tests/storage/test_kill_loop.py` runs the store loop (20+ cycles) in `make test`; "
        "`tests/storage/test_recovery.py` kills an ingestion after each one of its writes.",
    ]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cycles", type=int, default=200, help="store-loop kills")
    parser.add_argument("--cli-cycles", type=int, default=20, help="CLI-loop kills")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--zygote", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.zygote:
        _zygote()
        return 0
    from scripts.benchlib import write_section

    with tempfile.TemporaryDirectory() as tmp:
        store = run_store_loop(Path(tmp), args.cycles, args.seed)
        cli = run_cli_loop(Path(tmp), args.cli_cycles, args.seed) if args.cli_cycles else None
    section = _section(store, cli, args.seed)
    print(section)
    for problem in store.problems + (cli.problems if cli else []):
        print("PROBLEM", problem, file=sys.stderr)
    write_section(SECTION, section)
    bad = store.lost + store.leftovers + store.orphans
    if cli is not None:
        bad += cli.lost + cli.leftovers + cli.orphans
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
