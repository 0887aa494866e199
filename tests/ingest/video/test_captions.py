"""Choosing a caption track: preferred language first, a person's before a machine's."""

from __future__ import annotations

from dataclasses import dataclass

from ingest.video.captions import choose_transcript
from ingest.video.youtube import DEFAULT_LANGUAGES


@dataclass(frozen=True)
class Track:
    language_code: str
    is_generated: bool


def test_choose_transcript_rules() -> None:
    manual_de, gen_ja = Track("de", False), Track("ja", True)
    assert choose_transcript([gen_ja, manual_de], DEFAULT_LANGUAGES) == (manual_de, True)
    assert choose_transcript([gen_ja], DEFAULT_LANGUAGES) == (gen_ja, True)
    assert choose_transcript([], DEFAULT_LANGUAGES) is None
    hk = Track("zh-HK", False)
    assert choose_transcript([hk, Track("en", False)], DEFAULT_LANGUAGES) == (hk, False)
    exact = Track("zh-CN", False)
    assert choose_transcript([Track("zh-SG", False), exact], ["zh-CN", "zh-SG"]) == (exact, False)
