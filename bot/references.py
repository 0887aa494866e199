"""Whether a question is about the paper's bibliography ("which paper is [12]?").

Search leaves the reference list out of ordinary answers (it is not prose to quote); a
question about a reference searches it too.
"""

from __future__ import annotations

import re

__all__ = ["asks_about_references"]

_REFERENCE_QUESTION = re.compile(
    r"\[\s*\d{1,3}\s*\]|［\s*\d{1,3}\s*］|【\s*\d{1,3}\s*】|参考文献|引用了?哪|哪篇(?:论文|文章|文献)|"
    r"\b(?:references?|bibliography|citations?|cited|cites?)\b|\bwhich (?:paper|work|article)\b",
    re.I,
)


def asks_about_references(question: str) -> bool:
    """True for "[12] 是哪篇论文？", "Which paper is reference 12?", "参考文献里有哪些…"."""
    return _REFERENCE_QUESTION.search(question) is not None
