"""An offline stand-in for YouTube, for driving youtube-transcript-api through its real code.

``FakeYouTube`` is a ``requests`` transport adapter: mount it on a ``requests.Session`` (or use
``FakeYouTube.session`` as a ``session_factory``) and the library's real requests get answers
shaped like YouTube's: the watch page with ``INNERTUBE_API_KEY``, the ``youtubei/v1/player``
JSON with ``captionTracks``, the timedtext XML, and the oEmbed JSON with the title. Every request
is recorded in ``calls`` (method, URL, proxies) so tests can check what was asked.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import escape

import requests
from requests.adapters import BaseAdapter

__all__ = ["FakeTrack", "FakeYouTube", "RecordedRequest"]

API_KEY = "fake-innertube-key"

# playabilityStatus bodies as YouTube sends them for each situation.
PLAYABILITY: dict[str, dict[str, Any]] = {
    "ok": {"status": "OK"},
    "age_restricted": {
        "status": "LOGIN_REQUIRED",
        "reason": "This video may be inappropriate for some users.",
    },
    "bot_detected": {"status": "LOGIN_REQUIRED", "reason": "Sign in to confirm you’re not a bot"},
    "unavailable": {"status": "ERROR", "reason": "This video is unavailable"},
    "unplayable": {
        "status": "UNPLAYABLE",
        "reason": "Video unavailable in your country",
        "errorScreen": {
            "playerErrorMessageRenderer": {"subreason": {"runs": [{"text": "Region lock"}]}}
        },
    },
}


@dataclass(frozen=True)
class FakeTrack:
    """One caption track: language, manual or auto-generated (``asr``), and its lines."""

    language_code: str
    name: str
    lines: Sequence[tuple[float, float, str]]  # (start, duration, text)
    generated: bool = False
    po_token: bool = False  # YouTube marks tracks that need a PO token with &exp=xpe


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    url: str
    proxies: Mapping[str, str]


@dataclass
class FakeYouTube(BaseAdapter):
    """Answers the library's requests for any video id. Knobs model YouTube's failure modes."""

    tracks: Sequence[FakeTrack] = ()
    playability: str = "ok"
    captions: bool = True  # False: no captions renderer at all (subtitles disabled)
    title: str | None = "Attention in transformers"  # None: oEmbed answers 401
    watch_page: str | None = None  # override the watch page HTML (captcha, no key, ...)
    watch_status: int = 200
    player_status: int = 200
    player_body: str | None = None  # override the player response body (junk JSON)
    timedtext_body: str | None = None  # override the timedtext body (broken XML)
    connection_error: bool = False  # every request fails like an unreachable host
    calls: list[RecordedRequest] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__()

    def session(self) -> requests.Session:
        """A fresh session using this fake: pass ``fake.session`` as ``session_factory``."""
        session = requests.Session()
        session.mount("https://", self)
        session.mount("http://", self)
        return session

    def close(self) -> None:
        pass

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: float | tuple[float, float] | tuple[float, None] | None = None,
        verify: bool | str = True,
        cert: bytes | str | tuple[bytes | str, bytes | str] | None = None,
        proxies: Mapping[str, str] | None = None,
    ) -> requests.Response:
        url = request.url or ""
        self.calls.append(RecordedRequest(request.method or "", url, dict(proxies or {})))
        if self.connection_error:
            raise requests.ConnectionError(f"cannot connect to {urlsplit(url).hostname}")
        parts = urlsplit(url)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        if parts.path == "/watch":
            return _response(request, self.watch_status, self._watch_page(), "text/html")
        if parts.path == "/youtubei/v1/player":
            return self._player(request)
        if parts.path == "/api/timedtext":
            return self._timedtext(request, query)
        if parts.path == "/oembed":
            if self.title is None:
                return _response(request, 401, "Unauthorized", "text/plain")
            body = {"title": self.title, "author_name": "3Blue1Brown", "type": "video"}
            return _response(request, 200, json.dumps(body), "application/json")
        return _response(request, 404, "not found", "text/plain")

    def _watch_page(self) -> str:
        if self.watch_page is not None:
            return self.watch_page
        return (
            '<!DOCTYPE html><html><head><script>ytcfg.set({"INNERTUBE_API_KEY": '
            f'"{API_KEY}", "INNERTUBE_CLIENT_NAME": "WEB"}});</script></head></html>'
        )

    def _player(self, request: requests.PreparedRequest) -> requests.Response:
        if self.player_body is not None:
            return _response(request, self.player_status, self.player_body, "application/json")
        body = request.body or b"{}"
        video_id = json.loads(body.decode() if isinstance(body, bytes) else body)["videoId"]
        data: dict[str, Any] = {"playabilityStatus": PLAYABILITY[self.playability]}
        if self.captions:
            data["captions"] = {
                "playerCaptionsTracklistRenderer": {
                    "captionTracks": [_track_json(video_id, t) for t in self.tracks],
                    "translationLanguages": [],
                }
            }
        return _response(request, self.player_status, json.dumps(data), "application/json")

    def _timedtext(
        self, request: requests.PreparedRequest, query: Mapping[str, str]
    ) -> requests.Response:
        if self.timedtext_body is not None:
            return _response(request, 200, self.timedtext_body, "text/xml")
        generated = query.get("kind") == "asr"
        for track in self.tracks:
            if track.language_code == query.get("lang") and track.generated == generated:
                texts = "".join(
                    f'<text start="{s}" dur="{d}">{escape(t)}</text>' for s, d, t in track.lines
                )
                xml = f'<?xml version="1.0" encoding="utf-8" ?><transcript>{texts}</transcript>'
                return _response(request, 200, xml, "text/xml")
        return _response(request, 404, "no such track", "text/plain")


def _track_json(video_id: str, track: FakeTrack) -> dict[str, Any]:
    url = f"https://www.youtube.com/api/timedtext?v={video_id}&lang={track.language_code}"
    if track.generated:
        url += "&kind=asr"
    if track.po_token:
        url += "&exp=xpe"
    data: dict[str, Any] = {
        "baseUrl": url + "&fmt=srv3",
        "name": {"runs": [{"text": track.name}]},
        "vssId": ("a." if track.generated else ".") + track.language_code,
        "languageCode": track.language_code,
        "isTranslatable": True,
    }
    if track.generated:
        data["kind"] = "asr"
    return data


def _response(
    request: requests.PreparedRequest, status: int, body: str, content_type: str
) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response._content = body.encode("utf-8")
    response.headers["Content-Type"] = f"{content_type}; charset=utf-8"
    response.encoding = "utf-8"
    response.url = request.url or ""
    response.request = request
    response.reason = "OK" if status < 400 else "Error"
    return response
