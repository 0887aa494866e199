"""The services both front doors (Telegram and the CLI) use, built by ``bot.app``."""

from __future__ import annotations

from dataclasses import dataclass

from bot.answering import Answerer
from bot.library import Library
from bot.llm import ChatModel
from bot.pages import PageViewer
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
    pages: PageViewer
    owns_embedder: bool = False
    """True when the composition root built the embedder (tests may share theirs)."""

    async def aclose(self) -> None:
        await self.chat_model.aclose()
        self.library.close()
        self.pages.close()
        self.store.close()
        if self.owns_embedder:
            self.store.embedder.close()
