"""Figures and printed passages: what ingestion finds on the corpus, and what it costs.

    .venv/bin/python -m scripts.bench_figures [--baseline DIR]

With ``--baseline DIR`` (a checkout of an earlier revision, e.g. ``git worktree add DIR REV``)
the whole parse is also timed with that revision's parser, so the line bookkeeping this
feature added to every page (where each chunk is printed, footnote marks) is counted too.

For each corpus paper: the figures and tables found by ``parse_pdf`` against the ones printed
in it (counted by hand once: ``PRESENT``), the crops that do not show their figure properly
(judged by eye once: ``FALSE_CROPS``), and the ingest time the feature adds per page:
parsing with and without figure detection (best of ``ROUNDS``) plus keeping the PDF and the
figure records (``PaperFiles.save``), against today's whole ingestion (parse + embed + store
with the offline test model, one run). Then the on-demand pictures, each rendered in the child
process the bot uses: every figure crop, 20 cited passages, and a passage of an OCR'd scanned
page (when Tesseract is installed). Prints a Markdown section and rewrites
"## Figures and printed passages (issue 16)" in BENCHMARKS.md. Skips with a message when the
corpus or the test model is absent.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import ingest.paper.pdf as pdf_module
from ingest.paper.pdf import ocr_available, parse_pdf
from ingest.paper.pdf_process import render_regions_isolated
from ingest.paper.render import render_regions
from kernel.models import ParsedSource
from scripts.benchlib import MODEL_DIR, MODEL_NAME, corpus_dir, percentile, write_section
from storage.embedding.embedder import FastEmbedEmbedder
from storage.paper_files import PaperFiles
from storage.qdrant.index import QdrantIndex
from storage.store import KnowledgeStore, source_id_for

SECTION = "## Figures and printed passages (issue 16)"
COMMAND = ".venv/bin/python -m scripts.bench_figures"
ROUNDS = 3


def _numbered(word: str, numbers: str) -> list[str]:
    return [f"{word}{n}" if word in ("图", "表") else f"{word} {n}" for n in numbers.split()]


# Counted by hand in each PDF (captions in the main text and appendices as printed).
PAPERS: dict[str, tuple[str, list[str]]] = {
    "Attention (1706.03762, 15 p.)": (
        "papers/1706.03762.pdf",
        _numbered("Figure", "1 2 3 4 5") + _numbered("Table", "1 2 3 4"),
    ),
    "InstructGPT (NeurIPS 2022, 15 p.)": (
        "papers/NeurIPS-2022-training-language-models-to-follow-instructions-with-human-"
        "feedback-Paper-Conference.pdf",
        _numbered("Figure", "1 2 3 4 5"),
    ),
    "ERNIE (ACL, two columns, 11 p.)": (
        "awkward/ERNIE- Enhanced Language Representation with Informative Entities .pdf",
        _numbered("Figure", "1 2 3") + _numbered("Table", "1 2 3 4 5 6 7"),
    ),
    "nndl ch. 8 (Chinese, 22 p.)": (
        "papers/chap-注意力机制与外部记忆.pdf",
        _numbered("图", "8.1 8.2 8.3 8.4 8.5 8.6 8.7 8.8 8.9 8.10") + _numbered("表", "8.1"),
    ),
    "T5 (67 p.)": (
        "awkward/Exploring the Limits of Transfer Learning with a Unified Text-to-Text "
        "Transformer .pdf",
        _numbered("Figure", "1 2 3 4 5 6") + _numbered("Table", " ".join(map(str, range(1, 17)))),
    ),
}
SCANNED = "awkward/backprop_old.pdf"  # Nature 1986, 4 scanned pages: the OCR'd passage below
# Looked at every crop of these papers (2026-12-01): each shows its whole figure or table and
# nothing of the prose around it, except these.
FALSE_CROPS: dict[str, list[str]] = {
    "Attention (1706.03762, 15 p.)": [],
    "InstructGPT (NeurIPS 2022, 15 p.)": [],
    "ERNIE (ACL, two columns, 11 p.)": [],
    "nndl ch. 8 (Chinese, 22 p.)": [],
    "T5 (67 p.)": [],
}


def _label(text: str) -> str:
    """ "Fig. 2" and "Figure 2" are the same figure."""
    return re.sub(r"^Fig\.?\s", "Figure ", text)


@dataclass
class Row:
    name: str
    pages: int
    present: list[str]
    found: list[str]
    parse_on: float
    parse_off: float
    keep: float
    ingest: float
    baseline: float | None = None  # the whole parse with an earlier revision's parser

    @property
    def added_per_page_ms(self) -> float:
        return (self.parse_on - self.parse_off + self.keep) / self.pages * 1000

    @property
    def share(self) -> float:
        return (self.parse_on - self.parse_off + self.keep) / self.ingest


def _best(fn: Callable[[], Any]) -> float:
    best = float("inf")
    for _ in range(ROUNDS):
        start = time.process_time()
        fn()
        best = min(best, time.process_time() - start)
    return best


def _parse_without_figures(data: bytes) -> ParsedSource:
    real = pdf_module._figures
    pdf_module._figures = lambda doc, pages, body: []  # type: ignore[assignment]  # the baseline
    try:
        return parse_pdf(data, ocr=False)
    finally:
        pdf_module._figures = real


def _measure(
    name: str, path: Path, present: list[str], store: KnowledgeStore, files: PaperFiles
) -> Row:
    data = path.read_bytes()
    parsed = parse_pdf(data, ocr=False)
    on = _best(lambda: parse_pdf(data, ocr=False))
    off = _best(lambda: _parse_without_figures(data))
    sid = source_id_for(1, parsed.fingerprint)
    keep = _best(lambda: files.save(1, sid, data, parsed.figures))
    start = time.process_time()
    baseline = _parse_without_figures(data)
    store.add_source(1, baseline)
    ingest = time.process_time() - start
    return Row(name, parsed.paper.pages if parsed.paper else 0, present,
               [_label(f.label) for f in parsed.figures], on, off, keep, ingest)  # fmt: skip


_BASELINE_PARSE = """
import sys, time
from ingest.paper.pdf import parse_pdf
data = open(sys.argv[1], "rb").read()
best = float("inf")
for _ in range({rounds}):
    start = time.process_time()
    parse_pdf(data, ocr=False)
    best = min(best, time.process_time() - start)
print(best)
"""


def _baseline_parse(checkout: Path, path: Path) -> float:
    """Best parse time of ``path`` with the parser of an earlier checkout (own interpreter)."""
    code = _BASELINE_PARSE.format(rounds=ROUNDS)
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    out = subprocess.run(
        [sys.executable, "-c", code, str(path)], env=env, cwd=checkout, check=True,
        capture_output=True, text=True,
    ).stdout  # fmt: skip
    return float(out.strip().splitlines()[-1])


def _renders(data: bytes, parsed: ParsedSource) -> tuple[list[float], list[float], list[float]]:
    """CPU time of each figure crop and of 20 cited passages (rendered here), and the wall
    time of the passages as the bot gets them (through the child process)."""
    crops, passages, walls = [], [], []
    for f in parsed.figures:
        start = time.process_time()
        render_regions(data, [(f.page, *f.bbox)], pad=False)
        crops.append(time.process_time() - start)
    prose = [c for c in parsed.chunks if c.boxes and c.role is None]
    for c in prose[:: max(1, len(prose) // 20)][:20]:
        start = time.process_time()
        render_regions(data, c.boxes)
        passages.append(time.process_time() - start)
        wall = time.perf_counter()
        render_regions_isolated(data, c.boxes)
        walls.append(time.perf_counter() - wall)
    return crops, passages, walls


def _scanned(path: Path) -> str:
    if not ocr_available():
        return "Scanned page: Tesseract is not installed here, so no OCR'd passage was rendered."
    data = path.read_bytes()
    start = time.process_time()
    parsed = parse_pdf(data, ocr=True)
    took = time.process_time() - start
    boxed = [c for c in parsed.chunks if c.boxes]
    start = time.process_time()
    png = render_regions(data, boxed[0].boxes)
    render = time.process_time() - start
    return (
        f"Scanned page (`backprop_old.pdf`, OCR chi_sim+eng): parsed in {took:.1f} s CPU, "
        f"{len(boxed)}/{len(parsed.chunks)} chunks know where they are printed; the first "
        f"one's passage renders from the page picture in {render * 1000:.0f} ms CPU "
        f"({len(png) // 1024} KB PNG)."
    )


def main(argv: list[str] | None = None) -> int:
    args = argv if argv is not None else sys.argv[1:]
    checkout = Path(args[args.index("--baseline") + 1]) if "--baseline" in args else None
    corpus = corpus_dir()
    if not corpus.is_dir() or not (MODEL_DIR / "model.onnx").is_file():
        print(f"skipped: needs the corpus ({corpus}) and the test model ({MODEL_DIR})")
        return 0
    os.environ["HF_HUB_OFFLINE"] = "1"
    warnings.simplefilter("ignore")
    rows: list[Row] = []
    crops: list[float] = []
    passages: list[float] = []
    walls: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        embedder = FastEmbedEmbedder(MODEL_NAME, model_path=MODEL_DIR)
        store = KnowledgeStore(QdrantIndex(path=Path(tmp) / "qdrant"), embedder)
        files = PaperFiles(Path(tmp) / "papers")
        try:
            for name, (relative, present) in PAPERS.items():
                path = corpus / relative
                rows.append(_measure(name, path, present, store, files))
                if checkout is not None:
                    rows[-1].baseline = _baseline_parse(checkout, path)
                print(f"{name}: {len(rows[-1].found)} found", file=sys.stderr)
                if present:
                    c, p, w = _renders(path.read_bytes(), parse_pdf(path.read_bytes(), ocr=False))
                    crops += c
                    passages += p
                    walls += w
            scanned = _scanned(corpus / SCANNED)
        finally:
            store.close()
            embedder.close()
    load = os.getloadavg()[0]
    lines = [
        SECTION,
        "",
        f"Command: `{COMMAND}{' --baseline ' + str(checkout) if checkout else ''}` "
        f"({datetime.now(UTC):%Y-%m-%d}, 2 cores shared with other work, "
        f"load average {load:.1f} at the end; offline test model {MODEL_NAME}, embedded Qdrant).",
        "Present = figures and tables printed in the PDF, counted by hand once; found = what "
        "ingestion finds (a caption and the drawings, images and text next to it); false crops = "
        "crops that miss part of their figure or show prose around it (every crop looked at by "
        "eye once). Added ingest time = parsing with figure detection minus without (best of "
        f"{ROUNDS}) plus keeping the PDF and the figure records; today's ingest = parse + embed + "
        "store of the same paper. Times are CPU time of this process (the machine is shared, "
        "wall clock varies with its load).",
        "",
        "| Paper | pages | present | found | missed | not present | false crops | added ms/page | "
        "today's ingest s | added share |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        missed = [x for x in r.present if x not in r.found]
        extra = [x for x in r.found if x not in r.present]
        lines.append(
            f"| {r.name} | {r.pages} | {len(r.present)} | {len(set(r.found) & set(r.present))} | "
            f"{', '.join(missed) or '—'} | {', '.join(extra) or '—'} | "
            f"{len(FALSE_CROPS.get(r.name, []))} | {r.added_per_page_ms:.1f} | {r.ingest:.2f} | "
            f"{r.share:.1%} |"
        )
    total_present = sum(len(r.present) for r in rows)
    total_found = sum(len(set(r.found) & set(r.present)) for r in rows)
    added = sum(r.parse_on - r.parse_off + r.keep for r in rows)
    ingest = sum(r.ingest for r in rows)
    lines += [
        "",
        f"All papers: {total_found}/{total_present} found, added ingest time {added:.2f} s of "
        f"{ingest:.1f} s ({added / ingest:.1%}; goal <= 15 %).",
        "",
        "Pictures on demand (PNG about 1000 px across), CPU ms p50 / max:",
        "",
        f"- figure crops ({len(crops)}): {percentile([c * 1000 for c in crops], 50):.0f} / "
        f"{max(crops) * 1000:.0f} (a crop is rendered once, then kept)",
        f"- cited passages ({len(passages)}): {percentile([p * 1000 for p in passages], 50):.0f} / "
        f"{max(passages) * 1000:.0f}; as the bot gets them (a child process each, wall clock, "
        f"on this loaded machine): {percentile([w * 1000 for w in walls], 50):.0f} / "
        f"{max(walls) * 1000:.0f}",
        f"- {scanned}",
        "",
        "Formula images (issue 16 item 1) are measured with the chat rendering, not here.",
    ]
    if checkout is not None:
        lines += [
            "",
            f"Whole parse, best of {ROUNDS}, with the parser before this feature "
            f"(`--baseline {checkout}`) and now (figures, where text is printed, footnote "
            "marks), s: "
            + "; ".join(f"{r.name.split(' (')[0]} {r.baseline:.2f} -> {r.parse_on:.2f} "
                        f"({(r.parse_on - (r.baseline or 0)) / r.pages * 1000:+.1f} ms/page)"
                        for r in rows),
        ]  # fmt: skip
    text = "\n".join(lines) + "\n"
    print(text)
    write_section(SECTION, text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
