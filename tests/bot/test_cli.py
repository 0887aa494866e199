"""The ``papertutor`` CLI as a student or a script uses it: ingest, sources, search, ask, notes,
report, forget; the ``--json`` shapes are the contract the README documents. Real libraries
throughout: pymupdf, the test embedding model, embedded Qdrant, the openai client against the
fake OpenAI-compatible server."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from docx import Document

from bot import prompts
from bot.cli import main
from tests.bot.report.support import cooperative
from tests.embedding import TEST_MODEL_NAME, test_model_dir
from tests.fake_modes import MODES, TutorModel
from tests.fake_openai import FakeOpenAI, Status
from tests.fake_openai import fake_openai as fake_openai
from tests.fake_speech import transcription_server
from tests.pdfs import make_garbage_bytes, make_paper_pdf
from tests.speech import media_file
from tests.subtitle_samples import lecture_srt

CHAT, OTHER = 5, 6
VIDEO_URL = "https://youtu.be/dQw4w9WgXcQ"


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_openai: FakeOpenAI) -> Path:
    """A clean environment (no .env) on the test model and the fake model server."""
    monkeypatch.chdir(tmp_path)
    for name in ("PAPERTUTOR_QDRANT_URL", "PAPERTUTOR_EMBEDDING_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("PAPERTUTOR_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("PAPERTUTOR_EMBEDDING_MODEL", TEST_MODEL_NAME)
    monkeypatch.setenv("PAPERTUTOR_EMBEDDING_MODEL_PATH", str(test_model_dir()))
    monkeypatch.setenv("OPENAI_BASE_URL", fake_openai.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.setenv("PAPERTUTOR_LLM_MAX_RETRIES", "0")
    (tmp_path / "paper.pdf").write_bytes(make_paper_pdf())
    (tmp_path / "lecture.srt").write_text(lecture_srt(6), encoding="utf-8")
    return tmp_path


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> Any:
    assert main([*argv, "--json"]) == 0, capsys.readouterr().err
    return json.loads(capsys.readouterr().out)


def ingest_both(capsys: pytest.CaptureFixture[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    paper = run_json(capsys, "ingest", "paper.pdf", "--chat", str(CHAT))
    video = run_json(
        capsys, "ingest", "lecture.srt", "--chat", str(CHAT), "--url", VIDEO_URL,
        "--title", "Attention lecture",
    )  # fmt: skip
    return paper, video


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
