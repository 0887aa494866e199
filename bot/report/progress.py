"""What a report's progress looks like to the student, in both front doors (chat and CLI).

"✍️ 正在写（3）关键技术解析…" then the sections done with the seconds each took, and the
ones kept from an earlier build.
"""

from __future__ import annotations

from bot.report.models import HEADINGS, ReportProgress

__all__ = ["progress_text"]

_TEXTS = {
    "writing": ("✍️ 正在写{heading}…", "✍️ Writing {heading}…"),
    "checking": (
        "🔎 正在核对全文的字数和引用…",
        "🔎 Checking the length and citations of the whole report…",
    ),
    "done": ("{sections}已完成，用时 {times}", "{sections} done, in {times}"),
    "kept": ("{sections}沿用上次写好的", "{sections} kept from last time"),
}


def _t(lang: str, key: str, **values: object) -> str:
    zh, en = _TEXTS[key]
    return (en if lang == "en" else zh).format(**values)


def progress_text(progress: ReportProgress, lang: str) -> str:
    """The status lines for ``progress`` in ``lang`` ("zh" or "en")."""
    if progress.writing is None:
        lines = [_t(lang, "checking")]
    else:
        lines = [_t(lang, "writing", heading=HEADINGS[progress.writing])]
    written = [(i, s) for i, s in progress.done if s is not None]
    kept = [i for i, s in progress.done if s is None]
    if written:
        sections = "".join(HEADINGS[i][:3] for i, _ in written)
        times = " / ".join(f"{s:.0f} s" for _, s in written)
        lines.append(_t(lang, "done", sections=sections, times=times))
    if kept:
        lines.append(_t(lang, "kept", sections="".join(HEADINGS[i][:3] for i in kept)))
    return "\n".join(lines)
