"""What the student sees when a source is ready, and the question buttons that follow it.

Button payloads (a question can be longer than Telegram's 64-byte ``callback_data``) are kept
in ``chat_data`` under a short random key; only the key travels in the button.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import MutableMapping, Sequence
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.telegram.i18n import t
from bot.telegram.render import esc
from kernel.locators import format_timestamp
from kernel.models import SourceRecord

__all__ = [
    "ASK_CALLBACK",
    "LAST_VIDEO_KEY",
    "paper_card",
    "platform_name",
    "question_buttons",
    "recall",
    "remember",
    "suggested_questions",
    "video_card",
]

ASK_CALLBACK = "q:"
LAST_VIDEO_KEY = "last_video"
_PAYLOADS_KEY = "payloads"
_MAX_PAYLOADS = 64
_MAX_AUTHORS = 6
_HEAD = re.compile(r"^(.+?)\s+(?:for|with|via|in|on|of|from|using|to|through)\s", re.I)
_ACRONYM = re.compile(r"\b[A-Z][A-Za-z]*[A-Z][A-Za-z0-9]*(?:-[A-Za-z0-9]+)?\b")


def remember(chat_data: MutableMapping[Any, Any], payload: Any) -> str:
    """Keep ``payload`` for a button; returns the short key (oldest payloads are dropped)."""
    store: dict[str, Any] = chat_data.setdefault(_PAYLOADS_KEY, {})
    key = secrets.token_hex(4)
    store[key] = payload
    while len(store) > _MAX_PAYLOADS:
        del store[next(iter(store))]
    return key


def recall(chat_data: MutableMapping[Any, Any] | None, key: str) -> Any:
    """The payload kept under ``key``, or None when it expired."""
    if chat_data is None:
        return None
    return chat_data.get(_PAYLOADS_KEY, {}).get(key)


def _key_term(title: str | None) -> str | None:
    if not title:
        return None
    head, sep, _ = title.partition(":")
    if sep and 0 < len(head.strip()) <= 30:
        return head.strip()
    match = _ACRONYM.search(title)
    if match:
        return match.group(0)
    # "Sparse Attention for Beginners" -> "Sparse Attention"; not "Training Language Models".
    head_match = _HEAD.match(title)
    if head_match:
        words = head_match.group(1).split()
        if len(words) <= 3 and not words[0].lower().endswith("ing"):
            return head_match.group(1)
    return None


def suggested_questions(record: SourceRecord, lang: str) -> list[str]:
    """Three beginner questions built from the paper's title (no model call: always works)."""
    term = _key_term(record.paper.title if record.paper else record.title)
    if lang == "en":
        middle = (
            f"What is {term}? Explain it simply."
            if term
            else "How does the paper's main method work?"
        )
        return ["What problem does this paper solve?", middle, "What are its main results?"]
    middle = f"{term} 是什么？请用简单的话解释" if term else "这篇论文的核心方法是怎么工作的？"
    return ["这篇论文想解决什么问题？", middle, "这篇论文的主要结论和贡献是什么？"]


def question_buttons(
    chat_data: MutableMapping[Any, Any], questions: Sequence[str]
) -> InlineKeyboardMarkup:
    """One button per question; pressing it asks that question."""
    rows = [
        [InlineKeyboardButton(q[:60], callback_data=ASK_CALLBACK + remember(chat_data, q))]
        for q in questions
    ]
    return InlineKeyboardMarkup(rows)


def _warnings(record: SourceRecord, lang: str) -> list[str]:
    if not record.warnings:
        return []
    return ["", t(lang, "warnings"), *(f"• {esc(w)}" for w in record.warnings)]


def paper_card(record: SourceRecord, lang: str, *, papers: int = 1) -> str:
    """Title, authors, venue/year, link, pages and warnings of a paper that is ready;
    ``papers``: how many ready papers the chat now holds (a second one is said)."""
    meta = record.paper
    unknown = t(lang, "unknown")
    lines = [t(lang, "paper_done"), "", t(lang, "paper_title", title=record.title)]
    if meta is not None:
        authors = list(meta.authors[:_MAX_AUTHORS])
        more = len(meta.authors) > _MAX_AUTHORS
        shown = ", ".join(authors) + (" et al." if more else "") if authors else unknown
        lines.append(t(lang, "paper_authors", authors=shown))
        venue = " ".join(str(v) for v in (meta.venue, meta.year) if v) or unknown
        lines.append(t(lang, "paper_venue", venue=venue))
        if meta.link:
            lines.append(t(lang, "paper_link", link=meta.link))
        lines.append(t(lang, "paper_pages", pages=meta.pages, chunks=record.chunks))
    lines += _warnings(record, lang)
    if papers > 1:
        lines += ["", t(lang, "another_paper", n=papers)]
    lines += ["", t(lang, "suggest")]
    return "\n".join(lines)


_PLATFORMS = {
    "youtube": ("YouTube", "YouTube"),
    "bilibili": ("哔哩哔哩", "Bilibili"),
    "web": ("网页链接", "a web link"),
}


def platform_name(platform: str | None, lang: str) -> str | None:
    """ "哔哩哔哩" / "Bilibili" for "bilibili"; another site's name as yt-dlp calls it."""
    if not platform:
        return None
    zh, en = _PLATFORMS.get(platform, (platform, platform))
    return en if lang == "en" else zh


def video_card(record: SourceRecord, lang: str) -> str:
    """Title, language, duration, segments and where the text comes from (captions, or the
    bot's own speech recognition) of a transcript that is ready."""
    meta = record.video
    unknown = t(lang, "unknown")
    lines = [t(lang, "video_done"), "", t(lang, "video_title", title=record.title)]
    if meta is not None and meta.uploader:
        lines.append(t(lang, "video_uploader", uploader=meta.uploader))
    platform = platform_name(meta.platform if meta else None, lang)
    if platform:
        lines.append(t(lang, "video_platform", platform=platform))
    language = (meta.language if meta else None) or unknown
    if meta is not None and meta.auto_generated:
        language += " (auto)"
    lines.append(t(lang, "video_lang", language=language))
    duration = meta.duration_s if meta else None
    shown = format_timestamp(duration) if duration else unknown
    lines.append(t(lang, "video_duration", duration=shown))
    lines.append(t(lang, "video_segments", chunks=record.chunks))
    if meta is not None and meta.transcribed:
        lines.append(t(lang, "video_text_asr", model=meta.asr_model or unknown))
    elif meta is not None and meta.auto_generated:
        lines.append(t(lang, "video_text_auto"))
    elif meta is not None and meta.platform:
        lines.append(t(lang, "video_text_captions"))
    if meta is not None and meta.url:
        lines.append(esc(meta.url))
    lines += _warnings(record, lang)
    return "\n".join(lines)
