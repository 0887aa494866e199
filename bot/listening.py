"""Voice questions: a voice message becomes the text of a question.

Recognition runs in the recogniser's voice lane (its own child process), so a question is heard
while a lecture is being transcribed; the thread that waits for it is this service's own.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from ingest.video.lecture import LectureReader

__all__ = ["Listener"]


class Listener:
    """Hears voice questions (one at a time per lane; a few may wait)."""

    def __init__(self, lectures: LectureReader, *, max_seconds: float = 180.0) -> None:
        self._lectures = lectures
        self.max_seconds = max_seconds
        self._threads = ThreadPoolExecutor(2, thread_name_prefix="voice")

    async def hear(self, path: Path, *, lang: str | None = None) -> str:
        """The words of the voice message at ``path`` (``lang``: the chat's language).

        Raises ``MediaTooLongError`` (too long for a question), ``NothingHeardError`` (nothing
        clear was said), ``TranscriptionError``.
        """
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            self._threads,
            lambda: self._lectures.hear(path, hint=lang, max_seconds=self.max_seconds),
        )

    def close(self) -> None:
        self._threads.shutdown(wait=False)
