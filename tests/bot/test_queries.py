"""Questions into search queries without a model: term expansion, follow-ups, weak results."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.queries import find_terms, plan_queries, refers_back, weak_result
from kernel.models import PaperMeta, SearchHit, SourceKind, SourceRecord, SourceStatus, Term, Turn

NOW = datetime(2026, 1, 1, tzinfo=UTC)
TERMS = (
    Term(en="Multi-Head Attention", zh="多头注意力"),
    Term(en="attention", zh="注意力"),
    Term(
        en="reinforcement learning from human feedback",
        zh="基于人类反馈的强化学习",
        aliases=("RLHF",),
    ),
    Term(en="reward model", zh="奖励模型", aliases=("RM",)),
)


def source(lang: str = "en", terms: tuple[Term, ...] = TERMS) -> SourceRecord:
    abstract = (
        "We study attention in neural networks."
        if lang == "en"
        else "本章介绍注意力机制与外部记忆。"
    )
    return SourceRecord(
        chat_id=1,
        source_id=f"s-{lang}",
        kind=SourceKind.PAPER,
        status=SourceStatus.READY,
        title="Attention" if lang == "en" else "注意力机制",
        paper=PaperMeta(abstract=abstract),
        terms=terms,
        created_at=NOW,
        updated_at=NOW,
    )


def asked(*questions: str) -> list[Turn]:
    return [
        Turn(chat_id=1, turn_id=str(i), role=role, text=text, created_at=NOW)
        for i, q in enumerate(questions)
        for role, text in (("user", q), ("assistant", "An answer."))
    ]


def test_longest_term_wins_and_latin_names_match_whole_words() -> None:
    found = [t.en for t, _, _ in find_terms("多头注意力和注意力有什么不同?", TERMS)]
    assert found == ["Multi-Head Attention", "attention"]
    assert find_terms("What format does it use?", TERMS) == []  # "RM" is not in "format"
    # A Chinese term shortened to its tail (the head noun comes last) still names it.
    ffn = Term(en="position-wise feed-forward network", zh="逐位置前馈网络")
    assert [t for t, _, _ in find_terms("前馈网络有几层?", [ffn])] == [ffn]
    assert find_terms("网络有几层?", [ffn]) == []  # too short a tail to tell
    assert [t.en for t, _, _ in find_terms("What do the RMs learn?", TERMS)] == ["reward model"]


def test_a_chinese_question_is_written_again_in_the_sources_language() -> None:
    plan = plan_queries("什么是多头注意力?", [], [source("en")])
    assert plan.queries[0] == "什么是多头注意力?"
    assert plan.queries[1] == "what is Multi-Head Attention ?"
    assert plan.terms == (Term(en="Multi-Head Attention", zh="多头注意力"),)
    assert not plan.needs_rewrite
    # Searched by meaning in the sources' language; the question as typed by its words only.
    assert plan.meaning_queries == ("what is Multi-Head Attention ?",)


def test_a_question_the_code_did_not_rewrite_is_searched_by_meaning_itself() -> None:
    plan = plan_queries("Why does training repeat outputs?", [], [source("en")])
    assert plan.queries == ("Why does training repeat outputs?",)
    assert plan.meaning_queries == plan.queries
    follow_up = plan_queries("那多头注意力呢?", asked("什么是 RLHF?"), [source("en")])
    assert len(follow_up.queries) > 1
    assert follow_up.meaning_queries == follow_up.queries[1:]  # with the conversation


def test_an_english_question_over_chinese_material_gets_the_chinese_terms() -> None:
    plan = plan_queries("How does RLHF use a reward model?", [], [source("zh")])
    assert "基于人类反馈的强化学习" in plan.queries[1]
    assert "奖励模型" in plan.queries[1]


def test_an_abbreviation_brings_its_long_form_in_the_same_language() -> None:
    plan = plan_queries("Why RLHF?", [], [source("en")])
    assert any("reinforcement learning from human feedback" in q for q in plan.queries)


def test_a_foreign_question_naming_no_term_needs_the_model() -> None:
    assert plan_queries("蛋白质是怎么折叠的?", [], [source("en")]).needs_rewrite
    # Words that only shape a question ("为什么") translate nothing of its content.
    assert plan_queries("为什么会折叠?", [], [source("en")]).needs_rewrite
    # Everyday words of such questions are translated too, after the sources' own terms.
    general = plan_queries("训练时为什么要用多头注意力?", [], [source("en")])
    assert "training 时 why 要用 Multi-Head Attention ?" in general.queries
    assert general.terms == (Term(en="Multi-Head Attention", zh="多头注意力"),)
    # An English word in it is already in the sources' language.
    assert not plan_queries("训练时为什么用 Adam?", [], [source("en")]).needs_rewrite
    # Same language as the sources: searched as asked.
    assert not plan_queries("Why does training repeat outputs?", [], [source("en")]).needs_rewrite


def test_follow_ups_bring_the_previous_question_along() -> None:
    assert refers_back("那它为什么会导致重复?")
    assert refers_back("And on English-to-French?")
    assert refers_back("为什么?")
    assert not refers_back("How many warmup steps were used in training?")
    assert not refers_back("多头注意力的每个头的维度是多少?")
    history = asked("什么是多头注意力?")
    plan = plan_queries("那它有几个头?", history, [source("en")])
    assert plan.followed == ("什么是多头注意力?",)
    # The conversation's text, translated: the previous question's term and this question.
    assert any("Multi-Head Attention" in q and "头" in q for q in plan.queries)
    # Its own words ("几个头") name no term: the context alone would find the previous answer
    # again, so the model rewrites it.
    assert plan.needs_rewrite
    named = plan_queries("那多头注意力呢?", asked("什么是 RLHF?"), [source("en")])
    assert not named.needs_rewrite
    # Same language, but "it" names none of the sources' terms: the model reads the conversation.
    assert plan_queries("And why is it used?", asked("What is RLHF?"), [source("en")]).needs_rewrite
    # A question that stands alone is searched alone.
    alone = plan_queries("What is a reward model?", history, [source("en")])
    assert alone.followed == ()


def test_a_chain_of_follow_ups_reaches_back_to_the_question_it_started_from() -> None:
    history = asked("What is RLHF?", "And why is it used?")
    plan = plan_queries("What about its cost?", history, [source("en")])
    assert plan.followed == ("What is RLHF?", "And why is it used?")


def hit(text: str) -> SearchHit:
    return SearchHit(
        rank=1,
        score=1.0,
        chunk_id="c",
        source_id="s",
        kind=SourceKind.PAPER,
        title="T",
        text=text,
        ordinal=0,
    )


def test_a_result_without_any_of_the_questions_words_is_weak() -> None:
    plan = plan_queries("什么是多头注意力?", [], [source("en")])
    assert not weak_result(plan, [hit("Multi-head attention runs h heads in parallel.")])
    assert weak_result(plan, [hit("We trained on eight GPUs.")])
    assert weak_result(plan, [])
    # Nothing to judge by (no term, no English word): the search is trusted.
    vague = plan_queries("这是什么意思?", [], [source("zh")])
    assert not weak_result(vague, [hit("任何内容")])
