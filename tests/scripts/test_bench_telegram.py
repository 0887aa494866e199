"""The Telegram load benchmark's measuring tools measure what they claim (the bench itself is
too slow for the suite: run ``python -m scripts.bench_telegram``)."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.request

from scripts.bench_stalls import StallMonitor, Watchdog
from tests.fakes.openai_server import FakeOpenAI


def _block_the_loop(cpu_seconds: float) -> None:
    """CPU work done on the event loop itself (e.g. parsing or pickling there)."""
    start = time.thread_time()
    while time.thread_time() - start < cpu_seconds:
        pass


async def test_monitor_and_watchdog_catch_a_blocking_call() -> None:
    monitor = StallMonitor()
    watchdog = Watchdog(monitor)
    task = asyncio.get_running_loop().create_task(monitor.run())
    watchdog.start()
    try:
        await asyncio.sleep(0.1)
        quiet_until = time.monotonic()
        _block_the_loop(0.2)
        await asyncio.sleep(0.05)
    finally:
        task.cancel()
        watchdog.stop()
    assert monitor.max_stall(0, quiet_until) < 0.1
    assert monitor.max_stall(quiet_until, time.monotonic()) >= 0.2
    # The loop thread itself was busy (CPU ~ lateness), not waiting for another thread.
    assert max(cpu for at, _, cpu in monitor.samples if at > quiet_until) >= 0.2
    [(_, late, evidence)] = watchdog.top_stalls(monitor, quiet_until, time.monotonic(), n=1)
    assert late >= 0.2
    assert evidence[0].startswith("loop thread CPU")
    assert any("_block_the_loop" in e and e.startswith("loop at") for e in evidence)


def test_fake_openai_delays_every_reply() -> None:
    with FakeOpenAI(delay_s=0.3) as srv:
        srv.set_default(lambda body: "hi")
        request = urllib.request.Request(
            srv.base_url + "/chat/completions",
            data=json.dumps({"model": "m", "messages": []}).encode(),
            headers={"Content-Type": "application/json"},
        )
        start = time.monotonic()
        with urllib.request.urlopen(request, timeout=5) as response:
            body = json.loads(response.read())
        took = time.monotonic() - start
    assert body["choices"][0]["message"]["content"] == "hi"
    assert 0.3 <= took < 2.0


def test_first_words_report_reads_the_goal_from_the_25_chat_runs() -> None:
    from scripts.bench_telegram import RunResult, render_first_words

    fast = RunResult("zh first x 25", 1.0, 25, False, "zh", kind="first")
    fast.first_words = [1.1] * 23 + [1.2] * 2  # nearest-rank p95 of 25: the 24th
    fast.latencies = [2.0] * 25
    fast.answer_call = [0.1] * 24 + [0.3]
    slow = RunResult("zh follow-up x 25", 1.0, 25, False, "zh", kind="follow-up")
    slow.first_words = [2.1] * 25
    slow.latencies = [3.0] * 25
    slow.waited = 25
    before = RunResult("zh first x 25, before", 1.0, 25, False, "zh", kind="first", baseline=True)
    before.first_words = [2.2] * 25
    text = render_first_words([fast, slow, before])
    assert "- zh, first: p95 1.20 s met" in text
    assert "- zh, follow-up: p95 2.10 s missed" in text
    assert "| 25 | 1.10 / 1.20 (2.00 / 2.00); answer call 0.10 / 0.10; 0/25 waited" in text
    assert "25/25 waited" in text
    assert "| 25 (before: rewrite first) | 2.20 / 2.20" in text
