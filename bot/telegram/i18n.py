"""Every text the student sees in Telegram, in Chinese (default) and English.

Texts are Telegram HTML: placeholders filled by ``t`` are escaped unless their name ends in
``_html`` (already rendered markup). ``lang_for`` picks the language of an update: the /lang
choice, else English when the message is written in English, else the Telegram client's
language (English when it starts with "en"), else Chinese.
"""

from __future__ import annotations

import html
import re
from typing import Any

from telegram import Update

from kernel.language import Lang, message_language

__all__ = ["LANG_KEY", "TEXTS", "Lang", "commands", "lang_for", "t"]

LANG_KEY = "lang"
_LINK = re.compile(r"(?:https?://|www\.)\S+|\b[\w-]+(?:\.[\w-]+)+/\S*", re.IGNORECASE)
"""``user_data`` key holding the language chosen with /lang."""


TEXTS: dict[str, tuple[str, str]] = {
    # -- /start, /help, /lang ------------------------------------------------------------------
    "start": (
        "你好！我是论文伴读助手 📚\n\n"
        "1. 把论文 PDF 发给我，我会读完并告诉你标题、作者和页数。\n"
        "2. 发讲座视频：YouTube 或 B 站链接、视频/音频文件，或者字幕文件（.srt / .vtt）。"
        "没有字幕的视频，我会用语音识别把讲的内容转成文字。\n"
        "3. 然后直接提问（打字或发语音都行），例如“什么是 Transformer？”。我会用简单的话回答，"
        "并标出出处：[1] 论文第 5 页、[2] 视频 12:34。\n"
        "4. 每个回答都会记进你的笔记（/notes：看全文、⭐ 加星的笔记写报告时优先用），"
        "讲到的术语收进中英术语表（/terms）。"
        "随时发 /quiz 做一轮小测验检查自己。\n"
        "5. 最后发 /report，我帮你写好"
        "《大模型技术论文阅读报告》（.docx；/report md 或 /report pdf 换格式）。\n\n"
        "命令：/sources 资料  /notes 笔记  /quiz 小测验  /terms 术语表  /figures 图表  "
        "/report 报告  /forget 删除资料  /reset 清空  /lang 语言  /help 帮助",
        "Hi! I'm Paper Tutor 📚\n\n"
        "1. Send me a paper as a PDF: I read it and tell you its title, authors and pages.\n"
        "2. Send the lecture: a YouTube or Bilibili link, the video or audio file, or its "
        "subtitle file (.srt / .vtt). Without captions I recognise the speech myself.\n"
        '3. Then just ask (typed or as a voice message), e.g. "What is a Transformer?". I answer '
        "in plain words and cite where it comes from: [1] paper p.5, [2] video 12:34.\n"
        "4. Every answer goes into your notes (/notes: read them in full; ⭐ starred notes "
        "come first in the report), and the terms it explains into a "
        "bilingual glossary (/terms). Send /quiz any time to check yourself.\n"
        "5. At the end, send /report and I write "
        "the reading report (.docx; /report md or /report pdf for other formats) for you.\n\n"
        "Commands: /sources  /notes  /quiz  /terms  /figures  /report  /forget  /reset  /lang  "
        "/help",
    ),
    "lang_set": ("好的，之后我用中文回答。", "OK, I will answer in English from now on."),
    "lang_choose": ("请选择语言：", "Choose a language:"),
    # -- documents -----------------------------------------------------------------------------
    "downloading": ("⏬ 下载中…", "⏬ Downloading…"),
    "parsing": ("📄 解析第 {done}/{total} 页…", "📄 Reading page {done}/{total}…"),
    "fetching": ("🎬 正在获取字幕…", "🎬 Fetching the transcript…"),
    "probing": ("🔎 正在查看这个视频…", "🔎 Looking at this video…"),
    "downloading_media": (
        "⏬ 下载音频 {done} / {total} MB…",
        "⏬ Downloading the audio {done} / {total} MB…",
    ),
    "downloading_media_unknown": ("⏬ 下载音频 {done} MB…", "⏬ Downloading the audio {done} MB…"),
    "waiting_asr": (
        "⏳ 没有可用的字幕，准备语音识别（如果前面还有别的讲座，要排队）…",
        "⏳ No captions to use: getting speech recognition ready (it may wait for another "
        "lecture)…",
    ),
    "transcribing": ("🎙 转写中 {where}{estimate}", "🎙 Transcribing {where}{estimate}"),
    "eta_minutes": ("（约 {minutes} 分钟）", " (about {minutes} min left)"),
    "eta_soon": ("（马上就好）", " (almost done)"),
    "btn_stop": ("⏹ 停止", "⏹ Stop"),
    "stopping": ("正在停止…", "Stopping…"),
    "stop_too_late": ("这项工作已经结束了。", "That work has already finished."),
    "reading": ("📄 正在读取字幕…", "📄 Reading the subtitles…"),
    "indexing": ("🗂 建立索引 {done}/{total}…", "🗂 Indexing {done}/{total}…"),
    "working": ("⏳ 处理中…", "⏳ Working…"),
    "queued": (
        "⏳ 上一个文件还在处理，这个排队等它完成后再开始。",
        "⏳ The previous file is still being processed; this one waits its turn.",
    ),
    "too_large": (
        "这个文件有 {size} MB，超过了 Telegram 允许机器人下载的上限 {limit} MB。"
        "请压缩 PDF 或发一个更小的版本。",
        "This file is {size} MB, over the {limit} MB I can download. "
        "Please compress the PDF or send a smaller version.",
    ),
    "unsupported_file": (
        "我能读 PDF 论文、讲座的视频/音频文件（mp4、mp3、m4a、wav…）和字幕文件"
        "（.srt / .vtt / .json / .txt）。“{name}” 不是这几种，请换个格式再发。",
        "I can read PDF papers, lecture video/audio files (mp4, mp3, m4a, wav…) and subtitle "
        'files (.srt / .vtt / .json / .txt). "{name}" is none of these; please send it in one of '
        "those formats.",
    ),
    "media_too_big": (
        "这个文件有 {size} MB，而 Telegram 只允许机器人下载 {limit} MB 以内的文件，所以我收不到它。"
        "可以这样做：\n"
        "• 如果视频在 B 站或 YouTube 上，直接把链接发给我（最方便）；\n"
        "• 或者只发音频：用手机或电脑把视频导出/转换成 m4a 或 mp3（一小时的讲座约 15–30 MB，"
        "可以分成几段发）；\n"
        "• 或者发这个视频的字幕文件（.srt / .vtt）。",
        "This file is {size} MB, but Telegram lets bots download only files up to {limit} MB, so "
        "it cannot reach me. You can:\n"
        "• send the link instead, if the video is on Bilibili or YouTube (easiest);\n"
        "• or send just the sound: export or convert the video to m4a or mp3 (an hour of lecture "
        "is about 15–30 MB; you can send it in parts);\n"
        "• or send the video's subtitle file (.srt / .vtt).",
    ),
    "password_needed": (
        "🔒 这个 PDF 有密码。请在下一条消息里只发送密码，我读完后会删除那条消息。",
        "🔒 This PDF is password-protected. Send just the password in your next message; "
        "I will delete that message after reading it.",
    ),
    "password_wrong": (
        "🔒 密码不对，请再发一次（还可以试 {left} 次）。",
        "🔒 That password is wrong; send it again ({left} tries left).",
    ),
    "password_gave_up": (
        "🔒 密码试了太多次，我先放下这个文件了。需要时请重新发送 PDF。",
        "🔒 Too many wrong passwords; I dropped this file. Send the PDF again when ready.",
    ),
    "paper_done": ("✅ 论文读完了！", "✅ Paper ready!"),
    "paper_title": ("<b>标题：</b>{title}", "<b>Title:</b> {title}"),
    "paper_authors": ("<b>作者：</b>{authors}", "<b>Authors:</b> {authors}"),
    "paper_venue": ("<b>发表：</b>{venue}", "<b>Published:</b> {venue}"),
    "paper_link": ("<b>链接：</b>{link}", "<b>Link:</b> {link}"),
    "paper_pages": (
        "<b>页数：</b>{pages} 页（{chunks} 个片段）",
        "<b>Pages:</b> {pages} ({chunks} passages)",
    ),
    "warnings": ("⚠️ 注意：", "⚠️ Note:"),
    "suggest": ("可以先问我这些问题：", "You could start with:"),
    "unknown": ("未知", "unknown"),
    "failed": ("❌ 没有完成。", "❌ Not done."),
    "interrupted_resend": (
        "⚠️ 机器人刚才重启了，重新发送的《{title}》没有处理完。之前的版本没有受影响，仍然可以正常"
        "使用；需要更新的话，请再发送一次。",
        "⚠️ The bot restarted, so the new copy of “{title}” was not finished. The version you "
        "had before is untouched and still works; send it again to update it.",
    ),
    "interrupted_new": (
        "⚠️ 机器人刚才重启了，《{title}》没有处理完。请重新发送一次。",
        "⚠️ The bot restarted before “{title}” was finished. Please send it again.",
    ),
    "interrupted_source": (
        "⚠️ 机器人刚才重启了，“{name}”没有处理完（已有的资料不受影响）。请重新发送一次。",
        "⚠️ The bot restarted before “{name}” was finished (your other sources are not "
        "affected). Please send it again.",
    ),
    "interrupted_report": (
        "⚠️ 机器人刚才重启了，阅读报告没有写完；写好的部分都保留着，发送 /report 接着写。",
        "⚠️ The bot restarted before the report was finished; the parts already written are "
        "kept. Send /report to go on.",
    ),
    # -- videos --------------------------------------------------------------------------------
    "video_done": ("✅ 视频字幕读完了！", "✅ Video transcript ready!"),
    "video_title": ("<b>标题：</b>{title}", "<b>Title:</b> {title}"),
    "video_lang": ("<b>语言：</b>{language}", "<b>Language:</b> {language}"),
    "video_duration": ("<b>时长：</b>{duration}", "<b>Duration:</b> {duration}"),
    "video_segments": ("<b>片段：</b>{chunks} 段", "<b>Segments:</b> {chunks}"),
    "video_uploader": ("<b>作者：</b>{uploader}", "<b>By:</b> {uploader}"),
    "video_platform": ("<b>来源：</b>{platform}", "<b>From:</b> {platform}"),
    "video_text_captions": ("<b>文字稿：</b>视频的字幕", "<b>Text:</b> the video's captions"),
    "video_text_auto": (
        "<b>文字稿：</b>视频网站自动生成的字幕",
        "<b>Text:</b> captions generated by the site",
    ),
    "video_text_asr": (
        "<b>文字稿：</b>🎙 语音识别自动转写（{model}），没有人工校对",
        "<b>Text:</b> 🎙 machine-transcribed by speech recognition ({model}), not checked by a "
        "person",
    ),
    "kind_transcribed": (" · 🎙 语音识别", " · 🎙 machine-transcribed"),
    "cite_transcribed": ("（语音识别）", " (machine-transcribed)"),
    # -- voice questions -----------------------------------------------------------------------
    "listening": ("🎧 正在听…", "🎧 Listening…"),
    "voice_heard": ("🎤 {text}", "🎤 {text}"),
    # -- answers -------------------------------------------------------------------------------
    "thinking": ("🤔 思考中…", "🤔 Thinking…"),
    "sources_heading": ("<b>来源</b>", "<b>Sources</b>"),
    "btn_simpler": ("🙂 讲得更简单", "🙂 Explain more simply"),
    "btn_example": ("📝 举个例子", "📝 Give an example"),
    "btn_sources": ("📚 查看来源", "📚 Show the sources"),
    "no_citations": ("这个回答没有引用资料。", "This answer cites no source."),
    "uncited": (
        "注：这个回答没有标出处。下面是我找到的最相关的原文，请对照核对。",
        "Note: this answer names no sources. Below are the most relevant passages I found; "
        "check the answer against them.",
    ),
    "citation_removed": (
        "注：回答里有的引用和所引的资料对不上，已经改到支持它的资料上，或者删掉了。",
        "Note: some citations in this answer did not match the passage they named; they were "
        "moved to the passage that supports the sentence, or removed.",
    ),
    "attributed": (
        "注：这个回答原本没有标出处，编号是根据资料内容自动补上的，请对照原文核对。",
        "Note: this answer named no sources; the numbers were added by matching each sentence "
        "to the passage that supports it. Check them against the quotes below.",
    ),
    "answer_failed": (
        "❌ 这次没能回答完：{reason_html}",
        "❌ I could not finish this answer: {reason_html}",
    ),
    "btn_retry": ("🔄 再试一次", "🔄 Try again"),
    "expired": (
        "这个按钮已经过期了，请直接重新提问。",
        "This button has expired; please ask again.",
    ),
    "asked": ("❓ {question}", "❓ {question}"),
    # -- sources, notes, reset -----------------------------------------------------------------
    "no_sources": (
        "还没有资料。先发一篇论文 PDF 或一个视频链接吧。",
        "No sources yet. Send a paper PDF or a video link first.",
    ),
    "sources_list": ("📚 你的资料：", "📚 Your sources:"),
    "kind_paper": ("论文", "paper"),
    "kind_video": ("视频", "video"),
    "status_indexing": ("（处理中）", " (processing)"),
    "status_failed": ("（失败）", " (failed)"),
    "btn_forget": ("🗑 删除 {n}", "🗑 Remove {n}"),
    "forget_pick": ("要删除哪一个资料？", "Which source should I remove?"),
    "forgot": ("🗑 已删除：{title}", "🗑 Removed: {title}"),
    "forget_unknown": (
        "没有找到这个资料，发 /sources 看看现在有哪些。",
        "I can't find that source; send /sources to see what there is.",
    ),
    "reset_confirm": (
        "⚠️ 确定要清空这个聊天的所有资料、笔记和对话记录吗？清空后不能恢复。",
        "⚠️ Remove all sources, notes and history of this chat? This cannot be undone.",
    ),
    "btn_reset_yes": ("确认清空", "Yes, remove all"),
    "btn_cancel": ("取消", "Cancel"),
    "reset_done": ("🧹 已清空。可以重新发论文和视频了。", "🧹 All cleared. Send a new paper."),
    "cancelled": ("好的，已取消。", "OK, cancelled."),
    "no_notes": (
        "还没有笔记。提一个问题，回答会自动记进笔记。",
        "No notes yet. Ask a question and the answer is saved as a note.",
    ),
    "notes_list": (
        "📝 你的笔记（共 {n} 条，⭐ {starred} 条）：",
        "📝 Your notes ({n}, ⭐ {starred}):",
    ),
    "notes_help": (
        "📖 看全文 · ⭐ 加星（写报告时优先用）· 🗑 删除",
        "📖 read in full · ⭐ star (the report uses these first) · 🗑 remove",
    ),
    "notes_page": ("第 {page}/{pages} 页", "Page {page}/{pages}"),
    "btn_note_open": ("📖", "📖"),
    "btn_note_star": ("☆ 加星", "☆ Star"),
    "btn_note_unstar": ("⭐ 取消", "⭐ Unstar"),
    "btn_note_remove": ("🗑", "🗑"),
    "note_starred": (
        "⭐ 已加星：写报告时优先用这条笔记。",
        "⭐ Starred: the report uses this note first.",
    ),
    "note_unstarred": ("已取消星标。", "Star removed."),
    "note_deleted": ("🗑 已删除这条笔记。", "🗑 Note removed."),
    "note_unknown": ("这条笔记已经不在了。", "That note is already gone."),
    # -- quiz and glossary ---------------------------------------------------------------------
    "quiz_making": ("🧠 正在出题…", "🧠 Writing your quiz…"),
    "quiz_ready": (
        "🧠 小测验：{n} 道题。点你认为对的答案，马上能看到解析和出处。",
        "🧠 Quiz: {n} questions. Tap the answer you think is right to see why, with its source.",
    ),
    "quiz_revisit": (
        "其中 {n} 道复习你上次答错的内容。",
        "{n} of them revisit what you missed last time.",
    ),
    "quiz_score": (
        "📊 这一轮答对 {correct}/{total} 题。",
        "📊 This round: {correct}/{total} right.",
    ),
    "quiz_all_right": ("全部答对，太棒了！🎉", "All right, well done! 🎉"),
    "quiz_missed": (
        "答错的题，下一轮 /quiz 会换个问法再考你。",
        "The next /quiz asks again, in other words, about what you missed.",
    ),
    "btn_quiz_again": ("🔁 再来一轮", "🔁 Another round"),
    "terms_making": ("📖 正在整理术语表…", "📖 Putting your glossary together…"),
    "terms_empty": (
        "还没有术语。提几个问题后，回答里讲到的关键术语会自动收进这里。",
        "No terms yet. Ask a few questions: the key terms the answers explain are collected here.",
    ),
    "terms_list": ("📖 术语表（共 {n} 个）：", "📖 Glossary ({n} terms):"),
    "btn_terms_csv": ("📄 导出 CSV", "📄 Export CSV"),
    "btn_terms_md": ("📄 导出 Markdown", "📄 Export Markdown"),
    "terms_caption": ("术语表，共 {n} 个术语", "Glossary, {n} terms"),
    # -- report --------------------------------------------------------------------------------
    "report_start": ("📝 开始写阅读报告…", "📝 Starting the reading report…"),
    "report_done": ("✅ 报告写好了，请查收文件。", "✅ The report is ready: see the file."),
    "report_sending": ("📤 报告写好了，正在发送…", "📤 The report is done, sending it…"),
    "report_caption": (
        "《{title}》\n论文：{paper}\n字数：{chars}；用到 {notes} 条笔记；{video}；"
        "经逐句核对的引用 {cites} 处",
        "{title}\nPaper: {paper}\nLength: {chars} 字; {notes} notes used; {video}; "
        "{cites} citations, each checked against its source",
    ),
    "report_which_paper": (
        "这个对话里有 {n} 篇论文，一份报告只写其中一篇。这份报告写哪一篇？",
        "This chat holds {n} papers, and a report is about one of them. Which one?",
    ),
    "report_paper_set": (
        "好的，之后的报告都写《{title}》。发送 /report 开始。",
        "OK: reports will be about “{title}” from now on. Send /report to start.",
    ),
    "report_paper_mark": ("（写报告用这篇）", " (used for the report)"),
    "btn_report_paper": ("📝 报告写第 {n} 篇", "📝 Report on paper {n}"),
    "another_paper": (
        "📚 这是这个对话里的第 {n} 篇论文。写报告时我会问你写哪一篇"
        "（也可以先在 /sources 里选好）。",
        "📚 This is paper number {n} in this chat. When you send /report I will ask which one "
        "it is about (or choose in /sources first).",
    ),
    "report_video_yes": ("包含视频要点", "video included"),
    "report_video_no": ("未包含视频", "no video included"),
    "report_no_video": (
        "还没有视频资料，报告的第（4）部分“视频补充要点”会空着。"
        "要先发视频链接或字幕文件，还是不含视频直接写？",
        'There is no video yet, so part (4) "video highlights" would be empty. '
        "Send a video link or subtitle file first, or write the report without it?",
    ),
    "btn_report_anyway": ("不含视频，直接写", "Write it without video"),
    "btn_report_wait": ("我先发视频", "I'll send a video first"),
    "report_wait": (
        "好的，发来视频链接或字幕文件后，再发 /report。",
        "OK: send the video link or subtitle file, then /report again.",
    ),
    # -- report: preview, rewriting one section, retrying -----------------------------------------
    "report_preview": (
        "📄 <b>报告预览：《{title}》</b>\n论文：{paper}\n"
        "共 {chars} 字，经逐句核对的引用 {cites} 处。",
        "📄 <b>Report preview: {title}</b>\nPaper: {paper}\n{chars} 字 in all; {cites} "
        "citations, each checked against its source.",
    ),
    "report_zi": ("{chars} 字", "{chars} 字"),
    "report_preview_hint": (
        "点 🔄 只重写那一部分（其余部分保留）；满意就点 ✅，我发给你 .{fmt} 文件。",
        "Tap 🔄 to rewrite just that part (the rest stays); tap ✅ when you are happy and I "
        "will send the .{fmt} file.",
    ),
    "btn_report_again": ("🔄 重写{part}", "🔄 Rewrite {part}"),
    "btn_report_accept": ("✅ 就用这一版（.{fmt}）", "✅ Use this one (.{fmt})"),
    "failed_retry": ("❌ 没有完成：{reason_html}", "❌ Not done: {reason_html}"),
    # -- figures and printed passages -----------------------------------------------------------
    "figures_list": (
        "🖼 论文里的图表（共 {n} 个），点按钮查看：",
        "🖼 The paper's figures and tables ({n}); tap one to see it:",
    ),
    "figures_none": (
        "还没有找到图表：先发论文 PDF。有些论文（例如扫描件）里的图我认不出来。",
        "No figures yet: send the paper PDF first. Some papers (scans, for example) have "
        "figures I cannot pick out.",
    ),
    "figure_missing": (
        "论文里没有找到 {what}。发送 /figures 查看全部图表。",
        "I found no {what} in the paper. Send /figures to see all its figures and tables.",
    ),
    "figure_caption": (
        "<b>{label}</b> · 第 {page} 页 · {title}\n{caption}",
        "<b>{label}</b> · p. {page} · {title}\n{caption}",
    ),
    "passage_caption": (
        "原文 第 {page} 页 · {title}",
        "As printed, p. {page} · {title}",
    ),
    "btn_passage": ("🖼 原文 p.{page}", "🖼 Printed p.{page}"),
    "btn_figure": ("🖼 {label}", "🖼 {label}"),
    # -- guard and errors ----------------------------------------------------------------------
    "not_allowed": (
        "抱歉，这个机器人目前只对受邀的同学开放。如需使用，请联系管理员。",
        "Sorry, this bot is only open to invited students. Please ask its administrator.",
    ),
    "rate_limited": (
        "你发得有点快 🙂 标了 🙈 的消息我没有收下，请 {seconds} 秒后再发一次。",
        "You're sending messages a bit fast 🙂 I did not take the ones marked 🙈: send them "
        "again in {seconds} seconds.",
    ),
    "retry_later": ("可以稍后重试。", "You can try again later."),
    "apology_short": ("我这边出了点问题。", "something went wrong on my side."),
    "apology": (
        "抱歉，我这边出了点问题，没能完成。请稍后再试一次。",
        "Sorry, something went wrong on my side. Please try again in a moment.",
    ),
}

_COMMANDS: tuple[tuple[str, str, str], ...] = (
    ("start", "开始使用", "Get started"),
    ("help", "能做什么、怎么用", "What I can do"),
    ("sources", "查看已上传的资料", "List your sources"),
    ("notes", "查看笔记", "List your notes"),
    ("quiz", "做一轮小测验（答错的下次重点复习）", "Take a short quiz"),
    ("terms", "中英术语表（可导出 CSV / Markdown）", "Bilingual glossary (CSV / Markdown)"),
    ("figures", "查看论文里的图表", "See the paper's figures and tables"),
    (
        "report",
        "生成阅读报告 .docx（/report md、/report pdf 为其他格式）",
        "Write the report .docx (/report md or /report pdf)",
    ),
    ("forget", "删除一个资料", "Remove a source"),
    ("reset", "清空这个聊天的所有数据", "Remove everything of this chat"),
    ("lang", "切换语言 中文/English", "Switch language 中文/English"),
)


def commands(lang: Lang) -> list[tuple[str, str]]:
    """The command menu as (command, description) pairs."""
    return [(name, zh if lang == "zh" else en) for name, zh, en in _COMMANDS]


def t(lang: str, key: str, **values: Any) -> str:
    """The text ``key`` in ``lang`` with ``values`` filled in (escaped unless ``*_html``)."""
    zh, en = TEXTS[key]
    template = en if lang == "en" else zh
    filled = {
        name: value if name.endswith("_html") else html.escape(str(value), quote=False)
        for name, value in values.items()
    }
    return template.format(**filled)


def lang_for(update: object, user_data: dict[Any, Any] | None = None) -> Lang:
    """The language to answer ``update`` in (see the module docstring)."""
    if user_data is not None and user_data.get(LANG_KEY) in ("zh", "en"):
        chosen: Lang = user_data[LANG_KEY]
        return chosen
    if not isinstance(update, Update):
        return "zh"
    message = update.effective_message
    if message is not None and not (message.text or "").startswith("/"):
        # A link says nothing of the student's language ("youtu.be/…" is not English).
        words = _LINK.sub(" ", message.text or message.caption or "")
        by_text = message_language(words)
        if by_text is not None:
            return by_text
    user = update.effective_user
    if user is not None and (user.language_code or "").lower().startswith("en"):
        return "en"
    return "zh"
