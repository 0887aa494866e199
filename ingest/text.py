"""Text clean-up shared by the parsers: normalisation, line joining, sentences, headings.

Pure string functions (no pymupdf), so transcripts and tests can use them too. Chinese and
English are handled together: no space is put between CJK characters, one between Latin words.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Container, Iterable, Sequence

__all__ = [
    "is_cjk",
    "join_lines",
    "join_lines_at",
    "match_heading",
    "normalize_text",
    "split_sentences",
    "word_vocabulary",
]

# CJK ideographs, kana, hangul and CJK punctuation: the scripts written without spaces.
_CJK = (
    "\u2e80-\u2fdf\u3000-\u303f\u3040-\u30ff\u3100-\u312f\u3400-\u4dbf\u4e00-\u9fff"
    "\uac00-\ud7af\uf900-\ufaff\uff00-\uff0f\uff1a-\uff20\uff3b-\uff40\uff5b-\uff65"
)
_CJK_RE = re.compile(f"[{_CJK}]")
# Full-width punctuation is meaningful in Chinese text; NFKC would turn "，" into ",".
_KEEP_WIDE = re.compile("[\uff01-\uff0f\uff1a-\uff20\uff3b-\uff40\uff5b-\uff65]")
_INVISIBLE = re.compile("[\u00ad\u200b-\u200f\u2060\ufeff\x00-\x08\x0b-\x1f\x7f]")
_SPACES = re.compile(r"[^\S\n]+")
_CJK_GAP = re.compile(f"(?<=[{_CJK}]) (?=[{_CJK}])")
# "第8 章", "2019 年4 月" (TeX puts a space after numbers): glue a number to the CJK after it.
_NUM_CJK_GAP = re.compile(f"(?<![A-Za-z.,\\d])(\\d+) (?=[{_CJK}])|(?<=[{_CJK}]) (?=\\d)")


def is_cjk(ch: str) -> bool:
    """True for a CJK character or CJK punctuation mark."""
    return bool(_CJK_RE.match(ch))


def normalize_text(s: str) -> str:
    """NFKC (fixes Kangxi radicals like ⼤ and ligatures like ﬁ), keeping full-width punctuation,
    dropping invisible characters, collapsing spaces and removing spaces between CJK characters.
    Newlines are kept."""
    if not s:
        return ""
    parts: list[str] = []
    last = 0
    for m in _KEEP_WIDE.finditer(s):
        parts.append(unicodedata.normalize("NFKC", s[last : m.start()]))
        parts.append(m.group())
        last = m.end()
    parts.append(unicodedata.normalize("NFKC", s[last:]))
    out = _INVISIBLE.sub("", "".join(parts).replace("\t", " "))
    out = _SPACES.sub(" ", out)
    out = _CJK_GAP.sub("", out)
    out = _NUM_CJK_GAP.sub(lambda m: m.group(1) or "", out)
    return "\n".join(line.strip() for line in out.split("\n"))


_WORD = re.compile(r"[A-Za-z][A-Za-z-]*[A-Za-z]")
_HYPHEN_END = re.compile(r"([A-Za-z]+)[-\u2010]$")
_WORD_START = re.compile(r"^([a-z]+)(-?)")


def word_vocabulary(lines: Iterable[str]) -> set[str]:
    """Lower-cased words of a document, used to decide how to undo line-end hyphenation.

    A word cut at a line end ("trans-") is left out so it does not vouch for itself."""
    vocab: set[str] = set()
    for line in lines:
        words = _WORD.findall(line)
        if words and line.rstrip().endswith(("-", "\u2010")):
            words = words[:-1]
        vocab.update(w.lower() for w in words)
    return vocab


def _keep_hyphen(left: str, right: str, right_dash: str, prev: str, vocab: Container[str]) -> bool:
    if right_dash or prev.endswith("-"):
        return True  # "state-of-the-\nart", "English-\nto-German": a compound continues
    if (left + right).lower() in vocab:
        return False
    return f"{left}-{right}".lower() in vocab


def _glue(a: str, b: str) -> str:
    """Separator between two pieces of one paragraph: none around CJK, else a space."""
    if not a or not b:
        return ""
    return "" if is_cjk(a[-1]) or is_cjk(b[0]) else " "


def join_lines(lines: Sequence[str], vocab: Container[str] | None = None) -> str:
    """Join the wrapped lines of one paragraph into one line.

    "trans-" + "former" becomes "transformer" unless the document writes the hyphenated form
    ("self-attention"); CJK lines join without a space, Latin lines with one."""
    return join_lines_at(lines, vocab)[0]


def join_lines_at(
    lines: Sequence[str], vocab: Container[str] | None = None
) -> tuple[str, list[int]]:
    """``join_lines``, plus where each input line starts in the joined text (-1 for a blank
    line), so a position in the paragraph can be traced back to its printed line."""
    words: Container[str] = vocab if vocab is not None else ()
    out = ""
    starts: list[int] = []
    for raw in lines:
        line = raw.strip()
        if not line:
            starts.append(-1)
            continue
        if not out:
            starts.append(0)
            out = line
            continue
        m_end = _HYPHEN_END.search(out)
        m_start = _WORD_START.match(line)
        if m_end and m_start:
            before = out[: m_end.start()]
            prev = before.split()[-1] if before.split() else ""
            if _keep_hyphen(m_end.group(1), m_start.group(1), m_start.group(2), prev, words):
                starts.append(len(out))
                out += line
            else:
                starts.append(len(out) - 1)
                out = out[:-1] + line
            continue
        glue = _glue(out, line)
        starts.append(len(out) + len(glue))
        out += glue + line
    return out, starts


_ABBREV = frozenset(
    [
        "al",
        "e.g",
        "i.e",
        "etc",
        "fig",
        "figs",
        "eq",
        "eqs",
        "sec",
        "secs",
        "tab",
        "vs",
        "cf",
        "no",
        "nos",
        "ref",
        "refs",
        "approx",
        "resp",
        "dr",
        "mr",
        "mrs",
        "ms",
        "prof",
        "st",
        "vol",
        "pp",
        "p",
        "ch",
        "chap",
        "eds",
        "ed",
        "appx",
        "def",
        "thm",
        "lem",
        "prop",
        "jr",
        "sr",
        "inc",
        "ltd",
        "co",
    ]
)
_SENT_END = re.compile(r"[。！？；!?]+[”’」』）)\"']*|\.+[”’」』)\"']*(?=\s|$)")


def _is_sentence_end(text: str, m: re.Match[str]) -> bool:
    if not m.group().startswith("."):
        return True
    before = text[: m.start()]
    word = re.search(r"([A-Za-z.]+)$", before)
    if word:
        w = word.group(1).lower().rstrip(".")
        if w in _ABBREV or (len(w) == 1 and w.isalpha()):
            return False  # "et al.", "Fig.", an initial "J."
    if re.search(r"\d$", before) and not re.search(r"\s", text[m.end() : m.end() + 1]):
        return False
    nxt = text[m.end() :].lstrip()
    # A period followed by a lower-case word is usually an abbreviation, not an end.
    return not nxt or not nxt[0].islower()


def _split_long(sentence: str, max_len: int) -> list[str]:
    """Cut a sentence longer than ``max_len`` at clause marks or spaces, as evenly as we can."""
    pieces: list[str] = []
    rest = sentence
    while len(rest) > max_len:
        window = rest[:max_len]
        cut = max(window.rfind(c) for c in "，、,:：")
        if cut < max_len // 3:
            cut = window.rfind(" ")
        if cut < max_len // 3:
            cut = max_len - 1
        pieces.append(rest[: cut + 1].strip())
        rest = rest[cut + 1 :].strip()
    if rest:
        pieces.append(rest)
    return pieces


def split_sentences(s: str, max_len: int | None = None) -> list[str]:
    """Split text into sentences on 。！？；.!? (English abbreviations, initials and decimals
    are not ends). A blank line is always a boundary; a single newline is a wrapped line.
    With ``max_len``, a longer sentence is cut at commas or spaces."""
    out: list[str] = []
    for para in re.split(r"\n\s*\n", s):
        text = join_lines(para.split("\n"))
        start = 0
        for m in _SENT_END.finditer(text):
            if _is_sentence_end(text, m):
                out.append(text[start : m.end()].strip())
                start = m.end()
        out.append(text[start:].strip())
    sentences = [x for x in out if x]
    if max_len is None:
        return sentences
    return [piece for x in sentences for piece in _split_long(x, max_len)]


_NUMBERED = re.compile(
    r"^(?:(?:\d{1,2}(?:\.\d{1,2}){0,3})|[A-H](?:\.\d{1,2}){0,3}|[IVX]{1,4})\.?\s+(\S.*)$"
)
_CHAPTER = re.compile(r"^第\s*[0-9一二三四五六七八九十百]+\s*[章节篇部分]")
_NAMED = re.compile(
    r"^(abstract|introduction|related work|background|preliminaries|method|methods|methodology|"
    r"approach|experiments?|experimental setup|results|discussion|analysis|evaluation|"
    r"conclusions?|conclusions? and future work|future work|limitations|broader impacts?|"
    r"references|bibliography|acknowledg(?:e)?ments?|appendix|appendices|"
    r"摘\s*要|引\s*言|前\s*言|绪\s*论|结\s*论|总\s*结|参考文献|致\s*谢|附\s*录|习\s*题|"
    r"本章小结|相关工作|实验|讨论)[.:：]?$",
    re.IGNORECASE,
)


def match_heading(text: str) -> str | None:
    """The heading a line states ("3.2 Attention", "Abstract", "第8章 …"), or None.

    Only the shape of the text is checked; the PDF layer adds font evidence (bold, larger)."""
    t = text.strip()
    if not t or len(t) > 90 or t.endswith((",", "，", ";", "；", ":", "、")):
        return None
    if _NAMED.match(t):
        return t
    chapter = _CHAPTER.match(t)
    if chapter:  # "第3章注意力" -> "第3章 注意力": the CJK space rule ate the separator
        rest = t[chapter.end() :].strip()
        return f"{chapter.group().replace(' ', '')} {rest}".strip()
    m = _NUMBERED.match(t)
    if not m:
        return None
    title = m.group(1)
    first = title[0]
    if not (first.isupper() or is_cjk(first)) or len(title.split()) > 12:
        return None
    if title.endswith(".") and len(title.split()) > 6:
        return None  # a numbered sentence, not a heading
    if re.search(r"https?://|@|=", title) or re.fullmatch(r"[\d.\s%]+", title):
        return None
    return t
