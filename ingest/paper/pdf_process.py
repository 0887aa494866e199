"""PDF parsing (and page rendering) in a child process, so MuPDF never holds the bot's
interpreter.

pymupdf keeps the GIL for as long as one call into MuPDF lasts. Reading a text page takes
milliseconds, but OCR of one scanned page takes seconds: a 4-page scan read in a worker thread
froze the bot's event loop for 22.5 s at a time (every chat waited). Parsed in a child process,
the bot's interpreter stays free for the other chats, and a MuPDF crash on a malformed file
ends the child, not the bot.

Rendering a cited passage or a figure (``render_regions_isolated``) runs the same way: a heavy
vector page takes tens of milliseconds, a scanned one more.

Children are forked from a forkserver that has ``ingest.paper.pdf`` (pymupdf) loaded already, so
starting one costs milliseconds after the first. They run at a lower CPU priority (nice 10):
parsing is background work, the students waiting for answers come first. Progress and the
result come back over a pipe; ``progress`` is called in the calling thread, as ``parse_pdf``
would.
"""

from __future__ import annotations

import os
import traceback
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection
from typing import Any

from ingest.children import context
from ingest.paper.pdf import parse_pdf
from ingest.paper.render import render_regions
from kernel.errors import DamagedFileError, PaperTutorError
from kernel.models import Box, ParsedSource

__all__ = ["parse_pdf_isolated", "render_regions_isolated", "run_isolated"]

_JOIN_S = 5.0
_NICE = 10  # parsing yields the CPU to the bot (and its answers) on a busy machine


def _child(conn: Connection, data: bytes, options: dict[str, Any]) -> None:
    os.nice(_NICE)  # background work: the bot's answers get the CPU first

    def report(done: int, total: int) -> None:
        conn.send(("progress", done, total))

    try:
        result: tuple[Any, ...] = ("done", parse_pdf(data, progress=report, **options))
    except PaperTutorError as err:
        result = ("error", err)
    except Exception:  # a bug: the parent raises it with this traceback for the log
        result = ("bug", traceback.format_exc())
    conn.send(result)
    conn.close()


def _render_child(conn: Connection, data: bytes, options: dict[str, Any]) -> None:
    # Not niced, unlike parsing: a student is waiting for this picture right now.
    try:
        result: tuple[Any, ...] = ("done", render_regions(data, **options))
    except PaperTutorError as err:
        result = ("error", err)
    except Exception:
        result = ("bug", traceback.format_exc())
    conn.send(result)
    conn.close()


def _crashed(exitcode: int | None) -> DamagedFileError:
    return DamagedFileError("pdf_reader_crashed", exitcode=exitcode)


def parse_pdf_isolated(
    data: bytes,
    *,
    progress: Callable[[int, int], None] | None = None,
    **options: Any,
) -> ParsedSource:
    """``ingest.paper.pdf.parse_pdf(data, progress=progress, **options)`` in a child process.

    Blocks until the child is done; raises what ``parse_pdf`` raises (``InputError``
    subclasses), ``DamagedFileError`` if the child dies without an answer, and
    ``RuntimeError`` (with the child's traceback) for a bug.
    """
    parsed: ParsedSource = run_isolated(_child, data, options, progress)
    return parsed


def render_regions_isolated(data: bytes, regions: Sequence[Box], *, pad: bool = True) -> bytes:
    """``ingest.paper.render.render_regions(data, regions, pad=pad)`` (a PNG) in a child process.

    Rendering a heavy page holds MuPDF (and so the interpreter) for a while; blocks until
    the image is there. Raises what ``render_regions`` raises."""
    options = {"regions": list(regions), "pad": pad}
    png: bytes = run_isolated(_render_child, data, options, None)
    return png


def run_isolated(
    target: Callable[[Connection, bytes, dict[str, Any]], None],
    data: bytes,
    options: dict[str, Any],
    progress: Callable[[int, int], None] | None,
) -> Any:
    """Run ``target(connection, data, options)`` in a child and relay what it sends."""
    ctx = context()
    receiver, sender = ctx.Pipe(duplex=False)
    child = ctx.Process(  # type: ignore[attr-defined]
        target=target, args=(sender, data, options), name="pdf-parse", daemon=True
    )
    child.start()
    sender.close()  # only the child writes: EOF here means it is gone
    try:
        while True:
            try:
                message = receiver.recv()
            except EOFError:
                child.join(_JOIN_S)
                raise _crashed(child.exitcode) from None
            kind = message[0]
            if kind == "progress":
                if progress is not None:
                    progress(message[1], message[2])
            elif kind == "done":
                return message[1]
            elif kind == "error":
                raise message[1]
            else:
                raise RuntimeError(f"PDF work failed in the child process:\n{message[1]}")
    finally:
        receiver.close()
        child.join(_JOIN_S)
        if child.is_alive():
            child.kill()
            child.join(_JOIN_S)
