"""``papertutor quiz``, ``papertutor terms`` and the next questions of ``ask``: the same
services as the bot, their ``--json`` shapes as the README documents them."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest

from bot.cli import main
from bot.prompts import REWRITE_SYSTEM
from bot.study.prompts import GLOSSARY_SYSTEM, QUIZ_SYSTEM
from tests.bot.cli.support import CHAT, OTHER, ingest_both, run_json
from tests.bot.study.support import user_text
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.study_model import BANK, glossary_reply, quiz_reply, snippets_in
from tests.fakes.tutor_model import quoted_words

REWRITE = {
    "queries": ["What is sparse attention?", "什么是稀疏注意力"],
    "terms": [{"en": "sparse attention", "zh": "稀疏注意力"}],
}


def _model(body: dict[str, Any]) -> str:
    system = body["messages"][0]["content"]
    if system == REWRITE_SYSTEM:
        return json.dumps(REWRITE, ensure_ascii=False)
    if system == QUIZ_SYSTEM:
        lang = "en" if "in English" in user_text(body) else "zh"
        return quiz_reply(user_text(body), lang=lang)
    if system == GLOSSARY_SYSTEM:
        return glossary_reply(user_text(body))
    # A cooperative answer: it quotes and cites the first snippet about sparse attention.
    given = snippets_in(body["messages"][-1]["content"])
    n = next((n for n, s in sorted(given.items()) if "sparse attention" in s.lower()), 1)
    quote = quoted_words(given.get(n, ""))
    return f"稀疏注意力只让每个词关注一部分其他词，原文说：“{quote}” [{n}]。"


def _fact_answer(question: str) -> str:
    fact = next(f for f in BANK if f.zh in question or f.en in question)
    return fact.options_zh[0] if fact.zh in question else fact.options_en[0]


def test_quiz_json(env: Path, capsys: pytest.CaptureFixture[str], fake_openai: FakeOpenAI) -> None:
    ingest_both(capsys)
    fake_openai.set_default(_model)
    questions = run_json(capsys, "quiz", "--chat", str(CHAT))["questions"]
    assert 3 <= len(questions) <= 5
    for q in questions:
        assert {"question", "options", "correct_option_id", "explanation", "citations"} <= q.keys()
        assert q["options"][q["correct_option_id"]] == _fact_answer(q["question"])
        [citation] = q["citations"]
        assert citation["snippet"]
        assert citation["page"] is not None or citation["start_s"] is not None
    english = run_json(capsys, "--lang", "en", "quiz", "--chat", str(CHAT))["questions"]
    assert all(q["explanation"].split("📖 ")[1].startswith(("paper", "video")) for q in english)

    assert main(["quiz", "--chat", str(OTHER)]) == 2
    assert "还没有可以出题的学习材料" in capsys.readouterr().err


def test_quiz_in_a_terminal_keeps_the_answers(
    env: Path,
    capsys: pytest.CaptureFixture[str],
    fake_openai: FakeOpenAI,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ingest_both(capsys)
    fake_openai.set_default(_model)
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    monkeypatch.setattr("builtins.input", lambda prompt="": "a")  # always the first option
    assert main(["quiz", "--chat", str(CHAT)]) == 0
    out = capsys.readouterr().out
    assert "1. " in out
    assert "   A. " in out
    assert "✅ right" in out or "❌ the answer is" in out
    assert "📖" in out
    # What was answered is kept: a wrong answer (the options are shuffled) is revisited by the
    # next quiz.
    run_json(capsys, "quiz", "--chat", str(CHAT))
    last_quiz = [r for r in fake_openai.requests if r["messages"][0]["content"] == QUIZ_SYSTEM]
    assert ("<missed>" in user_text(last_quiz[-1])) == ("❌" in out)


def test_quiz_printed_when_not_in_a_terminal(
    env: Path, capsys: pytest.CaptureFixture[str], fake_openai: FakeOpenAI
) -> None:
    ingest_both(capsys)
    fake_openai.set_default(_model)
    assert main(["quiz", "--chat", str(CHAT)]) == 0
    out = capsys.readouterr().out
    assert "   A. " in out
    assert "not a terminal" in out


def test_terms_json_and_files_and_the_next_questions_of_ask(
    env: Path, capsys: pytest.CaptureFixture[str], fake_openai: FakeOpenAI
) -> None:
    ingest_both(capsys)
    fake_openai.set_default(_model)
    assert run_json(capsys, "terms", "--chat", str(CHAT)) == {"terms": []}
    answer = run_json(capsys, "ask", "什么是稀疏注意力？", "--chat", str(CHAT))
    assert isinstance(answer["next_questions"], list)
    assert all(q.startswith("论文接下来的“") for q in answer["next_questions"])

    terms = run_json(capsys, "terms", "--chat", str(CHAT), "-o", "terms.csv")["terms"]
    [term] = terms
    assert {"en", "zh", "explanation", "citations"} <= term.keys()
    assert (term["en"], term["zh"]) == ("sparse attention", "稀疏注意力")
    assert term["explanation"] == "稀疏注意力是材料中讲到的一个关键概念。"
    assert term["citations"][0]["page"] >= 1
    rows = list(csv.reader(io.StringIO((env / "terms.csv").read_text(encoding="utf-8-sig"))))
    assert rows[1][:2] == ["稀疏注意力", "sparse attention"]
    assert main(["terms", "--chat", str(CHAT), "-o", "terms.md"]) == 0
    assert "稀疏注意力 / sparse attention: 稀疏注意力是材料中讲到的" in capsys.readouterr().out
    assert "| 稀疏注意力 | sparse attention |" in (env / "terms.md").read_text(encoding="utf-8")
    glossary_calls = [
        r for r in fake_openai.requests if r["messages"][0]["content"] == GLOSSARY_SYSTEM
    ]
    assert len(glossary_calls) == 1  # kept until the notes change
