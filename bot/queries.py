"""From a question to search queries without a model: term expansion and follow-up context.

The sources' term lists (``bot.glossary``) name each key term in English and Chinese with its
abbreviations and symbols; ``bot.vocabulary`` adds the everyday words of such questions.
``plan_queries`` finds the terms a question names and writes it again in each language of the
sources (the question with its terms replaced: "什么是多头注意力?" -> "what is Multi-Head
Attention ?"), adds the previous question when this one refers back to it ("那它为什么…",
"And on English-to-French?"), and says whether that is enough to search with: a question in
another language than the sources of which the code could translate nothing cannot be searched
without the model's rewrite (``QueryPlan.needs_rewrite``). ``weak_result`` judges the hits of a
code-built search: when none of them contains a word of the question's terms in the sources'
language, the model's rewrite is worth its wait. Both rules were chosen by measurement
(``scripts/eval_queries.py``; BENCHMARKS.md, "Retrieval without a model call").
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bot.vocabulary import FRAME, GENERAL
from ingest.terms import term_key
from kernel.language import has_cjk, question_language, text_language
from kernel.models import SearchHit, SourceRecord, Term, Turn
from storage.embedding.sparse import STOPWORDS, tokenize

__all__ = [
    "QueryPlan",
    "find_terms",
    "plan_queries",
    "refers_back",
    "source_language",
    "weak_result",
]

MAX_FOLLOWED = 2  # previous questions a chain of follow-ups may reach back to
SHORT_ZH, SHORT_EN = 8, 4  # a question this short (CJK characters / words) leans on context

# Words that point back at something said before.
_BACK_ZH = re.compile(
    r"它|它们|他们|她们|这个|那个|这种|那种|这些|那些|这样|那样|这里|那里|其中|该方法|该模型|上面|上述|"
    r"刚才|前面|之前|那么|那它|还有|此外|另外|呢[？?]?$|^那|^为什么[？?]?$|^怎么"
)
_BACK_EN = re.compile(
    r"\b(?:it|its|it's|they|them|their|this|that|these|those|such|he|she|him|her|there|"
    r"the same|the other|one)\b|^(?:and|but|so|also|then|what about|how about|why|how come)\b",
    re.IGNORECASE,
)
_LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z0-9_\-^]*")
_FOLD = re.compile(r"[\s\-‐‑–_]+")


@dataclass(frozen=True)
class QueryPlan:
    """What the code can search with before any model call.

    ``queries``: the texts to search (the question first). ``terms``: the sources' terms the
    question names (for the note), in the order they appear. ``followed``: previous questions
    this one was read together with. ``needs_rewrite``: the code could not put the question into
    the sources' language, so only the model's rewrite can find its passages.
    """

    queries: tuple[str, ...]
    terms: tuple[Term, ...]
    followed: tuple[str, ...] = ()
    needs_rewrite: bool = False
    source_words: frozenset[str] = frozenset()

    @property
    def meaning_queries(self) -> tuple[str, ...]:
        """The texts searched by meaning (a dense vector each) as well as by their words.

        When the code wrote the question again (in the sources' language, with its terms, or
        with the conversation it leans on), those versions; the question as typed is then
        searched by its words only. Its meaning is in the versions already, and on its own it
        is either in another language than the sources or missing what "it" refers to: a
        vector of it added noise to the fusion. Measured (``scripts/eval_queries.py``,
        BENCHMARKS.md "Retrieval without a model call"): R@5 as good or better in every
        scenario with both embedders, and one embedding fewer per question on the way to the
        first words."""
        return self.queries[1:] or self.queries


def source_language(source: SourceRecord) -> str:
    """Two-letter language of a source: the transcript's, else judged from title + abstract."""
    if source.video and source.video.language:
        return source.video.language[:2]
    sample = source.title + " " + (source.paper.abstract or "" if source.paper else "")
    return text_language(sample)


def _fold(text: str) -> str:
    """Lowercase, NFKC, hyphens/underscores/space runs as one space (for matching)."""
    return _FOLD.sub(" ", unicodedata.normalize("NFKC", text).lower()).strip()


def _names(term: Term) -> list[str]:
    return [n for n in (term.en, term.zh, *term.aliases) if n]


def _occurrences(text: str, name: str) -> list[tuple[int, int, bool]]:
    """Where ``name`` occurs in ``text`` (folded): (start, end, exact). A Chinese name also
    matches by its tail when the question shortens it ("前馈网络" for "逐位置前馈网络": the head
    noun comes last in Chinese), the tail being at least three characters and half the name."""
    matcher = _matcher(name)
    return matcher(text) if matcher is not None else []


_Matcher = Callable[[str], list[tuple[int, int, bool]]]


@functools.lru_cache(maxsize=16384)
def _matcher(name: str) -> _Matcher | None:
    """How to find ``name`` in a folded text, prepared once per name: a paper's term list
    (hundreds of names) would otherwise recompile its patterns on every question, since
    ``re``'s own cache keeps 512."""
    key = _fold(name)
    if len(key) < 2 or (not has_cjk(key) and len(key.replace(" ", "")) < 2):
        return None
    if has_cjk(key):
        tails = [
            key[cut:]
            for cut in range(1, len(key) - max(3, (len(key) + 1) // 2) + 1)
            if has_cjk(key[cut])
        ]

        def cjk(text: str) -> list[tuple[int, int, bool]]:
            found = [(a, a + len(key), True) for a in _starts(text, key)]
            for tail in tails:
                found += [(a, a + len(tail), False) for a in _starts(text, tail)]
            return found

        return cjk
    # Latin names match whole words only ("RM" is not in "format").
    pattern = re.compile(rf"(?<![a-z0-9]){re.escape(key)}(?:s|es)?(?![a-z0-9])")
    return lambda text: [(m.start(), m.end(), True) for m in pattern.finditer(text)]


def _starts(text: str, part: str) -> list[int]:
    """Start of every non-overlapping occurrence of ``part`` in ``text`` (as ``re.finditer``)."""
    out: list[int] = []
    at = text.find(part)
    while at >= 0:
        out.append(at)
        at = text.find(part, at + len(part))
    return out


def find_terms(text: str, terms: Sequence[Term]) -> list[tuple[Term, int, int]]:
    """The terms ``text`` names, each with the span of its first mention (in the folded text),
    longest first where names overlap ("多头注意力" wins over "注意力"; a whole name over the
    tail of a longer one), in text order."""
    folded = _fold(text)
    found: list[tuple[int, int, bool, int, Term]] = []
    for order, term in enumerate(terms):
        for name in _names(term):
            found += [(a, b, exact, order, term) for a, b, exact in _occurrences(folded, name)]
    found.sort(key=lambda f: (-(f[1] - f[0]), not f[2], f[3], f[0]))
    taken: list[tuple[int, int]] = []
    chosen: list[tuple[Term, int, int]] = []
    seen: set[str] = set()
    for a, b, _exact, _order, term in found:
        if any(a < tb and b > ta for ta, tb in taken):
            continue
        taken.append((a, b))
        key = term_key(term.en or term.zh or term.aliases[0])
        if key not in seen:
            seen.add(key)
            chosen.append((term, a, b))
    return sorted(chosen, key=lambda c: c[1])


def _name_in(term: Term, lang: str) -> str | None:
    name = term.zh if lang == "zh" else term.en
    if name:
        return name
    return next((a for a in term.aliases if lang == "en" and not has_cjk(a)), None)


def _translated(text: str, found: Sequence[tuple[Term, int, int]], lang: str) -> str | None:
    """``text`` (folded) with each found term written in ``lang``; None if nothing changed."""
    folded = _fold(text)
    out, last, changed = [], 0, False
    for term, a, b in found:
        name = _name_in(term, lang)
        if name is None:
            continue
        extra = [x for x in term.aliases if x != name and _fold(x) not in folded]
        piece = " ".join([name, *extra])
        out += [folded[last:a], f" {piece} "]
        last, changed = b, True
    if not changed:
        return None
    out.append(folded[last:])
    return " ".join("".join(out).split())


def refers_back(question: str) -> bool:
    """Whether a question leans on the conversation: a pronoun or a word that points back, or
    so short that it can only continue what came before ("How many warmup steps?" stands on
    its own; "And on English-to-French?" does not)."""
    if has_cjk(question):
        if _BACK_ZH.search(question.strip()):
            return True
        return sum(1 for c in question if has_cjk(c)) <= SHORT_ZH - 4
    if _BACK_EN.search(question.strip()):
        return True
    return len(_LATIN_WORD.findall(question)) <= SHORT_EN - 2


def _context(question: str, history: Sequence[Turn]) -> tuple[str, ...]:
    """The previous questions a follow-up leans on, oldest first (none when it stands alone)."""
    if not refers_back(question):
        return ()
    asked = [t.text for t in history if t.role == "user"]
    chain: list[str] = []
    for earlier in reversed(asked):
        chain.insert(0, earlier)
        if len(chain) >= MAX_FOLLOWED or not refers_back(earlier):
            break
    return tuple(chain)


def _source_words(terms: Sequence[Term], languages: set[str]) -> frozenset[str]:
    """Search words (``storage.embedding.sparse.tokenize``) of the terms' names in the sources'
    languages."""
    words: set[str] = set()
    for term in terms:
        for lang in languages:
            name = _name_in(term, lang)
            if name:
                words.update(tokenize(name))
    return frozenset(words)


def plan_queries(
    question: str, history: Sequence[Turn], sources: Sequence[SourceRecord]
) -> QueryPlan:
    """The queries the code can build for ``question`` (see the module docstring)."""
    asked_in = question_language(question)
    languages = {source_language(s) for s in sources} or {asked_in}
    listed = [t for s in sources for t in s.terms]
    # The sources' own terms first: they win where a general word overlaps them.
    terms = [*listed, *GENERAL, *FRAME]
    followed = _context(question, history) if history else ()
    own = find_terms(question, terms)
    combined = " ".join([*followed, question]) if followed else None
    # Each query text costs an embedding on the question's path: the question as asked, its
    # translation, and for a follow-up the conversation's text (translated when it can be).
    queries = [question]
    context_found: list[tuple[Term, int, int]] = []
    frame = set(FRAME)
    for text in filter(None, (question, combined)):
        found = own if text is question else find_terms(text, terms)
        if text is not question:
            context_found = found
        versions = []
        if not all(t in frame for t, _, _ in found):  # "为什么" alone translates nothing
            for lang in sorted(languages):
                translated = _translated(text, found, lang)
                if translated is None:
                    continue
                if lang == asked_in and not set(tokenize(translated)) - set(tokenize(text)):
                    continue  # same language, no new word: the question already says it
                versions.append(translated)
        if text is combined and not versions:
            versions.append(combined)
        queries += versions
    kept = set(listed)
    named = list(dict.fromkeys(t for t, _, _ in [*own, *context_found] if t in kept))
    own_translated = any(  # the question's own content words, put into a sources' language
        t not in frame and _name_in(t, lang) for t, _, _ in own for lang in languages - {asked_in}
    )
    latin = {w.lower() for w in _LATIN_WORD.findall(question) if w.lower() not in STOPWORDS}
    # A question in another language than every source, with nothing of its own the code could
    # put into their language (no known term, no English word in it): only the model can search
    # it. A follow-up too ("那值向量呢?"): its context alone would find the previous answer's
    # passages again. And a follow-up that points back without naming any of the sources' terms
    # itself ("那论文里一共用了几个头?"): the code can only guess what "it" is; the model reads
    # the conversation.
    pointing = bool(followed) and not any(t in kept for t, _, _ in own)
    needs_rewrite = pointing or (asked_in not in languages and not own_translated and not latin)
    # The question's own words judge a search (a follow-up's context would always be found).
    # Only the sources' own terms: general words ("训练" -> "training") are found everywhere.
    words = set(_source_words([t for t, _, _ in own if t in kept], languages))
    if "en" in languages:
        words.update(w for w in tokenize(" ".join(latin)) if len(w) > 1)
    return QueryPlan(
        queries=tuple(dict.fromkeys(q for q in queries if q.strip())),
        terms=tuple(Term(en=t.en, zh=t.zh) for t in named),
        followed=followed,
        needs_rewrite=needs_rewrite,
        source_words=frozenset(words),
    )


def weak_result(plan: QueryPlan, hits: Sequence[SearchHit]) -> bool:
    """True when no hit contains any of the question's words in the sources' language (its
    terms, its English words): the search found passages about something else."""
    if not hits:
        return True
    if not plan.source_words:
        return False  # nothing to judge by: trust the search
    found = {w for hit in hits for w in tokenize(hit.text)}
    return not (plan.source_words & found)
