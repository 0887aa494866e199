"""Run every benchmark in turn (``make bench``): storage, video, PDF stalls, figures, Telegram
load, answer rendering, resilience, speech recognition, study tools, start-up messages, CLI
start-up, and the kill -9 loops of crash recovery.

    .venv/bin/python -m scripts.bench

Each benchmark runs as its own ``python -m`` process (a fresh interpreter: one embedded Qdrant
client per process, no state carried over). A benchmark that skips (no corpus, no test model)
or fails does not stop the others; the exit status is 1 if any failed.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

__all__ = ["BENCHMARKS", "main"]

ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS = (
    "scripts.bench_storage",
    "scripts.bench_video",
    "scripts.bench_pdf_stall",
    "scripts.bench_figures",
    "scripts.bench_telegram",
    "scripts.bench_render",
    "scripts.bench_resilience",
    "scripts.bench_report_kept",
    "scripts.bench_asr",
    "scripts.bench_study",
    "scripts.bench_startup",
    "scripts.bench_cli",
    "scripts.crash_loop",
)


def main() -> int:
    failed = []
    for module in BENCHMARKS:
        print(f"== {module}", flush=True)
        start = time.monotonic()
        code = subprocess.call([sys.executable, "-m", module], cwd=ROOT)
        print(f"== {module}: exit {code} after {time.monotonic() - start:.0f} s", flush=True)
        if code != 0:
            failed.append(module)
    if failed:
        print("failed: " + ", ".join(failed), file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
