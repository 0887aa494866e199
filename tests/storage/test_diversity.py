"""Choosing an answer's snippets: no near-duplicates, and the video keeps a place."""

from __future__ import annotations

from kernel.models import SearchHit, SourceKind
from storage.diversity import select_hits


def hit(rank: int, text: str, kind: SourceKind = SourceKind.PAPER) -> SearchHit:
    return SearchHit(
        rank=rank,
        score=1 / rank,
        chunk_id=f"c{rank}",
        source_id=kind.value,
        kind=kind,
        title="T",
        text=text,
        ordinal=rank,
    )


def test_select_hits_drops_near_duplicates_and_keeps_video() -> None:
    texts = [
        "Self-attention relates every token to every other token.",
        "Positional encodings add order information with sines.",
        "Byte pair encoding merges frequent character pairs.",
        "Label smoothing improves BLEU while hurting perplexity.",
        "We trained on eight GPUs for twelve hours.",
    ]
    papers = [hit(rank, t) for rank, t in zip((1, 3, 4, 5, 6), texts, strict=True)]
    duplicate = hit(2, "Self-attention relates every token to every other token!")
    clip = hit(7, "the lecturer explains something else entirely", SourceKind.VIDEO)
    chosen = select_hits([papers[0], duplicate, *papers[1:], clip], 4)
    assert duplicate not in chosen
    assert clip in chosen  # video keeps a place even though five paper hits ranked higher
    assert len(chosen) == 4
    assert [h.rank for h in chosen] == sorted(h.rank for h in chosen)
    assert select_hits(papers, 3) == papers[:3]
