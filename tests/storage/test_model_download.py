"""``prefetch_model`` against a fake Hugging Face Hub on loopback, then fastembed offline."""

from __future__ import annotations

from pathlib import Path

import pytest
from huggingface_hub import constants as hf_constants

from kernel.errors import ConfigError, ServiceError
from storage.model_download import (
    BASE_FILES,
    KNOWN_MODELS,
    default_cache_dir,
    model_files,
    prefetch_model,
)
from tests.embedding import TEST_MODEL_NAME, test_model_dir
from tests.fake_hf_hub import fake_hub, repo_from_dir

TEST_REPO = "Qdrant/all-MiniLM-L6-v2-onnx"  # where fastembed looks for TEST_MODEL_NAME


@pytest.fixture(autouse=True)
def online(monkeypatch: pytest.MonkeyPatch) -> None:
    """Online mode, whatever the environment said when huggingface_hub was imported."""
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("HF_ENDPOINT", raising=False)
    monkeypatch.setattr(hf_constants, "HF_HUB_OFFLINE", False)


def test_known_models_agree_with_fastembed() -> None:
    from fastembed import TextEmbedding

    described = {m.model.lower(): m for m in TextEmbedding._list_supported_models()}
    for name, files in KNOWN_MODELS.items():
        model = described[name]
        assert files.repo_id == model.sources.hf
        assert files.model_file == model.model_file
        assert list(files.additional_files) == list(model.additional_files)


def test_default_model_is_in_the_table() -> None:
    from bot.settings import EmbeddingSettings

    default = EmbeddingSettings.model_fields["model"].default
    assert model_files(default).known_to_fastembed
    assert model_files(default).patterns[-1] == "onnx/model.onnx"


def test_unknown_name_is_read_as_a_repo_id() -> None:
    files = model_files("someone/my-onnx-model")
    assert files.repo_id == "someone/my-onnx-model"
    assert not files.known_to_fastembed
    assert "onnx/model.onnx" in files.patterns


def test_default_cache_dir_follows_fastembed(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("FASTEMBED_CACHE_PATH", str(tmp_path))
    assert default_cache_dir() == tmp_path


def test_prefetched_model_is_found_by_fastembed_offline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    repo = repo_from_dir(test_model_dir())
    repo["README.md"] = b"not needed"  # outside fastembed's patterns: must not be fetched
    with fake_hub({TEST_REPO: repo}) as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.url)  # the mirror setting operators use
        snapshot = prefetch_model(TEST_MODEL_NAME, tmp_path)
    assert snapshot.is_relative_to(tmp_path)
    assert (snapshot / "model.onnx").read_bytes() == repo["model.onnx"]
    assert "README.md" not in hub.downloaded()
    assert "vocab.txt" not in hub.downloaded()
    assert set(hub.downloaded()) <= {*BASE_FILES, "model.onnx"}
    assert "model.onnx" in hub.downloaded()
    assert "100%" in capfd.readouterr().err  # the progress bar was shown

    # A later run with no network finds it through the ordinary embedder path.
    from storage.embedder import FastEmbedEmbedder

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    embedder = FastEmbedEmbedder(TEST_MODEL_NAME, cache_dir=tmp_path)
    try:
        assert embedder.dim == 384
    finally:
        embedder.close()


def test_second_prefetch_downloads_nothing_and_works_offline(tmp_path: Path) -> None:
    repo = repo_from_dir(test_model_dir())
    with fake_hub({TEST_REPO: repo}) as hub:
        first = prefetch_model(TEST_MODEL_NAME, tmp_path, endpoint=hub.url, progress=False)
        fetched = len(hub.downloaded())
        again = prefetch_model(TEST_MODEL_NAME, tmp_path, endpoint=hub.url, progress=False)
        assert len(hub.downloaded()) == fetched
    assert again == first


def test_cached_model_is_returned_in_offline_mode(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with fake_hub({TEST_REPO: repo_from_dir(test_model_dir())}) as hub:
        first = prefetch_model(TEST_MODEL_NAME, tmp_path, endpoint=hub.url, progress=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert prefetch_model(TEST_MODEL_NAME, tmp_path, progress=False) == first


def test_any_repo_id_with_onnx_files(tmp_path: Path) -> None:
    repo = {"onnx/model.onnx": b"onnx", "tokenizer.json": b"{}", "pytorch_model.bin": b"x"}
    with fake_hub({"someone/zh-embed": repo}) as hub:
        snapshot = prefetch_model("someone/zh-embed", tmp_path, endpoint=hub.url, progress=False)
    assert (snapshot / "onnx" / "model.onnx").read_bytes() == b"onnx"
    assert not (snapshot / "pytorch_model.bin").exists()


def test_offline_and_not_cached_says_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ConfigError) as info:
        prefetch_model("jinaai/jina-embeddings-v2-base-zh", tmp_path, progress=False)
    for lang in ("zh", "en"):
        text = info.value.message(lang)
        assert "HF_ENDPOINT" in text
        assert "PAPERTUTOR_EMBEDDING_MODEL_PATH" in text
        assert "HF_HUB_OFFLINE" in text


def test_unreachable_hub_is_retryable_and_names_the_mirror_setting(tmp_path: Path) -> None:
    with fake_hub({}) as hub:
        dead = hub.url  # the port is closed once the block ends
    with pytest.raises(ServiceError) as info:
        prefetch_model("jinaai/jina-embeddings-v2-base-zh", tmp_path, endpoint=dead, progress=False)
    assert info.value.retryable
    assert dead in info.value.message("en")
    assert "HF_ENDPOINT" in info.value.message("zh")


def test_unknown_repo_is_a_config_error(tmp_path: Path) -> None:
    with fake_hub({}) as hub, pytest.raises(ConfigError) as info:
        prefetch_model("nobody/nothing", tmp_path, endpoint=hub.url, progress=False)
    assert "nobody/nothing" in info.value.message("zh")
    assert "PAPERTUTOR_EMBEDDING_MODEL" in info.value.message("en")


def test_repo_without_onnx_weights_is_refused(tmp_path: Path) -> None:
    repo = {"config.json": b"{}", "pytorch_model.bin": b"x"}
    with fake_hub({"someone/torch-only": repo}) as hub, pytest.raises(ConfigError) as info:
        prefetch_model("someone/torch-only", tmp_path, endpoint=hub.url, progress=False)
    assert "ONNX" in info.value.message("en")
