"""The formal reading report: 《大模型技术论文阅读报告》 built, checked and written to files.

``ReportBuilder`` writes it from a chat's paper, video transcript and notes; ``write_docx``,
``to_markdown``, ``write_pdf`` (optional copy) and ``report_filename`` deliver it;
``count_zi`` is the Word-style 字数 count.
"""

from __future__ import annotations

from bot.report.builder import ReportBuilder
from bot.report.docx_writer import report_filename, write_docx
from bot.report.markdown import to_markdown
from bot.report.models import HEADINGS, REPORT_TITLE, Report, ReportSection
from bot.report.pdf_writer import write_pdf
from bot.report.wordcount import count_zi

__all__ = [
    "HEADINGS",
    "REPORT_TITLE",
    "Report",
    "ReportBuilder",
    "ReportSection",
    "count_zi",
    "report_filename",
    "to_markdown",
    "write_docx",
    "write_pdf",
]
