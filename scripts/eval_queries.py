"""Retrieval before the first model call (issue 18): R@5 and MRR per scenario and pipeline.

    .venv/bin/python -m scripts.eval_queries        (`make eval` runs it after eval_retrieval)

Four chats of the shared corpus, each indexed on its own: the Attention paper with the
3Blue1Brown video (the issue-4 questions), the InstructGPT paper, the Chinese textbook chapter
on attention (Chinese material) and the nanoGPT talk (held out). Every question is searched the
way each pipeline would search it:

- ``before``: the bot before issue 18. A question in another language than the sources, and
  every follow-up, waited for the model's rewrite (the set's reference rewrite, sent with the
  raw question); a first question in the sources' language was searched as asked.
- ``code``: no model call at all: ``bot.queries.plan_queries`` with the sources' term lists
  (the reference lists of ``eval_data/term_lists.json`` standing in for the ingestion model's,
  merged with the terms read from the text, as ``bot.library`` does).
- ``bot``: the bot now: ``code``, plus the model's rewrite where the plan says it is needed or
  the first search is weak (``weak_result``); the share of questions that waited for it is shown.
- ``code, text terms``: ``code`` with only the terms read from the text (the ingestion model
  was down).

Follow-ups carry their conversation: the questions they follow, as the chat history. Prints
Markdown tables and rewrites the "Retrieval without a model call (issue 18)" section of
BENCHMARKS.md. Skips with a message when the corpus is absent.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from scripts.benchlib import ROOT, corpus_dir, write_section
from scripts.eval_retrieval import (
    VIDEO_URL,
    K,
    Question,
    first_relevant_rank,
    load_questions,
    mrr,
    question_from,
    recall_at_k,
)

__all__ = ["Chat", "load_chats", "main", "scenario_of"]

DATA = Path(__file__).resolve().parent / "eval_data"
SECTION = "## Retrieval without a model call (issue 18)"
PIPELINES = ("before", "code", "bot", "code, text terms")
SCENARIOS = (
    "en -> en, first",
    "zh -> en, first",
    "zh -> zh, first",
    "en -> zh, first",
    "follow-ups",
)
GOALS = {"en -> en, first": 0.95, "zh -> en, first": 0.85, "follow-ups": 0.90}
NOW = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Chat:
    """One chat of the eval: its sources (corpus paths, video URLs) and labelled questions."""

    id: str
    sources: tuple[tuple[str, str | None], ...]
    questions: tuple[Question, ...]
    held_out: bool = False


def load_chats() -> list[Chat]:
    """The issue-4 set as one chat, then the chats of ``more_questions.json``."""
    chats = [
        Chat(
            "attention",
            (("papers/1706.03762.pdf", None), ("subtitles/3b1b-attention/en.srt", VIDEO_URL)),
            tuple(load_questions()),
        )
    ]
    raw = json.loads((DATA / "more_questions.json").read_text(encoding="utf-8"))
    for chat in raw["chats"]:
        chats.append(
            Chat(
                str(chat["id"]),
                tuple((s["path"], s.get("url")) for s in chat["sources"]),
                tuple(question_from(q) for q in chat["questions"]),
                bool(chat.get("held_out", False)),
            )
        )
    return chats


def reference_terms() -> dict[str, list[dict[str, Any]]]:
    raw = json.loads((DATA / "term_lists.json").read_text(encoding="utf-8"))
    return dict(raw["lists"])


def scenario_of(q: Question, material: str) -> str:
    """Which row a question counts in: follow-ups apart, else question -> material language."""
    if q.follows:
        return "follow-ups"
    return f"{q.lang} -> {material}, first"


# -- running ------------------------------------------------------------------------------------


@dataclass
class Outcome:
    """First-relevant ranks per (scenario, pipeline), and how often ``bot`` asked the model."""

    ranks: dict[tuple[str, str, bool], list[int | None]] = field(default_factory=dict)
    rewrites: dict[tuple[str, bool], list[bool]] = field(default_factory=dict)
    misses: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    index_s: float = 0.0

    def add(self, scenario: str, pipeline: str, held_out: bool, rank: int | None, qid: str) -> None:
        self.ranks.setdefault((scenario, pipeline, held_out), []).append(rank)
        if rank is None:
            self.misses.setdefault((scenario, pipeline), []).append(qid)


def _parse(path: str, url: str | None, corpus: Path) -> Any:
    from ingest.paper.pdf import parse_pdf
    from ingest.video.transcript import video_source_from_subtitles

    file = corpus / path
    if path.endswith(".pdf"):
        return parse_pdf(file.read_bytes(), filename=file.name)
    return video_source_from_subtitles(file.read_bytes(), filename=file.name, url=url)


def _history(q: Question, by_id: dict[str, Question]) -> list[Any]:
    """The turns before a follow-up: the questions it follows, oldest first."""
    from kernel.models import Turn

    chain: list[Question] = []
    at = q
    while at.follows:
        at = by_id[at.follows]
        chain.insert(0, at)
    turns = []
    for i, earlier in enumerate(chain):
        for role, text in (("user", earlier.question), ("assistant", "(the tutor's answer)")):
            turns.append(
                Turn(chat_id=0, turn_id=f"{i}{role}", role=role, text=text, created_at=NOW)
            )
    return turns


def _before(q: Question, material: str) -> list[str]:
    """The pre-issue-18 bot: rewritten before the search unless a first same-language question."""
    if q.follows is None and q.lang == material:
        return [q.question]
    if not q.rewrite:
        raise ValueError(f"{q.id} needs a reference rewrite")
    return [q.rewrite, q.question]


def _run(
    pipeline: str,
    q: Question,
    plans: dict[str, Any],
    material: str,
    search: Callable[[Sequence[str], Sequence[str] | None], list[Any]],
    weak_result: Callable[[Any, Sequence[Any]], bool],
) -> tuple[list[Any], bool]:
    """The hits one pipeline gets for ``q``, and whether it waited for the model's rewrite.
    Code-built searches give a dense leg to the plan's ``meaning_queries`` only, as the bot's."""
    if pipeline == "before":
        return search(_before(q, material), None), False
    if pipeline != "bot":
        plan = plans[pipeline]
        return search(plan.queries, plan.meaning_queries), False
    plan = plans["code"]
    rewritten = [q.rewrite] if q.rewrite else [q.question]
    if plan.needs_rewrite:
        return search([*rewritten, *plan.queries], None), True
    hits = search(plan.queries, plan.meaning_queries)
    if weak_result(plan, hits):
        return search([*rewritten, *plan.queries], None), True
    return hits, False


def evaluate(embedder: Any, chats: Sequence[Chat], corpus: Path) -> Outcome:
    from bot.queries import plan_queries, source_language, weak_result
    from ingest.terms import merge_terms, text_terms
    from kernel.models import Term
    from storage.qdrant.index import QdrantIndex
    from storage.store import KnowledgeStore

    references = reference_terms()
    out = Outcome()
    with tempfile.TemporaryDirectory(prefix="papertutor-eval18-") as tmp:
        store = KnowledgeStore(QdrantIndex(path=Path(tmp) / "qdrant"), embedder)
        try:
            for n, chat in enumerate(chats, start=1):
                started = time.perf_counter()
                records_ref, records_text = [], []
                for path, url in chat.sources:
                    parsed = _parse(path, url, corpus)
                    found = text_terms(parsed)
                    listed = [Term(**t) for t in references.get(path, [])]
                    record = store.add_source(n, parsed)
                    records_ref.append(
                        record.model_copy(update={"terms": merge_terms(listed, found)})
                    )
                    records_text.append(record.model_copy(update={"terms": found}))
                out.index_s += time.perf_counter() - started
                material = source_language(records_ref[0])
                by_id = {q.id: q for q in chat.questions}

                def search(
                    texts: Sequence[str], dense: Sequence[str] | None, chat_id: int = n
                ) -> list[Any]:
                    return store.search(chat_id, list(texts), k=K, dense=dense)

                for q in chat.questions:
                    history = _history(q, by_id)
                    plans = {
                        "code": plan_queries(q.question, history, records_ref),
                        "code, text terms": plan_queries(q.question, history, records_text),
                    }
                    for pipeline in PIPELINES:
                        hits, asked = _run(pipeline, q, plans, material, search, weak_result)
                        scenario = scenario_of(q, material)
                        out.add(
                            scenario, pipeline, chat.held_out, first_relevant_rank(hits, q), q.id
                        )
                        if pipeline == "bot":
                            out.rewrites.setdefault((scenario, chat.held_out), []).append(asked)
        finally:
            store.close()
    return out


# -- report -------------------------------------------------------------------------------------


def _cell(ranks: Sequence[int | None]) -> str:
    return f"{recall_at_k(ranks):.2f} / {mrr(ranks):.2f}" if ranks else "-"


def _merged(out: Outcome, scenario: str, pipeline: str, held: Sequence[bool]) -> list[int | None]:
    return [r for h in held for r in out.ranks.get((scenario, pipeline, h), [])]


def table(results: dict[str, Outcome], held: Sequence[bool]) -> str:
    head = " | ".join(f"{p} R@5 / MRR" for p in PIPELINES)
    lines = [
        f"| embedder | scenario (n) | {head} | bot: model call before the answer |",
        "|---|---|" + "---|" * (len(PIPELINES) + 1),
    ]
    for name, out in results.items():
        for scenario in SCENARIOS:
            ranks = _merged(out, scenario, "before", held)
            if not ranks:
                continue
            cells = [_cell(_merged(out, scenario, p, held)) for p in PIPELINES]
            asked = [a for h in held for a in out.rewrites.get((scenario, h), [])]
            share = f"{sum(asked)}/{len(asked)}"
            lines.append(f"| {name} | {scenario} ({len(ranks)}) | {' | '.join(cells)} | {share} |")
    return "\n".join(lines)


def goals(results: dict[str, Outcome]) -> list[str]:
    lines = []
    for name, out in results.items():
        for scenario, goal in GOALS.items():
            pipeline = "code" if scenario == "zh -> en, first" else "bot"
            r = recall_at_k(_merged(out, scenario, pipeline, (False, True)))
            verdict = "met" if r >= goal - 1e-9 else "MISSED"
            lines.append(f"- {name}, {scenario} ({pipeline}): R@5 {r:.2f} >= {goal:.2f} {verdict}")
    return lines


def _embedders(test_model_only: bool) -> Iterator[tuple[str, Any]]:
    from scripts.eval_retrieval import _embedders as both

    for i, pair in enumerate(both()):
        yield pair
        if test_model_only and i == 0:
            return


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--test-model-only", action="store_true", help="skip multilingual-e5")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args(argv)
    corpus = corpus_dir()
    if not (corpus / "papers" / "1706.03762.pdf").is_file():
        print(f"skipped: the shared corpus is not at {corpus} (set PAPERTUTOR_CORPUS)")
        return 0
    chats = load_chats()
    results: dict[str, Outcome] = {}
    for name, embedder in _embedders(args.test_model_only):
        print(f"evaluating {name} ...", flush=True)
        try:
            results[name] = evaluate(embedder, chats, corpus)
        finally:
            embedder.close()
        print(f"  indexed in {results[name].index_s:.1f} s", flush=True)
    every = table(results, (False, True))
    held = table(results, (True,))
    checks = goals(results)
    misses = [
        f"- {name}, {pipeline}, {scenario}: {', '.join(ids)}"
        for name, out in results.items()
        for (scenario, pipeline), ids in sorted(out.misses.items())
        if pipeline in ("code", "bot")
    ]
    counts = ", ".join(f"{c.id} {len(c.questions)}" for c in chats)
    print(every, "\n\nHeld out (nanoGPT):\n\n" + held, "\n\nGoals:\n" + "\n".join(checks))
    print("\nMisses:\n" + "\n".join(misses))
    body = (
        f"{SECTION}\n\n"
        f"Command: `make eval` (runs `.venv/bin/python -m scripts.eval_queries` after the issue-4 "
        f"eval), {time.strftime('%Y-%m-%d')}, 2 cores. Questions per chat: {counts} "
        "(`scripts/eval_data/retrieval_questions.json`, `more_questions.json`; term lists "
        "`term_lists.json`). Each chat is indexed alone; k=5, hybrid. Pipelines: **before** = the "
        "bot before issue 18 (cross-language questions and every follow-up searched with the "
        "model's rewrite, i.e. the reference rewrite plus the raw question; one extra model call "
        "before the answer), **code** = no model call (the question, its term expansion from the "
        "sources' term lists, the previous question for a follow-up), **bot** = the bot now "
        "(code, and the model's rewrite only when the plan needs it or the first search is weak; "
        "last column: how many questions waited for it), **code, text terms** = code with only "
        "the terms read from the text (the ingestion model was down). Scenario = question "
        "language -> material language. The nanoGPT chat is held out: its term list and "
        "questions were written before any run and nothing was tuned on it.\n\n"
        f"All chats:\n\n{every}\n\nHeld out only (nanoGPT talk):\n\n{held}\n\n"
        "Goals of issue 18 (Chinese as typed: `code`, no model call; the others: `bot`):\n\n"
        + "\n".join(checks)
        + "\n\nMisses of `code` and `bot` (question ids):\n\n"
        + "\n".join(misses)
        + "\n"
    )
    if args.no_write:
        return 0
    write_section(SECTION, body)
    print(f"\nwrote the section to {ROOT / 'BENCHMARKS.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
