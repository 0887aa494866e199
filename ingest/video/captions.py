"""Choosing a video's caption track: preferred language first, a person's captions before a
machine's. One rule for YouTube's transcript API and for the tracks yt-dlp finds on any site."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, TypeVar

__all__ = ["choose_transcript", "language_family"]


class _TranscriptInfo(Protocol):
    """What ``choose_transcript`` needs of a track."""

    @property
    def language_code(self) -> str: ...

    @property
    def is_generated(self) -> bool: ...


T = TypeVar("T", bound=_TranscriptInfo)


def language_family(code: str) -> str:
    """Language family for matching: zh-hans / zh-hant / the primary subtag."""
    code = code.lower().replace("_", "-")
    if code.startswith("zh"):
        return "zh-hant" if any(t in code for t in ("hant", "tw", "hk", "mo")) else "zh-hans"
    return code.split("-")[0]


def choose_transcript(available: Sequence[T], languages: Sequence[str]) -> tuple[T, bool] | None:
    """Pick a transcript: per preference tier manual first, then auto-generated.

    Consecutive preferences of one family form a tier (Simplified Chinese, Traditional, English
    with the defaults), so a manual Chinese track beats an auto-generated one, and an
    auto-generated Chinese track still beats English. A code matches exactly first, then by
    family ("en" finds "en-GB"). With no preferred language, the first manual (else generated)
    track is taken; the flag says it is outside the preferences.
    """
    tiers: dict[str, list[str]] = {}
    for code in languages:
        tiers.setdefault(language_family(code), []).append(code.lower())
    for family, codes in tiers.items():
        for generated in (False, True):
            kind = [t for t in available if t.is_generated == generated]
            for code in codes:
                for t in kind:
                    if t.language_code.lower() == code:
                        return t, False
            for t in kind:
                if language_family(t.language_code) == family:
                    return t, False
    ordered = sorted(available, key=lambda t: t.is_generated)
    return (ordered[0], True) if ordered else None
