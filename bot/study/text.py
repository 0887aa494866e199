"""Small text tools the study features share: comparing texts, finding a citation's chunk,
naming where a snippet is, and telling whether a short text is in the chat's language.

Words are the search index's words (``storage.embedding.sparse.tokenize``: English words folded
to the singular, stopwords dropped, Chinese as character bigrams), so "heads" matches "head" and
"自注意力" matches inside "自注意力模型" here exactly as they do in search.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable, Sequence
from typing import Any

from bot.model_output import strip_reasoning
from kernel.language import has_cjk, text_language
from kernel.locators import where
from kernel.models import Citation, SearchHit, SourceKind
from storage.embedding.sparse import tokenize

__all__ = [
    "clip",
    "flat",
    "in_language",
    "json_in",
    "key",
    "locate",
    "one_line",
    "place",
    "utf16_len",
    "words",
]

_NOT_WORD = re.compile(r"[\W_]+")


def json_in(reply: str, field: str) -> list[Any] | None:
    """The list a model's JSON reply holds under ``field`` (or the reply as a bare list),
    read past a reasoning block, prose or a code fence around it; None when there is none."""
    text = strip_reasoning(reply).strip()
    starts = [i for i in (text.find("{"), text.find("[")) if i >= 0]
    if not starts:
        return None
    end = max(text.rfind("}"), text.rfind("]"))
    try:
        data = json.loads(text[min(starts) : end + 1])
    except ValueError:
        return None
    if isinstance(data, dict) and isinstance(data.get(field), list):
        return list(data[field])
    return list(data) if isinstance(data, list) else None


def utf16_len(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units: an emoji counts two)."""
    return len(text.encode("utf-16-le")) // 2


def one_line(text: str) -> str:
    """Whitespace (newlines included) collapsed to single spaces."""
    return " ".join(text.split())


def clip(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` UTF-16 units, with "…" when it was cut."""
    if utf16_len(text) <= limit:
        return text
    cut = text
    while cut and utf16_len(cut) > limit - 1:
        cut = cut[:-1]
    return cut.rstrip(" ,.;:，。；：、") + "…"


def flat(text: str) -> str:
    """Casefolded words separated by single spaces, punctuation gone: for "is this quote in
    that snippet" checks that forgive spacing, quotes and dashes."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return " ".join(_NOT_WORD.sub(" ", folded).split())


def key(text: str) -> str:
    """``text`` reduced to its letters and digits: equal keys mean the same option or term."""
    return _NOT_WORD.sub("", unicodedata.normalize("NFKC", text).casefold())


def words(text: str) -> list[str]:
    """The search index's words of ``text`` (see the module docstring)."""
    return tokenize(text)


def in_language(text: str, lang: str, allowed: Iterable[str] = ()) -> bool:
    """Whether a short text is written in ``lang`` ("zh" or "en").

    Chinese: it has Chinese characters and they outweigh the English words (English terms in
    a Chinese sentence are fine). English: no Chinese, except words of ``allowed`` (e.g. a
    Chinese term quoted from a Chinese paper).
    """
    if lang == "zh":
        return has_cjk(text) and text_language(text) == "zh"
    if not has_cjk(text):
        return True
    source = set(allowed)
    cjk = [w for w in words(text) if not w[0].isascii()]
    rest = re.sub(r"[\u3400-\u9fff\uf900-\ufaff]+", " ", text)
    return all(w in source for w in cjk) and bool(re.search(r"[A-Za-z]{2,}", rest))


def place(kind: SourceKind, page: int | None, start_s: float | None, lang: str) -> str:
    """Where a snippet is, for the student: 论文第 5 页 / paper p. 5, 视频 12:34 / video 12:34."""
    at = where(kind, page=page, start_s=start_s, lang=lang)
    if kind is SourceKind.VIDEO:
        return at
    paper = "论文" if lang == "zh" else "paper"
    return f"{paper}{at}" if lang == "zh" else f"{paper} {at}".strip()


def locate(citation: Citation, chunks: Sequence[SearchHit]) -> SearchHit | None:
    """The chunk a citation quotes (its snippet is the chunk's text, trimmed), or None."""
    quoted = one_line(citation.snippet).removesuffix("…").strip()
    if not quoted:
        return None
    for chunk in chunks:
        if chunk.source_id != citation.source_id:
            continue
        if citation.kind is SourceKind.VIDEO and citation.start_s != chunk.start_s:
            continue
        if citation.kind is SourceKind.PAPER and citation.page not in (None, chunk.page):
            continue
        if one_line(chunk.text).startswith(quoted[: max(20, len(quoted) - 5)]):
            return chunk
    return None
