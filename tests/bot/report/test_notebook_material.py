"""What the report takes from the notebook: starred notes first, the glossary's term style."""

from __future__ import annotations

from pathlib import Path

from bot.report.material import MAX_SEARCH_NOTES, gather_material, notes_block
from storage.async_store import AsyncKnowledgeStore
from tests.bot.report.support import CHAT, note, open_store, paper_source


async def test_starred_notes_come_first_and_all_notes_are_used(tmp_path: Path) -> None:
    store = open_store(tmp_path / "qdrant")
    store.add_source(CHAT, paper_source())
    made = [note(store, f"Question {n}?", [("Attention", "注意力")]) for n in range(1, 16)]
    assert len(made) > MAX_SEARCH_NOTES
    for late in (made[13], made[14]):
        assert store.star_note(CHAT, late.note_id, True) is not None
    served = AsyncKnowledgeStore(store)
    material = await gather_material(served, CHAT)
    served.close()
    store.close()
    order = [n.note_id for n in material.notes]
    assert order[:2] == [made[13].note_id, made[14].note_id]  # beyond the searched 12 otherwise
    assert order[2:] == [n.note_id for n in made[:13]]  # then the others, oldest first
    text, _ = notes_block(material)
    assert text.startswith("问1：Question 14?\n答：")


async def test_the_reports_terms_are_the_glossarys(tmp_path: Path) -> None:
    store = open_store(tmp_path / "qdrant")
    store.add_source(CHAT, paper_source())
    note(store, "What is attention?", [("Attention", "")])
    note(store, "注意力机制是什么？", [("attention", "注意力机制"), ("", "编码器")])
    served = AsyncKnowledgeStore(store)
    material = await gather_material(served, CHAT)
    served.close()
    store.close()
    # One term once, with the name a later note gave it: as /terms lists it.
    assert notes_block(material)[1] == "注意力机制（Attention）、编码器"
