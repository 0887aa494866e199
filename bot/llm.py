"""The language-model seam: a ``ChatModel`` protocol and its OpenAI-compatible adapter, and
the remote speech-recognition endpoint (``OpenAITranscriptionEndpoint``, an
``ingest.video.speech.TranscriptionEndpoint``).

This is the only module that imports ``openai``. Services depend on ``ChatModel`` only.
Every fault of the endpoint (timeout, rate limit, 5xx, connection error, junk body, stream cut
off, empty reply) surfaces as ``kernel.errors.LLMError`` with a kind, retryable message; a
missing or rejected key / unknown model as ``kernel.errors.ConfigError``.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import logging
import time
from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypedDict, cast

import openai
from openai import AsyncOpenAI, OpenAI

from bot.model_output import ReasoningFilter, strip_reasoning
from ingest.video.speech import EndpointReply
from kernel.errors import ConfigError, LLMError, TranscriptionError

__all__ = ["ChatModel", "Message", "OpenAIChatModel", "OpenAITranscriptionEndpoint"]

log = logging.getLogger(__name__)


class Message(TypedDict):
    role: str  # "system" | "user" | "assistant"
    content: str


class ChatModel(Protocol):
    """An async chat model. Faults surface as ``kernel.errors.LLMError`` (retryable)."""

    model_name: str

    async def complete(self, messages: Sequence[Message], *, max_tokens: int | None = None) -> str:
        """The whole reply at once."""
        ...

    def stream(
        self, messages: Sequence[Message], *, max_tokens: int | None = None
    ) -> AsyncIterator[str]:
        """The reply as text deltas; raises ``LLMError`` if the stream is cut off or malformed."""
        ...

    async def aclose(self) -> None: ...


def _llm_error(zh: str, en: str, *, retryable: bool = True) -> LLMError:
    # What happened only: the front door adds the one piece of advice that fits (ask again,
    # a retry button, /report again).
    return LLMError(zh, en, retryable=retryable)


def _missing_key() -> ConfigError:
    return ConfigError(
        "还没有配置语言模型的密钥：请在 .env 文件中设置 OPENAI_API_KEY，然后重启机器人。",
        "No language-model key is configured: set OPENAI_API_KEY in .env and restart the bot.",
    )


def _translate(err: Exception) -> Exception:
    """Map an ``openai`` / parsing exception to the error the student or operator sees.

    No protocol jargon: a student reads these. The status code goes to the log."""
    if isinstance(err, openai.APITimeoutError):
        return _llm_error(
            "语言模型这次回答得太慢了。", "The language model took too long this time."
        )
    if isinstance(err, openai.APIConnectionError):
        return _llm_error(
            "暂时连不上语言模型（网络中断或回答中途断开）。",
            "The language model cannot be reached right now, or its answer broke off.",
        )
    if isinstance(err, openai.RateLimitError):
        return _llm_error("语言模型现在太忙了。", "The language model is busy right now.")
    if isinstance(err, openai.AuthenticationError | openai.PermissionDeniedError):
        return ConfigError(
            "语言模型拒绝了密钥：请检查 .env 中的 OPENAI_API_KEY（和 OPENAI_BASE_URL）。",
            "The language model rejected the key: check OPENAI_API_KEY (and OPENAI_BASE_URL) "
            "in .env.",
        )
    if isinstance(err, openai.NotFoundError):
        return ConfigError(
            "语言模型服务找不到所配置的模型：请检查 PAPERTUTOR_LLM_MODEL 和 OPENAI_BASE_URL。",
            "The endpoint does not know the configured model: check PAPERTUTOR_LLM_MODEL and "
            "OPENAI_BASE_URL.",
        )
    if isinstance(err, openai.APIStatusError):
        log.warning("language model answered HTTP %s", err.status_code)
        if err.status_code >= 500:
            return _llm_error(
                "语言模型服务暂时出了故障。", "The language model service has a temporary fault."
            )
        return _llm_error(
            "语言模型拒绝了这次请求，可能是问题或对话太长。",
            "The language model refused this request; the question or conversation may be "
            "too long.",
            retryable=False,
        )
    return _malformed()


def _malformed() -> LLMError:
    return _llm_error(
        "语言模型返回了看不懂的内容。", "The language model sent back something unreadable."
    )


def _cut_off() -> LLMError:
    return _llm_error("语言模型的回答中途断开了。", "The language model's answer broke off midway.")


def _empty() -> LLMError:
    return _llm_error("语言模型返回了空回答。", "The language model returned an empty answer.")


# What the openai client raises for a bad endpoint or body: its own errors, JSON/validation
# errors (ValueError, incl. pydantic's), and attribute/type errors from a body of the wrong shape.
_FAULTS = (openai.OpenAIError, ValueError, TypeError, AttributeError, KeyError, IndexError)
# Faults worth another try: the same request may well work a moment later.
_TRANSIENT = (
    openai.APITimeoutError,
    openai.APIConnectionError,
    openai.RateLimitError,
    openai.InternalServerError,
)


@dataclass
class _SharedClient:
    """The lazily created client, shared by the models of one endpoint (``for_model``)."""

    client: AsyncOpenAI | None = None


class OpenAIChatModel:
    """``ChatModel`` over any OpenAI-compatible endpoint (OpenAI, DeepSeek, Qwen, Ollama, vLLM).

    Transient faults (timeouts, 429, 5xx, connection errors, empty replies, a stream cut before
    its first words) are retried up to ``max_retries`` times with exponential backoff starting
    at ``retry_backoff_s`` (a ``Retry-After`` header wins, capped at ``max_backoff_s``), as long
    as ``retry_budget_s`` allows: one step never keeps a student waiting much longer than that.
    Other faults fail at once. Reasoning blocks (``<think>``…) never reach the caller. The client
    is created on first use so a bot without a key still starts and can ingest sources.
    """

    def __init__(
        self,
        base_url: str | None,
        api_key: str | None,
        model: str,
        *,
        timeout_s: float = 60,
        max_retries: int = 3,
        temperature: float = 0.3,
        retry_backoff_s: float = 1.0,
        max_backoff_s: float = 20.0,
        retry_budget_s: float = 30.0,
    ) -> None:
        self.model_name = model
        self._base_url = base_url or None
        self._api_key = api_key or None
        self._timeout_s = timeout_s
        self._max_retries = max(0, max_retries)
        self._temperature = temperature
        self._backoff = retry_backoff_s
        self._max_backoff = max_backoff_s
        self._budget_s = retry_budget_s
        self._shared = _SharedClient()

    def for_model(self, model: str) -> OpenAIChatModel:
        """The same endpoint, settings and HTTP client with another model name (e.g. a faster
        one for search queries). Closing either closes the shared client."""
        other = copy.copy(self)
        other.model_name = model
        return other

    def _get_client(self) -> AsyncOpenAI:
        if self._api_key is None:
            raise _missing_key()
        if self._shared.client is None:
            # The client's own retries are off: we retry 429 only, with our own backoff.
            self._shared.client = AsyncOpenAI(
                base_url=self._base_url,
                api_key=self._api_key,
                timeout=self._timeout_s,
                max_retries=0,
            )
        return self._shared.client

    def _params(
        self, messages: Sequence[Message], max_tokens: int | None, stream: bool
    ) -> dict[str, Any]:
        params: dict[str, Any] = {
            "model": self.model_name,
            "messages": [{"role": m["role"], "content": m["content"]} for m in messages],
            "temperature": self._temperature,
            "stream": stream,
        }
        if max_tokens is not None:
            params["max_tokens"] = max_tokens
        return params

    def _retry_in(self, attempt: int, started: float, err: Exception) -> float | None:
        """Seconds to wait before try ``attempt + 1``, or None when retrying is over."""
        if attempt >= self._max_retries:
            return None
        delay = self._backoff * (2**attempt)
        response = getattr(err, "response", None)
        retry_after = response.headers.get("retry-after") if response is not None else None
        if retry_after:
            # An HTTP date instead of seconds: keep our own backoff.
            with contextlib.suppress(ValueError):
                delay = float(retry_after)
        delay = float(min(max(delay, 0.0), self._max_backoff))
        if time.monotonic() - started + delay > self._budget_s:
            return None
        return delay

    async def _retry(self, attempt: int, started: float, err: Exception) -> None:
        """Wait before the next attempt, or raise the error the caller should see."""
        delay = self._retry_in(attempt, started, err)
        if delay is None:
            raise (err if isinstance(err, LLMError) else _translate(err)) from err
        log.warning("language model fault (%s); retry %d in %.2fs", err, attempt + 1, delay)
        await asyncio.sleep(delay)

    async def _create(self, params: dict[str, Any]) -> Any:
        """Send one request (no retry here); transient faults pass through untranslated."""
        client = self._get_client()
        try:
            return await client.chat.completions.create(**params)
        except _TRANSIENT:
            raise
        except _FAULTS as err:
            raise _translate(err) from err

    async def complete(self, messages: Sequence[Message], *, max_tokens: int | None = None) -> str:
        """The whole reply at once, reasoning removed (an empty reply is retried)."""
        params = self._params(messages, max_tokens, stream=False)
        started = time.monotonic()
        attempt = 0
        while True:
            try:
                return await self._complete_once(params)
            except _TRANSIENT as err:
                await self._retry(attempt, started, err)
            except LLMError as err:
                if not err.retryable:
                    raise
                await self._retry(attempt, started, err)
            attempt += 1

    async def _complete_once(self, params: dict[str, Any]) -> str:
        response = await self._create(params)
        try:
            content = response.choices[0].message.content
        except _FAULTS as err:
            raise _malformed() from err
        text = strip_reasoning(content) if isinstance(content, str) else ""
        if not text.strip():
            raise _empty()
        return text

    async def stream(
        self, messages: Sequence[Message], *, max_tokens: int | None = None
    ) -> AsyncIterator[str]:
        """The reply as text deltas, reasoning removed; ``LLMError`` if cut off, malformed or
        empty. A fault before the first words is retried; after them it is raised."""
        params = self._params(messages, max_tokens, stream=True)
        started = time.monotonic()
        attempt = 0
        while True:
            shown = False
            held = ""  # leading whitespace: not worth showing before real words
            try:
                async with contextlib.aclosing(self._stream_once(params)) as pieces:
                    async for piece in pieces:
                        if not shown and not piece.strip():
                            held += piece
                            continue
                        shown = True
                        yield held + piece
                        held = ""
                return
            except _TRANSIENT as err:
                if shown:
                    raise _translate(err) from err
                await self._retry(attempt, started, err)
            except LLMError as err:
                if shown or not err.retryable:
                    raise
                await self._retry(attempt, started, err)
            attempt += 1

    async def _stream_once(self, params: dict[str, Any]) -> AsyncGenerator[str, None]:
        response = await self._create(params)
        finished = False
        got_text = False
        visible = ReasoningFilter()
        try:
            async with response:
                async for chunk in response:
                    for choice in chunk.choices or ():
                        piece = choice.delta.content if choice.delta is not None else None
                        shown = visible.feed(cast(str, piece)) if piece else ""
                        if shown:
                            got_text = got_text or bool(shown.strip())
                            yield shown
                        if choice.finish_reason is not None:
                            finished = True
        except _TRANSIENT:
            raise
        except _FAULTS as err:
            raise _translate(err) from err
        rest = visible.finish()
        if rest:
            got_text = got_text or bool(rest.strip())
            yield rest
        if not finished:
            raise _cut_off()  # the connection closed without finish_reason
        if not got_text:
            raise _empty()

    async def aclose(self) -> None:
        """Close the HTTP client (idempotent; a later call opens a new one)."""
        client, self._shared.client = self._shared.client, None
        if client is not None:
            await client.close()


# -- speech recognition ------------------------------------------------------------------------


def _reason(err: Exception) -> str:
    if isinstance(err, openai.APIStatusError):
        return f"HTTP {err.status_code}"
    if isinstance(err, openai.APITimeoutError):
        return "timeout"
    if isinstance(err, openai.APIConnectionError):
        return "connection failed"
    return type(err).__name__


def _transcription_error(err: Exception) -> TranscriptionError:
    refused = isinstance(
        err, openai.AuthenticationError | openai.PermissionDeniedError | openai.NotFoundError
    )
    if refused:
        return TranscriptionError("endpoint_refused", reason=_reason(err), retryable=False)
    return TranscriptionError("endpoint_down", reason=_reason(err))


def _segments(response: Any) -> tuple[tuple[float, float, str], ...]:
    found = []
    for segment in getattr(response, "segments", None) or ():
        get = segment.get if isinstance(segment, dict) else lambda k, s=segment: getattr(s, k, None)
        start, end, text = get("start"), get("end"), get("text")
        if isinstance(start, int | float) and isinstance(end, int | float) and text:
            found.append((float(start), float(end), str(text)))
    return tuple(found)


class OpenAITranscriptionEndpoint:
    """``/v1/audio/transcriptions`` of any OpenAI-compatible server (OpenAI's whisper-1, Groq,
    a self-hosted faster-whisper server…), synchronous: the recogniser calls it in a thread.

    Asks for ``verbose_json`` with segment times; a server that refuses that format (HTTP 400)
    is asked for plain ``json`` from then on, and its windows get approximate times. Rate
    limits and server errors are retried ``max_retries`` times by the client; what remains is a
    ``TranscriptionError`` (retryable unless the key, model or URL is refused).
    """

    def __init__(
        self,
        base_url: str,
        api_key: str | None,
        model: str,
        *,
        timeout_s: float = 300.0,
        max_retries: int = 2,
    ) -> None:
        self.model_name = model
        self._model = model
        self._client = OpenAI(
            base_url=base_url,
            api_key=api_key or "unused",  # self-hosted servers often need none
            timeout=timeout_s,
            max_retries=max_retries,
        )
        self._verbose = True

    def transcribe_wav(
        self, wav: bytes, *, language: str | None, prompt: str | None
    ) -> EndpointReply:
        params: dict[str, Any] = {"model": self._model, "file": ("audio.wav", wav, "audio/wav")}
        if language:
            params["language"] = language
        if prompt:
            params["prompt"] = prompt
        try:
            if self._verbose:
                try:
                    response = self._client.audio.transcriptions.create(
                        **params,
                        response_format="verbose_json",
                        timestamp_granularities=["segment"],
                    )
                except openai.BadRequestError:
                    log.warning("%s refuses verbose_json: times will be approximate", self._model)
                    self._verbose = False
            if not self._verbose:
                response = self._client.audio.transcriptions.create(
                    **params, response_format="json"
                )
        except _FAULTS as err:
            raise _transcription_error(err) from err
        text = response if isinstance(response, str) else getattr(response, "text", "")
        return EndpointReply(
            text=str(text or ""),
            language=getattr(response, "language", None),
            segments=_segments(response),
        )

    def close(self) -> None:
        self._client.close()
