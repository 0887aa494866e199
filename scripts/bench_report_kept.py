"""A report that survives: model calls and seconds of a fresh report against a second one.

The real paper and lecture of the corpus (Attention Is All You Need and 3Blue1Brown's
subtitles; generated ones when the corpus is absent) in the real store with the test embedder,
written by the fake model (a cooperative writer that answers each call after ``--latency``
seconds, like a hosted model). Scenarios, each on its own ``ReportBuilder`` (a new process):

1. a fresh report;
2. a report whose section (3) call fails (HTTP 500, retried once), then ``/report`` again;
3. ``/report md`` once the report is kept whole and nothing changed;
4. section (3) written again (🔄 / ``--section 3``).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

from scripts.benchlib import MODEL_DIR, corpus_dir, write_section

SECTION = "## A report that survives (issues 13 and 17)"
CHAT = 7


async def run(latency: float) -> dict[str, tuple[int, float]]:
    from bot.llm import OpenAIChatModel
    from bot.report import ReportBuilder
    from bot.report.prompts import VERIFY_SYSTEM
    from ingest.paper.pdf import parse_pdf
    from ingest.video.transcript import video_source_from_subtitles
    from storage.async_store import AsyncKnowledgeStore
    from storage.kept_reports import KeptReports
    from storage.qdrant.index import QdrantIndex
    from storage.store import KnowledgeStore
    from tests.bot.report.support import cooperative, prompt_of
    from tests.fakes.embedding import test_embedder
    from tests.fakes.openai_server import FakeOpenAI, Status
    from tests.fakes.pdfs import make_paper_pdf
    from tests.fakes.subtitle_samples import lecture_srt

    corpus = corpus_dir()
    pdf = corpus / "papers" / "1706.03762.pdf"
    srt = corpus / "subtitles" / "3b1b-attention" / "en.srt"
    data = pdf.read_bytes() if pdf.is_file() else make_paper_pdf()
    paper = parse_pdf(data, filename="paper.pdf")
    subtitles = srt.read_bytes() if srt.is_file() else lecture_srt(8).encode()
    talk = video_source_from_subtitles(
        subtitles, filename="talk.srt", url="https://youtu.be/eMlx5fFNoYc"
    )
    failing = {"on": False}

    def model_reply(body: dict[str, Any]) -> Any:
        tech = "请撰写报告的“（3）关键技术解析”部分" in prompt_of(body)
        if failing["on"] and tech and body["messages"][0]["content"] != VERIFY_SYSTEM:
            return Status(500, '{"error": {"message": "overloaded"}}')
        return cooperative(body)

    results: dict[str, tuple[int, float]] = {}
    with FakeOpenAI(delay_s=latency) as llm, tempfile.TemporaryDirectory() as tmp:
        llm.set_default(model_reply)
        core = KnowledgeStore(QdrantIndex(path=Path(tmp) / "qdrant"), test_embedder())
        core.add_source(CHAT, paper)
        core.add_source(CHAT, talk)
        store = AsyncKnowledgeStore(core)
        model = OpenAIChatModel(llm.base_url, "k", "bench", max_retries=1, retry_backoff_s=0.1)

        async def build(name: str, kept: Path, **kw: Any) -> None:
            builder = ReportBuilder(store, model, kept=KeptReports(kept))
            calls, started = len(llm.requests), time.monotonic()
            try:
                await builder.build(CHAT, **kw)
            except Exception as exc:  # the failing scenario: counted, then continued
                print(f"{name}: {type(exc).__name__}", file=sys.stderr)
            results[name] = (len(llm.requests) - calls, time.monotonic() - started)

        try:
            await build("warm-up", Path(tmp) / "w")  # the embedder's first run: not counted
            await build("fresh", Path(tmp) / "a")
            failing["on"] = True
            await build("failed", Path(tmp) / "b")
            failing["on"] = False
            await build("continued", Path(tmp) / "b")
            await build("reused", Path(tmp) / "b")
            await build("section", Path(tmp) / "b", section=3)
        finally:
            await model.aclose()
            store.close()
            core.close()
    return results


def render(results: dict[str, tuple[int, float]], latency: float, real: bool, load: float) -> str:
    rows = [
        ("fresh report", "fresh"),
        ("section (3) fails (HTTP 500, retried once)", "failed"),
        ("`/report` again after that failure", "continued"),
        ("`/report md` again, nothing changed", "reused"),
        ("🔄 section (3) only", "section"),
    ]
    material = (
        "Attention Is All You Need (corpus PDF) + 3Blue1Brown en.srt"
        if real
        else "generated paper and subtitles (corpus absent)"
    )
    lines = [
        SECTION,
        "",
        f"Command: `.venv/bin/python -m scripts.bench_report_kept --latency {latency}` "
        f"({date.today().isoformat()}, 2 cores shared with two other engineers' work, load "
        f"average {load:.1f}). "
        f"{material}; real store and test embedder; the fake model is a cooperative writer "
        f"answering each call after {latency} s. Each row is a new `ReportBuilder` over the "
        "kept reports on disk (as after a restart), after one warm-up report that is not "
        "counted. Model calls: each section's draft and the model's check of its citations.",
        "",
        "| scenario | model calls | seconds |",
        "|---|---|---|",
    ]
    lines += [f"| {label} | {results[k][0]} | {results[k][1]:.1f} |" for label, k in rows]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--latency", type=float, default=1.0, help="seconds per model call")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args(argv)
    if not (MODEL_DIR / "tokenizer.json").is_file():
        print(f"skipped: the test model is missing at {MODEL_DIR} (run make test)")
        return 0
    results = asyncio.run(run(args.latency))
    real = (corpus_dir() / "papers" / "1706.03762.pdf").is_file()
    text = render(results, args.latency, real, os.getloadavg()[0])
    print(text)
    if not args.no_write:
        write_section(SECTION, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
