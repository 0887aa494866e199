"""Resilience benchmark (issue 13): Telegram's flood limit and a misbehaving model, nothing lost.

    .venv/bin/python -m scripts.bench_resilience [--seed 13] [--flood-limit 2]

The real bot (PTB polling ``Application``, real services on embedded Qdrant with the offline
test embedder) against the fake Bot API over HTTP, which answers 429 + ``retry_after`` above
``--flood-limit`` messages per second in a chat as Telegram does, and the fake OpenAI server
with a misbehaving model: with fixed seeds, a share of its replies are HTTP 500, 429, empty,
junk, cut-off streams, or carry ``<think>`` blocks. Three scenarios:

- burst: one student sends 30 questions at once;
- chats: five students ask four questions each, one after another;
- reports: one student asks for the report five times.

Every question must end in an outcome the student sees: its answer, a failure message with a
retry button, or a 🙈 mark (the per-user rate limit turned it away). "Lost" counts those with
none. Prints a Markdown section and rewrites "## Resilience (issue 13)" in BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from scripts.benchlib import MODEL_DIR, write_section

__all__ = ["main"]

SECTION = "## Resilience (issue 13)"
COMMAND = ".venv/bin/python -m scripts.bench_resilience"
STUDENT = 3001
THINK = "INTERNAL-REASONING"  # inside every <think> block: must never reach the student
TIMEOUT_S = 240.0


@dataclass
class Chaos:
    """The misbehaving model: faults with fixed probabilities, from a seeded generator."""

    seed: int
    rng: random.Random = field(init=False)
    served: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    def _count(self, what: str) -> None:
        self.served[what] = self.served.get(what, 0) + 1

    def __call__(self, body: dict[str, Any]) -> Any:
        from tests.bot.report.support import cooperative
        from tests.fakes.openai_server import CutOffStream, Malformed, RateLimited, Status

        system = str(body["messages"][0]["content"])
        prompt = str(body["messages"][-1]["content"])
        roll = self.rng.random()
        if roll < 0.10:
            self._count("HTTP 500")
            return Status(500)
        if roll < 0.15:
            self._count("429")
            return RateLimited(1)
        if roll < 0.20:
            self._count("empty")
            return ""
        if roll < 0.23:
            self._count("junk")
            return Malformed()
        if "search engine" in system:  # the query rewrite
            self._count("ok")
            question = prompt.rsplit(": ", 1)[-1]
            return json.dumps({"queries": ["sparse attention memory", question], "terms": []})
        if "Paper Tutor" in system:  # an answer
            asked = re.search(r"Question: (.+)", prompt)
            text = (
                f"关于“{asked.group(1) if asked else '?'}”：稀疏注意力只让每个词关注一部分词 [1]。"
            )
            if roll < 0.30 and body.get("stream"):
                self._count("cut stream")
                return CutOffStream(after_chars=12, text=text)
            if roll < 0.45:
                self._count("<think> block")
                return f"<think>{THINK}: the student asks…</think>\n{text}"
            self._count("ok")
            return text
        self._count("ok")
        return cooperative(body)  # a report section, written as asked


@dataclass
class Outcomes:
    asked: int = 0
    answered: int = 0
    failed_visibly: int = 0  # a failure message with a retry button
    marked: int = 0  # turned away by the rate limit, marked 🙈
    lost: int = 0
    in_order: bool = True
    think_leaked: int = 0


def _outcomes(api: Any, chat: int, questions: list[tuple[int, str]]) -> Outcomes:
    """What the student saw for each of ``questions`` (message id, text)."""
    out = Outcomes(asked=len(questions))
    messages = api.bot_messages(chat)
    texts = [m.plain for m in messages]
    out.think_leaked = sum(THINK in "".join(m.history) for m in messages)
    marked = {int(c.params["message_id"]) for c in api.of("setMessageReaction")}
    answered_order: list[int] = []
    for i, (message_id, question) in enumerate(questions):
        answer = next((n for n, t in enumerate(texts) if f"关于“{question}”" in t), None)
        if answer is not None and "来源" in texts[answer]:
            out.answered += 1
            answered_order.append(i)
        elif message_id in marked:
            out.marked += 1
        elif any(
            c.method == "sendMessage"
            and "❌" in str(c.params.get("text", ""))
            and (c.params.get("reply_parameters") or {}).get("message_id") == message_id
            for c in api.calls
        ):
            out.failed_visibly += 1
        else:
            out.lost += 1
    positions = [
        next(n for n, t in enumerate(texts) if f"关于“{questions[i][1]}”" in t)
        for i in answered_order
    ]
    out.in_order = positions == sorted(positions)
    return out


async def _settle(api: Any, chat: int, questions: list[tuple[int, str]]) -> None:
    """Wait until every question has an outcome the student sees (or the timeout)."""
    deadline = time.monotonic() + TIMEOUT_S
    while time.monotonic() < deadline:
        if _outcomes(api, chat, questions).lost == 0:
            await asyncio.sleep(1.0)  # let the last message's edits land
            return
        await asyncio.sleep(0.5)


async def _quiet(api: Any, seconds: float) -> None:
    """Wait until no Bot API call came for ``seconds`` (or the timeout)."""
    deadline = time.monotonic() + TIMEOUT_S
    last, quiet_since = -1, time.monotonic()
    while time.monotonic() < deadline:
        count = len(api.calls)
        if count != last:
            last, quiet_since = count, time.monotonic()
        elif time.monotonic() - quiet_since > seconds:
            return
        await asyncio.sleep(0.2)


async def run(seed: int, flood_limit: float) -> dict[str, Any]:
    from pydantic import SecretStr

    from bot.app import build_services
    from bot.settings import LLMSettings, Settings, StorageSettings
    from bot.telegram.app import build_application
    from bot.telegram.config import TelegramConfig
    from ingest.paper.pdf import parse_pdf
    from ingest.video.transcript import video_source_from_subtitles
    from tests.fakes.bot_api import TOKEN, FakeBotApi, FakeBotApiServer
    from tests.fakes.embedding import test_embedder
    from tests.fakes.openai_server import FakeOpenAI
    from tests.fakes.pdfs import make_paper_pdf
    from tests.fakes.subtitle_samples import lecture_srt

    chaos = Chaos(seed)
    results: dict[str, Any] = {"chaos": chaos.served}
    api = FakeBotApi()
    api.flood_limit = flood_limit
    with FakeOpenAI(delay_s=0.05) as llm, FakeBotApiServer(api).running() as server, \
            tempfile.TemporaryDirectory() as tmp:  # fmt: skip
        llm.set_default(chaos)
        settings = Settings(
            storage=StorageSettings(data_dir=Path(tmp)),
            llm=LLMSettings(  # type: ignore[call-arg]
                OPENAI_BASE_URL=llm.base_url,
                OPENAI_API_KEY=SecretStr("bench"),
                PAPERTUTOR_LLM_MAX_RETRIES=3,
            ),
        )
        services = build_services(settings, embedder=test_embedder())
        paper = parse_pdf(make_paper_pdf(), filename="paper.pdf")
        talk = video_source_from_subtitles(
            lecture_srt(8).encode(), filename="talk.srt", url="https://youtu.be/dQw4w9WgXcQ"
        )
        chats = [STUDENT, *range(STUDENT + 1, STUDENT + 6)]
        for chat in chats:
            services.store.core.add_source(chat, paper)
            services.store.core.add_source(chat, talk)
        cfg = TelegramConfig(
            token=TOKEN,
            api_url=server.base_url,
            file_url=server.file_url,
            persistence_path=Path(tmp) / "telegram.pickle",
            use_drafts=False,  # edits: the flood-limited path
        )
        app = build_application(services, cfg)
        try:
            async with app:
                assert app.post_init is not None
                assert app.updater is not None
                await app.post_init(app)
                await app.updater.start_polling(poll_interval=0.0, timeout=1)
                await app.start()

                # 1. A burst of 30 questions from one student.
                started = time.monotonic()
                burst = []
                for n in range(30):
                    update = api.update("message", text=f"问题{n}", chat={"id": STUDENT},
                                        user={"id": STUDENT})  # fmt: skip
                    burst.append((update["message"]["message_id"], f"问题{n}"))
                    api.queue(update)
                await _settle(api, STUDENT, burst)
                results["burst"] = (_outcomes(api, STUDENT, burst), time.monotonic() - started)

                # 2. Five students, four questions each, one after another.
                started = time.monotonic()
                asked: dict[int, list[tuple[int, str]]] = {c: [] for c in chats[1:]}
                for round_ in range(4):
                    for chat in chats[1:]:
                        text = f"第{round_}轮{chat}"
                        update = api.update("message", text=text, chat={"id": chat},
                                            user={"id": chat})  # fmt: skip
                        asked[chat].append((update["message"]["message_id"], text))
                        api.queue(update)
                    for chat in chats[1:]:
                        await _settle(api, chat, asked[chat])
                per_chat = [_outcomes(api, c, q) for c, q in asked.items()]
                total = Outcomes(
                    asked=sum(o.asked for o in per_chat),
                    answered=sum(o.answered for o in per_chat),
                    failed_visibly=sum(o.failed_visibly for o in per_chat),
                    marked=sum(o.marked for o in per_chat),
                    lost=sum(o.lost for o in per_chat),
                    in_order=all(o.in_order for o in per_chat),
                    think_leaked=sum(o.think_leaked for o in per_chat),
                )
                results["chats"] = (total, time.monotonic() - started)

                # 3. Five reports in a chat with notes, each after the last one ended.
                report_chat = chats[1]
                completed = 0
                for _ in range(5):
                    before = len(api.of("sendDocument"))
                    update = api.update("message", text="/report", chat={"id": report_chat},
                                        user={"id": report_chat})  # fmt: skip
                    api.queue(update)
                    deadline = time.monotonic() + TIMEOUT_S
                    while len(api.of("sendDocument")) == before and time.monotonic() < deadline:
                        failed = [m for m in api.bot_messages(report_chat) if "❌" in m.plain]
                        if failed:
                            break
                        await asyncio.sleep(0.5)
                    await _quiet(api, 2.0)
                    completed += len(api.of("sendDocument")) > before
                results["reports"] = (completed, 5)
                await app.updater.stop()
                await app.stop()
        finally:
            await services.aclose()
        results["flooded"] = len(api.flooded)
        results["rejected_html"] = len(api.rejected)
    return results


def render(results: dict[str, Any], seed: int, flood_limit: float) -> str:
    lines = [
        SECTION,
        "",
        f"Command: `{COMMAND} --seed {seed} --flood-limit {flood_limit:g}` ({date.today()}, "
        "2 cores shared with other work). The real bot polls the fake Bot API over HTTP; the "
        f"fake answers 429 + retry_after above {flood_limit:g} messages per second in a chat. "
        "The fake model misbehaves on a fixed seed; what it served: "
        + ", ".join(f"{k} {v}" for k, v in sorted(results["chaos"].items()))
        + f". Bot API calls refused with 429: {results['flooded']}; "
        f"refused as malformed HTML: {results['rejected_html']}.",
        "",
        "| scenario | asked | answered | failed, with 🔄 | turned away, marked 🙈 | lost | "
        "in order | `<think>` shown | seconds |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, label in (("burst", "30 questions at once, one student"),
                        ("chats", "5 students × 4 questions")):  # fmt: skip
        o, seconds = results[name]
        lines.append(
            f"| {label} | {o.asked} | {o.answered} | {o.failed_visibly} | {o.marked} | "
            f"{o.lost} | {'yes' if o.in_order else 'no'} | {o.think_leaked} | {seconds:.0f} |"
        )
    done, tried = results["reports"]
    lines += ["", f"Reports completed / attempted: {done} / {tried}."]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--flood-limit", type=float, default=2.0)
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args(argv)
    if not (MODEL_DIR / "tokenizer.json").is_file():
        print(f"skipped: the test model is missing at {MODEL_DIR} (run make test)")
        return 0
    results = asyncio.run(run(args.seed, args.flood_limit))
    text = render(results, args.seed, args.flood_limit)
    print(text)
    if not args.no_write:
        write_section(SECTION, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
