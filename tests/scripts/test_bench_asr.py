"""The speech benchmark's own pieces: word error rate, and reading CTranslate2 model files."""

from __future__ import annotations

from scripts.bench_asr import word_error_rate
from scripts.whisper_small_proxy import read_model
from tests.fakes.speech import whisper_model_dir


def test_word_error_rate_counts_edits_per_reference_word() -> None:
    assert word_error_rate("the cat sat", "the cat sat") == 0.0
    assert word_error_rate("the cat sat", "the bat sat") == 1 / 3
    assert word_error_rate("self attention", "self-attention") == 0.0  # hyphens are spaces
    assert word_error_rate("a b c d", "a c d e") == 2 / 4


def test_a_whole_model_file_reads_back_with_its_aliases() -> None:
    version, spec, _, variables, aliases = read_model(whisper_model_dir() / "model.bin")
    assert (version, spec) == (6, "WhisperSpec")
    names = [name for name, *_ in variables]
    assert names == sorted(names)  # CTranslate2 writes them in order
    assert ("decoder/projection/weight", "decoder/embeddings/weight") in (aliases or [])
    shapes = dict((name, shape) for name, shape, *_ in variables)
    assert shapes["decoder/embeddings/weight"] == (51865, 512)  # Whisper base: width 512
