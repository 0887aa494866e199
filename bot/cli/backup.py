"""``papertutor export|import|migrate|reindex``: the operator's backup and migration commands.

They work on the stores directly (``storage.backup``), without the tutoring services: no LLM,
and no embedding model unless vectors must be computed (``reindex``, ``import --reembed``), so
a store built with another model can still be exported. The embedded store allows one process:
these commands run while the bot is stopped (a Qdrant server may stay in use). Each one first
recovers the store it opens (``storage.recovery``) and says on stderr what that put right.
"""

from __future__ import annotations

import argparse

from bot.cli.output import report_recovery
from bot.settings import Settings, StorageSettings
from kernel.errors import InputError
from storage import backup
from storage.paper_files import PaperFiles
from storage.qdrant.index import QdrantIndex

__all__ = ["run"]


def _open(cfg: StorageSettings, lang: str) -> QdrantIndex:
    """Open a store and put right what an interrupted ingestion left there (saying so)."""
    from bot.app import build_index
    from storage.recovery import recover

    index = build_index(cfg)
    try:
        report_recovery(recover(index), lang)
    except BaseException:
        index.close()
        raise
    return index


def _where(cfg: StorageSettings) -> str:
    return cfg.qdrant_url or str(cfg.qdrant_path.resolve())


def _totals(summary: backup.Summary, lang: str) -> str:
    t = summary.totals()
    if lang == "en":
        files = f", {summary.files} paper files" if summary.files else ""
        return (
            f"{len(summary.counts)} chat(s): {t['sources']} sources, {t['chunks']} chunks, "
            f"{t['notes']} notes, {t['history']} history messages{files}"
        )
    files = f"、论文文件 {summary.files} 个" if summary.files else ""
    return (
        f"{len(summary.counts)} 个聊天：材料 {t['sources']} 份、片段 {t['chunks']} 个、"
        f"笔记 {t['notes']} 条、对话记录 {t['history']} 条{files}"
    )


def _replaced(summary: backup.Summary, lang: str) -> str:
    if not summary.replaced:
        return ""
    chats = ", ".join(str(c) for c in summary.replaced)
    if lang == "en":
        return f"\nreplaced the data these chats already had in the target: {chats}"
    return f"\n目标里这些聊天原有的数据已被替换：{chats}"


def run(args: argparse.Namespace, settings: Settings) -> int:
    from storage import backup
    from storage.recovery import recover

    lang: str = args.lang
    cfg = settings.storage
    if args.command == "migrate":
        from bot.app import storage_at

        target = storage_at(cfg, args.to, args.api_key)
        if _where(target) == _where(cfg):
            raise InputError(
                "迁移的目标就是当前使用的知识库，请换一个地址或目录。",
                "The migration target is the store in use; give another URL or directory.",
            )
        src = _open(cfg, lang)
        try:
            dst = _open(target, lang)
            try:
                files = (PaperFiles(cfg.papers_path), PaperFiles(target.papers_path))
                summary = backup.migrate(src, dst, files=files)
                report_recovery(recover(dst), lang)  # what the copy brought along unfinished
            finally:
                dst.close()
        finally:
            src.close()
        print(
            f"migrated {_totals(summary, lang)} -> {_where(target)} (counts verified)"
            if lang == "en"
            else f"已迁移 {_totals(summary, lang)} -> {_where(target)}（数量已核对）"
        )
        print(_replaced(summary, lang).strip() or _next_step(target, lang))
        return 0
    index = _open(cfg, lang)
    try:
        return _on_index(args, settings, index)
    finally:
        index.close()


def _next_step(target: StorageSettings, lang: str) -> str:
    setting = (
        f"PAPERTUTOR_QDRANT_URL={target.qdrant_url}"
        if target.qdrant_url
        else f"PAPERTUTOR_DATA_DIR={target.data_dir}"
    )
    if lang == "en":
        return f"the source store is unchanged; to use the copy, set {setting}"
    return f"原知识库没有改动；要使用新的副本，请设置 {setting}"


def _on_index(args: argparse.Namespace, settings: Settings, index: QdrantIndex) -> int:
    from storage import backup
    from storage.recovery import recover

    lang: str = args.lang
    if args.command == "export":
        chats = None if args.all else [args.chat]
        files = PaperFiles(settings.storage.papers_path)
        summary = backup.export_backup(index, args.output, chats=chats, files=files)
        print(
            f"exported {_totals(summary, lang)} to {args.output}"
            if lang == "en"
            else f"已导出 {_totals(summary, lang)} 到 {args.output}"
        )
        return 0
    reembed = args.command == "reindex" or args.reembed
    embedder = None
    if reembed:
        from bot.app import build_embedder

        embedder = build_embedder(settings.embedding)
    try:
        if args.command == "reindex":
            assert embedder is not None
            folder = args.backup_dir or settings.storage.data_dir / "backups"
            summary = backup.reindex(index, embedder, folder)
            if summary.backup is None:
                print(
                    f"the store already uses {summary.model}; nothing to do"
                    if lang == "en"
                    else f"知识库已经在使用 {summary.model}，不需要重建。"
                )
            else:
                print(
                    f"re-indexed {_totals(summary, lang)} with {summary.model}; "
                    f"backup of the old store: {summary.backup}"
                    if lang == "en"
                    else f"已用 {summary.model} 重建 {_totals(summary, lang)}；"
                    f"旧数据的备份：{summary.backup}"
                )
            return 0
        summary = backup.import_backup(
            index,
            args.file,
            chats=None if args.chat is None else [args.chat],
            expect_model=settings.embedding.model,
            reembed=embedder,
            files=PaperFiles(settings.storage.papers_path),
        )
        report_recovery(recover(index), lang)  # what the backup brought along unfinished
    finally:
        if embedder is not None:
            embedder.close()
    print(
        f"imported {_totals(summary, lang)} from {args.file}"
        if lang == "en"
        else f"已从 {args.file} 导入 {_totals(summary, lang)}"
    )
    if text := _replaced(summary, lang).strip():
        print(text)
    return 0
