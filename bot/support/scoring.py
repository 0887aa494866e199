"""How strongly a snippet supports a sentence: one score in [0, 1] from the embedder and the text.

Three pieces of evidence, each working across Chinese and English:

- **meaning**: the sentence's cosine similarity to the snippet's most similar sentence, as a
  z-score against unrelated anchor passages written in the snippet's script. The
  anchors cancel what differs between embedders and between a same-language and a cross-language
  pair (multilingual-e5 gives 0.8 to unrelated pairs, MiniLM 0.1);
- **words**: ``text.coverage``, with the question's key terms bridging the two languages;
- **figures**: a number the sentence states that the snippet does not contain vetoes support.

``support = sigmoid(bias + w_meaning * z + w_words * coverage)`` (0 on a veto); a marker is kept
at ``support >= threshold``. Weights and threshold come from the labelled attribution set
(``scripts/eval_support.py``, figures in BENCHMARKS.md), per embedder; an embedder that was never
measured gets the multilingual model's calibration. Blocking (embedding): call from a thread.
"""

from __future__ import annotations

import math
import re
import threading
import weakref
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from bot.support.text import coverage, numbers, split_sentences
from kernel.language import has_cjk
from kernel.models import Term
from storage.embedding.embedder import Embedder

__all__ = [
    "CALIBRATIONS",
    "DEFAULT_CALIBRATION",
    "Calibration",
    "SupportScorer",
    "scorer_for",
    "windows",
]


@dataclass(frozen=True)
class Calibration:
    """Logistic weights of the support score and the score a kept marker needs."""

    bias: float
    meaning: float
    words: float
    threshold: float


# Fitted by `make eval` (scripts/eval_support.py) on scripts/eval_data/attribution_pairs.json.
CALIBRATIONS: dict[str, Calibration] = {
    "sentence-transformers/all-MiniLM-L6-v2": Calibration(-0.80, 0.015, 2.88, 0.637),
    "multilingual-e5-small-q4": Calibration(-2.10, 0.226, 2.08, 0.536),
}
DEFAULT_CALIBRATION = CALIBRATIONS["multilingual-e5-small-q4"]

# Unrelated everyday passages: how similar "not about this at all" looks to this embedder.
ANCHORS = {
    "en": (
        "The recipe calls for two cups of flour, a pinch of salt and some warm water.",
        "The football match was postponed because of heavy rain in the afternoon.",
        "Our hotel room had a view of the harbour and the old lighthouse.",
        "She planted tomatoes and basil in the garden behind the house.",
        "The museum opens at nine and closes early on public holidays.",
        "He repaired the bicycle chain with a borrowed set of tools.",
        "The train to the coast was delayed by almost an hour.",
        "Prices at the market rose sharply after the poor harvest.",
    ),
    "zh": (
        "这道菜需要两杯面粉、一小撮盐和一些温水。",
        "由于下午下起了大雨，足球比赛被推迟了。",
        "我们的酒店房间可以看到港口和那座老灯塔。",
        "她在房子后面的花园里种了西红柿和罗勒。",
        "博物馆早上九点开门，节假日会提前关门。",
        "他用借来的工具修好了自行车的链条。",
        "开往海边的火车晚点了将近一个小时。",
        "收成不好之后，市场上的价格大幅上涨。",
    ),
}
MAX_WINDOWS = 12  # sentences per snippet: a chunk of 900 characters has about 6-10
_CACHE_SIZE = 4096  # embedded windows kept across checks (follow-up questions reuse snippets)


_NO_MARKER = re.compile(r"[^\s\S]")  # matches nothing: snippets carry no markers


def windows(snippet: str) -> list[str]:
    """The snippet's sentences (at most ``MAX_WINDOWS``): what a cited sentence is compared to."""
    sentences = [s.text for s in split_sentences(snippet, _NO_MARKER) if len(s.text) > 1]
    found = list(dict.fromkeys(sentences))[:MAX_WINDOWS]
    return found or [" ".join(snippet.split())]


def _sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x)) if x > -60 else 0.0


class SupportScorer:
    """Scores sentences against snippets with one embedder; thread-safe, caches snippet windows."""

    def __init__(self, embedder: Embedder, calibration: Calibration | None = None) -> None:
        self.embedder = embedder
        self.calibration = calibration or CALIBRATIONS.get(embedder.model_name, DEFAULT_CALIBRATION)
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._anchors: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()

    def _vectors(self, texts: Sequence[str]) -> list[np.ndarray]:
        """Unit vectors of ``texts``; one embedding call for those not cached."""
        with self._lock:
            missing = [t for t in dict.fromkeys(texts) if t not in self._cache]
        if missing:
            fresh = self.embedder.embed_passages(missing)
            with self._lock:
                for text, vector in zip(missing, fresh, strict=True):
                    v = np.asarray(vector, dtype=np.float32)
                    self._cache[text] = v / (float(np.linalg.norm(v)) or 1.0)
                while len(self._cache) > _CACHE_SIZE:
                    self._cache.popitem(last=False)
        with self._lock:
            out = []
            for t in texts:
                self._cache.move_to_end(t)
                out.append(self._cache[t])
            return out

    def _anchor_matrix(self, script: str) -> np.ndarray:
        if script not in self._anchors:
            self._anchors[script] = np.stack(self._vectors(ANCHORS[script]))
        return self._anchors[script]

    def features(
        self, sentences: Sequence[str], snippets: Sequence[str]
    ) -> tuple[np.ndarray, list[str]]:
        """The meaning z-scores (sentences x snippets) and each snippet's script."""
        snippet_windows = [windows(s) for s in snippets]
        flat = [w for ws in snippet_windows for w in ws]
        vectors = self._vectors([*sentences, *flat])
        claims = np.stack(vectors[: len(sentences)]) if sentences else np.zeros((0, 1))
        scripts = ["zh" if has_cjk(s) else "en" for s in snippets]
        z = np.zeros((len(sentences), len(snippets)), dtype=np.float32)
        if not sentences or not snippets:
            return z, scripts
        baseline: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for script in set(scripts):
            sims = claims @ self._anchor_matrix(script).T
            baseline[script] = (sims.mean(axis=1), np.maximum(sims.std(axis=1), 0.01))
        at = len(sentences)
        for j, ws in enumerate(snippet_windows):
            block = np.stack(vectors[at : at + len(ws)])
            at += len(ws)
            best = (claims @ block.T).max(axis=1)
            mean, std = baseline[scripts[j]]
            z[:, j] = (best - mean) / std
        return z, scripts

    def scores(
        self,
        sentences: Sequence[str],
        snippets: Sequence[str],
        terms: Sequence[Term] = (),
    ) -> list[list[float]]:
        """``support[i][j]`` of sentence ``i`` by snippet ``j``, in [0, 1]."""
        z, _ = self.features(sentences, snippets)
        return [
            [self.combine(float(z[i, j]), s, p, terms) for j, p in enumerate(snippets)]
            for i, s in enumerate(sentences)
        ]

    def combine(self, meaning: float, sentence: str, snippet: str, terms: Sequence[Term]) -> float:
        """The support score from the meaning z-score and the sentence's and snippet's text."""
        if not numbers(sentence) <= numbers(snippet):
            return 0.0
        c = self.calibration
        return _sigmoid(c.bias + c.meaning * meaning + c.words * coverage(sentence, snippet, terms))


_SCORERS: weakref.WeakKeyDictionary[Embedder, SupportScorer] = weakref.WeakKeyDictionary()
_SCORERS_LOCK = threading.Lock()


def scorer_for(embedder: Embedder) -> SupportScorer:
    """The scorer of ``embedder`` (one per embedder, so its window cache is shared by answers)."""
    with _SCORERS_LOCK:
        scorer = _SCORERS.get(embedder)
        if scorer is None:
            scorer = _SCORERS[embedder] = SupportScorer(embedder)
        return scorer
