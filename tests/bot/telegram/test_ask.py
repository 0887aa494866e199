"""Questions: typing, a streamed draft, the final HTML answer with sources and buttons."""

from __future__ import annotations

import io

from PIL import Image

from kernel.errors import LLMError
from tests.fakes.bot_api import BOT_ID, BOT_USERNAME
from tests.fakes.harness import running
from tests.fakes.services import (
    FakeAnswerer,
    FakeLibrary,
    FakeNextSteps,
    answer,
    paper_record,
    services,
)

CHAT = 1001
GROUP = -100300


async def test_private_question_streams_a_draft_then_sends_html_with_sources_and_buttons() -> None:
    answerer = FakeAnswerer(answers=[answer()])
    async with running(services(answerer=answerer)) as h:
        await h.send(h.api.update("message", text="什么是 Transformer？"))
        [reply] = h.api.bot_messages(CHAT)
        assert h.api.of("sendChatAction")[0].params["action"] == "typing"
        drafts = h.api.of("sendMessageDraft")
    assert answerer.asked == [
        {"chat_id": CHAT, "question": "什么是 Transformer？", "lang": None, "mode": None}
    ]
    assert drafts, "the answer is previewed as a message draft in a private chat"
    assert drafts[0].params["text"] == "Transformer 是"  # plain text, no half-written HTML
    assert int(drafts[0].params["draft_id"]) != 0
    assert all(d.params.get("parse_mode") is None for d in drafts)
    assert len(reply.history) == 1  # the final answer is one new message, not edits
    assert reply.parse_mode == "HTML"
    assert "Transformer 是一种模型 [1]。" in reply.plain


async def test_answer_streams_by_edits_where_drafts_are_refused() -> None:
    answerer = FakeAnswerer(answers=[answer(), answer()])
    async with running(services(answerer=answerer)) as h:
        h.api.fail_methods["sendMessageDraft"] = "Bad Request: method is not available"
        await h.send(h.api.update("message", text="什么是 Transformer？"))
        [reply] = h.api.bot_messages(CHAT)
        await h.send(h.api.update("message", text="再问一次"))
        second = h.api.bot_messages(CHAT)[-1]
        draft_calls = len(h.api.of("sendMessageDraft"))
    assert draft_calls == 1  # refused once: not tried again for every answer
    assert second.history[0] == "Transformer 是"  # streamed by editing, plain text first
    assert second.parse_mode == "HTML"
    assert "Transformer 是一种模型 [1]。" in second.plain
    assert reply.parse_mode == "HTML"
    assert "Transformer 是一种模型 [1]。" in reply.plain
    assert "来源" in reply.plain
    assert "[1] BERT · 第 3 页" in reply.plain
    assert "<blockquote expandable>We introduce BERT &lt;Bidirectional&gt;" in reply.text
    assert [text for text, _ in reply.buttons] == ["🙂 讲得更简单", "📝 举个例子", "📚 查看来源"]


async def test_buttons_ask_again_simpler_and_show_the_sources() -> None:
    answerer = FakeAnswerer(answers=[answer(), answer("更简单的说法 [1]")])
    async with running(services(answerer=answerer)) as h:
        await h.send(h.api.update("message", text="什么是 Transformer？"))
        [reply] = h.api.bot_messages(CHAT)
        simpler, _, show = (data for _, data in reply.buttons)
        await h.send(h.api.callback_update(CHAT, reply.message_id, simpler))
        assert "更简单的说法" in h.api.bot_messages(CHAT)[-1].plain
        await h.send(h.api.callback_update(CHAT, reply.message_id, show))
        sources = h.api.bot_messages(CHAT)[-1]
    assert answerer.asked[1]["mode"] == "simpler"
    assert sources.text.startswith("<b>来源</b>")
    assert "<blockquote>We introduce BERT" in sources.text


async def test_suggested_question_button_asks_it() -> None:
    library = FakeLibrary(results={"add_pdf": [paper_record()]})
    answerer = FakeAnswerer(answers=[answer()])
    async with running(services(library, answerer)) as h:
        await h.send(h.api.document_update(b"%PDF", "bert.pdf"))
        card = h.api.bot_messages(CHAT)[-1]
        text, data = card.buttons[0]
        await h.send(h.api.callback_update(CHAT, card.message_id, data))
        echoed, reply = h.api.bot_messages(CHAT)[-2:]
    assert echoed.plain == f"❓ {text}"
    assert answerer.asked[0]["question"] == text
    assert "Transformer 是一种模型" in reply.plain


async def test_long_answer_is_split_and_buttons_go_last() -> None:
    long = ("注意力机制让模型关注重要的词。" * 400) + "[1]"
    answerer = FakeAnswerer(answers=[answer(long)], deltas=[])
    async with running(services(answerer=answerer)) as h:
        await h.send(h.api.update("message", text="讲讲注意力"))
        parts = h.api.bot_messages(CHAT)
    assert len(parts) >= 2
    assert all(len(p.text) <= 4096 for p in parts)
    assert parts[0].buttons == []
    assert len(parts[-1].buttons) == 3
    assert "".join(p.plain for p in parts).count("注意力机制让模型关注重要的词。") == 400


async def test_a_broken_answer_is_replaced_by_one_clean_message_with_a_retry_button() -> None:
    answerer = FakeAnswerer(
        answers=[LLMError("语言模型暂时不可用。", "The model is down.", retryable=True), answer()]
    )
    async with running(services(answerer=answerer), use_drafts=False) as h:
        await h.send(h.api.update("message", text="什么是注意力？"))
        [failed] = h.api.bot_messages(CHAT)  # the streamed message, edited: no second message
        assert failed.history[0] == "Transformer 是"  # what was streamed first
        # The half answer is gone: what is left says what happened, once, and offers a retry.
        assert failed.plain == "❌ 这次没能回答完：语言模型暂时不可用。"
        [(label, data)] = failed.buttons
        assert label == "🔄 再试一次"
        await h.send(h.api.callback_update(CHAT, failed.message_id, data))
        retried = h.api.bot_messages(CHAT)[-1]
    assert answerer.asked[1]["question"] == "什么是注意力？"
    assert "Transformer 是一种模型 [1]。" in retried.plain
    assert "来源" in retried.plain


async def test_a_failure_that_retrying_cannot_fix_has_no_retry_button() -> None:
    too_long = LLMError("语言模型拒绝了这次请求。", "Refused.", retryable=False)
    answerer = FakeAnswerer(answers=[too_long], deltas=[])
    async with running(services(answerer=answerer)) as h:
        await h.send(h.api.update("message", text="什么是注意力？"))
        [failed] = h.api.bot_messages(CHAT)
    assert failed.plain == "❌ 这次没能回答完：语言模型拒绝了这次请求。"
    assert failed.buttons == []


async def test_a_bug_gets_a_short_apology() -> None:
    answerer = FakeAnswerer(answers=[RuntimeError("boom")], deltas=[])
    async with running(services(answerer=answerer)) as h:
        await h.send(h.api.update("message", text="什么是注意力？"))
        [error] = h.api.bot_messages(CHAT)
    assert error.plain == "❌ 这次没能回答完：我这边出了点问题。"
    assert "boom" not in error.plain
    assert [label for label, _ in error.buttons] == ["🔄 再试一次"]


async def test_english_student_gets_english() -> None:
    answerer = FakeAnswerer(answers=[answer("A Transformer is a model [1].", lang="en")])
    async with running(services(answerer=answerer)) as h:
        await h.send(h.api.update("message_en", text="What is a Transformer?"))
        [reply] = h.api.bot_messages(2002)
    assert "Sources" in reply.plain
    assert "p. 3" in reply.plain
    assert ("🙂 Explain more simply", reply.buttons[0][1]) == reply.buttons[0]


async def test_group_answers_only_when_addressed() -> None:
    answerer = FakeAnswerer(answers=[answer(), answer()])
    async with running(services(answerer=answerer)) as h:
        await h.send(h.api.update("group_message", text="今天吃什么？"))
        assert h.api.bot_messages(GROUP) == []
        assert h.api.calls == [c for c in h.api.calls if c.method in ("getMe", "setMyCommands")]
        mention = f"@{BOT_USERNAME} 什么是注意力？"
        entities = [{"type": "mention", "offset": 0, "length": len(BOT_USERNAME) + 1}]
        await h.send(h.api.update("group_message", text=mention, entities=entities))
        first = h.api.bot_messages(GROUP)[-1]
        reply_to = {
            "message_id": first.message_id,
            "date": 0,
            "chat": {"id": GROUP, "type": "supergroup", "title": "论文读书会"},
            "from": {"id": BOT_ID, "is_bot": True, "first_name": "Paper Tutor"},
            "text": "x",
        }
        await h.send(h.api.update("group_message", text="那它呢？", reply_to_message=reply_to))
    assert [a["question"] for a in answerer.asked] == ["什么是注意力？", "那它呢？"]
    assert all(a["chat_id"] == GROUP for a in answerer.asked)
    replies = h.api.of("sendMessage")
    assert all("reply_parameters" in c.params for c in replies)


async def test_a_dropped_citation_is_pointed_out() -> None:
    answerer = FakeAnswerer(answers=[answer(flagged=True)], deltas=[])
    async with running(services(answerer=answerer)) as h:
        await h.send(h.api.update("message", text="什么是 Transformer？"))
        [reply] = h.api.bot_messages(CHAT)
    assert "引用和所引的资料对不上，已经改到支持它的资料上，或者删掉了" in reply.plain
    assert reply.plain.index("或者删掉了") < reply.plain.index("来源")


async def test_an_answer_without_dropped_citations_has_no_such_note() -> None:
    answerer = FakeAnswerer(answers=[answer()], deltas=[])
    async with running(services(answerer=answerer)) as h:
        await h.send(h.api.update("message", text="什么是 Transformer？"))
        [reply] = h.api.bot_messages(CHAT)
    assert "删掉" not in reply.plain
    assert "自动补上" not in reply.plain


async def test_an_answer_the_code_cited_says_so() -> None:
    answerer = FakeAnswerer(answers=[answer(attributed=True)], deltas=[])
    async with running(services(answerer=answerer)) as h:
        await h.send(h.api.update("message", text="什么是 Transformer？"))
        [reply] = h.api.bot_messages(CHAT)
    assert "编号是根据资料内容自动补上的" in reply.plain
    assert reply.plain.index("自动补上") < reply.plain.index("来源")


async def test_an_uncited_answer_says_so_and_lists_passages_to_check() -> None:
    answerer = FakeAnswerer(answers=[answer("Transformer 是一种模型。", uncited=True)], deltas=[])
    async with running(services(answerer=answerer)) as h:
        await h.send(h.api.update("message", text="什么是 Transformer？"))
        [reply] = h.api.bot_messages(CHAT)
    assert "这个回答没有标出处" in reply.plain
    assert "[1] BERT · 第 3 页" in reply.plain  # the passage to check it against


ATTENTION = r"\mathrm{softmax}\left(\frac{QK^T}{\sqrt{d_k}}\right)V"


async def test_math_reads_as_unicode_and_a_display_formula_follows_as_a_picture() -> None:
    body = f"用 $\\sqrt{{d_k}}$ 缩放 [1]：\n\n$${ATTENTION}$$\n\n其中 $$x^2$$ 不需要图。"
    deltas = ["### 缩放\n\n**用** $\\sqrt{d_k}$", " 缩放 [1]"]
    answerer = FakeAnswerer(answers=[answer(body)], deltas=deltas)
    async with running(services(answerer=answerer)) as h:
        await h.send(h.api.update("message", text="为什么要除以根号 d_k？"))
        reply, picture = h.api.bot_messages(CHAT)
        drafts = [c.params["text"] for c in h.api.of("sendMessageDraft")]
    assert h.api.rejected == []  # every text was valid for Telegram
    assert "用 √dₖ 缩放 [1]：\n\nsoftmax(QKᵀ/√dₖ)V\n\n其中 x² 不需要图。" in reply.plain
    assert drafts[-1] == "缩放\n\n用 √dₖ 缩放 [1]"  # the draft reads well too
    assert picture.photo is not None  # one picture: x² reads fine as text
    image = Image.open(io.BytesIO(picture.photo))
    assert image.format == "PNG"
    assert image.size[0] > 200


async def test_several_display_formulas_arrive_as_one_album() -> None:
    body = f"$${ATTENTION}$$\n\n\\[\n\\sum_{{i=1}}^n x_i\n\\]\n\n$$\\frac{{a}}{{b"
    answerer = FakeAnswerer(answers=[answer(body)], deltas=[])
    async with running(services(answerer=answerer)) as h:
        await h.send(h.api.update("message", text="公式？"))
        messages = h.api.bot_messages(CHAT)
        albums = h.api.of("sendMediaGroup")
    assert len(albums) == 1
    assert [m.photo is not None for m in messages] == [False, True, True]
    assert r"\frac{a}{b" in messages[0].plain  # unreadable math stays as its source


async def test_next_step_questions_go_under_the_answer_and_never_break_it() -> None:
    steps = FakeNextSteps(steps=["论文接下来的“Method”部分讲了什么？", "BLEU 是什么意思？"])
    answerer = FakeAnswerer(answers=[answer(), answer()])
    async with running(services(answerer=answerer, next_steps=steps)) as h:
        await h.send(h.api.update("message", text="什么是 Transformer？"))
        [reply] = h.api.bot_messages(CHAT)
        labels = [text for text, _ in reply.buttons]
        assert labels == ["🙂 讲得更简单", "📝 举个例子", "📚 查看来源", *steps.steps]
        assert steps.asked == answerer.saved  # made from the final, checked answer

        async def broken(chat_id: int, final: object) -> list[str]:
            raise RuntimeError("the store hiccupped")

        steps.suggest = broken  # type: ignore[method-assign]
        await h.send(h.api.update("message", text="再问一次"))
        second = h.api.bot_messages(CHAT)[-1]
    assert "Transformer 是一种模型 [1]。" in second.plain
    assert [text for text, _ in second.buttons] == ["🙂 讲得更简单", "📝 举个例子", "📚 查看来源"]
