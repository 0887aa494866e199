"""The Paper Tutor backup file: writing it, and reading it back with every check first.

Backup file format, version 2 (JSON Lines, gzip'd when the name ends in ``.gz``; UTF-8):

- line 1, the header: ``{"type": "header", "format": "papertutor-backup", "version": 1,
  "model": "<embedding model>", "dim": <int>, "created_at": "<ISO 8601 UTC>",
  "chats": [<chat id>, ...]}``
- then one line per point, grouped by chat, chunks first: ``{"type": "point",
  "kind": "chunks" | "sources" | "notes" | "history" | "study", "chat_id": <int>, "id": "<uuid>",
  "payload": {...}, "dense": [<float>, ...] | null, "sparse": {"indices": [...],
  "values": [...]} | null}`` (vectors only for chunks; payloads exactly as stored)
- then one line per file kept for a chat's papers (version 2): ``{"type": "file",
  "chat_id": <int>, "source_id": "<uuid>", "name": "paper.pdf" | "figures.json" |
  "<figure id>.png", "data": "<base64>"}``
- last line, the trailer: ``{"type": "end", "points": <int>, "counts": {"<chat id>":
  {"<kind>": <int>}}, "files": {"<chat id>": <int>}}``. A file without it is incomplete and is
  refused.

A reader refuses other formats and newer versions (version 1, without files, is read as
before); fields it does not know are ignored, so a reader stays valid while fields are only
added. Chunk and source payloads gained a ``generation`` (which indexing of a source the chunks
belong to); files written before carry none, which the store reads as generation 0, so they
import as they are.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import itertools
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, Final

from kernel.errors import InputError
from storage.embedding.sparse import SparseVec
from storage.qdrant.index import KINDS, ExportedPoint

__all__ = [
    "FORMAT",
    "VERSION",
    "BackupHeader",
    "Counts",
    "FileItem",
    "Item",
    "file_blobs",
    "file_items",
    "read_header",
    "validate",
    "write_file",
]

FORMAT: Final = "papertutor-backup"
VERSION: Final = 2
_READABLE: Final = (1, 2)
Counts = dict[int, dict[str, int]]  # chat -> kind -> points
Item = tuple[int, str, ExportedPoint]  # chat, kind, point
FileItem = tuple[int, str, str, bytes]  # chat, source id, file name, contents


@dataclass(frozen=True)
class BackupHeader:
    model: str
    dim: int
    created_at: str
    chats: tuple[int, ...]


def write_file(
    path: Path,
    model: str,
    dim: int,
    chats: Sequence[int],
    items: Iterable[Item],
    files: Iterable[FileItem] = (),
) -> Counts:
    """Write a backup of ``items`` (grouped by chat) and ``files`` to ``path``; returns the
    point counts."""
    counts: Counts = {chat: dict.fromkeys(KINDS, 0) for chat in chats}
    kept: dict[int, int] = dict.fromkeys(chats, 0)
    with _open_write(path) as out:
        header = {
            "type": "header",
            "format": FORMAT,
            "version": VERSION,
            "model": model,
            "dim": dim,
            "created_at": datetime.now(UTC).isoformat(),
            "chats": list(chats),
        }
        out.write(json.dumps(header, ensure_ascii=False) + "\n")
        for chat, kind, p in items:
            line = {
                "type": "point",
                "kind": kind,
                "chat_id": chat,
                "id": p.point_id,
                "payload": p.payload,
                "dense": p.dense,
                "sparse": {"indices": p.sparse.indices, "values": p.sparse.values}
                if p.sparse
                else None,
            }
            out.write(json.dumps(line, ensure_ascii=False) + "\n")
            counts[chat][kind] += 1
        for chat, source_id, name, data in files:
            line = {
                "type": "file",
                "chat_id": chat,
                "source_id": source_id,
                "name": name,
                "data": base64.b64encode(data).decode("ascii"),
            }
            out.write(json.dumps(line) + "\n")
            kept[chat] = kept.get(chat, 0) + 1
        total = sum(sum(c.values()) for c in counts.values())
        trailer = {
            "type": "end",
            "points": total,
            "counts": _counts_json(counts),
            "files": {str(chat): n for chat, n in kept.items()},
        }
        out.write(json.dumps(trailer) + "\n")
    return counts


def _open_write(path: Path) -> IO[str]:
    if path.name.removesuffix(".part").endswith(".gz"):
        # Level 6: level 9 (the default) takes twice as long for about the same size.
        return gzip.open(path, "wt", encoding="utf-8", compresslevel=6)
    return path.open("w", encoding="utf-8")


def _counts_json(counts: Counts) -> dict[str, dict[str, int]]:
    return {str(chat): dict(kinds) for chat, kinds in counts.items()}


# -- reading -------------------------------------------------------------------------------------


def _not_a_backup(path: Path, why: str) -> InputError:
    return InputError("not_backup", path=path, why=why)


def _lines(path: Path) -> Iterator[dict[str, Any]]:
    if not path.is_file():
        raise InputError("no_file", path=path)
    with path.open("rb") as raw:
        gz = raw.read(2) == b"\x1f\x8b"
    try:
        with gzip.open(path, "rt", encoding="utf-8") if gz else path.open(encoding="utf-8") as f:
            for n, line in enumerate(f, start=1):
                if line.strip():
                    try:
                        yield json.loads(line)
                    except ValueError as exc:
                        raise _not_a_backup(path, f"line {n} is not JSON") from exc
    except (OSError, EOFError, UnicodeDecodeError) as exc:
        raise _not_a_backup(path, str(exc)) from exc


def _parse_header(path: Path, first: dict[str, Any] | None) -> BackupHeader:
    if not first or first.get("format") != FORMAT:
        raise _not_a_backup(path, "no papertutor-backup header")
    version = first.get("version")
    if version not in _READABLE:
        raise InputError("backup_version", path=path, version=version, known=VERSION)
    return BackupHeader(
        str(first["model"]),
        int(first["dim"]),
        str(first.get("created_at", "")),
        tuple(int(c) for c in first.get("chats", ())),
    )


def read_header(path: Path) -> BackupHeader:
    """The header of a backup file (model, dim, chats); refuses unknown formats and versions."""
    return _parse_header(path, next(_lines(path), None))


def validate(path: Path, header: BackupHeader, check_dense: bool) -> Counts:
    """Read the whole file once before writing anything: complete, consistent, right dims."""
    counts: Counts = {}
    kept: dict[str, int] = {}
    end: dict[str, Any] | None = None
    for line in itertools.islice(_lines(path), 1, None):
        if line.get("type") == "end":
            end = line
            break
        if line.get("type") == "file":
            fields = (line.get("chat_id"), line.get("source_id"), line.get("name"))
            if not isinstance(fields[0], int) or not all(isinstance(f, str) for f in fields[1:]):
                raise _not_a_backup(path, f"unexpected line {str(line)[:80]}")
            try:
                base64.b64decode(str(line.get("data", "")), validate=True)
            except binascii.Error as exc:
                raise _not_a_backup(path, f"file {fields[2]} is not base64") from exc
            kept[str(fields[0])] = kept.get(str(fields[0]), 0) + 1
            continue
        kind, chat = line.get("kind"), line.get("chat_id")
        if line.get("type") != "point" or kind not in KINDS or not isinstance(chat, int):
            raise _not_a_backup(path, f"unexpected line {str(line)[:80]}")
        dense = line.get("dense")
        if kind == "chunks" and check_dense and (not dense or len(dense) != header.dim):
            raise _not_a_backup(path, f"chunk {line.get('id')} has no {header.dim}-dim vector")
        counts.setdefault(chat, dict.fromkeys(KINDS, 0))[kind] += 1
    if end is None:
        raise _not_a_backup(path, "the end line is missing: the file is incomplete")
    if end.get("counts") != _counts_json(counts):
        raise _not_a_backup(path, "the point counts do not match its end line")
    if {k: v for k, v in end.get("files", {}).items() if v} != kept:
        raise _not_a_backup(path, "the file counts do not match its end line")
    return counts


def _point(line: dict[str, Any]) -> ExportedPoint:
    sparse = line.get("sparse")
    return ExportedPoint(
        point_id=str(line["id"]),
        payload=dict(line["payload"]),
        dense=line.get("dense"),
        sparse=SparseVec(list(sparse["indices"]), list(sparse["values"])) if sparse else None,
    )


def file_items(path: Path, chats: Sequence[int] | None) -> Iterator[Item]:
    for line in itertools.islice(_lines(path), 1, None):
        if line.get("type") == "end":
            return
        if line.get("type") == "point" and (chats is None or line["chat_id"] in chats):
            yield int(line["chat_id"]), str(line["kind"]), _point(line)


def file_blobs(path: Path, chats: Sequence[int] | None) -> Iterator[FileItem]:
    """The kept files in a (validated) backup, of ``chats`` (default: all)."""
    for line in itertools.islice(_lines(path), 1, None):
        if line.get("type") == "end":
            return
        if line.get("type") == "file" and (chats is None or line["chat_id"] in chats):
            data = base64.b64decode(str(line["data"]))
            yield int(line["chat_id"]), str(line["source_id"]), str(line["name"]), data
