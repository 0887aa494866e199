"""Applying the support check to a text: keep, move, add or remove each citation marker.

For every sentence that cites (or, by policy, should cite) the snippets:

- a marker whose snippet supports the sentence stays;
- a marker whose snippet does not moves to the snippet that supports the sentence best;
- a sentence without markers gets the best supporting snippet's marker (attribution), when the
  policy says so (an answer that cited nothing; every sentence of a report);
- a sentence that no snippet supports loses its markers and is labelled as background knowledge
  or dropped (the policy decides; a figure no snippet contains always drops the sentence: an
  invented number is not background knowledge).

Sentences already labelled as background by the model are left alone.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from bot.support.scoring import SupportScorer
from bot.support.text import Sentence, join_sentences, numbers, split_sentences, with_markers
from kernel.models import Term

__all__ = ["Candidate", "CheckedText", "Claim", "Policy", "check_support"]

MIN_CLAIM_CHARS = 8  # shorter pieces ("总之：", "Example:") state nothing to check


@dataclass(frozen=True)
class Candidate:
    """A snippet the text may cite, and the marker that cites it when the code adds one."""

    marker: str
    text: str


@dataclass(frozen=True)
class Policy:
    """What to do with sentences the check cannot tie to a snippet.

    ``attribute``: "never", "when_uncited" (only if the text cites nothing at all) or "always".
    ``unsupported``: "label" (prefix ``label``) or "drop". ``labelled``: prefixes by which the
    model itself marked background sentences (those are exempt).
    """

    attribute: str
    unsupported: str
    label: str
    labelled: tuple[str, ...] = ()


@dataclass(frozen=True)
class Claim:
    """A sentence that kept or got markers: per marker, its support; ``sources``: the
    candidates its markers cite, best supporting first (a page marker cites every snippet of
    that page)."""

    text: str
    markers: tuple[str, ...]
    support: tuple[float, ...]
    sources: tuple[int, ...]


@dataclass(frozen=True)
class CheckedText:
    """The text after the check and what happened to its markers."""

    text: str
    claims: tuple[Claim, ...] = ()
    kept: int = 0
    moved: int = 0
    attributed: int = 0
    removed: int = 0
    dropped: int = 0
    labelled: int = 0
    scores: dict[str, list[float]] = field(default_factory=dict)

    @property
    def checked(self) -> int:
        """Markers in the text now, every one supported."""
        return self.kept + self.moved + self.attributed


def _is_background(sentence: Sentence, policy: Policy) -> bool:
    head = sentence.text.lstrip()
    return any(head.startswith(p) or head.endswith(p.strip()) for p in policy.labelled if p)


def check_support(
    text: str,
    candidates: Sequence[Candidate],
    scorer: SupportScorer,
    *,
    marker: re.Pattern[str],
    resolve: Callable[[str], Sequence[int]],
    policy: Policy,
    terms: Sequence[Term] = (),
) -> CheckedText:
    """Check every marked sentence of ``text`` (blocking: it embeds; call from a thread).

    ``resolve`` maps a marker as written to the indices of the candidates it cites.
    """
    sentences = split_sentences(text, marker)
    cites_any = any(s.markers for s in sentences)
    attribute = policy.attribute == "always" or (
        policy.attribute == "when_uncited" and not cites_any
    )
    todo = [
        i
        for i, s in enumerate(sentences)
        if len(s.text) >= MIN_CLAIM_CHARS
        and not _is_background(s, policy)
        and (s.markers or attribute)
    ]
    if not todo or not candidates:
        return CheckedText(text=text)
    support = scorer.scores([sentences[i].text for i in todo], [c.text for c in candidates], terms)
    threshold = scorer.calibration.threshold
    result = list(sentences)
    claims: list[Claim] = []
    counts = dict.fromkeys(("kept", "moved", "attributed", "removed", "dropped", "labelled"), 0)
    scores: dict[str, list[float]] = {}
    for row, i in zip(support, todo, strict=True):
        sentence = sentences[i]

        def by(m: str, row: list[float] = row) -> int | None:
            found = [j for j in resolve(m) if 0 <= j < len(row)]
            return max(found, key=row.__getitem__) if found else None

        best = max(range(len(candidates)), key=row.__getitem__)
        kept: dict[str, int] = {}  # marker -> candidate that supports the sentence under it
        failed = 0
        for m in dict.fromkeys(sentence.markers):
            j = by(m)
            if j is not None and row[j] >= threshold:
                kept[m] = j
                counts["kept"] += 1
            else:
                failed += 1
        if failed and not kept and row[best] >= threshold:
            kept[candidates[best].marker] = best
            counts["moved"] += 1
            failed -= 1
        counts["removed"] += failed
        if not sentence.markers and row[best] >= threshold:
            kept[candidates[best].marker] = best
            counts["attributed"] += 1
        if kept:
            result[i] = with_markers(sentence, list(kept), marker)
            support_of = tuple(row[j] for j in kept.values())
            cited = {j for m in kept for j in resolve(m) if 0 <= j < len(row)} | set(kept.values())
            ranked = tuple(sorted(cited, key=lambda j, row=row: -row[j]))  # type: ignore[misc]
            claims.append(Claim(sentence.text, tuple(kept), support_of, ranked))
            for m, j in kept.items():
                scores.setdefault(m, []).append(row[j])
            continue
        result[i] = _unsupported(sentence, candidates, policy, marker, counts)
    return CheckedText(
        text=_tidy(join_sentences(result)), claims=tuple(claims), scores=scores, **counts
    )


def _unsupported(
    sentence: Sentence,
    candidates: Sequence[Candidate],
    policy: Policy,
    marker: re.Pattern[str],
    counts: dict[str, int],
) -> Sentence:
    """A sentence no snippet supports: labelled or dropped (always dropped if it invents a
    figure that no snippet contains)."""
    stated = numbers(sentence.text)
    invented = bool(stated) and not any(stated <= numbers(c.text) for c in candidates)
    bare = with_markers(sentence, [], marker)
    if policy.unsupported == "drop" or invented:
        counts["dropped"] += 1
        return Sentence(raw="", text="", markers=(), paragraph=sentence.paragraph)
    counts["labelled"] += 1
    lead = bare.raw[: len(bare.raw) - len(bare.raw.lstrip())]
    label = policy.label + (" " if policy.label[-1:].isascii() else "")  # "(Background) It…"
    return Sentence(
        raw=lead + label + bare.raw.lstrip(),
        text=label + bare.text,
        markers=(),
        paragraph=sentence.paragraph,
    )


def _tidy(text: str) -> str:
    """No trailing spaces, no runs of blank lines left by dropped sentences."""
    lines = [line.rstrip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
