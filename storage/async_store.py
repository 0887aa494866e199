"""The store as the services use it: async methods, its own threads, each chat's reads in order.

``KnowledgeStore`` is synchronous and blocks (embedded Qdrant runs in-process behind one lock,
embedding runs ONNX). This facade runs its calls in threads it owns, so no service hops threads
by hand or borrows another's pool:

- quick calls (reads, searches, notes, history) in a pool of ``threads``;
- indexing a whole source (minutes of embedding for a long paper) in a pool of its own, so a
  paper being indexed never holds the threads other chats' questions need.

Ordering: a chat's writes (an answer's turns and note, removing a note or a source, a reset)
run one after another in the order they were asked for, and a read of that chat starts only
after the writes asked for before it have finished. So ``/notes`` right after an answer lists
it, and a quick follow-up sees the previous turn. A write also finishes when the caller that
asked for it is cancelled (a student's message handler timing out must not lose a note).
Reads of different chats, and reads of one chat, run side by side.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
from collections.abc import Callable, Collection, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from kernel.models import (
    ChatGlossary,
    Note,
    ParsedSource,
    QuizItem,
    SearchHit,
    SourceKind,
    SourceRecord,
    Term,
    Turn,
)
from storage.embedding.embedder import Embedder
from storage.recovery import Recovery
from storage.store import ChatSnapshot, KnowledgeStore, Query

__all__ = ["AsyncKnowledgeStore"]

T = TypeVar("T")


class AsyncKnowledgeStore:
    """Async facade over ``KnowledgeStore``; see the module docstring for its concurrency."""

    def __init__(self, store: KnowledgeStore, *, threads: int = 4, ingest_threads: int = 2) -> None:
        self._store = store
        # Threads start on first use; ``close`` ends them.
        self._quick = ThreadPoolExecutor(max(1, threads), thread_name_prefix="store")
        self._slow = ThreadPoolExecutor(max(1, ingest_threads), thread_name_prefix="store-index")
        self._writes: dict[int, asyncio.Task[object]] = {}  # each chat's latest pending write

    @property
    def embedder(self) -> Embedder:
        return self._store.embedder

    @property
    def embedder_loaded(self) -> bool:
        """Whether the embedder was made yet (it is made when vectors are first needed)."""
        return self._store.embedder_loaded

    @property
    def core(self) -> KnowledgeStore:
        """The synchronous store underneath, for tools that run no event loop (benchmarks
        filling a store before the bot starts); services never use it."""
        return self._store

    # -- plumbing -----------------------------------------------------------------------------

    @staticmethod
    async def _run(pool: ThreadPoolExecutor, fn: Callable[[], T]) -> T:
        # Like asyncio.to_thread: the call sees the caller's context variables.
        call = functools.partial(contextvars.copy_context().run, fn)
        return await asyncio.get_running_loop().run_in_executor(pool, call)

    async def _read(self, chat_id: int, fn: Callable[[], T]) -> T:
        pending = self._writes.get(chat_id)
        if pending is not None:
            await asyncio.wait([pending])  # its failure is its writer's to report
        return await self._run(self._quick, fn)

    async def _write(self, chat_id: int, fn: Callable[[], T]) -> T:
        previous = self._writes.get(chat_id)

        async def after_previous() -> T:
            if previous is not None:
                await asyncio.wait([previous])
            return await self._run(self._quick, fn)

        task: asyncio.Task[T] = asyncio.get_running_loop().create_task(after_previous())
        self._writes[chat_id] = task

        def forget(done: asyncio.Task[T]) -> None:
            if self._writes.get(chat_id) is done:
                del self._writes[chat_id]

        task.add_done_callback(forget)
        return await asyncio.shield(task)

    # -- sources ------------------------------------------------------------------------------

    async def add_source(
        self,
        chat_id: int,
        parsed: ParsedSource,
        progress: Callable[[int, int], None] | None = None,
    ) -> SourceRecord:
        """Index ``parsed`` (READY when this returns); ``progress`` is called from a thread."""
        return await self._run(
            self._slow, lambda: self._store.add_source(chat_id, parsed, progress)
        )

    async def set_terms(
        self, chat_id: int, source_id: str, terms: Sequence[Term]
    ) -> SourceRecord | None:
        """Replace a source's term list (in the chat's write order); None if it is gone."""
        return await self._write(chat_id, lambda: self._store.set_terms(chat_id, source_id, terms))

    async def sources(self, chat_id: int) -> list[SourceRecord]:
        """Every source of the chat (any status), oldest first."""
        return await self._read(chat_id, lambda: self._store.sources(chat_id))

    async def chunks(self, chat_id: int, source_id: str) -> list[SearchHit]:
        """Every chunk of a source in reading order."""
        return await self._read(chat_id, lambda: self._store.chunks(chat_id, source_id))

    async def forget(self, chat_id: int, source_id: str) -> None:
        """Remove a source and its chunks (``NotFoundError`` if there is no such source)."""
        await self._write(chat_id, lambda: self._store.forget(chat_id, source_id))

    async def reset_chat(self, chat_id: int) -> None:
        """Forget everything of a chat: sources, chunks, notes, history, quizzes, glossary."""
        await self._write(chat_id, lambda: self._store.reset_chat(chat_id))

    async def recover(self) -> Recovery:
        """Roll back ingestions a crash interrupted and remove orphan chunks; what was done."""
        return await self._run(self._quick, self._store.recover)

    # -- reading ------------------------------------------------------------------------------

    async def snapshot(self, chat_id: int, *, turns: int = 0, notes: bool = False) -> ChatSnapshot:
        """Sources, latest turns and notes of the chat in one trip to the store."""
        return await self._read(
            chat_id, lambda: self._store.snapshot(chat_id, turns=turns, notes=notes)
        )

    async def search(
        self,
        chat_id: int,
        queries: str | Sequence[str],
        *,
        k: int = 5,
        mode: str = "hybrid",
        kinds: Collection[SourceKind] | None = None,
        sources: Sequence[SourceRecord] | None = None,
        diverse: bool = False,
        references: bool = False,
        dense: Collection[str] | None = None,
    ) -> list[SearchHit]:
        """The ``k`` best chunks of the chat's ready sources (see ``KnowledgeStore.search``)."""
        return await self._read(
            chat_id,
            lambda: self._store.search(
                chat_id,
                queries,
                k=k,
                mode=mode,
                kinds=kinds,
                sources=sources,
                diverse=diverse,
                references=references,
                dense=dense,
            ),
        )

    async def search_many(
        self,
        chat_id: int,
        queries: Sequence[Query],
        *,
        sources: Sequence[SourceRecord] | None = None,
    ) -> list[list[SearchHit]]:
        """Several searches at once: one embedding run, one index call."""
        return await self._read(
            chat_id, lambda: self._store.search_many(chat_id, queries, sources=sources)
        )

    async def notes(self, chat_id: int) -> list[Note]:
        """The chat's notes, oldest first."""
        return await self._read(chat_id, lambda: self._store.notes(chat_id))

    async def turns(self, chat_id: int, limit: int = 20) -> list[Turn]:
        """The last ``limit`` turns of the conversation, oldest first."""
        return await self._read(chat_id, lambda: self._store.turns(chat_id, limit))

    # -- writing notes and history ------------------------------------------------------------

    async def save_exchange(
        self, chat_id: int, turns: Sequence[Turn], note: Note | None = None
    ) -> None:
        """A question's turns and its note, written together, in the chat's write order."""
        await self._write(chat_id, lambda: self._store.save_exchange(turns, note))

    async def put_note(self, note: Note) -> None:
        await self._write(note.chat_id, lambda: self._store.put_note(note))

    async def delete_note(self, chat_id: int, note_id: str) -> bool:
        """True if the note existed."""
        return await self._write(chat_id, lambda: self._store.delete_note(chat_id, note_id))

    async def note(self, chat_id: int, note_id: str) -> Note | None:
        """One note of the chat, or None."""
        return await self._read(chat_id, lambda: self._store.note(chat_id, note_id))

    async def star_note(self, chat_id: int, note_id: str, starred: bool) -> Note | None:
        """See ``KnowledgeStore.star_note``."""
        return await self._write(chat_id, lambda: self._store.star_note(chat_id, note_id, starred))

    # -- study tools --------------------------------------------------------------------------

    async def quiz_items(self, chat_id: int) -> list[QuizItem]:
        """The chat's quiz questions with their answers, oldest first."""
        return await self._read(chat_id, lambda: self._store.quiz_items(chat_id))

    async def save_quiz(self, chat_id: int, items: Sequence[QuizItem]) -> None:
        """A round of quiz questions, before they are sent."""
        await self._write(chat_id, lambda: self._store.put_quiz_items(items))

    async def answer_quiz(
        self, chat_id: int, quiz_id: str, chosen: int
    ) -> tuple[QuizItem, bool] | None:
        """See ``KnowledgeStore.answer_quiz``."""
        return await self._write(chat_id, lambda: self._store.answer_quiz(chat_id, quiz_id, chosen))

    async def glossary(self, chat_id: int, lang: str) -> ChatGlossary | None:
        return await self._read(chat_id, lambda: self._store.glossary(chat_id, lang))

    async def save_glossary(self, glossary: ChatGlossary) -> None:
        await self._write(glossary.chat_id, lambda: self._store.put_glossary(glossary))

    # -- lifecycle ----------------------------------------------------------------------------

    async def drain(self) -> None:
        """Wait for every pending write (at shutdown, before closing)."""
        while self._writes:
            await asyncio.wait(list(self._writes.values()))

    def close(self) -> None:
        """Stop the threads once their current work is done, then close the store's index."""
        self._quick.shutdown(wait=True)
        self._slow.shutdown(wait=False, cancel_futures=True)  # recovery finishes the job
        self._store.close()
