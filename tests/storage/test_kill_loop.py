"""kill -9 at random points of ingestion and re-ingestion, 24 times (``scripts/crash_loop.py``
runs the same loop longer, and through the CLI).

After every kill the store is opened again (which recovers it): the re-ingested source is
READY with one whole version, nothing is left INDEXING or pending, no chunk is an orphan, and
search sees only live versions.
"""

from __future__ import annotations

from pathlib import Path

from scripts.crash_loop import run_store_loop

CYCLES = 24


def test_random_kills_lose_nothing_and_leave_nothing_behind(tmp_path: Path) -> None:
    tally = run_store_loop(tmp_path, CYCLES, seed=14)
    assert tally.problems == []
    assert (tally.cycles, tally.lost, tally.leftovers, tally.orphans) == (CYCLES, 0, 0, 0)
    # The loop must really have cut ingestions short, and left work for recovery to undo.
    assert tally.killed >= CYCLES // 2
    assert tally.rolled_back >= CYCLES // 4
