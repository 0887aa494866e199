"""The Telegram load benchmark's measuring tools measure what they claim (the bench itself is
too slow for the suite: run ``python -m scripts.bench_telegram``)."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.request

from scripts.bench_stalls import StallMonitor, Watchdog
from tests.fake_openai import FakeOpenAI


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
