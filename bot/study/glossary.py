"""The chat's bilingual glossary: the key terms its answers explained, 中文 / English, a
one-line explanation and where the student met them.

The terms come from the notes (the answer step names each question's key terms in both
languages); where a term was met is the note's citation whose snippet mentions it. One model
call writes the one-line explanations from those snippets (fenced as data); an explanation is
kept only if it is one line in the chat's language and the snippet it names mentions the term,
else the sentence of the snippet that mentions the term stands in. The glossary is stored per
chat and language and rebuilt only when the notes change (earlier explanations are reused).

``term_label`` / ``report_terms`` give the report its term style (“注意力机制（Attention）”:
``bot.report.material.notes_block``) without any model call.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from bot.prompts import LANGUAGE_NAMES, NOT_IN_SOURCES, format_snippets
from bot.study import prompts
from bot.study.text import clip, flat, in_language, json_in, one_line, utf16_len, words
from ingest.terms import term_key
from kernel.errors import LLMError
from kernel.language import has_cjk
from kernel.models import (
    ChatGlossary,
    Citation,
    GlossaryEntry,
    Note,
    SearchHit,
    SourceRecord,
    Term,
)
from storage.async_store import AsyncKnowledgeStore

if TYPE_CHECKING:
    from bot.llm import ChatModel, Message

__all__ = [
    "GlossaryBuilder",
    "collect_terms",
    "report_terms",
    "term_label",
]

log = logging.getLogger(__name__)
VERSION = "1"  # part of the fingerprint: a new format rebuilds stored glossaries
MAX_EXPLANATION = 120
MAX_TERMS, MAX_SNIPPETS = 40, 24  # explained per model call
PLACES = 3  # citations kept per term
_SENTENCE = re.compile(r"[^.!?。！？；;]*[.!?。！？；;]?")


@dataclass
class _Seen:
    en: str | None
    zh: str | None
    citations: list[Citation] = field(default_factory=list)


def _mentions(text: str, *names: str | None) -> bool:
    """Whether ``text`` names one of ``names`` (all its words, as search matches words)."""
    have = set(words(text))
    return any(name and (ws := words(name)) and set(ws) <= have for name in names)


def _named(entry: GlossaryEntry, listed: Sequence[Term]) -> GlossaryEntry:
    """``entry`` with the name it lacks taken from the sources' term lists, where one of them
    has the term under the name it has (the model's bilingual list made at ingestion)."""
    if entry.en and entry.zh:
        return entry
    key = term_key(entry.en or entry.zh or "")
    for term in listed if key else ():
        if term_key((term.en if entry.en else term.zh) or "") == key:
            return entry.model_copy(update={"en": entry.en or term.en, "zh": entry.zh or term.zh})
    return entry


def collect_terms(notes: Sequence[Note], listed: Sequence[Term] = ()) -> list[GlossaryEntry]:
    """Every term of the notes once (same English or Chinese name = same term; missing names
    filled in from later notes, then from ``listed``: the sources' term lists), oldest first,
    each with up to three places it was met: the note's citation whose snippet names it, else
    the note's first citation."""
    seen: list[_Seen] = []
    by_name: dict[str, _Seen] = {}
    for note in notes:
        for term in note.terms:
            names = [n for n in (term.en, term.zh) if n]
            entry = next((by_name[flat(n)] for n in names if flat(n) in by_name), None)
            if entry is None:
                entry = _Seen(term.en, term.zh)
                seen.append(entry)
            entry.en, entry.zh = entry.en or term.en, entry.zh or term.zh
            for n in names:
                by_name.setdefault(flat(n), entry)
            cited = [c for c in note.citations if _mentions(c.snippet, term.en, term.zh)]
            for c in (cited or list(note.citations[:1]))[:1]:
                if len(entry.citations) < PLACES and all(
                    (c.source_id, c.page, c.start_s) != (d.source_id, d.page, d.start_s)
                    for d in entry.citations
                ):
                    entry.citations.append(c)
    return [
        _named(
            GlossaryEntry(
                en=e.en,
                zh=e.zh,
                citations=tuple(
                    c.model_copy(update={"n": n}) for n, c in enumerate(e.citations, start=1)
                ),
            ),
            listed,
        )
        for e in seen
    ]


def term_label(en: str | None, zh: str | None) -> str:
    """The report's term style: “注意力机制（Attention）”, or the one name there is."""
    if en and zh and flat(en) != flat(zh):
        return f"{zh}（{en}）"
    return zh or en or ""


def report_terms(notes: Sequence[Note]) -> list[str]:
    """The notes' terms as the report names them (“注意力机制（Attention）”), oldest first."""
    return [term_label(e.en, e.zh) for e in collect_terms(notes)]


def _fingerprint(notes: Sequence[Note], sources: Sequence[SourceRecord], lang: str) -> str:
    digest = hashlib.sha256(f"{VERSION}:{lang}".encode())
    for source in sources:  # their term lists name terms the notes give in one language
        digest.update(f"{source.source_id}@{source.updated_at.isoformat()}\0".encode())
    for note in notes:
        digest.update(note.note_id.encode())
        for term in note.terms:
            digest.update(f"\0{term.en}\0{term.zh}".encode())
    return digest.hexdigest()


def _same(a: GlossaryEntry, b: GlossaryEntry) -> bool:
    return any(x and y and flat(x) == flat(y) for x, y in ((a.en, b.en), (a.zh, b.zh)))


def _quoted(entry: GlossaryEntry, lang: str) -> str:
    """The sentence of a snippet that names the term (the fallback explanation), or ""."""
    for citation in entry.citations:
        for sentence in _SENTENCE.findall(one_line(citation.snippet)):
            if sentence.strip() and _mentions(sentence, entry.en, entry.zh):
                prefix = "原文：" if lang == "zh" else "Source: "
                return clip(prefix + sentence.strip(), MAX_EXPLANATION)
    return ""


def _as_hit(citation: Citation, rank: int) -> SearchHit:
    return SearchHit(
        rank=rank,
        score=0.0,
        chunk_id=f"cited-{rank}",
        source_id=citation.source_id,
        kind=citation.kind,
        title=citation.title,
        text=citation.snippet,
        ordinal=0,
        page=citation.page,
        start_s=citation.start_s,
        end_s=citation.end_s,
        url=citation.url,
    )


class GlossaryBuilder:
    """Builds, checks and keeps each chat's glossary."""

    def __init__(self, store: AsyncKnowledgeStore, model: ChatModel) -> None:
        self.store = store
        self.model = model

    async def glossary(self, chat_id: int, *, lang: str = "zh") -> ChatGlossary:
        """The chat's glossary with explanations in ``lang`` (kept until the notes change).

        A model failure is not an error here: the terms come with the snippets' own sentences
        instead, and the next call tries the model again.
        """
        chat = await self.store.snapshot(chat_id, notes=True)
        fingerprint = _fingerprint(chat.notes, chat.ready, lang)
        kept = await self.store.glossary(chat_id, lang)
        if kept is not None and kept.fingerprint == fingerprint:
            return kept
        entries = collect_terms(chat.notes, [t for s in chat.ready for t in s.terms])
        earlier = kept.entries if kept is not None else ()
        entries = [self._reuse(e, earlier) for e in entries]
        todo = [i for i, e in enumerate(entries) if not e.explanation and e.citations]
        explained = True
        if todo:
            try:
                written = await self._explain([entries[i] for i in todo[:MAX_TERMS]], lang)
            except LLMError as exc:
                log.warning("glossary explanations failed, quoting the snippets: %s", exc)
                written, explained = {}, False
            for n, i in enumerate(todo):
                entries[i] = written.get(n) or entries[i].model_copy(
                    update={"explanation": _quoted(entries[i], lang)}
                )
        glossary = ChatGlossary(
            chat_id=chat_id,
            lang=lang,
            fingerprint=fingerprint,
            entries=tuple(entries),
            built_at=datetime.now(UTC),
        )
        if explained:
            await self.store.save_glossary(glossary)
        return glossary

    @staticmethod
    def _reuse(entry: GlossaryEntry, earlier: Sequence[GlossaryEntry]) -> GlossaryEntry:
        """``entry`` with the names and explanation an earlier glossary had for it."""
        old = next((e for e in earlier if _same(e, entry) and e.explanation), None)
        if old is None:
            return entry
        return entry.model_copy(
            update={
                "en": entry.en or old.en,
                "zh": entry.zh or old.zh,
                "explanation": old.explanation,
            }
        )

    async def _explain(
        self, entries: Sequence[GlossaryEntry], lang: str
    ) -> dict[int, GlossaryEntry]:
        """One model call: checked explanations (and missing names) by position in
        ``entries``; positions whose explanation failed the checks are left out."""
        cited: list[Citation] = []
        lines = []
        for n, entry in enumerate(entries, start=1):
            numbers = []
            for c in entry.citations:
                if c not in cited and len(cited) < MAX_SNIPPETS:
                    cited.append(c)
                if c in cited:
                    numbers.append(str(cited.index(c) + 1))
            names = f"{entry.en or '?'} / {entry.zh or '?'}"
            lines.append(f"{n}. {names} (snippets {', '.join(numbers) or '-'})")
        hits = [_as_hit(c, rank) for rank, c in enumerate(cited, start=1)]
        user = prompts.GLOSSARY_USER.format(
            snippets=format_snippets(hits),
            terms=prompts.fence("terms", lines),
            language=LANGUAGE_NAMES[lang],
        )
        messages: list[Message] = [
            {"role": "system", "content": prompts.GLOSSARY_SYSTEM},
            {"role": "user", "content": user},
        ]
        reply = await self.model.complete(messages, max_tokens=2000)
        checked: dict[int, GlossaryEntry] = {}
        for item in json_in(reply, "terms") or []:
            result = self._check(item, entries, hits, lang)
            if result is not None:
                checked.setdefault(*result)
        return checked

    @staticmethod
    def _check(
        item: Any, entries: Sequence[GlossaryEntry], hits: Sequence[SearchHit], lang: str
    ) -> tuple[int, GlossaryEntry] | None:
        """One reply item as (position, explained entry), or None when it fails a check."""
        if not isinstance(item, dict):
            return None
        n, snippet = item.get("id"), item.get("snippet")
        if not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= len(entries):
            return None
        if not isinstance(snippet, int) or isinstance(snippet, bool):
            return None
        if not 1 <= snippet <= len(hits):
            return None
        entry, hit = entries[n - 1], hits[snippet - 1]
        en, zh = item.get("en"), item.get("zh")
        en = entry.en or (one_line(en) if isinstance(en, str) and not has_cjk(en) else None)
        zh = entry.zh or (one_line(zh) if isinstance(zh, str) and has_cjk(zh) else None)
        raw = item.get("explanation")
        text = one_line(raw) if isinstance(raw, str) else ""
        if not text or NOT_IN_SOURCES in text or not in_language(text, lang, words(hit.text)):
            return None
        if not _mentions(hit.text, entry.en, entry.zh):
            return None  # the snippet it names says nothing about this term
        return n - 1, entry.model_copy(
            update={
                "en": en if en and utf16_len(en) <= 60 else entry.en,
                "zh": zh if zh and utf16_len(zh) <= 30 else entry.zh,
                "explanation": clip(text, MAX_EXPLANATION),
            }
        )
