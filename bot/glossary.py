"""A source's bilingual term list, built once at ingestion so questions need no model to search.

Every source gets the terms its own text defines (``ingest.terms.text_terms``: no model, so
ingestion never depends on one). ``Glossary.model_terms`` asks the model once per source for
its key terms in English and Chinese with their abbreviations and symbols; ``Library`` runs it
alongside indexing and stores the merged list on the source record. When the model is down,
slow or talks nonsense, the source keeps the list read from its text and ingestion succeeds.
``bot.queries`` uses the lists to expand a question into the sources' language.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from bot import prompts
from bot.llm import ChatModel, Message
from ingest.terms import merge_terms, term_excerpt
from kernel.errors import ConfigError, LLMError
from kernel.models import ParsedSource, Term

__all__ = ["Glossary"]

log = logging.getLogger(__name__)


class Glossary:
    """Builds a source's term list with one model call (``model`` None: never asks)."""

    def __init__(
        self, model: ChatModel | None, *, timeout_s: float = 60.0, excerpt_chars: int = 6000
    ) -> None:
        self._model = model
        self._timeout_s = timeout_s
        self._excerpt_chars = excerpt_chars

    async def model_terms(self, parsed: ParsedSource) -> list[Term] | None:
        """The model's term list for ``parsed``; None when it failed (the reason is logged:
        the student's ingestion goes on with the terms read from the text)."""
        if self._model is None:
            return None
        excerpt = prompts.format_excerpt(
            parsed.kind, parsed.title, term_excerpt(parsed, self._excerpt_chars)
        )
        messages: list[Message] = [
            {"role": "system", "content": prompts.GLOSSARY_SYSTEM},
            {
                "role": "user",
                "content": prompts.GLOSSARY_USER.format(excerpt=excerpt, kind=parsed.kind.value),
            },
        ]
        try:
            async with asyncio.timeout(self._timeout_s):
                raw = await self._model.complete(messages, max_tokens=2500)
        except (LLMError, ConfigError, TimeoutError) as exc:
            log.warning("term list of %r: model unavailable (%s)", parsed.title, type(exc).__name__)
            return None
        terms = prompts.parse_glossary(raw)
        if terms is None:
            log.warning("term list of %r: the model's reply was not a term list", parsed.title)
        return terms

    @staticmethod
    def merged(listed: Sequence[Term] | None, found: Sequence[Term]) -> tuple[Term, ...]:
        """The model's terms first (its translations win), then those read from the text."""
        return merge_terms(listed or (), found)
