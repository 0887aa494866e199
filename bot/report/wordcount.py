"""Counting 字数 the way Microsoft Word's Chinese word count does, so the student's check agrees.

Rules (Word's "字数" with East Asian text):

- every CJK character counts one: Han ideographs (all extensions, compatibility ideographs,
  Kangxi radicals), kana, Hangul, Bopomofo;
- every CJK punctuation mark counts one: the CJK Symbols and Punctuation block (，。、《》「」…),
  full-width forms (（）：；！？，Ａ１), vertical/compatibility forms, and the punctuation Chinese
  text uses from general blocks: “ ” ‘ ’ — … · (a ’ between two Latin letters is an apostrophe
  inside a word instead, as in ``don’t``);
- every run of Latin letters or digits counts one ("Transformer", "2017", "GPT"). Like Word,
  which splits non-Asian words only at spaces, a run continues across connector characters
  that sit between two letters/digits: ``GPT-3``, ``3.5``, ``p.5``, ``12:34``, ``don't``,
  ``top_k``, ``w/o`` are one each;
- whitespace and ASCII punctuation standing alone ("[", "]", ",", "(", "-") count zero.

Citation markers are part of the text Word sees, so they count: ``[论文 p.5]`` is 3
(论, 文, ``p.5``) and ``[视频 12:34]`` is 3 (视, 频, ``12:34``).
"""

from __future__ import annotations

__all__ = ["count_zi", "is_cjk"]

# Inclusive code point ranges of East Asian characters and punctuation that count one each.
_CJK_RANGES: tuple[tuple[int, int], ...] = (
    (0x1100, 0x11FF),  # Hangul Jamo
    (0x2E80, 0x2FDF),  # CJK Radicals Supplement, Kangxi Radicals
    (0x2FF0, 0x2FFF),  # Ideographic Description Characters
    (0x3001, 0x303F),  # CJK Symbols and Punctuation (0x3000 is the ideographic space)
    (0x3040, 0x30FF),  # Hiragana, Katakana
    (0x3100, 0x312F),  # Bopomofo
    (0x3130, 0x318F),  # Hangul Compatibility Jamo
    (0x31A0, 0x31FF),  # Bopomofo Extended, CJK Strokes, Katakana Phonetic Extensions
    (0x3200, 0x4DBF),  # Enclosed CJK, CJK Compatibility, CJK Extension A
    (0x4E00, 0x9FFF),  # CJK Unified Ideographs
    (0xA960, 0xA97F),  # Hangul Jamo Extended-A
    (0xAC00, 0xD7FF),  # Hangul Syllables, Jamo Extended-B
    (0xF900, 0xFAFF),  # CJK Compatibility Ideographs
    (0xFE10, 0xFE1F),  # Vertical Forms
    (0xFE30, 0xFE6F),  # CJK Compatibility Forms, Small Form Variants
    (0xFF01, 0xFFEE),  # Halfwidth and Fullwidth Forms
    (0x20000, 0x3FFFF),  # CJK Extensions B and later, Compatibility Supplement
)

# Punctuation Chinese text uses that lives outside the CJK blocks.
_CJK_PUNCT_EXTRA = frozenset("“”‘’—…·–•")
# May sit inside a Latin run when a letter or digit is on both sides.
_CONNECTORS = frozenset("-.'’_/:+&")


def is_cjk(ch: str) -> bool:
    """True if ``ch`` counts one on its own (CJK character or CJK punctuation)."""
    code = ord(ch)
    if ch in _CJK_PUNCT_EXTRA:
        return True
    return any(lo <= code <= hi for lo, hi in _CJK_RANGES)


def _is_word_char(ch: str) -> bool:
    return ch.isalnum() and not is_cjk(ch)


def count_zi(text: str) -> int:
    """The 字数 Word shows for ``text``: CJK characters and marks, plus Latin/digit runs."""
    count = 0
    in_run = False
    n = len(text)
    for i, ch in enumerate(text):
        if _is_word_char(ch):
            if not in_run:
                count += 1
                in_run = True
            continue
        if in_run and ch in _CONNECTORS and i + 1 < n and _is_word_char(text[i + 1]):
            continue  # "GPT-3", "don’t": the run goes on
        in_run = False
        if is_cjk(ch):
            count += 1
    return count
