"""The services both front doors (Telegram and the CLI) use, built by ``bot.app``."""

from __future__ import annotations

from dataclasses import dataclass

from bot.answering import Answerer
from bot.library import Library
from bot.llm import ChatModel
from bot.report.builder import ReportBuilder
from storage.async_store import AsyncKnowledgeStore

__all__ = ["Services"]


@dataclass
class Services:
    """Everything a front door needs; closed once at shutdown."""

    store: AsyncKnowledgeStore
    library: Library
    answerer: Answerer
    reports: ReportBuilder
    chat_model: ChatModel
    owns_embedder: bool = False
    """True when the composition root built the embedder (tests may share theirs)."""

    async def aclose(self) -> None:
        """Finish pending writes (notes, history), then close every adapter."""
        await self.store.drain()
        await self.chat_model.aclose()
        self.library.close()
        embedder = self.store.embedder
        self.store.close()
        if self.owns_embedder:
            embedder.close()
