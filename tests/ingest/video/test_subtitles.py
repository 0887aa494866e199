"""Subtitle files in every format and quirk we promise to read, and clear errors otherwise."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.video.subtitles import (
    Cue,
    looks_like_subtitle_filename,
    parse_subtitles,
    read_subtitles,
)
from kernel.errors import PaperTutorError, SubtitleFormatError
from tests.fakes import subtitle_samples as samples

CORPUS = Path("/work/shared/corpus/subtitles")


def texts(cues: list[Cue]) -> list[str]:
    return [c.text for c in cues]


def test_srt_with_float_milliseconds_tags_and_empty_cue() -> None:
    cues = parse_subtitles(samples.SRT_ZH.encode(), "lecture.srt")
    assert cues == [
        Cue(0.0, 3.5, "在上一章中，我们开始探讨"),
        Cue(3.5, 7.925, "Transformer 的内部运作机制。"),
        Cue(8.1, pytest.approx(11.6398, abs=1e-4), "注意力机制让每个词"),  # type: ignore[arg-type]
        Cue(11.639, 15.5, "根据上下文更新自己的含义。"),
    ]


def test_vtt_blocks_ids_settings_tags_and_hour_switch() -> None:
    cues = parse_subtitles(samples.VTT_EN.encode(), "lecture.vtt")
    assert cues == [
        Cue(1.0, 4.5, "Welcome to the lecture on attention."),
        Cue(4.5, 9.0, "Keys & queries are compared with a dot product."),
        Cue(3598.0, 3599.5, "Almost an hour later."),
        Cue(3600.0, 3603.25, "Softmax turns the scores into weights."),
    ]


def test_rolling_auto_captions_keep_each_line_once() -> None:
    cues = parse_subtitles(samples.VTT_ROLLING.encode(), "auto.vtt")
    assert texts(cues) == ["attention is all", "you need today", "so let's begin"]
    assert [c.start_s for c in cues] == [0.0, 2.01, 4.01]


def test_repeated_line_in_normal_subtitles_is_kept() -> None:
    srt = "1\n00:00:01,000 --> 00:00:02,000\nYes.\n\n2\n00:00:02,000 --> 00:00:03,000\nYes.\n"
    assert texts(parse_subtitles(srt.encode())) == ["Yes.", "Yes."]


@pytest.mark.parametrize(
    ("sample", "expected"),
    [
        (
            samples.BILIBILI_JSON,
            [
                Cue(0.0, 3.1, "大家好，今天讲注意力机制。"),
                Cue(3.1, 6.4, "查询和键的点积决定权重。"),
                Cue(6.4, 9.2, "最后对值做加权求和。"),
            ],
        ),
        (
            samples.WHISPER_JSON,
            [
                Cue(0.0, 3.5, "Attention is all you need."),
                Cue(3.5, 7.0, "It was published in 2017."),
            ],
        ),
        (
            samples.YOUTUBE_JSON,
            [
                Cue(0.0, 3.0, "Multi-head attention runs several heads"),
                Cue(3.0, 6.0, "in parallel."),
            ],
        ),
        (
            samples.SENTENCE_TIMINGS_JSON,
            [
                Cue(0.0, 4.02, json.loads(samples.SENTENCE_TIMINGS_JSON)[0][0]),
                Cue(4.56, 10.2, json.loads(samples.SENTENCE_TIMINGS_JSON)[1][0]),
            ],
        ),
    ],
    ids=["bilibili", "whisper", "youtube", "sentence-timings"],
)
def test_json_layouts(sample: str, expected: list[Cue]) -> None:
    assert parse_subtitles(sample.encode(), "subs.json") == expected


def test_youtube_json3_events_in_milliseconds() -> None:
    data = {
        "events": [
            {"tStartMs": 0, "dDurationMs": 1500},  # window event without text
            {"tStartMs": 0, "dDurationMs": 2000, "segs": [{"utf8": "scaled"}, {"utf8": " dot"}]},
            {"tStartMs": 2000, "dDurationMs": 1000, "segs": [{"utf8": "\n"}]},
            {"tStartMs": 3000, "segs": [{"utf8": "product"}]},
        ]
    }
    cues = parse_subtitles(json.dumps(data).encode(), "x.json")
    assert cues == [Cue(0.0, 2.0, "scaled dot"), Cue(3.0, 3.0, "product")]


def test_json_skips_bad_entries_and_keeps_good_ones() -> None:
    data = {
        "body": [
            {"from": "0", "to": 1, "content": "string time"},
            {"from": True, "to": 1, "content": "bool time"},
            {"from": float("nan"), "to": 1, "content": "nan"},
            {"from": 1.0, "to": 2.0, "content": 3},
            "not a dict",
            {"from": 2.0, "to": 1.0, "content": "end before start"},
        ]
    }
    assert parse_subtitles(json.dumps(data).encode()) == [Cue(2.0, 2.0, "end before start")]


def test_plain_text_has_no_times() -> None:
    cues = parse_subtitles(samples.PLAIN_TXT.encode(), "talk.txt")
    assert texts(cues) == [
        "注意力机制是 Transformer 的核心。",
        "它让模型在处理一个词时关注句子里的其他词。",
        "多头注意力把这个过程并行做好几次。",
    ]
    assert all(c.start_s is None and c.end_s is None for c in cues)


def test_ass_dialogue_lines() -> None:
    ass = (
        "[Script Info]\nTitle: demo\n\n[Events]\n"
        "Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\n"
        "Dialogue: 0,0:00:01.50,0:00:04.00,Default,,0,0,0,,{\\an8}注意力，\\N就是加权平均\n"
        "Dialogue: 0,0:00:04.00,0:00:06.25,Default,,0,0,0,,Comma, inside text\n"
    )
    cues = parse_subtitles(ass.encode(), "x.ass")
    assert cues == [Cue(1.5, 4.0, "注意力，就是加权平均"), Cue(4.0, 6.25, "Comma, inside text")]


@pytest.mark.parametrize(
    ("codec", "prefix"),
    [
        ("utf-8", b""),
        ("utf-8", b"\xef\xbb\xbf"),
        ("utf-16-le", b"\xff\xfe"),
        ("utf-16-be", b"\xfe\xff"),
        ("utf-16-le", b""),
        ("gbk", b""),
        ("gb18030", b""),
    ],
)
def test_encodings(codec: str, prefix: bytes) -> None:
    data = prefix + samples.SRT_ZH.encode(codec)
    assert texts(parse_subtitles(data))[0] == "在上一章中，我们开始探讨"


def test_windows_1252_and_line_endings() -> None:
    srt = "1\r\n00:00:01,000 --> 00:00:02,500\r\nCaf\u00e9 na\u00efve r\u00e9sum\u00e9\r\n"
    assert parse_subtitles(srt.encode("cp1252")) == [Cue(1.0, 2.5, "Café naïve résumé")]
    assert parse_subtitles(srt.replace("\r\n", "\r").encode()) == [
        Cue(1.0, 2.5, "Café naïve résumé")
    ]


@pytest.mark.parametrize(
    ("sample", "filename"),
    [
        (samples.SRT_EN, "lecture.txt"),
        (samples.VTT_EN, "lecture.srt"),
        (samples.WHISPER_JSON, "lecture.txt"),
        (samples.SRT_EN, None),
        (samples.BILIBILI_JSON, "download"),
    ],
)
def test_format_comes_from_content_not_name(sample: str, filename: str | None) -> None:
    cues = parse_subtitles(sample.encode(), filename)
    assert all(c.start_s is not None for c in cues)
    assert len(cues) >= 2


def test_plain_text_named_srt_is_read_as_text() -> None:
    cues = parse_subtitles(b"[Music]\nHello everyone.\n", "odd.srt")
    assert texts(cues) == ["[Music]", "Hello everyone."]
    assert cues[0].start_s is None


def test_srt_quirks_without_blank_lines_dot_millis_and_numbers() -> None:
    srt = (
        "1\n00:00:01.000 --> 00:00:02.000\nIt was 2017\n"
        "2\n00:00:02,000 --> 00:00:03,000\n<b>bold</b> <u>under</u> &lt;tag&gt;\n\n"
        "3\n0:0:3,5 --> 0:0:4,25\nq < k and k > v\n\n\n"
        "4\n00:00:05,000 --> 00:00:06,000\n2017\n"
    )
    cues = parse_subtitles(srt.encode())
    assert cues == [
        Cue(1.0, 2.0, "It was 2017"),
        Cue(2.0, 3.0, "bold under <tag>"),
        Cue(3.5, 4.25, "q < k and k > v"),
        Cue(5.0, 6.0, "2017"),
    ]


def test_multiline_cues_join_by_script_and_order_is_by_time() -> None:
    srt = (
        "2\n00:00:05,000 --> 00:00:06,000\nsecond cue\nin two lines\n\n"
        "1\n00:00:01,000 --> 00:00:02,000\n第一行\n第二行\n"
    )
    assert texts(parse_subtitles(srt.encode())) == ["第一行第二行", "second cue in two lines"]


def test_vtt_inline_styles_and_voice_tags() -> None:
    vtt = (
        "WEBVTT\n\n00:00:00.000 --> 00:00:02.000 position:50% line:85%\n"
        "<v.loud Karpathy>we <c.colorE5E5E5>build</c> <00:00:01.000>GPT</v>\n"
        "<ruby>注<rt>zhù</rt></ruby>\n"
    )
    assert texts(parse_subtitles(vtt.encode())) == ["we build GPT注zhù"]


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (b"", "空"),
        (b"  \n\t\n", "空"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "PDF"),
        (b"PK\x03\x04\x14\x00\x06\x00", "Word"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "图片"),
        (bytes(range(256)) * 4, "无法识别为文字"),
        (b"<!DOCTYPE html><html><body>YouTube</body></html>", "网页"),
        (b'{"title": "not subtitles"}', "不是认识的字幕格式"),
        (b"[1, 2, 3]", "不是认识的字幕格式"),
        (b'{"body": [{"from": 1, "to": 2', "损坏"),
        (b'{"body": []}', "没有可用的文字"),
        (
            b"1\n00:00:01,000 --> 00:00:02,000\n\n2\n00:00:02,000 --> 00:00:03,000\n <i></i>\n",
            "没有可用的文字",
        ),
    ],
)
def test_not_subtitles_gives_a_clear_error(data: bytes, says: str) -> None:
    with pytest.raises(SubtitleFormatError) as caught:
        parse_subtitles(data, "x.json" if data.startswith(b'{"body": [{') else "x.srt")
    assert says in caught.value.message("zh")
    assert ".srt" in caught.value.message("zh")
    assert ".srt" in caught.value.message("en")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("lecture.srt", True),
        ("Lecture.VTT", True),
        ("subs.json", True),
        ("transcript.txt", True),
        ("a.b.zh-CN.srt", True),
        ("paper.pdf", False),
        ("movie.mp4", False),
        ("srt", False),
        ("", False),
    ],
)
def test_looks_like_subtitle_filename(name: str, expected: bool) -> None:
    assert looks_like_subtitle_filename(name) is expected


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2000))
def test_random_bytes_never_crash(data: bytes) -> None:
    try:
        cues = parse_subtitles(data)
    except PaperTutorError:
        return
    assert all(c.text for c in cues)


@settings(max_examples=300, deadline=None)
@given(
    st.text(max_size=1500)
    | st.lists(
        st.sampled_from(
            [
                "WEBVTT",
                "NOTE x",
                "1",
                "00:00:01,000 --> 00:00:02,000",
                "01:02.5 --> 1:00:00.000 align:start",
                "99:99:99,999999999.99 --> 0:0:0",
                "<c>x</c><00:00:01.000>",
                "{\\an8}",
                "",
                "文字",
                "[",
                "{",
                '{"body": [',
                "Dialogue: 0,0:00:01.00,0:00:02.00,a,,0,0,0,,t",
            ]
        ),
        max_size=40,
    ).map("\n".join)
)
def test_random_text_never_crashes(text: str) -> None:
    for data in (text.encode("utf-8"), text.encode("utf-16")):
        try:
            cues = parse_subtitles(data)
        except PaperTutorError:
            continue
        assert all(c.text.strip() == c.text and c.text for c in cues)
        times = [(c.start_s, c.end_s) for c in cues if c.start_s is not None]
        assert all(end is not None and end >= start for start, end in times)


_WORDS = st.text(alphabet="abcdefghij 注意力机制", min_size=1, max_size=30).filter(
    lambda s: any(ch != " " for ch in s)
)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 36_000_000), st.integers(0, 60_000), _WORDS), max_size=30))
def test_generated_srt_round_trips(cues: list[tuple[int, int, str]]) -> None:
    def stamp(ms: int) -> str:
        return (
            f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d},{ms % 1000:03d}"
        )

    blocks = [
        f"{i + 1}\n{stamp(start)} --> {stamp(start + length)}\n{text}\n"
        for i, (start, length, text) in enumerate(cues)
    ]
    data = "\n".join(blocks).encode()
    if not cues:
        with pytest.raises(SubtitleFormatError):
            parse_subtitles(data)
        return
    parsed = parse_subtitles(data)
    expected = sorted(
        ((s / 1000, (s + n) / 1000, " ".join(t.split())) for s, n, t in cues), key=lambda c: c[0]
    )
    assert [c.text for c in parsed] == [e[2] for e in expected]
    assert [c.start_s for c in parsed] == pytest.approx([e[0] for e in expected])
    assert [c.end_s for c in parsed] == pytest.approx([e[1] for e in expected])


corpus = pytest.mark.skipif(not CORPUS.is_dir(), reason="corpus not present")


@corpus
@pytest.mark.parametrize(
    ("name", "count", "last_end"),
    [
        ("3b1b-attention/zh.srt", 424, 1569.2),
        ("3b1b-attention/en.srt", 421, 1569.2),
        ("3b1b-attention/en.sentence_timings.json", 182, 1569.2),
        ("nanoGPT.srt", 1773, 6979.66),
        ("nanoGPT.vtt", 1773, 6979.66),
    ],
)
def test_corpus_files_parse_fully(name: str, count: int, last_end: float) -> None:
    cues = parse_subtitles((CORPUS / name).read_bytes(), name)
    assert len(cues) == count
    assert cues[-1].end_s == pytest.approx(last_end)
    starts = [c.start_s or 0.0 for c in cues]
    assert starts == sorted(starts)
    assert all(c.start_s is not None for c in cues)


@corpus
def test_corpus_malformed_timestamps_and_hour_switch() -> None:
    zh = parse_subtitles((CORPUS / "3b1b-attention/zh.srt").read_bytes())
    assert zh[2] == Cue(4.56, 7.925, "Transformer 是大语言模型中关键的技术组成部分，")
    srt = parse_subtitles((CORPUS / "nanoGPT.srt").read_bytes())
    vtt = parse_subtitles((CORPUS / "nanoGPT.vtt").read_bytes())
    assert srt == vtt


def test_unreadable_timestamps_skip_their_cue_and_are_counted() -> None:
    srt = (
        "1\n00:00:01,000 --> 00:00:03,000\nHello there.\n\n"
        "2\n00:00:0x,000 --> 00:00:06,000\nSecond line.\n\n"
        "3\n01:99:10,000 --> 01:99:12,000\nOdd minutes.\n\n"
        "4\n00:00:07,000 --> 00:00:09,000\nBack on track.\n\n"
        "5\n00:00:10,000 --> 00:00:11,000.0000000000009\nA float tail is fine.\n"
    )
    parsed = read_subtitles(srt.encode(), "talk.srt")
    assert texts(parsed.cues) == ["Hello there.", "Back on track.", "A float tail is fine."]
    assert parsed.dropped == 2  # the broken timing lines never leak into another cue's text
    assert parsed.cues[2].end_s == 11.0


def test_a_file_whose_timestamps_are_all_unreadable_says_so() -> None:
    srt = "1\n00:00:0a,000 --> 00:00:0b,000\nOne.\n\n2\n00:61:00,000 --> 00:62:00,000\nTwo.\n"
    with pytest.raises(SubtitleFormatError) as caught:
        read_subtitles(srt.encode(), "broken.srt")
    assert "2 timestamps" in caught.value.message("en")
    assert "时间戳都无法识别" in caught.value.message("zh")


def test_json_entries_without_a_usable_start_are_counted() -> None:
    data = {"segments": [{"start": "soon", "end": 2, "text": "no time"},
                         {"start": 1.0, "end": 2.0, "text": "fine"}]}  # fmt: skip
    parsed = read_subtitles(json.dumps(data).encode(), "w.json")
    assert (texts(parsed.cues), parsed.dropped) == (["fine"], 1)


@corpus
def test_the_corpus_float_timestamps_are_read_not_dropped() -> None:
    # 211 cues of 3b1b zh.srt end like "00:00:04,560.0000000000009": a student expects 4.56 s.
    parsed = read_subtitles((CORPUS / "3b1b-attention/zh.srt").read_bytes(), "zh.srt")
    assert (len(parsed.cues), parsed.dropped) == (424, 0)
