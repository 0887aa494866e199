"""The services both front doors (Telegram and the CLI) use, built by ``bot.app``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from bot.answering import Answerer
from bot.library import Library
from bot.listening import Listener
from bot.llm import ChatModel
from bot.report.builder import ReportBuilder
from storage.store import KnowledgeStore

__all__ = ["Services"]


@dataclass
class Services:
    """Everything a front door needs; closed once at shutdown."""

    store: KnowledgeStore
    library: Library
    answerer: Answerer
    reports: ReportBuilder
    chat_model: ChatModel
    listener: Listener | None = None
    """Voice questions (None: the bot does not take them)."""
    owns_embedder: bool = False
    """True when the composition root built the embedder (tests may share theirs)."""
    on_close: list[Callable[[], None]] = field(default_factory=list)
    """Adapters the composition root built for these services (the speech recogniser)."""

    async def aclose(self) -> None:
        await self.chat_model.aclose()
        self.library.close()
        if self.listener is not None:
            self.listener.close()
        for close in self.on_close:
            close()
        self.store.close()
        if self.owns_embedder:
            self.store.embedder.close()
