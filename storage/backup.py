"""Backups, migration between stores, and re-indexing with another embedding model.

Everything a chat has (sources, chunks with both vectors, notes, history) moves as a stream of
points, so ``papertutor export``/``import``, ``migrate`` (embedded store -> server) and
``reindex`` share one code path, whatever the two stores are. The files kept for a chat's
papers (``storage.paper_files``: the PDFs and figures) travel with them when a ``PaperFiles`` is
given. The file format is described in ``storage.backup_file``.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from kernel.errors import ConfigError, NotFoundError, ServiceError
from storage.backup_file import (
    FORMAT,
    VERSION,
    BackupHeader,
    Counts,
    FileItem,
    Item,
    file_blobs,
    file_items,
    read_header,
    validate,
    write_file,
)
from storage.embedding.embedder import Embedder
from storage.paper_files import PaperFiles
from storage.qdrant.index import KINDS, ExportedPoint, QdrantIndex
from storage.store import indexed_text

__all__ = [
    "FORMAT",
    "VERSION",
    "BackupHeader",
    "Summary",
    "export_backup",
    "import_backup",
    "migrate",
    "read_header",
    "reindex",
]


@dataclass(frozen=True)
class Summary:
    """What was written: points per chat and kind, and the chats whose old data was replaced."""

    model: str
    dim: int
    counts: Counts
    replaced: tuple[int, ...] = ()
    backup: Path | None = field(default=None)  # reindex: the safety copy it wrote first
    files: int = 0  # kept paper files (PDFs, figures) written or copied

    def totals(self) -> dict[str, int]:
        return {kind: sum(c.get(kind, 0) for c in self.counts.values()) for kind in KINDS}


def _model_of(index: QdrantIndex) -> tuple[str, int]:
    found = index.stored_model()
    if found is None:
        raise NotFoundError("store_empty")
    return found


def _items(index: QdrantIndex, chats: Sequence[int]) -> Iterator[Item]:
    """Every point of ``chats``, chat by chat, chunks before the sources that make them visible."""
    for chat in chats:
        for kind in KINDS:
            for point in index.export_points(kind, chat):
                yield chat, kind, point


# -- export --------------------------------------------------------------------------------------


def _file_items(files: PaperFiles | None, chats: Sequence[int]) -> Iterator[FileItem]:
    if files is None:
        return
    for chat in chats:
        for source_id, name, data in files.export(chat):
            yield chat, source_id, name, data


def export_backup(
    index: QdrantIndex,
    path: Path,
    *,
    chats: Sequence[int] | None = None,
    files: PaperFiles | None = None,
) -> Summary:
    """Write ``chats`` (default: all) of ``index`` (and their kept ``files``) to ``path``.
    Reads only from ``index`` and ``files``."""
    model, dim = _model_of(index)
    present = index.chats()
    if chats is None:
        chats = present
    for chat in chats:
        if chat not in present:
            raise NotFoundError("chat_not_stored", chat=chat)
    part = path.with_name(path.name + ".part")  # a failed export leaves no plausible file
    path.parent.mkdir(parents=True, exist_ok=True)
    blobs = list(_file_items(files, chats))
    counts = write_file(part, model, dim, chats, _items(index, chats), blobs)
    part.replace(path)
    return Summary(model, dim, counts, files=len(blobs))


# -- writing -------------------------------------------------------------------------------------


def _reembedded(points: Iterator[ExportedPoint], embedder: Embedder) -> Iterator[ExportedPoint]:
    """Chunks with dense vectors recomputed from what they are indexed by (sparse vectors are
    model-free)."""
    while batch := list(itertools.islice(points, 32)):
        texts = [
            indexed_text(str(p.payload.get("text", "")), p.payload.get("section")) for p in batch
        ]
        vectors = embedder.embed_passages(texts)
        for p, vector in zip(batch, vectors, strict=True):
            yield ExportedPoint(p.point_id, p.payload, vector, p.sparse)


def _write(
    dst: QdrantIndex, items: Iterator[Item], reembed: Embedder | None
) -> tuple[Counts, tuple[int, ...]]:
    """Replace each chat's data in ``dst`` by its items (grouped by chat, then kind)."""
    counts: Counts = {}
    replaced: list[int] = []
    for chat, group in itertools.groupby(items, key=lambda item: item[0]):
        if chat not in counts:  # first time this chat appears: clear what dst had
            if any(dst.count_points(kind, chat) for kind in KINDS):
                replaced.append(chat)
                dst.delete_chat(chat)
            counts[chat] = dict.fromkeys(KINDS, 0)
        for kind, points in itertools.groupby(group, key=lambda item: item[1]):
            stream: Iterator[ExportedPoint] = (p for _, _, p in points)
            if kind == "chunks" and reembed is not None:
                stream = _reembedded(stream, reembed)
            counts[chat][kind] += dst.import_points(kind, chat, stream)
    return counts, tuple(replaced)


def _verify(dst: QdrantIndex, expected: Counts, what: tuple[str, str]) -> None:
    wrong = [
        f"chat {chat} {kind}: {dst.count_points(kind, chat)}/{n}"
        for chat, kinds in expected.items()
        for kind, n in kinds.items()
        if dst.count_points(kind, chat) != n
    ]
    if wrong:
        raise ServiceError("copy_count", what_zh=what[0], what_en=what[1], wrong="; ".join(wrong))


def _open_target(dst: QdrantIndex, model: str, dim: int, hint_zh: str, hint_en: str) -> None:
    """Open ``dst`` for ``model``; a store built with another model is refused, not mixed."""
    found = dst.stored_model()
    if found is not None and found != (model, dim):
        raise ConfigError(
            "target_model",
            stored=found[0],
            stored_dim=found[1],
            model=model,
            dim=dim,
            hint_zh=hint_zh,
            hint_en=hint_en,
        )
    dst.open(model, dim)


def import_backup(
    dst: QdrantIndex,
    path: Path,
    *,
    chats: Sequence[int] | None = None,
    expect_model: str | None = None,
    reembed: Embedder | None = None,
    files: PaperFiles | None = None,
) -> Summary:
    """Load ``chats`` (default: all in the file) into ``dst``, replacing their data there.

    Without ``reembed`` the vectors are used as they are, so the file's model must be
    ``expect_model`` (the configured one) and the store's. With ``reembed`` every chunk's dense
    vector is computed again by that embedder (another model: this is how ``reindex`` works).
    """
    header = read_header(path)
    if reembed is None and expect_model is not None and header.model != expect_model:
        raise ConfigError("backup_model", path=path, model=header.model, expected=expect_model)
    in_file = validate(path, header, check_dense=reembed is None)
    wanted = list(in_file) if chats is None else list(chats)
    missing = [c for c in wanted if c not in in_file]
    if missing:
        raise NotFoundError("chat_not_in_backup", path=path, chat=missing[0])
    model, dim = (reembed.model_name, reembed.dim) if reembed else (header.model, header.dim)
    _open_target(
        dst,
        model,
        dim,
        "请导入到空的知识库，或加 --reembed 用当前模型重新计算向量。",
        "Import into an empty store, or use --reembed to compute vectors with its model.",
    )
    counts, replaced = _write(dst, file_items(path, wanted), reembed)
    expected = {c: in_file[c] for c in wanted}
    _verify(dst, expected, ("导入", "import"))
    restored = 0
    if files is not None:  # the chats' kept files are replaced by the backup's
        for chat in wanted:
            files.delete_chat(chat)
        for chat, source_id, name, data in file_blobs(path, wanted):
            files.restore(chat, source_id, name, data)
            restored += 1
    return Summary(
        model,
        dim,
        counts | {c: expected[c] for c in wanted if c not in counts},
        replaced,
        files=restored,
    )


def migrate(
    src: QdrantIndex,
    dst: QdrantIndex,
    *,
    files: tuple[PaperFiles, PaperFiles] | None = None,
) -> Summary:
    """Copy every chat of ``src`` into ``dst`` (streamed), then check the counts match;
    with ``files`` (from, to), the chats' kept files are copied too.

    ``src`` is only read (its model record included); ``dst`` chats that ``src`` also has are
    replaced, others are left alone.
    """
    model, dim = _model_of(src)
    _open_target(
        dst,
        model,
        dim,
        "请迁移到空的知识库（或另一个集合前缀）。",
        "Migrate into an empty store (or another collection prefix).",
    )
    chats = src.chats()
    counts, replaced = _write(dst, _items(src, chats), None)
    expected = {chat: {kind: src.count_points(kind, chat) for kind in KINDS} for chat in chats}
    _verify(dst, expected, ("迁移", "migration"))
    copied = 0
    if files is not None and files[0].root.resolve() != files[1].root.resolve():
        source, target = files
        for chat in chats:
            target.delete_chat(chat)
            for source_id, name, data in source.export(chat):
                target.restore(chat, source_id, name, data)
                copied += 1
    return Summary(model, dim, counts, replaced, files=copied)


def reindex(index: QdrantIndex, embedder: Embedder, backup_dir: Path) -> Summary:
    """Rebuild every chunk vector with ``embedder``'s model; sources, notes, history are kept.

    Writes a full backup to ``backup_dir`` first; if anything fails after that, nothing is
    lost: ``papertutor import <backup> --reembed`` finishes the job.
    """
    found = index.stored_model()
    target = (embedder.model_name, embedder.dim)
    if found is None or found == target:
        index.open(*target)
        return Summary(*target, counts={})
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    backup = backup_dir / f"before-reindex-{stamp}.jsonl.gz"
    export_backup(index, backup)
    try:
        index.delete_all()
        index.open(*target)
        summary = import_backup(index, backup, reembed=embedder)
    except Exception as exc:
        raise ServiceError("reindex_failed", reason=exc, backup=backup) from exc
    return Summary(summary.model, summary.dim, summary.counts, backup=backup)
