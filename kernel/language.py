"""Which language a text is in: the one home of language detection.

The product speaks two languages (``"zh"``, ``"en"``). Four questions are asked of a text, each
with its own function, all judged by script (CJK characters against Latin words), never by a
model:

- ``question_language``: a question is Chinese as soon as it has one Chinese character
  ("DPO是什么？" is a Chinese question);
- ``text_language``: the main language of a longer text (a Chinese answer keeps English terms);
- ``message_language``: a chat message's language, or None when it says too little to tell
  (a link, "ok", a number) and the chat's language should decide;
- ``transcript_language``: a transcript's language, only when the script makes it obvious
  (Latin script alone could be French or pinyin).
"""

from __future__ import annotations

import re
from typing import Literal

__all__ = [
    "Lang",
    "has_cjk",
    "message_language",
    "question_language",
    "text_language",
    "transcript_language",
]

Lang = Literal["zh", "en"]

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN_WORD = re.compile(r"[A-Za-z]{2,}")
_LATIN_RUN = re.compile(r"[A-Za-z]+")
# Frequent English function words: Latin script alone could be French or pinyin.
_EN_COMMON = re.compile(r"(?:the|a|an|and|of|to|is|in|it|that|you|this|we|for|on|with|are|be)")
# Links, @mentions and /commands say nothing about the language the student writes in.
_NOT_WORDS = re.compile(r"(?:https?://|www\.)\S+|\b[\w.-]+\.(?:com|tv|cn|org|net|be)/\S*|[@/]\w+")


def has_cjk(text: str) -> bool:
    """Whether ``text`` holds at least one Chinese character."""
    return _CJK.search(text) is not None


def question_language(text: str) -> Lang:
    """ "zh" if the question contains Chinese characters, else "en"."""
    return "zh" if has_cjk(text) else "en"


def text_language(text: str) -> Lang:
    """The main language of a longer text: Chinese answers keep English terms, and vice versa."""
    return "zh" if len(_CJK.findall(text)) >= len(_LATIN_WORD.findall(text)) else "en"


def message_language(text: str | None) -> Lang | None:
    """ "zh" for text with Chinese characters, "en" for English words, None when unclear.

    Links, @mentions and /commands are left out first: a bare YouTube link is not English.
    """
    if not text:
        return None
    text = _NOT_WORDS.sub(" ", text)
    if has_cjk(text):
        return "zh"
    if len(_LATIN_WORD.findall(text)) >= 2:
        return "en"
    return None


def transcript_language(text: str) -> Lang | None:
    """ "zh" or "en" when the script makes it obvious, else None (never a guess beyond that)."""
    sample = text[:20000]
    cjk = len(_CJK.findall(sample))
    words = _LATIN_RUN.findall(sample)
    latin = sum(len(w) for w in words)
    if cjk >= 20 and cjk >= 0.3 * (cjk + latin):
        return "zh"
    common = sum(1 for w in words if _EN_COMMON.fullmatch(w.lower()))
    if len(words) >= 20 and cjk < 0.02 * latin and common >= 0.15 * len(words):
        return "en"
    return None
