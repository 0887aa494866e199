"""The labelled attribution set is well formed, and the eval's metrics count what they claim."""

from __future__ import annotations

from collections import Counter

import numpy as np

from kernel.language import has_cjk
from scripts.eval_support import fit_logistic, load_pairs, pick_threshold, precision_recall

CATEGORIES = {"copied", "paraphrased", "translated", "partial", "wrong_snippet", "background"}


def test_the_set_has_every_kind_of_pair_and_enough_of_them() -> None:
    sources, pairs = load_pairs()
    assert len(pairs) >= 150
    assert len({p.id for p in pairs}) == len(pairs), "ids must be unique"
    counts = Counter(p.category for p in pairs)
    assert set(counts) == CATEGORIES
    assert min(counts.values()) >= 20
    assert {p.source for p in pairs} == set(sources)
    # Supported: copied, paraphrased, translated; the rest are not.
    for p in pairs:
        assert p.supported is (p.category in {"copied", "paraphrased", "translated"}), p.id


def test_translated_pairs_go_both_ways_and_wrong_snippets_name_the_right_one() -> None:
    sources, pairs = load_pairs()
    chinese = {name for name, spec in sources.items() if name in {"nndl", "3b1b_zh"}}
    zh_to_en = [p for p in pairs if p.category == "translated" and has_cjk(p.sentence)]
    en_to_zh = [p for p in pairs if p.category == "translated" and not has_cjk(p.sentence)]
    assert len(zh_to_en) >= 20
    assert len(en_to_zh) >= 10
    assert all(p.source in chinese for p in en_to_zh)
    assert all(p.source not in chinese for p in zh_to_en)
    for p in pairs:
        assert (p.gold is not None) is (p.category == "wrong_snippet"), p.id
        assert p.lang == ("zh" if has_cjk(p.sentence) else "en"), p.id


def test_quotes_are_short_excerpts_not_copies_of_the_corpus() -> None:
    _, pairs = load_pairs()
    for p in pairs:
        assert len(p.cite) <= 120, p.id
        assert p.gold is None or len(p.gold) <= 120, p.id


def test_precision_recall_and_the_threshold_pick() -> None:
    labels = np.array([True, True, True, False, False])
    scores = np.array([0.9, 0.8, 0.3, 0.85, 0.1])
    assert precision_recall(scores >= 0.5, labels) == (2 / 3, 2 / 3)
    # Keeping recall >= 2/3: 0.3 keeps 3 of 4 right (0.75), 0.8 only 2 of 3.
    assert pick_threshold(scores, labels, 2 / 3) == 0.3
    labels = np.array([True, True, False, True, False])
    scores = np.array([0.9, 0.8, 0.7, 0.3, 0.1])
    assert pick_threshold(scores, labels, 2 / 3) == 0.8  # precision 1.0, recall 2/3
    assert pick_threshold(scores, labels, 1.0) == 0.3  # precision 0.75, recall 1


def test_the_logistic_fit_separates_what_is_separable() -> None:
    rng = np.random.default_rng(0)
    x = np.r_[rng.normal(-2, 0.5, (50, 1)), rng.normal(2, 0.5, (50, 1))]
    y = np.r_[np.zeros(50), np.ones(50)]
    w = fit_logistic(x, y)
    assert w[1] > 1
    assert abs(w[0]) < 1
