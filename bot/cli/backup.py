"""``papertutor export|import|migrate|reindex``: the operator's backup and migration commands.

They work on the stores directly (``storage.backup``), without the tutoring services: no LLM,
and no embedding model unless vectors must be computed (``reindex``, ``import --reembed``), so
a store built with another model can still be exported. The embedded store allows one process:
these commands run while the bot is stopped (a Qdrant server may stay in use).
"""

from __future__ import annotations

import argparse

from bot.settings import Settings, StorageSettings
from kernel.errors import ConfigError, InputError
from storage import backup
from storage.index import QdrantIndex
from storage.paper_files import PaperFiles

__all__ = ["run"]


def _open(cfg: StorageSettings, command: str) -> QdrantIndex:
    from bot.app import build_index

    try:
        return build_index(cfg)
    except ConfigError as exc:
        if cfg.qdrant_url:
            raise
        # Embedded: the only ConfigError here is the lock another process (the bot) holds.
        raise ConfigError(
            f"{exc.zh} 请先停止机器人（make run 的进程，或 docker compose stop bot），"
            f"再运行 papertutor {command}。",
            f"{exc.en} Stop the bot first (the `make run` process, or `docker compose stop "
            f"bot`), then run `papertutor {command}` again.",
        ) from exc


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
        src = _open(cfg, "migrate")
        try:
            dst = _open(target, "migrate")
            try:
                files = (PaperFiles(cfg.papers_path), PaperFiles(target.papers_path))
                summary = backup.migrate(src, dst, files=files)
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
    index = _open(cfg, args.command)
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
