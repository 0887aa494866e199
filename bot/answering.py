"""The tutor's answering service: question -> search queries -> snippets -> checked answer -> note.

Used by the CLI and the Telegram bot alike. An answer is a stream of events (like simonw/llm's
``Response``): ``Draft`` pieces while the model writes, then one ``Final`` with the checked
answer. Five steps make it: detect the language, turn the question into standalone search
queries (in the question's and the sources' languages, using the conversation), retrieve
snippets from paper and video, stream an answer that cites them, and check that each cited
snippet supports its sentence.
The turns and the note are saved *before* ``Final`` is yielded, so whatever a student has seen
is in the notebook and the history when the next question comes. Only a complete answer is
stored; a model failure stores nothing and raises ``LLMError``.

The queries come from the code first (``bot.queries``: the question, written again in the
sources' language with their term lists, and the previous question when this one refers back),
so most questions wait for one model call, the answer. The model rewrites the question before
the search only when the code cannot put it into the sources' language, or after a search that
found nothing the question names.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, TypeVar

from bot import prompts
from bot.citations import check_answer
from bot.model_output import strip_reasoning
from bot.queries import QueryPlan, plan_queries, source_language, weak_result
from bot.references import asks_about_references
from kernel.errors import InputError, LLMError
from kernel.language import question_language, text_language
from kernel.models import (
    Citation,
    Note,
    SearchHit,
    SourceRecord,
    SourceStatus,
    Term,
    Turn,
)
from storage.async_store import AsyncKnowledgeStore

if TYPE_CHECKING:  # typing only: importing openai takes a while
    from bot.llm import ChatModel, Message
    from bot.support import SupportScorer

__all__ = ["MODES", "Answer", "AnswerEvent", "Answerer", "Draft", "Final", "Rewind"]

log = logging.getLogger(__name__)
T = TypeVar("T")
MODES = ("simpler", "example")
HOLD_CHARS = 60  # streamed text held back until the language and the refusal can be judged
HISTORY_CHARS = 600  # per history turn in prompts: enough context, bounded cost
MAX_QUESTION_CHARS = 2000  # a question, not a document: bounded prompt and note
UNCITED_SHOWN = 3  # best snippets listed under an answer that cited none


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


@dataclass(frozen=True)
class Draft:
    """More of the answer as the model writes it: ``text`` is the new piece. A draft: citation
    markers are not checked yet, so show ``Final.answer`` as the final text."""

    text: str


@dataclass(frozen=True)
class Rewind:
    """The model's answer broke off midway and is being written again: forget the draft shown
    so far (the next ``Draft`` starts the answer anew)."""


@dataclass(frozen=True)
class Final:
    """The checked answer, already saved (turns, and a note when it is grounded)."""

    answer: Answer


AnswerEvent = Draft | Rewind | Final


def _source_languages(sources: Sequence[SourceRecord]) -> str:
    return prompts.format_sources(sources, [source_language(s) for s in sources])


def _strip_mode_label(question: str) -> str:
    for labels in prompts.MODE_LABELS.values():
        for label in labels.values():
            question = question.removesuffix(label)
    return question


def _clip(text: str, limit: int = HISTORY_CHARS) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


class _Reply:
    """What ``_stream`` learned about a model reply besides the text it showed."""

    def __init__(self) -> None:
        self.text = ""
        self.wrong_language = False


def _hold_back(text: str) -> tuple[str, str]:
    """``text`` split into what may be shown now and a tail that could begin the sentinel."""
    sentinel = prompts.NOT_IN_SOURCES
    if sentinel in text:
        return "", text  # a refusal: show nothing more of this reply
    keep = next(
        (n for n in range(min(len(sentinel) - 1, len(text)), 0, -1) if text.endswith(sentinel[:n])),
        0,
    )
    return text[: len(text) - keep], text[len(text) - keep :]


def _what_to_answer(
    question: str, history: Sequence[Turn], lang: str | None, mode: str | None
) -> tuple[str, str, str]:
    """(what to search for, the question as it is recorded, the reply's language).

    With ``mode`` the question re-asked is the one given (else the conversation's last), with
    the mode's label. Raises ``InputError`` for an empty or too long question, or a re-ask
    with nothing to re-ask.
    """
    search_question = question.strip()
    if mode is None and not search_question:
        raise InputError(*prompts.EMPTY_QUESTION.values())
    if len(search_question) > MAX_QUESTION_CHARS:
        n, limit = len(search_question), MAX_QUESTION_CHARS
        raise InputError(
            *(text.format(n=n, limit=limit) for text in prompts.QUESTION_TOO_LONG.values())
        )
    if mode is not None:
        previous = [t.text for t in history if t.role == "user"]
        if not search_question and not previous:
            raise InputError(*prompts.NO_PREVIOUS_ANSWER.values())
        # Re-ask the question the button belongs to (else the last one); strip an earlier
        # re-ask label so they don't pile up.
        search_question = _strip_mode_label(search_question or previous[-1])
        label = prompts.MODE_LABELS[mode][lang or question_language(search_question)]
        question = search_question + label
    return search_question, question, lang or question_language(search_question)


class Answerer:
    """Answers a chat's questions from its sources, and keeps its notebook."""

    def __init__(
        self,
        store: AsyncKnowledgeStore,
        model: ChatModel,
        *,
        k: int = 6,
        history_turns: int = 6,
        query_model: ChatModel | None = None,
        support: SupportScorer | None = None,
    ) -> None:
        """``query_model`` writes the search queries (default: ``model``, which answers);
        ``support`` checks each cited sentence against its snippet (default: the scorer cached
        for the store's embedder)."""
        self.store = store
        self.model = model
        self.query_model = query_model or model
        self.support = support
        self.k = k
        self.history_turns = history_turns

    async def ask(
        self,
        chat_id: int,
        question: str,
        *,
        lang: str | None = None,
        mode: str | None = None,
        on_delta: Callable[[str], Awaitable[None]] | None = None,
    ) -> Answer:
        """``answer``'s final answer; ``on_delta`` receives the draft pieces on the way."""
        async for event in self.answer(chat_id, question, lang=lang, mode=mode):
            if isinstance(event, Final):
                return event.answer
            if on_delta is not None and isinstance(event, Draft):
                await on_delta(event.text)
        raise AssertionError("an answer stream always ends with Final")  # pragma: no cover

    async def answer(
        self,
        chat_id: int,
        question: str,
        *,
        lang: str | None = None,
        mode: str | None = None,
    ) -> AsyncIterator[AnswerEvent]:
        """Answer ``question`` (or, with ``mode``, re-explain an earlier answer) as events.

        With ``mode`` ("simpler" / "example") ``question`` (the question of the answer to
        re-explain; empty = the last question of the conversation) is asked again with that
        instruction. Fixed replies (no sources, not covered) come as one ``Draft`` and their
        ``Final``. Raises ``LLMError`` / ``ConfigError`` from the model (nothing stored then)
        and ``InputError`` for an empty question or a re-ask with nothing to re-ask.
        """
        if mode is not None and mode not in MODES:
            raise ValueError(f"mode must be one of {MODES} or None, not {mode!r}")
        chat = await self.store.snapshot(chat_id, turns=self.history_turns, notes=mode is not None)
        history = chat.turns
        search_question, question, lang = _what_to_answer(question, history, lang, mode)
        revised: Note | None = None  # the note a re-explanation replaces the answer of
        if mode is not None:
            revised = next(
                (
                    n
                    for n in reversed(chat.notes)
                    if _strip_mode_label(n.question) == search_question
                ),
                None,
            )

        ready = chat.ready
        if not ready:
            text = prompts.NO_SOURCES_MESSAGE[lang]
            yield Draft(text)
            yield Final(self._fixed(question, text, lang, ()))
            return

        rewriting: asyncio.Task[tuple[list[str], list[Term]]] | None = None
        shown = False  # whether any draft text reached the student
        try:
            queries, terms, hits, rewriting = await self._find(
                chat_id, search_question, history, chat.sources, lang
            )
            text = prompts.NOT_IN_SOURCES
            if hits:
                reply = _Reply()
                async for piece in self._answer(search_question, hits, history, lang, mode, reply):
                    if isinstance(piece, Rewind):
                        shown = False
                        yield piece
                        continue
                    shown = True
                    yield Draft(piece)
                text = reply.text
            if rewriting is not None:
                terms = (await rewriting)[1]  # none if that call failed
        finally:
            if rewriting is not None and not rewriting.done():
                rewriting.cancel()  # the answer failed: its terms are not needed any more
                with contextlib.suppress(asyncio.CancelledError, LLMError):
                    await rewriting
        if prompts.NOT_IN_SOURCES in text:
            refusal = prompts.REFUSAL_MESSAGE[lang]
            yield Draft(("\n\n" if shown else "") + refusal)
            answer = self._fixed(question, refusal, lang, queries)
        else:
            # Markers checked against the snippets (moved, removed or added by the code).
            checked = await check_answer(
                self.store.embedder,
                strip_reasoning(text),
                hits,
                terms=terms,
                lang=lang,
                scorer=self.support,
            )
            answer = Answer(
                question=question,
                answer=checked.text,
                grounded=True,
                flagged=checked.flagged,
                citations=checked.citations,
                note_id=revised.note_id if revised is not None else uuid.uuid4().hex,
                lang=lang,
                queries=tuple(queries),
                uncited=checked.uncited,
                attributed=checked.attributed,
            )
        await self._save(chat_id, answer, terms, revised)
        yield Final(answer)

    @staticmethod
    def _plan(question: str, history: Sequence[Turn], sources: Sequence[SourceRecord]) -> QueryPlan:
        """What the code can search with (``bot.queries``; a seam the benchmarks override)."""
        return plan_queries(question, history, sources)

    async def _find(
        self,
        chat_id: int,
        question: str,
        history: Sequence[Turn],
        sources: Sequence[SourceRecord],
        lang: str,
    ) -> tuple[
        list[str],
        list[Term],
        list[SearchHit],
        asyncio.Task[tuple[list[str], list[Term]]] | None,
    ]:
        """Queries, key terms and snippets of a question, and the rewrite still running for
        the note's terms (if any).

        Search at once with what the code can build; the model rewrites the question first
        only when the code cannot put it into the sources' language, or after a search that
        found nothing about it (``bot.queries``). The note's key terms come from the sources'
        term lists, or from the rewrite run alongside the answer when the lists name none.
        """
        ready = [s for s in sources if s.status is SourceStatus.READY]
        plan = self._plan(question, history, ready)
        if plan.needs_rewrite:
            queries, terms = await self._rewritten(question, history, ready, lang, plan)
            return queries, terms, await self._search(chat_id, question, queries, sources), None
        queries, terms = list(plan.queries), list(plan.terms)
        hits = await self._search(chat_id, question, queries, sources, plan.meaning_queries)
        if weak_result(plan, hits):
            queries, terms = await self._rewritten(question, history, ready, lang, plan)
            return queries, terms, await self._search(chat_id, question, queries, sources), None
        rewriting = None
        if not terms:
            rewriting = asyncio.ensure_future(self._rewrite(question, history, ready, lang))
        return queries, terms, hits, rewriting

    async def _search(
        self,
        chat_id: int,
        question: str,
        queries: Sequence[str],
        sources: Sequence[SourceRecord],
        meaning: Sequence[str] | None = None,
    ) -> list[SearchHit]:
        """``meaning``: the queries searched by meaning too (``QueryPlan.meaning_queries``;
        None = all, as for the model's rewrite)."""
        # The bibliography is searched only for a question about it ("[12] 是哪篇论文？");
        # "[12]" survives in the question, maybe not in the queries.
        bibliography = asks_about_references(question)
        if bibliography:
            queries = list(dict.fromkeys([*queries, question]))
        return await self.store.search(
            chat_id,
            queries,
            k=self.k,
            sources=sources,
            diverse=True,
            references=bibliography,
            dense=meaning,
        )

    async def _rewritten(
        self,
        question: str,
        history: Sequence[Turn],
        sources: Sequence[SourceRecord],
        lang: str,
        plan: QueryPlan,
    ) -> tuple[list[str], list[Term]]:
        """The model's queries searched together with the code's, and its key terms (else the
        term lists')."""
        queries, terms = await self._rewrite(question, history, sources, lang)
        return list(dict.fromkeys([*queries, *plan.queries])), terms or list(plan.terms)

    @staticmethod
    def _fixed(question: str, text: str, lang: str, queries: Sequence[str]) -> Answer:
        return Answer(question, text, False, False, (), None, lang, tuple(queries))

    async def _rewrite(
        self, question: str, history: Sequence[Turn], sources: Sequence[SourceRecord], lang: str
    ) -> tuple[list[str], list[Term]]:
        """Standalone search queries and key terms; falls back to the question as asked (and
        the previous question, for a follow-up) on junk or when the model fails."""
        user = prompts.REWRITE_USER.format(
            sources=_source_languages(sources),
            history=prompts.format_history(history, 300),
            question=prompts.format_question(question),
            lang=prompts.LANGUAGE_NAMES.get(lang, lang),
        )
        messages: list[Message] = [
            {"role": "system", "content": prompts.REWRITE_SYSTEM},
            {"role": "user", "content": user},
        ]
        try:
            reply = await self.query_model.complete(messages, max_tokens=400)
        except LLMError as exc:  # an optional step: search as asked rather than fail
            log.warning("query rewrite failed, searching the question as asked: %s", exc)
            reply = ""
        parsed = prompts.parse_rewrite(reply)
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
        reply: _Reply,
    ) -> AsyncIterator[str | Rewind]:
        """Stream the answer's pieces; one more try if it comes back in the wrong language.
        ``reply.text`` is the whole answer at the end."""
        messages: list[Message] = [{"role": "system", "content": prompts.ANSWER_SYSTEM}]
        for turn in history:
            if turn.role == "assistant":
                messages.append({"role": "assistant", "content": _clip(turn.text)})
            else:  # the student's earlier words are data, like the question
                messages.append(
                    {"role": "user", "content": prompts.format_question(_clip(turn.text))}
                )
        language = prompts.LANGUAGE_NAMES[lang]
        user = prompts.ANSWER_USER.format(
            snippets=prompts.format_snippets(hits),
            question=prompts.format_question(question),
            mode_instruction=prompts.MODE_INSTRUCTIONS.get(mode or "", ""),
            language=language,
            sentinel=prompts.NOT_IN_SOURCES,
        )
        first: list[Message] = [*messages, {"role": "user", "content": user}]
        async for piece in self._stream_again_if_cut(first, lang, reply):
            yield piece
        if reply.wrong_language:
            fix = prompts.LANGUAGE_FIX.format(language=language)
            retry: list[Message] = [*messages, {"role": "user", "content": fix + user}]
            reply.wrong_language = False
            async for piece in self._stream_again_if_cut(retry, None, reply):
                yield piece

    async def _stream_again_if_cut(
        self, messages: list[Message], lang: str | None, reply: _Reply
    ) -> AsyncIterator[str | Rewind]:
        """``_stream``, asked once more when the model's answer breaks off midway (the model
        adapter retries what fails before the first words); ``Rewind`` if words were shown."""
        for attempt in range(2):
            shown = False
            try:
                async for piece in self._stream(messages, lang, reply):
                    shown = True
                    yield piece
                return
            except LLMError as exc:
                if attempt or not exc.retryable:
                    raise
                log.warning("the answer broke off (%s); asking again", exc)
                if shown:
                    yield Rewind()

    async def _stream(
        self, messages: list[Message], lang: str | None, reply: _Reply
    ) -> AsyncIterator[str]:
        """The reply's text to show, piece by piece; ``reply.text`` gets the whole reply, and
        ``reply.wrong_language`` is set (nothing shown) if it is not in ``lang``.

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
                    show, pending = _hold_back(pending + piece)
                    if show:
                        yield show
                    continue
                so_far = "".join(parts)
                if len(so_far) < HOLD_CHARS or prompts.NOT_IN_SOURCES in so_far:
                    continue
                if lang is not None and text_language(so_far) != lang:
                    reply.wrong_language = True
                    return  # closing the stream stops the model early
                released = True
                show, pending = _hold_back(so_far)
                if show:
                    yield show
        finally:
            # Stop the model early (and free the connection) when we return before the end.
            aclose = getattr(deltas, "aclose", None)
            if aclose is not None:
                await aclose()
        text = "".join(parts)
        reply.text = text
        if prompts.NOT_IN_SOURCES in text:
            return
        if not released and lang is not None and text_language(text) != lang:
            reply.wrong_language = True
            return
        if pending:
            yield pending
        if not released and text:
            yield text

    async def _save(
        self, chat_id: int, answer: Answer, terms: Sequence[Term], revised: Note | None = None
    ) -> None:
        """Both turns, and a note for a grounded answer, written together. A re-explanation
        replaces the answer of ``revised`` (its question's note: same place, star and question)
        rather than adding a second note for one question."""
        asked = datetime.now(UTC)
        answered = asked + timedelta(microseconds=1)  # keeps the order when the clock is coarse
        turns = [
            Turn(chat_id=chat_id, turn_id=uuid.uuid4().hex, role=role, text=text, created_at=when)
            for role, text, when in (
                ("user", answer.question, asked),
                ("assistant", answer.answer, answered),
            )
        ]
        note = None
        if answer.note_id is not None:
            note = Note(
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
            if revised is not None and revised.note_id == answer.note_id:
                note = note.model_copy(
                    update={
                        "question": revised.question,
                        "terms": note.terms or revised.terms,
                        "created_at": revised.created_at,
                        "starred": revised.starred,
                    }
                )
        await self.store.save_exchange(chat_id, turns, note)

    async def notes(self, chat_id: int) -> list[Note]:
        """The chat's notebook, oldest first."""
        return await self.store.notes(chat_id)

    async def remove_note(self, chat_id: int, note_id: str) -> bool:
        """Delete one note; False if it did not exist."""
        return await self.store.delete_note(chat_id, note_id)

    async def note(self, chat_id: int, note_id: str) -> Note | None:
        """One note of the chat (to read in full), or None."""
        return await self.store.note(chat_id, note_id)

    async def star_note(self, chat_id: int, note_id: str, starred: bool) -> Note | None:
        """Star (or unstar) a note: starred notes come first in the report. None if the chat
        has no such note."""
        return await self.store.star_note(chat_id, note_id, starred)
