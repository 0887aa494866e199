"""Long work a status message shows, remembered on disk until it ends.

A status message ("解析第 3/15 页…") is edited until the work ends. If the process dies in
between (kill -9, a power cut, an out-of-memory kill), nothing would ever edit it again and the
student would wait for ever. So each piece of work is written down (one small JSON file, made
durable before the work starts) and removed when it ends; at the next start
``report_interrupted`` edits every message still written down to say what happened, using
what the store's recovery found (for a re-sent source: the previous version is still there).

Files live in ``<data dir>/jobs/<host name>/``: replicas sharing a data directory each report
only their own work.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from telegram import Bot
from telegram.constants import ParseMode
from telegram.error import BadRequest, TelegramError

from bot.telegram.i18n import t

if TYPE_CHECKING:  # storage loads Qdrant: start-up checks come before it
    from storage.recovery import Recovery

__all__ = ["Job", "JobLedger", "interrupted_text", "report_interrupted"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    """One status message and the work it shows (``kind``: "source" or "report")."""

    chat_id: int
    message_id: int
    lang: str
    kind: str
    name: str = ""

    @property
    def key(self) -> str:
        return f"{self.chat_id}_{self.message_id}".replace("-", "n")


class JobLedger:
    """The work under way, on disk; ``folder`` None keeps nothing (tests, no data directory)."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder / socket.gethostname() if folder is not None else None

    def _path(self, job: Job) -> Path:
        assert self.folder is not None
        return self.folder / f"{job.key}.json"

    def _write(self, job: Job) -> None:
        assert self.folder is not None
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self._path(job)
        partial = path.with_suffix(".partial")
        with partial.open("w", encoding="utf-8") as f:
            json.dump(asdict(job), f, ensure_ascii=False)
            f.flush()
            os.fsync(f.fileno())
        os.replace(partial, path)

    async def begin(self, job: Job) -> None:
        """Write ``job`` down (durably) before its work starts."""
        if self.folder is not None:
            try:
                await asyncio.to_thread(self._write, job)
            except OSError:  # the work goes on; only a crash report would be missed
                log.warning("could not note job %s in %s", job.key, self.folder, exc_info=True)

    async def end(self, job: Job) -> None:
        """The work ended (whatever its outcome): forget it."""
        if self.folder is not None:
            with contextlib.suppress(OSError):
                await asyncio.to_thread(self._path(job).unlink, missing_ok=True)

    def left_over(self) -> list[Job]:
        """Work a previous process began and never ended."""
        if self.folder is None or not self.folder.is_dir():
            return []
        found = []
        for path in sorted(self.folder.glob("*.json")):
            try:
                found.append(Job(**json.loads(path.read_text(encoding="utf-8"))))
            except (OSError, ValueError, TypeError):
                log.warning("unreadable job file %s; removed", path)
                path.unlink(missing_ok=True)
        return found


def interrupted_text(job: Job, recovery: Recovery) -> str:
    """What the student reads in place of a status message whose work was cut short."""
    lang = job.lang
    if job.kind == "report":
        return t(lang, "interrupted_report")
    mine = [i for i in recovery.interrupted if i.chat_id == job.chat_id]
    kept = [i for i in mine if i.kept_previous]
    if kept:
        return t(lang, "interrupted_resend", title=kept[0].title)
    if mine:
        return t(lang, "interrupted_new", title=mine[0].title)
    return t(lang, "interrupted_source", name=job.name or "…")


async def report_interrupted(bot: Bot, ledger: JobLedger, recovery: Recovery) -> int:
    """Edit every status message whose work a previous process left unfinished; how many."""
    jobs = ledger.left_over()
    for job in jobs:
        text = interrupted_text(job, recovery)
        try:
            try:
                await bot.edit_message_text(
                    text, chat_id=job.chat_id, message_id=job.message_id, parse_mode=ParseMode.HTML
                )
            except BadRequest:  # the message was deleted, or is too old to edit
                await bot.send_message(job.chat_id, text, parse_mode=ParseMode.HTML)
        except TelegramError as exc:  # the chat is gone or blocked the bot: nobody to tell
            log.warning("could not tell chat %s its work was interrupted: %s", job.chat_id, exc)
        await ledger.end(job)
    if jobs:
        log.info("told %d chat(s) that their work was interrupted by a restart", len(jobs))
    return len(jobs)
