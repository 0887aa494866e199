"""JSON shapes and plain-text renderings of the CLI's results."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from bot.markup.markdown import settled_end, to_plain
from kernel.locators import format_span, where
from kernel.models import (
    Citation,
    GlossaryEntry,
    Note,
    QuizItem,
    QuizQuestion,
    SearchHit,
    SourceKind,
    SourceRecord,
)

if TYPE_CHECKING:
    from bot.answering import Answer
    from bot.report import Report
    from storage.recovery import Recovery

__all__ = [
    "QUIZ_NOT_INTERACTIVE",
    "REWOUND",
    "PlainPrinter",
    "answer_json",
    "emit",
    "format_answer",
    "format_checked_answer",
    "format_hit",
    "format_next_questions",
    "format_note",
    "format_quiz_question",
    "format_quiz_result",
    "format_recovery",
    "format_report",
    "format_source",
    "format_term",
    "hit_json",
    "note_json",
    "quiz_json",
    "report_json",
    "report_recovery",
    "source_summary",
    "term_json",
]


_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def emit(payload: dict[str, Any], as_json: bool, text: str) -> None:
    """JSON (which escapes control characters itself), or text without control characters: a
    title holding a terminal escape sequence must not recolour or rewrite the terminal."""
    if as_json:
        print(json.dumps(payload, ensure_ascii=False, indent=2))
    else:
        print(_CONTROL.sub("", text))


def show_sources(records: Sequence[SourceRecord], as_json: bool) -> None:
    """``papertutor sources``: read from the store, or from the running bot (the same)."""
    payload = {"sources": [source_summary(r) for r in records]}
    emit(payload, as_json, "\n".join(format_source(r) for r in records) or "(no sources)")


def show_notes(notes: Sequence[Note], as_json: bool) -> None:
    """``papertutor notes``: read from the store, or from the running bot (the same)."""
    payload = {"notes": [note_json(n) for n in notes]}
    emit(payload, as_json, "\n\n".join(format_note(n) for n in notes) or "(no notes)")


def source_summary(record: SourceRecord, seconds: float | None = None) -> dict[str, Any]:
    base: dict[str, Any] = {
        "source_id": record.source_id,
        "kind": record.kind.value,
        "title": record.title,
        "status": record.status.value,
    }
    if record.paper is not None:
        paper = record.paper
        base |= {
            "authors": list(paper.authors),
            "venue": paper.venue,
            "year": paper.year,
            "link": paper.link,
            "pages": paper.pages,
        }
    if record.video is not None:
        video = record.video
        base |= {
            "url": video.url,
            "platform": video.platform,
            "language": video.language,
            "auto_generated": video.auto_generated,
            "transcribed": video.transcribed,
            "asr_model": video.asr_model,
            "duration_s": video.duration_s,
        }
    base["chunks"] = record.chunks
    base["warnings"] = list(record.warnings)
    if seconds is not None:
        base["seconds"] = seconds
    return base


def format_source(record: SourceRecord, seconds: float | None = None) -> str:
    lines = [f"[{record.kind.value}] {record.title}  ({record.source_id}, {record.status.value})"]
    if record.paper is not None:
        p = record.paper
        lines.append(f"  authors: {', '.join(p.authors) or 'unknown'}")
        venue = " ".join(str(x) for x in (p.venue, p.year) if x) or "unknown"
        lines.append(f"  venue/year: {venue}")
        lines.append(f"  link: {p.link or 'unknown'}")
        lines.append(f"  pages: {p.pages}, chunks: {record.chunks}")
    if record.video is not None:
        v = record.video
        duration = format_span(0, v.duration_s) if v.duration_s else "unknown"
        lines.append(f"  url: {v.url or 'none'}")
        lines.append(f"  language: {v.language or 'unknown'}, duration: {duration}")
        if v.transcribed:
            lines.append(f"  text: machine-transcribed by speech recognition ({v.asr_model})")
        lines.append(f"  segments: {record.chunks}")
    lines.extend(f"  note: {w}" for w in record.warnings)
    if seconds is not None:
        lines.append(f"  took {seconds:.1f} s")
    return "\n".join(lines)


def _locator(kind: SourceKind, page: int | None, start: float | None, end: float | None) -> str:
    return where(kind, page=page, start_s=start, end_s=end, span=True)


def hit_json(hit: SearchHit) -> dict[str, Any]:
    data: dict[str, Any] = {
        "rank": hit.rank,
        "score": hit.score,
        "source_id": hit.source_id,
        "kind": hit.kind.value,
        "title": hit.title,
        "page": hit.page,
        "text": hit.text,
    }
    if hit.kind is SourceKind.VIDEO:
        data |= {"start_s": hit.start_s, "end_s": hit.end_s, "url": hit.url}
    else:
        if hit.page_end is not None and hit.page_end != hit.page:
            data["page_end"] = hit.page_end
        if hit.url:
            data["url"] = hit.url  # the page in the paper's PDF (arXiv)
        if hit.role is not None:
            data["section"] = hit.role.value  # not body prose: "references", "figure", "table"
    return data


def format_hit(hit: SearchHit) -> str:
    where = _locator(hit.kind, hit.page, hit.start_s, hit.end_s)
    head = f"{hit.rank}. {hit.title} {where}  (score {hit.score:.3f})"
    if hit.url:
        head += f"\n   {hit.url}"
    text = hit.text if len(hit.text) <= 400 else hit.text[:400] + "…"
    return f"{head}\n   {text}"


def _citation_json(c: Citation) -> dict[str, Any]:
    return {
        "n": c.n,
        "source_id": c.source_id,
        "kind": c.kind.value,
        "title": c.title,
        "page": c.page,
        "start_s": c.start_s,
        "end_s": c.end_s,
        "url": c.url,
        "snippet": c.snippet,
        "support": c.support,
    }


def _format_citation(c: Citation) -> str:
    where = _locator(c.kind, c.page, c.start_s, c.end_s)
    link = f" {c.url}" if c.url else ""
    support = f"  (support {c.support:.2f})" if c.support is not None else ""
    return f"[{c.n}] {c.title} {where}{link}{support}\n    “{c.snippet}”"


def answer_json(answer: Answer) -> dict[str, Any]:
    return {
        "answer": answer.answer,
        "grounded": answer.grounded,
        "flagged": answer.flagged,
        "uncited": answer.uncited,
        "attributed": answer.attributed,
        "citations": [_citation_json(c) for c in answer.citations],
        "note_id": answer.note_id,
    }


def format_answer(answer: Answer) -> str:
    lines = [_format_citation(c) for c in answer.citations]
    if answer.uncited and lines:
        lines.insert(0, "(the answer names no sources; the most relevant passages found:)")
    elif answer.attributed:
        lines.insert(0, "(the model named no sources; each number was added by the support check)")
    return "\n".join(lines)


REWOUND = "(the answer broke off; it is being written again)"


class PlainPrinter:
    """Prints a streamed Markdown answer as plain text (no ``**`` or ``###``, math as Unicode),
    a block at a time: a block is printed once it is complete, so a list or a formula is never
    shown half-converted."""

    def __init__(self, out: TextIO | None = None) -> None:
        self._out = out or sys.stdout
        self._pending = ""
        self._printed = False

    def feed(self, piece: str) -> None:
        self._pending += piece
        at = settled_end(self._pending)
        if at:
            self._emit(self._pending[:at])
            self._pending = self._pending[at:]

    def close(self) -> None:
        """Print what is left (the end of the answer)."""
        self._emit(self._pending)
        self._pending = ""

    def _emit(self, markdown: str) -> None:
        text = to_plain(markdown)
        if not text:
            return
        self._out.write(("\n\n" if self._printed else "") + text)
        self._out.flush()
        self._printed = True


def format_checked_answer(answer: str) -> str:
    """The checked answer (the stream was a draft) as plain text."""
    return "— checked answer —\n" + to_plain(answer)


def note_json(note: Note) -> dict[str, Any]:
    return {
        "note_id": note.note_id,
        "question": note.question,
        "answer": note.answer,
        "grounded": note.grounded,
        "citations": [_citation_json(c) for c in note.citations],
        "terms": [t.model_dump() for t in note.terms],
        "starred": note.starred,
        "created_at": note.created_at.isoformat(),
    }


def format_note(note: Note) -> str:
    answer = " ".join(to_plain(note.answer).split())
    answer = answer if len(answer) <= 300 else answer[:300] + "…"
    star = "  ⭐" if note.starred else ""
    return (
        f"{note.note_id}  {note.created_at:%Y-%m-%d %H:%M}{star}\nQ: {note.question}\nA: {answer}"
    )


def report_json(report: Report, path: Path) -> dict[str, Any]:
    return {
        "path": str(path),
        "chars": report.chars,
        "sections": [{"heading": s.heading, "chars": s.chars} for s in report.sections],
        "citations": report.citations,
        "citation_check": {
            "checked": report.citations,
            "removed": report.citations_removed,
            "moved": report.citations_moved,
            "attributed": report.citations_attributed,
            "model_verified": report.model_verified,
        },
        "video_included": report.video_included,
        "notes_used": report.notes_used,
        "reused": report.reused,
    }


def format_report(report: Report, path: Path) -> str:
    kept = " (kept from an earlier run: no model call)" if report.reused else ""
    lines = [f"{path}: {report.chars} 字{kept}"]
    lines += [f"  {s.heading}: {s.chars} 字" for s in report.sections]
    video = "yes" if report.video_included else "no"
    lines.append(
        f"  citations: {report.citations} checked ({report.citations_removed} removed, "
        f"{report.citations_moved} moved, {report.citations_attributed} added), "
        f"notes used: {report.notes_used}, video: {video}"
    )
    return "\n".join(lines)


# -- study tools -------------------------------------------------------------------------------


def format_next_questions(questions: list[str]) -> str:
    return "Next questions:\n" + "\n".join(f"  - {q}" for q in questions)


def quiz_json(item: QuizItem) -> dict[str, Any]:
    q = item.question
    return {
        "quiz_id": item.quiz_id,
        "question": q.question,
        "options": list(q.options),
        "correct_option_id": q.correct_option_id,
        "explanation": q.explanation,
        "difficulty": q.difficulty,
        "citations": [_citation_json(c) for c in q.citations],
    }


def format_quiz_question(n: int, q: QuizQuestion) -> str:
    options = "\n".join(f"   {chr(ord('A') + i)}. {o}" for i, o in enumerate(q.options))
    return f"\n{n}. {q.question}\n{options}"


def format_quiz_result(q: QuizQuestion, chosen: int | None) -> str:
    letter = chr(ord("A") + q.correct_option_id)
    verdict = "✅ right" if chosen == q.correct_option_id else f"❌ the answer is {letter}"
    return f"   {verdict}: {q.explanation}"


QUIZ_NOT_INTERACTIVE = (
    "\n(not a terminal: the questions are printed only; run it in a terminal to answer them, "
    "or use --json for the answers)"
)


def term_json(entry: GlossaryEntry) -> dict[str, Any]:
    return {
        "en": entry.en,
        "zh": entry.zh,
        "explanation": entry.explanation,
        "citations": [_citation_json(c) for c in entry.citations],
    }


def format_term(entry: GlossaryEntry) -> str:
    names = " / ".join(n for n in (entry.zh, entry.en) if n)
    places = ", ".join(_locator(c.kind, c.page, c.start_s, c.end_s) for c in entry.citations)
    line = f"{names}: {entry.explanation or '—'}"
    return line + (f"  [{places}]" if places else "")


def format_recovery(recovery: Recovery, lang: str) -> str:
    """One line saying what the recovery at opening the store did (empty when nothing)."""
    if not recovery:
        return ""
    parts_zh: list[str] = []
    parts_en: list[str] = []
    for item in recovery.interrupted:
        if item.kept_previous:
            parts_zh.append(
                f"聊天 {item.chat_id} 重新导入的《{item.title}》没有完成，已回滚，之前的版本保留"
            )
            parts_en.append(
                f"the re-ingestion of “{item.title}” in chat {item.chat_id} did not finish and "
                "was rolled back; the previous version is kept"
            )
        else:
            parts_zh.append(
                f"聊天 {item.chat_id} 的《{item.title}》没有导入完成，已回滚并标记为失败"
            )
            parts_en.append(
                f"the ingestion of “{item.title}” in chat {item.chat_id} did not finish and was "
                "rolled back (marked failed)"
            )
    if recovery.orphans:
        parts_zh.append(f"删除了 {recovery.orphans} 个无主的片段")
        parts_en.append(f"{recovery.orphans} orphan chunk(s) removed")
    if lang == "en":
        return "recovered from an interruption: " + "; ".join(parts_en) + "."
    return "已清理上次中断留下的内容：" + "；".join(parts_zh) + "。"


def report_recovery(recovery: Recovery, lang: str) -> None:
    """Say on stderr what opening the store put right (nothing when there was nothing)."""
    if text := format_recovery(recovery, lang):
        print(f"papertutor: {text}", file=sys.stderr)
