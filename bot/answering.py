"""The tutor's answering service: question -> search queries -> snippets -> checked answer -> note.

Used by the CLI and the Telegram bot alike. One ``ask`` runs five steps: detect the language,
rewrite the question into standalone search queries (in the question's and the sources'
languages, using the conversation), retrieve snippets from paper and video, stream an answer
that cites them, and check that each cited snippet supports its sentence. Only a complete
answer is stored (both turns, plus a note when it is grounded); a model failure stores nothing
and raises ``LLMError``.

A first question (no conversation) in the sources' own language needs no rewriting to be
searched: it is searched as asked, and the rewrite, still wanted for the note's key terms, runs
alongside the answer, so the student waits for one model call instead of two.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol, TypeVar

from bot import prompts
from bot.citations import check_answer
from bot.llm import ChatModel, Message
from kernel.errors import InputError, LLMError
from kernel.language import question_language, text_language
from kernel.models import (
    Citation,
    Note,
    SearchHit,
    SourceKind,
    SourceRecord,
    SourceStatus,
    Term,
    Turn,
)
from storage.store import KnowledgeStore

__all__ = ["MODES", "Answer", "Answerer", "BlockingRunner", "select_hits"]

T = TypeVar("T")
MODES = ("simpler", "example")
HOLD_CHARS = 60  # streamed text held back until the language and the refusal can be judged
HISTORY_CHARS = 600  # per history turn in prompts: enough context, bounded cost


class BlockingRunner(Protocol):
    """Runs a blocking call off the event loop (``asyncio.to_thread`` by default)."""

    def __call__(self, fn: Callable[[], T], /) -> Awaitable[T]: ...


@dataclass(frozen=True)
class Answer:
    """What the student gets. ``flagged``: citation markers had to be corrected, moved to the
    snippet that supports their sentence, or removed.

    ``uncited``: the answer cites none of the snippets (not even after the code's attribution);
    ``citations`` then lists the best retrieved snippets (not referenced in the text) so the
    student can still check the answer against the sources. ``attributed``: the model cited
    nothing and the markers were added by the code, each to a snippet that supports its sentence.
    """

    question: str
    answer: str
    grounded: bool
    flagged: bool
    citations: tuple[Citation, ...]
    note_id: str | None
    lang: str
    queries: tuple[str, ...]
    uncited: bool = False
    attributed: bool = False


def _grams(text: str) -> frozenset[str]:
    """The text's character 4-grams, case and spacing folded (script-agnostic)."""
    flat = " ".join(text.lower().split())
    return frozenset(flat[i : i + 4] for i in range(max(1, len(flat) - 3)))


def _overlap(ga: frozenset[str], gb: frozenset[str]) -> float:
    """Share of the smaller gram set found in the other."""
    return len(ga & gb) / max(1, min(len(ga), len(gb)))


def select_hits(hits: Sequence[SearchHit], k: int, *, per_kind: int = 2) -> list[SearchHit]:
    """The best ``k`` hits without near-duplicates, keeping up to ``per_kind`` of each kind.

    Overlapping chunks (and a video that reads a paragraph of the paper aloud) would fill the
    prompt with the same text twice. Retrieval ranks paper prose above spoken transcript, so
    without a quota the video never gets a word in even when it is on topic.
    Pure CPU work (~2 ms for 12 snippets): the answerer runs it in a worker thread with the search.
    """
    unique: list[SearchHit] = []
    kept_grams: list[frozenset[str]] = []
    for hit in hits:
        grams = _grams(hit.text)
        if all(_overlap(grams, kept) < 0.6 for kept in kept_grams):
            unique.append(hit)
            kept_grams.append(grams)
    chosen = unique[:k]
    quota = min(per_kind, k // 2)  # never more than half of the answer's snippets
    for kind in SourceKind:
        have = [h for h in chosen if h.kind is kind]
        spare = [h for h in unique[k:] if h.kind is kind]
        while len(have) < quota and spare:
            others = [h for h in chosen if h.kind is not kind]
            if len(others) <= quota:  # the other kind keeps its own quota
                break
            chosen.remove(others[-1])
            have.append(spare.pop(0))
            chosen.append(have[-1])
    return sorted(chosen, key=lambda h: h.rank)


def _source_language(source: SourceRecord) -> str:
    """Two-letter language of a source: the transcript's, else judged from title + abstract."""
    if source.video and source.video.language:
        return source.video.language[:2]
    sample = source.title + " " + (source.paper.abstract or "" if source.paper else "")
    return text_language(sample)


def _source_languages(sources: Sequence[SourceRecord]) -> str:
    return "; ".join(f'{s.kind.value} "{s.title}" ({_source_language(s)})' for s in sources)


def _strip_mode_label(question: str) -> str:
    for labels in prompts.MODE_LABELS.values():
        for label in labels.values():
            question = question.removesuffix(label)
    return question


def _clip(text: str, limit: int = HISTORY_CHARS) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


async def _terms_of(rewriting: Awaitable[tuple[list[str], list[Term]]]) -> list[Term]:
    """The key terms of a rewrite run alongside the answer; none if that call failed (the note
    is still saved, and the report then takes its terms from the questions)."""
    try:
        return (await rewriting)[1]
    except LLMError:
        return []


class Answerer:
    """Answers a chat's questions from its sources, and keeps its notebook."""

    def __init__(
        self,
        store: KnowledgeStore,
        model: ChatModel,
        *,
        k: int = 6,
        history_turns: int = 6,
        run_blocking: BlockingRunner | None = None,
        query_model: ChatModel | None = None,
    ) -> None:
        """``query_model`` writes the search queries (default: ``model``, which answers)."""
        self.store = store
        self.model = model
        self.query_model = query_model or model
        self.k = k
        self.history_turns = history_turns
        self._run: BlockingRunner = run_blocking or asyncio.to_thread

    async def ask(
        self,
        chat_id: int,
        question: str,
        *,
        lang: str | None = None,
        on_delta: Callable[[str], Awaitable[None]] | None = None,
        mode: str | None = None,
        on_answer: Callable[[Answer], Awaitable[None]] | None = None,
    ) -> Answer:
        """Answer ``question`` (or, with ``mode``, re-explain the previous answer).

        With ``mode`` ("simpler" / "example") ``question`` (the question of the answer to
        re-explain; empty = the last question of the conversation) is asked again with that
        instruction. ``on_delta`` receives the text piece
        by piece as it is written; it is a draft (unchecked markers): show ``Answer.answer``
        as the final text. Fixed replies (no sources, not covered) are sent to it whole.
        Raises ``LLMError`` / ``ConfigError`` from the model (nothing stored then) and
        ``InputError`` for an empty question or a re-ask with nothing to re-ask.
        """
        if mode is not None and mode not in MODES:
            raise ValueError(f"mode must be one of {MODES} or None, not {mode!r}")
        history = await self._run(lambda: self.store.turns(chat_id, limit=self.history_turns))
        search_question = question.strip()
        if mode is None and not search_question:
            raise InputError(*prompts.EMPTY_QUESTION.values())
        if mode is not None:
            previous = [t.text for t in history if t.role == "user"]
            if not search_question and not previous:
                raise InputError(*prompts.NO_PREVIOUS_ANSWER.values())
            # Re-ask the question the button belongs to (else the last one); strip an earlier
            # re-ask label so they don't pile up.
            search_question = _strip_mode_label(search_question or previous[-1])
            label = prompts.MODE_LABELS[mode][lang or question_language(search_question)]
            question = search_question + label
        resolved: str = lang or question_language(search_question)
        lang = resolved

        shown = False  # whether any draft text reached the student

        async def draft(piece: str) -> None:
            nonlocal shown
            shown = True
            if on_delta is not None:
                await on_delta(piece)

        async def fixed(text: str, queries: Sequence[str] = ()) -> Answer:
            # Front doors that only print the stream still get the fixed message.
            await draft(("\n\n" if shown else "") + text)
            return self._fixed(question, text, resolved, queries)

        sources = await self._run(lambda: self.store.sources(chat_id))
        if not any(s.status is SourceStatus.READY for s in sources):
            answer = await fixed(prompts.NO_SOURCES_MESSAGE[lang])
            if on_answer is not None:
                await on_answer(answer)
            return answer

        ready = [s for s in sources if s.status is SourceStatus.READY]
        asked_in = question_language(search_question)
        rewriting: asyncio.Task[tuple[list[str], list[Term]]] | None = None
        if not history and all(_source_language(s) == asked_in for s in ready):
            # Nothing to resolve (no conversation) nor translate (the sources are in the
            # question's language): the question itself is the standalone query. The rewrite
            # still names the note's key terms, so it runs alongside the answer, not before it.
            rewriting = asyncio.ensure_future(self._rewrite(search_question, history, ready, lang))
            queries, terms = [search_question], list[Term]()
        else:
            queries, terms = await self._rewrite(search_question, history, ready, lang)
        try:
            hits = await self._run(
                lambda: select_hits(self.store.search(chat_id, queries, k=self.k * 2), self.k)
            )
            text = prompts.NOT_IN_SOURCES
            if hits:
                text = await self._answer(search_question, hits, history, lang, mode, draft)
            if rewriting is not None:
                terms = await _terms_of(rewriting)
        finally:
            if rewriting is not None and not rewriting.done():
                rewriting.cancel()  # the answer failed: its terms are not needed any more
                with contextlib.suppress(asyncio.CancelledError, LLMError):
                    await rewriting
        if prompts.NOT_IN_SOURCES in text:
            answer = await fixed(prompts.REFUSAL_MESSAGE[lang], queries)
        else:
            # Markers checked against the snippets (moved, removed or added by the code).
            checked = await check_answer(self.store.embedder, text, hits, terms=terms, lang=lang)
            answer = Answer(
                question=question,
                answer=checked.text,
                grounded=True,
                flagged=checked.flagged,
                citations=checked.citations,
                note_id=uuid.uuid4().hex,
                lang=lang,
                queries=tuple(queries),
                uncited=checked.uncited,
                attributed=checked.attributed,
            )
        try:
            if on_answer is not None:
                await on_answer(answer)
        finally:
            await self._save(chat_id, answer, terms)
        return answer

    @staticmethod
    def _fixed(question: str, text: str, lang: str, queries: Sequence[str]) -> Answer:
        return Answer(question, text, False, False, (), None, lang, tuple(queries))

    async def _rewrite(
        self, question: str, history: Sequence[Turn], sources: Sequence[SourceRecord], lang: str
    ) -> tuple[list[str], list[Term]]:
        """Standalone search queries and key terms; falls back to the raw question on junk."""
        convo = "\n".join(f"{t.role}: {_clip(t.text, 300)}" for t in history) or "(none)"
        user = prompts.REWRITE_USER.format(
            sources=_source_languages(sources), history=convo, question=question, lang=lang
        )
        messages: list[Message] = [
            {"role": "system", "content": prompts.REWRITE_SYSTEM},
            {"role": "user", "content": user},
        ]
        parsed = prompts.parse_rewrite(await self.query_model.complete(messages, max_tokens=400))
        if parsed is not None:
            return parsed
        last_user = [t.text for t in history if t.role == "user"][-1:]
        return list(dict.fromkeys([question, *last_user])), []

    async def _answer(
        self,
        question: str,
        hits: Sequence[SearchHit],
        history: Sequence[Turn],
        lang: str,
        mode: str | None,
        on_delta: Callable[[str], Awaitable[None]] | None,
    ) -> str:
        """Stream the answer; one more try if it comes back in the wrong language."""
        messages: list[Message] = [{"role": "system", "content": prompts.ANSWER_SYSTEM}]
        for turn in history:
            role = "assistant" if turn.role == "assistant" else "user"
            messages.append({"role": role, "content": _clip(turn.text)})
        language = prompts.LANGUAGE_NAMES[lang]
        user = prompts.ANSWER_USER.format(
            snippets=prompts.format_snippets(hits),
            question=question,
            mode_instruction=prompts.MODE_INSTRUCTIONS.get(mode or "", ""),
            language=language,
            sentinel=prompts.NOT_IN_SOURCES,
        )
        text = await self._stream([*messages, {"role": "user", "content": user}], lang, on_delta)
        if text is None:
            fix = prompts.LANGUAGE_FIX.format(language=language)
            retry: list[Message] = [*messages, {"role": "user", "content": fix + user}]
            text = await self._stream(retry, None, on_delta)
        assert text is not None  # without a language to check, _stream always returns text
        return text

    async def _stream(
        self,
        messages: list[Message],
        lang: str | None,
        on_delta: Callable[[str], Awaitable[None]] | None,
    ) -> str | None:
        """The whole reply; ``None`` if it is not in ``lang`` (judged on its first words).

        The first ``HOLD_CHARS`` characters are held back, so a refusal sentinel or a reply in
        the wrong language never reaches the student's screen.
        """
        parts: list[str] = []
        released = False
        pending = ""  # released text not shown yet: it may be the start of the sentinel
        deltas = self.model.stream(messages)
        try:
            async for piece in deltas:
                parts.append(piece)
                if released:
                    pending = await self._show(pending + piece, on_delta)
                    continue
                so_far = "".join(parts)
                if len(so_far) < HOLD_CHARS or prompts.NOT_IN_SOURCES in so_far:
                    continue
                if lang is not None and text_language(so_far) != lang:
                    return None  # closing the stream stops the model early
                released = True
                pending = await self._show(so_far, on_delta)
        finally:
            # Stop the model early (and free the connection) when we return before the end.
            aclose = getattr(deltas, "aclose", None)
            if aclose is not None:
                await aclose()
        text = "".join(parts)
        if prompts.NOT_IN_SOURCES in text:
            return text
        if pending and on_delta is not None:
            await on_delta(pending)
        if not released and lang is not None and text_language(text) != lang:
            return None
        if not released and on_delta is not None and text:
            await on_delta(text)
        return text

    @staticmethod
    async def _show(text: str, on_delta: Callable[[str], Awaitable[None]] | None) -> str:
        """Send ``text`` except a tail that could begin the sentinel; returns what was kept."""
        sentinel = prompts.NOT_IN_SOURCES
        if sentinel in text:
            return text  # a refusal: show nothing more of this reply
        keep = next(
            (
                n
                for n in range(min(len(sentinel) - 1, len(text)), 0, -1)
                if text.endswith(sentinel[:n])
            ),
            0,
        )
        if len(text) > keep and on_delta is not None:
            await on_delta(text[: len(text) - keep])
        return text[len(text) - keep :]

    async def _save(self, chat_id: int, answer: Answer, terms: Sequence[Term]) -> None:
        """Both turns, and a note for a grounded answer, written together at the end."""
        asked = datetime.now(UTC)
        answered = asked + timedelta(microseconds=1)  # keeps the order when the clock is coarse

        def write() -> None:
            self.store.add_turns(
                [
                    Turn(
                        chat_id=chat_id,
                        turn_id=uuid.uuid4().hex,
                        role=role,
                        text=text,
                        created_at=when,
                    )
                    for role, text, when in (
                        ("user", answer.question, asked),
                        ("assistant", answer.answer, answered),
                    )
                ]
            )
            if answer.note_id is not None:
                self.store.put_note(
                    Note(
                        chat_id=chat_id,
                        note_id=answer.note_id,
                        question=answer.question,
                        answer=answer.answer,
                        grounded=answer.grounded,
                        citations=answer.citations,
                        terms=tuple(terms),
                        lang=answer.lang,
                        created_at=answered,
                    )
                )

        await self._run(write)

    async def notes(self, chat_id: int) -> list[Note]:
        """The chat's notebook, oldest first."""
        return await self._run(lambda: self.store.notes(chat_id))

    async def remove_note(self, chat_id: int, note_id: str) -> bool:
        """Delete one note; False if it did not exist."""
        return await self._run(lambda: self.store.delete_note(chat_id, note_id))
