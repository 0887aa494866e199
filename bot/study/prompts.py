"""The study tools' prompts (quiz, glossary) and the templates of the next-step questions.

Named constants, like ``bot.prompts``. Document text reaches the model only as numbered
``<snippet>`` blocks (``bot.prompts.format_snippets``); earlier quiz questions and the terms of
the notes are fenced in tags of their own (``fence``) and the prompts say all of it is data.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.fence import DATA_RULE
from bot.fence import fence as fence_text

__all__ = [
    "GLOSSARY_SYSTEM",
    "GLOSSARY_USER",
    "NEXT_SECTION",
    "NEXT_TERM",
    "NEXT_VIDEO",
    "QUIZ_AVOID",
    "QUIZ_FOCUS",
    "QUIZ_REPAIR",
    "QUIZ_SYSTEM",
    "QUIZ_USER",
    "fence",
]


def fence(tag: str, lines: Sequence[str]) -> str:
    """``lines`` as a bulleted block fenced by ``bot.fence`` (``<tag>`` … ``</tag>``)."""
    return fence_text(tag, "\n".join("- " + " ".join(line.split()) for line in lines))


# -- quiz ------------------------------------------------------------------------------------

QUIZ_SYSTEM = """\
You write multiple-choice quiz questions that let a beginner check what they learned from one \
research paper and one lecture video. You use only the numbered snippets given: never ask \
what the snippets do not answer.

Rules for every question:
- Write the question, the options and the explanation in the language the request names.
- Exactly one option is correct, and a snippet states it. In "quote", copy the shortest exact \
words of that snippet (verbatim, in the snippet's own language, at most 30 words) that state \
the correct answer. The quote must not also state a wrong option.
- Give 4 options, each under 80 characters, all different and all plausible to a beginner \
(the same kind of thing as the answer: numbers for a number, methods for a method). No "all \
of the above" or "none of the above".
- When the snippet's language differs from the quiz language, put the snippet's own words \
for each option in brackets, e.g. 自注意力（self-attention）; numbers stay numbers.
- "explanation": one short sentence (under 100 characters) saying why the answer is right.
- Mix difficulties: "easy" (a fact stated once), "medium" (how or why), "hard" (comparing \
or applying ideas).

Reply with JSON only, no prose, no code fence:
{"questions": [{"question": "...", "options": ["...", "...", "...", "..."], "correct": 0, \
"snippet": 1, "quote": "...", "explanation": "...", "difficulty": "easy"}]}
"correct" is the 0-based index of the correct option; "snippet" is the number of the snippet \
the quote is copied from.

"""
QUIZ_SYSTEM += DATA_RULE

QUIZ_USER = """\
Snippets (quoted data, numbered):

{snippets}

{focus}{avoid}Write {count} questions in {language}. Reply with JSON only."""

QUIZ_FOCUS = """\
The student answered these questions wrongly before (quoted data). Ask about the same ideas \
again in new words:
{missed}

"""

QUIZ_AVOID = """\
Do not repeat these earlier questions (quoted data):
{earlier}

"""

QUIZ_REPAIR = """\
Some questions could not be used:
{problems}

Write {count} new questions in {language} from the same snippets, following every rule. Do \
not repeat the ones that were accepted. Reply with JSON only."""

# -- glossary --------------------------------------------------------------------------------

GLOSSARY_SYSTEM = """\
You write a bilingual glossary for a beginner who reads one research paper and watches one \
lecture video. For each numbered term, write a one-line explanation (one sentence, under 60 \
Chinese characters or 25 English words) in the language the request names, using only what \
the numbered snippets say about the term, and give the number of the snippet you used. If \
the term's Chinese or English name is missing, give the standard one. If no snippet explains \
the term, give an empty explanation.

Reply with JSON only, no prose, no code fence:
{"terms": [{"id": 1, "en": "...", "zh": "...", "explanation": "...", "snippet": 1}]}

"""
GLOSSARY_SYSTEM += DATA_RULE

GLOSSARY_USER = """\
Snippets (quoted data, numbered):

{snippets}

Terms (quoted data: id. English / Chinese, and the snippets where the student met them):
{terms}

Write the explanations in {language}. Reply with JSON only."""

# -- next steps after an answer (no model: filled in by code) ----------------------------------

NEXT_SECTION = {
    "zh": "论文接下来的“{title}”部分讲了什么？",
    "en": "What does the paper's part “{title}” explain?",
}
NEXT_VIDEO = {
    "zh": "视频 {at} 之后讲到的 {term} 是什么？",
    "en": "What does the video say about {term} after {at}?",
}
NEXT_TERM = {
    "zh": "{term} 是什么意思？",
    "en": "What does {term} mean?",
}
