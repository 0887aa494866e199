"""Recognised transcripts kept on disk, so the same lecture is never recognised twice.

Keyed by the video's identity (``bilibili:BV…:p2``, ``youtube:…``, ``web:<address>``, or the
sha256 of a file), not by chat: a second class member sending the same lecture gets it in
seconds, and each chat still stores its own copy of the chunks. Only finished recognitions are
written, each atomically (a temporary file renamed over the final name), so a kill mid-write
leaves either the old file or none, never half of one. While one chat's recognition of a video
runs, another chat's waits for it (``claim``) and then reads the result.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import threading
from collections.abc import Iterator
from pathlib import Path

from ingest.video.speech import Recognition
from ingest.video.subtitles import Cue

__all__ = ["TranscriptCache"]

log = logging.getLogger(__name__)

_VERSION = 1


class TranscriptCache:
    """A folder of ``<hash>.json`` recognitions; thread-safe."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def _path(self, identity: str) -> Path:
        digest = hashlib.sha256(identity.encode("utf-8")).hexdigest()[:40]
        return self.folder / f"{digest}.json"

    @contextlib.contextmanager
    def claim(self, identity: str) -> Iterator[None]:
        """Hold ``identity`` while recognising it: others wait, then find it cached."""
        with self._guard:
            lock = self._locks.setdefault(identity, threading.Lock())
        with lock:
            yield

    def get(self, identity: str) -> Recognition | None:
        """The cached recognition, or None (a damaged or foreign file counts as none)."""
        path = self._path(identity)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.get("version") != _VERSION or data.get("identity") != identity:
                return None
            return Recognition(
                cues=tuple(Cue(float(s), float(e), str(t)) for s, e, t in data["cues"]),
                language=data.get("language"),
                model=str(data["model"]),
                duration_s=data.get("duration_s"),
                approximate_times=bool(data.get("approximate_times")),
            )
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning("ignoring unreadable transcript cache file %s: %s", path, exc)
            return None

    def put(self, identity: str, recognition: Recognition) -> None:
        """Keep ``recognition`` (atomically; a failure to write is logged, not raised)."""
        path = self._path(identity)
        data = {
            "version": _VERSION,
            "identity": identity,
            "model": recognition.model,
            "language": recognition.language,
            "duration_s": recognition.duration_s,
            "approximate_times": recognition.approximate_times,
            "cues": [[c.start_s, c.end_s, c.text] for c in recognition.cues],
        }
        partial = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.partial")
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            with partial.open("w", encoding="utf-8") as file:
                json.dump(data, file, ensure_ascii=False)
                file.flush()
                os.fsync(file.fileno())
            os.replace(partial, path)
        except OSError as exc:
            log.warning("could not keep the transcript of %s: %s", identity, exc)
            with contextlib.suppress(OSError):
                partial.unlink()
