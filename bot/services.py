"""The services both front doors (Telegram and the CLI) use, built by ``bot.app``.

Each service is made on first use, so a command builds only what it needs: ``papertutor
sources`` opens the store and loads neither the embedding model nor the language model; the bot
builds everything before it starts serving. Tests hand in ready objects instead.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from bot.answering import Answerer
    from bot.library import Library
    from bot.listening import Listener
    from bot.llm import ChatModel
    from bot.markup.formula_image import FormulaRenderer
    from bot.pages import PageViewer
    from bot.report.builder import ReportBuilder
    from bot.study import GlossaryBuilder, NextSteps, Quizzer
    from storage.async_store import AsyncKnowledgeStore

__all__ = ["Services"]

_NAMES = (
    "store",
    "chat_model",
    "library",
    "answerer",
    "reports",
    "formulas",
    "pages",
    "quizzes",
    "glossary",
    "next_steps",
    "listener",
)


class Services:
    """Everything a front door needs; ``aclose`` closes what was built, once, at shutdown."""

    def __init__(
        self,
        *,
        makers: dict[str, Callable[[], Any]] | None = None,
        owns_embedder: bool = False,
        **ready: Any,
    ) -> None:
        """``makers``: how to make each service (by name) when it is first used; ``ready``:
        services already made. ``owns_embedder``: the embedder was made here (tests may share
        theirs), so closing the services closes it."""
        unknown = set(ready) - set(_NAMES)
        if unknown:
            raise TypeError(f"unknown services: {sorted(unknown)}")
        self._made: dict[str, Any] = dict(ready)
        self._makers = dict(makers or {})
        self.owns_embedder = owns_embedder
        self._closers: list[Callable[[], None]] = []

    def on_close(self, close: Callable[[], None]) -> None:
        """Close an adapter the composition root made for these services (the speech
        recogniser) when they are closed."""
        self._closers.append(close)

    def use(self, name: str, service: Any) -> None:
        """Put ``service`` in place of the one named ``name`` (a benchmark or test swaps one
        service and keeps the rest)."""
        if name not in _NAMES:
            raise TypeError(f"unknown service: {name}")
        self._made[name] = service

    def _get(self, name: str) -> Any:
        if name not in self._made:
            self._made[name] = self._makers[name]()
        return self._made[name]

    @property
    def store(self) -> AsyncKnowledgeStore:
        return cast("AsyncKnowledgeStore", self._get("store"))

    @property
    def chat_model(self) -> ChatModel:
        return cast("ChatModel", self._get("chat_model"))

    @property
    def library(self) -> Library:
        return cast("Library", self._get("library"))

    @property
    def answerer(self) -> Answerer:
        return cast("Answerer", self._get("answerer"))

    @property
    def reports(self) -> ReportBuilder:
        return cast("ReportBuilder", self._get("reports"))

    @property
    def listener(self) -> Listener | None:
        """Voice questions (None: the bot does not take them)."""
        return cast("Listener | None", self._get("listener") if self._can("listener") else None)

    def _can(self, name: str) -> bool:
        return name in self._made or name in self._makers

    @property
    def pages(self) -> PageViewer:
        """The paper as printed: figures, tables and cited passages as images."""
        return cast("PageViewer", self._get("pages"))

    @property
    def formulas(self) -> FormulaRenderer:
        """Draws display formulas as images (its thread and matplotlib start on first use)."""
        return cast("FormulaRenderer", self._get("formulas"))

    @property
    def quizzes(self) -> Quizzer:
        return cast("Quizzer", self._get("quizzes"))

    @property
    def glossary(self) -> GlossaryBuilder:
        return cast("GlossaryBuilder", self._get("glossary"))

    @property
    def next_steps(self) -> NextSteps:
        """Follow-up questions under an answer (no model call)."""
        return cast("NextSteps", self._get("next_steps"))

    def build_all(self) -> None:
        """Make every service now (the bot: the first student should not wait for it)."""
        for name in _NAMES:
            if self._can(name):
                self._get(name)

    def built(self, name: str) -> bool:
        return name in self._made

    async def aclose(self) -> None:
        """Finish pending writes (notes, history), then close every adapter that was made."""
        if self.built("store"):
            await self.store.drain()
        if self.built("chat_model"):
            await self.chat_model.aclose()
        if self.built("library"):
            self.library.close()
        if self.built("formulas"):
            self.formulas.close()
        if self.built("pages"):
            self.pages.close()
        if self.built("listener") and self.listener is not None:
            self.listener.close()
        for close in self._closers:
            close()
        if self.built("store"):
            store = self.store
            embedder = store.embedder if store.embedder_loaded else None
            store.close()
            if self.owns_embedder and embedder is not None:
                embedder.close()
