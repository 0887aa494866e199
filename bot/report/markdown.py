"""The report as Markdown (for the chat preview and for students who prefer plain text)."""

from __future__ import annotations

from bot.report.escape import markdown
from bot.report.models import Report

__all__ = ["to_markdown"]


def to_markdown(report: Report) -> str:
    """Title, the four ``##`` sections, the numbered source list, then the 字数 line. Every
    text is escaped (``bot.report.escape``): a title holding ``<script>`` stays text."""
    parts = [f"# {markdown(report.title)}", ""]
    for section in report.sections:
        parts += [f"## {markdown(section.heading)}", ""]
        for line in section.body.split("\n"):
            if line.strip():
                # Markdown would join adjacent lines; each body line is its own paragraph.
                parts += [markdown(line.strip()), ""]
    parts += ["## 参考来源", ""]
    parts += [f"{n}. {markdown(source)}" for n, source in enumerate(report.sources, start=1)]
    parts += [
        "",
        f"*正文四个部分共 {report.chars} 字（按 Word 字数统计口径），"
        f"有效引用 {report.citations} 处。*",
        "",
    ]
    return "\n".join(parts)
