"""PDF parsing in a child process: same result, same errors, progress relayed, crashes caught."""

from __future__ import annotations

import os
from multiprocessing.connection import Connection
from typing import Any

import pytest

from ingest.paper.pdf import parse_pdf
from ingest.paper.pdf_process import parse_pdf_isolated, run_isolated
from kernel.errors import DamagedFileError, NotAPDFError, PasswordRequiredError, TooLargeError
from tests.fakes.pdfs import make_encrypted_pdf, make_garbage_bytes, make_paper_pdf


def test_the_child_returns_what_parse_pdf_returns_and_relays_progress() -> None:
    data = make_paper_pdf(filler_pages=2)
    seen: list[tuple[int, int]] = []
    parsed = parse_pdf_isolated(
        data, filename="paper.pdf", progress=lambda done, total: seen.append((done, total))
    )
    assert parsed == parse_pdf(data, filename="paper.pdf")
    total = seen[-1][1]
    assert total >= 3
    assert seen[-1] == (total, total)
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)


@pytest.mark.parametrize(
    ("data", "options", "error"),
    [
        (make_garbage_bytes(), {}, NotAPDFError),
        (make_encrypted_pdf(), {}, PasswordRequiredError),
        (make_paper_pdf(filler_pages=3), {"max_pages": 2}, TooLargeError),
    ],
)
def test_errors_come_back_with_their_type_and_both_messages(
    data: bytes, options: dict[str, Any], error: type[Exception]
) -> None:
    with pytest.raises(error) as raised:
        parse_pdf_isolated(data, filename="x.pdf", **options)
    with pytest.raises(error) as direct:
        parse_pdf(data, filename="x.pdf", **options)
    assert raised.value.message("zh") == direct.value.message("zh")  # type: ignore[attr-defined]
    assert raised.value.message("en") == direct.value.message("en")  # type: ignore[attr-defined]


def test_a_bug_in_the_child_surfaces_with_its_traceback() -> None:
    with pytest.raises(RuntimeError, match="TypeError"):
        parse_pdf_isolated(make_paper_pdf(), no_such_option=True)


def _dies(conn: Connection, data: bytes, options: dict[str, Any]) -> None:
    conn.send(("progress", 1, 2))
    os._exit(3)  # like MuPDF crashing on a malformed file: no reply at all


def test_a_child_that_dies_is_a_damaged_file_not_a_hang() -> None:
    seen: list[tuple[int, int]] = []
    with pytest.raises(DamagedFileError) as raised:
        run_isolated(_dies, b"%PDF-", {}, lambda done, total: seen.append((done, total)))
    assert seen == [(1, 2)]
    assert "exit code 3" in raised.value.message("en")
    assert "崩溃" in raised.value.message("zh")
