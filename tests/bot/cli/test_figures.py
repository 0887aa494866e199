"""``papertutor figures`` / ``figure`` and the ``section`` of non-prose search results."""

from __future__ import annotations

from pathlib import Path

import pymupdf
import pytest

from bot.cli import main
from tests.bot.cli.support import run_json
from tests.fakes.pdfs import make_figures_pdf

CHAT, OTHER = 5, 6


@pytest.fixture(autouse=True)
def figures_pdf(env: Path) -> Path:
    """The figures paper beside the CLI test environment's files."""
    path = env / "figures.pdf"
    path.write_bytes(make_figures_pdf())
    return path


def test_figures_list_figure_writes_a_png_and_forget_removes_them(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    paper = run_json(capsys, "ingest", "figures.pdf", "--chat", str(CHAT))
    figures = run_json(capsys, "figures", "--chat", str(CHAT))["figures"]
    assert [f.keys() for f in figures] == [
        {"figure_id", "kind", "label", "caption", "page", "source_id"}
    ] * 4
    assert [(f["kind"], f["label"], f["page"]) for f in figures] == [
        ("figure", "Figure 1", 1),
        ("table", "Table 1", 1),
        ("figure", "Fig. 2", 2),
        ("figure", "图3", 3),
    ]
    assert figures[0]["caption"] == "Figure 1: The model architecture."
    assert {f["source_id"] for f in figures} == {paper["source_id"]}
    assert run_json(capsys, "figures", "--chat", str(OTHER))["figures"] == []  # per chat

    out = env / "fig1.png"
    assert main(["figure", figures[0]["figure_id"], "--chat", str(CHAT), "-o", str(out)]) == 0
    assert "Figure 1" in capsys.readouterr().out
    pix = pymupdf.Pixmap(out.read_bytes())
    assert pix.width > 500
    assert pix.height > 200
    # Another chat cannot read it by id.
    assert main(["figure", figures[0]["figure_id"], "--chat", str(OTHER), "-o", str(out)]) == 2
    assert "找不到这个图表" in capsys.readouterr().err

    assert main(["forget", paper["source_id"], "--chat", str(CHAT)]) == 0
    capsys.readouterr()
    assert run_json(capsys, "figures", "--chat", str(CHAT))["figures"] == []
    assert not (env / "data" / "papers" / str(CHAT) / paper["source_id"]).exists()


def test_search_marks_what_is_not_prose_and_keeps_the_bibliography_out(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_json(capsys, "ingest", "figures.pdf", "--chat", str(CHAT))
    hits = run_json(capsys, "search", "Scores on two benchmarks", "--chat", str(CHAT), "--k", "10")
    by_text = {r["text"].split("\n")[0]: r for r in hits["results"]}
    table = by_text["Table 1: Scores on two benchmarks."]
    assert table["section"] == "table"
    prose = [r for r in hits["results"] if r["text"].startswith("The encoder reads")]
    assert prose
    assert "section" not in prose[0]
    refs = run_json(capsys, "search", "Jimmy Lei Ba layer normalization", "--chat", str(CHAT))
    assert all(r.get("section") != "references" for r in refs["results"])
    assert main(["reset", "--chat", str(CHAT), "--yes"]) == 0
    assert not (env / "data" / "papers" / str(CHAT)).exists()
