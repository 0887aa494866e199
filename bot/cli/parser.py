"""The command line's grammar: every command, option and ``--help`` text.

Kept apart from the commands themselves and free of heavy imports, so ``papertutor --help``
answers at once.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

__all__ = ["BACKUP_COMMANDS", "build_parser"]

BACKUP_COMMANDS = ("export", "import", "migrate", "reindex")


def _chat(sp: argparse.ArgumentParser) -> None:
    sp.add_argument("--chat", type=int, required=True, help="chat id the data belongs to")


def _as_json(sp: argparse.ArgumentParser) -> None:
    sp.add_argument("--json", action="store_true", help="machine-readable output")


def build_parser() -> argparse.ArgumentParser:
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
    sp = sub.add_parser("models", help="manage the embedding and speech-recognition models")
    sp.add_argument(
        "action",
        choices=["download"],
        help="download: fetch the embedding model and the local speech-recognition model "
        "(PAPERTUTOR_ASR_MODEL) into their caches",
    )

    sp = sub.add_parser(
        "ingest",
        help="add a paper PDF, a lecture (video link, video/audio file) or a subtitle file",
    )
    sp.add_argument(
        "target",
        help="PDF, subtitle file, video/audio file (recognised by speech recognition), or a "
        "video URL (YouTube, Bilibili, any site yt-dlp supports)",
    )
    _chat(sp)
    sp.add_argument("--password", help="password of an encrypted PDF")
    sp.add_argument(
        "--url", help="http(s) URL of the video a subtitle file belongs to (for timestamp links)"
    )
    sp.add_argument("--title", help="video title for a subtitle file")
    _as_json(sp)

    sp = sub.add_parser(
        "sources", help="list the chat's sources (asks the running bot while it holds the store)"
    )
    _chat(sp)
    _as_json(sp)

    sp = sub.add_parser("forget", help="remove a source and all its chunks")
    sp.add_argument("source_id")
    _chat(sp)

    sp = sub.add_parser("search", help="search the chat's sources")
    sp.add_argument("query")
    _chat(sp)
    sp.add_argument("--k", type=int, default=5, help="number of results (default 5)")
    sp.add_argument("--mode", choices=["hybrid", "dense", "sparse"], default="hybrid")
    _as_json(sp)

    sp = sub.add_parser("ask", help="ask the tutor one question")
    sp.add_argument("question")
    _chat(sp)
    _as_json(sp)

    sp = sub.add_parser("chat", help="an interactive tutor in the terminal")
    _chat(sp)

    _study_parsers(sub)

    sp = sub.add_parser("report", help="write the reading report (.docx)")
    _chat(sp)
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
    # The report that survives: kept sections, one section written again, the file's author.
    sp.add_argument(
        "--section",
        type=int,
        choices=(2, 3, 4),
        help="write only this section again (2, 3 or 4); the others are kept",
    )
    sp.add_argument(
        "--fresh",
        action="store_true",
        help="write everything anew (by default sections kept from an earlier run are reused)",
    )
    sp.add_argument("--author", default="", help="the student's name, for the .docx properties")
    _as_json(sp)

    sp = sub.add_parser("reset", help="remove everything of one chat")
    _chat(sp)
    sp.add_argument("--yes", action="store_true", required=True, help="confirm")

    sp = sub.add_parser("figures", help="list the figures and tables found in the chat's papers")
    _chat(sp)
    _as_json(sp)
    sp = sub.add_parser("figure", help="write one figure or table as a PNG image")
    sp.add_argument("figure_id", help="an id from `papertutor figures`")
    _chat(sp)
    sp.add_argument("-o", "--output", type=Path, required=True, help="the .png file to write")

    _backup_parsers(sub)
    return p


def _study_parsers(sub: Any) -> None:
    """The notebook, the quiz and the glossary."""
    sp = sub.add_parser(
        "notes",
        help="list the chat's notes (or remove, star or unstar one; ⭐ = the report uses it first)",
    )
    _chat(sp)
    change = sp.add_mutually_exclusive_group()
    change.add_argument("--remove", metavar="NOTE_ID", help="remove this note")
    change.add_argument(
        "--star", metavar="NOTE_ID", help="star this note (the report uses starred notes first)"
    )
    change.add_argument("--unstar", metavar="NOTE_ID", help="remove this note's star")
    _as_json(sp)

    sp = sub.add_parser(
        "quiz",
        help="a round of checked quiz questions (asked one by one in a terminal; answers kept)",
    )
    _chat(sp)
    _as_json(sp)

    sp = sub.add_parser("terms", help="the bilingual glossary of the chat's answers")
    _chat(sp)
    sp.add_argument("-o", "--output", type=Path, help="also write it to this file (.csv or .md)")
    _as_json(sp)


def _backup_parsers(sub: Any) -> None:
    """export, import, migrate, reindex: the operator's backup commands."""
    sp = sub.add_parser("export", help="write one chat (or all) to a backup file")
    which = sp.add_mutually_exclusive_group(required=True)
    which.add_argument("--chat", type=int, help="chat id to export")
    which.add_argument("--all", action="store_true", help="export every chat")
    sp.add_argument(
        "-o", "--output", type=Path, required=True, help="backup file (.jsonl.gz: compressed)"
    )

    sp = sub.add_parser("import", help="load a backup file (replaces those chats' data)")
    sp.add_argument("file", type=Path, help="a file written by `papertutor export`")
    sp.add_argument("--chat", type=int, help="import only this chat")
    sp.add_argument(
        "--reembed",
        action="store_true",
        help="compute the vectors with the configured model (backup from another model)",
    )

    sp = sub.add_parser("migrate", help="copy everything to a Qdrant server or another data dir")
    sp.add_argument("--to", required=True, metavar="URL_OR_PATH", help="server URL or data dir")
    sp.add_argument("--api-key", help="API key of the target Qdrant server")

    sp = sub.add_parser("reindex", help="rebuild all vectors with the configured embedding model")
    sp.add_argument(
        "--backup-dir", type=Path, help="where the safety backup goes (default: DATA_DIR/backups)"
    )
