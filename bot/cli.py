"""``papertutor``: the command-line front door onto the same services as the Telegram bot.

Expected errors (``PaperTutorError``) end with a one-line message on stderr (the operator's
ones, about settings and services, in both languages), never a traceback, and no secret:
everything printed or logged goes through ``bot.redact``. Exit status: 0 done, 1 an unexpected
error (the details with ``PAPERTUTOR_LOG_LEVEL=DEBUG``) or a failed health check, 2 bad input
or a wrong setting (fix it), 75 trying again later can help (a service down, the data
directory in use), 130 interrupted. ``--json`` output shapes are a contract that tests and
scripts rely on.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bot import cli_backup
from bot import cli_output as out
from bot.redact import Redactor
from bot.settings import Settings, load_settings
from kernel.errors import InputError, PaperTutorError, StoreInUseError
from kernel.links import parse_video_link
from kernel.models import SourceKind, SourceStatus

__all__ = ["main"]

EXIT_UNEXPECTED = 1
EXIT_USER_ERROR = 2
EXIT_RETRYABLE = 75  # EX_TEMPFAIL: trying again later may work


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="papertutor",
        description="Paper Tutor: a study companion for one research paper and one lecture video.",
    )
    p.add_argument("--lang", choices=["zh", "en"], default="zh", help="language of messages")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    sub.add_parser("run", help="run the Telegram bot (polling, or webhook when configured)")
    sub.add_parser(
        "health", help="check the data directory, Qdrant server and model (exit 1 if not ok)"
    )
    sp = sub.add_parser("models", help="manage the embedding model")
    sp.add_argument("action", choices=["download"], help="download: fetch the model into the cache")

    def chat(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("--chat", type=int, required=True, help="chat id the data belongs to")

    def as_json(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("--json", action="store_true", help="machine-readable output")

    sp = sub.add_parser("ingest", help="add a paper PDF, a video link or a subtitle file")
    sp.add_argument("target", help="PDF path, subtitle file path or video URL")
    chat(sp)
    sp.add_argument("--password", help="password of an encrypted PDF")
    sp.add_argument(
        "--url", help="http(s) URL of the video a subtitle file belongs to (for timestamp links)"
    )
    sp.add_argument("--title", help="video title for a subtitle file")
    as_json(sp)

    sp = sub.add_parser("sources", help="list the chat's sources")
    chat(sp)
    as_json(sp)

    sp = sub.add_parser("forget", help="remove a source and all its chunks")
    sp.add_argument("source_id")
    chat(sp)

    sp = sub.add_parser("search", help="search the chat's sources")
    sp.add_argument("query")
    chat(sp)
    sp.add_argument("--k", type=int, default=5, help="number of results (default 5)")
    sp.add_argument("--mode", choices=["hybrid", "dense", "sparse"], default="hybrid")
    as_json(sp)

    sp = sub.add_parser("ask", help="ask the tutor one question")
    sp.add_argument("question")
    chat(sp)
    as_json(sp)

    sp = sub.add_parser("chat", help="an interactive tutor in the terminal")
    chat(sp)

    sp = sub.add_parser("notes", help="list (or remove) the chat's explanation notes")
    chat(sp)
    sp.add_argument("--remove", metavar="NOTE_ID", help="remove this note")
    as_json(sp)

    sp = sub.add_parser("report", help="write the reading report (.docx)")
    chat(sp)
    sp.add_argument("-o", "--output", type=Path, help="the .docx file (default: from the title)")
    sp.add_argument("--md", type=Path, help="also write a Markdown copy here")
    sp.add_argument("--pdf", type=Path, help="also write a PDF copy here")
    sp.add_argument(
        "--without-video", action="store_true", help="go on when no video has been ingested"
    )
    sp.add_argument(
        "--paper",
        metavar="SOURCE_ID",
        help="the paper the report is about, when the chat holds several (an id or its start)",
    )
    as_json(sp)

    sp = sub.add_parser("reset", help="remove everything of one chat")
    chat(sp)
    sp.add_argument("--yes", action="store_true", required=True, help="confirm")

    cli_backup.add_parsers(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    redact = Redactor()
    debug = False
    try:
        settings = load_settings()
        if args.command not in ("health", "models"):
            _refuse_if_in_use(settings)  # at once, before anything heavy is loaded
        from bot.redact import configure_logging, redactor

        redact = redactor(settings)
        debug = settings.log_level == "DEBUG"
        if args.command == "run":
            from bot.telegram.app import run_bot

            configure_logging(settings.log_level, settings)
            run_bot(settings)
            return 0
        configure_logging("DEBUG" if debug else "WARNING", settings)
        if args.command in ("health", "models"):
            return _operate(args, settings)
        if args.command in cli_backup.COMMANDS:
            return cli_backup.run(args, settings)
        return asyncio.run(_dispatch(args, settings))
    except PaperTutorError as exc:
        _say(exc, args.lang, redact)
        return EXIT_RETRYABLE if exc.retryable else EXIT_USER_ERROR
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a bug: one line; the masked traceback only when asked for
        if debug:
            print(redact(traceback.format_exc()), file=sys.stderr, end="")
        print(
            redact(
                f"papertutor: 意外错误 / unexpected error: {type(exc).__name__}: {exc} "
                "(PAPERTUTOR_LOG_LEVEL=DEBUG shows the details)"
            ),
            file=sys.stderr,
        )
        return EXIT_UNEXPECTED


def _refuse_if_in_use(settings: Settings) -> None:
    """Another process (the bot?) has the embedded store: say so now, not after seconds."""
    from storage.lock import in_use

    path = settings.storage.qdrant_path
    if settings.storage.qdrant_url is None and in_use(path):
        raise StoreInUseError("in_use", path=path)


def _say(exc: PaperTutorError, lang: str, redact: Redactor) -> None:
    """The one-line message; the operator's (settings, services) in both languages, ``lang``
    first, on the same line (a list of several problems keeps one line per problem)."""
    text = exc.message(lang)
    if exc.for_operator:
        other = exc.message("zh" if lang == "en" else "en")
        text = f"{text}\n{other}" if "\n" in text else f"{text} | {other}"
    print(redact(f"papertutor: {text}"), file=sys.stderr)


def _operate(args: argparse.Namespace, settings: Settings) -> int:
    from bot import ops

    if args.command == "health":
        ok, text = ops.health_check(settings, lang=args.lang)
        print(text)
        return 0 if ok else 1
    emb = settings.embedding
    path = ops.download_model(emb.model, emb.cache_dir)
    print(ops.describe_download(emb.model, path, lang=args.lang))
    return 0


async def _dispatch(args: argparse.Namespace, settings: Settings) -> int:
    from bot.app import build_services

    services = build_services(settings)
    try:
        out.report_recovery(await services.store.recover(), args.lang)
        handler = _COMMANDS[args.command]
        await handler(services, args)
    finally:
        await services.aclose()
    return 0


def _read_file(target: str) -> bytes | None:
    """The file's bytes, or None when ``target`` is a video link rather than a file."""
    path = Path(target)
    if not path.exists() and parse_video_link(target) is not None:
        return None
    if not path.is_file():
        raise InputError(f"找不到文件：{target}", f"No such file: {target}")
    return path.read_bytes()


async def _ingest(services: Any, args: argparse.Namespace) -> None:
    started = time.perf_counter()
    target: str = args.target
    data = await asyncio.to_thread(_read_file, target)
    progress = _progress_line() if sys.stderr.isatty() and not args.json else None
    if data is None:
        record = await services.library.add_video_link(args.chat, target, progress=progress)
    else:
        record = await services.library.add_file(
            args.chat,
            data,
            filename=Path(target).name,
            password=args.password,
            url=args.url,
            title=args.title,
            progress=progress,
        )
    seconds = round(time.perf_counter() - started, 3)
    out.emit(out.source_summary(record, seconds), args.json, out.format_source(record, seconds))
    papers = [
        s
        for s in await services.library.sources(args.chat)
        if s.kind is SourceKind.PAPER and s.status is SourceStatus.READY
    ]
    if record.kind is SourceKind.PAPER and len(papers) > 1:
        print(
            f"papertutor: this chat now holds {len(papers)} papers; "
            "`papertutor report --paper SOURCE_ID` chooses the one a report is about"
            if args.lang == "en"
            else f"papertutor: 这个对话里现在有 {len(papers)} 篇论文；"
            "写报告时用 `papertutor report --paper 论文ID` 选择其中一篇",
            file=sys.stderr,
        )


def _progress_line() -> Callable[[str, int, int], None]:
    """Ingestion progress on a terminal's stderr, one line rewritten in place (a long paper or
    lecture takes minutes to index)."""
    shown = [""]

    def progress(stage: str, done: int, total: int) -> None:
        text = f"{stage} {done}/{total}" if total > 1 else f"{stage}…"
        if text != shown[0]:
            shown[0] = text
            end = "\n" if total and done >= total and stage == "indexing" else ""
            print(f"\r{text}", end=end, file=sys.stderr, flush=True)

    return progress


async def _sources(services: Any, args: argparse.Namespace) -> None:
    records = await services.library.sources(args.chat)
    payload = {"sources": [out.source_summary(r) for r in records]}
    text = "\n".join(out.format_source(r) for r in records) or "(no sources)"
    out.emit(payload, args.json, text)


async def _forget(services: Any, args: argparse.Namespace) -> None:
    await services.library.forget(args.chat, args.source_id)
    print(f"forgot {args.source_id}")


async def _search(services: Any, args: argparse.Namespace) -> None:
    hits = await services.store.search(args.chat, args.query, k=args.k, mode=args.mode)
    payload = {"results": [out.hit_json(h) for h in hits]}
    out.emit(payload, args.json, "\n\n".join(out.format_hit(h) for h in hits) or "(no results)")


async def _ask(services: Any, args: argparse.Namespace) -> None:
    streamed: list[str] = []

    async def on_delta(text: str) -> None:
        streamed.append(text)
        print(text, end="", flush=True)

    answer = await services.answerer.ask(
        args.chat, args.question, on_delta=None if args.json else on_delta
    )
    if args.json:
        out.emit(out.answer_json(answer), True, "")
        return
    if "".join(streamed).strip() != answer.answer.strip():
        # The stream is a draft; the checked answer (invalid citations removed) is what counts.
        print("\n\n— checked answer —\n" + answer.answer)
    print("\n\n" + out.format_answer(answer))


async def _chat(services: Any, args: argparse.Namespace) -> None:
    print("Paper Tutor — 输入问题，空行或 Ctrl-D 退出 / type a question, empty line to quit")
    loop = asyncio.get_running_loop()
    while True:
        try:
            question = await loop.run_in_executor(None, input, "\n> ")
        except EOFError:
            return
        if not question.strip():
            return
        args.question, args.json = question, False
        try:
            await _ask(services, args)
        except PaperTutorError as exc:
            print(exc.message(args.lang), file=sys.stderr)


async def _notes(services: Any, args: argparse.Namespace) -> None:
    if args.remove:
        if not await services.answerer.remove_note(args.chat, args.remove):
            raise InputError(f"没有这条笔记：{args.remove}", f"No such note: {args.remove}")
        print(f"removed {args.remove}")
        return
    notes = await services.answerer.notes(args.chat)
    payload = {"notes": [out.note_json(n) for n in notes]}
    out.emit(payload, args.json, "\n\n".join(out.format_note(n) for n in notes) or "(no notes)")


async def _report(services: Any, args: argparse.Namespace) -> None:
    from bot.report import report_filename, to_markdown, write_docx, write_pdf

    async def progress(n: int, total: int) -> None:
        if not args.json:
            print(f"section {n}/{total}…", file=sys.stderr)

    report = await services.reports.build(
        args.chat, allow_no_video=args.without_video, paper_id=args.paper, progress=progress
    )
    path = args.output or Path(report_filename(report, "docx"))
    write_docx(report, path)
    if args.md:
        args.md.write_text(to_markdown(report), encoding="utf-8")
    if args.pdf:
        write_pdf(report, args.pdf)
    payload = out.report_json(report, path)
    out.emit(payload, args.json, out.format_report(report, path))


async def _reset(services: Any, args: argparse.Namespace) -> None:
    await services.library.reset(args.chat)
    print(f"reset chat {args.chat}")


_COMMANDS = {
    "ingest": _ingest,
    "sources": _sources,
    "forget": _forget,
    "search": _search,
    "ask": _ask,
    "chat": _chat,
    "notes": _notes,
    "report": _report,
    "reset": _reset,
}


if __name__ == "__main__":
    raise SystemExit(main())
