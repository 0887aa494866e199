"""How long PDF parsing freezes the bot's event loop: in a worker thread vs in a child process.

    .venv/bin/python -m scripts.bench_pdf_stall

The bot parses PDFs off the event loop; pymupdf still holds the GIL for as long as one call
into MuPDF lasts (a whole page, OCR included), so a thread is not enough. For a text PDF (T5,
67 pages) and a scanned one (backprop_old.pdf, OCR), the parse runs once in a worker thread
(``ingest.paper.pdf.parse_pdf``) and once in a child process (``ingest.paper.pdf_process``)
while a probe sleeps 10 ms on the loop and records how late it wakes up. Prints a Markdown
section and rewrites it in BENCHMARKS.md; skips a file that is not in the corpus.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable
from datetime import date

from ingest.paper.pdf import parse_pdf
from ingest.paper.pdf_process import parse_pdf_isolated
from kernel.models import ParsedSource
from scripts.benchlib import corpus_dir, write_section

__all__ = ["main"]

SECTION = "## PDF parsing and the event loop (issue 5)"
COMMAND = ".venv/bin/python -m scripts.bench_pdf_stall"
FILES = (
    (
        "T5 (67 pages, text)",
        "Exploring the Limits of Transfer Learning with a Unified Text-to-Text Transformer .pdf",
    ),
    ("backprop_old.pdf (4 pages, scanned: OCR)", "backprop_old.pdf"),
)
WAYS: tuple[tuple[str, Callable[..., ParsedSource]], ...] = (
    ("worker thread (`parse_pdf`)", parse_pdf),
    ("child process (`parse_pdf_isolated`)", parse_pdf_isolated),
)


async def _measure(parse: Callable[..., ParsedSource], data: bytes) -> tuple[float, float, int]:
    """(seconds to parse, largest loop stall in s, chunks)."""
    worst, done = 0.0, False

    async def probe() -> None:
        nonlocal worst
        while not done:
            start = time.monotonic()
            await asyncio.sleep(0.01)
            worst = max(worst, time.monotonic() - start - 0.01)

    ticking = asyncio.get_running_loop().create_task(probe())
    start = time.monotonic()
    parsed = await asyncio.to_thread(parse, data, filename="bench.pdf")
    elapsed = time.monotonic() - start
    done = True
    await ticking
    return elapsed, worst, len(parsed.chunks)


def main() -> int:
    from tests.fakes.pdfs import make_paper_pdf

    awkward = corpus_dir() / "awkward"
    parse_pdf_isolated(make_paper_pdf())  # starts the forkserver once, as a running bot has
    rows = []
    for label, name in FILES:
        path = awkward / name
        if not path.is_file():
            print(f"skipped: {path} not found")
            continue
        data = path.read_bytes()
        for way, parse in WAYS:
            print(f"{label}: {way}...", flush=True)
            seconds, stall, chunks = asyncio.run(_measure(parse, data))
            rows.append(f"| {label} | {way} | {seconds:.1f} | {stall * 1000:.0f} | {chunks} |")
    if not rows:
        return 0
    text = "\n".join(
        [
            SECTION,
            "",
            f"Command: `{COMMAND}` ({date.today().isoformat()}, {os.cpu_count()} cores). "
            "Largest lateness of a 10 ms sleep on the event loop while one PDF is parsed off "
            "the loop. The child process is forked from a forkserver that has the parser "
            "loaded; the server's one-time start (~0.6 s) happens before these runs.",
            "",
            "| PDF | parsed in | seconds | largest stall, ms | chunks |",
            "|---|---|---|---|---|",
            *rows,
            "",
        ]
    )
    print(text)
    write_section(SECTION, text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
