"""Formulas in the report: readable text inline, a picture for a formula on its own line.

The section prompts ask for LaTeX (``$…$`` inline, ``$$…$$`` on a line of its own), because a
model writes it anyway and garbled ``softmax(QKT √dk )V`` is what the alternative looks like.
``clean_math`` turns a draft's inline math into one line of Unicode (``softmax(QKᵀ/√dₖ)V``, via
``bot.markup.latex``; unreadable LaTeX keeps its source without the dollars) and puts every
display formula on a line of its own as ``$$latex$$``. The writers show such a line as a
picture drawn by matplotlib's mathtext (``formula_block``), or as its Unicode text when it
cannot be drawn, never as raw LaTeX.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass, field

from bot.markup.formula_image import render_formula_png
from bot.markup.latex import latex_to_unicode

__all__ = ["ReportFormula", "clean_math", "display_formula", "formula_block", "print_width_in"]

_DISPLAY = re.compile(r"\$\$(.+?)\$\$|\\\[(.+?)\\\]", re.S)
_INLINE = re.compile(r"(?<![\\$])\$(?!\$)([^$\n]{1,400}?)(?<![\\\s])\$(?!\$)|\\\((.{1,400}?)\\\)")
_DISPLAY_LINE = re.compile(r"^\$\$(.+)\$\$$")
_PX_PER_INCH = 300  # pictures are drawn at 18 pt, 200 dpi (bot.markup): 12 pt in print


@dataclass(frozen=True)
class ReportFormula:
    """A display formula: its LaTeX, its one-line Unicode text, and its picture (None when
    mathtext cannot draw it)."""

    latex: str
    text: str
    image: bytes | None = field(default=None, repr=False)


def _unicode(latex: str) -> str:
    return latex_to_unicode(latex) or " ".join(latex.split())


def clean_math(text: str) -> str:
    """``text`` with inline math as Unicode and each display formula on its own
    ``$$latex$$`` line."""

    def display(m: re.Match[str]) -> str:
        latex = " ".join((m.group(1) or m.group(2) or "").split())
        return f"\n$${latex}$$\n" if latex else ""

    text = _DISPLAY.sub(display, text)
    lines = []
    for line in text.split("\n"):
        stripped = line.strip()
        if _DISPLAY_LINE.match(stripped):
            lines.append(stripped)
        else:
            lines.append(_INLINE.sub(lambda m: _unicode(m.group(1) or m.group(2)), line))
    return "\n".join(lines)


def display_formula(line: str) -> str | None:
    """The LaTeX of a body line that is a display formula (``$$…$$``), else None."""
    m = _DISPLAY_LINE.match(line.strip())
    return m.group(1).strip() if m else None


def formula_block(latex: str) -> ReportFormula:
    """The formula with its picture drawn (blocking: writers run in worker threads)."""
    return ReportFormula(latex, _unicode(latex), render_formula_png(latex))


def print_width_in(image: bytes) -> float | None:
    """How wide the formula picture is printed, in inches, for its text to match 12 pt body
    text (None if ``image`` is not a PNG)."""
    if image[12:16] != b"IHDR":
        return None
    (width_px,) = struct.unpack(">I", image[16:20])
    return float(width_px / _PX_PER_INCH)
