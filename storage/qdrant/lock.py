"""Whether another process holds the embedded store's data directory: answered in milliseconds.

Embedded Qdrant takes an exclusive lock on ``<path>/.lock``; a second client, in any process,
is refused. Checking that lock needs only ``portalocker`` (no Qdrant, no model), so every front
door can say "in use" at once, before it loads anything heavy.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["in_use"]


def in_use(path: Path) -> bool:
    """Whether another client holds embedded Qdrant's lock on ``path``."""
    lock_file = path / ".lock"
    if not lock_file.is_file():
        return False
    import portalocker

    with lock_file.open("r+") as handle:
        try:
            portalocker.lock(
                handle, portalocker.LockFlags.EXCLUSIVE | portalocker.LockFlags.NON_BLOCKING
            )
        except portalocker.exceptions.LockException:
            return True
        portalocker.unlock(handle)
    return False
