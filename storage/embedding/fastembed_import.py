"""fastembed is imported for the embedder only, never for qdrant-client's start-up.

qdrant-client imports fastembed, when it is installed, at import and again when a client is
made, for embedding helpers of its own that this project does not use
(``storage.embedding.embedder`` makes every vector). With fastembed's image models that costs
~0.4 s, a quarter of ``papertutor sources``, which loads no model. ``hidden()`` makes that
import fail while qdrant-client runs (a ``None`` entry in ``sys.modules``: qdrant-client then
takes fastembed for absent); the embedder's own imports run inside ``allowed()``. One lock keeps
the two apart across threads, so an embedder being made never sees fastembed hidden.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["allowed", "hidden"]

_NAME = "fastembed"
_LOCK = threading.RLock()


@contextmanager
def hidden() -> Iterator[None]:
    """qdrant-client code run inside finds no fastembed (unless it is imported already)."""
    if _NAME in sys.modules:
        yield
        return
    with _LOCK:
        if _NAME in sys.modules:  # imported meanwhile: nothing left to save
            yield
            return
        sys.modules[_NAME] = None  # type: ignore[assignment]
        try:
            yield
        finally:
            if sys.modules.get(_NAME, _NAME) is None:
                del sys.modules[_NAME]


@contextmanager
def allowed() -> Iterator[None]:
    """Import fastembed inside: waits while qdrant-client code runs with it hidden."""
    if _NAME in sys.modules and sys.modules[_NAME] is not None:
        yield
        return
    with _LOCK:
        yield
