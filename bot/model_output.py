"""What a model writes besides its answer, and how it is taken out.

Reasoning models (Qwen3, DeepSeek-R1 distills behind Ollama or vLLM) put their chain of thought
in the reply between ``<think>`` tags (some servers use ``<reasoning>``); the student never sees
it, in a draft or in the answer, and it is never stored. (A ``reasoning_content`` field, where a
server sends one, is not read at all.)
"""

from __future__ import annotations

import re
from collections.abc import Sequence

__all__ = ["ReasoningFilter", "strip_reasoning"]

_REASONING_TAGS = ("think", "reasoning")
_REASONING_BLOCK = re.compile(
    r"<(think|reasoning)>.*?(?:</\1>|\Z)\s*", flags=re.IGNORECASE | re.DOTALL
)
_REASONING_END = re.compile(r"^.*?</(?:think|reasoning)>\s*", flags=re.IGNORECASE | re.DOTALL)


def strip_reasoning(text: str) -> str:
    """The reply without a reasoning model's ``<think>…</think>`` (or ``<reasoning>``) blocks;
    an unclosed block is dropped to the end, a lone closing tag drops what came before it."""
    text = _REASONING_BLOCK.sub("", text)
    return _REASONING_END.sub("", text, count=1)


class ReasoningFilter:
    """``strip_reasoning`` for a stream: feed it pieces, it returns what may be shown.

    A tag can be split across pieces, so a tail that could begin one is held back.
    """

    def __init__(self) -> None:
        self._pending = ""
        self._inside: str | None = None  # the open tag's name

    def feed(self, piece: str) -> str:
        text = self._pending + piece
        self._pending = ""
        shown: list[str] = []
        while text:
            if self._inside is not None:
                close = f"</{self._inside}>"
                at = text.lower().find(close)
                if at < 0:
                    self._pending = _partial_tail(text, [close])
                    return "".join(shown)
                text = text[at + len(close) :].lstrip()
                self._inside = None
                continue
            lowered = text.lower()
            found = [(lowered.find(f"<{t}>"), t) for t in _REASONING_TAGS]
            found = [(at, t) for at, t in found if at >= 0]
            if not found:
                tail = _partial_tail(text, [f"<{t}>" for t in _REASONING_TAGS])
                shown.append(text[: len(text) - len(tail)])
                self._pending = tail
                break
            at, tag = min(found)
            shown.append(text[:at])
            text = text[at + len(tag) + 2 :]
            self._inside = tag
        return "".join(shown)

    def finish(self) -> str:
        """What is left once the stream ends (an unfinished tag prefix is text after all)."""
        rest = "" if self._inside else self._pending
        self._pending = ""
        return rest


def _partial_tail(text: str, tags: Sequence[str]) -> str:
    """The longest end of ``text`` that is the start of one of ``tags``."""
    lowered = text.lower()
    for n in range(min(len(text), max(len(t) for t in tags) - 1), 0, -1):
        if any(t.startswith(lowered[-n:]) for t in tags):
            return text[-n:]
    return ""
