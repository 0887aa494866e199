"""Page and timestamp labels: one format everywhere."""

from __future__ import annotations

import pytest

from kernel.locators import format_span, format_timestamp, page_label, where
from kernel.models import SourceKind


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (0, "0:00"),
        (5.9, "0:05"),
        (65, "1:05"),
        (599, "9:59"),
        (754, "12:34"),
        (3599.99, "59:59"),
        (3600, "1:00:00"),
        (6979.66, "1:56:19"),
        (-4, "0:00"),
        (float("nan"), "0:00"),
    ],
)
def test_format_timestamp(seconds: float, expected: str) -> None:
    assert format_timestamp(seconds) == expected


def test_format_span() -> None:
    assert format_span(65, 130) == "1:05–2:10"
    assert format_span(0, 9.5) == "0:00–0:09"
    assert format_span(3590, 3725) == "59:50–1:02:05"
    assert format_span(3725, 7384) == "1:02:05–2:03:04"


def test_where_names_the_page_or_the_second_in_the_chats_language() -> None:
    assert where(SourceKind.PAPER, page=5) == "p. 5"
    assert where(SourceKind.PAPER, page=5, lang="zh") == "第 5 页"
    assert where(SourceKind.PAPER) == ""
    assert where(SourceKind.VIDEO, start_s=754.9) == "video 12:34"
    assert where(SourceKind.VIDEO, start_s=754.9, lang="zh") == "视频 12:34"
    assert where(SourceKind.VIDEO, start_s=65, end_s=130, span=True) == "video 1:05–2:10"
    assert where(SourceKind.VIDEO) == "video"
    assert page_label(5, 6) == "pp. 5–6"
    assert page_label(5, 6, "zh") == "第 5–6 页"
