"""Backups, migration and re-indexing between embedded stores: what a restored chat gets back."""

from __future__ import annotations

import gzip
import hashlib
import json
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from kernel.errors import ConfigError, InputError, NotFoundError
from storage import backup
from storage.qdrant.index import QdrantIndex
from storage.store import KnowledgeStore, chunk_id
from tests.fakes.embedding import TEST_MODEL_NAME, test_embedder
from tests.storage.support import assert_same_chat, fill, open_store, paper


@pytest.fixture
def source(tmp_path: Path) -> Iterator[KnowledgeStore]:
    st = open_store(tmp_path / "src")
    fill(st, 7)
    fill(st, -1001, with_video=False)
    yield st
    st.close()


def test_a_restored_store_answers_and_remembers_exactly_like_the_original(
    source: KnowledgeStore, tmp_path: Path
) -> None:
    file = tmp_path / "all.jsonl.gz"
    summary = backup.export_backup(source.index, file)

    assert sorted(summary.counts) == [-1001, 7]
    assert summary.counts[7] == {"chunks": 7, "sources": 2, "notes": 3, "history": 5, "study": 2}
    target = open_store(tmp_path / "dst")
    try:
        restored = backup.import_backup(target.index, file, expect_model=TEST_MODEL_NAME)
        assert restored.counts == summary.counts
        assert restored.replaced == ()
        for chat in (7, -1001):
            assert_same_chat(source, target, chat)
        assert target.search(7, "GPUs", k=1)[0].page == 3  # still cites the page
    finally:
        target.close()


def test_the_file_is_documented_json_lines(source: KnowledgeStore, tmp_path: Path) -> None:
    file = tmp_path / "chat7.jsonl.gz"
    backup.export_backup(source.index, file, chats=[7])

    with gzip.open(file, "rt", encoding="utf-8") as f:
        lines = [json.loads(line) for line in f]
    header, points, end = lines[0], lines[1:-1], lines[-1]
    assert header["format"] == "papertutor-backup"
    assert header["version"] == 2
    assert (header["model"], header["dim"], header["chats"]) == (TEST_MODEL_NAME, 384, [7])
    assert {p["chat_id"] for p in points} == {7}
    chunk = next(p for p in points if p["kind"] == "chunks")
    assert len(chunk["dense"]) == 384
    assert chunk["sparse"]["indices"]
    assert end == {
        "type": "end",
        "points": len(points),
        "counts": {"7": backup_counts(points)},
        "files": {"7": 0},
    }
    assert [p["kind"] for p in points].index("sources") > 0  # chunks come first


def backup_counts(points: Sequence[dict[str, object]]) -> dict[str, int]:
    kinds = [p["kind"] for p in points]
    return {k: kinds.count(k) for k in ("chunks", "sources", "notes", "history", "study")}


def test_a_backup_from_before_generations_still_imports(
    source: KnowledgeStore, tmp_path: Path
) -> None:
    """Files written before sources had generations: chunks and records carry none (and the
    old chunk ids). They import, search and replace like any other."""
    file = tmp_path / "new.jsonl"
    backup.export_backup(source.index, file, chats=[7])
    old_style = tmp_path / "old.jsonl"
    with file.open(encoding="utf-8") as f, old_style.open("w", encoding="utf-8") as out:
        for raw in f:
            line = json.loads(raw)
            payload = line.get("payload") or {}
            for field in ("generation", "pending", "pending_since"):
                payload.pop(field, None)
            if line.get("kind") == "chunks":
                line["id"] = chunk_id(payload["source_id"], int(payload["ordinal"]))
            out.write(json.dumps(line, ensure_ascii=False) + "\n")
    target = open_store(tmp_path / "dst")
    try:
        backup.import_backup(target.index, old_style, expect_model=TEST_MODEL_NAME)
        assert not target.recover()
        assert target.search(7, "GPUs", k=1)[0].page == 3
        assert [r.generation for r in target.sources(7)] == [0, 0]
        replaced = target.add_source(7, paper(fingerprint="sha256:paper7"))
        assert replaced.generation == 1
        assert target.index.count_chunks(7, replaced.source_id) == replaced.chunks
        assert target.search(7, "GPUs", k=1)[0].page == 3
    finally:
        target.close()


def test_one_chat_replaces_only_that_chat(source: KnowledgeStore, tmp_path: Path) -> None:
    file = tmp_path / "chat7.jsonl"  # plain JSON Lines without .gz
    backup.export_backup(source.index, file, chats=[7])
    target = open_store(tmp_path / "dst")
    try:
        target.add_source(7, paper(fingerprint="sha256:other", texts=("Old text only.",)))
        fill(target, 42, with_video=False)

        summary = backup.import_backup(target.index, file)

        assert summary.replaced == (7,)
        assert_same_chat(source, target, 7)
        assert [s.title for s in target.sources(42)] == ["Attention Is All You Need"]
        assert len(target.notes(42)) == 3  # the other chat is untouched
        assert target.sources(-1001) == []
    finally:
        target.close()


def test_import_of_one_chat_from_a_full_backup(source: KnowledgeStore, tmp_path: Path) -> None:
    file = tmp_path / "all.jsonl.gz"
    backup.export_backup(source.index, file)
    target = open_store(tmp_path / "dst")
    try:
        summary = backup.import_backup(target.index, file, chats=[-1001])
        assert list(summary.counts) == [-1001]
        assert_same_chat(source, target, -1001)
        assert target.sources(7) == []
        with pytest.raises(NotFoundError):
            backup.import_backup(target.index, file, chats=[99])
    finally:
        target.close()


def test_another_model_is_refused_not_mixed(source: KnowledgeStore, tmp_path: Path) -> None:
    file = tmp_path / "all.jsonl.gz"
    backup.export_backup(source.index, file)

    with pytest.raises(ConfigError) as err:
        backup.import_backup(QdrantIndex(path=tmp_path / "a"), file, expect_model="BAAI/bge-m3")
    assert TEST_MODEL_NAME in err.value.message("en")
    assert "--reembed" in err.value.message("zh")

    other = QdrantIndex(path=tmp_path / "b")
    other.open("BAAI/bge-small-zh-v1.5", 512)
    with pytest.raises(ConfigError) as err:
        backup.import_backup(other, file)
    assert "cannot be mixed" in err.value.message("en")
    assert other.chats() == []  # nothing was written
    other.close()


def rewrite(file: Path, edit: dict[str, object] | None = None, drop_last: bool = False) -> Path:
    with gzip.open(file, "rt", encoding="utf-8") as f:
        lines = f.read().splitlines()
    head = json.loads(lines[0]) | (edit or {})
    lines = [json.dumps(head), *lines[1 : -1 if drop_last else None]]
    out = file.with_name("edited.jsonl")
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return out


def test_unknown_versions_and_incomplete_files_are_refused(
    source: KnowledgeStore, tmp_path: Path
) -> None:
    file = tmp_path / "all.jsonl.gz"
    backup.export_backup(source.index, file)
    target = QdrantIndex(path=tmp_path / "dst")
    try:
        with pytest.raises(InputError) as err:
            backup.import_backup(target, rewrite(file, {"version": 3}))
        assert "version 3" in err.value.message("en")
        with pytest.raises(InputError) as err:
            backup.import_backup(target, rewrite(file, drop_last=True))
        assert "incomplete" in err.value.message("en")
        with pytest.raises(InputError):
            backup.import_backup(target, rewrite(file, {"format": "something-else"}))
        assert target.chats() == []
    finally:
        target.close()


def tree_digest(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.name != ".lock"
    }


@pytest.mark.parametrize("shared", [False, True], ids=["per-chat", "server-layout"])
def test_migrate_copies_everything_and_leaves_the_source_untouched(
    tmp_path: Path, shared: bool
) -> None:
    src = open_store(tmp_path / "src")
    fill(src, 7)
    fill(src, -1001, with_video=False)
    src.close()
    before = tree_digest(tmp_path / "src")

    # shared collections with a tenant field = the layout (and code path) of a server
    dst = QdrantIndex(path=tmp_path / "dst", per_chat_collections=not shared)
    src_index = QdrantIndex(path=tmp_path / "src")
    summary = backup.migrate(src_index, dst)
    src_index.close()
    dst.close()

    assert tree_digest(tmp_path / "src") == before
    assert summary.counts[7] == {"chunks": 7, "sources": 2, "notes": 3, "history": 5, "study": 2}
    a = open_store(tmp_path / "src")
    b = KnowledgeStore(
        QdrantIndex(path=tmp_path / "dst", per_chat_collections=not shared), test_embedder()
    )
    try:
        for chat in (7, -1001):
            assert_same_chat(a, b, chat)
    finally:
        a.close()
        b.close()


def test_reindex_rebuilds_the_vectors_and_keeps_notes(tmp_path: Path) -> None:
    old = QdrantIndex(path=tmp_path / "q")
    old.open("old-model", 384)
    old.close()
    # A store whose meta says "old-model": stand in for vectors of another model.
    reference = open_store(tmp_path / "ref")
    fill(reference, 7)
    file = tmp_path / "ref.jsonl.gz"
    backup.export_backup(reference.index, file)
    stale = rewrite(file, {"model": "old-model"})
    index = QdrantIndex(path=tmp_path / "q")
    backup.import_backup(index, stale)
    with pytest.raises(ConfigError) as err:
        index.open(TEST_MODEL_NAME, 384)
    assert "papertutor reindex" in err.value.message("en")
    assert "papertutor reindex" in err.value.message("zh")

    summary = backup.reindex(index, test_embedder(), tmp_path / "backups")

    assert summary.backup is not None
    assert summary.backup.is_file()
    assert backup.read_header(summary.backup).model == "old-model"
    assert index.stored_model() == (TEST_MODEL_NAME, 384)
    index.close()
    store = open_store(tmp_path / "q")  # the configured model opens again
    try:
        assert_same_chat(reference, store, 7)
    finally:
        store.close()
        reference.close()


def test_papers_files_travel_with_their_chat(source: KnowledgeStore, tmp_path: Path) -> None:
    from kernel.models import FigureKind, PageFigure
    from storage.paper_files import PaperFiles

    sid = source.sources(7)[0].source_id
    kept = PaperFiles(tmp_path / "papers-a")
    figure = PageFigure(
        kind=FigureKind.FIGURE, label="Figure 1", caption="Figure 1: x.", page=1, bbox=(1, 2, 3, 4)
    )
    [record] = kept.save(7, sid, b"%PDF-1.7 paper", [figure])
    kept.put_image(record, b"\x89PNG crop")
    file = tmp_path / "chat7.jsonl.gz"
    summary = backup.export_backup(source.index, file, chats=[7], files=kept)
    assert summary.files == 3  # the PDF, the figure records, the crop

    restored = PaperFiles(tmp_path / "papers-b")
    restored.save(7, sid, b"%PDF-stale", [])  # what the target had is replaced
    target = QdrantIndex(path=tmp_path / "dst")
    try:
        result = backup.import_backup(target, file, files=restored)
    finally:
        target.close()
    assert result.files == 3
    assert restored.original(7, sid) == b"%PDF-1.7 paper"
    assert restored.figures(7) == [record]
    assert restored.image(record) == b"\x89PNG crop"


def test_a_version_1_backup_still_imports(source: KnowledgeStore, tmp_path: Path) -> None:
    file = tmp_path / "all.jsonl.gz"
    backup.export_backup(source.index, file)
    target = QdrantIndex(path=tmp_path / "dst")
    try:
        summary = backup.import_backup(target, rewrite(file, {"version": 1}))
        assert sorted(summary.counts) == sorted(source.index.chats())
    finally:
        target.close()
