"""LaTeX math as readable Unicode text: ``\\sqrt{d_k}`` → ``√dₖ``, ``QK^\\top`` → ``QKᵀ``.

The only importer of ``pylatexenc`` (the parser, and its table of symbol macros: Greek,
operators, arrows) and ``unicodeit`` (its tables of Unicode sub/superscripts, combining accents
and styled alphabets such as ``\\mathbb{R}`` → ℝ). What those tables do not cover is written
out readably: ``\\frac{a}{b}`` → ``a/b``, a subscript with no Unicode form → ``d_model``.

Anything not understood — a parse error, an unknown macro or environment — gives ``None``:
callers then show the source as code. A formula never raises.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Sequence
from typing import Any

from pylatexenc.latex2text import LatexNodes2Text
from pylatexenc.latexwalker import (
    LatexCharsNode,
    LatexCommentNode,
    LatexEnvironmentNode,
    LatexGroupNode,
    LatexMacroNode,
    LatexMathNode,
    LatexSpecialsNode,
    LatexWalker,
    LatexWalkerError,
    get_default_latex_context_db,
)
from pylatexenc.macrospec import MacroSpec
from unicodeit.data import COMBININGMARKS, REPLACEMENTS, SUBSUPERSCRIPTS

__all__ = ["MAX_SOURCE", "latex_to_unicode"]

MAX_SOURCE = 2000
"""Longer formulas are not converted (shown as code): nobody reads them as one line."""

_MAX_DEPTH = 40

# Macros that only carry text (or a font) in math: their argument, as is.
_TEXT = {
    "text", "textrm", "textnormal", "textup", "textit", "textbf", "textsf", "texttt", "mbox",
    "hbox", "mathrm", "mathit", "mathbf", "mathsf", "mathtt", "mathnormal", "boldsymbol", "bm",
    "operatorname", "mathop", "emph", "ensuremath", "displaystyle", "textstyle", "mathord",
    "mathbin", "mathrel", "mathopen", "mathclose", "pmb", "textmd", "textsl", "textsc",
}  # fmt: skip
# Letter styles unicodeit has a table for (𝔼, ℝ, ℒ ...); letters it lacks stay plain.
_STYLED = {"mathbb", "mathcal", "mathscr", "mathfrak", "mathbbm"}
# Sizing and layout macros: nothing to show.
_INVISIBLE = {
    "left", "right", "middle", "big", "Big", "bigg", "Bigg", "bigl", "bigr", "Bigl", "Bigr",
    "biggl", "biggr", "Biggl", "Biggr", "limits", "nolimits", "nonumber", "notag",
    "scriptstyle", "scriptscriptstyle", "label", "tag", "hphantom", "vphantom", "phantom",
    "allowbreak", "strut",
}  # fmt: skip
_SPACES = {",": " ", ";": " ", ":": " ", ">": " ", "!": "", " ": " ", "quad": " ", "qquad": " "}
_FRACTIONS = {"frac", "dfrac", "tfrac", "cfrac", "nicefrac"}
_ACCENT_ALIASES = {"widehat": "hat", "widetilde": "tilde", "overrightarrow": "vec"}
_OVER_UNDER = {"overset", "underset", "stackrel"}
_MATRICES = {
    "matrix": ("[", "]"), "pmatrix": ("(", ")"), "bmatrix": ("[", "]"), "Bmatrix": ("{", "}"),
    "vmatrix": ("|", "|"), "Vmatrix": ("‖", "‖"), "smallmatrix": ("[", "]"),
}  # fmt: skip
_ROWS = {
    "aligned", "align", "align*", "alignat", "alignat*", "gathered", "gather", "gather*",
    "split", "equation", "equation*", "eqnarray", "eqnarray*", "multline", "multline*", "array",
    "subarray", "cases", "dcases", "rcases",
}  # fmt: skip
# Superscripts unicodeit lacks but students meet daily (Qᵀ written as Q^\top, x^*).
_ALIASES = {"lVert": "‖", "rVert": "‖", "lvert": "|", "rvert": "|", "vert": "|", "Vert": "‖"}
# Symbols that are not relations although Unicode files them as math symbols.
_PREFIX = set("∂∇∑∏∐∫∬∭∮√∛∜∞¬′″∀∃∄∅")
_BINARY = set("·⋅×÷±∓∘")
_EXTRA_SUP = {"⊤": "ᵀ", "T": "ᵀ", "∗": "*", "*": "*", "′": "′", "'": "′", "†": "†"}

_WORD_GAP = "\x00"  # before an operator name: a space only if it follows a letter or ")"

_Piece = tuple[str, str]
"""One step of a formula: ("text", rendered) or ("op", "_"/"^") for a script marker."""


class _UnreadableError(Exception):
    """The formula uses something we cannot show as text."""


def _tables() -> tuple[dict[str, str], dict[str, str], dict[str, str], dict[str, str]]:
    symbols: dict[str, str] = {}
    for latex, text in REPLACEMENTS:
        symbols.setdefault(latex, text)
    sub = {k[1:]: v for k, v in SUBSUPERSCRIPTS if k.startswith("_")}
    sup = {k[1:]: v for k, v in SUBSUPERSCRIPTS if k.startswith("^")}
    sup.update(_EXTRA_SUP)
    marks = {k.lstrip("\\"): v for k, v in COMBININGMARKS}
    return symbols, sub, sup, marks


_SYMBOLS, _SUB, _SUP, _MARKS = _tables()
_SCRIPTS = set(_SUB.values()) | set(_SUP.values())


@functools.cache
def _context() -> Any:
    db = get_default_latex_context_db()
    db.add_context_category(
        "papertutor-math",
        prepend=True,
        macros=[
            MacroSpec("operatorname", "*{"),
            MacroSpec("boldsymbol", "{"),
            MacroSpec("bm", "{"),
            MacroSpec("pmb", "{"),
            MacroSpec("mathop", "{"),
            MacroSpec("mathbbm", "{"),
            MacroSpec("dfrac", "{{"),
            MacroSpec("tfrac", "{{"),
            MacroSpec("cfrac", "{{"),
            MacroSpec("binom", "{{"),
            MacroSpec("dbinom", "{{"),
            MacroSpec("tbinom", "{{"),
            MacroSpec("overset", "{{"),
            MacroSpec("underset", "{{"),
            MacroSpec("stackrel", "{{"),
            MacroSpec("tag", "*{"),
            MacroSpec("phantom", "{"),
        ],
    )
    return db


@functools.cache
def _symbol_text() -> LatexNodes2Text:
    return LatexNodes2Text(math_mode="text")


def _symbol(node: Any) -> str:
    """pylatexenc's text for a macro without arguments (``\\alpha`` → α), or ``""``."""
    l2t = _symbol_text()
    if l2t.latex_context.get_macro_spec(node.macroname) is None:
        return ""
    return str(l2t.macro_node_to_text(node))


def _spaced(symbol: str) -> bool:
    """Relations and binary operators read better with a space on each side: ``a ≈ b``."""
    return len(symbol) == 1 and (
        symbol in _BINARY or (unicodedata.category(symbol) == "Sm" and symbol not in _PREFIX)
    )


@functools.lru_cache(maxsize=512)  # a streamed draft converts the same formulas again and again
def latex_to_unicode(source: str) -> str | None:
    """``source`` (the inside of ``$…$``) as one line of Unicode, or ``None`` if unreadable."""
    source = source.strip()
    if not source or len(source) > MAX_SOURCE:
        return None
    try:
        walker = LatexWalker(source, latex_context=_context(), tolerant_parsing=False)
        state = walker.make_parsing_state(in_math_mode=True)
        nodes, _, _ = walker.get_latex_nodes(parsing_state=state)
        text = _Renderer().nodes(nodes, 0)
    except (_UnreadableError, LatexWalkerError, RecursionError, ValueError, IndexError):
        return None
    text = re.sub(r"(?<=[\w)\]}′'])" + _WORD_GAP, " ", text).replace(_WORD_GAP, "")
    text = re.sub(r"[ \t\n]+", " ", text)
    text = re.sub(r"([(\[{]) | ([)\]}])", r"\1\2", text)  # "( log x )" → "(log x)"
    text = unicodedata.normalize("NFC", text).strip()
    return text or None


class _Renderer:
    def nodes(self, nodes: Sequence[Any] | None, depth: int) -> str:
        if depth > _MAX_DEPTH:
            raise _UnreadableError("too deep")
        pieces: list[_Piece] = []
        for node in nodes or ():
            pieces.extend(self.node(node, depth))
        return _apply_scripts(pieces)

    def node(self, node: Any, depth: int) -> list[_Piece]:
        if node is None or isinstance(node, LatexCommentNode):
            return []
        if isinstance(node, LatexCharsNode):
            return [("op", ch) if ch in "_^" else ("text", ch) for ch in node.chars]
        if isinstance(node, LatexGroupNode | LatexMathNode):
            return [("text", self.nodes(node.nodelist, depth + 1))]
        if isinstance(node, LatexSpecialsNode):
            chars = node.specials_chars
            return [("text", {"&": " ", "~": " "}.get(chars, chars))]
        if isinstance(node, LatexMacroNode):
            return [("text", self.macro(node, depth))]
        if isinstance(node, LatexEnvironmentNode):
            return [("text", self.environment(node, depth))]
        raise _UnreadableError(type(node).__name__)

    def arg(self, node: Any, i: int, depth: int) -> str:
        args = node.nodeargd.argnlist if node.nodeargd is not None else []
        if i >= len(args) or args[i] is None:
            return ""
        return _apply_scripts(self.node(args[i], depth + 1))

    def macro(self, node: Any, depth: int) -> str:
        name: str = node.macroname
        space = " " if node.macro_post_space else ""
        if name in _INVISIBLE:
            return ""
        if name in _SPACES:
            return _SPACES[name]
        if name == "\\":
            return "; "
        laid_out = self.with_arguments(node, name, depth, space)
        if laid_out is not None:
            return laid_out
        if node.nodeargd is not None and node.nodeargd.argspec:
            raise _UnreadableError(name)  # a macro with arguments we do not know how to show
        return self.symbol(node, name, space)

    def with_arguments(self, node: Any, name: str, depth: int, space: str) -> str | None:
        """A macro that lays out its arguments (``\\text``, ``\\frac``, ``\\sqrt``, accents…),
        or None for any other macro."""
        if name in _TEXT:
            return self.arg(node, _last_arg(node), depth) + space
        if name in _STYLED:
            inner = self.arg(node, 0, depth)
            return "".join(_SYMBOLS.get(f"\\{name}{{{ch}}}", ch) for ch in inner)
        if name in _FRACTIONS:
            return f"{_grouped(self.arg(node, 0, depth))}/{_grouped(self.arg(node, 1, depth))}"
        if name in ("binom", "dbinom", "tbinom"):
            return f"C({self.arg(node, 0, depth)}, {self.arg(node, 1, depth)})"
        if name == "sqrt":
            return self.sqrt(self.arg(node, 0, depth), self.arg(node, 1, depth))
        if name in _OVER_UNDER:
            return self.arg(node, 1, depth)
        accent = _ACCENT_ALIASES.get(name, name)
        if accent in _MARKS:
            inner = self.arg(node, 0, depth)
            return inner + _MARKS[accent] if len(inner) == 1 else inner
        return None

    @staticmethod
    def symbol(node: Any, name: str, space: str) -> str:
        """A macro without arguments: its symbol, spaced as an operator or a word needs."""
        text = _ALIASES.get(name) or _symbol(node) or _SYMBOLS.get("\\" + name, "")
        if not text.strip():
            raise _UnreadableError(name)
        if _spaced(text):
            return f" {text} "
        if text.isalpha() and len(text) > 1:  # log, max, sin: a word, apart from a word before it
            return _WORD_GAP + text + space
        return text

    @staticmethod
    def sqrt(degree: str, radicand: str) -> str:
        root = {"": "√", "2": "√", "3": "∛", "4": "∜"}.get(degree)
        if root is None:
            root = _script(degree, _SUP, "^") + "√"
        return root + _grouped(radicand)

    def environment(self, node: Any, depth: int) -> str:
        name: str = node.environmentname
        if name not in _MATRICES and name not in _ROWS:
            raise _UnreadableError(name)
        rows: list[list[str]] = [[]]
        cell: list[Any] = []

        def end_cell() -> None:
            rows[-1].append(self.nodes(cell, depth + 1).strip())
            cell.clear()

        for child in node.nodelist or ():
            if isinstance(child, LatexSpecialsNode) and child.specials_chars == "&":
                end_cell()
            elif isinstance(child, LatexMacroNode) and child.macroname == "\\":
                end_cell()
                rows.append([])
            else:
                cell.append(child)
        end_cell()
        lines = [row for row in rows if any(row)]
        if name in _MATRICES:
            left, right = _MATRICES[name]
            return left + "; ".join(", ".join(row) for row in lines) + right
        joiner = ", " if name.endswith("cases") else " "
        body = "; ".join(joiner.join(c for c in row if c) for row in lines)
        return "{ " + body if name in ("cases", "dcases") else body


def _last_arg(node: Any) -> int:
    args = node.nodeargd.argnlist if node.nodeargd is not None else []
    return max(len(args) - 1, 0)


def _grouped(text: str) -> str:
    """``text`` as one operand: bare if it is a single symbol or word, else in parentheses."""
    text = text.replace(_WORD_GAP, "").strip()
    if _is_atom(text):
        return text
    return f"({text})"


def _is_bracketed(text: str) -> bool:
    """``(…)``, ``[…]`` or ``{…}`` as one group."""
    return text[:1] in ("(", "[", "{") and text[-1:] in (")", "]", "}") and text.count(text[0]) == 1


def _is_atom(text: str) -> bool:
    if not text or _is_bracketed(text):
        return True
    core = "".join(ch for ch in text if not unicodedata.combining(ch)).lstrip("√∛∜∂∇")
    return bool(core) and all(ch.isalnum() or ch in _SCRIPTS for ch in core)


def _script(text: str, table: dict[str, str], marker: str) -> str:
    """A sub/superscript in Unicode if every character has a form, else ``_x`` / ``^(x+1)``."""
    text = text.replace(_WORD_GAP, "").strip()
    if text and all(ch in table for ch in text):
        return "".join(table[ch] for ch in text)
    if len(text) == 1 or text.isalnum() or _is_bracketed(text):
        return marker + text
    return f"{marker}({text})"


def _apply_scripts(pieces: list[_Piece]) -> str:
    """Join the pieces, turning each ``_``/``^`` and the piece after it into a script."""
    out: list[str] = []
    i = 0
    while i < len(pieces):
        kind, text = pieces[i]
        if kind == "op":
            j = i + 1
            while j < len(pieces) and pieces[j] == ("text", " "):
                j += 1
            if j >= len(pieces) or pieces[j][0] == "op":
                raise _UnreadableError("a script with nothing after it")
            table, marker = (_SUB, "_") if text == "_" else (_SUP, "^")
            out.append(_script(pieces[j][1], table, marker))
            i = j + 1
            continue
        out.append(text)
        i += 1
    return "".join(out)
