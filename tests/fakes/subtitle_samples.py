"""Sample subtitle files (as text) for tests: small lectures about attention in every format
we read, with the quirks real files have. Encode them yourself (``.encode("utf-8")`` or a legacy
codec) to test decoding.

Every sample says the same few things, so a test can ask about "注意力" / "attention" and
expect an answer from the video. ``lecture_srt`` builds a long talk for chunking tests.
"""

from __future__ import annotations

import json

__all__ = [
    "BILIBILI_JSON",
    "PLAIN_TXT",
    "SENTENCE_TIMINGS_JSON",
    "SRT_EN",
    "SRT_ZH",
    "VTT_EN",
    "VTT_ROLLING",
    "WHISPER_JSON",
    "YOUTUBE_JSON",
    "lecture_srt",
]

# Chinese SRT with the 3Blue1Brown exporter's float milliseconds, a <font>/<i> tag, an ASS
# override and an empty cue. 4 cues with text; the last ends at 15.5 s.
SRT_ZH = """1
00:00:00,000 --> 00:00:03,500
在上一章中，我们开始探讨

2
00:00:03,500 --> 00:00:07,925.0000000000009
<font color="#ffffff">Transformer 的内部运作机制。</font>

3
00:00:07,925 --> 00:00:08,100

4
00:00:08,100 --> 00:00:11,639.8046875
{\\an8}<i>注意力机制</i>让每个词

5
00:00:11,639 --> 00:00:15,500
根据上下文更新自己的含义。
"""

# English SRT, plain. 4 cues, 0–16 s.
SRT_EN = """1
00:00:00,000 --> 00:00:04,000
In the last chapter we started to look inside a transformer.

2
00:00:04,000 --> 00:00:08,000
Attention lets every token look at the other tokens

3
00:00:08,000 --> 00:00:12,000
and update its meaning from the context.

4
00:00:12,000 --> 00:00:16,000
Queries, keys and values are the three ingredients.
"""

# WebVTT with a header title, NOTE and STYLE blocks, cue ids, cue settings, <c>/<v> tags,
# inline timestamps, an entity, and MM:SS switching to HH:MM:SS after the first hour.
VTT_EN = """WEBVTT - Attention lecture
Kind: captions
Language: en

NOTE
This note spans
two lines and must be ignored.

STYLE
::cue { color: yellow; }

intro
00:01.000 --> 00:04.500 align:start position:10%
<v Lecturer>Welcome to the lecture on attention.</v>

00:04.500 --> 00:09.000
Keys &amp; queries are <c.yellow>compared</c><00:00:07.000><c> with a dot product.</c>

59:58.000 --> 59:59.500
Almost an hour later.

01:00:00.000 --> 01:00:03.250 line:0
Softmax turns the scores into weights.
"""

# YouTube auto-captions: every line rolls up into the next cue, with 10 ms filler cues.
VTT_ROLLING = """WEBVTT
Kind: captions
Language: en

00:00:00.000 --> 00:00:02.000 align:start position:0%
attention<00:00:00.500><c> is</c><00:00:01.000><c> all</c>

00:00:02.000 --> 00:00:02.010 align:start position:0%
attention is all
\x20

00:00:02.010 --> 00:00:04.000 align:start position:0%
attention is all
you<00:00:02.500><c> need</c><00:00:03.000><c> today</c>

00:00:04.000 --> 00:00:04.010 align:start position:0%
you need today
\x20

00:00:04.010 --> 00:00:06.000 align:start position:0%
you need today
so<00:00:04.500><c> let's</c><00:00:05.000><c> begin</c>
"""

# Bilibili CC subtitle JSON (what browser extensions download). 3 cues, 0–9.2 s.
BILIBILI_JSON = json.dumps(
    {
        "font_size": 0.4,
        "font_color": "#FFFFFF",
        "background_alpha": 0.5,
        "body": [
            {"from": 0.0, "to": 3.1, "location": 2, "content": "大家好，今天讲注意力机制。"},
            {"from": 3.1, "to": 6.4, "location": 2, "content": "查询和键的点积决定权重。"},
            {"from": 6.4, "to": 9.2, "location": 2, "content": "最后对值做加权求和。"},
        ],
    },
    ensure_ascii=False,
)

# Whisper's JSON output. 2 segments, 0–7 s.
WHISPER_JSON = json.dumps(
    {
        "text": " Attention is all you need. It was published in 2017.",
        "segments": [
            {"id": 0, "start": 0.0, "end": 3.5, "text": " Attention is all you need."},
            {"id": 1, "start": 3.5, "end": 7.0, "text": " It was published in 2017."},
        ],
        "language": "en",
    }
)

# youtube-transcript-api's raw data (FetchedTranscript.to_raw_data()). 2 cues, 0–6 s.
YOUTUBE_JSON = json.dumps(
    [
        {"text": "Multi-head attention runs several heads", "start": 0.0, "duration": 3.0},
        {"text": "in parallel.", "start": 3.0, "duration": 3.0},
    ]
)

# 3Blue1Brown's sentence timings: [sentence, start, end]. 2 cues, 0–10.2 s.
SENTENCE_TIMINGS_JSON = json.dumps(
    [
        ["In the last chapter, you and I started to step through a transformer.", 0.0, 4.02],
        ["This is one of the key pieces of technology inside large language models.", 4.56, 10.2],
    ]
)

# A transcript without timestamps (cited without times). 3 non-empty lines.
PLAIN_TXT = """注意力机制是 Transformer 的核心。

它让模型在处理一个词时关注句子里的其他词。
多头注意力把这个过程并行做好几次。
"""

_EN_SENTENCES = (
    "Attention compares every query with every key.",
    "The dot products are scaled by the square root of the dimension",
    "and passed through a softmax to get weights.",
    "Those weights mix the value vectors into a new representation.",
    "Multi-head attention repeats this with different projections",
    "so each head can look for a different kind of relation.",
)
_ZH_SENTENCES = (
    "注意力机制会把每个查询和所有的键进行比较，",
    "点积结果除以维度的平方根，",
    "再经过 softmax 得到权重。",
    "这些权重把值向量混合成新的表示。",
    "多头注意力用不同的投影重复这个过程，",
    "每个头关注一种不同的关系。",
)


def _srt_time(seconds: float) -> str:
    ms = round(seconds * 1000)
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d},{millis:03d}"


def lecture_srt(minutes: float = 10, *, lang: str = "en", cue_s: float = 4.0) -> str:
    """A long SRT talk about attention: one cue every ``cue_s`` seconds for ``minutes``.

    Sentences cycle (some span two cues, like real captions); cue ``i`` starts at ``i*cue_s``.
    """
    sentences = _ZH_SENTENCES if lang == "zh" else _EN_SENTENCES
    count = int(minutes * 60 / cue_s)
    blocks = []
    for i in range(count):
        start, end = i * cue_s, (i + 1) * cue_s
        text = f"{sentences[i % len(sentences)]}"
        blocks.append(f"{i + 1}\n{_srt_time(start)} --> {_srt_time(end)}\n{text}\n")
    return "\n".join(blocks)
