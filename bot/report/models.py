"""The finished reading report as plain frozen values, and its fixed headings."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = [
    "HEADINGS",
    "REPORT_TITLE",
    "TECH_SECTION",
    "Report",
    "ReportFigure",
    "ReportProgress",
    "ReportSection",
]

REPORT_TITLE = "大模型技术论文阅读报告"
HEADINGS: tuple[str, str, str, str] = (
    "（1）论文基本信息",
    "（2）核心内容摘要",
    "（3）关键技术解析",
    "（4）视频补充要点",
)
TECH_SECTION = 2  # （3）关键技术解析, where the paper's key figures go


@dataclass(frozen=True)
class ReportSection:
    """One of the four sections. ``chars`` is the 字数 of heading plus body (see wordcount)."""

    heading: str
    body: str
    chars: int


@dataclass(frozen=True)
class ReportFigure:
    """A figure of the paper shown in the report: numbered in the report ("图 1"), with the
    paper's own label, caption and page, placed after paragraph ``after`` of its section's
    body (-1: at the end)."""

    number: int
    label: str
    caption: str
    page: int
    image: bytes = field(repr=False)
    section: int = TECH_SECTION
    after: int = -1


@dataclass(frozen=True)
class Report:
    """The four sections in order, the source list, and what the student is told about it.

    ``chars`` is the total 字数 of the four sections (headings included; title and source list
    excluded; a figure's caption counts, its picture does not), ``citations`` the number of
    citation markers in them, each checked: its snippet supports its sentence. Of the markers
    the model wrote in the kept drafts, ``citations_moved`` were moved to the snippet that
    supports their sentence and ``citations_removed`` were removed with their sentence (no
    snippet supported it); ``citations_attributed`` were added by the code to sentences the
    model left uncited. ``model_verified``: the language model also confirmed every cited
    claim. ``figures`` are the paper's key figures, with their pictures.
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
    figures: tuple[ReportFigure, ...] = ()
    paper_id: str = ""
    reused: bool = False
    """Nothing was written for it: the whole report was kept from an earlier build."""

    def figures_in(self, section: int) -> tuple[ReportFigure, ...]:
        """The figures placed in section ``section`` (0-based)."""
        return tuple(f for f in self.figures if f.section == section)

    def blocks(self, section: int) -> list[str | ReportFigure]:
        """The section's body paragraphs with its figures placed among them, in order."""
        lines = [line.strip() for line in self.sections[section].body.split("\n") if line.strip()]
        out: list[str | ReportFigure] = []
        figures = self.figures_in(section)
        for i, line in enumerate(lines):
            out.append(line)
            out.extend(f for f in figures if f.after == i)
        out.extend(f for f in figures if not 0 <= f.after < len(lines))
        return out


@dataclass(frozen=True)
class ReportProgress:
    """Where a build is: the section being written (an index into ``HEADINGS``; None while the
    whole report is checked), and the sections done so far with the seconds each took (None:
    kept from an earlier build, nothing written now)."""

    writing: int | None
    done: tuple[tuple[int, float | None], ...]
