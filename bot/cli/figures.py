"""``papertutor figures`` and ``papertutor figure``: the paper's figures and tables from the CLI.

``figures --chat ID [--json]`` lists them (``{"figures": [{"figure_id", "kind", "label",
"caption", "page", "source_id"}]}``); ``figure FIGURE_ID --chat ID -o f.png`` writes one crop.
Their options are in ``bot.cli.parser``.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import Any

from bot.cli import output as out
from kernel.models import Figure

__all__ = ["COMMANDS", "figure_json"]


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
