"""The support check of a report section: every sentence cited to a snippet that supports it.

A drafted section (markers already in canonical form, see ``citations``) goes through
``bot.support`` with the report's policy: a marker moves to the snippet that supports its
sentence, uncited sentences get the marker of the snippet that supports them, and a sentence no
snippet supports is dropped (sentences the model labelled ``（背景知识）`` stay, unmarked). Then,
because a report may take its time, the language model itself verifies the remaining claims
against their snippets in one call; a claim it rejects is dropped too. If that reply is
unusable the embedder's verdict stands (``verified`` False).
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bot.fence import fence
from bot.llm import ChatModel, Message
from bot.report import prompts
from bot.report.citations import Snippet, paper_marker
from bot.support import Candidate, Claim, Policy, SupportScorer, check_support, split_sentences
from bot.support.text import join_sentences
from kernel.errors import LLMError
from kernel.locators import format_timestamp
from kernel.models import Term

__all__ = ["MARKER", "SectionCheck", "check_section", "resolver"]

log = logging.getLogger(__name__)

MARKER = re.compile(r"\[(?:论文 p\.(\d+)|视频(?: (\d{1,2}:\d{2}(?::\d{2})?))?)\]")
VERIFY_SNIPPET_CHARS = 1500  # evidence shown per claim: its best snippets, best first
_POLICY = Policy(
    attribute="always",
    unsupported="drop",
    label=prompts.BACKGROUND_LABEL,
    labelled=(prompts.BACKGROUND_LABEL,),
)


@dataclass(frozen=True)
class SectionCheck:
    """A section body after the check, and what happened to its citations."""

    text: str
    kept: int = 0
    moved: int = 0
    attributed: int = 0
    removed: int = 0
    verified: bool = False

    def __add__(self, other: SectionCheck) -> SectionCheck:
        """Counts of two checked pieces of one body (a draft and its continuation)."""
        return SectionCheck(
            text="\n".join(t for t in (self.text, other.text) if t),
            kept=self.kept + other.kept,
            moved=self.moved + other.moved,
            attributed=self.attributed + other.attributed,
            removed=self.removed + other.removed,
            verified=self.verified and other.verified,
        )


def _seconds(stamp: str) -> float:
    parts = [int(p) for p in stamp.split(":")]
    return float(parts[-1] + 60 * parts[-2] + (3600 * parts[0] if len(parts) == 3 else 0))


def resolver(snippets: Sequence[Snippet]) -> Callable[[str], list[int]]:
    """Marker -> indices of the snippets it may cite (a page or a second they cover)."""

    def resolve(marker: str) -> list[int]:
        found = MARKER.fullmatch(marker)
        if found is None:
            return []
        if found.group(1):
            page = int(found.group(1))
            return [i for i, s in enumerate(snippets) if s.covers_page(page)]
        if found.group(2):
            at = _seconds(found.group(2))
            return [i for i, s in enumerate(snippets) if s.covers_time(at)]
        return [i for i, s in enumerate(snippets) if s.kind.value == "video" and s.start_s is None]

    return resolve


def _marker_of(snippet: Snippet) -> str:
    if snippet.page is not None and snippet.kind.value == "paper":
        return paper_marker(snippet.page)
    if snippet.start_s is not None:
        return f"[视频 {format_timestamp(snippet.start_s)}]"
    return snippet.marker


async def check_section(
    body: str,
    snippets: Sequence[Snippet],
    scorer: SupportScorer,
    model: ChatModel | None,
    *,
    terms: Sequence[Term] = (),
) -> SectionCheck:
    """Check ``body`` against ``snippets``; ``model`` (if given) verifies what the embedder kept.

    Raises what the embedder raises (a report is never delivered with unchecked citations).
    """
    if not snippets or not body.strip():
        return SectionCheck(text=body)
    resolve = resolver(snippets)
    candidates = [Candidate(_marker_of(s), s.text) for s in snippets]
    checked = await asyncio.to_thread(
        check_support,
        body,
        candidates,
        scorer,
        marker=MARKER,
        resolve=resolve,
        policy=_POLICY,
        terms=terms,
    )
    result = SectionCheck(
        text=checked.text,
        kept=checked.kept,
        moved=checked.moved,
        attributed=checked.attributed,
        removed=checked.removed,
    )
    if model is None or not checked.claims:
        return result
    rejected = await _verify(model, checked.claims, snippets)
    if rejected is None:
        return result
    if not rejected:
        return SectionCheck(**{**result.__dict__, "verified": True})
    keep = []
    dropped_markers = 0
    for sentence in split_sentences(checked.text, MARKER):
        if sentence.markers and sentence.text in rejected:
            dropped_markers += len(sentence.markers)
            continue
        keep.append(sentence)
    text = re.sub(r"\n{3,}", "\n\n", join_sentences(keep)).strip()
    return SectionCheck(
        text=text,
        kept=result.kept,
        moved=result.moved,
        attributed=result.attributed,
        removed=result.removed + dropped_markers,
        verified=True,
    )


async def _verify(
    model: ChatModel,
    claims: Sequence[Claim],
    snippets: Sequence[Snippet],
) -> set[str] | None:
    """The claim texts the model says their snippets do not support; None if it did not say."""
    blocks = []
    texts: dict[int, str] = {}
    for n, claim in enumerate(claims, start=1):
        text = claim.text
        cited = [snippets[i].text for i in claim.sources]
        evidence = " …… ".join(dict.fromkeys(cited))[:VERIFY_SNIPPET_CHARS]
        texts[n] = text
        blocks.append(f"{fence('claim', text, n=n)}\n{fence('source', evidence, n=n)}")
    messages: list[Message] = [
        {"role": "system", "content": prompts.VERIFY_SYSTEM},
        {"role": "user", "content": prompts.VERIFY_PROMPT.format(claims="\n\n".join(blocks))},
    ]
    try:
        reply = await model.complete(messages, max_tokens=400)
    except LLMError as exc:
        log.warning("report claim verification skipped, the model failed: %s", exc)
        return None
    found = re.search(r"\{.*\}", reply, re.S)
    try:
        data = json.loads(found.group(0)) if found else None
        numbers = data.get("unsupported") if isinstance(data, dict) else None
        if not isinstance(numbers, list):
            raise ValueError("no list")
        return {texts[int(n)] for n in numbers if int(n) in texts}
    except (ValueError, TypeError):
        log.warning("report claim verification skipped, unusable reply: %.200r", reply)
        return None
