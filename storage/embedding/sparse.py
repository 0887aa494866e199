"""Lexical sparse vectors for the keyword leg of hybrid search, Chinese and English alike.

Pure Python, no model. Latin/digit words are lowercased with a light English normalisation and
stopwords removed; CJK runs become overlapping character bigrams (a lone CJK character stays a
unigram), which is how Chinese search engines match words without a segmenter. Term indices are
a stable hash, so documents and queries agree across processes and restarts. Document values
are BM25's saturated, length-normalised term frequency; queries weigh each term once. Qdrant
multiplies by IDF (``Modifier.IDF`` on the sparse vector), so nothing here depends on corpus
statistics.
"""

from __future__ import annotations

import re
import unicodedata
import zlib
from collections import Counter
from dataclasses import dataclass

__all__ = ["SparseVec", "sparse_document", "sparse_query", "tokenize"]

# BM25 parameters; AVG_LEN is a typical chunk's token count (the chunker aims at ~200 words).
K1 = 1.2
B = 0.75
AVG_LEN = 200.0

_CJK = (
    "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"  # Han (ext. A, unified, compatibility)
    "\u3040-\u30ff"  # kana
    "\uac00-\ud7af"  # hangul
)
_TOKEN = re.compile(rf"[{_CJK}]+|[a-z0-9]+(?:['’][a-z]+)?")

_STOPWORDS_TEXT = """
    a about above after again against all am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for from
    further had has have having he her here hers herself him himself his how i if in into is it
    its itself just me more most my myself no nor not of off on once only or other our ours
    ourselves out over own same she should so some such than that the their theirs them
    themselves then there these they this those through to too under until up very was we were
    what when where which while who whom why will with would you your yours yourself
    yourselves s t"""
STOPWORDS = frozenset(_STOPWORDS_TEXT.split())


@dataclass(frozen=True)
class SparseVec:
    """A sparse vector as Qdrant takes it: parallel lists of term ids and weights."""

    indices: list[int]
    values: list[float]


def _normalise_word(word: str) -> str:
    """Possessives and regular plurals fold onto the singular ("model's", "models" -> "model")."""
    word = re.sub(r"['’](s)?$", "", word)
    if len(word) <= 3 or not word.endswith("s") or word.endswith(("ss", "us", "is")):
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("sses"):
        return word[:-2]
    return word[:-1]


def tokenize(text: str) -> list[str]:
    """Search terms of ``text`` in order: English words and CJK bigrams/unigrams."""
    # NFKC folds full-width Latin and Kangxi radicals (some PDFs extract ⼤ for 大).
    text = unicodedata.normalize("NFKC", text).lower()
    terms: list[str] = []
    for match in _TOKEN.finditer(text):
        token = match.group()
        if token[0].isascii():
            word = _normalise_word(token)
            if word and word not in STOPWORDS:
                terms.append(word)
        elif len(token) == 1:
            terms.append(token)
        else:
            terms.extend(token[i : i + 2] for i in range(len(token) - 1))
    return terms


def _index(term: str) -> int:
    return zlib.crc32(term.encode("utf-8")) & 0x7FFFFFFF


def _merge(weights: dict[str, float]) -> SparseVec:
    # Two terms can share a hash; add them up instead of letting Qdrant reject duplicates.
    by_index: dict[int, float] = {}
    for term, weight in weights.items():
        idx = _index(term)
        by_index[idx] = by_index.get(idx, 0.0) + weight
    ordered = sorted(by_index.items())
    return SparseVec([i for i, _ in ordered], [w for _, w in ordered])


def sparse_document(text: str) -> SparseVec:
    """Sparse vector of a stored chunk (BM25 term-frequency part)."""
    counts = Counter(tokenize(text))
    length = sum(counts.values())
    norm = K1 * (1 - B + B * length / AVG_LEN)
    return _merge({t: tf * (K1 + 1) / (tf + norm) for t, tf in counts.items()})


def sparse_query(text: str) -> SparseVec:
    """Sparse vector of a query: each distinct term once."""
    return _merge(dict.fromkeys(tokenize(text), 1.0))
