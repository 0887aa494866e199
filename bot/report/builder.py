"""Writing the 《大模型技术论文阅读报告》 of a chat, within a 字数 range, with checked citations.

Plan: section (1) is written by code; sections (2)–(4) get a 字 budget each (the range's middle,
less section (1), split by weight) and are drafted one by one from labelled snippets. Every
draft is cleaned (own section only, no Markdown), checked (Chinese prose; each citation marker
must resolve to a given snippet, else it is fixed or removed; then every sentence must be
supported by the snippet it cites, see ``bot.report.support``: markers move, uncited sentences
get the marker of the snippet that supports them, unsupported sentences are dropped, and the
model verifies the rest) and counted. Then up to
``max_revisions`` rounds ask the model to rewrite unusable drafts and the sections that push the
total out of range. Whatever the model did, deterministic fallbacks finish the job: too long ->
drop whole sentences from the sections most over budget; too short -> one "expand" round,
then a clear error (``ReportTooShortError``) if the material cannot fill the minimum. A section
left without a single supported citation is never delivered: ``ReportUnsupportedError`` names
it and says why.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, TypeVar

from bot.report import prompts
from bot.report.citations import Snippet, check_citations, count_markers, format_snippets
from bot.report.docx_writer import report_filename
from bot.report.drafts import (
    clean_draft,
    is_chinese,
    markers_before_stop,
    split_sentences,
)
from bot.report.files import report_file
from bot.report.material import Material, gather_material, notes_block, too_short_error
from bot.report.models import HEADINGS, REPORT_TITLE, Report, ReportProgress, ReportSection
from bot.report.sections import basic_info, paper_title, source_list, transcript_note
from bot.report.support import SectionCheck, check_section
from bot.report.wordcount import count_zi
from bot.support import SupportScorer, scorer_for
from kernel.errors import (
    LLMError,
    ReportSectionError,
    ReportUnsupportedError,
    VideoMissingError,
)
from kernel.models import Note, Term
from storage.async_store import AsyncKnowledgeStore
from storage.kept_reports import KeptDraft, KeptReport, KeptReports, fingerprint

if TYPE_CHECKING:  # typing only: importing openai takes a while
    from bot.llm import ChatModel, Message

__all__ = ["FORMATS", "ReportBuilder"]

T = TypeVar("T")


FORMATS = ("docx", "md", "pdf")
_WEIGHTS_VIDEO = (0.38, 0.40, 0.22)  # sections 2, 3, 4
_WEIGHTS_NO_VIDEO = (0.45, 0.55)
_NOT_CHINESE = "上一稿不可用：没有使用中文书面语写成正文。请用规范的中文书面语重写。"
_NO_CITATIONS = (
    "上一稿没有任何一句能在下方资料片段中找到依据：请只依据资料片段写作，"
    "每个技术性陈述都必须引用它所依据的片段的标记。"
)
_REWRITE = "学生希望重写这一部分：请换一种组织方式和表述重新撰写，仍然只依据资料片段。"
_WRITTEN = (2, 3, 4)  # the sections the model writes; (1) is written by code
_THIN_MATERIAL = 300  # characters of snippet text below which a section has nothing to cite


@dataclass(eq=False)  # compared and hashed by identity
class _Draft:
    """A generated section while it is being fitted."""

    index: int
    prompt: str
    snippets: tuple[Snippet, ...]
    budget: int
    terms: tuple[Term, ...] = ()
    body: str = ""
    problem: str | None = None
    check: SectionCheck = field(default_factory=lambda: SectionCheck(""))

    @property
    def heading(self) -> str:
        return HEADINGS[self.index]

    @property
    def chars(self) -> int:
        return count_zi(self.heading) + count_zi(self.body)


def _kept_of(draft: _Draft, seconds: float) -> KeptDraft:
    c = draft.check
    return KeptDraft(
        draft.body, draft.problem, c.kept, c.moved, c.attributed, c.removed, c.verified,
        round(seconds, 1),
    )  # fmt: skip


def _check_of(kept: KeptDraft) -> SectionCheck:
    return SectionCheck(
        kept.body, kept.kept, kept.moved, kept.attributed, kept.removed, kept.verified
    )


class FigureAdder(Protocol):
    """``(chat_id, paper source_id, report, notes) -> report`` with the key figures added."""

    def __call__(
        self, chat_id: int, source_id: str, report: Report, notes: Sequence[Note], /
    ) -> Awaitable[Report]: ...


def _check_video(material: Material, allow_no_video: bool, section: int | None) -> None:
    """``VideoMissingError`` when section (4) has no video and the student did not say to go
    on without one."""
    if material.video is None and not allow_no_video:
        raise VideoMissingError(
            "还没有讲解视频。报告的第（4）部分需要视频：请先发送视频链接或字幕文件；"
            "如果确定不使用视频，也可以选择不带视频继续生成报告。",
            "There is no lecture video yet. Section (4) of the report needs one: send a video "
            "link or subtitle file first, or choose to go on without the video.",
        )
    if section == 4 and material.video is None:
        raise ReportSectionError("no_video")


class ReportBuilder:
    """Builds the reading report of a chat from its paper, video transcript and notes."""

    def __init__(
        self,
        store: AsyncKnowledgeStore,
        model: ChatModel,
        *,
        min_chars: int = 2000,
        max_chars: int = 3000,
        max_revisions: int = 3,
        figures: FigureAdder | None = None,
        support: SupportScorer | None = None,
        verify: bool = True,
        kept: KeptReports | None = None,
    ) -> None:
        """``figures`` puts the paper's key figures into the finished report (optional);
        ``kept`` keeps each accepted section (None: every build starts over);
        ``support`` scores sentences against snippets (default: on the store's embedder);
        ``verify``: the model also checks each section's cited claims (one call per draft)."""
        if not 0 < min_chars < max_chars:
            raise ValueError("need 0 < min_chars < max_chars")
        self._store = store
        self._model = model
        self._support = support or scorer_for(store.embedder)
        self._verify = verify
        self.min_chars = min_chars
        self.max_chars = max_chars
        self.max_revisions = max(0, max_revisions)
        self._figures = figures
        self._kept = kept

    async def build(
        self,
        chat_id: int,
        *,
        allow_no_video: bool = False,
        paper_id: str | None = None,
        progress: Callable[[ReportProgress], Awaitable[None]] | None = None,
        section: int | None = None,
        fresh: bool = False,
    ) -> Report:
        """The report about ``paper_id`` (needed when the chat holds several papers: else
        ``PaperChoiceError``); ``progress`` before each section is written and before the
        whole report is checked.

        Sections kept from an earlier build of the same material are not written again (a
        finished one is returned as it is, ``reused``); ``section`` (2-4) writes that section
        anew and fits it to the others; ``fresh`` ignores what was kept.
        """
        if section is not None and section not in _WRITTEN:
            raise ReportSectionError("number", section=section)
        material = await gather_material(self._store, chat_id, paper_id)
        _check_video(material, allow_no_video, section)
        paper = material.paper.source_id
        print_ = fingerprint(
            material.paper, material.video, material.notes, self.min_chars, self.max_chars
        )
        kept = None if fresh else await self._kept_load(chat_id, paper, print_)
        state = kept or KeptReport(print_)
        info = basic_info(material.paper)
        fixed = count_zi(HEADINGS[0]) + count_zi(info)
        drafts = self._plan(material, fixed)
        regen = None if section is None else section - 1
        done: list[tuple[int, float | None]] = [(0, 0.0)]  # (1) is written by code

        async def step(writing: int | None) -> None:
            if progress is not None:
                await progress(ReportProgress(writing, tuple(done)))

        state = await self._write_sections(chat_id, paper, drafts, state, regen, done, step)
        if material.video is None:
            fixed += count_zi(HEADINGS[3]) + count_zi(prompts.NO_VIDEO_TEXT)
        else:
            fixed += count_zi(transcript_note(material.video) or "")
        reused = kept is not None and kept.complete and regen is None
        if not reused:
            await step(None)
            movable = drafts
            if regen is not None and kept is not None and kept.complete:
                # The others are finished: only the new section is fitted to what is left.
                movable = [d for d in drafts if d.index == regen]
                others = sum(d.chars for d in drafts if d.index != regen)
                movable[0].budget = max(
                    100, (self.min_chars + self.max_chars) // 2 - fixed - others
                )
            await self._fit(drafts, fixed, material, movable)
            times = {i: s for i, s in done if s is not None}
            for d in drafts:  # a kept section keeps the time it took when it was written
                times.setdefault(d.index, old.seconds if (old := state.drafts.get(d.index)) else 0)
            state = KeptReport(
                print_, {d.index: _kept_of(d, times[d.index]) for d in drafts}, complete=True
            )
            await self._kept_save(chat_id, paper, state)
        report = self._assemble(material, info, drafts)
        report = dataclasses.replace(report, paper_id=paper, reused=reused)
        if self._figures is not None:  # the paper's key figures, in section (3)
            report = await self._figures(chat_id, paper, report, material.notes)
        return report

    async def _write_sections(
        self,
        chat_id: int,
        paper: str,
        drafts: list[_Draft],
        state: KeptReport,
        regen: int | None,
        done: list[tuple[int, float | None]],
        step: Callable[[int | None], Awaitable[None]],
    ) -> KeptReport:
        """Write the sections not kept (and ``regen``), keeping each as soon as it is
        accepted; ``done`` gets (index, seconds, None for a kept one) of each."""
        for draft in drafts:
            old = state.drafts.get(draft.index)
            if old is not None and draft.index != regen:
                draft.body, draft.problem, draft.check = old.body, old.problem, _check_of(old)
                done.append((draft.index, None))
                continue
            await step(draft.index)
            started = time.monotonic()
            await self._write(draft, _REWRITE if draft.index == regen else None)
            seconds = time.monotonic() - started
            done.append((draft.index, seconds))
            if draft.body:  # accepted: kept at once, whatever happens next
                state = state.with_draft(draft.index, _kept_of(draft, seconds))
                await self._kept_save(chat_id, paper, state)
        return state

    async def _kept_load(self, chat_id: int, paper_id: str, print_: str) -> KeptReport | None:
        if self._kept is None:
            return None
        return await asyncio.to_thread(self._kept.load, chat_id, paper_id, print_)

    async def _kept_save(self, chat_id: int, paper_id: str, report: KeptReport) -> None:
        if self._kept is not None:
            await asyncio.to_thread(self._kept.save, chat_id, paper_id, report)

    async def render(self, report: Report, fmt: str, *, author: str = "") -> tuple[bytes, str]:
        """The report as a file (``fmt``: docx, md or pdf): its bytes and its name;
        ``author`` (the student's name) goes into the .docx properties.

        Writing .docx and PDF blocks (python-docx, MuPDF): it runs in a worker thread.
        """
        if fmt not in FORMATS:
            raise ValueError(f"fmt must be one of {FORMATS}, not {fmt!r}")
        data = await asyncio.to_thread(report_file, report, fmt, author)
        return data, report_filename(report, fmt)

    # -- planning and writing -----------------------------------------------------------------

    def _plan(self, material: Material, info_chars: int) -> list[_Draft]:
        target = (self.min_chars + self.max_chars) // 2
        title = paper_title(material.paper)
        if material.video is None:
            rest = target - info_chars - count_zi(HEADINGS[3]) - count_zi(prompts.NO_VIDEO_TEXT)
            weights: tuple[float, ...] = _WEIGHTS_NO_VIDEO
        else:
            rest = target - info_chars
            weights = _WEIGHTS_VIDEO
        budgets = [max(100, int(rest * w)) for w in weights]
        notes_text, terms = notes_block(material)
        known = tuple(dict.fromkeys(t for note in material.notes for t in note.terms))
        drafts = [
            _Draft(1, "", material.summary, budgets[0], known),
            _Draft(2, "", material.tech, budgets[1], known),
        ]
        drafts[0].prompt = prompts.SECTION_SUMMARY_PROMPT.format(
            paper_title=prompts.fenced("title", title),
            budget=budgets[0],
            snippets=format_snippets(material.summary),
        )
        drafts[1].prompt = prompts.SECTION_TECH_PROMPT.format(
            paper_title=prompts.fenced("title", title),
            budget=budgets[1],
            notes=prompts.fenced("notes", notes_text),
            terms=prompts.fenced("notes", terms),
            snippets=format_snippets(material.tech),
        )
        if material.video is not None:
            meta = material.video.video
            talk = _Draft(3, "", material.talk, budgets[2], known)
            talk.prompt = prompts.SECTION_VIDEO_PROMPT.format(
                video_title=prompts.fenced("title", meta.title if meta else material.video.title),
                budget=budgets[2],
                snippets=format_snippets(material.talk),
            )
            drafts.append(talk)
        return drafts

    async def _ask(self, prompt: str, budget: int) -> str:
        messages: list[Message] = [
            {"role": "system", "content": prompts.SYSTEM_PROMPT},
            {"role": "user", "content": prompt},
        ]
        return await self._model.complete(messages, max_tokens=max(1024, budget * 3))

    async def _accept(self, draft: _Draft, raw: str) -> tuple[str, str | None, SectionCheck]:
        """The usable body of a reply (maybe empty), what was wrong with it, and its check."""
        text = clean_draft(raw, draft.heading)
        text, _ = check_citations(text, draft.snippets)
        text = markers_before_stop(text)
        if not is_chinese(text):
            return "", _NOT_CHINESE, SectionCheck("")
        check = await check_section(
            text,
            draft.snippets,
            self._support,
            self._model if self._verify else None,
            terms=draft.terms,
        )
        text = check.text
        if draft.index == 3 and count_markers(text):
            # Each video point carries its timestamp; a point without one is unverifiable.
            text = "\n".join(p for p in text.split("\n") if "[视频" in p)
        if count_markers(text) == 0 and draft.snippets:
            return text, _NO_CITATIONS, check
        return text, None, check

    async def _write(self, draft: _Draft, problem: str | None = None) -> None:
        prompt = draft.prompt if problem is None else f"{draft.prompt}\n注意：{problem}"
        draft.body, draft.problem, draft.check = await self._accept(
            draft, await self._ask(prompt, draft.budget)
        )

    async def _revise(self, draft: _Draft) -> None:
        if not draft.body:  # nothing usable yet: write it again, saying what went wrong
            await self._write(draft, draft.problem)
            return
        current = draft.chars
        prompt = prompts.REVISE_PROMPT.format(
            heading=draft.heading,
            current=current,
            direction="扩写" if current < draft.budget else "压缩",
            budget=draft.budget,
            problem=draft.problem or "",
            draft=prompts.fenced("draft", draft.body),
            snippets=format_snippets(draft.snippets),
        )
        body, problem, check = await self._accept(draft, await self._ask(prompt, draft.budget))
        if body:  # an unusable revision keeps the previous draft
            draft.body, draft.problem, draft.check = body, problem, check

    # -- fitting the length -------------------------------------------------------------------

    def _to_revise(self, drafts: Sequence[_Draft], total: int) -> list[_Draft]:
        chosen = [d for d in drafts if d.problem is not None or not d.body]
        if total > self.max_chars:
            over = [d for d in drafts if d.chars > d.budget * 1.1]
            chosen += over or [max(drafts, key=lambda d: d.chars - d.budget)]
        elif total < self.min_chars:
            under = [d for d in drafts if d.chars < d.budget * 0.9]
            chosen += under or [min(drafts, key=lambda d: d.chars - d.budget)]
        return list(dict.fromkeys(chosen))

    async def _fit(
        self, drafts: list[_Draft], fixed: int, material: Material, movable: Sequence[_Draft]
    ) -> None:
        """Revise, expand and trim the ``movable`` drafts until the total fits."""

        def total() -> int:
            return fixed + sum(d.chars for d in drafts)

        for _ in range(self.max_revisions):
            todo = self._to_revise(movable, total())
            if not todo:
                break
            for draft in todo:
                await self._revise(draft)
        if total() < self.min_chars:
            await self._expand(movable, self.min_chars - total() + 100)
        self._trim(movable, total)
        self._require_support(drafts)
        if any(not d.body for d in drafts):
            missing = "、".join(d.heading for d in drafts if not d.body)
            raise LLMError(
                f"语言模型多次没有按要求写出{missing}（例如没有用中文书写），报告未能生成。请稍后重试。",
                f"The language model repeatedly failed to write {missing} in usable Chinese; "
                "no report was made. Please try again later.",
            )
        if total() < self.min_chars:
            raise too_short_error(total(), self.min_chars, material)

    async def _expand(self, drafts: Sequence[_Draft], deficit: int) -> None:
        weight = sum(d.budget for d in drafts)
        for draft in drafts:
            extra = max(100, deficit * draft.budget // weight)
            prompt = prompts.EXPAND_PROMPT.format(
                heading=draft.heading,
                extra=extra,
                draft=prompts.fenced("draft", draft.body or "（暂无）"),
                snippets=format_snippets(draft.snippets),
            )
            more, problem, check = await self._accept(draft, await self._ask(prompt, extra))
            if more and more not in draft.body and problem is None:
                draft.body = f"{draft.body}\n{more}".strip()
                draft.check = draft.check + check

    @staticmethod
    def _require_support(drafts: list[_Draft]) -> None:
        """Sections (2)-(4) each carry checked citations, or the student is told which do not."""
        bare = [d for d in drafts if d.snippets and d.body and count_markers(d.body) == 0]
        bare += [d for d in drafts if not d.body and d.problem == _NO_CITATIONS]
        if not bare:
            return
        names = "、".join(dict.fromkeys(d.heading for d in bare))
        material = sum(len(s.text) for d in bare for s in d.snippets)
        if all(sum(len(s.text) for s in d.snippets) < _THIN_MATERIAL for d in bare):
            raise ReportUnsupportedError("material", sections=names, chars=material)
        raise ReportUnsupportedError("model", sections=names)

    def _trim(self, drafts: Sequence[_Draft], total: Callable[[], int]) -> None:
        """Drop last sentences, most-over-budget section first, until the total fits."""
        excess = total() - self.max_chars
        if excess <= 0:
            return
        # Sentences end at a CJK stop, so a body's count is the sum of its sentences' counts.
        tables = {
            id(d): [
                [(s, count_zi(s)) for s in split_sentences(p)]
                for p in d.body.split("\n")
                if p.strip()
            ]
            for d in drafts
        }
        sizes = {id(d): d.chars for d in drafts}
        while excess > 0:
            candidates = [d for d in drafts if sum(map(len, tables[id(d)])) > 1]
            if not candidates:
                break
            worst = max(candidates, key=lambda d: sizes[id(d)] / d.budget)
            table = tables[id(worst)]
            _, size = table[-1].pop()
            if not table[-1]:
                table.pop()
            sizes[id(worst)] -= size
            excess -= size
        for d in drafts:
            d.body = "\n".join("".join(s for s, _ in p) for p in tables[id(d)])

    # -- the result ---------------------------------------------------------------------------

    def _assemble(self, material: Material, info: str, drafts: list[_Draft]) -> Report:
        bodies = [info, *(d.body for d in drafts)]
        if material.video is None:
            bodies.append(prompts.NO_VIDEO_TEXT)
        elif (note := transcript_note(material.video)) is not None:
            bodies[3] = f"{note}\n{bodies[3]}"  # section (4) says its text was machine-heard
        sections = tuple(
            ReportSection(heading=h, body=b, chars=count_zi(h) + count_zi(b))
            for h, b in zip(HEADINGS, bodies, strict=True)
        )
        notes_used = len(material.notes)
        verified = bool(drafts) and all(d.check.verified for d in drafts)
        return Report(
            title=REPORT_TITLE,
            sections=sections,
            sources=source_list(
                material.paper,
                material.video,
                background=any(prompts.BACKGROUND_LABEL in b for b in bodies),
                notes=notes_used,
                model_verified=verified,
            ),
            chars=sum(s.chars for s in sections),
            citations=sum(count_markers(b) for b in bodies),
            citations_moved=sum(d.check.moved for d in drafts),
            citations_attributed=sum(d.check.attributed for d in drafts),
            citations_removed=sum(d.check.removed for d in drafts),
            model_verified=verified,
            video_included=material.video is not None,
            notes_used=notes_used,
            paper_title=paper_title(material.paper),
        )
