"""What the report is written from: the chat's paper, video and notes, cut to prompt budgets.

A paper can be long (67 pages), so each section gets a selection of labelled snippets:
section (2) the opening, method, experiment and conclusion chunks; section (3) search hits for
every note's terms and question, the notes' own cited snippets, and method chunks; section (4)
transcript chunks sampled evenly across the talk plus hits for the note terms.

A report is about one paper. When the chat holds several, the caller names it (``paper_id``)
or gets a ``PaperChoiceError`` listing them; every search then reads that paper and the video
only, and notes that cite only another paper are left out.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bot.report.citations import Snippet
from bot.report.prompts import NO_NOTES_TEXT
from bot.report.wordcount import count_zi
from bot.study.glossary import report_terms
from kernel.errors import MissingSourceError, PaperChoiceError, ReportTooShortError
from kernel.models import Note, SearchHit, SourceKind, SourceRecord, SourceStatus
from storage.async_store import AsyncKnowledgeStore
from storage.store import Query

__all__ = ["Material", "choose_paper", "gather_material", "notes_block", "too_short_error"]

SUMMARY_BUDGET = 12_000  # characters of snippet text per prompt (~4k tokens)
TECH_BUDGET = 12_000
VIDEO_BUDGET = 10_000
SNIPPET_CHARS = 900  # a snippet is shown at most this long
MAX_SEARCH_NOTES = 12  # notes whose terms are searched (one search call each)

_REFERENCES = re.compile(r"^\s*(?:\d+\.?\s*)?(references|bibliography|参考文献)\b", re.I)
# Back matter: acknowledgements and appendices ("A.1 ...", "Appendix B") are not the paper's story.
_BACK_MATTER = re.compile(r"^\s*(?:(?i:acknowledg|appendix)|致谢|附录|[A-H](?:\.\d+)*\s)")
_INTRO = re.compile(r"abstract|introduction|摘要|引言|绪论|背景", re.I)
_METHOD = re.compile(r"method|approach|model|architecture|framework|方法|模型|结构", re.I)
_EXPERIMENT = re.compile(r"experiment|result|evaluation|benchmark|实验|结果|评估", re.I)
_CONCLUSION = re.compile(
    r"conclusion|discussion|summary|future work|reflection|takeaway|outlook|结论|总结|讨论", re.I
)


@dataclass(frozen=True)
class Material:
    """The sources of one chat and the snippets chosen for each generated section."""

    paper: SourceRecord
    video: SourceRecord | None
    notes: tuple[Note, ...]
    summary: tuple[Snippet, ...]
    tech: tuple[Snippet, ...]
    talk: tuple[Snippet, ...]
    paper_zi: int  # 字数 of the whole paper text: tells "paper too short" from "model too terse"


class _Registry:
    """Gives every chunk one snippet id, whichever section selects it."""

    def __init__(self) -> None:
        self._by_key: dict[tuple[object, ...], Snippet] = {}

    def add(
        self, kind: SourceKind, text: str, *, key: tuple[object, ...], **where: object
    ) -> Snippet:
        found = self._by_key.get(key)
        if found is None:
            found = Snippet(f"S{len(self._by_key) + 1}", kind, text, **where)  # type: ignore[arg-type]
            self._by_key[key] = found
        return found

    def hit(self, hit: SearchHit) -> Snippet:
        return self.add(
            hit.kind,
            hit.text,
            key=(hit.source_id, hit.ordinal),
            page=hit.page,
            page_end=hit.page_end,
            start_s=hit.start_s,
            end_s=hit.end_s,
        )


def _latest_ready(records: Sequence[SourceRecord], kind: SourceKind) -> SourceRecord | None:
    ready = [r for r in records if r.kind is kind and r.status is SourceStatus.READY]
    return max(ready, key=lambda r: r.updated_at) if ready else None


def choose_paper(records: Sequence[SourceRecord], paper_id: str | None) -> SourceRecord:
    """The paper the report is about: ``paper_id`` (a whole id or a unique prefix of one), else
    the only ready paper. Several and none named: ``PaperChoiceError`` listing them."""
    papers = [r for r in records if r.kind is SourceKind.PAPER and r.status is SourceStatus.READY]
    if not papers:
        raise MissingSourceError(
            "还没有论文，无法撰写阅读报告。请先发送论文的 PDF 文件，等我读完后再发送 /report。",
            "There is no paper yet, so I cannot write the report. Send the paper's PDF first, "
            "then /report once it is read.",
        )
    choices = tuple((p.source_id, p.title) for p in papers)
    if paper_id is None:
        if len(papers) == 1:
            return papers[0]
        raise PaperChoiceError("which_paper", choices=choices)
    found = [p for p in papers if p.source_id == paper_id] or [
        p for p in papers if p.source_id.startswith(paper_id)
    ]
    if len(found) != 1 or not paper_id:
        raise PaperChoiceError("unknown_paper", choices=choices, paper=paper_id)
    return found[0]


def _about(note: Note, ids: set[str]) -> bool:
    """A note about the chosen material: it cites it, or cites nothing at all."""
    return not note.citations or any(c.source_id in ids for c in note.citations)


def _cut(chunks: list[SearchHit], pattern: re.Pattern[str], *, text: bool) -> list[SearchHit]:
    """The chunks before the first one in the second half whose section matches ``pattern``
    (or, with ``text``, whose text starts with it: a heading the parser did not detect)."""
    for i, c in enumerate(chunks):
        found = pattern.match(c.section or "") or (text and pattern.match(c.text))
        if i >= len(chunks) // 2 and found:
            return chunks[:i] or chunks
    return chunks


def _within(hits: Iterable[SearchHit], allowed: Sequence[SearchHit]) -> list[SearchHit]:
    """Search hits, less the paper chunks outside ``allowed`` (e.g. the reference list)."""
    keep = {(c.source_id, c.ordinal) for c in allowed}
    papers = {c.source_id for c in allowed}
    return [h for h in hits if h.source_id not in papers or (h.source_id, h.ordinal) in keep]


def _matching(chunks: Sequence[SearchHit], pattern: re.Pattern[str], n: int) -> list[SearchHit]:
    return [c for c in chunks if c.section and pattern.search(c.section)][:n]


def _evenly(items: Sequence[SearchHit], n: int) -> list[SearchHit]:
    if len(items) <= n:
        return list(items)
    step = len(items) / n
    return [items[int(i * step)] for i in range(n)]


def _fill(picks: Iterable[SearchHit], budget: int) -> list[SearchHit]:
    """First picks first, until the budget; returned in reading order."""
    chosen: dict[tuple[str, int], SearchHit] = {}
    used = 0
    for hit in picks:
        key = (hit.source_id, hit.ordinal)
        if key in chosen:
            continue
        size = min(len(hit.text), SNIPPET_CHARS)
        if used + size > budget and chosen:
            continue
        chosen[key] = hit
        used += size
    return sorted(chosen.values(), key=lambda h: (h.kind.value, h.ordinal))


def _note_queries(note: Note) -> list[str]:
    terms = [t for term in note.terms for t in (term.en, term.zh) if t]
    return [*terms, note.question]


def _note_query(note: Note, k: int, kinds: frozenset[SourceKind] | None = None) -> Query:
    return Query(tuple(_note_queries(note)), k=k, kinds=kinds)


_PAPER_ONLY = frozenset({SourceKind.PAPER})
_VIDEO_ONLY = frozenset({SourceKind.VIDEO})
_SUMMARY_QUERY = Query(
    ("main contributions of this paper", "experimental results", "conclusion", "主要贡献"),
    k=4,
    kinds=_PAPER_ONLY,
)
_TECH_QUERY = Query(("key technique proposed method", "关键技术"), k=3)


async def gather_material(
    store: AsyncKnowledgeStore, chat_id: int, paper_id: str | None = None
) -> Material:
    """Read the chat's sources and pick the snippets, for the paper ``choose_paper`` picks (no
    paper: ``MissingSourceError``; several and none named: ``PaperChoiceError``).

    Four trips to the store: the sources and notes, the paper's and the video's chunks (side by
    side), and every search at once (one embedding run for all the notes' queries).
    """
    chat = await store.snapshot(chat_id, notes=True)
    paper = choose_paper(chat.sources, paper_id)
    video = _latest_ready(chat.sources, SourceKind.VIDEO)
    used = [paper] if video is None else [paper, video]  # other papers are never searched
    notes = tuple(n for n in chat.notes if _about(n, {r.source_id for r in used}))
    notes = tuple(sorted(notes, key=lambda n: not n.starred))  # ⭐ first (issue 17)
    searched = notes[:MAX_SEARCH_NOTES]
    queries = [
        _SUMMARY_QUERY,
        _TECH_QUERY,
        *(_note_query(n, 3) for n in searched),
        *(_note_query(n, 2, _VIDEO_ONLY) for n in (searched if video is not None else ())),
    ]
    chunks, lines, found = await asyncio.gather(
        store.chunks(chat_id, paper.source_id),
        store.chunks(chat_id, video.source_id) if video is not None else _nothing(),
        store.search_many(chat_id, queries, sources=used),
    )
    reads = _Reads(
        chunks=chunks,
        lines=lines,
        summary_hits=found[0],
        tech_hits=found[1],
        note_hits=[h for hits in found[2 : 2 + len(searched)] for h in hits],
        video_hits=[h for hits in found[2 + len(searched) :] for h in hits],
    )
    return _select(paper, video, notes, reads)


async def _nothing() -> list[SearchHit]:
    return []


@dataclass(frozen=True)
class _Reads:
    """What ``gather_material`` read: the paper's and the video's chunks, and search hits."""

    chunks: list[SearchHit]
    lines: list[SearchHit]
    summary_hits: list[SearchHit]
    tech_hits: list[SearchHit]
    note_hits: list[SearchHit]
    video_hits: list[SearchHit]


def _select(
    paper: SourceRecord, video: SourceRecord | None, notes: tuple[Note, ...], reads: _Reads
) -> Material:
    """The snippets of each section, from what ``gather_material`` read."""
    registry = _Registry()
    lines = reads.lines
    text = _cut(
        reads.chunks, _REFERENCES, text=True
    )  # what notes may draw on: all but the references
    body = _cut(text, _BACK_MATTER, text=False)
    picks = [
        *body[:3],
        *_matching(body, _INTRO, 2),
        *_matching(body, _METHOD, 3),
        *_matching(body, _EXPERIMENT, 3),
        *_matching(body, _CONCLUSION, 2),
        *body[-2:],
        *_within(reads.summary_hits, body),
        *_evenly(body, 24),
    ]
    summary = [registry.hit(h) for h in _fill(picks, SUMMARY_BUDGET)]

    tech_picks = [
        *_within(reads.note_hits, text),
        *_matching(body, _METHOD, 4),
        *_within(reads.tech_hits, body),
        *_evenly(body, 12),
    ]
    tech = [registry.hit(h) for h in _fill(tech_picks, TECH_BUDGET)]
    for note in notes:  # the snippets the tutor already showed the student are citable too
        for c in note.citations:
            if c.source_id in {paper.source_id, video.source_id if video else ""}:
                key = (c.source_id, "note", c.page, c.start_s)
                tech.append(
                    registry.add(
                        c.kind, c.snippet, key=key, page=c.page, start_s=c.start_s, end_s=c.end_s
                    )
                )

    talk: list[Snippet] = []
    if video is not None:
        # As many evenly spaced chunks as the budget holds, so the whole talk is represented.
        size = max(1, min(SNIPPET_CHARS, sum(len(c.text) for c in lines) // max(1, len(lines))))
        spread = _evenly(lines, max(4, min(24, int(VIDEO_BUDGET * 0.75) // size)))
        talk = [registry.hit(h) for h in _fill([*spread, *reads.video_hits], VIDEO_BUDGET)]

    return Material(
        paper=paper,
        video=video,
        notes=notes,
        summary=tuple(summary),
        tech=tuple(dict.fromkeys(tech)),
        talk=tuple(talk),
        paper_zi=sum(count_zi(c.text) for c in text),
    )


def notes_block(material: Material, limit: int = 5000) -> tuple[str, str]:
    """The notes as prompt text (answers shortened), and the terms the student asked about."""
    if not material.notes:
        return NO_NOTES_TEXT, "无"
    lines: list[str] = []
    used = 0
    for i, note in enumerate(material.notes, start=1):
        answer = " ".join(note.answer.split())[:300]
        line = f"问{i}：{note.question}\n答：{answer}"
        if used + len(line) > limit:
            line = f"问{i}：{note.question}"
        lines.append(line)
        used += len(line)
    terms = report_terms(material.notes)  # the glossary's terms, “注意力机制（Attention）”
    return "\n".join(lines), "、".join(terms) or "（笔记中未标注术语，请从提问中归纳）"


def too_short_error(total: int, minimum: int, material: Material) -> ReportTooShortError:
    pages = material.paper.paper.pages if material.paper.paper else 0
    if material.paper_zi < minimum * 2:
        return ReportTooShortError(
            f"报告只写出了 {total} 字，达不到要求的 {minimum} 字：这篇论文可用的文字太少"
            f"（{pages} 页，约 {material.paper_zi} 字），不足以支撑有引用的报告。"
            "请发送内容更完整的论文（例如不是扫描件的版本），或补充讲解视频后再试。",
            f"The report reached only {total} of the required {minimum} characters: the paper "
            f"has too little usable text ({pages} pages, about {material.paper_zi} words) for a "
            "cited report. Send a fuller copy of the paper (not a scan), or add the video.",
            retryable=False,
        )
    return ReportTooShortError(
        f"报告只写出了 {total} 字，达不到要求的 {minimum} 字：语言模型几次生成的内容都太短。"
        "请稍后再发送 /report 重试。",
        f"The report reached only {total} of the required {minimum} characters: the language "
        "model's drafts were too short several times. Please send /report again later.",
        retryable=True,
    )
