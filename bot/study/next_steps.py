"""Where to go after an answer: two or three follow-up questions about what the sources cover
next, without a model call (the answer is already on screen when they are made).

From the chunks the answer cited: the paper's next sections (their headings), what the video
talks about in the minutes after the cited moment, and terms met just after the cited passage
(terms from the notes, in both languages, and from the source's term list). Nothing the
student asked already, nothing the answer is about. Phrased in the chat's language by
``bot.study.prompts`` templates; pressing one asks it like any question.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from itertools import zip_longest
from typing import TYPE_CHECKING

from bot.queries import find_terms
from bot.study import prompts
from bot.study.glossary import collect_terms, term_label
from bot.study.material import SKIPPED_SECTION, Outline, Outlines, clean_heading, content
from bot.study.text import locate, words
from kernel.locators import format_timestamp
from kernel.models import GlossaryEntry, SearchHit, SourceKind, Term
from storage.async_store import AsyncKnowledgeStore

if TYPE_CHECKING:
    from bot.answering import Answer

__all__ = ["NextSteps"]

log = logging.getLogger(__name__)
MAX_STEPS = 3
AHEAD = 3  # chunks after the cited one looked at for terms
LOOK_AHEAD = 5  # sections after the cited one looked at
GENERIC_HEADINGS = frozenset(
    {
        "abstract", "introduction", "background", "overview", "preliminaries", "related work",
        "method", "methods", "methodology", "approach", "model", "experiments",
        "experimental setup", "evaluation", "results", "discussion", "analysis", "conclusion",
        "conclusions", "summary", "limitations", "future work", "摘要", "引言", "介绍", "背景",
        "概述", "相关工作", "方法", "模型", "实验", "实验设置", "评估", "结果", "讨论", "分析",
        "结论", "总结",
    }
)  # fmt: skip


class _Known:
    """What the student has met already: a topic is new if its words are not all in here."""

    def __init__(self, texts: Sequence[str]) -> None:
        self._asked = [set(words(t)) for t in texts]

    def new(self, topic: str) -> bool:
        topic_words = set(words(topic))
        return bool(topic_words) and not any(topic_words <= seen for seen in self._asked)

    def add(self, topic: str) -> None:
        self._asked.append(set(words(topic)))


def _named(term: Term, lang: str) -> str:
    """“多头注意力（multi-head attention）” in Chinese, the English name in English."""
    if lang == "zh":
        return term_label(term.en, term.zh) or (term.aliases[0] if term.aliases else "")
    return term.en or (term.aliases[0] if term.aliases else term.zh or "")


def _terms_in(
    chunks: Sequence[SearchHit], outline: Outline, glossary: Sequence[GlossaryEntry], lang: str
) -> Iterator[str]:
    """Terms the chunks use: the notes' terms, then those of the source's term list."""
    raw = " ".join(c.text for c in chunks)
    text_words = set(words(raw))
    for entry in glossary:
        names = [n for n in (entry.en, entry.zh) if n]
        if any(set(words(n)) and set(words(n)) <= text_words for n in names):
            yield _named(entry, lang)
    for term, _, _ in find_terms(raw, outline.source.terms):
        yield _named(term, lang)


def _next_sections(outline: Outline, hit: SearchHit) -> Iterator[str]:
    """Headings of the next few sections after ``hit``'s, numbering removed: the ones that
    name a topic first ("Multi-Head Attention"), then the generic ones ("Results")."""
    current, titles = hit.section, list[str]()
    for chunk in outline.after(hit.ordinal, len(outline.chunks)):
        if not chunk.section or chunk.section == current:
            continue
        current = chunk.section
        if SKIPPED_SECTION.match(chunk.section) or len(titles) == LOOK_AHEAD:
            break  # references, appendix: the paper's content has ended
        title = clean_heading(chunk.section)
        if title and title not in titles:
            titles.append(title)
    yield from sorted(titles, key=lambda t: t.casefold() in GENERIC_HEADINGS)


class NextSteps:
    """Suggests follow-up questions under an answer, from the chat's sources."""

    def __init__(self, store: AsyncKnowledgeStore) -> None:
        self.store = store
        self._outlines = Outlines(store)

    async def suggest(self, chat_id: int, answer: Answer) -> list[str]:
        """Up to three questions in ``answer.lang`` (none for an answer that cites nothing)."""
        if not answer.grounded or not answer.citations or answer.uncited:
            return []
        chat = await self.store.snapshot(chat_id, notes=True)
        sources = {s.source_id: s for s in chat.ready}
        glossary = collect_terms(chat.notes)
        known = _Known([answer.question, *(n.question for n in chat.notes)])
        lang = "en" if answer.lang == "en" else "zh"
        cited: dict[str, tuple[Outline, SearchHit]] = {}
        for citation in answer.citations:
            source = sources.get(citation.source_id)
            if source is None:
                continue
            outline = await self._outlines.of(source)
            hit = locate(citation, outline.chunks)
            if hit is None:
                continue
            last = cited.get(source.source_id)
            if last is None or hit.ordinal > last[1].ordinal:
                cited[source.source_id] = (outline, hit)
        # The paper first, then the video, taking one suggestion from each in turn.
        order = sorted(cited.values(), key=lambda oh: oh[0].source.kind is SourceKind.VIDEO)
        pending = [self._ahead(outline, hit, glossary, known, lang) for outline, hit in order]
        steps: list[str] = []
        while pending and len(steps) < MAX_STEPS:
            for ideas in list(pending):
                idea = next(((t, q) for t, q in ideas if known.new(t)), None)
                if idea is None:
                    pending.remove(ideas)
                    continue
                known.add(idea[0])
                steps.append(idea[1])
                if len(steps) == MAX_STEPS:
                    break
        return steps

    @staticmethod
    def _ahead(
        outline: Outline,
        hit: SearchHit,
        glossary: Sequence[GlossaryEntry],
        known: _Known,
        lang: str,
    ) -> Iterator[tuple[str, str]]:
        """(topic, question) pairs for what comes after ``hit`` in its source, best first:
        a paper's next section and the terms just after the passage, in turn."""
        ahead = content(outline.after(hit.ordinal, AHEAD))
        if outline.source.kind is SourceKind.VIDEO:
            for chunk in ahead:
                at = format_timestamp(chunk.start_s or 0.0)
                for term in _terms_in([chunk], outline, glossary, lang):
                    yield term, prompts.NEXT_VIDEO[lang].format(term=term, at=at)
            return
        sections = (
            (title, prompts.NEXT_SECTION[lang].format(title=title))
            for title in _next_sections(outline, hit)
            if known.new(title)
        )
        terms = (
            (term, prompts.NEXT_TERM[lang].format(term=term))
            for term in _terms_in(ahead, outline, glossary, lang)
            if known.new(term)
        )
        for pair in zip_longest(sections, terms):  # a section, a term, a section...
            yield from (idea for idea in pair if idea is not None)
