"""The helpers every benchmark uses: percentiles and rewriting one BENCHMARKS.md section."""

from __future__ import annotations

from pathlib import Path

import pytest

from scripts.benchlib import percentile, write_section

SECTION = "## Retrieval quality (issue 4)"


def test_percentile_is_nearest_rank() -> None:
    samples = [float(n) for n in range(1, 101)]
    assert percentile(samples, 50) == 50.0
    assert percentile(samples, 95) == 95.0
    assert percentile(samples, 100) == 100.0
    assert percentile([3.0, 1.0, 2.0], 50) == 2.0
    assert percentile([7.0], 95) == 7.0
    assert percentile([1.0, 2.0], 50) == 1.0
    unsorted = [float(n) for n in range(100, 0, -1)]
    assert percentile(unsorted, 95) == 95.0
    with pytest.raises(ValueError, match="no samples"):
        percentile([], 50)
    with pytest.raises(ValueError, match="q must be"):
        percentile([1.0], 0)


def test_writing_a_section_replaces_only_that_section(tmp_path: Path) -> None:
    path = tmp_path / "BENCHMARKS.md"
    path.write_text(
        "# Benchmarks\n\n## Latency\n\nfast\n\n" + SECTION + "\n\nold\n\n## Memory\n\nsmall\n"
    )
    write_section(SECTION, SECTION + "\n\nnew table\n", path)
    text = path.read_text()
    assert "old" not in text
    assert text.count(SECTION) == 1
    assert "## Latency\n\nfast" in text
    assert "new table\n\n## Memory\n\nsmall\n" in text


def test_writing_a_section_appends_when_absent(tmp_path: Path) -> None:
    fresh = tmp_path / "NEW.md"
    write_section(SECTION, SECTION + "\n\nfirst\n", fresh)
    assert fresh.read_text() == "# Benchmarks\n\n" + SECTION + "\n\nfirst\n"
    write_section("## Other", "## Other\n\nsecond\n", fresh)
    assert fresh.read_text() == "# Benchmarks\n\n" + SECTION + "\n\nfirst\n\n## Other\n\nsecond\n"
