"""The finished reading report as plain frozen values, and its fixed headings."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["HEADINGS", "REPORT_TITLE", "Report", "ReportSection"]

REPORT_TITLE = "大模型技术论文阅读报告"
HEADINGS: tuple[str, str, str, str] = (
    "（1）论文基本信息",
    "（2）核心内容摘要",
    "（3）关键技术解析",
    "（4）视频补充要点",
)


@dataclass(frozen=True)
class ReportSection:
    """One of the four sections. ``chars`` is the 字数 of heading plus body (see wordcount)."""

    heading: str
    body: str
    chars: int


@dataclass(frozen=True)
class Report:
    """The four sections in order, the source list, and what the student is told about it.

    ``chars`` is the total 字数 of the four sections (headings included; title and source list
    excluded), ``citations`` the number of citation markers in them, each checked: its snippet
    supports its sentence. Of the markers the model wrote in the kept drafts,
    ``citations_moved`` were moved to the snippet that supports their sentence and
    ``citations_removed`` were removed with their sentence (no snippet supported it);
    ``citations_attributed`` were added by the code to sentences the model left uncited.
    ``model_verified``: the language model also confirmed every cited claim.
    """

    title: str
    sections: tuple[ReportSection, ...]
    sources: tuple[str, ...]
    chars: int
    citations: int
    video_included: bool
    notes_used: int
    paper_title: str
    citations_moved: int = 0
    citations_attributed: int = 0
    citations_removed: int = 0
    model_verified: bool = False
