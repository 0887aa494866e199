"""The parts of the report written by code: section (1) and the source list.

Both come from stored metadata only. An unknown field says so; nothing is guessed. A link is
given only when the paper states one, or derived from its arXiv id or DOI.
"""

from __future__ import annotations

from kernel.models import PaperMeta, SourceRecord, VideoMeta

__all__ = [
    "basic_info",
    "checked_note",
    "paper_link",
    "paper_title",
    "source_list",
    "transcript_note",
]

_UNKNOWN = "未知（论文中未注明）"


def checked_note(model_verified: bool) -> str:
    """How the citations were checked. True of every delivered report: ReportBuilder keeps only
    markers that passed the support check, drops the sentences none passed, and delivers no
    section without citations; the model's review is named only when it took place."""
    review = "，并由语言模型逐条复核" if model_verified else ""
    return (
        "引用核对：正文中每一处“[论文 p.页码]”“[视频 时间]”引用都已由系统逐句与所引的论文页面"
        f"或视频片段比对（语义、关键术语与数字是否一致）{review}；"
        "未通过核对的引用已改到相符的片段上，或连同该句一并删除。"
    )


def paper_link(meta: PaperMeta) -> str | None:
    if meta.link:
        return meta.link
    if meta.arxiv_id:
        return f"https://arxiv.org/abs/{meta.arxiv_id}"
    if meta.doi:
        return f"https://doi.org/{meta.doi}"
    return None


def paper_title(record: SourceRecord) -> str:
    """The paper's own title, else the name it was stored under (e.g. the file name)."""
    meta = record.paper
    return (meta.title if meta and meta.title else None) or record.title


def basic_info(record: SourceRecord) -> str:
    """Section (1): one fact per line."""
    meta = record.paper or PaperMeta()
    title = meta.title or f"{_UNKNOWN}；文件名：{meta.filename or record.title}"
    lines = [
        f"论文标题：{title}",
        f"作者：{'、'.join(meta.authors) if meta.authors else _UNKNOWN}",
        f"作者单位：{'；'.join(meta.affiliations) if meta.affiliations else _UNKNOWN}",
        f"发表刊物或会议：{meta.venue or _UNKNOWN}",
        f"发表年份：{meta.year if meta.year else _UNKNOWN}",
        f"论文链接：{paper_link(meta) or _UNKNOWN}",
    ]
    if meta.arxiv_id:
        lines.append(f"arXiv 编号：{meta.arxiv_id}")
    if meta.doi:
        lines.append(f"DOI：{meta.doi}")
    if meta.pages:
        lines.append(f"论文页数：{meta.pages} 页")
    return "\n".join(lines)


def _authors_short(meta: PaperMeta) -> str:
    if not meta.authors:
        return "作者未知"
    if len(meta.authors) > 3:
        return f"{'、'.join(meta.authors[:3])} 等"
    return "、".join(meta.authors)


def _video_entry(video: SourceRecord) -> str:
    meta = video.video or VideoMeta(title=video.title)
    where = {"youtube": "YouTube", "bilibili": "哔哩哔哩"}.get(meta.platform or "", "")
    title = f"《{meta.title}》" + (f"（{where}）" if where else "")
    heard = f"；文字稿由语音识别（{meta.asr_model}）自动转写" if meta.transcribed else ""
    if meta.url:
        return f"讲解视频：{title}，链接：{meta.url}{heard}"
    if meta.filename and meta.transcribed:
        return f"讲解视频：{title}，依据学生提供的录音文件 {meta.filename}，无公开链接{heard}"
    if meta.filename:
        return f"讲解视频：{title}，依据学生提供的字幕文件 {meta.filename}，无公开链接"
    return f"讲解视频：{title}，链接未知{heard}"


def transcript_note(video: SourceRecord) -> str | None:
    """The sentence section (4) opens with when the video's words are a machine's hearing."""
    meta = video.video
    if meta is None or not meta.transcribed:
        return None
    return (
        "说明：该视频没有可用的字幕，以下要点依据语音识别自动转写的文字稿整理，"
        "文字稿未经人工校对，个别术语可能存在识别误差。"
    )


def source_list(
    paper: SourceRecord,
    video: SourceRecord | None,
    *,
    background: bool,
    notes: int,
    model_verified: bool = False,
) -> tuple[str, ...]:
    """Paper, video, then the kinds of material the text relies on that are not sources, and
    how the citations were checked (true of every report: ``ReportBuilder`` delivers none
    whose markers were not checked)."""
    meta = paper.paper or PaperMeta()
    venue = "，".join(str(v) for v in (meta.venue, meta.year) if v) or "发表信息未知"
    entries = [
        f"论文：{_authors_short(meta)}.《{paper_title(paper)}》. {venue}. "
        f"链接：{paper_link(meta) or '未知（论文中未注明）'}"
    ]
    if video is not None:
        entries.append(_video_entry(video))
    if notes:
        entries.append(
            f"学习笔记：学生在学习过程中提出的 {notes} 个问题及其解答，"
            "仅用于确定第（3）部分的讲解重点，报告正文不直接引用笔记。"
        )
    if background:
        entries.append(
            "背景知识：正文中标注“（背景知识）”的内容属于该领域的通用常识，"
            "用于帮助初学者理解，并非引自上述论文或视频，因此不附链接。"
        )
    entries.append(checked_note(model_verified))
    return tuple(entries)
