"""The report as the bytes of a file in one of the delivery formats (blocking: call in a thread)."""

from __future__ import annotations

import io

from bot.report.docx_writer import write_docx
from bot.report.markdown import to_markdown
from bot.report.models import Report
from bot.report.pdf_writer import report_pdf

__all__ = ["report_file"]


def report_file(report: Report, fmt: str, author: str = "") -> bytes:
    """The file's bytes: ``docx``, ``md`` (UTF-8) or ``pdf``; ``author`` goes into the .docx
    properties."""
    if fmt == "md":
        return to_markdown(report).encode("utf-8")
    if fmt == "docx":
        buffer = io.BytesIO()
        write_docx(report, buffer, author=author)
        return buffer.getvalue()
    return report_pdf(report)
