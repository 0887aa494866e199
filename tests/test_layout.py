"""The test tree's own rule: shared helpers live in ``tests/fakes``, a folder's ``conftest.py`` or
its ``support.py``, never in another test module (importing one runs its module-level code and
hides what the helper is for)."""

from __future__ import annotations

import re
from pathlib import Path

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
_IMPORTS_A_TEST = re.compile(r"^\s*(?:from|import)\s+tests(?:\.\w+)*\.test_\w+")


def test_no_module_imports_a_test_module() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}:{n}: {line.strip()}"
        for folder in (TESTS, ROOT / "scripts")
        for path in sorted(folder.rglob("*.py"))
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if _IMPORTS_A_TEST.match(line)
    ]
    assert offenders == []
    # The rule's pattern does catch such an import.
    assert _IMPORTS_A_TEST.match("from tests.storage.test_store import open_store")
    assert not _IMPORTS_A_TEST.match("from tests.storage.support import open_store")
