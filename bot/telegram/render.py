"""Telegram HTML for answers and citations, and splitting long HTML at 4096 characters.

Everything that comes from the model, a paper or a transcript is escaped here; only markup we
write ourselves reaches Telegram unescaped. The answer's Markdown and math are converted by
``bot.markup.markdown`` (headings, lists, code, links, math as Unicode). Telegram counts message
length in UTF-16 code units after entity parsing; we count the raw HTML (tags included), which
is never shorter, so every part we produce fits.
"""

from __future__ import annotations

import functools
import html
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from bot.markup.markdown import settled_end, to_plain, to_telegram_html
from bot.telegram.i18n import t
from kernel.locators import where
from kernel.models import Citation

if TYPE_CHECKING:
    from bot.answering import Answer

__all__ = [
    "MAX_MESSAGE",
    "esc",
    "preview_text",
    "render_answer",
    "render_answer_body",
    "render_citations",
    "split_html",
    "utf16_len",
]

MAX_MESSAGE = 4096
SNIPPET_MAX = 700

_TOKEN = re.compile(r"<[^>]*>|&#?\w+;|[^<&]+|[<&]")
_TAG_NAME = re.compile(r"</?\s*([a-zA-Z-]+)")
_SOFT_BREAKS = "。！？；，、.!?;, "


def esc(text: str) -> str:
    """Escape text for Telegram HTML (quotes too, so it is safe inside attributes)."""
    return html.escape(text, quote=True)


def utf16_len(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def render_answer_body(text: str) -> str:
    """The model's answer (Markdown, LaTeX math) as Telegram HTML, everything else escaped."""
    return to_telegram_html(text.strip()).text


def _locator(c: Citation, lang: str) -> str:
    label = esc(where(c.kind, page=c.page, start_s=c.start_s, lang=lang))
    heard = t(lang, "cite_transcribed") if c.transcribed else ""  # a machine's hearing
    # The store built the link: a video's opens at start_s, a paper's (arXiv) at the page.
    if c.url and label:
        return f'<a href="{esc(c.url)}">{label}</a>{heard}'
    return label + heard


def _snippet(text: str) -> str:
    text = " ".join(text.split())
    if len(text) > SNIPPET_MAX:
        text = text[: SNIPPET_MAX - 1].rstrip() + "…"
    return esc(text)


def render_citations(citations: Sequence[Citation], lang: str, *, expandable: bool = True) -> str:
    """The numbered source list: ``[n] title · page/video link`` and the quoted snippet."""
    quote = "<blockquote expandable>" if expandable else "<blockquote>"
    lines = [t(lang, "sources_heading")]
    for c in citations:
        where = _locator(c, lang)
        head = f"[{c.n}] <b>{esc(c.title)}</b>" + (f" · {where}" if where else "")
        lines.append(head)
        if c.snippet.strip():
            lines.append(f"{quote}{_snippet(c.snippet)}</blockquote>")
    return "\n".join(lines)


def render_answer(answer: Answer, lang: str) -> str:
    """The final answer message: body with [n] markers, a note if a citation was moved or
    dropped (or added by the code), then the numbered source list."""
    body = render_answer_body(answer.answer)
    if answer.flagged:  # say so: the student should know a reference was dropped
        body += "\n\n<i>" + t(lang, "citation_removed") + "</i>"
    if answer.uncited and answer.citations:
        body += "\n\n<i>" + t(lang, "uncited") + "</i>"
    elif answer.attributed:
        body += "\n\n<i>" + t(lang, "attributed") + "</i>"
    if not answer.citations:
        return body
    return body + "\n\n" + render_citations(answer.citations, lang)


def preview_text(text: str, limit: int = MAX_MESSAGE - 96) -> str:
    """Plain-text preview of a streaming answer that fits one message (keeps the end), read as
    the student will read the answer: no ``###`` or ``**``, math as Unicode."""
    text = _plain_draft(text.strip())
    if utf16_len(text) <= limit:
        return text
    tail = text[-(limit // 2) :]
    return "…" + tail


def _plain_draft(text: str) -> str:
    """``to_plain`` of a draft that grows by small pieces, without parsing all of it each time:
    the settled blocks' conversion is reused, only the block being written is parsed again."""
    at = settled_end(text)
    if at == 0:
        return to_plain(text)
    return (_plain_settled(text[:at]) + "\n\n" + to_plain(text[at:])).strip()


@functools.lru_cache(maxsize=16)
def _plain_settled(head: str) -> str:
    return to_plain(head)


def _cut_point(text: str, budget: int) -> int:
    """Where to cut ``text`` so the head fits ``budget`` UTF-16 units, preferring a break."""
    end = 0
    used = 0
    for i, ch in enumerate(text):
        used += utf16_len(ch)
        if used > budget:
            break
        end = i + 1
    if end >= len(text) or end == 0:
        return end
    head = text[:end]
    newline = head.rfind("\n")
    if newline >= end // 3:
        return newline + 1
    soft = max(head.rfind(ch) for ch in _SOFT_BREAKS)
    if soft >= end // 3:
        return soft + 1
    return end


def split_html(text: str, limit: int = MAX_MESSAGE) -> list[str]:
    """Split Telegram HTML into parts of at most ``limit`` units without breaking markup.

    Tags open at a cut are closed at the end of one part and reopened at the start of the
    next (a link stays a link, a quote stays a quote); entities are never cut.
    """
    if utf16_len(text) <= limit:
        return [text] if text.strip() else []
    parts: list[str] = []
    stack: list[tuple[str, str]] = []  # (name, opening tag) of the open elements
    dropped: list[str] = []  # elements left out: their tags alone would not fit a part
    cur = ""
    fresh = ""  # what ``cur`` is right after a cut: the reopened tags, no content yet

    def closing() -> str:
        return "".join(f"</{name}>" for name, _ in reversed(stack))

    def budget() -> int:
        return limit - utf16_len(cur) - utf16_len(closing())

    def cut() -> None:
        nonlocal cur, fresh
        if cur != fresh and html.unescape(re.sub(r"<[^>]*>", "", cur)).strip():
            parts.append(cur + closing())
        cur = fresh = "".join(tag for _, tag in stack)
        while stack and budget() < 2:  # reopened tags leave no room: the innermost goes
            dropped.append(stack.pop()[0])
            cur = fresh = "".join(tag for _, tag in stack)

    for token in _TOKEN.findall(text):
        if token.startswith("<") and len(token) > 1:
            match = _TAG_NAME.match(token)
            name = match.group(1).lower() if match else ""
            if token.startswith("</"):
                if name in dropped and all(n != name for n, _ in stack):
                    dropped.remove(name)  # its opening tag was left out
                    continue
                for i in range(len(stack) - 1, -1, -1):
                    if stack[i][0] == name:
                        del stack[i]
                        break
                cur += token
                continue
            if utf16_len(token) + len(name) + 3 > budget():
                cut()
            if utf16_len(token) + len(name) + 4 > budget():  # not even one character fits
                dropped.append(name)
                continue
            cur += token
            stack.append((name, token))
            continue
        if token.startswith("&") and len(token) > 1:
            if utf16_len(token) > budget():
                cut()
            cur += token
            continue
        rest = token
        while rest:
            if cur == fresh:
                rest = rest.lstrip("\n")
                if not rest:
                    break
            room = budget()
            if utf16_len(rest) <= room:
                cur += rest
                break
            at = _cut_point(rest, room) if room > 0 else 0
            if at == 0 and cur == fresh:
                at = max(1, _cut_point(rest, max(room, 1)))
            cur += rest[:at]
            rest = rest[at:]
            cut()
    cut()
    return parts
