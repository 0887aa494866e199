"""The ``papertutor`` CLI as a student or a script uses it: ingest, sources, search, ask, notes,
report, forget; the ``--json`` shapes are the contract the README documents. Real libraries
throughout: pymupdf, the test embedding model, embedded Qdrant, the openai client against the
fake OpenAI-compatible server."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from docx import Document

from bot import prompts
from bot.cli import commands as cli_commands
from bot.cli import main
from storage.embedding.sparse import sparse_document
from storage.qdrant.index import ChunkPoint, QdrantIndex
from storage.store import KnowledgeStore, chunk_id
from tests.bot.cli.support import CHAT, OTHER, ingest_both, run_json
from tests.bot.report.support import cooperative
from tests.fakes.embedding import test_embedder
from tests.fakes.openai_server import FakeOpenAI, Status, Timeout
from tests.fakes.pdfs import make_garbage_bytes, make_paper_pdf
from tests.fakes.recognition import transcription_server
from tests.fakes.secret_values import LLM_KEY, leaks
from tests.fakes.speech import media_file
from tests.fakes.tutor_model import MODES, TutorModel


def test_ingest_search_sources_forget_json_contract(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    paper, video = ingest_both(capsys)
    assert {"source_id", "kind", "title", "authors", "year", "link", "pages", "chunks",
            "seconds"} <= paper.keys()  # fmt: skip
    assert paper["kind"] == "paper"
    assert paper["title"] == "Sparse Attention for Beginners"
    assert paper["authors"] == ["Alice Zhang", "Bob Smith"]
    assert paper["year"] == 2021
    assert paper["link"] == "https://arxiv.org/abs/2101.00001"
    assert paper["pages"] >= 2
    assert paper["chunks"] >= 2
    assert {"source_id", "kind", "title", "url", "language", "auto_generated", "duration_s",
            "chunks", "seconds"} <= video.keys()  # fmt: skip
    assert video["kind"] == "video"
    assert video["title"] == "Attention lecture"
    assert video["duration_s"] == pytest.approx(360, abs=5)

    results = run_json(capsys, "search", "sparse attention memory", "--chat", str(CHAT))["results"]
    assert [r["rank"] for r in results] == list(range(1, len(results) + 1))
    assert 0 < len(results) <= 5
    for r in results:
        assert {"rank", "score", "source_id", "kind", "title", "page", "text"} <= r.keys()
        if r["kind"] == "paper":
            assert isinstance(r["page"], int)
            assert 1 <= r["page"] <= paper["pages"]
    videos = run_json(capsys, "search", "attention", "--chat", str(CHAT), "--k", "20")["results"]
    clips = [r for r in videos if r["kind"] == "video"]
    assert clips, "the lecture is searchable too"
    for clip in clips:
        assert clip["start_s"] < clip["end_s"]
        assert clip["url"].endswith(f"t={int(clip['start_s'])}s")  # opens at that second

    assert run_json(capsys, "search", "sparse attention", "--chat", str(OTHER))["results"] == []
    listed = run_json(capsys, "sources", "--chat", str(CHAT))["sources"]
    assert {s["source_id"] for s in listed} == {paper["source_id"], video["source_id"]}

    assert main(["forget", video["source_id"], "--chat", str(CHAT)]) == 0
    capsys.readouterr()
    left = run_json(capsys, "sources", "--chat", str(CHAT))["sources"]
    assert [s["kind"] for s in left] == ["paper"]
    again = run_json(capsys, "search", "attention", "--chat", str(CHAT), "--k", "20")["results"]
    assert all(r["kind"] == "paper" for r in again)


def test_reingesting_the_same_file_replaces_it(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = run_json(capsys, "ingest", "paper.pdf", "--chat", str(CHAT))
    second = run_json(capsys, "ingest", "paper.pdf", "--chat", str(CHAT))
    assert first["source_id"] == second["source_id"]
    assert len(run_json(capsys, "sources", "--chat", str(CHAT))["sources"]) == 1


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["ingest", "garbage.pdf", "--chat", "5"], "不是 PDF"),
        (["ingest", "missing.pdf", "--chat", "5"], "找不到文件"),
        (["--lang", "en", "ingest", "notes.docx", "--chat", "5"], "can't read this kind of file"),
        (["forget", "no-such-source", "--chat", "5"], "找不到这份材料"),
        (["notes", "--chat", "5", "--remove", "no-such-note"], "没有这条笔记"),
        (["notes", "--chat", "5", "--star", "no-such-note"], "没有这条笔记"),
    ],
)
def test_user_errors_are_one_line_without_traceback(
    env: Path, capsys: pytest.CaptureFixture[str], argv: list[str], expected: str
) -> None:
    (env / "garbage.pdf").write_bytes(make_garbage_bytes())
    (env / "notes.docx").write_bytes(b"PK\x03\x04 not a paper")
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("papertutor: ")
    assert err.count("\n") == 1
    assert "Traceback" not in err
    assert expected in err


def test_ask_streams_then_lists_checked_citations_and_keeps_a_note(
    env: Path, capsys: pytest.CaptureFixture[str], fake_openai: FakeOpenAI
) -> None:
    ingest_both(capsys)
    rewrite = {"queries": ["What is sparse attention?", "什么是稀疏注意力"],
               "terms": [{"en": "sparse attention", "zh": "稀疏注意力"}]}  # fmt: skip
    answers = iter(
        [
            "稀疏注意力只让每个词关注一部分其他词，从而节省内存 [1]。这就像只和邻座同学讨论 [7]。",
            "稀疏注意力可以节省内存 [1]。",
        ]
    )
    # The question is searched at once and answered; a query rewrite (for the note's terms)
    # may run alongside, so replies are chosen by request, not by order.
    fake_openai.set_default(
        lambda body: (
            json.dumps(rewrite, ensure_ascii=False)
            if body["messages"][0]["content"] == prompts.REWRITE_SYSTEM
            else next(answers)
        )
    )
    assert main(["ask", "什么是稀疏注意力？", "--chat", str(CHAT)]) == 0
    out = capsys.readouterr().out
    assert "稀疏注意力只让每个词关注一部分其他词" in out
    assert "— checked answer —" in out  # the invented [7] was removed from the final text
    assert "[1] " in out

    answer = run_json(capsys, "ask", "稀疏注意力有什么好处？", "--chat", str(CHAT))
    assert answer["grounded"] is True
    [citation] = answer["citations"]
    assert {"n", "source_id", "kind", "title", "page", "start_s", "end_s", "url",
            "snippet"} <= citation.keys()  # fmt: skip
    assert citation["n"] == 1
    assert citation["snippet"]
    notes = run_json(capsys, "notes", "--chat", str(CHAT))["notes"]
    assert answer["note_id"] in {n["note_id"] for n in notes}
    assert len(notes) == 2
    assert run_json(capsys, "notes", "--chat", str(OTHER))["notes"] == []

    assert not any(n["starred"] for n in notes)
    assert main(["notes", "--chat", str(OTHER), "--star", answer["note_id"]]) == 2  # not its note
    assert main(["notes", "--chat", str(CHAT), "--star", answer["note_id"]]) == 0
    assert capsys.readouterr().out.strip().endswith(f"starred {answer['note_id']}")
    notes = run_json(capsys, "notes", "--chat", str(CHAT))["notes"]
    assert [n["starred"] for n in notes if n["note_id"] == answer["note_id"]] == [True]
    assert main(["notes", "--chat", str(CHAT)]) == 0
    assert "⭐\nQ: 稀疏注意力有什么好处？" in capsys.readouterr().out

    assert main(["notes", "--chat", str(CHAT), "--remove", answer["note_id"]]) == 0
    capsys.readouterr()
    assert len(run_json(capsys, "notes", "--chat", str(CHAT))["notes"]) == 1


def test_ask_prints_markdown_and_math_as_plain_text_and_json_keeps_it_raw(
    env: Path, capsys: pytest.CaptureFixture[str], fake_openai: FakeOpenAI
) -> None:
    ingest_both(capsys)
    rewrite = {"queries": ["sparse attention"], "terms": []}
    answer = "### 要点\n\n**稀疏注意力**把 $O(n^2)$ 降到 $O(n\\sqrt{n})$ [1]。\n\n- 省内存 [1]"
    # Replies chosen by request: a query rewrite may run alongside the answer, or not at all.
    fake_openai.set_default(
        lambda body: (
            json.dumps(rewrite)
            if body["messages"][0]["content"] == prompts.REWRITE_SYSTEM
            else answer
        )
    )
    assert main(["ask", "稀疏注意力省什么？", "--chat", str(CHAT)]) == 0
    out = capsys.readouterr().out
    assert "要点\n\n稀疏注意力把 O(n²) 降到 O(n√n) [1]。\n\n• 省内存 [1]" in out
    assert "###" not in out
    assert "**" not in out
    # The test paper says nothing of O(n√n): the check labels that sentence, and the checked
    # answer, which differs from the stream, follows it, as plain text too.
    checked = out.split("— checked answer —", 1)[1]
    assert "（背景知识）稀疏注意力把 O(n²) 降到 O(n√n)。" in checked

    raw = run_json(capsys, "ask", "稀疏注意力省什么？", "--chat", str(CHAT))
    # The checked answer, still the model's Markdown and LaTeX.
    checked_md = answer.replace("**稀疏", "（背景知识）**稀疏").replace(
        "$O(n\\sqrt{n})$ [1]", "$O(n\\sqrt{n})$"
    )
    assert raw["answer"] == checked_md

    assert main(["notes", "--chat", str(CHAT)]) == 0
    note = "A: 要点 （背景知识）稀疏注意力把 O(n²) 降到 O(n√n)。 • 省内存 [1]"
    assert note in capsys.readouterr().out
    assert run_json(capsys, "notes", "--chat", str(CHAT))["notes"][0]["answer"] == checked_md


def test_model_outage_is_retryable_exit_75(
    env: Path, capsys: pytest.CaptureFixture[str], fake_openai: FakeOpenAI
) -> None:
    ingest_both(capsys)
    fake_openai.enqueue(Status(503, "overloaded"))
    assert main(["ask", "What is sparse attention?", "--chat", str(CHAT), "--json"]) == 75
    err = capsys.readouterr().err
    assert err.startswith("papertutor: ")
    assert "Traceback" not in err
    assert run_json(capsys, "notes", "--chat", str(CHAT))["notes"] == []


def test_report_writes_docx_and_markdown_with_the_json_summary(
    env: Path, capsys: pytest.CaptureFixture[str], fake_openai: FakeOpenAI
) -> None:
    ingest_both(capsys)
    fake_openai.set_default(cooperative)
    summary = run_json(
        capsys, "report", "--chat", str(CHAT), "-o", "report.docx", "--md", "report.md"
    )
    assert summary["path"] == "report.docx"
    assert [s["heading"] for s in summary["sections"]] == [
        "（1）论文基本信息", "（2）核心内容摘要", "（3）关键技术解析", "（4）视频补充要点",
    ]  # fmt: skip
    assert 2000 <= summary["chars"] <= 3000
    assert summary["chars"] == sum(s["chars"] for s in summary["sections"])
    assert summary["video_included"] is True
    assert summary["citations"] > 0
    headings = [p.text for p in Document(str(env / "report.docx")).paragraphs
                if p.style is not None and p.style.name == "Heading 1"]  # fmt: skip
    assert headings[:4] == [s["heading"] for s in summary["sections"]]
    assert "（4）视频补充要点" in (env / "report.md").read_text(encoding="utf-8")


def test_a_second_report_reuses_the_first_and_one_section_can_be_rewritten(
    env: Path, capsys: pytest.CaptureFixture[str], fake_openai: FakeOpenAI
) -> None:
    ingest_both(capsys)
    fake_openai.set_default(cooperative)
    base = ["report", "--chat", str(CHAT), "-o", "report.docx"]
    assert main([*base, "--author", "李同学"]) == 0
    captured = capsys.readouterr()
    assert "✍️ 正在写（2）核心内容摘要…" in captured.err  # progress on stderr
    assert "（1）（2）已完成，用时" in captured.err
    assert Document(str(env / "report.docx")).core_properties.author == "李同学"
    calls = len(fake_openai.requests)

    again = run_json(capsys, *base)  # a new process: the kept report is on disk
    assert again["reused"] is True
    assert len(fake_openai.requests) == calls  # no model call

    rewritten = run_json(capsys, *base, "--section", "3")
    asked = [str(b["messages"][-1]["content"]) for b in fake_openai.requests[calls:]]
    assert rewritten["reused"] is False
    assert any("（3）关键技术解析”部分" in a for a in asked)
    assert not any("核心内容摘要" in a or "视频补充要点" in a for a in asked)
    assert 2000 <= rewritten["chars"] <= 3000

    assert run_json(capsys, *base, "--fresh")["reused"] is False
    assert list((env / "data" / "reports" / str(CHAT)).iterdir())
    assert main(["reset", "--chat", str(CHAT), "--yes"]) == 0
    assert not (env / "data" / "reports" / str(CHAT)).exists()  # removed with the chat


def test_a_report_killed_between_sections_continues_where_it_stopped(
    env: Path, capsys: pytest.CaptureFixture[str], fake_openai: FakeOpenAI
) -> None:
    """``papertutor report`` is killed (SIGKILL) once section (2) is written, while it waits
    for section (3); the next run writes (3) and (4) only."""
    ingest_both(capsys)
    tech = "请撰写报告的“（3）关键技术解析”部分"
    child: list[subprocess.Popen[str]] = []

    def killing(body: dict[str, Any]) -> Any:
        if tech in str(body["messages"][-1]["content"]) and child:
            child[0].kill()  # SIGKILL: no clean-up of any kind
            return Timeout(5)
        return cooperative(body)

    fake_openai.set_default(killing)
    child.append(
        subprocess.Popen(
            [sys.executable, "-m", "bot", "report", "--chat", str(CHAT), "-o", "r.docx"],
            cwd=env,
            env=dict(os.environ),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
    )
    _, err = child[0].communicate(timeout=300)
    assert child[0].returncode == -signal.SIGKILL, err
    assert "（1）（2）已完成" in err  # it got as far as section (2)…
    assert not (env / "r.docx").exists()  # …and no further

    fake_openai.set_default(cooperative)
    calls = len(fake_openai.requests)
    summary = run_json(capsys, "report", "--chat", str(CHAT), "-o", "r.docx")
    asked = [str(b["messages"][-1]["content"]) for b in fake_openai.requests[calls:]]
    assert not any("请撰写报告的“（2）核心内容摘要”部分" in a for a in asked)
    assert sum(tech in a for a in asked) == 1
    assert any("请撰写报告的“（4）视频补充要点”部分" in a for a in asked)
    assert 2000 <= summary["chars"] <= 3000


def test_run_without_token_or_key_explains_both_in_both_languages(
    env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "")
    monkeypatch.setenv("OPENAI_API_KEY", "")
    assert main(["run"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert "@BotFather" in err
    assert "TELEGRAM_BOT_TOKEN" in err
    assert "OPENAI_API_KEY" in err
    assert "机器人还不能启动" in err  # Chinese first (the default), then English
    assert "OpenAI-compatible" in err
    assert not (env / "data" / "qdrant").exists()  # nothing was built


@pytest.mark.parametrize("mode", MODES)
def test_ask_json_gives_each_citation_its_support_score(
    env: Path, capsys: pytest.CaptureFixture[str], fake_openai: FakeOpenAI, mode: str
) -> None:
    ingest_both(capsys)
    fake_openai.set_default(TutorModel(mode).for_body)
    answer = run_json(capsys, "ask", "sparse attention 怎么节省内存？", "--chat", str(CHAT))
    assert answer["grounded"] is True
    assert answer["uncited"] is False
    assert answer["attributed"] is (mode == "no_markers")
    assert answer["flagged"] is (mode in ("least_related", "invents_numbers"))
    assert "37.5" not in answer["answer"]
    assert answer["citations"]
    for citation in answer["citations"]:
        assert 0.5 <= citation["support"] <= 1
        assert f"[{citation['n']}]" in answer["answer"]


def test_a_recording_is_transcribed_through_the_endpoint_and_says_so(
    env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Chinese lecture recording, recognised by an OpenAI-compatible transcription endpoint
    (espeak-ng's Mandarin is not intelligible to the test's Whisper base)."""
    window = {
        "text": "大家好，今天我们讲注意力机制。自注意力让每个词都能看到句子里的其他词。",
        "language": "chinese",
        "segments": [
            {"start": 0.0, "end": 6.0, "text": "大家好，今天我们讲注意力机制。"},
            {"start": 6.5, "end": 15.0, "text": "自注意力让每个词都能看到句子里的其他词。"},
        ],
    }
    with transcription_server(window) as server:
        monkeypatch.setenv("PAPERTUTOR_ASR_URL", server.base_url)
        monkeypatch.setenv("PAPERTUTOR_ASR_MODEL", "whisper-large-v3")
        shutil.copy(media_file("lecture_en.ogg"), env / "第三讲.ogg")
        video = run_json(capsys, "ingest", "第三讲.ogg", "--chat", str(CHAT))
        again = run_json(capsys, "ingest", "第三讲.ogg", "--chat", str(OTHER))
    assert video["kind"] == "video"
    assert video["title"] == "第三讲"
    assert (video["transcribed"], video["asr_model"], video["platform"]) == (
        True,
        "whisper-large-v3",
        None,
    )
    assert video["language"] == "zh"
    assert video["auto_generated"] is None
    assert any("语音识别" in w for w in video["warnings"])
    assert len(server.requests) == 1  # the second chat got the kept transcript
    assert again["chunks"] == video["chunks"]
    hits = run_json(capsys, "search", "自注意力", "--chat", str(CHAT))["results"]
    assert hits[0]["kind"] == "video"
    assert hits[0]["start_s"] == 0.0
    text_out = main(["sources", "--chat", str(CHAT)])
    assert text_out == 0
    assert "machine-transcribed by speech recognition (whisper-large-v3)" in capsys.readouterr().out


def test_the_data_directory_in_use_is_said_before_anything_heavy_loads(
    env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    run_json(capsys, "ingest", "lecture.srt", "--chat", str(CHAT))
    # A model that cannot load: had it been loaded first, its error would come instead.
    monkeypatch.setenv("PAPERTUTOR_EMBEDDING_MODEL_PATH", str(env / "no-model"))
    holder = QdrantIndex(path=env / "data" / "qdrant")  # the running bot
    try:
        for argv in (["sources", "--chat", "5"], ["ingest", "paper.pdf", "--chat", "5"]):
            assert main(["--lang", "en", *argv]) == 75  # EX_TEMPFAIL: try again later
            err = capsys.readouterr().err
            assert err.count("\n") == 1, err
            assert err.startswith("papertutor: The data directory")
            assert "in use by another process" in err
            assert "正被另一个程序使用" in err
    finally:
        holder.close()


def test_an_unexpected_error_is_one_line_and_shows_no_secret(
    env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(services: Any, args: Any) -> None:
        raise RuntimeError(f"boom while calling https://user:hunter22@proxy/ with {LLM_KEY}")

    monkeypatch.setitem(cli_commands._COMMANDS, "sources", broken)
    assert main(["sources", "--chat", "5"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert "unexpected error: RuntimeError: boom" in err
    assert "hunter22" not in err
    assert not leaks(err)

    monkeypatch.setenv("PAPERTUTOR_LOG_LEVEL", "DEBUG")  # asked for: the traceback, masked
    assert main(["sources", "--chat", "5"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" in err
    assert "hunter22" not in err
    assert not leaks(err)


def test_every_command_recovers_the_store_and_says_what_it_did(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    paper = run_json(capsys, "ingest", "paper.pdf", "--chat", str(CHAT))
    # A re-ingestion the process died in: the record names a pending version, one of its
    # chunks is stored already.
    store = KnowledgeStore(QdrantIndex(path=env / "data" / "qdrant"), test_embedder())
    record = store.source(CHAT, paper["source_id"])
    assert record is not None
    pending = record.model_copy(update={"pending": 9, "pending_since": record.updated_at})
    store.index.put_record("sources", CHAT, record.source_id, pending.model_dump(mode="json"))
    text = store.chunks(CHAT, record.source_id)[0].text
    store.index.upsert_chunks(
        CHAT,
        [
            ChunkPoint(
                chunk_id(record.source_id, 0, 9),
                test_embedder().embed_passages([text])[0],
                sparse_document(text),
                {"source_id": record.source_id, "generation": 9, "kind": "paper", "ordinal": 0,
                 "text": text, "title": record.title},
            )
        ],
    )  # fmt: skip
    store.close()

    # Any command, about any chat, puts it right and says so on stderr (stdout stays JSON).
    assert main(["--lang", "en", "sources", "--chat", str(OTHER), "--json"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out) == {"sources": []}
    assert captured.err.startswith("papertutor: recovered from an interruption:")
    assert "the re-ingestion of “Sparse Attention for Beginners”" in captured.err
    assert "the previous version is kept" in captured.err

    assert main(["sources", "--chat", str(CHAT)]) == 0
    assert "papertutor:" not in capsys.readouterr().err  # nothing left to say the second time
    store = KnowledgeStore(QdrantIndex(path=env / "data" / "qdrant"), test_embedder())
    try:
        (kept,) = store.sources(CHAT)
        assert (kept.status.value, kept.pending, kept.generation) == ("ready", None, 1)
        assert store.index.count_chunks(CHAT) == paper["chunks"]  # the pending chunk is gone
    finally:
        store.close()


@pytest.mark.parametrize(
    "url", ["javascript:alert(1)", "file:///etc/passwd", "data:text/html,<b>x</b>", "youtu be"]
)
def test_only_web_links_are_stored_as_a_videos_address(
    env: Path, capsys: pytest.CaptureFixture[str], url: str
) -> None:
    assert main(["--lang", "en", "ingest", "lecture.srt", "--chat", "5", "--url", url]) == 2
    err = capsys.readouterr().err
    assert "is not a web link" in err
    assert err.count("\n") == 1
    assert run_json(capsys, "sources", "--chat", "5") == {"sources": []}


def test_a_question_longer_than_a_question_is_refused(
    env: Path, capsys: pytest.CaptureFixture[str], fake_openai: FakeOpenAI
) -> None:
    run_json(capsys, "ingest", "paper.pdf", "--chat", str(CHAT))
    asked = len(fake_openai.requests)  # the paper's term list
    assert main(["ask", "为什么" * 1000, "--chat", str(CHAT)]) == 2
    assert "这个问题太长了（3000 个字符）" in capsys.readouterr().err
    assert len(fake_openai.requests) == asked  # refused before any model call


def test_two_papers_the_report_names_the_choices_and_writes_the_chosen_one(
    env: Path, capsys: pytest.CaptureFixture[str], fake_openai: FakeOpenAI
) -> None:
    first = run_json(capsys, "ingest", "paper.pdf", "--chat", str(CHAT))
    (env / "other.pdf").write_bytes(make_paper_pdf(title="Dense Retrieval for Beginners"))
    assert main(["--lang", "en", "ingest", "other.pdf", "--chat", str(CHAT)]) == 0
    said = capsys.readouterr()
    assert "this chat now holds 2 papers" in said.err  # the second paper is said
    second = next(
        s
        for s in run_json(capsys, "sources", "--chat", str(CHAT))["sources"]
        if s["source_id"] != first["source_id"]
    )
    fake_openai.set_default(cooperative)
    asked = len(fake_openai.requests)  # the papers' term lists

    assert main(["--lang", "en", "report", "--chat", str(CHAT), "--without-video"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "holds 2 papers" in err
    assert first["source_id"] in err
    assert second["source_id"] in err
    assert len(fake_openai.requests) == asked  # asked before any model call

    summary = run_json(
        capsys, "report", "--chat", str(CHAT), "--without-video", "-o", "r.docx", "--md", "r.md",
        "--paper", second["source_id"][:8],
    )  # fmt: skip
    assert summary["chars"] >= 2000
    markdown = (env / "r.md").read_text(encoding="utf-8")
    info = markdown.split("## （2）")[0]
    assert "Dense Retrieval for Beginners" in info
    assert "Sparse Attention for Beginners" not in markdown
