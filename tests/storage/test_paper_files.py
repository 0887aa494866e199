"""PaperFiles: the PDF and figure records of each chat's papers, replaced whole, per chat."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from kernel.models import FigureKind, PageFigure
from storage.paper_files import PaperFiles

A = str(uuid.uuid5(uuid.NAMESPACE_URL, "a"))
B = str(uuid.uuid5(uuid.NAMESPACE_URL, "b"))


def _figure(label: str, page: int = 1) -> PageFigure:
    return PageFigure(
        kind=FigureKind.FIGURE, label=label, caption=f"{label}: x.", page=page, bbox=(1, 2, 3, 4)
    )


def test_saving_replaces_the_whole_set_and_reads_are_per_chat(tmp_path: Path) -> None:
    files = PaperFiles(tmp_path)
    first = files.save(1, A, b"%PDF-one", [_figure("Figure 1"), _figure("Figure 2", 3)])
    assert [f.figure_id for f in first] == [f"{A[:8]}-1", f"{A[:8]}-2"]
    files.put_image(first[0], b"\x89PNG one")
    again = files.save(1, A, b"%PDF-two", [_figure("Figure 9")])
    assert files.original(1, A) == b"%PDF-two"
    assert [f.label for f in files.figures(1)] == ["Figure 9"]
    assert files.image(again[0]) is None  # the old crops went with the old set
    assert files.figure(1, again[0].figure_id) == again[0]
    # Another chat sees nothing, not even by id.
    assert files.figures(2) == []
    assert files.figure(2, again[0].figure_id) is None
    assert files.original(2, A) is None
    assert not [p for p in (tmp_path / "1").iterdir() if p.name.startswith(".")]


def test_only_listed_sources_and_removal(tmp_path: Path) -> None:
    files = PaperFiles(tmp_path)
    files.save(1, A, b"%PDF-a", [_figure("Figure 1")])
    files.save(1, B, b"%PDF-b", [_figure("Table 1")])
    assert {f.source_id for f in files.figures(1, {B})} == {B}
    files.delete_source(1, A)
    assert {f.source_id for f in files.figures(1)} == {B}
    files.delete_chat(1)
    assert files.figures(1) == []
    assert not (tmp_path / "1").exists()


def test_ids_of_the_wrong_shape_never_become_paths(tmp_path: Path) -> None:
    files = PaperFiles(tmp_path)
    with pytest.raises(ValueError, match="source id"):
        files.save(1, "../../etc", b"%PDF", [])
    assert files.figure(1, "../x-1") is None
