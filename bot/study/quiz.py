"""Quizzes: a few checked multiple-choice questions from the chat's paper, video and notes,
and the student's answers kept per chat.

``Quizzer.make`` picks snippets (those behind questions the student missed first, then those
the notes cite, then chunks spread over each source), asks the model for more questions than
needed, keeps only those ``bot.study.quiz_check`` accepts, asks once more with the reasons when
too few pass, mixes the difficulties, shuffles each question's options and stores the round.
``Quizzer.answer`` records a student's answer (the first one counts) and scores the round.
Telegram sends the questions as quiz polls; the CLI prints them (and asks them in a terminal).
"""

from __future__ import annotations

import logging
import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from bot.citations import trim_snippet
from bot.prompts import LANGUAGE_NAMES, format_snippets
from bot.study import prompts
from bot.study.material import Outlines, content
from bot.study.quiz_check import DIFFICULTIES, check_question, parse_questions
from bot.study.text import key, locate
from kernel.errors import MissingSourceError, QuizError
from kernel.models import Citation, QuizItem, QuizQuestion, SearchHit, SourceKind
from storage.async_store import AsyncKnowledgeStore
from storage.store import ChatSnapshot

if TYPE_CHECKING:
    from bot.llm import ChatModel, Message

__all__ = ["QuizAnswer", "QuizRound", "Quizzer", "RoundScore"]

log = logging.getLogger(__name__)
QUESTIONS = 4  # per round (3–5)
EXTRA = 2  # candidates asked for beyond that: some fail the checks
SNIPPETS = 8
MISSED, NOTED = 3, 3  # snippets of missed questions, of notes, before the spread
MIN_CHARS = 150  # shorter chunks (headings, captions) make poor questions
REPLY_TOKENS = 2500


@dataclass(frozen=True)
class QuizRound:
    """One /quiz: its questions as stored, and how many revisit earlier mistakes."""

    round_id: str
    items: tuple[QuizItem, ...]
    revisited: int


@dataclass(frozen=True)
class RoundScore:
    total: int
    answered: int
    correct: int

    @property
    def done(self) -> bool:
        return self.answered == self.total


@dataclass(frozen=True)
class QuizAnswer:
    """A recorded answer: the question, whether this was its first answer, the round's score."""

    item: QuizItem
    first: bool
    score: RoundScore


def _useful(hit: SearchHit) -> bool:
    return len(hit.text) >= MIN_CHARS


def _still_missed(history: Sequence[QuizItem]) -> list[QuizItem]:
    """Questions answered wrongly whose passage has not been answered right in a later round,
    the most recent first: a mistake is revisited until the student gets that passage right."""
    missed: dict[str, QuizItem] = {}  # passage (its quoted snippet) -> the latest mistake
    for item in history:  # oldest first
        if item.correct is None or not item.question.citations:
            continue
        passage = item.question.citations[0].snippet
        if item.correct is False:
            missed[passage] = item
        elif passage in missed and missed[passage].round_id != item.round_id:
            del missed[passage]
    return sorted(missed.values(), key=lambda i: i.answered_at or i.asked_at, reverse=True)


def _spread(chunks: Sequence[SearchHit], count: int, rng: random.Random) -> list[SearchHit]:
    """``count`` chunks from across a source: from as many of its sections as possible (a
    transcript's chunks are each their own part), sections spread evenly, chunks at random."""
    prose = content(chunks)
    parts: dict[str, list[SearchHit]] = {}
    for c in [c for c in prose if _useful(c)] or prose:  # a tiny source: what there is
        parts.setdefault(c.section or f"#{c.ordinal}", []).append(c)
    groups = list(parts.values())
    if len(groups) > count:
        size = len(groups) / count
        groups = [groups[int(i * size) + rng.randrange(max(1, int(size)))] for i in range(count)]
    picked = [rng.choice(g) for g in groups]
    rest = [c for g in groups for c in g if c not in picked]
    picked += rng.sample(rest, min(len(rest), count - len(picked)))
    return sorted(picked, key=lambda c: c.ordinal)


def _pick(
    picked: dict[str, SearchHit],
    citations: Sequence[Citation],
    limit: int,
    chunks: Sequence[SearchHit],
) -> None:
    """Add the chunks ``citations`` quote to ``picked`` until it holds ``limit``."""
    for citation in citations:
        hit = locate(citation, chunks)
        if hit is not None and len(picked) < limit:
            picked.setdefault(hit.chunk_id, hit)


def _mixed(questions: Sequence[tuple[QuizQuestion, bool]], count: int) -> list[QuizQuestion]:
    """Up to ``count`` questions, revisits first, with easy and harder ones both present when
    there are both; ordered easy to hard."""
    ranked = sorted(questions, key=lambda q: not q[1])  # revisits first, stable otherwise
    chosen = [q for q, _ in ranked[:count]]
    rest = [q for q, _ in ranked[count:]]
    for easy in (True, False):
        if chosen and not any((q.difficulty == "easy") == easy for q in chosen):
            swap = next((q for q in rest if (q.difficulty == "easy") == easy), None)
            if swap is not None:
                chosen[-1] = swap
    return sorted(chosen, key=lambda q: DIFFICULTIES.index(q.difficulty))


def _shuffled(question: QuizQuestion, rng: random.Random) -> QuizQuestion:
    """The options in random order (models put the answer first), the answer's index moved."""
    order = list(range(len(question.options)))
    rng.shuffle(order)
    return question.model_copy(
        update={
            "options": tuple(question.options[i] for i in order),
            "correct_option_id": order.index(question.correct_option_id),
        }
    )


class Quizzer:
    """Writes checked quizzes for a chat and keeps the student's answers."""

    def __init__(
        self,
        store: AsyncKnowledgeStore,
        model: ChatModel,
        *,
        questions: int = QUESTIONS,
        rng: random.Random | None = None,
    ) -> None:
        self.store = store
        self.model = model
        self.questions = questions
        self._rng = rng or random.Random()
        self._outlines = Outlines(store)

    async def make(self, chat_id: int, *, lang: str = "zh") -> QuizRound:
        """A new round of checked questions in ``lang``, stored before it is returned.

        Raises ``MissingSourceError`` without ready sources, ``LLMError`` when the model
        fails, ``QuizError`` when none of its questions passes the checks.
        """
        chat = await self.store.snapshot(chat_id, notes=True)
        if not chat.ready:
            raise MissingSourceError("quiz")
        history = await self.store.quiz_items(chat_id)
        hits, focus = await self._material(chat, history)
        if not hits:
            raise MissingSourceError("quiz")
        missed = [i.question.question for i in _still_missed(history)][:MISSED]
        avoid = {key(i.question.question) for i in history}
        checked = await self._ask(hits, missed, history, avoid, lang)
        if not checked:
            raise QuizError("unusable")
        chosen = _mixed([(q, q.citations[0].snippet in focus) for q in checked], self.questions)
        round_id = uuid.uuid4().hex
        now = datetime.now(UTC)
        items = tuple(
            QuizItem(
                chat_id=chat_id,
                quiz_id=uuid.uuid4().hex,
                round_id=round_id,
                question=_shuffled(q, self._rng),
                lang=lang,
                asked_at=now + timedelta(microseconds=n),  # keeps the order when stored
            )
            for n, q in enumerate(chosen)
        )
        await self.store.save_quiz(chat_id, items)
        revisited = sum(q.citations[0].snippet in focus for q in chosen)
        return QuizRound(round_id, items, revisited)

    async def _material(
        self, chat: ChatSnapshot, history: Sequence[QuizItem]
    ) -> tuple[list[SearchHit], set[str]]:
        """The numbered snippets of the prompt, and the quoted texts of those behind missed
        questions (a question citing one of them revisits a mistake)."""
        outlines = [await self._outlines.of(s) for s in chat.ready]
        chunks = [c for o in outlines for c in o.chunks]
        missed = [i.question.citations[0] for i in _still_missed(history)]
        noted = [c for note in reversed(chat.notes) for c in note.citations[:1]]
        picked: dict[str, SearchHit] = {}
        _pick(picked, missed, MISSED, chunks)
        focus_ids = set(picked)
        _pick(picked, noted, MISSED + NOTED, chunks)
        papers = [o for o in outlines if o.source.kind is SourceKind.PAPER]
        videos = [o for o in outlines if o.source.kind is SourceKind.VIDEO]
        room = SNIPPETS - len(picked)
        paper_room = -(-room * 2 // 3) if papers and videos else room  # the paper comes first
        for group, group_room in ((papers, paper_room), (videos, room - paper_room)):
            for outline in group:
                for hit in _spread(outline.chunks, max(1, group_room // len(group)), self._rng):
                    if len(picked) < SNIPPETS:
                        picked.setdefault(hit.chunk_id, hit)
        # A question's citation quotes its snippet as trim_snippet does.
        focus = {trim_snippet(hit.text) for cid, hit in picked.items() if cid in focus_ids}
        return list(picked.values()), focus

    async def _ask(
        self,
        hits: Sequence[SearchHit],
        missed: Sequence[str],
        history: Sequence[QuizItem],
        avoid: set[str],
        lang: str,
    ) -> list[QuizQuestion]:
        """The model's questions that pass the checks (a second try with the reasons when
        fewer than needed pass)."""
        language = LANGUAGE_NAMES[lang]
        earlier = [i.question.question for i in history[-12:]]
        user = prompts.QUIZ_USER.format(
            snippets=format_snippets(hits),
            focus=prompts.QUIZ_FOCUS.format(missed=prompts.fence("missed", missed))
            if missed
            else "",
            avoid=prompts.QUIZ_AVOID.format(earlier=prompts.fence("earlier", earlier))
            if earlier
            else "",
            count=self.questions + EXTRA,
            language=language,
        )
        messages: list[Message] = [
            {"role": "system", "content": prompts.QUIZ_SYSTEM},
            {"role": "user", "content": user},
        ]
        accepted: list[QuizQuestion] = []
        for attempt in range(2):
            reply = await self.model.complete(messages, max_tokens=REPLY_TOKENS)
            problems = self._check(reply, hits, lang, avoid, accepted)
            if len(accepted) >= self.questions or attempt:
                break
            log.info("quiz: %d of the questions passed; asking again: %s", len(accepted), problems)
            messages += [
                {"role": "assistant", "content": reply},
                {
                    "role": "user",
                    "content": prompts.QUIZ_REPAIR.format(
                        problems="\n".join(problems) or "- the reply was not the JSON asked for",
                        count=self.questions - len(accepted) + 1,
                        language=language,
                    ),
                },
            ]
        return accepted

    @staticmethod
    def _check(
        reply: str,
        hits: Sequence[SearchHit],
        lang: str,
        avoid: set[str],
        accepted: list[QuizQuestion],
    ) -> list[str]:
        """Adds the reply's good questions to ``accepted``; returns what was wrong."""
        raw = parse_questions(reply)
        if raw is None:
            return ["- the reply was not the JSON asked for"]
        problems = []
        for n, item in enumerate(raw, start=1):
            result = check_question(item, hits, lang, avoid)
            if isinstance(result, str):
                problems.append(f"- question {n}: {result}")
                continue
            avoid.add(key(result.question))
            accepted.append(result)
        return problems

    async def answer(self, chat_id: int, quiz_id: str, chosen: int) -> QuizAnswer | None:
        """Record an answer (option index); None for an unknown question."""
        recorded = await self.store.answer_quiz(chat_id, quiz_id, chosen)
        if recorded is None:
            return None
        item, first = recorded
        return QuizAnswer(item, first, await self.score(chat_id, item.round_id))

    async def score(self, chat_id: int, round_id: str) -> RoundScore:
        items = [i for i in await self.store.quiz_items(chat_id) if i.round_id == round_id]
        answered = [i for i in items if i.chosen is not None]
        return RoundScore(len(items), len(answered), sum(bool(i.correct) for i in answered))
