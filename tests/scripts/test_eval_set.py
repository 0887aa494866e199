"""The labelled retrieval set is well formed, and the metrics count what they claim to."""

from __future__ import annotations

import json
import re

import pytest

from kernel.models import SearchHit, SourceKind
from scripts.eval_retrieval import (
    QUESTIONS,
    Question,
    first_relevant_rank,
    is_relevant,
    load_questions,
    mrr,
    queries_for,
    recall_at_k,
)

_HAN = re.compile(r"[\u4e00-\u9fff]")
_LATIN = re.compile(r"[A-Za-z]{3,}")


def test_the_set_is_big_enough_and_half_chinese() -> None:
    questions = load_questions()
    assert len(questions) >= 40
    zh = [q for q in questions if q.lang == "zh"]
    assert len(zh) * 2 >= len(questions)
    assert {q.lang for q in questions} == {"en", "zh"}
    assert len({q.id for q in questions}) == len(questions), "ids must be unique"


def test_every_chinese_question_has_a_bilingual_rewrite() -> None:
    for q in load_questions():
        if q.lang == "zh":
            assert _HAN.search(q.question), q.id
            assert q.rewrite, q.id
            assert _HAN.search(q.rewrite), q.id
            assert _LATIN.search(q.rewrite), q.id


def test_every_question_has_gold_within_the_sources() -> None:
    for q in load_questions():
        assert q.pages or q.video, q.id
        assert all(1 <= p <= 15 for p in q.pages), q.id  # the paper has 15 pages
        assert all(0 <= a < b <= 1570 for a, b in q.video), q.id  # the video is ~26 min


def test_follow_ups_point_back_to_an_earlier_question_and_have_a_rewrite() -> None:
    questions = load_questions()
    seen: dict[str, Question] = {}
    follow_ups = 0
    for q in questions:
        if q.follows is not None:
            follow_ups += 1
            assert q.follows in seen, f"{q.id} follows {q.follows}, which is not asked before it"
            assert seen[q.follows].lang == q.lang
            assert q.rewrite, q.id
        seen[q.id] = q
    assert follow_ups >= 4


def test_the_file_uses_only_known_fields() -> None:
    raw = json.loads(QUESTIONS.read_text(encoding="utf-8"))["questions"]
    for item in raw:
        assert set(item) <= {"id", "lang", "question", "rewrite", "follows", "gold"}, item["id"]
        assert set(item["gold"]) <= {"pages", "video"}, item["id"]


def _paper_hit(page: int, page_end: int | None = None) -> SearchHit:
    return SearchHit(
        rank=1, score=1.0, chunk_id="c", source_id="p", kind=SourceKind.PAPER, title="t",
        text="x", ordinal=0, page=page, page_end=page_end,
    )  # fmt: skip


def _video_hit(start: float, end: float) -> SearchHit:
    return SearchHit(
        rank=1, score=1.0, chunk_id="c", source_id="v", kind=SourceKind.VIDEO, title="t",
        text="x", ordinal=0, start_s=start, end_s=end,
    )  # fmt: skip


GOLD = Question(
    id="q", lang="en", question="?", rewrite=None, follows=None,
    pages=frozenset({4}), video=((100.0, 120.0),),
)  # fmt: skip


@pytest.mark.parametrize(
    ("hit", "relevant"),
    [
        (_paper_hit(4), True),
        (_paper_hit(3, 5), True),  # a chunk spanning the gold page
        (_paper_hit(5), False),
        (_video_hit(110, 130), True),
        (_video_hit(60, 100), False),  # touching the start is not overlapping
        (_video_hit(120, 150), False),
        (_video_hit(90, 200), True),
    ],
)
def test_a_hit_is_relevant_when_its_page_or_time_meets_the_gold(
    hit: SearchHit, relevant: bool
) -> None:
    assert is_relevant(hit, GOLD) is relevant


def test_recall_and_mrr_on_a_hand_example() -> None:
    lists = [
        [_paper_hit(4), _paper_hit(5)],  # rank 1
        [_paper_hit(1), _paper_hit(2), _video_hit(115, 118)],  # rank 3
        [_paper_hit(1), _paper_hit(2), _paper_hit(3), _paper_hit(5), _paper_hit(6)],  # miss
        [],  # nothing found
    ]
    ranks = [first_relevant_rank(hits, GOLD) for hits in lists]
    assert ranks == [1, 3, None, None]
    assert recall_at_k(ranks, 5) == pytest.approx(0.5)
    assert recall_at_k(ranks, 2) == pytest.approx(0.25)
    assert mrr(ranks) == pytest.approx((1 + 1 / 3) / 4)
    assert recall_at_k([]) == 0.0
    assert mrr([]) == 0.0


def test_rewrite_passes_send_the_rewrite_with_the_raw_question() -> None:
    zh = Question(
        "z", "zh", "那键向量呢？", "键向量 (key vector) 怎么算？", "x", frozenset({1}), ()
    )
    en = Question("e", "en", "And on French?", None, None, frozenset({1}), ())
    assert queries_for(zh, "zh raw") == ["那键向量呢？"]
    assert queries_for(zh, "zh rewrite") == ["键向量 (key vector) 怎么算？", "那键向量呢？"]
    assert queries_for(zh, "en") is None
    assert queries_for(en, "en raw") == queries_for(en, "en") == ["And on French?"]


def test_the_issue_18_chats_are_well_formed() -> None:
    from kernel.models import Term
    from scripts.eval_queries import load_chats, reference_terms, scenario_of

    chats = load_chats()
    assert [c.id for c in chats] == ["attention", "instructgpt", "nndl", "nanogpt"]
    assert [c.id for c in chats if c.held_out] == ["nanogpt"]
    ids = [q.id for c in chats for q in c.questions]
    assert len(ids) == len(set(ids)), "ids must be unique across chats"
    lists = reference_terms()
    for chat in chats:
        material = "zh" if any("注意力" in path for path, _ in chat.sources) else "en"
        seen: set[str] = set()
        for q in chat.questions:
            assert q.pages or q.video, q.id
            if q.follows is not None:
                assert q.follows in seen, q.id  # a follow-up continues an earlier question
            if scenario_of(q, material) != f"{material} -> {material}, first":
                assert q.rewrite, q.id  # the pre-issue-18 bot rewrote these first
            seen.add(q.id)
        for path, _ in chat.sources:
            assert [Term(**t) for t in lists[path]], path  # every source has a reference list
