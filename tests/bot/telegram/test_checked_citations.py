"""What a student sees in Telegram when the model cites well, not at all, wrongly, or invents a
figure: the real services (embedded Qdrant, test embedder) behind the real bot and a fake Bot
API, with the fake model in each of its modes. Every number shown must be a checked citation.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kernel.models import Chunk, PaperMeta, ParsedSource, SourceKind
from tests.fakes.bot_api import FakeBotApi
from tests.fakes.harness import polling, real_services, wait_text
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.tutor_model import MODES, TutorModel

STUDENT = 1001
PAPER = ParsedSource(
    kind=SourceKind.PAPER,
    fingerprint="sha256:sparse",
    paper=PaperMeta(title="Sparse Attention Notes", pages=3),
    chunks=(
        Chunk(
            ordinal=0,
            page=1,
            text="Sparse attention lets each token attend to a few others, "
            "which saves memory on long documents.",
        ),
        Chunk(ordinal=1, page=2, text="Byte pair encoding merges frequent character pairs."),
        Chunk(ordinal=2, page=3, text="Training took three days on eight GPUs."),
    ),
)


@pytest.mark.parametrize("mode", MODES)
async def test_the_answer_shows_only_checked_citations(tmp_path: Path, mode: str) -> None:
    api = FakeBotApi()
    with FakeOpenAI() as llm:
        llm.set_default(TutorModel(mode).for_body)
        svc = real_services(tmp_path, llm)
        try:
            svc.store.core.add_source(STUDENT, PAPER)
            async with polling(api, svc, tmp_path, allowed_users=frozenset({STUDENT})):
                api.queue(api.update("message", text="sparse attention 为什么省内存？"))
                reply = await wait_text(api, STUDENT, "来源")
        finally:
            await svc.aclose()
    body, sources = reply.plain.split("来源", 1)
    shown = set(re.findall(r"\[(\d+)\]", body))
    assert shown  # the answer cites, whatever the model did
    assert shown == set(re.findall(r"^\[(\d+)\] ", sources, re.MULTILINE))
    assert "Sparse attention lets each token attend" in sources  # the quoted passage
    assert "37.5" not in reply.plain
    if mode == "no_markers":
        assert "编号是根据资料内容自动补上的" in body
    if mode in ("least_related", "invents_numbers"):
        assert "已经改到支持它的资料上，或者删掉了" in body
    if mode == "cooperative":
        assert "注：" not in body
