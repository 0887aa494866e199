"""Operator checks: data dir, a fake Qdrant server on loopback, model download via HF_ENDPOINT."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from huggingface_hub import constants as hf_constants
from pydantic import SecretStr

from bot.ops import (
    describe_asr_download,
    describe_download,
    download_asr_model,
    download_model,
    health_check,
)
from bot.settings import ASRSettings, EmbeddingSettings, Settings, StorageSettings
from kernel.errors import ConfigError, StoreUnavailableError
from storage.qdrant.index import probe_server
from tests.fakes.hf_hub import fake_hub, use_mirror
from tests.fakes.speech import whisper_model_dir

KEY = "s3cret-key"


@contextmanager
def fake_qdrant(*, api_key: str = KEY, ready: bool = True) -> Iterator[str]:
    """A Qdrant server stand-in: /readyz, /collections and / behind an ``api-key`` header."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            if self.headers.get("api-key") != api_key:
                status, body = 401, b'{"status":{"error":"Must provide an API key"}}'
            elif self.path == "/readyz":  # plain text, as Qdrant answers
                status = 200 if ready else 503
                body = b"all shards are ready" if ready else b"some shards are not ready"
            elif self.path == "/":
                status, body = 200, json.dumps({"title": "qdrant", "version": "1.15.4"}).encode()
            else:
                status, body = 200, b'{"result":{"collections":[]},"status":"ok"}'
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def closed_port_url() -> str:
    with fake_qdrant() as url:
        pass
    return url


def settings(tmp_path: Path, **storage: object) -> Settings:
    return Settings(
        storage=StorageSettings(data_dir=tmp_path / "data", **storage),  # type: ignore[arg-type]
        embedding=EmbeddingSettings(cache_dir=tmp_path / "models", model_path=None),
    )


def test_embedded_store_with_writable_data_dir_is_healthy(tmp_path: Path) -> None:
    ok, report = health_check(settings(tmp_path, qdrant_url=None), lang="en")
    assert ok, report
    assert "writable" in report
    assert "embedded Qdrant" in report
    assert (tmp_path / "data").is_dir()
    assert list((tmp_path / "data").iterdir()) == []  # the probe file is gone
    assert "not cached yet" in report  # informative, not a failure


def test_unwritable_data_dir_fails_with_the_setting_name(tmp_path: Path) -> None:
    blocker = tmp_path / "data"
    blocker.write_text("a file where the directory should be")
    ok, report = health_check(settings(tmp_path, qdrant_url=None))
    assert not ok
    assert "FAIL" in report
    assert "PAPERTUTOR_DATA_DIR" in report


def test_reachable_server_with_the_right_key(tmp_path: Path) -> None:
    with fake_qdrant() as url:
        ok, report = health_check(
            settings(tmp_path, qdrant_url=url, qdrant_api_key=SecretStr(KEY)), lang="en"
        )
    assert ok, report
    assert "1.15.4" in report


def test_wrong_key_names_both_settings(tmp_path: Path) -> None:
    with fake_qdrant() as url, pytest.raises(ConfigError) as info:
        probe_server(url, "wrong")
    assert "PAPERTUTOR_QDRANT_API_KEY" in info.value.message("zh")
    assert "QDRANT__SERVICE__API_KEY" in info.value.message("en")


def test_unreachable_server_is_a_clear_retryable_message(tmp_path: Path) -> None:
    url = closed_port_url()
    with pytest.raises(StoreUnavailableError) as info:
        probe_server(url, KEY, timeout=2)
    assert info.value.retryable
    assert url in info.value.message("zh")
    assert "PAPERTUTOR_QDRANT_URL" in info.value.message("en")
    ok, report = health_check(settings(tmp_path, qdrant_url=url), timeout=2)
    assert not ok
    assert "Qdrant" in report


def test_server_not_ready(tmp_path: Path) -> None:
    with fake_qdrant(ready=False) as url, pytest.raises(StoreUnavailableError) as info:
        probe_server(url, KEY)
    assert "503" in info.value.message("en")


def test_url_without_scheme_is_a_config_error() -> None:
    with pytest.raises(ConfigError) as info:
        probe_server("qdrant:6333", KEY)
    assert "http://qdrant:6333" in info.value.message("zh")


def test_missing_local_model_dir_fails(tmp_path: Path) -> None:
    s = settings(tmp_path, qdrant_url=None)
    s.embedding.model_path = tmp_path / "no-such-model"
    ok, report = health_check(s)
    assert not ok
    assert "PAPERTUTOR_EMBEDDING_MODEL_PATH" in report


def test_download_model_through_a_mirror_then_health_sees_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(hf_constants, "HF_HUB_OFFLINE", False)
    repo = {"onnx/model.onnx": b"weights", "config.json": b"{}", "tokenizer.json": b"{}"}
    with fake_hub({"jinaai/jina-embeddings-v2-base-zh": repo}) as hub:
        use_mirror(monkeypatch, hub.url)
        path = download_model(
            "jinaai/jina-embeddings-v2-base-zh", tmp_path / "models", progress=False
        )
    assert (path / "onnx" / "model.onnx").read_bytes() == b"weights"
    ok, report = health_check(settings(tmp_path, qdrant_url=None), lang="en")
    assert ok
    assert "jinaai/jina-embeddings-v2-base-zh cached" in report
    assert "cache" in describe_download("jinaai/jina-embeddings-v2-base-zh", path, "en")


def test_unknown_model_tells_the_operator_to_set_the_path(tmp_path: Path) -> None:
    text = describe_download("someone/zh-embed", tmp_path, "zh")
    assert f"PAPERTUTOR_EMBEDDING_MODEL_PATH={tmp_path}" in text


def test_the_speech_model_downloads_through_a_mirror_and_health_sees_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(hf_constants, "HF_HUB_OFFLINE", False)
    whisper = whisper_model_dir()
    repo = {  # the real files' names; the weights themselves are not needed to fetch them
        "model.bin": b"ct2 weights",
        "config.json": (whisper / "config.json").read_bytes(),
        "tokenizer.json": b"{}",
        "vocabulary.json": b"[]",
        "README.md": b"not fetched",
    }
    asr = ASRSettings(model="base", cache_dir=tmp_path / "models")  # type: ignore[call-arg]
    with fake_hub({"Systran/faster-whisper-base": repo}) as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        path = download_asr_model(asr)
        again = download_asr_model(asr)  # cached: nothing fetched twice
    assert path is not None
    assert again == path
    assert (path / "model.bin").read_bytes() == b"ct2 weights"
    assert sorted(hub.downloaded()) == [
        "config.json",
        "model.bin",
        "tokenizer.json",
        "vocabulary.json",
    ]
    s = settings(tmp_path, qdrant_url=None)
    s.asr = asr
    ok, report = health_check(s, lang="en")
    assert ok
    assert "speech recognition: faster-whisper base ready" in report
    assert "base is ready in" in describe_asr_download(asr, path, "en")


def test_speech_settings_in_health_and_download(tmp_path: Path) -> None:
    s = settings(tmp_path, qdrant_url=None)
    s.asr = ASRSettings(url="http://asr.example/v1")  # type: ignore[call-arg]
    ok, report = health_check(s, lang="en")
    assert ok
    assert "speech recognition: endpoint http://asr.example/v1" in report
    assert download_asr_model(s.asr) is None  # nothing to download for an endpoint
    assert "no model to download" in describe_asr_download(s.asr, None, "en")
    empty = tmp_path / "not-a-model"
    empty.mkdir()
    s.asr = ASRSettings(model=str(empty))  # type: ignore[call-arg]
    ok, report = health_check(s, lang="en")
    assert not ok
    assert f"PAPERTUTOR_ASR_MODEL={empty} is not a CTranslate2 model directory" in report
    s.asr = ASRSettings(model=str(whisper_model_dir()))  # type: ignore[call-arg]
    ok, report = health_check(s, lang="en")
    assert ok
    assert "ready" in report
