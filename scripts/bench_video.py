"""Benchmark: parse + chunk a long real transcript (Karpathy's nanoGPT lecture, 1773 cues).

Usage: .venv/bin/python scripts/bench_video.py [path-to-srt] [--runs N]
Skips with a message when the shared corpus is absent.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from ingest.subtitles import parse_subtitles
from ingest.transcript import chunk_cues, video_source_from_subtitles

DEFAULT = Path("/work/shared/corpus/subtitles/nanoGPT.srt")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("path", nargs="?", type=Path, default=DEFAULT)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    if not args.path.is_file():
        print(f"skipped: {args.path} not found (the shared corpus is absent)")
        return 0
    data = args.path.read_bytes()
    totals, parses, chunkings = [], [], []
    source = None
    for _ in range(max(1, args.runs)):
        start = time.perf_counter()
        source = video_source_from_subtitles(data, filename=args.path.name)
        totals.append(time.perf_counter() - start)
        start = time.perf_counter()
        cues = parse_subtitles(data, args.path.name)
        parses.append(time.perf_counter() - start)
        start = time.perf_counter()
        chunk_cues(cues)
        chunkings.append(time.perf_counter() - start)
    assert source is not None
    chars = [len(c.text) for c in source.chunks]
    print(f"file: {args.path.name} ({len(data)} bytes, {len(cues)} cues)")
    print(
        f"video_source_from_subtitles: median {statistics.median(totals):.3f} s "
        f"over {len(totals)} runs (parse {statistics.median(parses):.3f} s, "
        f"chunk {statistics.median(chunkings):.3f} s)"
    )
    print(
        f"chunks: {len(source.chunks)} (mean {statistics.mean(chars):.0f} chars, "
        f"duration {source.video.duration_s if source.video else None} s)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
