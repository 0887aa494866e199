"""The tutoring commands of the CLI: the same services the Telegram bot uses.

Each command reaches only the services it needs (they are built on first use), so listing
sources or notes loads no model.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bot.cli import figures
from bot.cli import output as out
from bot.settings import Settings
from ingest.routing import route_file
from kernel.errors import InputError, PaperTutorError
from kernel.links import bare_url, parse_video_link
from kernel.locators import format_timestamp
from kernel.models import SourceKind, SourceRecord, SourceStatus

__all__ = ["dispatch"]


async def dispatch(args: argparse.Namespace, settings: Settings) -> int:
    from bot.app import build_services

    services = build_services(settings, lazy=True)
    try:
        out.report_recovery(await services.store.recover(), args.lang)
        handler = _COMMANDS[args.command]
        await handler(services, args)
    finally:
        await services.aclose()
    return 0


def _is_link(target: str) -> bool:
    """A video link (or any bare http(s) link) rather than a file on disk."""
    if Path(target).exists():
        return False
    return parse_video_link(target) is not None or bare_url(target) is not None


def _progress(quiet: bool) -> Callable[[str, int, int], None] | None:
    """Progress of a long ingestion on stderr, one line per stage and about every 5 %."""
    if quiet:
        return None
    shown: dict[str, int] = {}

    def report(stage: str, done: int, total: int) -> None:
        step = (done * 20 // total) if total > 0 else 0
        if shown.get(stage) == step and stage in shown:
            return
        shown[stage] = step
        if stage == "transcribing":
            where = format_timestamp(done) + (f" / {format_timestamp(total)}" if total else "")
            print(f"transcribing {where}", file=sys.stderr)
        elif stage in ("parsing", "indexing", "downloading") and total > 0:
            print(f"{stage} {done}/{total}", file=sys.stderr)
        else:
            print(f"{stage}…", file=sys.stderr)

    return report


async def _ingest(services: Any, args: argparse.Namespace) -> None:
    started = time.perf_counter()
    target: str = args.target
    progress = _progress(args.json)
    library = services.library
    if _is_link(target):
        record = await library.add_video_link(args.chat, target, lang=args.lang, progress=progress)
    else:
        path = Path(target)
        head = await asyncio.to_thread(_head, path)
        if route_file(path.name, head=head) == "media":  # may be gigabytes: read from disk
            record = await library.add_media(
                args.chat,
                path,
                filename=path.name,
                title=args.title,
                lang=args.lang,
                progress=progress,
            )
        else:
            data = await asyncio.to_thread(path.read_bytes)
            record = await library.add_file(
                args.chat,
                data,
                filename=path.name,
                password=args.password,
                url=args.url,
                title=args.title,
                lang=args.lang,
                progress=progress,
            )
    seconds = round(time.perf_counter() - started, 3)
    out.emit(out.source_summary(record, seconds), args.json, out.format_source(record, seconds))
    if record.kind is SourceKind.PAPER:
        _hint_several_papers(await library.sources(args.chat), args.lang)
    # The source's term list may still be coming from the model: keep it before exiting.
    await services.library.wait_for_terms()


def _hint_several_papers(sources: list[SourceRecord], lang: str) -> None:
    papers = [s for s in sources if s.kind is SourceKind.PAPER and s.status is SourceStatus.READY]
    if len(papers) < 2:
        return
    print(
        f"papertutor: this chat now holds {len(papers)} papers; "
        "`papertutor report --paper SOURCE_ID` chooses the one a report is about"
        if lang == "en"
        else f"papertutor: 这个对话里现在有 {len(papers)} 篇论文；"
        "写报告时用 `papertutor report --paper 论文ID` 选择其中一篇",
        file=sys.stderr,
    )


def _head(path: Path) -> bytes:
    """The file's first bytes (what it is), or ``InputError`` when there is no such file."""
    if not path.is_file():
        raise InputError(f"找不到文件：{path}", f"No such file: {path}")
    with path.open("rb") as file:
        return file.read(64)


async def _sources(services: Any, args: argparse.Namespace) -> None:
    out.show_sources(await services.store.sources(args.chat), args.json)


async def _forget(services: Any, args: argparse.Namespace) -> None:
    await services.library.forget(args.chat, args.source_id)
    print(f"forgot {args.source_id}")


async def _search(services: Any, args: argparse.Namespace) -> None:
    hits = await services.store.search(args.chat, args.query, k=args.k, mode=args.mode)
    payload = {"results": [out.hit_json(h) for h in hits]}
    out.emit(payload, args.json, "\n\n".join(out.format_hit(h) for h in hits) or "(no results)")


async def _ask(services: Any, args: argparse.Namespace) -> None:
    from bot.answering import Draft, Final, Rewind

    streamed: list[str] = []
    printer = out.PlainPrinter()
    answer = None
    async for event in services.answerer.answer(args.chat, args.question):
        if isinstance(event, Final):
            answer = event.answer
        elif args.json:
            continue
        elif isinstance(event, Draft):
            streamed.append(event.text)
            printer.feed(event.text)
        elif isinstance(event, Rewind):  # the model broke off: it starts the answer again
            printer.close()
            print("\n\n" + out.REWOUND)
            streamed.clear()
            printer = out.PlainPrinter()
    assert answer is not None
    next_questions = await services.next_steps.suggest(args.chat, answer)
    if args.json:
        out.emit(out.answer_json(answer) | {"next_questions": next_questions}, True, "")
        return
    printer.close()
    if "".join(streamed).strip() != answer.answer.strip():
        # The stream is a draft; the checked answer (invalid citations removed) is what counts.
        print("\n\n" + out.format_checked_answer(answer.answer))
    print("\n\n" + out.format_answer(answer))
    if next_questions:
        print("\n" + out.format_next_questions(next_questions))


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
        if not await services.store.delete_note(args.chat, args.remove):
            raise InputError(f"没有这条笔记：{args.remove}", f"No such note: {args.remove}")
        print(f"removed {args.remove}")
        return
    if args.star or args.unstar:
        note_id = args.star or args.unstar
        if await services.store.star_note(args.chat, note_id, bool(args.star)) is None:
            raise InputError(f"没有这条笔记：{note_id}", f"No such note: {note_id}")
        print(f"{'starred' if args.star else 'unstarred'} {note_id}")
        return
    out.show_notes(await services.store.notes(args.chat), args.json)


async def _quiz(services: Any, args: argparse.Namespace) -> None:
    made = await services.quizzes.make(args.chat, lang=args.lang)
    if args.json:
        out.emit({"questions": [out.quiz_json(i) for i in made.items]}, True, "")
        return
    interactive = sys.stdin.isatty()
    loop = asyncio.get_running_loop()
    for n, item in enumerate(made.items, start=1):
        print(out.format_quiz_question(n, item.question))
        if not interactive:
            continue
        letters = "".join(chr(ord("A") + i) for i in range(len(item.question.options)))
        try:
            reply = await loop.run_in_executor(None, input, f"[{'/'.join(letters)}] > ")
        except EOFError:
            return
        chosen = letters.find(reply.strip().upper()[:1]) if reply.strip() else -1
        if chosen < 0:
            print(out.format_quiz_result(item.question, None))
            continue
        await services.quizzes.answer(args.chat, item.quiz_id, chosen)
        print(out.format_quiz_result(item.question, chosen))
    if not interactive:
        print(out.QUIZ_NOT_INTERACTIVE)


async def _terms(services: Any, args: argparse.Namespace) -> None:
    from bot.study import glossary_file

    glossary = await services.glossary.glossary(args.chat, lang=args.lang)
    if args.output is not None:
        fmt = "md" if args.output.suffix.lower() in (".md", ".markdown") else "csv"
        data, _ = glossary_file(glossary, fmt)
        args.output.write_bytes(data)
    payload = {"terms": [out.term_json(e) for e in glossary.entries]}
    text = "\n".join(out.format_term(e) for e in glossary.entries) or "(no terms yet)"
    out.emit(payload, args.json, text)


async def _report(services: Any, args: argparse.Namespace) -> None:
    from bot.report import report_filename, to_markdown, write_docx, write_pdf
    from bot.report.models import ReportProgress
    from bot.report.progress import progress_text

    async def progress(p: ReportProgress) -> None:
        if not args.json:
            print(progress_text(p, args.lang), file=sys.stderr)

    report = await services.reports.build(
        args.chat,
        allow_no_video=args.without_video,
        paper_id=args.paper,
        progress=progress,
        section=args.section,
        fresh=args.fresh,
    )
    path = args.output or Path(report_filename(report, "docx"))
    write_docx(report, path, author=args.author)
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
    "quiz": _quiz,
    "terms": _terms,
    "report": _report,
    "reset": _reset,
    **figures.COMMANDS,
}
