"""A reading report as far as it got: each section's accepted draft, kept per chat and per paper.

A report takes many model calls; one failed call, a restart or a kill must not throw away the
sections already written. Every accepted draft is written down at once (``KeptReports.save``),
so the next build continues from it; a whole report, once fitted, is reused as it is (no model
call) until the material it was written from changes. ``fingerprint`` says what that material
was: the paper and the video (ids, generations — a re-ingestion changes them — and term
lists), the notes (every field: a re-explanation or a star changes them) and the length
range. Another fingerprint, and the kept drafts are ignored.

Layout under ``root`` (``DATA_DIR/reports``): ``<chat>/<paper source_id>.json``, written to a
temporary file, flushed and renamed over the old one, so a reader finds the old state or the
new one, never half of one. Every method is scoped to one chat; names are built only from ids
checked against their shape. Kept reports are a cache of model output and are not part of
backups (``papertutor backup``): after a restore the next /report writes them again.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from kernel.models import Note, SourceRecord

__all__ = ["KeptDraft", "KeptReport", "KeptReports", "fingerprint"]

_VERSION = 1
_PAPER_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


@dataclass(frozen=True)
class KeptDraft:
    """One section's accepted draft: its body, what was still wrong with it (the build asks
    the model to mend it), the counts of its citation check and how long it took to write."""

    body: str
    problem: str | None = None
    kept: int = 0
    moved: int = 0
    attributed: int = 0
    removed: int = 0
    verified: bool = False
    seconds: float = 0.0


@dataclass(frozen=True)
class KeptReport:
    """The drafts of one report by section index (1-3: sections (2)-(4)); ``complete``: they
    were fitted into the length range and checked together, so they are the finished report."""

    fingerprint: str
    drafts: dict[int, KeptDraft] = field(default_factory=dict)
    complete: bool = False

    def with_draft(self, index: int, draft: KeptDraft) -> KeptReport:
        return KeptReport(self.fingerprint, {**self.drafts, index: draft}, complete=False)


def fingerprint(
    paper: SourceRecord,
    video: SourceRecord | None,
    notes: tuple[Note, ...],
    *extra: object,
) -> str:
    """What a report was written from; any change to it makes a kept report stale."""

    def digest(text: str) -> str:
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def source(r: SourceRecord | None) -> list[object] | None:
        if r is None:
            return None
        terms = json.dumps([t.model_dump(mode="json") for t in r.terms], ensure_ascii=False)
        return [r.source_id, r.generation, digest(terms)]

    def note(n: Note) -> list[object]:  # every field: a re-explanation, a star, new terms
        return [n.note_id, digest(n.model_dump_json())]

    material = [source(paper), source(video), [note(n) for n in notes], [str(e) for e in extra]]
    return hashlib.sha256(json.dumps(material).encode()).hexdigest()


def _write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a flushed temporary file renamed over it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_name(f".{path.name}.{uuid.uuid4().hex}.part")
    try:
        with part.open("wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(part, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            part.unlink()


class KeptReports:
    """The kept reports of every chat, one JSON file per chat and paper (blocking I/O: small
    files; call it from a worker thread in async code)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _chat(self, chat_id: int) -> Path:
        return self.root / str(int(chat_id))

    def _path(self, chat_id: int, paper_id: str) -> Path:
        if not _PAPER_ID.match(paper_id):
            raise ValueError(f"not a source id: {paper_id!r}")
        return self._chat(chat_id) / f"{paper_id}.json"

    def load(self, chat_id: int, paper_id: str, fingerprint: str) -> KeptReport | None:
        """The kept report written from the same material, or None (none, stale or unreadable)."""
        try:
            raw: dict[str, Any] = json.loads(self._path(chat_id, paper_id).read_text("utf-8"))
            if raw.get("version") != _VERSION or raw.get("fingerprint") != fingerprint:
                return None
            drafts = {int(k): KeptDraft(**v) for k, v in raw["drafts"].items()}
            return KeptReport(fingerprint, drafts, complete=bool(raw["complete"]))
        except (OSError, ValueError, KeyError, TypeError):
            return None  # none yet, or a file of another shape: write the report again

    def save(self, chat_id: int, paper_id: str, report: KeptReport) -> None:
        payload = {
            "version": _VERSION,
            "chat_id": int(chat_id),
            "fingerprint": report.fingerprint,
            "complete": report.complete,
            "drafts": {str(k): asdict(v) for k, v in sorted(report.drafts.items())},
        }
        data = json.dumps(payload, ensure_ascii=False, indent=1).encode("utf-8")
        _write_atomic(self._path(chat_id, paper_id), data)

    def forget(self, chat_id: int, paper_id: str | None = None) -> None:
        """Remove the chat's kept report about ``paper_id`` (None: all of the chat's)."""
        if paper_id is None:
            shutil.rmtree(self._chat(chat_id), ignore_errors=True)
            return
        with contextlib.suppress(FileNotFoundError):
            self._path(chat_id, paper_id).unlink()
