"""``prefetch_model`` against a fake Hugging Face Hub on loopback, then fastembed offline."""

from __future__ import annotations

from pathlib import Path

import pytest
from huggingface_hub import constants as hf_constants

from kernel.errors import ConfigError, ServiceError
from storage.embedding.model_download import (
    cached_snapshot,
    default_cache_dir,
    model_files,
    prefetch_model,
)
from tests.fakes.embedding import TEST_MODEL_NAME, test_model_dir
from tests.fakes.hf_hub import fake_hub, repo_from_dir, use_mirror

TEST_REPO = "Qdrant/all-MiniLM-L6-v2-onnx"  # where fastembed looks for TEST_MODEL_NAME


@pytest.fixture(autouse=True)
def online(monkeypatch: pytest.MonkeyPatch) -> None:
    """Online mode, whatever the environment said when huggingface_hub was imported."""
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("HF_ENDPOINT", raising=False)
    monkeypatch.setattr(hf_constants, "HF_HUB_OFFLINE", False)


# fastembed's own allow-list for every hub model (it adds them to the model's files).
BASE_FILES = {
    "config.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "preprocessor_config.json",
}


def test_known_models_come_from_fastembed() -> None:
    from fastembed import TextEmbedding

    for described in TextEmbedding.list_supported_models():
        if not described["sources"]["hf"]:
            continue
        files = model_files(described["model"].upper())  # names match case-insensitively
        assert files.known_to_fastembed
        assert files.repo_id == described["sources"]["hf"]
        assert files.patterns == [described["model_file"], *described["additional_files"]]


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
        use_mirror(monkeypatch, hub.url)  # the mirror setting operators use
        assert cached_snapshot(TEST_MODEL_NAME, tmp_path) is None
        snapshot = prefetch_model(TEST_MODEL_NAME, tmp_path)
    assert snapshot.is_relative_to(tmp_path)
    assert (snapshot / "model.onnx").read_bytes() == repo["model.onnx"]
    assert "README.md" not in hub.downloaded()
    assert "vocab.txt" not in hub.downloaded()
    assert set(hub.downloaded()) <= {*BASE_FILES, "model.onnx"}
    assert "model.onnx" in hub.downloaded()
    assert "100%" in capfd.readouterr().err  # the progress bar was shown
    assert cached_snapshot(TEST_MODEL_NAME, tmp_path) == snapshot

    # A later run with no network finds it through the ordinary embedder path.
    from storage.embedding.embedder import FastEmbedEmbedder

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    embedder = FastEmbedEmbedder(TEST_MODEL_NAME, cache_dir=tmp_path)
    try:
        assert embedder.dim == 384
    finally:
        embedder.close()


def test_second_prefetch_downloads_nothing_and_works_offline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = repo_from_dir(test_model_dir())
    with fake_hub({TEST_REPO: repo}) as hub:
        use_mirror(monkeypatch, hub.url)
        first = prefetch_model(TEST_MODEL_NAME, tmp_path, progress=False)
        fetched = len(hub.downloaded())
        again = prefetch_model(TEST_MODEL_NAME, tmp_path, progress=False)
        assert len(hub.downloaded()) == fetched
    assert again == first


def test_cached_model_is_returned_in_offline_mode(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with fake_hub({TEST_REPO: repo_from_dir(test_model_dir())}) as hub:
        use_mirror(monkeypatch, hub.url)
        first = prefetch_model(TEST_MODEL_NAME, tmp_path, progress=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert prefetch_model(TEST_MODEL_NAME, tmp_path, progress=False) == first


def test_any_repo_id_with_onnx_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = {"onnx/model.onnx": b"onnx", "tokenizer.json": b"{}", "pytorch_model.bin": b"x"}
    with fake_hub({"someone/zh-embed": repo}) as hub:
        use_mirror(monkeypatch, hub.url)
        snapshot = prefetch_model("someone/zh-embed", tmp_path, progress=False)
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


def test_unreachable_hub_is_retryable_and_names_the_mirror_setting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with fake_hub({}) as hub:
        dead = hub.url  # the port is closed once the block ends
    use_mirror(monkeypatch, dead)
    with pytest.raises(ServiceError) as info:
        prefetch_model("jinaai/jina-embeddings-v2-base-zh", tmp_path, progress=False)
    assert info.value.retryable
    assert dead in info.value.message("en")
    assert "HF_ENDPOINT" in info.value.message("zh")


def test_unknown_repo_is_a_config_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with fake_hub({}) as hub:
        use_mirror(monkeypatch, hub.url)
        with pytest.raises(ConfigError) as info:
            prefetch_model("nobody/nothing", tmp_path, progress=False)
    assert "nobody/nothing" in info.value.message("zh")
    assert "PAPERTUTOR_EMBEDDING_MODEL" in info.value.message("en")


def test_repo_without_onnx_weights_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = {"config.json": b"{}", "pytorch_model.bin": b"x"}
    with fake_hub({"someone/torch-only": repo}) as hub:
        use_mirror(monkeypatch, hub.url)
        with pytest.raises(ConfigError) as info:
            prefetch_model("someone/torch-only", tmp_path, progress=False)
    assert "ONNX" in info.value.message("en")
