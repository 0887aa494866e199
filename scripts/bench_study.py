"""Study tools benchmark (issue 17): what the next-step buttons cost an answer, and what /quiz
and /terms cost beyond the model.

    .venv/bin/python -m scripts.bench_study [--delay 1.0] [--questions 24] [--no-write]

The answer path: the real PTB ``Application`` on a timestamping fake Bot API (in process), the
real services on embedded Qdrant with the offline test embedder, holding the Attention paper
and the 3Blue1Brown attention lecture of the shared corpus, and the fake OpenAI server waiting
``--delay`` s before every reply. The first questions of ``scripts/eval_data`` (English and
Chinese) are asked one after another in two chats, alternating: one with the next-step buttons,
one with them switched off. Per question: time to first words (update handed to the bot ->
first draft at the Bot API) and to the final answer (-> the message carrying the answer
buttons). Then ``NextSteps.suggest`` alone (first call per source reads its chunks; later calls
use them), and the quiz round's and the glossary's own time with a model that answers at once
(material, checks, storing).

Prints a Markdown section and rewrites "## Study tools (issue 17)" in BENCHMARKS.md. Skips
with a message when the corpus or the test model is absent.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

from scripts.benchlib import MODEL_DIR, corpus_dir, percentile, write_section

__all__ = ["main"]

SECTION = "## Study tools (issue 17)"
COMMAND = ".venv/bin/python -m scripts.bench_study"
PAPER = corpus_dir() / "papers" / "1706.03762.pdf"
LECTURE = corpus_dir() / "subtitles" / "3b1b-attention" / "en.srt"
QUESTIONS = Path(__file__).parent / "eval_data" / "retrieval_questions.json"
WITH, WITHOUT = 4101, 4102
ANSWERS = {  # quoting the first two snippets, so the support check keeps both citations
    "zh": "论文这样说：“{one}” [1]。讲座里也提到：“{two}” [2]。",
    "en": "The paper says: “{one}” [1]. It goes on: “{two}” [2].",
}
Samples = list[tuple[str, list[str]]]
Times = dict[str, dict[str, list[float]]]
TERMS = [{"en": "scaled dot-product attention", "zh": "缩放点积注意力"},
         {"en": "multi-head attention", "zh": "多头注意力"}]  # fmt: skip


def _questions(limit: int) -> list[str]:
    data = json.loads(QUESTIONS.read_text(encoding="utf-8"))
    first = [q["question"] for q in data["questions"] if not q.get("follows")]
    english = [q for q in first if not any("\u4e00" <= c <= "\u9fff" for c in q)]
    chinese = [q for q in first if q not in english]
    mixed = [q for pair in zip(english, chinese, strict=False) for q in pair]
    return mixed[:limit]


def _model_reply(body: dict[str, Any]) -> str:
    from bot.prompts import REWRITE_SYSTEM

    messages = body["messages"]
    if messages[0]["content"] == REWRITE_SYSTEM:
        question = messages[-1]["content"].rsplit(": ", 1)[-1]
        return json.dumps({"queries": [question], "terms": TERMS}, ensure_ascii=False)
    from tests.fakes.study_model import snippets_in
    from tests.fakes.tutor_model import quoted_words

    prompt = messages[-1]["content"]
    snippets = snippets_in(prompt)
    one, two = (quoted_words(snippets.get(n, "")) for n in (1, 2))
    return ANSWERS["zh" if "简体中文" in prompt else "en"].format(one=one, two=two)


async def _answer_path(
    services: Any, questions: Sequence[str]
) -> dict[str, dict[str, list[float]]]:
    """First words and final answer, seconds after the update, with and without next steps."""
    from telegram import Update

    from bot.services import Services
    from bot.telegram.app import build_application
    from bot.telegram.config import TelegramConfig
    from tests.fakes.bot_api import TOKEN, FakeBotApi, RecordingRequest

    class Timed(FakeBotApi):
        def __init__(self) -> None:
            super().__init__()
            self.seen: list[tuple[float, str, int, bool]] = []

        def handle(self, method: str, params: dict[str, Any], files: Any) -> Any:
            if method in ("sendMessageDraft", "sendMessage", "editMessageText"):
                markup = params.get("reply_markup") or {}
                rows = markup.get("inline_keyboard", []) if isinstance(markup, dict) else []
                final = any(
                    str(b.get("callback_data", "")).startswith("a:") for r in rows for b in r
                )
                self.seen.append((time.perf_counter(), method, int(params["chat_id"]), final))
            return super().handle(method, params, files)

    real = services.next_steps
    hook: list[float] = []

    class OnlyIn:
        """The real next steps in one chat (timed), none in the other."""

        async def suggest(self, chat_id: int, answer: Any) -> list[str]:
            if chat_id != WITH:
                return []
            started = time.perf_counter()
            steps = await real.suggest(chat_id, answer)
            hook.append(time.perf_counter() - started)
            return steps

    wired = Services(
        store=services.store,
        chat_model=services.chat_model,
        library=services.library,
        answerer=services.answerer,
        reports=services.reports,
        formulas=services.formulas,
        pages=services.pages,
        quizzes=services.quizzes,
        glossary=services.glossary,
        next_steps=OnlyIn(),
    )
    api = Timed()
    cfg = TelegramConfig(token=TOKEN, api_url="http://fake/bot", file_url="http://fake/file/bot",
                         edit_interval_s=0.0, send_rate=0.0,
                         rate_limit_per_minute=10_000)  # one student asks fast  # fmt: skip
    app = build_application(wired, cfg, request=RecordingRequest(api))
    times: Times = {
        "with": {"first": [], "final": [], "hook": hook},
        "without": {"first": [], "final": []},
    }
    async with app:
        for n, question in enumerate(questions):
            order = (WITH, WITHOUT) if n % 2 == 0 else (WITHOUT, WITH)
            for chat in order:
                ids = {"id": chat}
                update = api.update("message", text=question, chat=ids, user=ids)
                before = len(api.seen)
                started = time.perf_counter()
                await app.process_update(Update.de_json(update, app.bot))
                events = [e for e in api.seen[before:] if e[2] == chat]
                first = next(e[0] for e in events if e[1] != "editMessageText")
                # A refusal ("not in the sources") has no answer buttons: its last message.
                final = next((e[0] for e in events if e[3]), events[-1][0])
                mode = "with" if chat == WITH else "without"
                times[mode]["first"].append(first - started)
                times[mode]["final"].append(final - started)
            print(f"  answered {n + 1}/{len(questions)}", file=sys.stderr)
    return times


async def _suggestions(
    services: Any, questions: Sequence[str]
) -> tuple[list[float], list[float], list[tuple[str, list[str]]]]:
    """``NextSteps.suggest`` alone: ms of first calls (fresh service) and later calls."""
    from bot.answering import Answer
    from bot.citations import build_citations
    from bot.study import NextSteps
    from kernel.language import question_language

    cold, warm, samples = [], [], []
    warmed = NextSteps(services.store)
    for question in questions:
        hits = await services.store.search(WITH, question, k=4, diverse=True)
        lang = question_language(question)
        answer = Answer(question, "…", True, False, build_citations([1, 2], hits), "n", lang, ())
        fresh = NextSteps(services.store)
        t = time.perf_counter()
        await fresh.suggest(WITH, answer)
        cold.append((time.perf_counter() - t) * 1000)
        await warmed.suggest(WITH, answer)
        t = time.perf_counter()
        steps = await warmed.suggest(WITH, answer)
        warm.append((time.perf_counter() - t) * 1000)
        samples.append((question, steps))
    return cold, warm, samples


_ASKED = iter(range(1, 10**6))


def _generic_quiz(messages: Sequence[Any]) -> str:
    """A model that answers at once: one checkable question per snippet (its opening words)."""
    from tests.fakes.study_model import snippets_in

    snippets = snippets_in("\n".join(m["content"] for m in messages if m["role"] == "user"))
    openings = {n: " ".join(t.split()[:6]) for n, t in snippets.items()}
    questions = []
    for n, quote in openings.items():
        others = [o for m, o in openings.items() if m != n][:3]
        if len(others) < 3:
            break
        questions.append({"question": f"Q{next(_ASKED)}: which words open this passage?",
                          "options": [quote, *others], "correct": 0, "snippet": n,
                          "quote": quote, "explanation": "They are its first words.",
                          "difficulty": ("easy", "medium", "hard")[n % 3]})  # fmt: skip
    return json.dumps({"questions": questions})


async def _quiz_and_glossary(services: Any) -> tuple[list[float], list[float], list[float]]:
    """ms per quiz round and per glossary build (first, then kept), model answering at once."""
    from bot.study import GlossaryBuilder, Quizzer
    from tests.fakes.chat import ScriptedChatModel
    from tests.fakes.study_model import glossary_reply

    model = ScriptedChatModel()
    model.set_default(_generic_quiz)
    quizzer = Quizzer(services.store, model, rng=random.Random(1))
    rounds = []
    for _ in range(8):
        t = time.perf_counter()
        made = await quizzer.make(WITH, lang="en")
        rounds.append((time.perf_counter() - t) * 1000)
        for item in made.items:
            await quizzer.answer(WITH, item.quiz_id, random.randrange(len(item.question.options)))
    terms_model = ScriptedChatModel()
    terms_model.set_default(lambda messages: glossary_reply(messages[-1]["content"]))
    builder = GlossaryBuilder(services.store, terms_model)
    first, kept = [], []
    for chat in (WITH, WITHOUT):
        t = time.perf_counter()
        await builder.glossary(chat)
        first.append((time.perf_counter() - t) * 1000)
        for _ in range(5):
            t = time.perf_counter()
            await builder.glossary(chat)
            kept.append((time.perf_counter() - t) * 1000)
    return rounds, first, kept


def _p(samples: Sequence[float], unit: str = "s") -> str:
    digits = 2 if unit == "s" else 1
    return f"{percentile(samples, 50):.{digits}f} / {percentile(samples, 95):.{digits}f}"


def render(delay: float, times: dict[str, dict[str, list[float]]], cold: list[float],
           warm: list[float], samples: list[tuple[str, list[str]]], rounds: list[float],
           first: list[float], kept: list[float]) -> str:  # fmt: skip
    n = len(times["with"]["first"])
    load = os.getloadavg()[0]
    lines = [
        SECTION,
        "",
        f"Command: `{COMMAND} --delay {delay}` ({date.today().isoformat()}, 2 cores shared with "
        f"other work, load average {load:.1f} at the end). Real PTB application on an in-process "
        "fake Bot API, real services on embedded Qdrant with the offline test embedder "
        "(MiniLM-L6 int8), the Attention paper and the 3Blue1Brown lecture; fake model server "
        f"waiting {delay:.1f} s before each reply. {n} labelled questions (English and Chinese, "
        "alternating), each asked in a chat with the next-step buttons and in one without, "
        "alternating which goes first. Seconds after the update, p50 / p95:",
        "",
        "| next steps | first words | final answer with buttons |",
        "|---|---|---|",
    ]
    for mode in ("with", "without"):
        t = times[mode]
        lines.append(f"| {mode} | {_p(t['first'])} | {_p(t['final'])} |")
    paired = {
        part: [
            (w - wo) * 1000
            for w, wo in zip(times["with"][part], times["without"][part], strict=True)
        ]
        for part in ("first", "final")
    }
    lines.append(
        f"| difference, same question (ms, median / mean) | "
        f"{statistics.median(paired['first']):+.0f} / {statistics.mean(paired['first']):+.0f} | "
        f"{statistics.median(paired['final']):+.0f} / {statistics.mean(paired['final']):+.0f} |"
    )
    hook_ms = [t * 1000 for t in times["with"]["hook"]]
    lines += [
        "",
        f"Inside the answer path the next steps took {_p(hook_ms, 'ms')} ms (p50 / p95), after "
        "the answer was written: the first words do not wait for them; the final message does. "
        "The latencies are multimodal (one or two model calls before the answer, the support "
        "check's snippet cache warm or cold), so the paired difference per question is the "
        "figure to read.",
        "",
        f"`NextSteps.suggest` alone, ms p50 / p95: first call of a fresh service (reads the "
        f"cited sources' chunks) {_p(cold, 'ms')}, later calls {_p(warm, 'ms')}. It runs after "
        "the answer is written and before the final message is sent; no model call.",
        "",
        f"Beyond the model (which answers at once here), ms p50 / p95: a quiz round "
        f"(material from the chunks, checks, storing) {_p(rounds, 'ms')}; the glossary, first "
        f"build {_p(first, 'ms')}, kept {_p(kept, 'ms')}.",
        "",
        "Next steps offered for the first four questions (the sources carry the term lists "
        "read from their text, as when the ingestion model is down; a Chinese question is "
        "searched with the English-only test model and those lists, so its hits, and the steps "
        "drawn from them, are weaker than in production):",
        "",
    ]
    for question, steps in samples[:4]:
        lines.append(f"- {question} → " + (" · ".join(steps) if steps else "(none)"))
    return "\n".join(lines) + "\n"


async def run(delay: float, limit: int) -> str:
    from pydantic import SecretStr

    from bot.app import build_services
    from bot.settings import LLMSettings, Settings, StorageSettings
    from ingest.paper.pdf import parse_pdf
    from ingest.terms import text_terms
    from ingest.video.transcript import video_source_from_subtitles
    from tests.fakes.embedding import test_embedder
    from tests.fakes.openai_server import FakeOpenAI

    questions = _questions(limit)
    with tempfile.TemporaryDirectory() as tmp, FakeOpenAI(delay_s=delay) as llm:
        llm.set_default(_model_reply)
        settings = Settings(
            storage=StorageSettings(data_dir=Path(tmp)),
            llm=LLMSettings(OPENAI_BASE_URL=llm.base_url, OPENAI_API_KEY=SecretStr("bench")),
        )
        services = build_services(settings, embedder=test_embedder())
        try:
            paper = parse_pdf(PAPER.read_bytes(), filename=PAPER.name)
            lecture = video_source_from_subtitles(
                LECTURE.read_bytes(), filename="en.srt", url="https://youtu.be/eMlx5fFNoYc"
            )
            # The term lists ingestion keeps without a model (read from the text): questions
            # are searched, and next steps named, with them.
            paper = paper.model_copy(update={"terms": text_terms(paper)})
            lecture = lecture.model_copy(update={"terms": text_terms(lecture)})
            for chat in (WITH, WITHOUT):
                await services.store.add_source(chat, paper)
                await services.store.add_source(chat, lecture)
            print("answering...", file=sys.stderr)
            times = await _answer_path(services, questions)
            cold, warm, samples = await _suggestions(services, questions)
            rounds, first, kept = await _quiz_and_glossary(services)
        finally:
            await services.aclose()
    return render(delay, times, cold, warm, samples, rounds, first, kept)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--delay", type=float, default=1.0, help="model latency per call, s")
    parser.add_argument("--questions", type=int, default=24)
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args(argv)
    if not PAPER.is_file() or not LECTURE.is_file():
        print(f"skipped: {PAPER} or {LECTURE} not found (the shared corpus is not here)")
        return 0
    if not (MODEL_DIR / "tokenizer.json").is_file():
        print(f"skipped: test model missing at {MODEL_DIR} (scripts/assemble_test_model.py)")
        return 0
    text = asyncio.run(run(args.delay, args.questions))
    print(text)
    if not args.no_write:
        write_section(SECTION, text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
