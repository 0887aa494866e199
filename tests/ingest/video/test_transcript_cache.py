"""The transcript cache: kept by identity, written atomically, one recognition at a time."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from ingest.video.transcript_cache import TranscriptCache
from tests.fakes.recognition import heard


def test_a_recognition_comes_back_as_it_was_kept(tmp_path: Path) -> None:
    cache = TranscriptCache(tmp_path / "transcripts")
    recognition = heard("大家好。", "今天讲注意力。", language="zh")
    assert cache.get("bilibili:BV1GJ411x7h7:p2") is None
    cache.put("bilibili:BV1GJ411x7h7:p2", recognition)
    assert cache.get("bilibili:BV1GJ411x7h7:p2") == recognition
    assert cache.get("bilibili:BV1GJ411x7h7") is None  # part 1 is another video
    assert [p.suffix for p in (tmp_path / "transcripts").iterdir()] == [".json"]


def test_a_half_written_or_damaged_file_counts_as_nothing(tmp_path: Path) -> None:
    cache = TranscriptCache(tmp_path)
    cache.put("youtube:abc", heard("one"))
    [kept] = list(tmp_path.iterdir())
    kept.write_text('{"version": 1, "identity": "youtube:abc", "cues": [[0, 1', encoding="utf-8")
    (tmp_path / "leftover.json.123.partial").write_text("{", encoding="utf-8")
    assert cache.get("youtube:abc") is None
    cache.put("youtube:abc", heard("two"))  # replaced whole
    recognition = cache.get("youtube:abc")
    assert recognition is not None
    assert recognition.text == "two"


def test_a_second_claim_waits_for_the_first(tmp_path: Path) -> None:
    cache = TranscriptCache(tmp_path)
    order: list[str] = []

    def first() -> None:
        with cache.claim("web:x"):
            order.append("first in")
            time.sleep(0.3)
            cache.put("web:x", heard("done"))
            order.append("first out")

    thread = threading.Thread(target=first)
    thread.start()
    time.sleep(0.05)
    with cache.claim("web:x"):
        order.append("second in")
        assert cache.get("web:x") is not None
    thread.join()
    assert order == ["first in", "first out", "second in"]
