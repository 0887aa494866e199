"""A scripted in-process ``ChatModel`` for unit tests of services (no HTTP involved).

    model = ScriptedChatModel()
    model.enqueue("第一次回复")              # replies in order
    model.enqueue(lambda messages: "...")    # or computed from the messages sent
    model.set_default(fn)                    # when the queue is empty
    model.calls                              # every list of messages received, in order

Seam tests of the real ``OpenAIChatModel`` use ``tests.fakes.openai_server.FakeOpenAI`` instead.
"""

from __future__ import annotations

from collections import deque
from collections.abc import AsyncIterator, Callable, Sequence

from bot.llm import Message
from kernel.errors import LLMError

__all__ = ["Reply", "ScriptedChatModel"]

Reply = str | Callable[[Sequence[Message]], str] | BaseException


class ScriptedChatModel:
    """Implements ``bot.llm.ChatModel``; replies come from a queue, then a default function."""

    def __init__(self, model_name: str = "scripted") -> None:
        self.model_name = model_name
        self.calls: list[list[Message]] = []
        self.max_tokens: list[int | None] = []
        self._queue: deque[Reply] = deque()
        self._default: Callable[[Sequence[Message]], str] | None = None
        self.closed = False

    def enqueue(self, reply: Reply) -> None:
        """Queue a text, a function of the messages, or an exception to raise."""
        self._queue.append(reply)

    def set_default(self, fn: Callable[[Sequence[Message]], str] | None) -> None:
        self._default = fn

    async def complete(self, messages: Sequence[Message], *, max_tokens: int | None = None) -> str:
        self.calls.append(list(messages))
        self.max_tokens.append(max_tokens)
        if self._queue:
            reply = self._queue.popleft()
        elif self._default is not None:
            reply = self._default
        else:
            raise LLMError("脚本模型没有可用的回复。", "ScriptedChatModel: nothing queued")
        if isinstance(reply, BaseException):
            raise reply
        return reply if isinstance(reply, str) else reply(messages)

    async def stream(
        self, messages: Sequence[Message], *, max_tokens: int | None = None
    ) -> AsyncIterator[str]:
        yield await self.complete(messages, max_tokens=max_tokens)

    async def aclose(self) -> None:
        self.closed = True
