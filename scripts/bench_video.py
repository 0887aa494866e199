"""Benchmark: ingest a long real transcript (Karpathy's nanoGPT lecture, 1773 cues, 1:56:20).

Parse + chunk (median of several runs), then one full ingest into embedded Qdrant with the
offline test model: embed, store, total. Prints a Markdown section and rewrites
"## Video ingest (issue 3)" in BENCHMARKS.md. Skips with a message when the corpus or the test
model is absent.

Usage: .venv/bin/python -m scripts.bench_video [--runs N] [--no-write]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from ingest.video.subtitles import parse_subtitles
from ingest.video.transcript import chunk_cues, video_source_from_subtitles
from scripts.benchlib import MODEL_DIR, MODEL_NAME, corpus_dir, write_section
from storage.embedding.embedder import FastEmbedEmbedder
from storage.qdrant.index import QdrantIndex
from storage.store import KnowledgeStore

SECTION = "## Video ingest (issue 3)"
COMMAND = ".venv/bin/python -m scripts.bench_video"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5, help="parse+chunk repetitions")
    parser.add_argument("--no-write", action="store_true", help="do not touch BENCHMARKS.md")
    args = parser.parse_args()
    path = corpus_dir() / "subtitles" / "nanoGPT.srt"
    if not path.is_file():
        print(f"skipped: {path} not found (the shared corpus is absent)")
        return 0
    if not (MODEL_DIR / "model.onnx").is_file():
        print(f"skipped: no test model in {MODEL_DIR} (run `make test` once)")
        return 0
    data = path.read_bytes()
    parses, chunkings = [], []
    for _ in range(max(1, args.runs)):
        start = time.perf_counter()
        cues = parse_subtitles(data, path.name)
        parses.append(time.perf_counter() - start)
        start = time.perf_counter()
        chunk_cues(cues)
        chunkings.append(time.perf_counter() - start)

    embedder = FastEmbedEmbedder(MODEL_NAME, model_path=MODEL_DIR)
    with tempfile.TemporaryDirectory() as tmp:
        store = KnowledgeStore(QdrantIndex(path=Path(tmp)), embedder)
        started = time.perf_counter()
        source = video_source_from_subtitles(
            data, filename=path.name, url="https://www.youtube.com/watch?v=kCc8FmEb1nY"
        )
        parsed_at = time.perf_counter()
        record = store.add_source(1, source)
        total = time.perf_counter() - started
        store.close()
    embedder.close()
    index_s = total - (parsed_at - started)
    chars = [len(c.text) for c in source.chunks]
    duration = source.video.duration_s if source.video else None
    lines = [
        SECTION,
        "",
        f"Command: `{COMMAND}` (2-core machine, offline test model {MODEL_NAME}, embedded "
        f"Qdrant). File: `nanoGPT.srt` ({len(data)} bytes, {len(cues)} cues, "
        f"{duration:.0f} s of talk).",
        "",
        "| step | seconds |",
        "|---|---|",
        f"| parse (median of {len(parses)}) | {statistics.median(parses):.3f} |",
        f"| chunk (median of {len(chunkings)}) | {statistics.median(chunkings):.3f} |",
        f"| full ingest: parse + chunk | {parsed_at - started:.3f} |",
        f"| full ingest: embed + store {record.chunks} chunks | {index_s:.2f} |",
        f"| **full ingest total** | **{total:.2f}** |",
        "",
        f"{record.chunks} chunks, mean {statistics.mean(chars):.0f} characters "
        f"(about {duration / max(1, record.chunks):.0f} s of talk each)."
        if duration
        else f"{record.chunks} chunks.",
        "",
    ]
    text = "\n".join(lines)
    print(text)
    if not args.no_write:
        write_section(SECTION, text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
