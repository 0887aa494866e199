"""Transcript chunks (sentence-aligned windows of the talk) and video sources from files."""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from itertools import pairwise
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.video.subtitles import Cue, parse_subtitles
from ingest.video.transcript import chunk_cues, video_source_from_subtitles
from kernel.errors import TooLargeError
from kernel.language import transcript_language
from kernel.models import Chunk, SourceKind
from tests.fakes import subtitle_samples as samples

CORPUS = Path("/work/shared/corpus/subtitles")
SENTENCE_END = re.compile(r"[.?!。？！]$")


def assert_well_formed(chunks: list[Chunk], max_chars: int) -> None:
    assert [c.ordinal for c in chunks] == list(range(len(chunks)))
    for chunk in chunks:
        assert chunk.text
        assert len(chunk.text) <= max_chars
        if chunk.start_s is not None:
            assert chunk.end_s is not None
            assert chunk.end_s >= chunk.start_s
    starts = [c.start_s for c in chunks if c.start_s is not None]
    assert starts == sorted(starts)


def test_english_lecture_windows_end_at_sentences_and_overlap() -> None:
    cues = parse_subtitles(samples.lecture_srt(10).encode())
    chunks = chunk_cues(cues)
    assert_well_formed(chunks, 900)
    assert 8 <= len(chunks) <= 20
    assert chunks[0].start_s == 0.0
    assert chunks[-1].end_s == 600.0
    for chunk in chunks:
        assert SENTENCE_END.search(chunk.text), chunk.text[-40:]
        assert chunk.end_s is not None
        assert chunk.start_s is not None
        assert chunk.end_s - chunk.start_s <= 75 * 1.2
    for before, after in pairwise(chunks):
        last_sentence = before.text.rsplit(". ", 1)[-1]
        assert after.text.startswith(last_sentence)  # the small overlap
        assert after.start_s is not None
        assert before.end_s is not None
        assert after.start_s < before.end_s
    assert "dimension and passed" in chunks[0].text  # Latin cues joined with a space


def test_chinese_cues_join_without_spaces() -> None:
    chunks = chunk_cues(parse_subtitles(samples.lecture_srt(5, lang="zh").encode()))
    assert_well_formed(chunks, 900)
    assert "比较，点积结果" in chunks[0].text
    assert all(SENTENCE_END.search(c.text) for c in chunks)


def test_window_closes_at_a_long_pause_without_punctuation() -> None:
    cues = [Cue(float(i * 5), float(i * 5 + 4), f"words without an end {i}") for i in range(14)]
    cues += [Cue(200.0 + i * 5, 204.0 + i * 5, f"after the pause {i}") for i in range(14)]
    chunks = chunk_cues(cues)
    assert chunks[0].end_s == 69.0
    assert chunks[0].text.endswith("words without an end 13")
    assert chunks[1].start_s is not None
    assert chunks[1].start_s >= 65.0


def test_plain_text_chunks_have_no_times() -> None:
    line = "注意力机制让模型关注输入中最相关的部分。"
    cues = [Cue(None, None, line) for _ in range(100)]
    chunks = chunk_cues(cues, max_chars=300)
    assert_well_formed(chunks, 300)
    assert len(chunks) >= 7
    assert all(c.start_s is None and c.end_s is None for c in chunks)


def test_one_huge_cue_is_split_with_interpolated_times() -> None:
    sentence = "Attention mixes value vectors with weights from queries and keys. "
    cue = Cue(0.0, 300.0, (sentence * 80).strip())
    chunks = chunk_cues([cue])
    assert_well_formed(chunks, 900)
    assert len(chunks) >= 6
    assert chunks[0].start_s == 0.0
    assert chunks[-1].end_s == pytest.approx(300.0)
    assert chunks[1].start_s is not None
    assert 0 < chunks[1].start_s < 300


def test_unpunctuated_giant_chinese_text_is_still_bounded() -> None:
    chunks = chunk_cues([Cue(0.0, 60.0, "注意力" * 1500)], max_chars=500)
    assert_well_formed(chunks, 500)
    assert "".join(c.text for c in chunks).count("注意力") >= 1500


def test_no_cues_no_chunks() -> None:
    assert chunk_cues([]) == []
    assert chunk_cues([Cue(0.0, 1.0, "   ")]) == []


_TEXT = st.text(alphabet="ab cd.。注意力,!", min_size=1, max_size=400).filter(str.strip)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(st.floats(0, 5000), st.floats(0, 200), _TEXT),
        max_size=60,
    ),
    st.integers(min_value=50, max_value=1500),
    st.floats(min_value=5, max_value=300),
)
def test_chunk_invariants(
    raw: list[tuple[float, float, str]], max_chars: int, target: float
) -> None:
    cues = sorted((Cue(s, s + d, t.strip()) for s, d, t in raw), key=lambda c: c.start_s or 0)
    chunks = chunk_cues(cues, target_s=target, max_chars=max_chars)
    assert_well_formed(chunks, max_chars)
    # No text is lost (overlap may repeat some).
    said = Counter("".join(c.text for c in cues).replace(" ", ""))
    kept = Counter("".join(c.text for c in chunks).replace(" ", ""))
    assert not said - kept


def test_source_from_subtitles_without_link() -> None:
    data = samples.SRT_ZH.encode()
    source = video_source_from_subtitles(data, filename="第3讲 注意力.srt")
    assert source.kind is SourceKind.VIDEO
    assert source.fingerprint == hashlib.sha256(data).hexdigest()
    video = source.video
    assert video is not None
    assert video.title == "第3讲 注意力"
    assert (video.url, video.video_id, video.platform) == (None, None, None)
    assert video.language == "zh"
    assert video.auto_generated is None
    assert video.duration_s == 15.5
    assert video.filename == "第3讲 注意力.srt"
    assert source.warnings == ()
    assert "Transformer 的内部运作机制。注意力机制" in source.chunks[0].text


def test_source_with_youtube_link_replaces_a_fetched_transcript() -> None:
    source = video_source_from_subtitles(
        samples.SRT_EN.encode(),
        filename="en.srt",
        url="https://youtu.be/eMlx5fFNoYc?t=10",
        title="Attention in transformers",
    )
    assert source.fingerprint == "youtube:eMlx5fFNoYc"
    video = source.video
    assert video is not None
    assert video.url == "https://www.youtube.com/watch?v=eMlx5fFNoYc"
    assert (video.video_id, video.platform) == ("eMlx5fFNoYc", "youtube")
    assert video.title == "Attention in transformers"
    assert video.language == "en"


@pytest.mark.parametrize(
    ("filename", "url", "title"),
    [
        ("zh.srt", "https://youtu.be/eMlx5fFNoYc", "YouTube video eMlx5fFNoYc"),
        ("en.sentence_timings.json", "https://youtu.be/eMlx5fFNoYc", "YouTube video eMlx5fFNoYc"),
        ("subtitles.srt", None, "视频字幕（subtitles.srt）"),
        ("zh-CN.vtt", None, "视频字幕（zh-CN.vtt）"),
        ("nanoGPT.srt", None, "nanoGPT"),
        ("Let's build GPT.srt", "https://youtu.be/kCc8FmEb1nY", "Let's build GPT"),
    ],
)
def test_a_file_name_that_names_no_video_is_not_used_as_its_title(
    filename: str, url: str | None, title: str
) -> None:
    source = video_source_from_subtitles(samples.SRT_EN.encode(), filename=filename, url=url)
    assert source.video is not None
    assert source.video.title == title


def test_source_with_bilibili_link_and_other_urls() -> None:
    bili = video_source_from_subtitles(
        samples.BILIBILI_JSON.encode(),
        filename=None,
        url="https://www.bilibili.com/video/BV1GJ411x7h7?p=2",
    )
    assert bili.fingerprint == "bilibili:BV1GJ411x7h7:p2"
    assert bili.video is not None
    assert bili.video.platform == "bilibili"
    assert bili.video.title == "Bilibili video BV1GJ411x7h7"
    other = video_source_from_subtitles(
        samples.WHISPER_JSON.encode(), filename=None, url="https://example.com/talk"
    )
    assert other.video is not None
    assert other.video.url == "https://example.com/talk"
    assert other.video.platform is None
    assert other.video.title == "视频字幕"
    assert other.fingerprint == hashlib.sha256(samples.WHISPER_JSON.encode()).hexdigest()


def test_plain_text_source_warns_about_missing_times() -> None:
    source = video_source_from_subtitles(samples.PLAIN_TXT.encode(), filename="talk.txt")
    assert source.video is not None
    assert source.video.duration_s is None
    assert all(c.start_s is None for c in source.chunks)
    assert len(source.warnings) == 1
    assert "时间戳" in source.warnings[0]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("注意力机制让每个词根据上下文更新自己的含义。" * 3, "zh"),
        ("In the last chapter we started to look inside a transformer and it is fun. " * 3, "en"),
        ("Le mécanisme d'attention permet au modèle de regarder les autres mots. " * 3, None),
        ("zhu yi li ji zhi rang mei ge ci gen ju shang xia wen geng xin han yi " * 3, None),
        ("42 17 3.14", None),
    ],
)
def test_transcript_language(text: str, expected: str | None) -> None:
    assert transcript_language(text) == expected


@pytest.mark.skipif(not CORPUS.is_dir(), reason="corpus not present")
def test_corpus_nanogpt_chunks() -> None:
    source = video_source_from_subtitles(
        (CORPUS / "nanoGPT.srt").read_bytes(), filename="nanoGPT.srt"
    )
    chunks = list(source.chunks)
    assert_well_formed(chunks, 900)
    assert 120 <= len(chunks) <= 220
    assert source.video is not None
    assert source.video.duration_s == pytest.approx(6979.66)
    assert source.video.language == "en"
    ends = sum(1 for c in chunks if SENTENCE_END.search(c.text))
    assert ends >= 0.7 * len(chunks)


def test_skipped_cues_become_a_warning_with_the_count() -> None:
    srt = (
        "1\n00:00:01,000 --> 00:00:03,000\nAttention compares queries with keys.\n\n"
        "2\n00:00:0x,000 --> 00:00:06,000\nLost.\n\n"
        "3\n00:00:07,000 --> 00:00:09,000\nSoftmax makes weights.\n"
    )
    parsed = video_source_from_subtitles(srt.encode(), filename="talk.srt")
    assert any("1 条（共 3 条）的时间戳无法识别" in w for w in parsed.warnings)
    assert any("1 of 3 cues" in w for w in parsed.warnings)
    assert "Lost" not in " ".join(c.text for c in parsed.chunks)


def test_a_subtitle_file_over_the_size_limit_is_refused_before_reading() -> None:
    with pytest.raises(TooLargeError) as caught:
        video_source_from_subtitles(b"x" * 3_000_000, filename="big.txt", max_bytes=2 * 2**20)
    assert "2.9 MB" in caught.value.message("en")
    assert "上限 2 MB" in caught.value.message("zh")


def test_a_transcript_over_the_segment_limit_is_refused() -> None:
    text = samples.lecture_srt(60)  # an hour of talk: dozens of segments
    with pytest.raises(TooLargeError) as caught:
        video_source_from_subtitles(text.encode(), filename="talk.srt", max_segments=10)
    assert "segments, over the limit of 10" in caught.value.message("en")
    assert video_source_from_subtitles(text.encode(), filename="talk.srt", max_segments=2000)
