"""/notes as the student sees it: read a note in full, star it, remove it, and the list drawn
again each time (fake Bot API, scripted notebook)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from kernel.models import Note
from tests.fakes.harness import running
from tests.fakes.services import FakeAnswerer, citation, services

CHAT = 1001
OTHER = 2002


def _note(n: int, answer: str = "回答" * 200, chat: int = CHAT, **kw: object) -> Note:
    return Note(
        chat_id=chat,
        note_id=f"note-{n}",
        question=f"问题 {n} <b>?",
        answer=answer,
        grounded=True,
        citations=(citation(),),
        created_at=datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=n),
        **kw,
    )


async def test_notes_are_listed_escaped_with_open_star_and_remove_buttons() -> None:
    answerer = FakeAnswerer(note_list=[_note(1), _note(2, starred=True), _note(3, chat=OTHER)])
    async with running(services(answerer=answerer)) as h:
        await h.send(h.api.update("message", text="/notes"))
        listing = h.api.bot_messages(CHAT)[-1]
    assert listing.plain.startswith("📝 你的笔记（共 2 条，⭐ 1 条）：")
    assert "问题 1 &lt;b&gt;?" in listing.text  # the student's text is escaped
    assert "2. ⭐ 问题 2 <b>?" in listing.plain
    assert "问题 3" not in listing.plain  # another chat's note
    assert "…" in listing.plain  # long answers are cut to an excerpt
    assert "📖 看全文 · ⭐ 加星（写报告时优先用）· 🗑 删除" in listing.plain
    assert [t for t, _ in listing.buttons] == [
        "📖 1",
        "☆ 加星 1",
        "🗑 1",
        "📖 2",
        "⭐ 取消 2",
        "🗑 2",
    ]


async def test_removing_a_note_draws_the_list_again() -> None:
    answerer = FakeAnswerer(note_list=[_note(1), _note(2), _note(3)])
    async with running(services(answerer=answerer)) as h:
        await h.send(h.api.update("message", text="/notes"))
        listing = h.api.bot_messages(CHAT)[-1]
        remove_2 = dict(listing.buttons)["🗑 2"]
        await h.send(h.api.callback_update(CHAT, listing.message_id, remove_2))
        after = h.api.bot_messages(CHAT)[-1]
        toast = h.api.of("answerCallbackQuery")[-1].params
    assert [n.note_id for n in answerer.note_list] == ["note-1", "note-3"]
    assert toast["text"] == "🗑 已删除这条笔记。"
    assert after.message_id == listing.message_id  # the same message, edited
    assert "问题 2" not in after.plain  # the removed note is gone from the text too
    assert "2. 问题 3 <b>?" in after.plain  # renumbered
    assert after.plain.startswith("📝 你的笔记（共 2 条，⭐ 0 条）：")
    assert [t for t, _ in after.buttons] == ["📖 1", "☆ 加星 1", "🗑 1", "📖 2", "☆ 加星 2", "🗑 2"]


async def test_a_note_opened_in_full_can_be_starred_and_the_list_follows() -> None:
    answerer = FakeAnswerer(note_list=[_note(1, "### 要点\n\n**缩放**：除以 $\\sqrt{d_k}$ [1]。")])
    async with running(services(answerer=answerer)) as h:
        await h.send(h.api.update("message", text="/lang en"))
        await h.send(h.api.update("message", text="/notes"))
        listing = h.api.bot_messages(CHAT)[-1]
        await h.send(h.api.callback_update(CHAT, listing.message_id, dict(listing.buttons)["📖 1"]))
        full = h.api.bot_messages(CHAT)[-1]
        assert full.plain.startswith("📝 问题 1 <b>?\n\n要点")
        assert "除以 √dₖ [1]" in full.plain
        assert "[1] BERT" in full.plain  # its sources, as under the answer
        assert [t for t, _ in full.buttons] == ["☆ Star", "🗑"]
        await h.send(h.api.callback_update(CHAT, full.message_id, full.buttons[0][1]))
        starred_full = h.api.bot_messages(CHAT)[-1]
        list_after = next(m for m in h.api.bot_messages(CHAT) if m.message_id == listing.message_id)
        toast = h.api.of("answerCallbackQuery")[-1].params
        assert [t for t, _ in starred_full.buttons] == ["⭐ Unstar", "🗑"]
        assert toast["text"] == "⭐ Starred: the report uses this note first."
        assert answerer.note_list[0].starred
        assert "1. ⭐ 问题 1" in list_after.plain
        await h.send(h.api.callback_update(CHAT, full.message_id, starred_full.buttons[1][1]))
        gone = h.api.bot_messages(CHAT)[-1]
        list_gone = next(m for m in h.api.bot_messages(CHAT) if m.message_id == listing.message_id)
    assert gone.plain == "🗑 Note removed."
    assert gone.buttons == []
    assert answerer.note_list == []
    assert list_gone.plain.startswith("No notes yet.")


async def test_a_long_notebook_pages_and_a_stale_button_is_told() -> None:
    answerer = FakeAnswerer(note_list=[_note(n, "短回答") for n in range(1, 24)])
    async with running(services(answerer=answerer)) as h:
        await h.send(h.api.update("message", text="/notes"))
        listing = h.api.bot_messages(CHAT)[-1]
        assert "第 1/3 页" in listing.plain
        assert "11. " not in listing.plain
        assert listing.buttons[-1][0] == "▶"
        await h.send(h.api.callback_update(CHAT, listing.message_id, listing.buttons[-1][1]))
        page2 = h.api.bot_messages(CHAT)[-1]
        assert "11. 问题 11" in page2.plain
        assert "第 2/3 页" in page2.plain
        assert [t for t, _ in page2.buttons][-2:] == ["◀", "▶"]
        answerer.note_list = answerer.note_list[1:]  # removed elsewhere (the CLI)
        await h.send(h.api.callback_update(CHAT, listing.message_id, "nb:o:note-1"))
        toast = h.api.of("answerCallbackQuery")[-1].params
    assert toast["text"] == "这条笔记已经不在了。"
