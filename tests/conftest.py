"""One rule for the whole suite: no test's output shows a secret; and the fixtures test modules
of several folders share.

After each test phase, its captured stdout, stderr and log (what pytest keeps for the report)
are searched for the test secrets (``tests/fakes/secret_values.py``); a hit fails the test.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from typing import Any

import pytest

from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.secret_values import leaks


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Generator[Any]:
    outcome = yield
    report = outcome.get_result()
    # The sections pile up phase after phase: the call checks setup and call, teardown its own.
    sections = [c for name, c in report.sections if report.when != "teardown" or "teardown" in name]
    found = leaks("\n".join(sections))
    if found and report.passed:
        report.outcome = "failed"
        report.longrepr = f"a secret reached the output of this test: {', '.join(found)}"


@pytest.fixture
def fake_openai() -> Iterator[FakeOpenAI]:
    """A started ``FakeOpenAI`` (``tests/fakes/openai_server.py``), stopped after the test."""
    with FakeOpenAI() as srv:
        yield srv
