"""Section (1) and the source list come from metadata only: unknowns say so, links are real."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.report.sections import basic_info, checked_note, source_list
from kernel.models import PaperMeta, SourceKind, SourceRecord, SourceStatus, VideoMeta


def record(paper: PaperMeta | None = None, video: VideoMeta | None = None) -> SourceRecord:
    now = datetime.now(UTC)
    return SourceRecord(
        chat_id=1,
        source_id="s",
        kind=SourceKind.PAPER if paper else SourceKind.VIDEO,
        status=SourceStatus.READY,
        title="paper.pdf" if paper else "talk",
        paper=paper,
        video=video,
        created_at=now,
        updated_at=now,
    )


def test_unknown_fields_say_so_and_nothing_is_invented() -> None:
    info = basic_info(record(PaperMeta(filename="paper.pdf", pages=3)))
    assert "论文标题：未知（论文中未注明）；文件名：paper.pdf" in info
    for field in ("作者", "作者单位", "发表刊物或会议", "发表年份", "论文链接"):
        assert f"{field}：未知（论文中未注明）" in info
    assert "http" not in info
    assert "论文页数：3 页" in info


def test_links_come_from_the_paper_or_its_identifiers() -> None:
    doi = basic_info(record(PaperMeta(title="T", doi="10.1000/xyz")))
    assert "论文链接：https://doi.org/10.1000/xyz" in doi
    own = basic_info(record(PaperMeta(title="T", link="https://example.org/p", venue="ACL")))
    assert "论文链接：https://example.org/p" in own
    assert "发表刊物或会议：ACL" in own


def test_source_list_names_paper_video_and_background() -> None:
    paper = record(PaperMeta(title="T", authors=("A", "B", "C", "D"), year=2020))
    talk = record(video=VideoMeta(title="Talk", filename="talk.srt"))
    sources = source_list(paper, talk, background=True, notes=2)
    assert sources[0].startswith("论文：A、B、C 等.《T》. 2020.")
    assert "论文中未注明" in sources[0]
    assert "talk.srt" in sources[1]
    assert "无公开链接" in sources[1]
    assert "2 个问题" in sources[2]
    assert "仅用于确定第（3）部分的讲解重点" in sources[2]
    assert sources[3].startswith("背景知识：")
    assert "http" not in sources[3]
    assert sources[4] == checked_note(False)  # every report says how its citations were checked
    assert "语言模型" not in sources[4]  # the model's review is named only when it took place
    assert "由语言模型逐条复核" in checked_note(True)
    only = source_list(paper, None, background=False, notes=0, model_verified=True)
    assert only == (sources[0], checked_note(True))
