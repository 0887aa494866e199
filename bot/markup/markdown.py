"""The model's Markdown as Telegram HTML or as plain text, with its math made readable.

The only importer of ``markdown_it`` and ``mdit_py_plugins``. markdown-it-py parses (CommonMark
plus tables, strikethrough and ``$…$`` / ``$$…$$`` / ``\\(…\\)`` / ``\\[…\\]`` math); this module
walks the syntax tree and writes only what Telegram's HTML parse mode accepts:

- headings and ``**bold**`` → ``<b>``, ``*italic*`` → ``<i>``, ``~~x~~`` → ``<s>``, inline
  code → ``<code>``, fenced code → ``<pre><code class="language-…">``, quotes → one
  ``<blockquote>`` (Telegram cannot nest them), lists → "• " / "1. " lines, tables → one line
  per row, links → ``<a>`` for http(s) only (never inside another link or around code);
- math → Unicode (``bot.markup.latex``); what cannot be read as text stays source in ``<code>``.

Every character of the model's text is escaped; the only tags are the ones written here.
Raw HTML in the answer is text (``html=False``), and ``[1]: …`` is not a link definition, so
citation markers ``[n]`` come out exactly as the model wrote them.
"""

from __future__ import annotations

import functools
import html
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

from markdown_it import MarkdownIt
from markdown_it.rules_block.state_block import StateBlock
from markdown_it.rules_inline.state_inline import Delimiter, Scanned, StateInline
from markdown_it.tree import SyntaxTreeNode
from mdit_py_plugins.dollarmath import dollarmath_plugin

from bot.markup.latex import latex_to_unicode

__all__ = ["Rendered", "display_formulas", "settled_end", "to_plain", "to_telegram_html"]

_BULLETS = ("•", "◦", "▪")
_LANGUAGE = re.compile(r"^[A-Za-z0-9_+#.-]{1,32}$")
_INLINE_MATH = {
    "\\(": re.compile(r"\\\((.+?)\\\)", re.DOTALL),
    "\\[": re.compile(r"\\\[(.+?)\\\]", re.DOTALL),
}
_NOT_MATH = re.compile(r"[\d\s,，、–-]*")  # "\[1\]", "\[2, 3\]": escaped citation markers
_FENCE = re.compile(r"^[ \t]*(?:```|~~~)", re.MULTILINE)


@dataclass(frozen=True)
class Rendered:
    """An answer rendered for one medium, and its display formulas (LaTeX sources, in order)."""

    text: str
    formulas: tuple[str, ...] = ()


def to_telegram_html(markdown: str) -> Rendered:
    """``markdown`` as Telegram HTML (parse mode ``HTML``); every outside character escaped."""
    return _Writer(html=True).render(markdown)


def to_plain(markdown: str) -> str:
    """``markdown`` as plain text that reads well: no ``###`` or ``**``, math as Unicode."""
    return _Writer(html=False).render(markdown).text


def display_formulas(markdown: str) -> tuple[str, ...]:
    """The display formulas (``$$…$$``, ``\\[…\\]``) of ``markdown``, in order, as LaTeX."""
    return _Writer(html=False).render(markdown).formulas


def settled_end(markdown: str, *, tries: int = 8) -> int:
    """Where Markdown still being written can be cut: after the last blank line that is not
    inside a code fence or a ``$$`` block (0 if none is found in ``tries`` blank lines).

    What comes before never changes as more text arrives (for what a reader sees), so a
    stream can convert it once and parse only the block being written.
    """
    at = markdown.rfind("\n\n")
    for _ in range(tries):
        if at <= 0:
            return 0
        head = markdown[:at]
        if len(_FENCE.findall(head)) % 2 == 0 and head.count("$$") % 2 == 0:
            return at
        at = markdown.rfind("\n\n", 0, at)
    return 0


# -- parsing ----------------------------------------------------------------------------------


@functools.cache
def _parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.enable(["table", "strikethrough"])
    # "[1]: …" at the start of a line is the model citing, not a link definition to hide.
    md.disable("reference")
    # Pandoc's rule for $…$: no space inside the dollars, no digit after the closing one, so
    # "costs $5 and $10" stays text.
    md.use(dollarmath_plugin, allow_space=False, allow_digits=False, double_inline=True)
    md.block.ruler.before("fence", "math_block_brackets", _block_brackets)
    md.inline.ruler.before("escape", "math_inline_brackets", _inline_brackets)
    md.inline.ruler.at("emphasis", _emphasis)
    return md


def _inline_brackets(state: StateInline, silent: bool) -> bool:
    """``\\(…\\)`` inline, and ``\\[…\\]`` written inside a paragraph (a display formula)."""
    opener = state.src[state.pos : state.pos + 2]
    pattern = _INLINE_MATH.get(opener)
    if pattern is None:
        return False
    match = pattern.match(state.src, state.pos, state.posMax)
    if match is None or _NOT_MATH.fullmatch(match.group(1)):
        return False
    if not silent:
        kind = "math_inline" if opener == "\\(" else "math_inline_double"
        token = state.push(kind, "math", 0)
        token.content = match.group(1)
        token.markup = opener
    state.pos = match.end()
    return True


def _block_brackets(state: StateBlock, start: int, end: int, silent: bool) -> bool:
    """``\\[`` … ``\\]`` as a block of its own lines (a line with more after ``\\]`` is a
    paragraph, read by ``_inline_brackets``: nothing after the formula is lost)."""
    if state.sCount[start] - state.blkIndent >= 4:
        return False
    first = state.src[state.bMarks[start] + state.tShift[start] : state.eMarks[start]]
    if not first.startswith("\\["):
        return False
    lines = [first[2:]]
    line = start
    while True:
        closing = lines[-1].rstrip()
        if closing.endswith("\\]"):
            lines[-1] = closing[:-2]
            break
        line += 1
        if line >= end or state.isEmpty(line):
            return False
        lines.append(state.src[state.bMarks[line] + state.tShift[line] : state.eMarks[line]])
    content = "\n".join(lines)
    if "\\]" in content or _NOT_MATH.fullmatch(content):
        return False
    if not silent:
        token = state.push("math_block", "math", 0)
        token.block = True
        token.content = content
        token.markup = "\\["
        token.map = [start, line + 1]
    state.line = line + 1
    return True


def _is_cjk(ch: str) -> bool:
    return unicodedata.east_asian_width(ch) in ("W", "F")


def _scan(state: StateInline, start: int, can_split_word: bool) -> Scanned:
    """CommonMark's delimiter scan, made friendly to Chinese for ``*``.

    CommonMark will not close ``**“注意力”**机制`` or ``**注意：**这是`` (punctuation then a
    letter, with no space between, as Chinese is written). Next to a CJK character a ``*`` run
    opens unless a space follows it and closes unless a space precedes it.
    """
    scanned = state.scanDelims(start, can_split_word)
    if state.src[start] != "*":
        return scanned
    end = start + scanned.length
    before = state.src[start - 1] if start > 0 else " "
    after = state.src[end] if end < state.posMax else " "
    if not (_is_cjk(before) or _is_cjk(after)):
        return scanned
    return Scanned(not after.isspace(), not before.isspace(), scanned.length)


def _emphasis(state: StateInline, silent: bool) -> bool:
    """markdown-it's emphasis tokenizer with ``_scan`` in place of ``state.scanDelims``."""
    start = state.pos
    marker = state.src[start]
    if silent or marker not in ("_", "*"):
        return False
    scanned = _scan(state, start, marker == "*")
    for _ in range(scanned.length):
        token = state.push("text", "", 0)
        token.content = marker
        state.delimiters.append(
            Delimiter(
                marker=ord(marker),
                length=scanned.length,
                token=len(state.tokens) - 1,
                end=-1,
                open=scanned.can_open,
                close=scanned.can_close,
            )
        )
    state.pos += scanned.length
    return True


# -- writing ----------------------------------------------------------------------------------


def _safe_url(url: str) -> bool:
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.netloc)


@dataclass
class _Writer:
    html: bool
    formulas: list[str] = field(default_factory=list)
    _in_link: int = 0
    _in_quote: int = 0

    def render(self, markdown: str) -> Rendered:
        tree = SyntaxTreeNode(_parser().parse(markdown))
        body = self.blocks(tree.children, depth=0, tight=False)
        return Rendered(body.strip("\n"), tuple(self.formulas))

    # -- helpers

    def esc(self, text: str) -> str:
        return html.escape(text, quote=True) if self.html else text

    def tag(self, name: str, inner: str, attrs: str = "") -> str:
        if not self.html or not inner.strip():
            return inner
        return f"<{name}{attrs}>{inner}</{name}>"

    def math(self, source: str, *, display: bool) -> str:
        if display:
            self.formulas.append(source.strip())
        text = latex_to_unicode(source)
        if text is not None:
            return self.esc(text)
        source = " ".join(source.split()) if not display else source.strip()
        if self._in_link:
            return self.esc(source)
        return self.tag("code", self.esc(source))

    # -- blocks

    def blocks(self, nodes: list[SyntaxTreeNode], *, depth: int, tight: bool) -> str:
        parts = [self.block(node, depth=depth) for node in nodes]
        return ("\n" if tight else "\n\n").join(p for p in parts if p.strip())

    def block(self, node: SyntaxTreeNode, *, depth: int) -> str:
        kind = node.type
        handler: Callable[[SyntaxTreeNode, int], str] | None = getattr(self, "block_" + kind, None)
        if handler is not None:
            return handler(node, depth)
        if kind.startswith("math_block"):
            return self.math(node.content, display=True)
        if node.children:
            return self.blocks(node.children, depth=depth, tight=False)
        return self.esc(node.content)

    def block_paragraph(self, node: SyntaxTreeNode, depth: int) -> str:
        return self.inlines(node.children)

    def block_heading(self, node: SyntaxTreeNode, depth: int) -> str:
        return self.tag("b", self.inlines(node.children))

    def block_blockquote(self, node: SyntaxTreeNode, depth: int) -> str:
        self._in_quote += 1
        try:
            inner = self.blocks(node.children, depth=depth, tight=False)
        finally:
            self._in_quote -= 1
        if self._in_quote:  # Telegram cannot nest quotes: the outer one holds this one
            return inner
        return self.tag("blockquote", inner)

    def block_fence(self, node: SyntaxTreeNode, depth: int) -> str:
        info = node.info.strip() if node.type == "fence" else ""
        language = info if _LANGUAGE.match(info) else ""
        content = node.content.rstrip("\n")
        if info and not language:  # not a language name: text the model wrote, kept
            content = info + ("\n" + content if content else "")
        code = self.esc(content)
        if not self.html or not code.strip():
            return code
        if language:
            return f'<pre><code class="language-{self.esc(language)}">{code}</code></pre>'
        return f"<pre>{code}</pre>"

    block_code_block = block_fence

    def block_hr(self, node: SyntaxTreeNode, depth: int) -> str:
        return "——————"

    def block_bullet_list(self, node: SyntaxTreeNode, depth: int) -> str:
        return self.list_items(node, depth, ordered=False)

    def block_ordered_list(self, node: SyntaxTreeNode, depth: int) -> str:
        return self.list_items(node, depth, ordered=True)

    def list_items(self, node: SyntaxTreeNode, depth: int, *, ordered: bool) -> str:
        start = node.attrs.get("start", 1) if ordered else 1
        number = int(start) if isinstance(start, int | str) and str(start).isdigit() else 1
        tight = all(
            p.hidden for item in node.children for p in item.children if p.type == "paragraph"
        )
        items: list[str] = []
        for i, item in enumerate(node.children):
            marker = f"{number + i}." if ordered else _BULLETS[depth % len(_BULLETS)]
            body = self.blocks(item.children, depth=depth + 1, tight=True)
            items.append("  " * depth + marker + " " + body.lstrip(" "))
        return ("\n" if tight else "\n\n").join(items)

    def block_table(self, node: SyntaxTreeNode, depth: int) -> str:
        rows = [
            [self.inlines(cell.children) for cell in tr.children]
            for section in node.children
            for tr in section.children
        ]
        header_rows = len(node.children[0].children) if node.children else 0
        head = rows[0] if header_rows else []
        body = rows[header_rows:]
        if not body:
            return " | ".join(head)
        lines = []
        for row in body:
            first, rest = (row[0], row[1:]) if row else ("", [])
            named = [
                f"{h}: {c}" if h.strip() else c
                for h, c in zip(head[1:], rest, strict=False)
                if c.strip()
            ]
            line = "• " + self.tag("b", first)
            if named:
                line += " — " + "; ".join(named)
            lines.append(line)
        return "\n".join(lines)

    # -- inline

    def inlines(self, nodes: list[SyntaxTreeNode]) -> str:
        out: list[str] = []
        for node in nodes:
            if node.type == "inline":
                out.append(self.inlines(node.children))
            else:
                out.append(self.inline(node))
        return "".join(out)

    def inline(self, node: SyntaxTreeNode) -> str:
        kind = node.type
        if kind == "text":
            return self.esc(node.content)
        if kind in ("softbreak", "hardbreak"):
            return "\n"
        if kind == "strong":
            return self.tag("b", self.inlines(node.children))
        if kind == "em":
            return self.tag("i", self.inlines(node.children))
        if kind == "s":
            return self.tag("s", self.inlines(node.children))
        if kind == "code_inline":
            code = self.esc(node.content)
            return code if self._in_link else self.tag("code", code)
        if kind in ("math_inline", "math_inline_double"):
            return self.math(node.content, display=kind == "math_inline_double")
        if kind in ("link", "image"):
            return self.link(node)
        if node.children:
            return self.inlines(node.children)
        return self.esc(node.content)

    def link(self, node: SyntaxTreeNode) -> str:
        attr = "src" if node.type == "image" else "href"
        url = str(node.attrs.get(attr, ""))
        self._in_link += 1
        try:
            label = self.inlines(node.children) if node.type == "link" else self.esc(node.content)
        finally:
            self._in_link -= 1
        if not _safe_url(url) or self._in_link:
            # Keep what the model wrote (a "[1](p.3)" stays readable), as text.
            return f"[{label}]({self.esc(unquote(url))})" if url else label
        # "[1](https://…)": the model linked a citation marker; the student still sees "[1]".
        cited = label.strip().isdigit()
        if not self.html:
            shown = f"[{label}]" if cited else label
            return f"{shown} ({url})" if label.strip() and label.strip() != url else url
        link = f'<a href="{self.esc(url)}">{label or self.esc(url)}</a>'
        return f"[{link}]" if cited else link
