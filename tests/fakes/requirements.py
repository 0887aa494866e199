"""What a test needs from the machine, and what happens when it is missing.

The offline models (`make test` assembles them) and the tools CI installs are requirements, not
options: a test that needs one fails loudly when it is missing, so a green run never hides
untested code. Only where a requirement is optional on a developer's machine (a Debian package
`make test` cannot install) does the test skip there, and it still fails in CI (``.ci/run``
sets ``PAPERTUTOR_CI=1``).
"""

from __future__ import annotations

import os
from typing import NoReturn

import pytest

__all__ = ["in_ci", "missing"]


def in_ci() -> bool:
    return os.environ.get("PAPERTUTOR_CI") == "1"


def missing(what: str, how: str, *, optional_locally: bool = False) -> NoReturn:
    """Stop the calling test because ``what`` is missing; ``how`` says how to get it."""
    message = f"{what} is missing: {how}"
    if optional_locally and not in_ci():
        pytest.skip(message)
    pytest.fail(message, pytrace=False)
