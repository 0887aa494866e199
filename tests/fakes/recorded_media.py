"""What yt-dlp's platform extractors return for a video, as recorded for offline tests.

The shapes follow yt-dlp's ``extractor/bilibili.py`` (``BiliBiliIE``: inline SRT subtitles per
language plus ``danmaku``, AI subtitles as ``ai-zh``, ``_p2`` ids for parts, chapters from
view points) and ``extractor/youtube`` (automatic captions in every translation language, the
original marked ``-orig``, translations carrying ``tlang=``). Format and caption URLs point at a
local file server (``base``), so the real download code runs against them.
"""

from __future__ import annotations

from typing import Any

__all__ = ["BILIBILI_SRT", "bilibili_info", "live_info", "youtube_info"]

BILIBILI_SRT = """1
00:00:01,000 --> 00:00:04,000
大家好，今天我们讲注意力机制。

2
00:05:10,000 --> 00:05:15,000
自注意力让每个词都能看到句子里的其他词。
"""


def bilibili_info(base: str, *, subtitles: bool = True, duration: float = 1203.5) -> dict[str, Any]:
    subs: dict[str, Any] = {
        "danmaku": [{"ext": "xml", "url": f"{base}/danmaku.xml"}],
    }
    if subtitles:
        subs["zh-CN"] = [{"ext": "srt", "data": BILIBILI_SRT}]
        subs["ai-zh"] = [{"ext": "srt", "data": "1\n00:00:01,000 --> 00:00:02,000\n机器字幕\n"}]
    return {
        "id": "BV1GJ411x7h7_p2",
        "title": "大模型技术讲座 p02 注意力机制",
        "uploader": "王老师",
        "uploader_id": "12345",
        "timestamp": 1700000000,
        "duration": duration,
        "http_headers": {"Referer": "https://www.bilibili.com/video/BV1GJ411x7h7?p=2"},
        "formats": [
            {
                "url": f"{base}/bili-video.m4s",
                "ext": "mp4",
                "format_id": "100022",
                "vcodec": "avc1.640028",
                "acodec": "none",
                "height": 720,
                "tbr": 800.0,
            },
            {
                "url": f"{base}/bili-audio.m4s",
                "ext": "m4a",
                "format_id": "30216",
                "vcodec": "none",
                "acodec": "mp4a.40.2",
                "abr": 67.1,
                "tbr": 67.1,
            },
        ],
        "chapters": [
            {"title": "引言", "start_time": 0, "end_time": 300},
            {"title": "自注意力", "start_time": 300, "end_time": 1203},
        ],
        "subtitles": subs,
        "extractor": "BiliBili",
        "extractor_key": "BiliBili",
        "webpage_url": "https://www.bilibili.com/video/BV1GJ411x7h7?p=2",
        "original_url": "https://b23.tv/AbCd123",
        "webpage_url_basename": "BV1GJ411x7h7",
        "webpage_url_domain": "bilibili.com",
    }


def youtube_info(base: str, *, captions: bool = True) -> dict[str, Any]:
    auto: dict[str, Any] = {}
    if captions:
        auto = {
            "en-orig": [
                {"ext": "json3", "url": f"{base}/yt.json3"},
                {"ext": "vtt", "url": f"{base}/yt-en.vtt"},
            ],
            "en": [{"ext": "vtt", "url": f"{base}/yt-en.vtt"}],
            "zh-Hans": [{"ext": "vtt", "url": f"{base}/yt-en.vtt?tlang=zh-Hans"}],
        }
    return {
        "id": "eMlx5fFNoYc",
        "title": "Attention in transformers, visually explained",
        "channel": "3Blue1Brown",
        "uploader": "3Blue1Brown",
        "duration": 1561,
        "live_status": "not_live",
        "is_live": False,
        "formats": [
            {
                "format_id": "249",
                "url": f"{base}/yt-249.webm",
                "ext": "webm",
                "acodec": "opus",
                "vcodec": "none",
                "abr": 50.0,
            },
            {
                "format_id": "251",
                "url": f"{base}/yt-251.webm",
                "ext": "webm",
                "acodec": "opus",
                "vcodec": "none",
                "abr": 130.0,
            },
            {
                "format_id": "18",
                "url": f"{base}/yt-18.mp4",
                "ext": "mp4",
                "acodec": "mp4a.40.2",
                "vcodec": "avc1",
                "height": 360,
            },
        ],
        "subtitles": {},
        "automatic_captions": auto,
        "chapters": [{"title": "Intro", "start_time": 0.0, "end_time": 60.0}],
        "extractor": "youtube",
        "extractor_key": "Youtube",
        "webpage_url": "https://www.youtube.com/watch?v=eMlx5fFNoYc",
        "original_url": "https://youtu.be/eMlx5fFNoYc",
    }


def live_info(base: str) -> dict[str, Any]:
    info = youtube_info(base, captions=False)
    info |= {"id": "liveLIVE123", "is_live": True, "live_status": "is_live", "duration": None}
    info["webpage_url"] = "https://www.youtube.com/watch?v=liveLIVE123"
    return info
