"""The glossary as a file the student keeps: CSV (opens in Excel and WPS) or Markdown."""

from __future__ import annotations

import csv
import io

from bot.study.text import place
from kernel.models import ChatGlossary, GlossaryEntry

__all__ = ["FORMATS", "glossary_file", "to_csv", "to_markdown"]

FORMATS = ("csv", "md")
_HEADERS = {
    "zh": ("中文", "English", "解释", "出处"),
    "en": ("Chinese", "English", "Explanation", "Where it was met"),
}
_NAMES = {"zh": "术语表", "en": "glossary"}


def _places(entry: GlossaryEntry, lang: str) -> str:
    return "; ".join(
        place(c.kind, c.page, c.start_s, lang) + (f" {c.url}" if c.url else "")
        for c in entry.citations
    )


def to_csv(glossary: ChatGlossary) -> bytes:
    """UTF-8 with a byte-order mark, so spreadsheet programs read the Chinese correctly."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(_HEADERS[glossary.lang])
    for e in glossary.entries:
        writer.writerow([e.zh or "", e.en or "", e.explanation, _places(e, glossary.lang)])
    return out.getvalue().encode("utf-8-sig")


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("\\", "\\\\").replace("|", "\\|")


def to_markdown(glossary: ChatGlossary) -> str:
    title = "术语表" if glossary.lang == "zh" else "Glossary"
    lines = [f"# {title}", "", "| " + " | ".join(_HEADERS[glossary.lang]) + " |"]
    lines.append("|---|---|---|---|")
    for e in glossary.entries:
        cells = (e.zh or "", e.en or "", e.explanation, _places(e, glossary.lang))
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return "\n".join(lines) + "\n"


def glossary_file(glossary: ChatGlossary, fmt: str) -> tuple[bytes, str]:
    """The file's bytes and name for ``fmt`` ("csv" or "md")."""
    if fmt not in FORMATS:
        raise ValueError(f"fmt must be one of {FORMATS}, not {fmt!r}")
    data = to_csv(glossary) if fmt == "csv" else to_markdown(glossary).encode("utf-8")
    return data, f"{_NAMES[glossary.lang]}.{fmt}"
