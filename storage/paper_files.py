"""Files kept beside the index for each chat's papers: the PDF as sent, and its figures.

The PDF is what a cited passage or a figure is rendered from, exactly as printed; the figures
and tables found at ingestion are records (label, caption, page, region) with their crops,
rendered the first time they are shown and kept. Files, not Qdrant payloads: embedded Qdrant
holds every payload in memory, and a PDF can be tens of megabytes.

Layout under ``root`` (``DATA_DIR/papers``): ``<chat>/<source_id>/paper.pdf``, ``figures.json``
and ``<figure_id>.png`` for each crop rendered so far. A source's folder is written whole under
a temporary name and renamed into place, so a reader finds the old set or the new one, never
half of one; a crop is written to a temporary file and renamed. Every method is scoped to one
chat, and paths are built only from ids checked against their shape. Thread-safe: writes are
renames, and the bot ingests one source of a chat at a time.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import uuid
from collections.abc import Collection, Iterator, Sequence
from pathlib import Path

from kernel.models import Figure, PageFigure

__all__ = ["PaperFiles", "figure_id_for"]

_SOURCE_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_FIGURE_ID = re.compile(r"^([0-9a-f]{8})-(\d{1,4})$")
_PDF, _RECORDS = "paper.pdf", "figures.json"
_FILE_NAME = re.compile(r"^(?:paper\.pdf|figures\.json|[0-9a-f]{8}-\d{1,4}\.png)$")
_CHAT = re.compile(r"^-?\d+$")


def figure_id_for(source_id: str, n: int) -> str:
    """The id of a source's ``n``-th figure (1-based): short enough to type in the CLI and to
    fit a Telegram button, e.g. ``3f2a9c1e-4``."""
    return f"{source_id[:8]}-{n}"


def _write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file renamed over it."""
    part = path.with_name(f".{path.name}.{uuid.uuid4().hex}.part")
    part.write_bytes(data)
    os.replace(part, path)


class PaperFiles:
    """The PDF and the figures of each chat's papers, under one folder."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _chat(self, chat_id: int) -> Path:
        return self.root / str(int(chat_id))

    def _source(self, chat_id: int, source_id: str) -> Path:
        if not _SOURCE_ID.match(source_id):
            raise ValueError(f"not a source id: {source_id!r}")
        return self._chat(chat_id) / source_id

    # -- writing ----------------------------------------------------------------------------

    def save(
        self, chat_id: int, source_id: str, pdf: bytes, figures: Sequence[PageFigure]
    ) -> list[Figure]:
        """Keep the PDF and the figure records of a source, replacing an earlier set whole."""
        target = self._source(chat_id, source_id)
        records = [
            Figure(
                chat_id=chat_id,
                source_id=source_id,
                figure_id=figure_id_for(source_id, n),
                **f.model_dump(),
            )
            for n, f in enumerate(figures, start=1)
        ]
        target.parent.mkdir(parents=True, exist_ok=True)
        fresh = target.with_name(f".{source_id}.{uuid.uuid4().hex}.new")
        fresh.mkdir()
        try:
            (fresh / _PDF).write_bytes(pdf)
            payload = [r.model_dump(mode="json") for r in records]
            (fresh / _RECORDS).write_text(json.dumps(payload, ensure_ascii=False), "utf-8")
            old = target.with_name(f".{source_id}.{uuid.uuid4().hex}.old")
            if target.exists():
                os.replace(target, old)
            os.replace(fresh, target)
        except BaseException:
            shutil.rmtree(fresh, ignore_errors=True)
            raise
        shutil.rmtree(old, ignore_errors=True)
        return records

    def put_image(self, figure: Figure, png: bytes) -> None:
        """Keep a rendered crop (ignored if the figure's source has gone meanwhile)."""
        folder = self._source(figure.chat_id, figure.source_id)
        if folder.is_dir():
            _write_bytes(folder / f"{figure.figure_id}.png", png)

    def delete_source(self, chat_id: int, source_id: str) -> None:
        shutil.rmtree(self._source(chat_id, source_id), ignore_errors=True)

    def delete_chat(self, chat_id: int) -> None:
        shutil.rmtree(self._chat(chat_id), ignore_errors=True)

    # -- reading ----------------------------------------------------------------------------

    def original(self, chat_id: int, source_id: str) -> bytes | None:
        """The PDF as the student sent it, or None if it was not kept."""
        try:
            return (self._source(chat_id, source_id) / _PDF).read_bytes()
        except FileNotFoundError:
            return None

    def _records(self, folder: Path) -> list[Figure]:
        try:
            raw = json.loads((folder / _RECORDS).read_text("utf-8"))
        except FileNotFoundError:
            return []
        return [Figure.model_validate(item) for item in raw]

    def figures(self, chat_id: int, source_ids: Collection[str] | None = None) -> list[Figure]:
        """The chat's figures (of ``source_ids`` only, if given), by source, then in order."""
        chat = self._chat(chat_id)
        if not chat.is_dir():
            return []
        found: list[Figure] = []
        for folder in sorted(chat.iterdir()):
            if not _SOURCE_ID.match(folder.name):
                continue  # a folder being written or removed
            if source_ids is not None and folder.name not in source_ids:
                continue
            found += [f for f in self._records(folder) if f.chat_id == chat_id]
        return found

    def figure(self, chat_id: int, figure_id: str) -> Figure | None:
        m = _FIGURE_ID.match(figure_id.strip())
        chat = self._chat(chat_id)
        if m is None or not chat.is_dir():
            return None
        for folder in chat.iterdir():
            if folder.name.startswith(m.group(1)) and _SOURCE_ID.match(folder.name):
                for f in self._records(folder):
                    if f.figure_id == figure_id.strip() and f.chat_id == chat_id:
                        return f
        return None

    def image(self, figure: Figure) -> bytes | None:
        """The crop, if it has been rendered before."""
        try:
            path = self._source(figure.chat_id, figure.source_id) / f"{figure.figure_id}.png"
            return path.read_bytes()
        except FileNotFoundError:
            return None

    # -- backups ----------------------------------------------------------------------------

    def chats(self) -> list[int]:
        """The chats that have kept files."""
        if not self.root.is_dir():
            return []
        return sorted(int(p.name) for p in self.root.iterdir() if _CHAT.match(p.name))

    def export(self, chat_id: int) -> Iterator[tuple[str, str, bytes]]:
        """Every kept file of a chat as ``(source_id, name, bytes)`` (for a backup)."""
        chat = self._chat(chat_id)
        if not chat.is_dir():
            return
        for folder in sorted(chat.iterdir()):
            if not _SOURCE_ID.match(folder.name):
                continue
            for path in sorted(folder.iterdir()):
                if _FILE_NAME.match(path.name):
                    yield folder.name, path.name, path.read_bytes()

    def restore(self, chat_id: int, source_id: str, name: str, data: bytes) -> None:
        """Put back one file ``export`` gave (names of another shape are refused)."""
        if not _FILE_NAME.match(name):
            raise ValueError(f"not a kept file's name: {name!r}")
        folder = self._source(chat_id, source_id)
        folder.mkdir(parents=True, exist_ok=True)
        _write_bytes(folder / name, data)
