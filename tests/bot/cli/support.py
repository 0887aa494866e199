"""What the CLI tests share: the chats they use, running a command for its ``--json`` reply,
and ingesting the paper and the lecture the ``env`` fixture (conftest.py) writes."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.cli import main

__all__ = ["CHAT", "OTHER", "VIDEO_URL", "ingest_both", "run_json"]

CHAT, OTHER = 5, 6
VIDEO_URL = "https://youtu.be/dQw4w9WgXcQ"


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> Any:
    assert main([*argv, "--json"]) == 0, capsys.readouterr().err
    return json.loads(capsys.readouterr().out)


def ingest_both(capsys: pytest.CaptureFixture[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    paper = run_json(capsys, "ingest", "paper.pdf", "--chat", str(CHAT))
    video = run_json(
        capsys, "ingest", "lecture.srt", "--chat", str(CHAT), "--url", VIDEO_URL,
        "--title", "Attention lecture",
    )  # fmt: skip
    return paper, video
