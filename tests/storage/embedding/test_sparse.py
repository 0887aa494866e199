"""The lexical vectors: Chinese and English terms, stable ids, BM25-style weights."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from storage.embedding.sparse import K1, sparse_document, sparse_query, tokenize


def test_english_words_are_lowercased_normalised_and_stopwords_dropped() -> None:
    assert tokenize("The model's Attention heads are the KEY") == [
        "model",
        "attention",
        "head",
        "key",
    ]
    assert tokenize("studies classes models bus analysis") == [
        "study",
        "class",
        "model",
        "bus",
        "analysis",
    ]


def test_chinese_becomes_character_bigrams_and_lone_characters_unigrams() -> None:
    assert tokenize("注意力机制") == ["注意", "意力", "力机", "机制"]
    assert tokenize("大 模型") == ["大", "模型"]
    assert tokenize("多头注意力(multi-head attention)") == [
        "多头",
        "头注",
        "注意",
        "意力",
        "multi",
        "head",
        "attention",
    ]


def test_compatibility_characters_fold_to_the_normal_form() -> None:
    # Kangxi radical ⼤ (U+2F24) as some PDFs extract it, and full-width Latin.
    assert tokenize("⼤模型 ＧＰＴ") == tokenize("大模型 gpt")


def test_term_ids_are_stable_across_processes() -> None:
    # crc32, not Python's salted hash(): documents and queries must agree after a restart.
    assert sparse_query("Transformer").indices == [1716427693]
    assert sparse_query("注意").indices == [568358398]


def test_queries_weigh_each_distinct_term_once() -> None:
    vec = sparse_query("attention attention 注意 注意")
    assert len(vec.indices) == 2
    assert vec.values == [1.0, 1.0]


def test_document_weights_saturate_with_term_frequency() -> None:
    def weight(text: str) -> float:
        vec = sparse_document(text)
        return dict(zip(vec.indices, vec.values, strict=True))[sparse_query("gradient").indices[0]]

    filler = " lorem" * 20
    once, twice, many = (weight(("gradient " * n) + filler) for n in (1, 2, 20))
    assert once < twice < many < K1 + 1


def test_longer_documents_weigh_a_term_less() -> None:
    short = sparse_document("gradient descent")
    long = sparse_document("gradient descent " + "filler words here " * 100)
    idx = sparse_query("gradient").indices[0]
    assert (
        dict(zip(long.indices, long.values, strict=True))[idx]
        < dict(zip(short.indices, short.values, strict=True))[idx]
    )


def test_text_without_terms_gives_an_empty_vector() -> None:
    assert sparse_query("the of and, ...").indices == []
    assert sparse_document("").values == []


@given(st.text(max_size=300))
def test_vectors_are_always_valid_for_qdrant(text: str) -> None:
    for vec in (sparse_document(text), sparse_query(text)):
        assert vec.indices == sorted(set(vec.indices))  # unique, ascending
        assert len(vec.indices) == len(vec.values)
        assert all(0 <= i < 2**31 and v > 0 for i, v in zip(vec.indices, vec.values, strict=True))
