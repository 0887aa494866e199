"""qdrant-client starts without fastembed (a command that reads the store loads no model and
pays no fastembed import), and the embedder still loads it, whatever the order or threads."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.fakes.embedding import test_model_dir

ROOT = Path(__file__).resolve().parents[3]


def _run(code: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_opening_the_store_imports_no_fastembed_and_the_embedder_still_loads(
    tmp_path: Path,
) -> None:
    model = test_model_dir()
    result = _run(
        f"""
        import json, pathlib, sys
        from storage.qdrant.index import QdrantIndex
        index = QdrantIndex(path=pathlib.Path({str(tmp_path / "qdrant")!r}))
        after_store = "fastembed" in sys.modules
        from storage.embedding.embedder import FastEmbedEmbedder
        embedder = FastEmbedEmbedder(
            "sentence-transformers/all-MiniLM-L6-v2", model_path=pathlib.Path({str(model)!r})
        )
        vector = embedder.embed_query("what is attention?")
        print(json.dumps({{"after_store": after_store, "dim": len(vector),
                           "loaded": sys.modules.get("fastembed") is not None}}))
        """
    )
    assert result == {"after_store": False, "dim": 384, "loaded": True}


def test_an_embedder_made_first_is_not_hidden_from_the_store(tmp_path: Path) -> None:
    model = test_model_dir()
    result = _run(
        f"""
        import json, pathlib, sys
        from storage.embedding.embedder import FastEmbedEmbedder
        embedder = FastEmbedEmbedder(
            "sentence-transformers/all-MiniLM-L6-v2", model_path=pathlib.Path({str(model)!r})
        )
        from storage.qdrant.index import QdrantIndex
        index = QdrantIndex(path=pathlib.Path({str(tmp_path / "qdrant")!r}))
        print(json.dumps({{"module": sys.modules["fastembed"] is not None,
                           "dim": len(embedder.embed_query("still works"))}}))
        """
    )
    assert result == {"module": True, "dim": 384}


def test_an_import_waits_while_fastembed_is_hidden_then_succeeds() -> None:
    # In a fresh interpreter: the suite may have imported fastembed already.
    result = _run(
        """
        import json, sys, threading, time
        from storage.embedding.fastembed_import import allowed, hidden
        entered, release, seen = threading.Event(), threading.Event(), []

        def qdrant_start():
            with hidden():
                seen.append(repr(sys.modules.get("fastembed", "absent")))
                entered.set()
                release.wait(5)

        def embedder_start():
            with allowed():
                import fastembed
                seen.append(fastembed.__name__)

        first = threading.Thread(target=qdrant_start)
        first.start()
        entered.wait(5)
        second = threading.Thread(target=embedder_start)
        second.start()
        time.sleep(0.3)
        waited = len(seen) == 1
        release.set()
        first.join(5)
        second.join(60)
        print(json.dumps({"waited": waited, "seen": seen,
                          "hidden_after": sys.modules.get("fastembed") is None}))
        """
    )
    assert result == {"waited": True, "seen": ["None", "fastembed"], "hidden_after": False}
