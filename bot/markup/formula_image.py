"""Display formulas as PNG images, drawn by matplotlib's mathtext (no TeX installation needed).

The only importer of matplotlib. It is imported on first use, inside the renderer's own worker
thread (it costs about half a second of CPU and tens of megabytes), so the event loop never
waits for it and a CLI command that draws nothing never pays for it. mathtext only reads the
formula: it cannot run anything, and what it cannot parse gives ``None``, never an error.
Images are black on white (a transparent one turns black-on-black in dark mode) and padded to
an aspect ratio Telegram accepts for a photo (at most 20:1).
"""

from __future__ import annotations

import asyncio
import io
import logging
import re
import unicodedata
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from bot.markup.latex import latex_to_unicode

__all__ = [
    "MAX_IMAGES",
    "FormulaRenderer",
    "images_worth_sending",
    "render_formula_png",
]

log = logging.getLogger(__name__)

MAX_IMAGES = 3
"""At most this many formula images follow one answer."""

MAX_SOURCE = 600
_MAX_BRACE_DEPTH = 12
_FONT_PT = 18
_DPI = 200
_MIN_DPI = 72
_MAX_WIDTH_PX = 4000
_PAD_IN = 0.15
_MAX_RATIO = 20.0

# What mathtext spells differently (or not at all) from the LaTeX models write.
_REWRITES = (
    (re.compile(r"\\(?:display|text|script|scriptscript)style\b"), ""),
    (re.compile(r"\\(?:label|tag\*?)\s*\{[^{}]*\}"), ""),
    (re.compile(r"\\(?:nonumber|notag)\b"), ""),
    (re.compile(r"\\[Bb]igg?[lrm]?(?![a-zA-Z])"), ""),  # mathtext sizes delimiters itself
    (re.compile(r"\\le(?![a-zA-Z])"), r"\\leq"),
    (re.compile(r"\\ge(?![a-zA-Z])"), r"\\geq"),
    (re.compile(r"\\ne(?![a-zA-Z])"), r"\\neq"),
    (re.compile(r"\\[tc]frac(?![a-zA-Z])"), r"\\frac"),
    (re.compile(r"\\[lr]?Vert(?![a-zA-Z])"), r"\\|"),
    (re.compile(r"\\[lr]?vert(?![a-zA-Z])"), "|"),
    (re.compile(r"\\mathbbm(?![a-zA-Z])"), r"\\mathbb"),
    (re.compile(r"\\bm(?![a-zA-Z])"), r"\\boldsymbol"),
    (re.compile(r"\\operatorname\*"), r"\\operatorname"),
    (re.compile(r"(?<!\\)&"), ""),
)
# Formulas whose Unicode line loses their shape: fractions, roots, sums, matrices.
_SHAPED = re.compile(
    r"\\(?:[dtc]?frac|sqrt|sum|prod|int|iint|oint|lim|begin|binom|over|underbrace|overbrace"
    r"|underset|overset|stackrel)(?![a-zA-Z])"
)


def images_worth_sending(formulas: Sequence[str], limit: int = MAX_IMAGES) -> list[str]:
    """The display formulas to send as images: distinct, not already clear as one line of
    Unicode (``x²`` needs no picture), at most ``limit``."""
    chosen: list[str] = []
    seen: set[str] = set()
    for formula in formulas:
        key = " ".join(formula.split())
        if not key or key in seen:
            continue
        seen.add(key)
        text = latex_to_unicode(formula)
        if (
            text is None
            or _SHAPED.search(formula)
            or "_(" in text
            or "^(" in text
            or len(text) > 40
        ):
            chosen.append(formula)
        if len(chosen) >= limit:
            break
    return chosen


def _for_mathtext(latex: str) -> str | None:
    """``latex`` as mathtext accepts it, or ``None`` if it cannot be drawn."""
    source = " ".join(latex.split())
    if not source or len(source) > MAX_SOURCE or "$" in source or "\\\\" in source:
        return None
    if "\\begin" in source:  # environments (matrices, aligned lines): not in mathtext
        return None
    if any(unicodedata.east_asian_width(ch) in ("W", "F") for ch in source):
        return None  # mathtext's fonts have no Chinese: it would draw empty boxes
    depth = 0
    for ch in source:
        depth += {"{": 1, "}": -1}.get(ch, 0)
        if depth > _MAX_BRACE_DEPTH or depth < 0:
            return None
    if depth:
        return None
    for pattern, replacement in _REWRITES:
        source = pattern.sub(replacement, source)
    return source.strip() or None


def render_formula_png(latex: str) -> bytes | None:
    """``latex`` (no dollars) drawn as a PNG, or ``None`` if mathtext cannot draw it. Blocking:
    call it from a worker thread (``FormulaRenderer`` does)."""
    source = _for_mathtext(latex)
    if source is None:
        return None
    try:
        return _draw(f"${source}$")
    except Exception as exc:  # any parse or layout failure of untrusted input: no image
        log.debug("formula not drawn (%s): %r", type(exc).__name__, source)
        return None


def _draw(math: str) -> bytes | None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.font_manager import FontProperties
    from matplotlib.mathtext import MathTextParser

    prop = FontProperties(size=_FONT_PT, math_fontfamily="cm")
    parsed = MathTextParser("path").parse(math, dpi=72, prop=prop)
    width_in = parsed.width / 72 + 2 * _PAD_IN
    height_in = parsed.height / 72 + 2 * _PAD_IN
    dpi = min(_DPI, _MAX_WIDTH_PX / width_in)
    if dpi < _MIN_DPI:
        return None  # wider than a phone can show legibly
    figure_h = max(height_in, width_in / _MAX_RATIO)
    figure = Figure(figsize=(width_in, figure_h), dpi=dpi)
    FigureCanvasAgg(figure)
    baseline = (figure_h - height_in) / 2 + _PAD_IN + parsed.depth / 72
    figure.text(_PAD_IN / width_in, baseline / figure_h, math, fontproperties=prop)
    out = io.BytesIO()
    figure.savefig(out, format="png", dpi=dpi, facecolor="white")
    return out.getvalue()


class FormulaRenderer:
    """Draws formula images in its own worker thread, one at a time.

    The thread (and matplotlib) start on the first formula; ``close()`` stops the thread.
    """

    def __init__(self) -> None:
        self._pool: ThreadPoolExecutor | None = None

    def _executor(self) -> ThreadPoolExecutor:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(1, thread_name_prefix="formulas")
        return self._pool

    async def render(self, latex: str) -> bytes | None:
        """One formula as a PNG, or ``None``."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor(), render_formula_png, latex)

    async def images(self, formulas: Sequence[str], limit: int = MAX_IMAGES) -> list[bytes]:
        """PNGs of the display formulas worth a picture (see ``images_worth_sending``)."""
        out: list[bytes] = []
        for formula in images_worth_sending(formulas, limit=len(formulas)):
            png = await self.render(formula)
            if png is not None:
                out.append(png)
                if len(out) >= limit:
                    break
        return out

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
