"""/figures, "给我看 Figure 1", and the printed passage and figures under an answer."""

from __future__ import annotations

import uuid
from pathlib import Path

import pymupdf
import pytest

from bot.pages import PageViewer
from ingest.paper.pdf import parse_pdf
from kernel.models import Chunk, ParsedSource, SourceRecord
from storage.paper_files import PaperFiles
from tests.fakes.harness import running
from tests.fakes.pdfs import make_figures_pdf
from tests.fakes.services import FakeAnswerer, FakeLibrary, answer, citation, paper_record, services

CHAT = 1001
SOURCE = str(uuid.uuid5(uuid.NAMESPACE_URL, "figures-paper"))


class _Store:
    """The one store call ``PageViewer`` makes: the chat's sources."""

    def __init__(self, records: list[SourceRecord]) -> None:
        self.records = records

    async def sources(self, chat_id: int) -> list[SourceRecord]:
        return [r for r in self.records if r.chat_id == chat_id]


@pytest.fixture(scope="module")
def parsed() -> ParsedSource:
    return parse_pdf(make_figures_pdf(), ocr=False)


@pytest.fixture
def pages(tmp_path: Path, parsed: ParsedSource) -> PageViewer:
    record = paper_record().model_copy(update={"source_id": SOURCE, "title": "Figures paper"})
    files = PaperFiles(tmp_path / "papers")
    files.save(CHAT, SOURCE, make_figures_pdf(), parsed.figures)
    return PageViewer(_Store([record]), files)  # type: ignore[arg-type]


def _library() -> FakeLibrary:
    record = paper_record().model_copy(update={"source_id": SOURCE, "title": "Figures paper"})
    return FakeLibrary(source_list=[record])


def _png(data: bytes) -> pymupdf.Pixmap:
    assert data.startswith(b"\x89PNG")
    return pymupdf.Pixmap(data)


async def test_figures_lists_the_gallery_and_a_button_sends_the_picture(pages: PageViewer) -> None:
    async with running(services(library=_library(), pages=pages)) as h:
        await h.send(h.api.update("message", text="/figures"))
        [listing] = h.api.bot_messages(CHAT)
        labels = [text for text, _ in listing.buttons]
        figure1 = next(data for text, data in listing.buttons if text.startswith("Figure 1"))
        await h.send(h.api.callback_update(CHAT, listing.message_id, figure1))
        [photo] = h.api.of("sendPhoto")
    assert "共 4 个" in listing.plain
    assert "Figure 1 · p.1 — Figure 1: The model architecture." in listing.plain
    assert labels == ["Figure 1 · p.1", "Table 1 · p.1", "Fig. 2 · p.2", "图3 · p.3"]
    assert "Figure 1" in photo.params["caption"]
    assert "第 1 页" in photo.params["caption"]
    assert "The model architecture." in photo.params["caption"]
    pix = _png(photo.files["photo"][1])
    assert pix.width > 500
    assert pix.height > 200


async def test_asking_to_see_a_figure_sends_it_without_asking_the_tutor(pages: PageViewer) -> None:
    answerer = FakeAnswerer()
    async with running(services(library=_library(), answerer=answerer, pages=pages)) as h:
        await h.send(h.api.update("message", text="给我看 Figure 1"))
        await h.send(h.api.update("message", text="架构图"))
        await h.send(h.api.update("message", text="show me table 1"))
        await h.send(h.api.update("message", text="给我看 Table 9"))
        photos = h.api.of("sendPhoto")
        missing = h.api.bot_messages(CHAT)[-1]
    assert answerer.asked == []
    assert ["Figure 1" in p.params["caption"] for p in photos] == [True, True, False]
    assert "Table 1" in photos[2].params["caption"]
    assert "没有找到" in missing.plain
    assert "/figures" in missing.plain


async def test_a_question_about_a_figure_is_answered(pages: PageViewer) -> None:
    answerer = FakeAnswerer(answers=[answer()])
    async with running(services(library=_library(), answerer=answerer, pages=pages)) as h:
        await h.send(h.api.update("message", text="Figure 1 里的 Encoder 是做什么的？"))
    assert [a["question"] for a in answerer.asked] == ["Figure 1 里的 Encoder 是做什么的？"]


async def test_an_answer_offers_the_printed_passage_and_the_figure_on_its_page(
    pages: PageViewer, parsed: ParsedSource
) -> None:
    chunk: Chunk = parsed.chunks[0]  # page 1, where Figure 1 and Table 1 are printed
    cited = citation(
        source_id=SOURCE,
        title="Figures paper",
        page=chunk.page,
        snippet=chunk.text[:200],
        boxes=chunk.boxes,
    )
    answerer = FakeAnswerer(answers=[answer(citations=(cited,))])
    async with running(services(library=_library(), answerer=answerer, pages=pages)) as h:
        await h.send(h.api.update("message", text="编码器做什么？"))
        reply = h.api.bot_messages(CHAT)[-1]
        texts = [text for text, _ in reply.buttons]
        passage = next(data for text, data in reply.buttons if text == "🖼 原文 p.1")
        await h.send(h.api.callback_update(CHAT, reply.message_id, passage))
        [photo] = h.api.of("sendPhoto")
    assert texts[:3] == ["🙂 讲得更简单", "📝 举个例子", "📚 查看来源"]
    assert "🖼 原文 p.1" in texts
    assert "🖼 Figure 1" in texts
    assert "🖼 Table 1" in texts
    assert photo.params["caption"] == "原文 第 1 页 · Figures paper"
    pix = _png(photo.files["photo"][1])
    assert pix.width >= 900  # the passage, as printed, at about 1000 pixels across


async def test_a_picture_telegram_refuses_as_a_photo_arrives_as_a_file(pages: PageViewer) -> None:
    async with running(services(library=_library(), pages=pages)) as h:
        h.api.fail_methods["sendPhoto"] = "Bad Request: PHOTO_INVALID_DIMENSIONS"
        await h.send(h.api.update("message", text="给我看 Figure 1"))
        [document] = h.api.of("sendDocument")
    assert document.files["document"][0] == "Figure_1.png"
    assert document.files["document"][1].startswith(b"\x89PNG")


async def test_a_forgotten_paper_has_no_figures_left(pages: PageViewer, tmp_path: Path) -> None:
    PaperFiles(tmp_path / "papers").delete_source(CHAT, SOURCE)
    async with running(services(library=_library(), pages=pages)) as h:
        await h.send(h.api.update("message", text="/figures"))
        [reply] = h.api.bot_messages(CHAT)
    assert "还没有找到图表" in reply.plain
