"""A source's vocabulary read from its own text, without a model.

Three things a paper or transcript says about its terms, found by pattern:

- a Chinese term with its English name in brackets, as Chinese textbooks write them:
  "称为注意力分布（Attention Distribution）", "记忆网络（Memory Network，MN）";
- an English long form with its abbreviation: "reinforcement learning from human feedback
  (RLHF)" (the Schwartz-Hearst rule: the abbreviation's letters appear in order in the words
  before it, the first one starting a word);
- short section headings ("3.2.1 Scaled Dot-Product Attention", "8.1.3.3 多头注意力").

``text_terms`` is the fallback term list when no model can build one (and the model's list is
merged with it); ``term_excerpt`` is what the model is shown of the source to build its list.
``merge_terms`` joins term lists without duplicates. Pure string work: no pymupdf, no model.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence

from kernel.models import ParsedSource, Term

__all__ = ["defined_terms", "merge_terms", "term_excerpt", "term_key", "text_terms"]

MAX_TERMS = 120  # a source's term list, fallback or merged
_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
# 注意力分布（Attention Distribution）, 记忆网络（Memory Network，MN）, 门控(gating)
_ZH_EN = re.compile(
    rf"((?:[A-Za-z][A-Za-z0-9]*\s?)?[{_HAN}]{{2,}})\s*[（(]\s*([A-Za-z][A-Za-z0-9\- ’'/]{{1,60}}?)"
    r"\s*(?:[,，;；]\s*([A-Za-z][A-Za-z0-9\-]{0,11}))?\s*[)）]"
)
# Where a Chinese term starts inside a longer run: after the words that introduce a name.
_ZH_LEAD = re.compile(
    "称为|称作|叫做|叫作|也叫|就是|即为|简称|又称|也称|是指|基于|或者|一种|一个|这种|这个|很多|计算|产生"
    "|为|是|的|即|和|与|或|将|把|用|以|有|在|对|从"
)
# Headings that name a part of every paper, not a term of this one.
_GENERIC_HEADINGS = frozenset(
    re.findall(
        r"\S+",
        """abstract introduction background conclusion conclusions references acknowledgements
        acknowledgments appendix discussion limitations evaluation results experiments
        related-work future-work broader-impacts methods method dataset datasets training
        models model 参考文献 习题 总结 总结和深入阅读 摘要 引言 结论 附录 致谢""",
    )
)
_STOP = frozenset(re.findall(r"\S+", "of for from the and to with in on via by a an"))
_ABBR = re.compile(r"\(\s*([A-Za-z][A-Za-z0-9\-]{1,9})\s*\)")
_WORDS_BEFORE = re.compile(r"([A-Za-z][A-Za-z0-9\-’']*)")
_NUMBERING = re.compile(r"^\s*(?:第\s*\d+\s*章|[A-Z]?\d+(?:\.\d+)*\.?|[A-Z]\.)\s*")
_SENTENCE_END = re.compile(r"(?<=[.!?。！？])\s*")


def _norm(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).split())


def term_key(text: str) -> str:
    """How two spellings of a term are compared: case, width, hyphens and spaces folded."""
    return re.sub(r"[\s\-‐‑–_]+", "", unicodedata.normalize("NFKC", text).lower())


def _zh_name(run: str, english: str) -> str | None:
    """The Chinese term at the end of ``run`` that ``english`` names."""
    ends = [m.end() for m in _ZH_LEAD.finditer(run) if len(run) - m.end() >= 2]
    name = run[ends[-1] :] if ends else run
    half = len(name) // 2
    if len(name) % 2 == 0 and name[:half] == name[half:]:  # a margin heading glued on
        name = name[:half]
    words = len(english.split())
    if not name[0].isascii() and len(name) > max(4, 3 * words + 1):  # keep a term-sized tail
        name = name[-(2 * words + 1) :]
    return name if len(name) >= 2 else None


def _initials_form(words: Sequence[str], abbr: str) -> str | None:
    """The run of words whose initials spell the abbreviation ("proximal policy optimization
    (PPO)"; small words such as "from" may sit between; hyphens start words too)."""
    core = abbr[:-1] if abbr.endswith("s") and abbr[:-1].isupper() else abbr  # LMs
    letters = [c.lower() for c in core if c.isalnum()]
    tokens = [(i, t) for i, w in enumerate(words) for t in w.split("-") if t]
    li = len(letters) - 1
    for i, token in reversed(tokens):
        if li < 0:
            break
        if token[0].lower() == letters[li]:
            li -= 1
            if li < 0:
                return " ".join(words[i:])
        elif token.lower() not in _STOP:
            return None
    return None


def _long_form(words: Sequence[str], abbr: str) -> str | None:
    """Schwartz-Hearst: the shortest run of words ending before the brackets whose letters hold
    the abbreviation's in order, its first letter starting the first word."""
    letters = [c.lower() for c in abbr if c.isalnum()]
    if not letters or not any(c.isupper() for c in abbr):
        return None
    initials = _initials_form(words, abbr)
    if initials is not None:
        return initials if len(initials.split()) >= 2 or "-" in initials else None
    candidate = words[-min(len(words), len(letters) + 5) :]
    text = " ".join(candidate).lower()
    li, ti = len(letters) - 1, len(text) - 1
    while li >= 0:
        c = letters[li]
        while ti >= 0 and (text[ti] != c or (li == 0 and ti > 0 and text[ti - 1].isalnum())):
            ti -= 1
        if ti < 0:
            return None
        li, ti = li - 1, ti - 1
    start = text.rfind(" ", 0, ti + 1) + 1
    long_form = " ".join(candidate)[start:].strip(" -")
    if len(long_form.split()) < 2 or term_key(long_form) == term_key(abbr):
        return None
    return long_form


def defined_terms(text: str) -> list[Term]:
    """Terms the text defines: Chinese names with their English, long forms with abbreviations."""
    text = unicodedata.normalize("NFKC", text)
    found: list[Term] = []
    for m in _ZH_EN.finditer(text):
        english = re.sub(r"- ", "-", _norm(m.group(2))).strip(" -")
        zh = _zh_name(m.group(1), english)
        if zh is None or len(english) < 2:
            continue
        abbr = m.group(3)
        aliases = (abbr,) if abbr and abbr.upper() == abbr else ()
        if english.isupper() and " " not in english:  # 检索增强生成（RAG）: an abbreviation
            found.append(Term(zh=zh, aliases=(english,)))
        else:
            found.append(Term(en=english, zh=zh, aliases=aliases))
    for sentence in _SENTENCE_END.split(text):
        for m in _ABBR.finditer(sentence):
            abbr = m.group(1)
            before = _WORDS_BEFORE.findall(sentence[: m.start()])
            long_form = _long_form(before, abbr) if before else None
            if long_form is not None:
                found.append(Term(en=long_form, aliases=(abbr,)))
    return found


def _heading_term(section: str) -> Term | None:
    title = _NUMBERING.sub("", _norm(section)).strip(" .:：")
    if not title or len(title) > 60 or any(c.isdigit() for c in title[:1]):
        return None
    if title.lower().replace(" ", "-") in _GENERIC_HEADINGS or title in _GENERIC_HEADINGS:
        return None
    if re.search(f"[{_HAN}]", title):
        return Term(zh=title) if len(title) <= 12 else None
    words = title.split()
    if not 1 <= len(words) <= 6 or not title[0].isalpha():
        return None
    return Term(en=title)


def merge_terms(*lists: Iterable[Term], limit: int = MAX_TERMS) -> tuple[Term, ...]:
    """One list without duplicates (same English or same Chinese name): the first list's names
    win, the others fill in what it lacks; aliases are pooled. At most ``limit`` terms."""
    merged: list[Term] = []
    index: dict[str, int] = {}
    for terms in lists:
        for term in terms:
            keys = [f"en:{term_key(term.en)}" if term.en else "", f"zh:{term_key(term.zh or '')}"]
            keys = [k for k in keys if k and not k.endswith(":")]
            keys += [f"alias:{term_key(a)}" for a in term.aliases if not term.en and not term.zh]
            at = next((index[k] for k in keys if k in index), None)
            if at is None:
                if len(merged) >= limit or not keys:
                    continue
                merged.append(term)
                at = len(merged) - 1
            else:
                old = merged[at]
                aliases = tuple(dict.fromkeys([*old.aliases, *term.aliases]))
                merged[at] = Term(en=old.en or term.en, zh=old.zh or term.zh, aliases=aliases)
            new = merged[at]
            for key in (f"en:{term_key(new.en or '')}", f"zh:{term_key(new.zh or '')}"):
                if not key.endswith(":"):
                    index.setdefault(key, at)
    return tuple(merged)


def text_terms(parsed: ParsedSource) -> tuple[Term, ...]:
    """The source's term list read from its text: defined terms first, then headings."""
    defined: list[Term] = []
    headings: list[Term] = []
    for chunk in parsed.chunks:
        defined += defined_terms(chunk.text)
        heading = _heading_term(chunk.section) if chunk.section else None
        if heading is not None:
            headings.append(heading)
    return merge_terms(defined, headings)


def term_excerpt(parsed: ParsedSource, limit: int = 6000) -> str:
    """What a model sees of the source to list its terms: title, abstract, headings, then
    passages spread evenly over the source, within ``limit`` characters."""
    parts = [f"Title: {parsed.title}"]
    if parsed.paper is not None and parsed.paper.abstract:
        parts.append(f"Abstract: {_norm(parsed.paper.abstract)[:1500]}")
    sections = list(dict.fromkeys(c.section for c in parsed.chunks if c.section))
    if sections:
        parts.append("Sections: " + "; ".join(_norm(s) for s in sections)[:1500])
    head = "\n".join(parts)
    room = limit - len(head)
    chunks = parsed.chunks
    if room <= 200 or not chunks:
        return head[:limit]
    count = min(len(chunks), max(1, room // 400))
    step = len(chunks) / count
    passage = max(100, room // count - 10)
    picked = [chunks[int(i * step)] for i in range(count)]
    body = "\n…\n".join(_norm(c.text)[:passage] for c in picked)
    return f"{head}\nPassages:\n{body}"[:limit]
