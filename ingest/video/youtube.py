"""Fetch a YouTube video's transcript (with timestamps) as a video source.

The one module that imports ``youtube_transcript_api``. Synchronous and not thread-safe (the
library keeps state on its ``requests.Session``): the bot builds one fetcher per link and runs
``fetch`` in a worker thread. Every failure becomes a ``VideoUnavailableError`` whose message
says what happened and that a subtitle file can be sent instead; ``ingest.video.lecture`` then tries
the platform's tracks and speech recognition through yt-dlp.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from xml.etree.ElementTree import ParseError

import requests
from requests.adapters import HTTPAdapter
from youtube_transcript_api import YouTubeTranscriptApi
from youtube_transcript_api._errors import (
    AgeRestricted,
    CouldNotRetrieveTranscript,
    InvalidVideoId,
    NoTranscriptFound,
    PoTokenRequired,
    RequestBlocked,
    TranscriptsDisabled,
    VideoUnavailable,
    VideoUnplayable,
)
from youtube_transcript_api.proxies import GenericProxyConfig, InvalidProxyConfig

from ingest.video.captions import choose_transcript
from ingest.video.subtitle_text import clean_line
from ingest.video.subtitles import Cue
from ingest.video.transcript import chunk_cues
from kernel.errors import ConfigError, VideoUnavailableError
from kernel.links import VideoLink
from kernel.models import ParsedSource, SourceKind, VideoMeta

__all__ = [
    "DEFAULT_LANGUAGES",
    "YouTubeTranscriptFetcher",
]

# Simplified Chinese variants, then Traditional, then English (YouTube uses all these codes).
DEFAULT_LANGUAGES: tuple[str, ...] = (
    "zh-Hans", "zh-CN", "zh", "zh-SG", "zh-Hant", "zh-TW", "zh-HK", "en", "en-US", "en-GB",
)  # fmt: skip
OEMBED_URL = "https://www.youtube.com/oembed"


def _translate_error(error: Exception) -> VideoUnavailableError:
    """One clear student message per failure the library (or the network) can raise."""
    # RequestBlocked before the rest: IpBlocked is its subclass.
    if isinstance(error, RequestBlocked):
        return VideoUnavailableError("yt_blocked", retryable=True)
    if isinstance(error, TranscriptsDisabled):
        return VideoUnavailableError("yt_disabled")
    if isinstance(error, NoTranscriptFound):
        return VideoUnavailableError("yt_no_transcript")
    if isinstance(error, VideoUnavailable | InvalidVideoId):
        return VideoUnavailableError("yt_missing")
    if isinstance(error, AgeRestricted):
        return VideoUnavailableError("yt_age")
    if isinstance(error, PoTokenRequired):
        return VideoUnavailableError("yt_po_token")
    if isinstance(error, VideoUnplayable):
        return VideoUnavailableError("yt_unplayable")
    if isinstance(error, requests.RequestException) and not isinstance(
        error, requests.JSONDecodeError
    ):
        return VideoUnavailableError("yt_network", retryable=True)
    return VideoUnavailableError("yt_garbled", retryable=True)


_EXPECTED = (
    CouldNotRetrieveTranscript,
    requests.RequestException,
    ParseError,  # a timedtext body that is not XML
    ValueError,
    KeyError,
    TypeError,
    AttributeError,
    IndexError,  # the player JSON is missing fields the library indexes blindly
)


class _TimeoutAdapter(HTTPAdapter):
    """Default timeout for every request: the library sets none, and a hung read would hold a
    worker thread forever."""

    def __init__(self, timeout_s: float) -> None:
        super().__init__()
        self._timeout_s = timeout_s

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: float | tuple[float, float] | tuple[float, None] | None = None,
        verify: bool | str = True,
        cert: bytes | str | tuple[bytes | str, bytes | str] | None = None,
        proxies: Mapping[str, str] | None = None,
    ) -> requests.Response:
        return super().send(request, stream, timeout or self._timeout_s, verify, cert, proxies)


class YouTubeTranscriptFetcher:
    """Fetches one video's transcript and title; one instance per call (not thread-safe)."""

    def __init__(
        self,
        *,
        languages: Sequence[str] = DEFAULT_LANGUAGES,
        proxy: str | None = None,
        session_factory: Callable[[], requests.Session] | None = None,
        timeout_s: float = 20.0,
    ) -> None:
        self._languages = tuple(languages) or DEFAULT_LANGUAGES
        self._timeout_s = timeout_s
        self._session_factory = session_factory or self._default_session
        try:
            self._proxy = GenericProxyConfig(http_url=proxy, https_url=proxy) if proxy else None
        except InvalidProxyConfig as error:  # pragma: no cover - guarded by the `if proxy`
            raise ConfigError("youtube_proxy") from error

    def _default_session(self) -> requests.Session:
        session = requests.Session()
        session.mount("https://", _TimeoutAdapter(self._timeout_s))
        session.mount("http://", _TimeoutAdapter(self._timeout_s))
        return session

    def fetch(self, link: VideoLink) -> ParsedSource:
        """The transcript of ``link`` as a chunked video source (synchronous, network)."""
        if link.platform != "youtube":  # other sites go through ingest.video.downloader
            raise ValueError(f"not a YouTube link: {link.url}")
        session = self._session_factory()
        try:
            return self._fetch(session, link)
        finally:
            session.close()

    def _fetch(self, session: requests.Session, link: VideoLink) -> ParsedSource:
        try:
            api = YouTubeTranscriptApi(proxy_config=self._proxy, http_client=session)
            choice = choose_transcript(list(api.list(link.video_id)), self._languages)
            if choice is None:
                raise VideoUnavailableError("yt_no_transcript")
            transcript, other_language = choice
            fetched = transcript.fetch()
        except _EXPECTED as error:
            raise _translate_error(error) from error
        snippets = [(s.start, s.duration, clean_line(s.text)) for s in fetched.snippets]
        cues = _cues(snippets)
        if not cues:
            raise VideoUnavailableError("yt_empty")
        language = str(fetched.language_code)
        warnings = []
        if other_language:
            warnings.append(
                f"这个视频没有中文或英文字幕，我使用了 {fetched.language}（{language}）字幕。 / "
                f"The video has no Chinese or English transcript; I used {fetched.language} "
                f"({language})."
            )
        if fetched.is_generated:
            warnings.append(
                "字幕是 YouTube 自动生成的，可能有识别错误。 / "
                "The transcript was generated automatically by YouTube and may contain errors."
            )
        meta = VideoMeta(
            title=self._title(session, link),
            url=link.url,
            video_id=link.video_id,
            platform="youtube",
            language=language,
            auto_generated=bool(fetched.is_generated),
            duration_s=max(c.end_s or 0.0 for c in cues),
        )
        return ParsedSource(
            kind=SourceKind.VIDEO,
            fingerprint=link.fingerprint,
            video=meta,
            chunks=tuple(chunk_cues(cues)),
            warnings=tuple(warnings),
        )

    def _title(self, session: requests.Session, link: VideoLink) -> str:
        """The title from YouTube's oEmbed endpoint (same session and proxy), or a fallback."""
        fallback = f"YouTube video {link.video_id}"
        try:
            response = session.get(
                OEMBED_URL,
                params={"url": link.url, "format": "json"},
                timeout=self._timeout_s,
            )
            response.raise_for_status()
            title = response.json().get("title")
        except (requests.RequestException, ValueError, AttributeError):
            return fallback
        if not isinstance(title, str) or not title.strip():
            return fallback
        return " ".join(title.split())[:300]


def _cues(snippets: Sequence[tuple[float, float, str]]) -> list[Cue]:
    """Snippets to cues; an end never runs past the next start (YouTube durations overlap)."""
    timed = sorted((float(s), float(d), t) for s, d, t in snippets if t)
    cues = []
    for i, (start, duration, text) in enumerate(timed):
        end = start + max(duration, 0.0)
        if i + 1 < len(timed) and timed[i + 1][0] > start:
            end = min(end, timed[i + 1][0])
        cues.append(Cue(start, end, text))
    return cues
