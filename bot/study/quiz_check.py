"""Checks a model's quiz questions by code, so that none reaches the student unchecked.

A question is kept only if it fits a Telegram quiz poll (question ≤ 300 characters, 3–5
options of ≤ 100, explanation ≤ 200 with the page or time added here), is in the chat's
language, has no duplicate or filler options, and its marked answer is what a retrieved
snippet says: the model copies the words that state the answer (``quote``); the code checks
that the quote is in the snippet's text and that the marked option's words, in the snippet's
language, are in the quote while no other option's are. The model's own claim that an option is
correct counts for nothing. What fails gets a reason in plain English (for the log and for the
model's second try).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from typing import Any

from bot.citations import build_citations
from bot.study.text import (
    clip,
    flat,
    in_language,
    json_in,
    key,
    one_line,
    place,
    utf16_len,
    words,
)
from kernel.language import has_cjk, text_language
from kernel.models import QuizQuestion, SearchHit

__all__ = [
    "DIFFICULTIES",
    "MAX_EXPLANATION",
    "MAX_OPTION",
    "MAX_OPTIONS",
    "MAX_QUESTION",
    "MIN_OPTIONS",
    "check_question",
    "parse_questions",
]

MAX_QUESTION, MAX_OPTION, MAX_EXPLANATION = 300, 100, 200  # Telegram's quiz poll limits
MIN_OPTIONS, MAX_OPTIONS = 3, 5  # Telegram takes 2–10; fewer than 3 is a coin toss
SUPPORT = 0.6  # share of an option's source words that must be in the quote
DIFFICULTIES = ("easy", "medium", "hard")
TERM_WORDS = 4  # an English option in a Chinese quiz is a term (BLEU, Adam) up to this long
_FILLER = re.compile(
    r"all of the above|none of the above|both of the above|i don'?t know|"
    r"以上(都|全|皆|均)|都(不|对)|全都|不知道|无法确定",
    flags=re.IGNORECASE,
)
_DIGIT = re.compile(r"\d")


def parse_questions(reply: str) -> list[Any] | None:
    """The question objects of a quiz reply (``{"questions": [...]}`` or a bare list)."""
    return json_in(reply, "questions")


def _text(value: Any) -> str:
    return one_line(value) if isinstance(value, str) else ""


def _index(value: Any, size: int, base: int) -> int | None:
    """``value`` as an index in ``base..base+size-1`` (an int, or a string of one)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    return value if isinstance(value, int) and base <= value < base + size else None


def _support(option: str, quote: str, snippet: str) -> float:
    """How much of the option, in the snippet's language, the quote says (0 when nothing of
    the option is in the snippet's language: it cannot be checked)."""
    chinese_source = text_language(snippet) == "zh"
    in_snippet = set(words(snippet))
    anchors = [
        w
        for w in dict.fromkeys(words(option))
        if (w[0].isascii() and (not chinese_source or w in in_snippet))
        or (chinese_source and not w[0].isascii())
    ]
    if not anchors:
        return 0.0
    quoted = set(words(quote))
    return sum(w in quoted for w in anchors) / len(anchors)


def _option_language(option: str, lang: str, snippet_words: Collection[str]) -> bool:
    if lang == "zh":
        # Chinese, or a short term / number as Chinese texts write them (BLEU, Adam, 8).
        return has_cjk(option) or len(re.findall(r"[A-Za-z]+", option)) <= TERM_WORDS
    return in_language(option, "en", snippet_words)


def _plausibility(question: str, options: Sequence[str], correct: int) -> str | None:
    if any(_FILLER.search(o) for o in options):
        return 'an option like "all of the above" cannot be checked against a snippet'
    answer = options[correct]
    wrong = [o for i, o in enumerate(options) if i != correct]
    if len(key(answer)) >= 4 and key(answer) in key(question):
        return "the question gives its answer away"
    longest = max(utf16_len(o) for o in wrong)
    if utf16_len(answer) > 20 and utf16_len(answer) > 2.5 * longest:
        return "the correct option is much longer than the wrong ones (a giveaway)"
    if _DIGIT.search(answer) and 2 * sum(bool(_DIGIT.search(o)) for o in wrong) < len(wrong):
        return "the wrong options of a number question must be numbers too"
    return None


def _explanation(raw: Any, quote: str, hit: SearchHit, lang: str) -> str:
    """The model's reason (or, when unusable, the quote) plus where the answer is."""
    where = place(hit.kind, hit.page, hit.start_s, lang)
    suffix = f" 📖 {where}"
    reason = _text(raw)
    if not reason or not in_language(reason, lang, words(hit.text)):
        reason = ("原文：" if lang == "zh" else "The source says: ") + f"“{quote}”"
    return clip(reason, MAX_EXPLANATION - utf16_len(suffix)) + suffix


def check_question(
    raw: Any, hits: Sequence[SearchHit], lang: str, avoid: Collection[str] = ()
) -> QuizQuestion | str:
    """``raw`` (one object of the model's reply) as a checked question, or why it fails.

    ``hits`` are the numbered snippets the model was given; ``avoid`` holds ``key``s of
    questions the student has had already.
    """
    language = "Chinese" if lang == "zh" else "English"
    if not isinstance(raw, dict):
        return "not a JSON object"
    question = _text(raw.get("question"))
    if not question:
        return "no question"
    if utf16_len(question) > MAX_QUESTION:
        return f"question longer than {MAX_QUESTION} characters"
    if key(question) in avoid:
        return "repeats an earlier question"
    n = _index(raw.get("snippet"), len(hits), 1)
    if n is None:
        return '"snippet" is not the number of a snippet given (no citation)'
    hit = hits[n - 1]
    snippet_words = set(words(hit.text))
    if not in_language(question, lang, snippet_words):
        return f"question not in {language}"
    options = raw.get("options")
    if not isinstance(options, list) or not MIN_OPTIONS <= len(options) <= MAX_OPTIONS:
        return f"needs {MIN_OPTIONS} to {MAX_OPTIONS} options"
    texts = [_text(o) for o in options]
    if not all(texts):
        return "an option is empty or not a text"
    if any(utf16_len(o) > MAX_OPTION for o in texts):
        return f"an option is longer than {MAX_OPTION} characters"
    if len({key(o) for o in texts}) < len(texts):
        return "two options are the same"
    if not all(_option_language(o, lang, snippet_words) for o in texts):
        return f"an option is not in {language}"
    correct = _index(raw.get("correct"), len(texts), 0)
    if correct is None:
        return '"correct" is not the 0-based index of an option'
    quote = _text(raw.get("quote"))
    if len(flat(quote)) < 3:
        return "no quote from the snippet"
    if flat(quote) not in flat(hit.text):
        return f"the quote is not in snippet {n}"
    support = [_support(o, quote, hit.text) for o in texts]
    if support[correct] < SUPPORT:
        return (
            f"the option marked correct (index {correct}) is not what the quote says (when the "
            "snippet is in another language, put its words for each option in brackets)"
        )
    also = [i for i, s in enumerate(support) if i != correct and s >= SUPPORT]
    if also:
        return f"the quote also states option {also[0]}, so two options are right"
    problem = _plausibility(question, texts, correct)
    if problem is not None:
        return problem
    difficulty = raw.get("difficulty")
    return QuizQuestion(
        question=question,
        options=tuple(texts),
        correct_option_id=correct,
        explanation=_explanation(raw.get("explanation"), quote, hit, lang),
        citations=build_citations([n], hits),
        difficulty=difficulty if difficulty in DIFFICULTIES else "medium",
    )
