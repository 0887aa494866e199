"""The text side of the support check: sentences with their markers, numbers, shared words.

Pure functions, no model. ``split_sentences`` cuts an answer or a report section into sentences
(Chinese and English) and keeps each citation marker with the sentence it belongs to, whether
the model wrote it before the stop (``……训练[1]。``) or after it (``… training. [1]``).
``numbers`` reads the figures a sentence states (digits, Chinese and English number words,
万/亿/k/million, fractions) so a figure the snippet does not contain can veto support;
``coverage`` measures how much of a sentence's vocabulary the snippet holds, after the key terms
of the question have been added in the snippet's language (the bridge between a Chinese sentence
and an English paper).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from kernel.language import has_cjk
from kernel.models import Term
from storage.embedding.sparse import tokenize

__all__ = [
    "Sentence",
    "coverage",
    "join_sentences",
    "numbers",
    "split_sentences",
    "with_markers",
]

_STOP = "。！？；!?"
_CLOSERS = '”’"」』）)'
# A period ends an English sentence unless it ends an abbreviation, an initial or a number.
_ABBREVIATIONS = frozenset(
    [
        "e.g",
        "i.e",
        "al",
        "etc",
        "vs",
        "fig",
        "figs",
        "eq",
        "eqs",
        "no",
        "nos",
        "p",
        "pp",
        "sec",
        "ch",
        "ref",
        "refs",
        "approx",
        "cf",
        "resp",
        "dr",
        "mr",
        "ms",
    ]
)


@dataclass(frozen=True)
class Sentence:
    """One sentence as written (``raw``, markers included) and what the check needs of it.

    ``markers`` are the marker strings in order of appearance; ``text`` is the sentence without
    them (what is scored); ``paragraph`` numbers the line it stands on.
    """

    raw: str
    text: str
    markers: tuple[str, ...]
    paragraph: int


def _is_period_end(text: str, i: int) -> bool:
    """Whether the "." at ``text[i]`` ends a sentence."""
    after = text[i + 1 : i + 2]
    if after and not (after.isspace() or after in _CLOSERS or after in "[［【"):
        return False  # "28.4", "e.g.x", "dk.1"
    word = re.search(r"([A-Za-z.]+)$", text[:i])
    if word is None:
        return True
    token = word.group(1).lower().strip(".")
    return token not in _ABBREVIATIONS and not re.fullmatch(r"[a-z]", token)


def split_sentences(text: str, marker: re.Pattern[str]) -> list[Sentence]:
    """The sentences of ``text``, paragraph by paragraph, each with its own markers.

    A marker group right after a stop belongs to the sentence that stop ends. Joining the
    ``raw`` parts of each paragraph gives the paragraph back (see ``join_sentences``).
    """
    out: list[Sentence] = []
    for number, line in enumerate(text.split("\n")):
        start = 0
        i = 0
        while i < len(line):
            ch = line[i]
            if ch in _STOP or (ch == "." and _is_period_end(line, i)):
                end = i + 1
                while end < len(line) and (line[end] in _STOP or line[end] in _CLOSERS):
                    end += 1
                while True:  # markers (and the spaces before them) after the stop
                    found = marker.match(line, end + len(line[end:]) - len(line[end:].lstrip()))
                    if found is None:
                        break
                    end = found.end()
                while end < len(line) and line[end] in " \t":
                    end += 1
                out.append(_sentence(line[start:end], marker, number))
                start = i = end
                continue
            i += 1
        if start < len(line) or not line:
            out.append(_sentence(line[start:], marker, number))
    return out


def _sentence(raw: str, marker: re.Pattern[str], paragraph: int) -> Sentence:
    found = tuple(m.group(0) for m in marker.finditer(raw))
    bare = marker.sub("", raw)
    bare = re.sub(r"[ \t]+([，。；：！？、,.;:!?])", r"\1", bare)
    return Sentence(raw=raw, text=" ".join(bare.split()), markers=found, paragraph=paragraph)


def with_markers(sentence: Sentence, markers: Sequence[str], marker: re.Pattern[str]) -> Sentence:
    """``sentence`` citing ``markers`` instead of what it cited: where its first marker stood,
    else just before its final stop (``……训练[1]。``, ``… training [1].``)."""
    raw = sentence.raw
    first = marker.search(raw)
    if first is not None:
        at = first.start()
        while at > 0 and raw[at - 1] in " \t":
            at -= 1
        head, tail = raw[:at], marker.sub("", raw[at:])
    else:
        body = raw.rstrip()
        end = re.search(rf"[{_STOP}.{_CLOSERS}]*$", body)
        cut = end.start() if end is not None else len(body)
        head, tail = body[:cut], raw[cut:]
    tail = re.sub(r"^[ \t]+(?=[，。；：！？、,.;:!?])", "", tail)
    glue = " " if markers and head and head[-1].isascii() and not head[-1].isspace() else ""
    if not markers:
        glue = ""
    new_raw = head + glue + "".join(markers) + tail
    new_raw = re.sub(r"[ \t]{2,}", " ", new_raw)
    return replace(sentence, raw=new_raw, markers=tuple(markers))


def join_sentences(sentences: Iterable[Sentence]) -> str:
    """The text back from its (edited) sentences, one line per paragraph."""
    lines: dict[int, list[str]] = {}
    for s in sentences:
        lines.setdefault(s.paragraph, []).append(s.raw)
    if not lines:
        return ""
    return "\n".join("".join(lines.get(n, [])).rstrip() for n in range(max(lines) + 1))


# -- numbers ------------------------------------------------------------------------------------

_CN_DIGITS = {"〇": 0, "零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5}
_CN_DIGITS |= {"六": 6, "七": 7, "八": 8, "九": 9}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000}
_SCALES = {"万": 1e4, "亿": 1e8, "k": 1e3, "thousand": 1e3, "m": 1e6, "million": 1e6}
_SCALES |= {"b": 1e9, "billion": 1e9}
_EN = "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen"
_EN_WORDS = {w: i for i, w in enumerate((_EN + " fifteen sixteen seventeen").split())}
_EN_WORDS |= {"eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40}
_EN_WORDS |= {"fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90}
_EN_WORDS |= {"hundred": 100}
_EN_ALTERNATION = "|".join(sorted(_EN_WORDS, key=len, reverse=True))
_NUMBER = re.compile(
    r"(?<![A-Za-zα-ωΑ-Ω\d.])(?<![A-Za-z]-)(\d+(?:,\d{3})*(?:\.\d+)?)\s*"
    r"(k|K|M|B|thousand|million|billion|万|亿)?(?![A-Za-z\d])"
    r"|(?<!第)([一二两三四五六七八九十百千][〇零一二两三四五六七八九十百千]*)\s*(万|亿)?"
    rf"|\b({_EN_ALTERNATION})\b(?:\s+(thousand|million|billion))?",
    re.IGNORECASE,
)
_FRACTION = re.compile(
    r"([一二两三四五六七八九十\d]+)分之([一二三四五六七八九十\d]+)|一半"
    r"|\b(?:a|one)\s+(half|third|quarter|fourth|fifth|tenth)\b|\bhalf\b"
    r"|(?<![\d.])(\d)/(\d{1,2})(?![\d/])",
    re.IGNORECASE,
)
_DENOMINATORS = {"half": 2, "third": 3, "quarter": 4, "fourth": 4, "fifth": 5, "tenth": 10}
# Ordinals and enumerations name positions, not facts: "第一步", "一是…二是…", "要点三", "Step 2".
_ORDINAL = re.compile(
    r"第[〇零一二两三四五六七八九十百千\d]+|[一二三四五六七八九十]是|要点[一二三四五六七八九十]+"
    r"|\bstep\s*\d+",
    re.IGNORECASE,
)


def _chinese_value(text: str) -> int:
    section, digit = 0, 0
    for ch in text:
        if ch in _CN_DIGITS:
            digit = _CN_DIGITS[ch]
        elif ch in _CN_UNITS:
            section += (digit or 1) * _CN_UNITS[ch]
            digit = 0
    return section + digit


def _integer(text: str) -> int:
    return int(text) if text.isdigit() else _chinese_value(text)


def _fraction(match: re.Match[str]) -> float:
    if match.group(1):
        return _integer(match.group(2)) / max(1, _integer(match.group(1)))
    if match.group(3):
        return 1 / _DENOMINATORS[match.group(3).lower()]
    if match.group(4):
        return int(match.group(4)) / max(1, int(match.group(5)))
    return 0.5


def numbers(text: str) -> frozenset[float]:
    """The quantities ``text`` states, as values: "13 亿" = "1.3B", "十二" = "twelve" = 12.

    0 and 1 are left out ("一个向量" is "a vector", "从零开始" is "from scratch"), and so are
    ordinals; digits inside names ("GPT-3", "P100", "β1") are not quantities.
    """
    text = _ORDINAL.sub(" ", unicodedata.normalize("NFKC", text))
    found: set[float] = set()
    for match in _FRACTION.finditer(text):
        found.add(round(_fraction(match), 4))
    text = _FRACTION.sub(" ", text)
    for match in _NUMBER.finditer(text):
        if match.group(1):
            value = float(match.group(1).replace(",", ""))
            scale = match.group(2) or ""
            value *= _SCALES.get(scale if scale in "万亿" else scale.lower(), 1) if scale else 1
        elif match.group(3):
            value = _chinese_value(match.group(3)) * (
                _SCALES[match.group(4)] if match.group(4) else 1
            )
        else:
            value = _EN_WORDS[match.group(5).lower()]
            value *= _SCALES[match.group(6).lower()] if match.group(6) else 1
        if value not in (0, 1):
            found.add(round(value, 6))
    return frozenset(found)


# -- shared vocabulary --------------------------------------------------------------------------

# "d_k", "d_{model}", "W^Q" are written "dk", "dmodel", "WQ" in extracted PDF text.
_SUBSCRIPT = re.compile(r"([A-Za-z])\s*[_^]\s*(?:\{\s*([A-Za-z0-9]+)\s*\}|([A-Za-z0-9]+))")


def _words(text: str) -> set[str]:
    text = _SUBSCRIPT.sub(lambda m: m.group(1) + (m.group(2) or m.group(3)), text)
    return {t for t in tokenize(text) if not t.isdigit()}


def _bridged(sentence: str, terms: Sequence[Term]) -> str:
    """The sentence plus each key term it uses, in the term's other language."""
    extra: list[str] = []
    lower = sentence.lower()
    for term in terms:
        if not (term.en and term.zh):
            continue
        if term.zh in sentence and term.en.lower() not in lower:
            extra.append(term.en)
        if term.en.lower() in lower and term.zh not in sentence:
            extra.append(term.zh)
    return " ".join([sentence, *extra])


def coverage(sentence: str, snippet: str, terms: Sequence[Term] = ()) -> float:
    """Share of the sentence's words found in the snippet, shrunk towards 0 for short evidence.

    Only words the snippet could hold count: a Chinese sentence's English terms against an
    English snippet, its Chinese words against a Chinese one. ``hits / (n + 1)``: one shared
    word is weak evidence (0.5), five of five strong (0.83).
    """
    mine = _words(_bridged(sentence, terms))
    theirs = _words(snippet)
    latin = re.search(r"[A-Za-z]{2}", snippet) is not None
    cjk = has_cjk(snippet)
    usable = {w for w in mine if (latin if w[0].isascii() else cjk)}
    if not usable:
        return 0.0
    return len(usable & theirs) / (len(usable) + 1)
