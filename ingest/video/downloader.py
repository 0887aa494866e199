"""A lecture behind a link: its metadata, its captions and its sound, through yt-dlp.

The one module that imports ``yt_dlp``. Any site yt-dlp supports works: YouTube, Bilibili
(``BV…``/``av…`` links, ``b23.tv`` short links, parts ``?p=2``) and a thousand others, plus a
direct link to an audio or video file (its "generic" extractor).

- ``probe(url)``: title, duration, uploader, chapters and the caption tracks the platform has
  (manual and automatic; YouTube's machine translations are left out: they are not what the
  video says), without downloading the video;
- ``caption(media, track)``: one caption track's text (SRT or WebVTT);
- ``download_audio(media, folder, progress, cancel)``: the smallest audio-only stream good
  enough for speech recognition (about 25 MB an hour), with byte progress and a cancel hook.

Extraction is the seam: ``MediaDownloader(extract=...)`` takes a function that returns what
yt-dlp's extractor returns for a URL, so tests feed recorded platform metadata through the real
format and subtitle selection; the generic extractor is tested for real against a local server.
Every failure becomes one clear ``VideoUnavailableError`` (private, deleted, region-locked,
members-only, login, live, unsupported site, blocked, download failed).

Captions that need a login (Bilibili's CC subtitles do) come with an operator's cookies file
(``PAPERTUTOR_COOKIES_FILE``, Netscape format): a private copy is used per request, so yt-dlp
never rewrites the operator's file.
"""

from __future__ import annotations

import copy
import logging
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from yt_dlp import YoutubeDL
from yt_dlp.utils import (
    DownloadError,
    GeoRestrictedError,
    UnsupportedError,
    YoutubeDLError,
)

from kernel.errors import CancelledByStudentError, VideoUnavailableError
from kernel.links import parse_video_link

__all__ = [
    "AUDIO_FORMAT",
    "CaptionTrack",
    "Chapter",
    "Extract",
    "MediaDownloader",
    "RemoteMedia",
    "translate_error",
]

log = logging.getLogger(__name__)

# Speech recognition hears 16 kHz mono: a 50-64 kbit/s audio-only stream is plenty (YouTube's
# opus 249, about 25 MB an hour) and downloads fast; else the smallest audio-only stream; a
# site without audio-only streams gives its smallest stream that has sound.
AUDIO_FORMAT = "bestaudio[abr<=?64]/worstaudio/worst[acodec!=none]/best"
_CAPTION_EXTS = ("srt", "vtt")
_NOT_SPEECH = {"danmaku", "live_chat", "comments"}
_PLATFORMS = {"youtube": "youtube", "bilibili": "bilibili", "generic": "web"}

Extract = Callable[[Any, str], dict[str, Any]]
"""``extract(ydl, url)``: the extractor's raw result for ``url`` (the test seam)."""


def _extract(ydl: Any, url: str) -> dict[str, Any]:
    info = ydl.extract_info(url, download=False, process=False)
    if not isinstance(info, dict):
        raise VideoUnavailableError("unsupported_site")
    return info


@dataclass(frozen=True)
class CaptionTrack:
    """One caption track of a video (``language_code``/``is_generated`` as ``choose_transcript``
    expects)."""

    language_code: str
    is_generated: bool
    ext: str
    url: str | None = None
    data: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class Chapter:
    start_s: float
    title: str


@dataclass(frozen=True)
class RemoteMedia:
    """What a link leads to. ``fingerprint`` identifies the video (and part) across chats."""

    url: str
    platform: str
    video_id: str
    fingerprint: str
    title: str
    duration_s: float | None
    uploader: str | None
    chapters: tuple[Chapter, ...]
    captions: tuple[CaptionTrack, ...]
    live: bool
    raw: dict[str, Any] = field(repr=False, compare=False, hash=False)


class _Log:
    """yt-dlp's messages go to our log, never to stdout."""

    def debug(self, msg: str) -> None:
        log.debug("yt-dlp: %s", msg)

    def info(self, msg: str) -> None:
        log.debug("yt-dlp: %s", msg)

    def warning(self, msg: str) -> None:
        log.info("yt-dlp: %s", msg)

    def error(self, msg: str) -> None:
        log.info("yt-dlp: %s", msg)


class _StopError(YoutubeDLError):
    """Raised in a progress hook to stop a download the student cancelled."""


# Phrases of yt-dlp's (and the sites') error messages, lower case, in the order checked.
_REASONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("live", ("live event", "is live", "premieres in", "will begin in", "is_upcoming")),
    (
        "members",
        ("members-only", "member", "join this channel", "supporter-only", "premium", "purchase"),
    ),
    ("login", ("confirm your age", "age-restricted", "age restricted", "inappropriate")),
    (
        "blocked",
        (
            "not a bot",
            "http error 429",
            "too many requests",
            "rate limit",
            "(352)",
            "http error 412",
        ),
    ),
    ("private", ("private video", "video is private", "login required", "log in", "sign in")),
    ("region", ("geo restrict", "geo-restrict", "in your country", "region")),
    (
        "deleted",
        (
            "video unavailable",
            "has been removed",
            "does not exist",
            "not exist",
            "may be deleted",
            "http error 404",
            "no video formats found",
            "this video is not available",
        ),
    ),
    ("unsupported_site", ("unsupported url", "no suitable extractor", "is not a valid url")),
)
_RETRYABLE = {"blocked", "download_failed"}


def translate_error(error: BaseException) -> VideoUnavailableError:
    """One student message for whatever yt-dlp (or the network under it) raised."""
    cause = getattr(error, "exc_info", None)
    inner = cause[1] if isinstance(cause, tuple) and len(cause) > 1 else None
    if isinstance(inner, GeoRestrictedError) or isinstance(error, GeoRestrictedError):
        return VideoUnavailableError("region")
    if isinstance(inner, UnsupportedError) or isinstance(error, UnsupportedError):
        return VideoUnavailableError("unsupported_site")
    text = str(error).lower()
    for key, phrases in _REASONS:
        if any(p in text for p in phrases):
            return VideoUnavailableError(key, retryable=key in _RETRYABLE)
    return VideoUnavailableError("download_failed", retryable=True)


def _platform(info: dict[str, Any]) -> str:
    key = str(info.get("extractor_key") or info.get("extractor") or "web").lower()
    for prefix, name in _PLATFORMS.items():
        if key.startswith(prefix):
            return name
    return key


def _tracks(info: dict[str, Any]) -> tuple[CaptionTrack, ...]:
    tracks: list[CaptionTrack] = []
    seen: set[tuple[str, bool]] = set()
    for generated, key in ((False, "subtitles"), (True, "automatic_captions")):
        for lang, formats in (info.get(key) or {}).items():
            code = str(lang)
            if code.lower() in _NOT_SPEECH or not isinstance(formats, list):
                continue
            auto = generated or code.lower().startswith("ai-")  # Bilibili's AI subtitles
            code = code.removeprefix("ai-").removesuffix("-orig")
            usable = [
                f
                for f in formats
                if isinstance(f, dict)
                and f.get("ext") in _CAPTION_EXTS
                and (f.get("data") or f.get("url"))
                and "tlang=" not in str(f.get("url") or "")  # a machine translation
            ]
            usable.sort(key=lambda f: _CAPTION_EXTS.index(f["ext"]))
            if not usable or (code, auto) in seen:
                continue
            seen.add((code, auto))
            best = usable[0]
            tracks.append(CaptionTrack(code, auto, best["ext"], best.get("url"), best.get("data")))
    return tuple(tracks)


def _chapters(info: dict[str, Any]) -> tuple[Chapter, ...]:
    found = []
    for chapter in info.get("chapters") or ():
        title = str(chapter.get("title") or "").strip()
        start = chapter.get("start_time")
        if title and isinstance(start, int | float):
            found.append(Chapter(float(start), title))
    return tuple(sorted(found, key=lambda c: c.start_s))


class MediaDownloader:
    """yt-dlp with this bot's options; synchronous (call it in a worker thread)."""

    def __init__(
        self,
        *,
        proxy: str | None = None,
        cookies_file: Path | None = None,
        timeout_s: float = 30.0,
        max_bytes: int = 2 * 2**30,
        extract: Extract | None = None,
    ) -> None:
        self._proxy = proxy
        self._cookies = cookies_file
        self._timeout_s = timeout_s
        self._max_bytes = max_bytes
        self._extract = extract or _extract

    @contextmanager
    def _ydl(self, **extra: Any) -> Iterator[Any]:
        options: dict[str, Any] = {
            "quiet": True,
            "no_warnings": True,
            "noprogress": True,
            "noplaylist": True,
            "logger": _Log(),
            "socket_timeout": self._timeout_s,
            "retries": 3,
            "fragment_retries": 3,
            "proxy": self._proxy,
            "subtitleslangs": ["all"],
            "max_filesize": self._max_bytes,
            **extra,
        }
        with tempfile.TemporaryDirectory(prefix="papertutor-cookies-") as private:
            if self._cookies is not None:
                # yt-dlp saves cookies back on close: give it a copy, keep the operator's file.
                copied = Path(private) / "cookies.txt"
                shutil.copyfile(self._cookies, copied)
                options["cookiefile"] = str(copied)
            with YoutubeDL(options) as ydl:  # type: ignore[arg-type]  # options are checked by name
                yield ydl

    def probe(self, url: str) -> RemoteMedia:
        """What ``url`` leads to (network; nothing is downloaded but metadata)."""
        try:
            with self._ydl() as ydl:
                raw = self._extract(ydl, url)
                info = ydl.process_ie_result(copy.deepcopy(raw), download=False)
        except VideoUnavailableError:
            raise
        except (YoutubeDLError, OSError) as exc:
            raise translate_error(exc) from exc
        if not isinstance(info, dict) or info.get("_type") in ("playlist", "multi_video"):
            raise VideoUnavailableError("unsupported_site")
        return self._media(url, raw, info)

    def _media(self, url: str, raw: dict[str, Any], info: dict[str, Any]) -> RemoteMedia:
        page = str(info.get("webpage_url") or info.get("original_url") or url)
        platform = _platform(info)
        video_id = str(info.get("id") or "")
        link = parse_video_link(page) or parse_video_link(url)
        if link is not None and link.platform == platform:
            fingerprint, canonical = link.fingerprint, link.url
        elif platform == "web":  # a file's name is no identity: the address is
            fingerprint, canonical = f"web:{page}", page
        else:
            fingerprint, canonical = f"{platform}:{video_id or page}", page
        duration = info.get("duration")
        live = bool(info.get("is_live")) or info.get("live_status") in ("is_live", "is_upcoming")
        return RemoteMedia(
            url=canonical,
            platform=platform,
            video_id=video_id,
            fingerprint=fingerprint,
            title=" ".join(str(info.get("title") or "").split())[:300] or video_id or page,
            duration_s=float(duration) if isinstance(duration, int | float) else None,
            uploader=str(info.get("uploader") or info.get("channel") or "") or None,
            chapters=_chapters(info),
            captions=_tracks(info),
            live=live,
            raw=raw,
        )

    def caption(self, track: CaptionTrack) -> bytes:
        """The caption track's file (SRT or WebVTT bytes)."""
        if track.data is not None:
            return track.data.encode("utf-8")
        assert track.url is not None
        try:
            with self._ydl() as ydl, ydl.urlopen(track.url) as response:
                return bytes(response.read())
        except (YoutubeDLError, OSError) as exc:
            raise translate_error(exc) from exc

    def download_audio(
        self,
        media: RemoteMedia,
        folder: Path,
        progress: Callable[[int, int | None], None] | None = None,
        cancel: threading.Event | None = None,
    ) -> Path:
        """Download the sound of ``media`` into ``folder``; the path of the file."""

        def hook(status: dict[str, Any]) -> None:
            if cancel is not None and cancel.is_set():
                raise _StopError("cancelled by the student")
            if progress is not None and status.get("status") == "downloading":
                total = status.get("total_bytes") or status.get("total_bytes_estimate")
                progress(int(status.get("downloaded_bytes") or 0), int(total) if total else None)

        options = {
            "format": AUDIO_FORMAT,
            "outtmpl": str(folder / "media.%(ext)s"),
            "progress_hooks": [hook],
            "writesubtitles": False,
            "writeautomaticsub": False,
        }
        try:
            with self._ydl(**options) as ydl:
                ydl.process_ie_result(copy.deepcopy(media.raw), download=True)
        except _StopError as exc:
            raise CancelledByStudentError("cancelled") from exc
        except (YoutubeDLError, OSError) as exc:
            if isinstance(exc, DownloadError) and isinstance(
                (exc.exc_info or (None, None))[1], _StopError
            ):
                raise CancelledByStudentError("cancelled") from exc
            if cancel is not None and cancel.is_set():
                raise CancelledByStudentError("cancelled") from exc
            raise translate_error(exc) from exc
        done = [
            p
            for p in folder.iterdir()
            if p.name.startswith("media.") and not p.name.endswith((".part", ".ytdl"))
        ]
        if not done:  # e.g. over max_filesize: yt-dlp skips the download silently
            raise VideoUnavailableError("download_failed", retryable=False)
        return max(done, key=lambda p: p.stat().st_size)
