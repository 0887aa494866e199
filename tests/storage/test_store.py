"""KnowledgeStore on embedded Qdrant and the local test model: what a student's chat gets."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from kernel.errors import ConfigError, NotFoundError, ReplaceFailedError
from kernel.models import (
    Chunk,
    Note,
    PaperMeta,
    ParsedSource,
    SourceKind,
    SourceRecord,
    SourceStatus,
    Term,
    Turn,
)
from storage.embedding.sparse import sparse_document
from storage.qdrant.index import ChunkPoint, QdrantIndex
from storage.store import KnowledgeStore, chunk_id, source_id_for
from tests.fakes.embedding import test_embedder
from tests.storage.support import NEW_TEXTS, PAPER_TEXTS, open_store, paper, video


@pytest.fixture
def store(tmp_path: Path) -> Iterator[KnowledgeStore]:
    st = open_store(tmp_path / "qdrant")
    yield st
    st.close()


def test_answers_cite_the_page_the_passage_is_on(store: KnowledgeStore) -> None:
    progress: list[tuple[int, int]] = []
    record = store.add_source(
        7, paper(), progress=lambda done, total: progress.append((done, total))
    )

    assert record.status is SourceStatus.READY
    assert record.chunks == 5
    assert progress[-1] == (5, 5)
    hits = store.search(7, "How many GPUs were used for training?", k=3)
    assert hits[0].page == 3
    assert hits[0].text == PAPER_TEXTS[2]
    assert hits[0].title == "Attention Is All You Need"
    assert [h.rank for h in hits] == [1, 2, 3]


def test_hybrid_finds_exact_chinese_terms_through_the_lexical_leg(store: KnowledgeStore) -> None:
    texts = (
        "自注意力机制让每个位置都能看到序列中的所有其他位置。",
        "位置编码使用不同频率的正弦和余弦函数，为模型提供顺序信息。",
        "训练使用了八块GPU，基础模型训练了十万步。",
        "标签平滑会损害困惑度，但能提高准确率。",
    )
    store.add_source(7, paper("sha256:zh", texts))
    # The English test model cannot embed Chinese; only the bigram leg can find these.
    for query, page in (("位置编码", 2), ("标签平滑", 4), ("困惑度是什么", 4)):
        assert store.search(7, query, k=2)[0].page == page
        assert store.search(7, query, k=2, mode="sparse")[0].page == page


def test_several_query_texts_are_fused(store: KnowledgeStore) -> None:
    store.add_source(7, paper())
    hits = store.search(7, ["标签平滑有什么用", "label smoothing effect"], k=2)
    assert hits[0].page == 5


class _CountingEmbedder:
    """The test model, recording every query text it embeds."""

    def __init__(self) -> None:
        self.inner = test_embedder()
        self.model_name, self.dim = self.inner.model_name, self.inner.dim
        self.queries: list[str] = []

    def embed_passages(self, texts: Sequence[str]) -> list[list[float]]:
        return self.inner.embed_passages(texts)

    def embed_query(self, text: str) -> list[float]:
        self.queries.append(text)
        return self.inner.embed_query(text)

    def close(self) -> None:
        pass


def test_only_the_texts_chosen_for_meaning_are_embedded_the_rest_by_their_words(
    tmp_path: Path,
) -> None:
    counting = _CountingEmbedder()
    store = KnowledgeStore(QdrantIndex(path=tmp_path / "q"), counting)
    try:
        store.add_source(7, paper())
        counting.queries.clear()
        texts = ["标签平滑有什么用", "label smoothing effect"]
        hits = store.search(7, texts, k=2, dense=["label smoothing effect"])
        assert counting.queries == ["label smoothing effect"]  # one embedding, not two
        assert hits[0].page == 5
        # The text without a dense leg still finds by its words: a Chinese passage the English
        # test model cannot embed.
        store.add_source(7, paper("sha256:zh", ("标签平滑会损害困惑度，但能提高准确率。",)))
        counting.queries.clear()
        found = store.search(7, texts, k=3, dense=["label smoothing effect"])
        assert "标签平滑会损害困惑度，但能提高准确率。" in [h.text for h in found]
        assert counting.queries == ["label smoothing effect"]
        # None = every text; a choice naming none of the texts falls back to every text.
        for dense in (None, ["not one of the texts"]):
            counting.queries.clear()
            store.search(7, texts, k=2, dense=dense)
            assert sorted(counting.queries) == sorted(texts)
        # Sparse mode embeds nothing.
        counting.queries.clear()
        store.search(7, texts, k=2, mode="sparse", dense=texts)
        assert counting.queries == []
    finally:
        store.close()


def test_a_chat_never_sees_another_chats_material(store: KnowledgeStore) -> None:
    store.add_source(1, paper())
    now = datetime.now(UTC)
    store.put_note(
        Note(chat_id=1, note_id="n", question="q", answer="a", grounded=True, created_at=now)
    )
    store.add_turn(Turn(chat_id=1, turn_id="t", role="user", text="hi", created_at=now))

    assert store.search(2, "Transformer self-attention") == []
    assert store.sources(2) == []
    assert store.notes(2) == []
    assert store.turns(2) == []
    assert store.chunks(2, source_id_for(1, "sha256:paper")) == []
    assert store.source(2, source_id_for(1, "sha256:paper")) is None
    with pytest.raises(NotFoundError):
        store.forget(2, source_id_for(1, "sha256:paper"))
    assert store.delete_note(2, "n") is False
    assert len(store.notes(1)) == 1


def test_everything_survives_closing_and_reopening(tmp_path: Path) -> None:
    first = open_store(tmp_path / "q")
    first.add_source(1, paper())
    first.put_note(
        Note(
            chat_id=1,
            note_id="n1",
            question="什么是注意力?",
            answer="...",
            grounded=True,
            created_at=datetime.now(UTC),
        )
    )
    first.close()

    again = open_store(tmp_path / "q")
    assert [s.title for s in again.sources(1)] == ["Attention Is All You Need"]
    assert [n.question for n in again.notes(1)] == ["什么是注意力?"]
    assert again.search(1, "positional encoding sine cosine")[0].page == 4
    again.close()


def test_ingesting_the_same_source_again_replaces_it(store: KnowledgeStore) -> None:
    first = store.add_source(1, paper())
    second = store.add_source(1, paper())
    assert first.source_id == second.source_id
    assert second.created_at == first.created_at
    assert store.index.count_chunks(1) == 5
    assert len(store.sources(1)) == 1

    shorter = store.add_source(1, paper(texts=PAPER_TEXTS[:2]))  # same file id, fewer chunks
    assert shorter.chunks == 2
    assert store.index.count_chunks(1) == 2
    assert [h.ordinal for h in store.chunks(1, first.source_id)] == [0, 1]


def test_forget_removes_the_source_and_its_chunks(store: KnowledgeStore) -> None:
    kept = store.add_source(1, video())
    gone = store.add_source(1, paper())
    store.forget(1, gone.source_id)
    assert [s.source_id for s in store.sources(1)] == [kept.source_id]
    assert store.index.count_chunks(1, gone.source_id) == 0
    assert all(h.kind is SourceKind.VIDEO for h in store.search(1, "Transformer attention", k=5))
    with pytest.raises(NotFoundError):
        store.forget(1, gone.source_id)


def test_chunks_come_back_in_reading_order_with_ids(store: KnowledgeStore) -> None:
    record = store.add_source(1, paper(), progress=None)
    chunks = store.chunks(1, record.source_id)
    assert [c.ordinal for c in chunks] == [0, 1, 2, 3, 4]
    assert [c.page for c in chunks] == [1, 2, 3, 4, 5]
    assert chunks[0].chunk_id == chunk_id(record.source_id, 0, record.generation)


def test_video_hits_link_to_the_second_they_quote(store: KnowledgeStore) -> None:
    store.add_source(1, video())
    store.add_source(1, paper())
    hits = store.search(1, "attention heads tokens", k=3, kinds={SourceKind.VIDEO})
    assert {h.kind for h in hits} == {SourceKind.VIDEO}
    assert hits[0].start_s == pytest.approx(754.6)
    assert hits[0].url == "https://www.youtube.com/watch?v=dQw4w9WgXcQ&t=754s"
    paper_hits = store.search(1, "attention", kinds={SourceKind.PAPER})
    assert paper_hits
    assert all(h.url is None and h.page for h in paper_hits)


class _FailingEmbedder:
    """The test model, but the Nth passage batch fails (a crash in the middle of indexing)."""

    def __init__(self, fail_on_batch: int) -> None:
        self.inner = test_embedder()
        self.model_name, self.dim = self.inner.model_name, self.inner.dim
        self.batches = 0
        self.fail_on_batch = fail_on_batch

    def embed_passages(self, texts: Sequence[str]) -> list[list[float]]:
        self.batches += 1
        if self.batches == self.fail_on_batch:
            raise OSError("disk full")
        return self.inner.embed_passages(texts)

    def embed_query(self, text: str) -> list[float]:
        return self.inner.embed_query(text)

    def close(self) -> None:
        pass


def test_a_source_is_invisible_until_fully_indexed(tmp_path: Path) -> None:
    store = open_store(tmp_path / "q", batch_size=2)
    seen: list[int] = []
    sid = source_id_for(1, "sha256:paper")

    def peek(done: int, total: int) -> None:  # runs between batches, chunks partly stored
        seen.append(len(store.search(1, "Transformer attention GPUs", k=5)))
        record = store.source(1, sid)
        assert record is not None
        assert record.status is SourceStatus.INDEXING

    store.add_source(1, paper(), progress=peek)
    assert seen == [0, 0, 0]
    assert len(store.search(1, "Transformer attention GPUs", k=5)) == 5
    store.close()


def test_a_failure_while_indexing_leaves_no_chunks_and_a_failed_record(tmp_path: Path) -> None:
    store = open_store(tmp_path / "q", embedder=_FailingEmbedder(fail_on_batch=2), batch_size=2)
    with pytest.raises(OSError, match="disk full"):
        store.add_source(1, paper())
    (record,) = store.sources(1)
    assert record.status is SourceStatus.FAILED
    assert store.index.count_chunks(1) == 0
    assert store.search(1, "Transformer") == []
    store.close()


def test_recover_cleans_up_a_source_a_crash_left_indexing(tmp_path: Path) -> None:
    index = QdrantIndex(path=tmp_path / "q")
    embedder = test_embedder()
    index.open(embedder.model_name, embedder.dim)
    sid = source_id_for(5, "sha256:crash")
    now = datetime.now(UTC) - timedelta(minutes=1)
    record = SourceRecord(
        chat_id=5,
        source_id=sid,
        kind=SourceKind.PAPER,
        title="Crashed",
        status=SourceStatus.INDEXING,
        created_at=now,
        updated_at=now,
    )
    index.put_record("sources", 5, sid, record.model_dump(mode="json"))
    index.upsert_chunks(
        5,
        [
            ChunkPoint(
                chunk_id(sid, i),
                embedder.embed_passages([t])[0],
                sparse_document(t),
                {"source_id": sid, "kind": "paper", "ordinal": i, "text": t, "title": "Crashed"},
            )
            for i, t in enumerate(PAPER_TEXTS[:3])
        ],
    )
    index.close()  # the process "crashes" here: no READY, chunks left behind

    store = open_store(tmp_path / "q")
    recovery = store.recover()
    assert [(i.source_id, i.kept_previous) for i in recovery.interrupted] == [(sid, False)]
    assert recovery.orphans == 0  # the record's chunks went with it
    assert store.source(5, sid).status is SourceStatus.FAILED  # type: ignore[union-attr]
    assert store.index.count_chunks(5) == 0
    assert store.search(5, "Transformer") == []
    assert not store.recover()
    store.close()


def test_a_replacement_is_invisible_until_it_is_complete(tmp_path: Path) -> None:
    store = open_store(tmp_path / "q", batch_size=2)
    old = store.add_source(1, paper())
    seen: list[set[str]] = []

    def peek(done: int, total: int) -> None:  # the new version is partly stored
        hits = store.search(1, "Transformer attention experts route tokens", k=10)
        seen.append({h.text for h in hits})
        record = store.source(1, old.source_id)
        assert record is not None
        assert record.status is SourceStatus.READY
        assert record.pending == old.generation + 1
        assert record.chunks == 5  # still the live version's

    new = store.add_source(1, paper(texts=NEW_TEXTS), progress=peek)
    assert seen == [set(PAPER_TEXTS)] * 3  # only the old version, whole, during indexing
    assert new.generation == old.generation + 1
    assert new.pending is None
    assert new.created_at == old.created_at
    assert {h.text for h in store.search(1, "experts route tokens", k=10)} == set(NEW_TEXTS)
    assert store.index.count_chunks(1) == 6  # the old generation is gone
    assert [c.text for c in store.chunks(1, new.source_id)] == list(NEW_TEXTS)
    store.close()


def test_a_failed_replacement_keeps_the_previous_version(tmp_path: Path) -> None:
    first = open_store(tmp_path / "q")
    old = first.add_source(1, paper())
    first.close()
    store = open_store(tmp_path / "q", embedder=_FailingEmbedder(fail_on_batch=2), batch_size=2)
    with pytest.raises(ReplaceFailedError) as caught:
        store.add_source(1, paper(texts=NEW_TEXTS))
    assert isinstance(caught.value.__cause__, OSError)
    assert "Attention Is All You Need" in caught.value.message("zh")
    assert "之前的版本" in caught.value.message("zh")
    (record,) = store.sources(1)
    assert record.status is SourceStatus.READY
    assert record.pending is None
    assert record.generation == old.generation
    assert store.index.count_chunks(1) == 5
    assert store.search(1, "How many GPUs were used for training?", k=1)[0].page == 3
    assert not store.recover()  # nothing left to clean up
    store.close()


def test_a_store_built_with_another_model_refuses_to_open(tmp_path: Path) -> None:
    open_store(tmp_path / "q").close()

    class OtherModel(_FailingEmbedder):
        model_name = "BAAI/bge-small-zh-v1.5"

    other = OtherModel(fail_on_batch=0)
    other.model_name = "BAAI/bge-small-zh-v1.5"
    with pytest.raises(ConfigError) as err:
        open_store(tmp_path / "q", embedder=other)
    assert "sentence-transformers/all-MiniLM-L6-v2" in err.value.message("en")


def test_notes_and_history_keep_their_order(store: KnowledgeStore) -> None:
    start = datetime(2026, 3, 1, tzinfo=UTC)
    for i in (2, 0, 1):
        store.put_note(
            Note(
                chat_id=1,
                note_id=f"n{i}",
                question=f"q{i}",
                answer="a",
                grounded=True,
                created_at=start + timedelta(minutes=i),
            )
        )
    for i in range(30):
        store.add_turn(
            Turn(
                chat_id=1,
                turn_id=f"t{i}",
                role="user" if i % 2 else "assistant",
                text=f"m{i}",
                created_at=start + timedelta(seconds=i),
            )
        )

    assert [n.note_id for n in store.notes(1)] == ["n0", "n1", "n2"]
    assert store.delete_note(1, "n1") is True
    assert store.delete_note(1, "n1") is False
    assert [n.note_id for n in store.notes(1)] == ["n0", "n2"]
    assert [t.text for t in store.turns(1)] == [f"m{i}" for i in range(10, 30)]
    assert [t.text for t in store.turns(1, limit=3)] == ["m27", "m28", "m29"]


def test_turns_written_together_land_in_their_own_chats_in_order(
    store: KnowledgeStore,
) -> None:
    start = datetime(2026, 3, 1, tzinfo=UTC)
    store.add_turn(Turn(chat_id=1, turn_id="old", role="user", text="m0", created_at=start))
    turns = [
        Turn(
            chat_id=chat,
            turn_id=f"{chat}-{i}",
            role="user" if i % 2 else "assistant",
            text=f"c{chat}m{i}",
            created_at=start + timedelta(seconds=i),
        )
        for chat in (1, 2)
        for i in (2, 1)
    ]
    store.add_turns(turns)
    store.add_turns([])

    assert [t.text for t in store.turns(1)] == ["m0", "c1m1", "c1m2"]
    assert [t.text for t in store.turns(2)] == ["c2m1", "c2m2"]
    assert [t.role for t in store.turns(2)] == ["user", "assistant"]


def test_reset_chat_forgets_only_that_chat(store: KnowledgeStore) -> None:
    now = datetime.now(UTC)
    for chat in (1, 2):
        store.add_source(chat, paper())
        store.add_turn(Turn(chat_id=chat, turn_id="t", role="user", text="hi", created_at=now))
    store.reset_chat(1)
    assert store.sources(1) == []
    assert store.turns(1) == []
    assert store.search(1, "Transformer") == []
    assert len(store.sources(2)) == 1
    assert len(store.turns(2)) == 1
    assert store.search(2, "Transformer")
    store.add_source(1, paper())  # the chat can start over
    assert store.search(1, "Transformer")


def test_worker_threads_can_share_the_store(store: KnowledgeStore) -> None:
    errors: list[BaseException] = []

    def work(chat: int) -> None:
        try:
            store.add_source(chat, paper())
            for _ in range(3):
                assert store.search(chat, "positional encoding")[0].page == 4
        except BaseException as exc:  # collected: a thread's failure must fail the test
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(chat,)) for chat in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert all(len(store.sources(chat)) == 1 for chat in range(4))


def test_unknown_search_mode_is_a_programming_error(store: KnowledgeStore) -> None:
    with pytest.raises(ValueError, match="mode"):
        store.search(1, "x", mode="fuzzy")


def test_the_bibliography_is_searched_only_when_asked_for(store: KnowledgeStore) -> None:
    from kernel.models import ChunkRole

    refs = Chunk(
        ordinal=5,
        text="[1] Jimmy Lei Ba, Jamie Ryan Kiros, and Geoffrey E Hinton. Layer normalization.",
        page=6,
        page_end=6,
        section="References",
        role=ChunkRole.REFERENCES,
        boxes=((6, 72.0, 80.0, 500.0, 92.0),),
    )
    base = paper()
    store.add_source(7, base.model_copy(update={"chunks": (*base.chunks, refs)}))
    query = "Jimmy Lei Ba layer normalization"
    assert all(h.role is None for h in store.search(7, query, k=6))  # prose only
    found = store.search(7, query, k=6, references=True)
    assert found[0].role is ChunkRole.REFERENCES
    assert found[0].boxes == ((6, 72.0, 80.0, 500.0, 92.0),)  # where it is printed


def test_a_page_of_an_arxiv_paper_links_to_that_page(store: KnowledgeStore) -> None:
    base = paper()
    meta = PaperMeta(title="Attention Is All You Need", link="https://arxiv.org/abs/1706.03762")
    store.add_source(7, base.model_copy(update={"paper": meta}))
    hit = store.search(7, "How many GPUs were used for training?", k=1)[0]
    assert hit.url == "https://arxiv.org/pdf/1706.03762#page=3"


def test_a_source_keeps_its_term_list_and_older_records_load_without_one(
    store: KnowledgeStore,
) -> None:
    terms = (Term(en="Direct Preference Optimization", zh="直接偏好优化", aliases=("DPO",)),)
    record = store.add_source(1, paper().model_copy(update={"terms": terms}))
    assert store.source(1, record.source_id) == record
    assert record.terms == terms
    longer = (*terms, Term(en="reward model", zh="奖励模型"))
    assert store.set_terms(1, record.source_id, longer) == record.model_copy(
        update={"terms": longer}
    )
    # A record written before term lists existed (no "terms" field) still loads.
    payload = record.model_dump(mode="json")
    del payload["terms"]
    store.index.put_record("sources", 1, record.source_id, payload)
    (old,) = store.sources(1)
    assert old.terms == ()
    assert old.title == record.title


def test_a_passage_is_found_by_its_section_heading(store: KnowledgeStore) -> None:
    parsed = ParsedSource(
        kind=SourceKind.PAPER,
        fingerprint="sha256:sections",
        paper=PaperMeta(title="Notes", pages=2),
        chunks=(
            Chunk(
                ordinal=0,
                text="We project the queries h times in parallel.",
                page=1,
                section="3.2.2 Multi-Head Attention",
            ),
            Chunk(
                ordinal=1,
                text="We train on eight GPUs for twelve hours.",
                page=2,
                section="5.2 Hardware and Schedule",
            ),
        ),
    )
    store.add_source(1, parsed)
    (best,) = store.search(1, "multi-head", k=1, mode="sparse")
    assert best.page == 1
    assert best.text == "We project the queries h times in parallel."  # shown without it
    (best,) = store.search(1, "schedule", k=1, mode="sparse")
    assert best.page == 2
