"""Does the cited snippet support the sentence? The citation check shared by answers and reports.

``text`` splits Chinese and English text into sentences with their markers and reads figures and
shared words; ``scoring`` turns the embedder's similarity and that text evidence into one
support score per (sentence, snippet), calibrated on the labelled attribution set; ``attribution``
keeps, moves, adds or removes markers accordingly. ``bot.citations`` (answers) and
``bot.report.support`` (report sections) are the two callers.
"""

from __future__ import annotations

from bot.support.attribution import Candidate, CheckedText, Claim, Policy, check_support
from bot.support.scoring import CALIBRATIONS, Calibration, SupportScorer, scorer_for
from bot.support.text import Sentence, coverage, numbers, split_sentences

__all__ = [
    "CALIBRATIONS",
    "Calibration",
    "Candidate",
    "CheckedText",
    "Claim",
    "Policy",
    "Sentence",
    "SupportScorer",
    "check_support",
    "coverage",
    "numbers",
    "scorer_for",
    "split_sentences",
]
