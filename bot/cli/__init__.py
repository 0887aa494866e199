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
import traceback
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from bot.cli.parser import BACKUP_COMMANDS, build_parser
from bot.redact import Redactor
from kernel.errors import PaperTutorError, StoreInUseError

if TYPE_CHECKING:
    from bot.settings import Settings

__all__ = ["main"]

EXIT_UNEXPECTED = 1
EXIT_USER_ERROR = 2
EXIT_RETRYABLE = 75  # EX_TEMPFAIL: trying again later may work


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    redact: Callable[[str], str] = Redactor()  # no secret known before the settings
    debug = False
    try:
        from bot.settings import load_settings  # after parsing: --help needs none of it

        settings = load_settings()
        if args.command not in ("health", "models") and _store_in_use(settings):
            # At once, before anything heavy is loaded: the running bot answers the reads
            # it serves, anything else waits until it stops.
            if _served_by_bot(args) and _read_from_bot(args, settings):
                return 0
            raise StoreInUseError("in_use", path=settings.storage.qdrant_path)
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
        if args.command in BACKUP_COMMANDS:
            from bot.cli import backup

            return backup.run(args, settings)
        from bot.cli.commands import dispatch

        return asyncio.run(dispatch(args, settings))
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


def _store_in_use(settings: Settings) -> bool:
    """Whether another process (the bot?) holds the embedded store: known in milliseconds."""
    from storage.qdrant.lock import in_use

    return settings.storage.qdrant_url is None and in_use(settings.storage.qdrant_path)


def _served_by_bot(args: argparse.Namespace) -> bool:
    """Reads the running bot answers (``bot.control``): listing sources, listing notes."""
    if args.command == "notes":
        return not (args.remove or args.star or args.unstar)
    return bool(args.command == "sources")


def _read_from_bot(args: argparse.Namespace, settings: Settings) -> bool:
    """Print what the running bot answers; False when no bot answered (then: in use)."""
    from bot.cli import output as out
    from bot.control import BotUnreachableError, read_from_bot
    from kernel.models import Note, SourceRecord

    try:
        records = read_from_bot(settings.storage.data_dir, args.command, args.chat)
    except BotUnreachableError:
        return False
    if args.command == "sources":
        out.show_sources([SourceRecord.model_validate(r) for r in records], args.json)
    else:
        out.show_notes([Note.model_validate(r) for r in records], args.json)
    return True


def _say(exc: PaperTutorError, lang: str, redact: Callable[[str], str]) -> None:
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
    asr_path = ops.download_asr_model(settings.asr)
    print(ops.describe_asr_download(settings.asr, asr_path, lang=args.lang))
    return 0
