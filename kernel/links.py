"""Recognise YouTube and Bilibili links, and build links that open a video at a given second.

Used when a student pastes a link in the chat (``parse_video_link`` finds the first one inside
the message; ``bare_url`` accepts a message that is nothing but a link to any other site),
when an answer cites a video timestamp (``url_at``) and when it cites a page of an arXiv paper
(``page_url``).
Pure string work: no network, so a ``b23.tv`` short code stays a short code.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

__all__ = [
    "VideoLink",
    "bare_url",
    "page_url",
    "parse_video_link",
    "url_at",
    "web_url",
]

Platform = Literal["youtube", "bilibili"]


@dataclass(frozen=True)
class VideoLink:
    """A recognised video link.

    ``url`` is canonical (``https://www.youtube.com/watch?v=ID`` or
    ``https://www.bilibili.com/video/BV...``; a ``b23.tv`` short code that cannot be resolved
    offline keeps its short URL). ``part`` is Bilibili's ``?p=`` (None for part 1 / YouTube).
    """

    platform: Platform
    video_id: str
    url: str
    start_s: int | None = None
    part: int | None = None

    @property
    def fingerprint(self) -> str:
        """Stable identity of the video (part included), e.g. ``youtube:dQw4w9WgXcQ``."""
        suffix = f":p{self.part}" if self.part else ""
        return f"{self.platform}:{self.video_id}{suffix}"


# A URL-ish run of printable ASCII; stops at spaces, quotes, angle brackets and any non-ASCII
# character, so "看这个https://youtu.be/x，谢谢" yields only the link.
_CANDIDATE = re.compile(
    r"(?<![A-Za-z0-9_@.-])(?:https?://)?(?:[a-z0-9-]+\.)*"
    r"(?:youtube\.com|youtube-nocookie\.com|youtu\.be|bilibili\.com|b23\.tv)"
    r"(?:/[!#-&(-;=?-~]*)?",
    re.IGNORECASE,
)
_TRAILING = ".,;:!?)]}'\""
_YT_ID = re.compile(r"^[A-Za-z0-9_-]{11}$")
_BV_ID = re.compile(r"^BV[0-9A-Za-z]{10}$", re.IGNORECASE)
_AV_ID = re.compile(r"^av(\d{1,12})$", re.IGNORECASE)
_YT_PATH_KINDS = ("shorts", "embed", "live", "v", "e")
_T_PARTS = re.compile(r"^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+(?:\.\d+)?)s?)?$", re.IGNORECASE)
_MAX_SECONDS = 100 * 3600


def _parse_t(value: str | None) -> int | None:
    """YouTube/Bilibili ``t=`` values: ``90``, ``90s``, ``1m30s``, ``1h2m3s``, ``12.5``."""
    if not value:
        return None
    match = _T_PARTS.match(value.strip())
    if match is None or not any(match.groups()):
        return None
    hours, minutes, seconds = match.groups()
    total = int(hours or 0) * 3600 + int(minutes or 0) * 60 + float(seconds or 0)
    return int(total) if 0 <= total <= _MAX_SECONDS else None


def _youtube(host: str, path: str, query: dict[str, str], fragment: str) -> VideoLink | None:
    segments = [s for s in path.split("/") if s]
    video_id: str | None = None
    if host.endswith("youtu.be"):
        video_id = segments[0] if segments else None
    elif segments[:1] == ["watch"]:
        video_id = query.get("v")
    elif len(segments) >= 2 and segments[0] in _YT_PATH_KINDS:
        video_id = segments[1]
    if video_id is None or not _YT_ID.match(video_id):
        return None
    fragment_t = dict(parse_qsl(fragment)).get("t")
    start = _parse_t(query.get("t") or query.get("start") or fragment_t)
    return VideoLink("youtube", video_id, f"https://www.youtube.com/watch?v={video_id}", start)


def _bilibili(host: str, path: str, query: dict[str, str]) -> VideoLink | None:
    segments = [s for s in path.split("/") if s]
    if host.endswith("b23.tv"):
        if not segments:
            return None
        code = segments[0]
        if not (_BV_ID.match(code) or _AV_ID.match(code)):
            if not re.fullmatch(r"[0-9A-Za-z]{4,16}", code):
                return None
            # Short code: resolving it needs a network redirect, so keep the short URL.
            return VideoLink("bilibili", code, f"https://b23.tv/{code}", _parse_t(query.get("t")))
    elif len(segments) >= 2 and segments[0] == "video":
        code = segments[1]
    else:
        return None
    if _BV_ID.match(code):
        video_id = "BV" + code[2:]
    elif (av := _AV_ID.match(code)) is not None:
        video_id = f"av{av.group(1)}"
    else:
        return None
    part_text = query.get("p", "")
    part = int(part_text) if part_text.isdigit() and 1 < int(part_text) < 10_000 else None
    url = f"https://www.bilibili.com/video/{video_id}" + (f"?p={part}" if part else "")
    return VideoLink("bilibili", video_id, url, _parse_t(query.get("t")), part)


def _parse_candidate(candidate: str) -> VideoLink | None:
    if not re.match(r"^https?://", candidate, re.IGNORECASE):
        candidate = "https://" + candidate
    try:
        parts = urlsplit(candidate)
    except ValueError:
        return None
    host = (parts.hostname or "").lower()
    query = dict(parse_qsl(parts.query))
    if host.endswith(("youtube.com", "youtube-nocookie.com", "youtu.be")):
        return _youtube(host, parts.path, query, parts.fragment)
    if host.endswith(("bilibili.com", "b23.tv")):
        return _bilibili(host, parts.path, query)
    return None


def parse_video_link(text: str) -> VideoLink | None:
    """The first YouTube or Bilibili video link in ``text`` (a bare link or a whole message)."""
    for match in _CANDIDATE.finditer(text):
        link = _parse_candidate(match.group(0).rstrip(_TRAILING))
        if link is not None:
            return link
    return None


_BARE_URL = re.compile(r"https?://[^\s/?#]+\.[^\s/?#]+(?:[/?#]\S*)?", re.IGNORECASE)


def bare_url(text: str) -> str | None:
    """The message itself when it is one http(s) link and nothing else, else None.

    A link inside a sentence stays part of a question; a link on its own is something to read.
    """
    candidate = text.strip().rstrip(_TRAILING)
    if _BARE_URL.fullmatch(candidate) is None:
        return None
    return candidate


def web_url(text: str) -> str | None:
    """``text`` if it is an http(s) URL with a host (what may be stored and shown as a video's
    link), else None: ``javascript:``, ``file:``, ``data:`` and other schemes never are."""
    candidate = text.strip()
    if not candidate or any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in candidate):
        return None
    try:
        parts = urlsplit(candidate)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return candidate


def _with_query(url: str, drop: tuple[str, ...], add: dict[str, str]) -> str:
    parts = urlsplit(url)
    pairs = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in drop]
    pairs.extend(add.items())
    return urlunsplit(parts._replace(query=urlencode(pairs, safe=":/"), fragment=""))


def url_at(url: str, seconds: float | None) -> str:
    """A link that opens the video at ``seconds`` (floored); replaces an existing ``t=``.

    YouTube watch links get ``&t=123s``, ``youtu.be`` links ``?t=123``; shorts/embed/live
    links become canonical watch links. Bilibili gets ``?t=123`` (``p=`` kept). Other URLs,
    and any URL when ``seconds`` is None, come back unchanged.
    """
    if seconds is None or not math.isfinite(seconds):
        return url
    link = parse_video_link(url)
    if link is None:
        return url
    second = max(0, int(seconds))
    parts = urlsplit(url if re.match(r"^https?://", url, re.IGNORECASE) else "https://" + url)
    host = (parts.hostname or "").lower()
    if link.platform == "bilibili":
        return _with_query(urlunsplit(parts), ("t",), {"t": str(second)})
    if host.endswith("youtu.be"):
        return _with_query(urlunsplit(parts), ("t", "start"), {"t": str(second)})
    base = urlunsplit(parts) if parts.path.rstrip("/") == "/watch" else link.url
    return _with_query(base, ("t", "start"), {"t": f"{second}s"})


_ARXIV_LINK = re.compile(
    r"^https?://(?:www\.|export\.)?arxiv\.org/(?:abs|pdf)/"
    r"(?P<id>\d{4}\.\d{4,5}(?:v\d+)?|[a-z-]+(?:\.[A-Z]{2})?/\d{7}(?:v\d+)?)(?:\.pdf)?/?$",
    re.IGNORECASE,
)


def page_url(link: str | None, page: int | None) -> str | None:
    """A link that opens ``page`` of the paper, where the paper's link allows one.

    An arXiv link (``/abs/`` or ``/pdf/``) becomes ``https://arxiv.org/pdf/ID#page=N``, which
    browsers' PDF viewers open at that page; any other link (a DOI names no page) gives None.
    """
    if not link or page is None or page < 1:
        return None
    m = _ARXIV_LINK.match(link.strip())
    if m is None:
        return None
    return f"https://arxiv.org/pdf/{m.group('id')}#page={page}"
