"""Measuring an asyncio event loop under load: percentiles, stalls, and where the loop stalled.

``StallMonitor.run()`` is a task that sleeps ``tick`` seconds in a loop and records how late
each wake-up is: a wake-up ``x`` s late means nothing else could run on the loop for about
``x`` s; the loop thread's CPU time over the same sleep tells whether the loop was busy
with its own work then (CPU ~ lateness) or waited for the GIL or a core (CPU << lateness).
``Watchdog`` is a thread that, while the monitor's heartbeat is late, samples every
thread's Python stack: the loop thread's frame shows blocking work done on the loop itself;
busy worker threads show who held the GIL (or the CPU) meanwhile.
"""

from __future__ import annotations

import asyncio
import sys
import threading
import time
from pathlib import Path
from types import FrameType

__all__ = ["StallMonitor", "Watchdog", "describe_stack"]

ROOT = Path(__file__).resolve().parents[1]
# Frames of threads that are idle (waiting for work, a socket or a lock): not culprits.
_OURS = ("bot", "ingest", "storage")
_IDLE = ("threading.py", "queue.py", "selectors.py", "socketserver.py", "thread.py", "ssl.py")


class StallMonitor:
    """Records (wake-up time, lateness, loop-thread CPU s) of a ``tick`` s sleep on the loop."""

    def __init__(self, tick: float = 0.010) -> None:
        self.tick = tick
        self.samples: list[tuple[float, float, float]] = []
        self.beat = time.monotonic()
        """Last wake-up (the watchdog reads it from its thread)."""

    async def run(self) -> None:
        self.beat = time.monotonic()
        while True:
            before, cpu = time.monotonic(), time.thread_time()
            await asyncio.sleep(self.tick)
            self.beat = time.monotonic()
            late = self.beat - before - self.tick
            self.samples.append((self.beat, late, time.thread_time() - cpu))

    def max_stall(self, start: float, end: float) -> float:
        """The largest lateness of wake-ups between ``start`` and ``end`` (0 if none)."""
        return max((late for at, late, _ in self.samples if start <= at <= end), default=0.0)


def _where(frame: FrameType) -> str:
    parts = Path(frame.f_code.co_filename).parts
    if "site-packages" in parts:
        name = "/".join(parts[parts.index("site-packages") + 1 :])
    elif Path(*parts).is_relative_to(ROOT):
        name = str(Path(*parts).relative_to(ROOT))
    else:
        name = parts[-1]
    return f"{name}:{frame.f_lineno} {frame.f_code.co_name}"


def describe_stack(frame: FrameType | None, depth: int = 3) -> str:
    """The innermost frame, plus the innermost frames of this project's code (bot/ingest/...)."""
    if frame is None:
        return "?"
    inner = _where(frame)
    ours: list[str] = []
    while frame is not None and len(ours) < depth:
        path = Path(frame.f_code.co_filename)
        if path.is_relative_to(ROOT) and path.parts[len(ROOT.parts)] in _OURS:
            ours.append(_where(frame))
        frame = frame.f_back
    return " <- ".join(dict.fromkeys([inner, *ours]))


def _idle(frame: FrameType) -> bool:
    return Path(frame.f_code.co_filename).name in _IDLE


class Watchdog:
    """A thread sampling all stacks while the loop's heartbeat is more than ``threshold`` late."""

    def __init__(self, monitor: StallMonitor, threshold: float = 0.030, every: float = 0.005):
        self.monitor = monitor
        self.threshold = threshold
        self.every = every
        self.loop_thread = threading.get_ident()  # built on the loop's thread
        self.samples: list[tuple[float, str, list[str]]] = []
        """(time, the loop thread's stack, busy other threads' stacks)."""
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="stall-watchdog", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=2)

    def _run(self) -> None:
        last = 0.0
        while not self._stop.wait(self.every):
            now = time.monotonic()
            if now - self.monitor.beat - self.monitor.tick < self.threshold or now - last < 0.02:
                continue
            last = now
            frames = sys._current_frames()
            loop = describe_stack(frames.get(self.loop_thread))
            others = [
                describe_stack(f)
                for tid, f in frames.items()
                if tid not in (self.loop_thread, threading.get_ident()) and not _idle(f)
            ]
            self.samples.append((now, loop, others))

    def top_stalls(
        self, monitor: StallMonitor, start: float, end: float, n: int = 5
    ) -> list[tuple[float, float, list[str]]]:
        """The ``n`` largest stalls in [start, end]: (offset from start, lateness, evidence).

        Evidence: the loop thread's CPU time meanwhile, then the distinct stacks sampled
        during the stall.
        """
        stalls = sorted((s for s in monitor.samples if start <= s[0] <= end), key=lambda s: -s[1])[
            :n
        ]
        out = []
        for at, late, cpu in stalls:
            began = at - late - monitor.tick
            seen: dict[str, None] = {f"loop thread CPU {cpu * 1000:.0f} ms": None}
            for when, loop, others in self.samples:
                if began <= when <= at:
                    seen[f"loop at {loop}"] = None
                    seen.update(dict.fromkeys(f"busy: {o}" for o in others))
            out.append((at - start, late, list(seen)[:7]))
        return out
