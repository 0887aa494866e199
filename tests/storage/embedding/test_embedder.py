"""FastEmbedEmbedder on the local test model: same vectors however calls are scheduled, and a
question's query is never stuck behind a paper being indexed."""

from __future__ import annotations

import math
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from tests.fakes.embedding import test_embedder

LONG_PASSAGE = " ".join(["attention layers map queries and keys to weighted sums of values"] * 20)


def _cosine(a: list[float], b: list[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    return dot / math.sqrt(sum(x * x for x in a) * sum(y * y for y in b))


def test_queries_asked_together_get_the_vectors_they_get_alone() -> None:
    embedder = test_embedder()
    texts = [f"question {i}: why does sparse attention save memory?" for i in range(12)]
    texts.append("short")  # different lengths: the batch pads, the vectors must not change
    alone = [embedder.embed_query(t) for t in texts]
    with ThreadPoolExecutor(max_workers=len(texts)) as pool:
        together = list(pool.map(embedder.embed_query, texts))
    assert [len(v) for v in together] == [embedder.dim] * len(texts)
    assert all(_cosine(a, b) > 0.9999 for a, b in zip(alone, together, strict=True))


def test_passages_come_back_in_order_whatever_the_slicing() -> None:
    embedder = test_embedder()
    texts = ["The cat sat on the mat.", "GPUs train models.", "Attention is all you need."]
    texts += ["Sine positional encodings.", "Label smoothing."]
    sliced = embedder.embed_passages(texts)
    one_by_one = [embedder.embed_passages([t])[0] for t in texts]
    assert len(sliced) == len(texts)
    assert all(_cosine(a, b) > 0.9999 for a, b in zip(sliced, one_by_one, strict=True))
    assert embedder.embed_passages([]) == []


def test_a_query_is_not_starved_by_a_long_passage_batch() -> None:
    embedder = test_embedder()
    passages = [f"{i} {LONG_PASSAGE}" for i in range(40)]  # seconds of ONNX work
    started = threading.Event()
    finished_at: list[float] = []

    def index() -> None:
        started.set()
        embedder.embed_passages(passages)
        finished_at.append(time.monotonic())

    worker = threading.Thread(target=index)
    worker.start()
    try:
        started.wait()
        time.sleep(0.3)  # the batch is well under way
        vector = embedder.embed_query("why does attention need positional encodings?")
        answered_at = time.monotonic()
    finally:
        worker.join()
    assert len(vector) == embedder.dim
    # With one lock for the whole batch the query would come back only after the batch.
    assert answered_at < finished_at[0] - 0.5


class _CountingModel:
    """Counts ONNX query runs of the real model it wraps."""

    def __init__(self, inner: object) -> None:
        self.inner = inner
        self.query_runs: list[int] = []

    def query_embed(self, texts: list[str], batch_size: int) -> object:
        self.query_runs.append(len(texts))
        return self.inner.query_embed(texts, batch_size=batch_size)  # type: ignore[attr-defined]


def test_a_questions_queries_are_embedded_in_one_run_in_order() -> None:
    embedder = test_embedder()
    texts = ["sparse attention memory", "稀疏注意力 内存", "why is attention quadratic?"]
    alone = [embedder.embed_query(t) for t in texts]
    real = embedder._model
    counting = _CountingModel(real)
    embedder._model = counting
    try:
        together = embedder.embed_queries(texts)
    finally:
        embedder._model = real
    assert counting.query_runs == [3]
    assert all(_cosine(a, b) > 0.9999 for a, b in zip(alone, together, strict=True))
    assert embedder.embed_queries([]) == []
