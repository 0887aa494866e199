"""Terms a source defines, read without a model."""

from __future__ import annotations

import re

from ingest.terms import defined_terms, merge_terms, term_excerpt, text_terms
from kernel.models import Chunk, PaperMeta, ParsedSource, SourceKind, Term


def test_chinese_terms_with_their_english_names() -> None:
    text = (
        "在计算能力有限情况下，注意力机制（Attention Mechanism）是一种资源分配方案。"
        "这种装备外部记忆的神经网络也称为记忆网络（Memory Network，MN）。"
        "其中αi 称为注意力分布（Attention Distribution），"
        "还有一种叫做硬性注意力（Hard Attention）。"
    )
    found = defined_terms(text)
    assert Term(en="Attention Mechanism", zh="注意力机制") in found
    assert Term(en="Memory Network", zh="记忆网络", aliases=("MN",)) in found
    assert Term(en="Attention Distribution", zh="注意力分布") in found
    assert Term(en="Hard Attention", zh="硬性注意力") in found


def test_english_long_forms_with_their_abbreviations() -> None:
    text = (
        "We use reinforcement learning from human feedback (RLHF) to fine-tune. Then we train "
        "with proximal policy optimization (PPO) against a reward model (RM). Pre-trained "
        "language models (LMs) are large. The result (see Table 2) improves."
    )
    found = {t.aliases[0]: t.en for t in defined_terms(text)}
    assert found["RLHF"] == "reinforcement learning from human feedback"
    assert found["PPO"] == "proximal policy optimization"
    assert found["RM"] == "reward model"
    assert found["LMs"] == "language models"
    assert "see" not in " ".join(found)  # "(see Table 2)" defines nothing


def _paper(chunks: list[Chunk]) -> ParsedSource:
    return ParsedSource(
        kind=SourceKind.PAPER,
        fingerprint="sha256:t",
        paper=PaperMeta(title="Attention", abstract="We propose the Transformer."),
        chunks=tuple(chunks),
    )


def test_text_terms_adds_headings_but_not_the_generic_ones() -> None:
    parsed = _paper(
        [
            Chunk(ordinal=0, text="Intro text.", page=1, section="1 Introduction"),
            Chunk(
                ordinal=1,
                text="Scaled dot products.",
                page=3,
                section="3.2.1 Scaled Dot-Product Attention",
            ),
            Chunk(
                ordinal=2,
                text="多头注意力（Multi-Head Attention）。",
                page=4,
                section="8.1.3.3 多头注意力",
            ),
        ]
    )
    terms = text_terms(parsed)
    assert Term(en="Scaled Dot-Product Attention") in terms
    assert Term(en="Multi-Head Attention", zh="多头注意力") in terms  # heading merged in
    assert all(t.en != "Introduction" for t in terms)


def test_merge_prefers_the_first_list_and_pools_aliases() -> None:
    model = [Term(en="Reward Model", zh="奖励模型")]
    text = [Term(en="reward model", aliases=("RM",)), Term(zh="奖励模型", en="RM model")]
    assert merge_terms(model, text) == (Term(en="Reward Model", zh="奖励模型", aliases=("RM",)),)
    assert len(merge_terms([Term(en=f"t{i}") for i in range(300)])) == 120


def test_excerpt_stays_within_its_limit_and_spans_the_source() -> None:
    chunks = [Chunk(ordinal=i, text=f"passage {i} " * 80, page=i + 1) for i in range(40)]
    excerpt = term_excerpt(_paper(chunks), limit=3000)
    assert len(excerpt) <= 3000
    assert excerpt.startswith("Title: Attention")
    assert "We propose the Transformer." in excerpt
    shown = {int(n) for n in re.findall(r"passage (\d+)", excerpt)}
    assert 0 in shown
    assert max(shown) >= 30  # from the whole source, not only its beginning
