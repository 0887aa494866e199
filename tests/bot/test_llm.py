"""OpenAIChatModel against the fake OpenAI-compatible server, with the real ``openai`` client."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import pytest

from bot.llm import Message, OpenAIChatModel, OpenAITranscriptionEndpoint
from bot.model_output import strip_reasoning
from ingest.video.speech import RemoteSpeechRecognizer
from kernel.errors import ConfigError, LLMError, TranscriptionError
from tests.fakes.openai_server import (
    CutOffStream,
    FakeOpenAI,
    Malformed,
    RateLimited,
    Status,
    Timeout,
)
from tests.fakes.recognition import transcription_server
from tests.fakes.speech import media_file

MESSAGES: list[Message] = [
    {"role": "system", "content": "You are a tutor."},
    {"role": "user", "content": "什么是Transformer?"},
]


@pytest.fixture
async def model(fake_openai: FakeOpenAI) -> AsyncIterator[OpenAIChatModel]:
    llm = OpenAIChatModel(
        fake_openai.base_url, "test-key", "tutor-model", timeout_s=0.5, retry_backoff_s=0.01
    )
    yield llm
    await llm.aclose()


async def collect(llm: OpenAIChatModel) -> str:
    return "".join([piece async for piece in llm.stream(MESSAGES)])


async def test_complete_sends_messages_model_and_key(
    model: OpenAIChatModel,
    fake_openai: FakeOpenAI,
) -> None:
    fake_openai.enqueue("Transformer 是一种神经网络。")
    assert await model.complete(MESSAGES, max_tokens=50) == "Transformer 是一种神经网络。"
    body = fake_openai.requests[0]
    assert body["model"] == "tutor-model"
    assert body["messages"] == MESSAGES
    assert body["max_tokens"] == 50
    assert body["temperature"] == pytest.approx(0.3)
    assert not body.get("stream")
    assert fake_openai.headers[0]["authorization"] == "Bearer test-key"


async def test_stream_yields_deltas_in_order(
    model: OpenAIChatModel,
    fake_openai: FakeOpenAI,
) -> None:
    fake_openai.enqueue("Attention lets every word look at every other word.", stream_chunks=5)
    pieces = [piece async for piece in model.stream(MESSAGES)]
    assert len(pieces) == 5
    assert "".join(pieces) == "Attention lets every word look at every other word."
    assert fake_openai.requests[0]["stream"] is True


@pytest.mark.parametrize("streaming", [False, True])
async def test_rate_limit_then_success_is_retried(
    model: OpenAIChatModel,
    fake_openai: FakeOpenAI,
    streaming: bool,
) -> None:
    fake_openai.enqueue(RateLimited(2))
    fake_openai.enqueue("ok after waiting")
    text = await collect(model) if streaming else await model.complete(MESSAGES)
    assert text == "ok after waiting"
    assert len(fake_openai.requests) == 3


async def test_rate_limit_forever_gives_up_with_retryable_error(
    fake_openai: FakeOpenAI,
) -> None:
    llm = OpenAIChatModel(
        fake_openai.base_url, "k", "m", max_retries=2, retry_backoff_s=0.01, timeout_s=2
    )
    fake_openai.enqueue(RateLimited(100))
    started = time.monotonic()
    with pytest.raises(LLMError) as info:
        await llm.complete(MESSAGES)
    await llm.aclose()
    assert len(fake_openai.requests) == 3  # first try + 2 retries
    assert time.monotonic() - started < 2
    assert info.value.retryable
    assert "太忙" in info.value.message("zh")
    assert "busy" in info.value.message("en")


async def test_retry_after_header_is_capped(fake_openai: FakeOpenAI) -> None:
    llm = OpenAIChatModel(
        fake_openai.base_url, "k", "m", max_retries=1, retry_backoff_s=5, max_backoff_s=0.05
    )
    fake_openai.enqueue(RateLimited(1, retry_after=30))
    fake_openai.enqueue("fine")
    started = time.monotonic()
    assert await llm.complete(MESSAGES) == "fine"
    assert time.monotonic() - started < 1
    await llm.aclose()


FAULTS = [
    (Timeout(3), "太慢", "too long"),
    (Status(500), "故障", "temporary fault"),
    (Status(503, "<html>down</html>"), "故障", "temporary fault"),
    (Malformed(), "看不懂", "unreadable"),
    (CutOffStream(after_chars=12), "断开", "broke off"),
    ("", "空回答", "empty"),
    ("   ", "空回答", "empty"),
]
TRANSIENT = [fault for fault, _, _ in FAULTS]


@pytest.mark.parametrize("streaming", [False, True])
@pytest.mark.parametrize(("fault", "zh", "en"), FAULTS)
async def test_faults_that_persist_become_retryable_llm_errors(
    fake_openai: FakeOpenAI,
    fault: object,
    zh: str,
    en: str,
    streaming: bool,
) -> None:
    model = OpenAIChatModel(
        fake_openai.base_url, "k", "m", timeout_s=0.5, max_retries=2, retry_backoff_s=0.01
    )
    for _ in range(3):
        fake_openai.enqueue(fault)  # type: ignore[arg-type]
    call = collect(model) if streaming else model.complete(MESSAGES)
    with pytest.raises(LLMError) as info:
        await call
    await model.aclose()
    # A stream cut after its first words is not asked again (they are on the screen already).
    tries = 1 if streaming and isinstance(fault, CutOffStream) else 3
    assert len(fake_openai.requests) == tries
    assert info.value.retryable
    assert zh in info.value.message("zh")
    assert en in info.value.message("en")
    # What happened, in a beginner's words: no status codes, and no advice (the front door
    # adds the one piece of advice that fits where the student is).
    assert "HTTP" not in info.value.message("zh") + info.value.message("en")
    assert "稍后" not in info.value.message("zh")


@pytest.mark.parametrize(
    ("fault", "streaming"),
    [(f, False) for f in TRANSIENT]
    # A stream cut after its first words is raised instead (see above).
    + [(f, True) for f in TRANSIENT if not isinstance(f, CutOffStream)],
)
async def test_a_transient_fault_is_retried_and_the_answer_still_comes(
    model: OpenAIChatModel,
    fake_openai: FakeOpenAI,
    fault: object,
    streaming: bool,
) -> None:
    fake_openai.enqueue(fault)  # type: ignore[arg-type]
    fake_openai.enqueue("Transformer 是一种模型。")
    text = await (collect(model) if streaming else model.complete(MESSAGES))
    assert text == "Transformer 是一种模型。"
    assert len(fake_openai.requests) == 2


async def test_retries_stop_when_the_time_budget_is_spent(
    fake_openai: FakeOpenAI,
) -> None:
    model = OpenAIChatModel(
        fake_openai.base_url,
        "k",
        "m",
        max_retries=5,
        retry_backoff_s=0.2,
        retry_budget_s=0.5,
    )
    for _ in range(6):
        fake_openai.enqueue(Status(502))
    started = time.monotonic()
    with pytest.raises(LLMError):
        await model.complete(MESSAGES)
    await model.aclose()
    # Waits of 0.2 s, 0.4 s, 0.8 s…: the budget stops it long before its five retries.
    assert 2 <= len(fake_openai.requests) <= 3
    assert time.monotonic() - started < 2


@pytest.mark.parametrize("streaming", [False, True])
@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        (
            "<think>The user wants DPO. Let me think.</think>\n\nDPO 是一种方法。",
            "DPO 是一种方法。",
        ),
        ("<THINK>先想一想</THINK>DPO 是一种方法。", "DPO 是一种方法。"),
        ("<reasoning>hidden</reasoning>DPO is a method.", "DPO is a method."),
        ("先想想……</think>DPO 是一种方法。", "DPO 是一种方法。"),
        ("DPO 是一种方法。<think>unfinished thoughts", "DPO 是一种方法。"),
        ("Use x < y and <b>bold</b>.", "Use x < y and <b>bold</b>."),
    ],
)
async def test_reasoning_blocks_never_reach_the_student(
    model: OpenAIChatModel,
    fake_openai: FakeOpenAI,
    raw: str,
    shown: str,
    streaming: bool,
) -> None:
    fake_openai.enqueue(raw, stream_chunks=len(raw))  # one character per delta: tags split
    text = await (collect(model) if streaming else model.complete(MESSAGES))
    if streaming and raw.startswith("先想想"):
        # A lone closing tag is only known at the end: the answerer removes what came before.
        assert strip_reasoning(text) == shown
    else:
        assert text.strip() == shown


async def test_stream_cut_off_still_yields_the_partial_text_first(
    model: OpenAIChatModel,
    fake_openai: FakeOpenAI,
) -> None:
    fake_openai.enqueue(CutOffStream(after_chars=20, text="Partial text that stops here."))
    seen: list[str] = []

    async def consume() -> None:
        async for piece in model.stream(MESSAGES):
            seen.append(piece)

    with pytest.raises(LLMError):
        await consume()
    assert "".join(seen) == "Partial text that st"


async def test_connection_refused_is_llm_error() -> None:
    with FakeOpenAI() as srv:
        url = srv.base_url  # the port is closed once the server stops
    # Retried like any transient fault (three times), without the production backoff's 7 s.
    llm = OpenAIChatModel(url, "k", "m", timeout_s=1, retry_backoff_s=0.01)
    with pytest.raises(LLMError) as info:
        await llm.complete(MESSAGES)
    await llm.aclose()
    assert "连不上" in info.value.message("zh")


@pytest.mark.parametrize("key", [None, ""])
async def test_missing_key_is_config_error_naming_the_setting(key: str | None) -> None:
    llm = OpenAIChatModel("http://127.0.0.1:9/v1", key, "m")
    with pytest.raises(ConfigError) as info:
        await llm.complete(MESSAGES)
    with pytest.raises(ConfigError):
        await collect(llm)
    assert "OPENAI_API_KEY" in info.value.message("zh")
    assert ".env" in info.value.message("en")
    await llm.aclose()


@pytest.mark.parametrize(("code", "setting"), [(401, "OPENAI_API_KEY"), (404, "MODEL")])
async def test_rejected_key_or_unknown_model_is_config_error(
    model: OpenAIChatModel,
    fake_openai: FakeOpenAI,
    code: int,
    setting: str,
) -> None:
    fake_openai.enqueue(Status(code, '{"error": {"message": "nope"}}'))
    with pytest.raises(ConfigError) as info:
        await model.complete(MESSAGES)
    assert setting in info.value.message("en")


async def test_bad_request_is_not_retryable(
    model: OpenAIChatModel,
    fake_openai: FakeOpenAI,
) -> None:
    fake_openai.enqueue(Status(400, '{"error": {"message": "context length exceeded"}}'))
    with pytest.raises(LLMError) as info:
        await model.complete(MESSAGES)
    assert not info.value.retryable


async def test_for_model_shares_endpoint_and_client_with_another_model_name(
    model: OpenAIChatModel,
    fake_openai: FakeOpenAI,
) -> None:
    fast = model.for_model("fast-model")
    fake_openai.enqueue("queries")
    fake_openai.enqueue("answer")
    assert await fast.complete(MESSAGES) == "queries"
    assert await model.complete(MESSAGES) == "answer"
    assert [body["model"] for body in fake_openai.requests] == ["fast-model", "tutor-model"]
    assert fast.model_name == "fast-model"
    assert model.model_name == "tutor-model"
    assert fast._get_client() is model._get_client()  # one connection pool for both
    await model.aclose()  # closing the main model closes the shared client...
    fake_openai.enqueue("again")
    assert await fast.complete(MESSAGES) == "again"  # ...and a later call opens a new one
    await fast.aclose()


# -- the transcription endpoint ----------------------------------------------------------------

ZH_WINDOW = {
    "text": "大家好。今天讲注意力。",
    "language": "chinese",
    "duration": 4.0,
    "segments": [
        {"id": 0, "start": 0.0, "end": 2.0, "text": "大家好。"},
        {"id": 1, "start": 2.0, "end": 4.0, "text": "今天讲注意力。"},
    ],
}


def _endpoint(url: str, **kw: object) -> OpenAITranscriptionEndpoint:
    return OpenAITranscriptionEndpoint(url, "k", "whisper-1", max_retries=0, **kw)  # type: ignore[arg-type]


def test_chinese_speech_through_a_transcription_endpoint() -> None:
    with transcription_server(ZH_WINDOW) as server:
        endpoint = _endpoint(server.base_url)
        recognizer = RemoteSpeechRecognizer(endpoint)
        result = recognizer.recognise(media_file("lecture_en.ogg"), hint="zh")
        recognizer.close()
    assert result.text == "大家好。 今天讲注意力。"
    assert result.language == "zh"
    assert [(c.start_s, c.end_s) for c in result.cues] == [(0.0, 2.0), (2.0, 4.0)]
    [request] = server.requests
    assert request["path"] == "/v1/audio/transcriptions"
    assert request["model"] == "whisper-1"
    assert request["response_format"] == "verbose_json"
    assert request["file"] > 16_000 * 2  # the window as 16 kHz 16-bit WAV
    assert "language" not in request  # detected by the endpoint, not forced


def test_an_endpoint_without_verbose_json_falls_back_to_plain_text() -> None:
    refused = (400, '{"error": {"message": "response_format verbose_json is not supported"}}')
    with transcription_server(refused, {"text": "注意力机制"}) as server:
        endpoint = _endpoint(server.base_url)
        reply = endpoint.transcribe_wav(b"RIFF", language="zh", prompt=None)
        again = endpoint.transcribe_wav(b"RIFF", language="zh", prompt=None)
        endpoint.close()
    assert (reply.text, reply.segments, again.text) == ("注意力机制", (), "注意力机制")
    assert [r["response_format"] for r in server.requests] == ["verbose_json", "json", "json"]
    assert server.requests[1]["language"] == "zh"


def test_an_endpoint_that_is_down_or_refuses_is_a_clear_error() -> None:
    busy = (503, '{"error": {"message": "overloaded"}}')
    with transcription_server(busy) as server, pytest.raises(TranscriptionError) as down:
        _endpoint(server.base_url).transcribe_wav(b"RIFF", language=None, prompt=None)
    assert (down.value.key, down.value.retryable) == ("endpoint_down", True)
    assert "HTTP 503" in down.value.message("zh")
    bad_key = (401, '{"error": {"message": "bad key"}}')
    with transcription_server(bad_key) as server, pytest.raises(TranscriptionError) as refused:
        _endpoint(server.base_url).transcribe_wav(b"RIFF", language=None, prompt=None)
    assert (refused.value.key, refused.value.retryable) == ("endpoint_refused", False)
    assert "PAPERTUTOR_ASR_API_KEY" in refused.value.message("en")
    with pytest.raises(TranscriptionError) as gone:  # nothing listens there any more
        _endpoint(server.base_url, timeout_s=5.0).transcribe_wav(
            b"RIFF", language=None, prompt=None
        )
    assert gone.value.key == "endpoint_down"
