"""The forkserver every child process of the bot comes from (PDF parsing, speech recognition).

One server per bot process: it imports ``__main__``, the PDF parser and the page renderer once,
so a child starts in milliseconds; children that need other heavy modules (faster-whisper)
import them after the fork, once per long-lived child.
"""

from __future__ import annotations

import functools
import multiprocessing
from multiprocessing.context import BaseContext

__all__ = ["context"]


@functools.cache
def context() -> BaseContext:
    ctx = multiprocessing.get_context("forkserver")
    # The server imports __main__ once (children then skip re-importing it), the parser and
    # the page renderer.
    ctx.set_forkserver_preload(["__main__", "ingest.paper.pdf", "ingest.paper.render"])
    return ctx
