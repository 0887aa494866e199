"""One home for file-type routing: content first, then the name, then the MIME type."""

from __future__ import annotations

import pytest

from ingest.routing import route_file


@pytest.mark.parametrize(
    ("name", "mime", "head", "kind"),
    [
        ("paper.pdf", None, b"", "pdf"),
        ("paper", "application/pdf", b"", "pdf"),
        ("whatever.bin", None, b"  %PDF-1.7", "pdf"),
        ("talk.srt", None, b"1\n00:00", "subtitles"),
        ("bilibili.json", "application/json", b"{", "subtitles"),
        ("lecture.mp4", "video/mp4", b"", "media"),
        ("lecture.MKV", None, b"", "media"),
        ("录音.m4a", None, b"", "media"),
        ("voice", "audio/ogg", b"", "media"),
        ("noext", None, b"\x00\x00\x00\x18ftypmp42", "media"),
        ("noext", None, b"OggS\x00\x02", "media"),
        ("song", None, b"ID3\x04", "media"),
        ("clip.wav", None, b"RIFF\x00\x00\x00\x00WAVE", "media"),
        ("slides.pptx", None, b"PK\x03\x04", None),
        ("notes.docx", "application/vnd.openxmlformats", b"", None),
        (None, None, b"1\n00:00:01,000 --> 00:00:02,000\nhi", "subtitles"),
        (None, None, b"\xff\xfe1\x00\n\x00", "subtitles"),  # UTF-16 text, not an MPEG frame
        (None, None, b"\xff\xfb\x90\x64", "media"),  # an MP3 frame without an ID3 tag
        ("talk.srt", None, b"ID3\x04", "subtitles"),  # the name says what the student sent
    ],
)
def test_route_file(name: str | None, mime: str | None, head: bytes, kind: str | None) -> None:
    assert route_file(name, mime=mime, head=head) == kind
