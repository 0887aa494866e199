"""``papertutor figures`` and ``papertutor figure``: the paper's figures and tables from the CLI.

``figures --chat ID [--json]`` lists them (``{"figures": [{"figure_id", "kind", "label",
"caption", "page", "source_id"}]}``); ``figure FIGURE_ID --chat ID -o f.png`` writes one crop.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bot import cli_output as out
from kernel.models import Figure

__all__ = ["COMMANDS", "add_parsers", "figure_json"]


def add_parsers(
    sub: Any,
    chat: Callable[[argparse.ArgumentParser], None],
    as_json: Callable[[argparse.ArgumentParser], None],
) -> None:
    """Register the commands on the CLI's subparsers (``chat`` and ``as_json`` add the
    common options)."""
    sp = sub.add_parser("figures", help="list the figures and tables found in the chat's papers")
    chat(sp)
    as_json(sp)
    sp = sub.add_parser("figure", help="write one figure or table as a PNG image")
    sp.add_argument("figure_id", help="an id from `papertutor figures`")
    chat(sp)
    sp.add_argument("-o", "--output", type=Path, required=True, help="the .png file to write")


def figure_json(figure: Figure) -> dict[str, Any]:
    return {
        "figure_id": figure.figure_id,
        "kind": figure.kind.value,
        "label": figure.label,
        "caption": figure.caption,
        "page": figure.page,
        "source_id": figure.source_id,
    }


def _format(figure: Figure) -> str:
    caption = figure.caption if len(figure.caption) <= 100 else figure.caption[:99] + "…"
    return f"{figure.figure_id}  {figure.label} (p. {figure.page})  {caption}"


async def _figures(services: Any, args: argparse.Namespace) -> None:
    figures = await services.pages.figures(args.chat)
    payload = {"figures": [figure_json(f) for f in figures]}
    out.emit(payload, args.json, "\n".join(_format(f) for f in figures) or "(no figures)")


async def _figure(services: Any, args: argparse.Namespace) -> None:
    figure = await services.pages.figure(args.chat, args.figure_id)
    png = await services.pages.image(figure)
    path: Path = args.output

    def write() -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        part = path.with_name(path.name + ".part")
        part.write_bytes(png)
        part.replace(path)

    await asyncio.to_thread(write)
    print(f"{path}: {figure.label} (p. {figure.page}), {len(png)} bytes")


COMMANDS = {"figures": _figures, "figure": _figure}
