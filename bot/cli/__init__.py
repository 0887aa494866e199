"""``papertutor``: the command-line front door onto the same services as the Telegram bot.

User errors (``PaperTutorError``) exit non-zero with a one-line message on stderr, never a
traceback. ``--json`` output shapes are a contract that tests and scripts rely on.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from bot.cli.parser import BACKUP_COMMANDS, build_parser
from kernel.errors import ConfigError, PaperTutorError

if TYPE_CHECKING:
    from bot.settings import Settings

__all__ = ["main"]

EXIT_USER_ERROR = 2
EXIT_RETRYABLE = 75  # EX_TEMPFAIL: trying again later may work


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        from bot.settings import load_settings  # after parsing: --help needs none of it

        settings = load_settings()
        if args.command == "run":
            from bot.telegram.app import run_bot

            run_bot(settings)
            return 0
        if args.command in ("health", "models"):
            return _operate(args, settings)
        if args.command in BACKUP_COMMANDS:
            from bot.cli import backup

            return backup.run(args, settings)
        from bot.cli.commands import dispatch

        return asyncio.run(dispatch(args, settings))
    except PaperTutorError as exc:
        print(f"papertutor: {exc.message(args.lang)}", file=sys.stderr)
        if isinstance(exc, ConfigError):  # for the operator, who may read either language
            other = "zh" if args.lang == "en" else "en"
            print(f"papertutor: {exc.message(other)}", file=sys.stderr)
        return EXIT_RETRYABLE if exc.retryable else EXIT_USER_ERROR
    except KeyboardInterrupt:
        return 130


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
