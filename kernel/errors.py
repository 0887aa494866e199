"""Every error a student or operator can be shown, in one place.

Each error formats its own message in Chinese and English and says whether retrying the same
thing later can help. The Telegram error handler and the CLI translate them; anything that is
not a ``PaperTutorError`` is a bug, logged and answered with a short apology.

    PaperTutorError                      (root: .message(lang), .retryable)
    ├── InputError                       the student must send something else
    │   ├── NotAPDFError
    │   ├── EmptyFileError
    │   ├── DamagedFileError             truncated / unreadable
    │   ├── PasswordRequiredError        encrypted, no password given
    │   ├── WrongPasswordError
    │   ├── TooLargeError                over the size or page limit
    │   ├── NoTextError                  scanned pages and no OCR, nothing left to ingest
    │   ├── UnsupportedFileError         neither PDF nor subtitle file
    │   ├── SubtitleFormatError          not a subtitle file / broken subtitles
    │   ├── UnsupportedLinkError         not a link we can read
    │   ├── MissingSourceError           the chat has no paper (or video) yet
    │   ├── MediaTooLongError            a recording over PAPERTUTOR_MAX_MEDIA_MINUTES
    │   ├── NoAudioError                 a video without a sound track
    │   ├── NothingHeardError            recognition heard no usable speech: nothing stored
    │   └── PaperChoiceError             several papers: which one is the report about?
    ├── VideoUnavailableError            no transcript can be fetched; send a subtitle file
    ├── CancelledByStudentError          the student pressed "stop": nothing stored
    ├── VideoMissingError                /report without a video: ask before going on
    ├── ReportTooShortError              the report cannot reach the minimum 字数
    ├── ReportUnsupportedError           a section has no sentence its sources support
    ├── BusyError                        this chat is already ingesting something; wait
    ├── NotFoundError                    unknown source or note id
    ├── ConfigError                      a setting is missing or wrong (operator)
    └── ServiceError                     retryable: an outside system failed
        ├── LLMError                     the language model failed (timeout, 429, 5xx, junk)
        │   └── QuizError                its quiz questions all failed the checks
        ├── TranscriptionError           speech recognition failed (endpoint down, model missing)
        ├── ReplaceFailedError           a re-sent source failed; the previous version is kept
        ├── TelegramUnavailableError     the Bot API cannot be reached (start-up)
        └── StoreUnavailableError        Qdrant cannot be reached
            └── StoreInUseError          another process holds the embedded store's directory
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

__all__ = [
    "BusyError",
    "CancelledByStudentError",
    "ConfigError",
    "DamagedFileError",
    "EmptyFileError",
    "InputError",
    "LLMError",
    "MediaTooLongError",
    "MissingSourceError",
    "NoAudioError",
    "NoTextError",
    "NotAPDFError",
    "NotFoundError",
    "NothingHeardError",
    "PaperChoiceError",
    "PaperTutorError",
    "PasswordRequiredError",
    "QuizError",
    "ReplaceFailedError",
    "ReportSectionError",
    "ReportTooShortError",
    "ReportUnsupportedError",
    "ServiceError",
    "StoreInUseError",
    "StoreUnavailableError",
    "SubtitleFormatError",
    "TelegramUnavailableError",
    "TooLargeError",
    "TranscriptionError",
    "UnsupportedFileError",
    "UnsupportedLinkError",
    "VideoMissingError",
    "VideoUnavailableError",
    "WrongPasswordError",
]


class PaperTutorError(Exception):
    """Root of all expected errors: carries the text the student sees, in both languages.

    Each class keeps its messages beside it, in ``MESSAGES``: a key names a situation, the value
    is its (Chinese, English) template. ``SomeError("key", name=value)`` fills the template; the
    ``SomeError(zh, en)`` form takes two finished texts. One piece of advice per message, in a
    beginner's words, no protocol jargon.
    """

    retryable: bool = False
    for_operator: ClassVar[bool] = False
    """Said to whoever runs the bot (start-up, settings, services): front doors show it in
    both languages, since the operator may read either."""
    MESSAGES: ClassVar[Mapping[str, tuple[str, str]]] = {}

    def __init__(
        self,
        zh_or_key: str,
        en: str | None = None,
        /,
        *,
        retryable: bool | None = None,
        **values: object,
    ) -> None:
        if en is None:
            zh_template, en_template = self.MESSAGES[zh_or_key]
            zh, en = zh_template.format(**values), en_template.format(**values)
            self.key: str | None = zh_or_key
        else:
            zh, self.key = zh_or_key, None
        super().__init__(en)
        self.zh = zh
        self.en = en
        if retryable is not None:
            self.retryable = retryable

    def message(self, lang: str = "zh") -> str:
        """The student-facing text in ``lang`` ("zh" or "en")."""
        return self.en if lang == "en" else self.zh

    def __reduce__(self) -> tuple[object, ...]:
        # Picklable (errors come back from the PDF parsing process): rebuilt from both texts,
        # with the instance's attributes (retryable, zh, en) restored on top.
        return (type(self), (self.zh, self.en), self.__dict__)


def _ending_with(
    tail: tuple[str, str], messages: Mapping[str, tuple[str, str]]
) -> dict[str, tuple[str, str]]:
    """``messages`` each followed by the same next step (Chinese, English)."""
    return {key: (zh + tail[0], f"{en} {tail[1]}") for key, (zh, en) in messages.items()}


class InputError(PaperTutorError):
    """The input cannot be used; the student has to send something else."""

    MESSAGES: ClassVar[Mapping[str, tuple[str, str]]] = {
        "no_file": ("找不到文件：{path}", "No such file: {path}"),
        "not_backup": (
            "{path} 不是可用的 Paper Tutor 备份文件（{why}）。",
            "{path} is not a usable Paper Tutor backup ({why}).",
        ),
        "backup_version": (
            "备份文件 {path} 是第 {version} 版格式，这个版本的 Paper Tutor 只认识第 {known} 版。"
            "请用生成它的（或更新的）Paper Tutor 导入。",
            "The backup {path} has format version {version}; this Paper Tutor reads version "
            "{known} only. Import it with the Paper Tutor that wrote it (or a newer one).",
        ),
    }


class NotAPDFError(InputError):
    MESSAGES: ClassVar[Mapping[str, tuple[str, str]]] = {
        "not_pdf": (
            "这个文件（{name}）不是 PDF，我读不了。请发送论文的 PDF 文件。",
            "This file ({name}) is not a PDF, so I cannot read it. Please send the paper as a PDF.",
        ),
    }


class EmptyFileError(InputError):
    MESSAGES: ClassVar[Mapping[str, tuple[str, str]]] = {
        "empty": (
            "文件是空的（{name}，0 字节）。请重新发送论文的 PDF 文件。",
            "The file is empty ({name}, 0 bytes). Please send the paper PDF again.",
        ),
    }


class DamagedFileError(InputError):
    MESSAGES: ClassVar[Mapping[str, tuple[str, str]]] = {
        "pdf_damaged": (
            "这个 PDF 已损坏或不完整（可能没有下载完），无法读取。请重新下载后再发送。",
            "This PDF is damaged or incomplete (perhaps the download was cut off) and cannot be "
            "read. Please download it again and resend it.",
        ),
        "pdf_page_damaged": (
            "这个 PDF 的第 {page} 页已损坏，无法读取。请重新下载后再发送。",
            "Page {page} of this PDF is damaged and cannot be read. "
            "Please download the file again and resend it.",
        ),
        "pdf_reader_crashed": (
            "读取这个 PDF 时阅读器崩溃了，文件可能已损坏。请重新下载（例如从 arXiv）后再发送。"
            "（解析程序退出码 {exitcode}）",
            "The PDF reader crashed on this file; it may be damaged. Please download it again "
            "(e.g. from arXiv) and resend it. (parser exit code {exitcode})",
        ),
        "render_damaged": (
            "保存的论文 PDF 读不出来了，无法显示原文。请重新发送这篇论文。",
            "The saved copy of the paper cannot be read, so its pages cannot be shown. "
            "Please send the paper again.",
        ),
        "media_unreadable": (
            "这个音频/视频文件我打不开（可能已损坏，或格式不支持）。"
            "请转成 mp3、m4a、mp4 或 wav 后再发，或者发这个视频的字幕文件。",
            "I cannot open this audio/video file (it may be damaged, or in a format I do not "
            "support). Please convert it to mp3, m4a, mp4 or wav and send it again, or send the "
            "video's subtitle file.",
        ),
    }


class PasswordRequiredError(InputError):
    MESSAGES: ClassVar[Mapping[str, tuple[str, str]]] = {
        "pdf_password": (
            "这个 PDF 有密码保护。请提供密码，或发送没有密码的版本。",
            "This PDF is password-protected. Please give the password, or send a version "
            "without one.",
        ),
        "render_password": (
            "这个 PDF 有密码保护，我不能显示它的原文页面；它的文字内容仍然可以问我。",
            "This PDF is password-protected, so I cannot show its pages; you can still ask "
            "me about its text.",
        ),
    }


class WrongPasswordError(InputError):
    MESSAGES: ClassVar[Mapping[str, tuple[str, str]]] = {
        "wrong_password": (
            "密码不正确，打不开这个 PDF。请检查密码后再试。",
            "The password is wrong, so the PDF cannot be opened. Please check it and try again.",
        ),
    }


class TooLargeError(InputError):
    MESSAGES: ClassVar[Mapping[str, tuple[str, str]]] = {
        "pdf_bytes": (
            "文件太大（{mb} MB），上限是 {limit} MB。请发送较小的 PDF（例如不含附录的版本）。",
            "The file is too large ({mb} MB); the limit is {limit} MB. "
            "Please send a smaller PDF (for example without the appendix).",
        ),
        "pdf_pages": (
            "这个 PDF 有 {pages} 页，超过了 {limit} 页的上限。请只发送论文正文部分。",
            "This PDF has {pages} pages, more than the limit of {limit}. "
            "Please send only the paper itself.",
        ),
        "subtitle_bytes": (
            "这个字幕文件有 {mb} MB，超过了上限 {limit} MB（一般一小时的讲座字幕不到 0.2 MB）。"
            "请确认发的是字幕文件；讲座很长的话，可以只发需要的那一部分。",
            "This subtitle file is {mb} MB, over the {limit} MB limit (an hour of lecture is "
            "usually under 0.2 MB). Check it is the subtitle file; for a very long talk, send "
            "only the part you need.",
        ),
        "telegram_download": (
            "Telegram 不让机器人下载这么大的文件（上限 {limit} MB）。"
            "请发送较小的版本，例如不含附录的 PDF。",
            "Telegram does not let bots download a file this large (the limit is {limit} MB). "
            "Please send a smaller version, for example the PDF without its appendix.",
        ),
        "segments": (
            "这份字幕太长了：分成了 {n} 段，超过了上限 {limit} 段（大约 {hours} 小时的讲座）。"
            "请只发送需要的那一部分，或者把它分成几个字幕文件分别发送。",
            "This transcript is too long: {n} segments, over the limit of {limit} (about "
            "{hours} hours of lecture). Send only the part you need, or split it into several "
            "subtitle files.",
        ),
    }


class NoTextError(InputError):
    MESSAGES: ClassVar[Mapping[str, tuple[str, str]]] = {
        "scanned": (
            "这个 PDF 里没有可读取的文字，看起来是扫描件（只有图片）。请发送带文字层的版本"
            "（例如从 arXiv 下载的 PDF），或先用 OCR 工具识别后再发送。",
            "This PDF has no readable text: it looks like a scanned document (images only). "
            "Please send a version with a text layer (e.g. the arXiv PDF), or run OCR first.",
        ),
        "no_body": (
            "这个 PDF 里只有页码、页眉之类的内容，没有可读的正文。请发送论文本身的 PDF。",
            "This PDF only contains page numbers or headers, no readable body text. "
            "Please send the paper itself.",
        ),
    }


class UnsupportedFileError(InputError):
    MESSAGES: ClassVar[Mapping[str, tuple[str, str]]] = {
        "unknown_kind": (
            "这种文件我读不了。请发送论文 PDF、讲座的视频/音频文件，"
            "或视频的字幕文件（.srt / .vtt / .json / .txt）。",
            "I can't read this kind of file. Send the paper as a PDF, the lecture as a video or "
            "audio file, or the video's subtitle file (.srt / .vtt / .json / .txt).",
        ),
    }


_SUBTITLE_FILES = (
    "请发送 .srt、.vtt、.json 或 .txt 格式的字幕文件。",
    "Please send a subtitle file in .srt, .vtt, .json or .txt format.",
)


class SubtitleFormatError(InputError):
    """Not a subtitle file, or broken subtitles; the message always says which files work."""

    MESSAGES: ClassVar[Mapping[str, tuple[str, str]]] = _ending_with(
        _SUBTITLE_FILES,
        {
            "binary": (
                "这看起来是{kind_zh}，不是字幕文件。",
                "This looks like {kind_en}, not subtitles.",
            ),
            "not_text": (
                "这个文件无法识别为文字（可能是二进制文件或编码损坏）。",
                "This file does not read as text (binary or a broken encoding).",
            ),
            "json_broken": (
                "这个 JSON 文件已损坏，无法读取。",
                "This JSON file is broken and cannot be read.",
            ),
            "json_layout": (
                "这个 JSON 文件不是认识的字幕格式"
                "（支持 B 站 CC 字幕、Whisper、YouTube 字幕 JSON）。",
                "This JSON file is not a subtitle layout we know "
                "(Bilibili CC subtitles, Whisper, YouTube transcript JSON).",
            ),
            "web_page": (
                "这是网页或 XML 文件，不是字幕文件。",
                "This is a web page or XML file, not subtitles.",
            ),
            "empty": ("字幕文件是空的。", "The subtitle file is empty."),
            "timestamps_unreadable": (
                "这个字幕文件里的 {n} 条时间戳都无法识别（例如 00:00:0x,000）。",
                "None of the {n} timestamps in this subtitle file could be read "
                "(e.g. 00:00:0x,000).",
            ),
            "no_text": (
                "这个字幕文件里没有可用的文字。",
                "This subtitle file contains no usable text.",
            ),
        },
    )


class UnsupportedLinkError(InputError):
    MESSAGES: ClassVar[Mapping[str, tuple[str, str]]] = {
        "not_video_link": (
            "这不是我能读取的视频链接。请发送 YouTube 或 B 站的视频链接，"
            "或者直接发送视频/音频文件或字幕文件（.srt / .vtt）。",
            "This is not a video link I can read. Send a YouTube or Bilibili link, or the "
            "video/audio file or subtitle file (.srt / .vtt) itself.",
        ),
        "not_web": (
            "“{url}” 不是网页链接：视频地址只能是 http:// 或 https:// 开头的链接。",
            "“{url}” is not a web link: a video's address must start with http:// or https://.",
        ),
    }


class MissingSourceError(InputError):
    MESSAGES: ClassVar[Mapping[str, tuple[str, str]]] = {
        "quiz": (
            "还没有可以出题的学习材料。请先发送论文的 PDF 文件（也可以再发视频链接），再发 /quiz。",
            "There is no study material to quiz you on yet. Send the paper as a PDF first (and "
            "a video link if you like), then /quiz.",
        ),
    }


class MediaTooLongError(InputError):
    """Refused before any download or recognition: recognising it would take too long."""

    MESSAGES: ClassVar[Mapping[str, tuple[str, str]]] = {
        "too_long": (
            "这个视频/录音有 {minutes} 分钟，超过了我能转写的上限（{limit} 分钟）。"
            "可以把需要的部分剪成较短的音频再发给我，或者发这个视频的字幕文件。",
            "This recording is {minutes} minutes long, over the {limit} minutes I can "
            "transcribe. Cut the part you need into a shorter audio file and send that, or send "
            "the video's subtitle file.",
        ),
        "voice_too_long": (
            "这条语音有 {seconds} 秒，作为提问太长了（最长 {limit} 秒）。"
            "请说得简短一些，或者直接打字提问；如果这是讲座录音，请把它作为音频文件发送。",
            "This voice message is {seconds} s long, too long for a question (at most {limit} s). "
            "Please ask more briefly or type your question; if it is a lecture recording, send "
            "it as an audio file.",
        ),
    }


class NoAudioError(InputError):
    MESSAGES: ClassVar[Mapping[str, tuple[str, str]]] = {
        "no_audio": (
            "这个文件里没有声音（没有音轨），我听不到讲的内容。请发带声音的视频或音频文件，"
            "或者发这个视频的字幕文件。",
            "This file has no sound track, so there is no speech for me to hear. Please send a "
            "video or audio file with sound, or the video's subtitle file.",
        ),
    }


class NothingHeardError(InputError):
    """Speech recognition found no usable speech; nothing was stored."""

    MESSAGES: ClassVar[Mapping[str, tuple[str, str]]] = {
        "nothing_heard": (
            "我在里面没有听到能用的讲话（可能是静音、音乐，或者我听不懂的语言），所以什么也没有保存。"
            "请确认这是讲座的录音，或者发这个视频的字幕文件。",
            "I heard no usable speech in it (it may be silence, music, or a language I do not "
            "understand), so nothing was stored. Please check it is the lecture's recording, or "
            "send the video's subtitle file.",
        ),
        "voice_unclear": (
            "我没听清这条语音，请再说一遍，或者直接打字提问。",
            "I could not make out this voice message. Please say it again, or type your question.",
        ),
    }


class PaperChoiceError(InputError):
    """The chat holds several papers and the report must be about one: ``choices`` are their
    (source id, title) pairs, for a front door to offer (buttons, or ``--paper``)."""

    MESSAGES: ClassVar[Mapping[str, tuple[str, str]]] = {
        "which_paper": (
            "这个对话里有 {n} 篇论文，报告只能写其中一篇。请选一篇（命令行：--paper 加论文 ID）："
            "{listing_zh}",
            "This chat holds {n} papers and a report is about one of them. Choose one (on the "
            "command line: --paper with its id): {listing_en}",
        ),
        "unknown_paper": (
            "没有 ID 为 {paper} 的论文。可以选的有：{listing_zh}",
            "There is no paper with the id {paper}. The papers are: {listing_en}",
        ),
    }

    def __init__(
        self,
        zh_or_key: str,
        en: str | None = None,
        /,
        *,
        choices: tuple[tuple[str, str], ...] = (),
        **values: Any,
    ) -> None:
        if en is None:
            values |= {
                "n": len(choices),
                "listing_zh": "；".join(f"{sid}《{title}》" for sid, title in choices),
                "listing_en": "; ".join(f"{sid} “{title}”" for sid, title in choices),
            }
        super().__init__(zh_or_key, en, **values)
        self.choices = choices


class VideoMissingError(PaperTutorError):
    """The report was asked for with no video ingested; the student decides whether to go on."""


class BusyError(PaperTutorError):
    """Another ingestion of this chat is running; this one waits or is retried."""

    retryable = True


_INSTEAD = (
    "你可以改发这个视频的字幕文件（.srt / .vtt），或者它的音频/视频文件。",
    "You can send the video's subtitle file (.srt / .vtt), or its audio or video file, instead.",
)


class VideoUnavailableError(PaperTutorError):
    """No transcript could be fetched; the message always says a subtitle file can be sent."""

    MESSAGES: ClassVar[Mapping[str, tuple[str, str]]] = _ending_with(
        _INSTEAD,
        {
            "private": (
                "这个视频是私密的，或者要登录才能看，我打不开。",
                "This video is private or needs a signed-in account, so I cannot open it.",
            ),
            "deleted": (
                "找不到这个视频（可能已被删除，或者链接不完整）。请检查链接。",
                "I cannot find this video (it may have been deleted, or the link is incomplete). "
                "Please check the link.",
            ),
            "region": (
                "这个视频在服务器所在的地区不能播放（地区限制）。",
                "This video cannot be played where the server is (a region restriction).",
            ),
            "members": (
                "这个视频只对会员或付费用户开放，我看不了。",
                "This video is only for members or paying viewers, so I cannot watch it.",
            ),
            "login": (
                "这个视频要登录后才能看（例如有年龄限制），我打不开。",
                "This video needs a signed-in account (for example an age check), so I cannot "
                "open it.",
            ),
            "live": (
                "这是一场直播（或者还没开始的直播），没法完整读取。请等直播结束、生成回放后再发回放链接。",
                "This is a live stream (or one that has not started), so it cannot be read "
                "whole. Send the replay's link once the stream is over.",
            ),
            "unsupported_site": (
                "这个网址我读不了：它不是我认识的视频网站，也不是音频/视频文件的直接链接。",
                "I cannot read this address: it is not a video site I know, nor a direct link "
                "to an audio or video file.",
            ),
            "blocked": (
                "视频网站拒绝了服务器的请求（服务器的网络地址可能被限制了），暂时拿不到这个视频。",
                "The video site refused the server's request (its network address may be "
                "blocked), so I cannot get this video right now.",
            ),
            "download_failed": (
                # No advice here: the chat offers 🔄, the CLI adds "try again later".
                "下载这个视频时网络出了问题（连接中断或太慢）。",
                "Downloading this video failed (the connection broke or was too slow).",
            ),
            # Fetching YouTube's own captions (youtube-transcript-api).
            "yt_blocked": (
                "YouTube 拒绝了我的请求（服务器的网络地址被 YouTube 限制了），暂时拿不到字幕。",
                "YouTube refused my request (the server's IP address is blocked by YouTube), "
                "so I cannot fetch the transcript right now.",
            ),
            "yt_disabled": (
                "这个视频关闭了字幕，我拿不到文字稿。",
                "This video has subtitles turned off.",
            ),
            "yt_no_transcript": ("这个视频没有任何字幕。", "This video has no transcript at all."),
            "yt_empty": ("这个视频的字幕是空的。", "This video's transcript is empty."),
            "yt_missing": (
                "找不到这个视频（可能已被删除、设为私密，或链接有误）。",
                "I cannot find this video (it may be deleted or private, or the link is wrong).",
            ),
            "yt_age": (
                "这个视频有年龄限制，需要登录才能观看，我无法获取它的字幕。",
                "This video is age-restricted and needs a signed-in account, so I cannot fetch "
                "its transcript.",
            ),
            "yt_po_token": (
                "YouTube 要求对这个视频做额外验证（PO Token），我无法自动获取它的字幕。",
                "YouTube requires an extra check (PO token) for this video, so I cannot fetch "
                "its transcript automatically.",
            ),
            "yt_unplayable": (
                "这个视频在 YouTube 上无法播放（可能有地区或会员限制），我拿不到字幕。",
                "This video cannot be played on YouTube (region or membership restriction?), "
                "so I cannot fetch its transcript.",
            ),
            "yt_network": (
                "连接 YouTube 失败（网络问题或超时），可以稍后再试。",
                "I could not reach YouTube (network problem or timeout); you can try again later.",
            ),
            "yt_garbled": (
                "YouTube 返回了我看不懂的内容，暂时拿不到字幕，可以稍后再试。",
                "YouTube sent a response I could not understand; you can try again later.",
            ),
        },
    )


class CancelledByStudentError(PaperTutorError):
    """The student stopped the work; nothing was stored."""

    MESSAGES: ClassVar[Mapping[str, tuple[str, str]]] = {
        "cancelled": ("⏹ 好的，已经停止，没有保存任何内容。", "⏹ Stopped. Nothing was stored."),
    }


class NotFoundError(PaperTutorError):
    MESSAGES: ClassVar[Mapping[str, tuple[str, str]]] = {
        "source": (
            "找不到这份材料，可能已经删除了。发送 /sources 查看现有材料。",
            "That source does not exist (maybe it was already removed). "
            "Send /sources to see what is there.",
        ),
        "store_empty": (
            "知识库是空的，没有可以导出的内容。",
            "The store is empty: nothing to copy.",
        ),
        "chat_not_stored": (
            "知识库里没有聊天 {chat} 的任何数据。",
            "The store has no data for chat {chat}.",
        ),
        "chat_not_in_backup": (
            "备份 {path} 里没有聊天 {chat}。",
            "The backup {path} has no chat {chat}.",
        ),
        "figure": (
            "找不到这个图表（{figure_id}）。发送 /figures 查看论文里的图表。",
            "There is no figure {figure_id}. Send /figures to see the paper's figures and tables.",
        ),
        "original": (
            "这篇论文的 PDF 原文没有保存下来（可能是在这个功能上线之前发送的），所以无法显示"
            "原文页面。重新发送一次论文 PDF 就可以了。",
            "The paper's PDF was not kept (it may have been sent before this feature existed), "
            "so its pages cannot be shown. Send the PDF again to fix this.",
        ),
    }


# What to do when the embedding model cannot come from the model hub.
_HUB_HINT = (
    "如果这台机器无法访问模型仓库，请设置 HF_ENDPOINT 指向可用的镜像（例如 https://hf-mirror.com），"
    "或在能联网的机器上下载后，把 PAPERTUTOR_EMBEDDING_MODEL_PATH 设为模型目录。",
    "If this machine cannot reach the model hub, set HF_ENDPOINT to a working mirror "
    "(e.g. https://hf-mirror.com), or download the model on a connected machine and set "
    "PAPERTUTOR_EMBEDDING_MODEL_PATH to its directory.",
)


class ConfigError(PaperTutorError):
    """A setting is missing or wrong: the operator must fix it (no retry helps)."""

    for_operator = True
    MESSAGES: ClassVar[Mapping[str, tuple[str, str]]] = {
        "data_dir": (
            "数据目录 {path} 不可写（{reason}）。请检查 PAPERTUTOR_DATA_DIR，"
            "并确认运行机器人的用户有写权限（Docker：卷的属主要是容器里的用户）。",
            "The data directory {path} is not writable ({reason}). Check "
            "PAPERTUTOR_DATA_DIR and that the bot's user may write there (Docker: the volume "
            "must belong to the container user).",
        ),
        "youtube_proxy": ("YouTube 代理设置无效。", "The YouTube proxy is invalid."),
        "qdrant_url": (
            "PAPERTUTOR_QDRANT_URL={url} 不是 http(s) 地址，例如 http://qdrant:6333。",
            "PAPERTUTOR_QDRANT_URL={url} is not an http(s) URL, e.g. http://qdrant:6333.",
        ),
        "qdrant_key": (
            "Qdrant 服务器 {url} 拒绝了 API 密钥。请让 PAPERTUTOR_QDRANT_API_KEY 与服务器的 "
            "QDRANT__SERVICE__API_KEY 一致。",
            "The Qdrant server at {url} refused the API key. Make "
            "PAPERTUTOR_QDRANT_API_KEY match the server's QDRANT__SERVICE__API_KEY.",
        ),
        "store_model": (
            "知识库是用嵌入模型 {stored}（{stored_dim} 维）建立的，"
            "现在配置的是 {model}（{dim} 维）。两个模型的向量不能混用。请改回原模型；"
            "或者先停止机器人，运行 `papertutor reindex` 用新模型重建索引"
            "（会先自动备份，笔记和对话记录都会保留）。",
            "The store was built with embedding model {stored} "
            "({stored_dim} dims) but {model} ({dim} dims) is configured; "
            "vectors of two models cannot be mixed. Switch back, or stop the bot and "
            "re-index with the new model: `papertutor reindex` (it writes a backup "
            "first and keeps notes and history).",
        ),
        "target_model": (
            "目标知识库是用嵌入模型 {stored}（{stored_dim} 维）建立的，要写入的数据来自 "
            "{model}（{dim} 维），两种向量不能混用。{hint_zh}",
            "The target store was built with embedding model {stored} ({stored_dim} dims) but "
            "the data comes from {model} ({dim} dims); vectors of two models cannot be mixed. "
            "{hint_en}",
        ),
        "backup_model": (
            "备份 {path} 的向量来自嵌入模型 {model}，现在配置的是 {expected}。"
            "请设置 PAPERTUTOR_EMBEDDING_MODEL={model} 再导入，"
            "或者加 --reembed 用当前模型重新计算向量。",
            "The backup {path} holds vectors of embedding model {model} but "
            "{expected} is configured. Set PAPERTUTOR_EMBEDDING_MODEL={model}, or "
            "import with --reembed to compute the vectors with the configured model.",
        ),
        "no_onnx_file": (
            "本地嵌入模型目录 {path} 里没有 .onnx 文件，请检查 PAPERTUTOR_EMBEDDING_MODEL_PATH。",
            "No .onnx file in the local embedding model directory {path}; "
            "check PAPERTUTOR_EMBEDDING_MODEL_PATH.",
        ),
        "embedder_load": (
            "无法加载嵌入模型 {model}（{where_zh}）：{reason}。"
            "如果无法访问模型仓库，请设置 HF_ENDPOINT 指向可用的镜像，"
            "或把 PAPERTUTOR_EMBEDDING_MODEL_PATH 设为已下载的 ONNX 模型目录。",
            "Cannot load the embedding model {model} from {where_en}: {reason}. "
            "If the model hub is unreachable, set HF_ENDPOINT to a working mirror, or set "
            "PAPERTUTOR_EMBEDDING_MODEL_PATH to a downloaded ONNX model directory.",
        ),
        "embedding_server_answer": (
            "嵌入服务 {url} 的回答无法使用，请检查嵌入服务地址、模型名和密钥。({detail})",
            "The embedding server at {url} gave an unusable answer; check its URL, the model "
            "name and the API key. ({detail})",
        ),
        "hub_offline": (
            "已设置 HF_HUB_OFFLINE=1（离线模式），缓存里也没有嵌入模型 {model}，无法下载。"
            "请取消 HF_HUB_OFFLINE 后重试。" + _HUB_HINT[0],
            "HF_HUB_OFFLINE=1 (offline mode) is set and the embedding model {model} is not in "
            "the cache, so it cannot be downloaded. Unset HF_HUB_OFFLINE and retry. "
            + _HUB_HINT[1],
        ),
        "hub_no_repo": (
            "在 {hub} 上找不到模型仓库 {repo}（嵌入模型 {model}）。"
            "请检查 PAPERTUTOR_EMBEDDING_MODEL 的名字；如果使用镜像，请确认 HF_ENDPOINT 正确。",
            "The model repo {repo} (embedding model {model}) was not found on {hub}. "
            "Check PAPERTUTOR_EMBEDDING_MODEL; if you use a mirror, check HF_ENDPOINT.",
        ),
        "hub_no_onnx": (
            "模型仓库 {repo} 里没有 {missing}，无法作为嵌入模型 {model} 使用。"
            "请换一个提供 ONNX 文件的模型。",
            "The model repo {repo} has no {missing}, so it cannot serve as "
            "the embedding model {model}. Choose a model that ships ONNX files.",
        ),
        "model_cache": (
            "模型缓存目录 {path} 不可写：{reason}。"
            "请检查 PAPERTUTOR_EMBEDDING_CACHE_DIR 和目录权限。",
            "The model cache directory {path} is not writable: {reason}. "
            "Check PAPERTUTOR_EMBEDDING_CACHE_DIR and its permissions.",
        ),
        "token_refused": (
            "Telegram 拒绝了机器人令牌 {token}（它无效或已被 @BotFather 撤销）。请在 @BotFather 里"
            "用 /mybots 找到机器人，复制当前的令牌写进 .env 的 TELEGRAM_BOT_TOKEN{api_hint_zh}。",
            "Telegram refused the bot token {token} (it is wrong or was revoked in @BotFather). "
            "In @BotFather, open /mybots, copy the bot's current token into TELEGRAM_BOT_TOKEN "
            "in .env{api_hint_en}.",
        ),
        "bad_settings": (
            "设置有误：{problems_zh}。"
            "请在 .env 或环境变量里改正（.env.example 里有每个设置的说明）。",
            "A setting is wrong: {problems_en}. Fix it in .env or the environment (.env.example "
            "describes every setting).",
        ),
    }


class ServiceError(PaperTutorError):
    """An outside system failed; trying again later may work."""

    retryable = True
    MESSAGES: ClassVar[Mapping[str, tuple[str, str]]] = {
        "hub_unreachable": (
            "无法从 {hub} 下载嵌入模型 {model}（{reason}）。" + _HUB_HINT[0],
            "Cannot download the embedding model {model} from {hub} ({reason}). " + _HUB_HINT[1],
        ),
        "embedding_server_down": (
            "暂时连不上嵌入服务，请稍后再试。({url}: {detail})",
            "The embedding server at {url} cannot be reached right now; "
            "please try again later. ({detail})",
        ),
        "copy_count": (
            "{what_zh}后目标知识库里的数量不对（{wrong}）。请确认没有程序同时在写入，然后重新运行。",
            "After the {what_en} the target store holds the wrong number of points "
            "({wrong}). Make sure nothing else writes to it, then run it again.",
        ),
        "reindex_failed": (
            "重建索引没有完成（{reason}）。数据都在备份 {backup} 里，没有丢失："
            "问题解决后运行 `papertutor import {backup} --reembed`。",
            "Re-indexing did not finish ({reason}). Nothing is lost, everything is in {backup}: "
            "once the problem is fixed, run `papertutor import {backup} --reembed`.",
        ),
    }


class LLMError(ServiceError):
    pass


class TranscriptionError(ServiceError):
    """Speech recognition could not run; nothing was stored."""

    MESSAGES: ClassVar[Mapping[str, tuple[str, str]]] = {
        "endpoint_down": (
            "语音识别服务暂时连不上或出错了（{reason}），这次没有转写成功，也没有保存任何内容。",
            "The speech recognition service cannot be reached or failed ({reason}); nothing was "
            "transcribed or stored.",
        ),
        "endpoint_refused": (
            "语音识别服务拒绝了请求（{reason}）。请管理员检查 PAPERTUTOR_ASR_URL、"
            "PAPERTUTOR_ASR_API_KEY 和 PAPERTUTOR_ASR_MODEL。",
            "The speech recognition service refused the request ({reason}). The operator should "
            "check PAPERTUTOR_ASR_URL, PAPERTUTOR_ASR_API_KEY and PAPERTUTOR_ASR_MODEL.",
        ),
        "model_unavailable": (
            "语音识别模型 {model} 还不能用（{reason}）。请管理员运行 `papertutor models download`"
            "（模型仓库被墙时设置 HF_ENDPOINT 镜像），或把 PAPERTUTOR_ASR_MODEL 设为本地模型目录。",
            "The speech recognition model {model} is not available ({reason}). The operator "
            "should run `papertutor models download` (with an HF_ENDPOINT mirror where the hub "
            "is blocked), or set PAPERTUTOR_ASR_MODEL to a local model directory.",
        ),
        "crashed": (
            "语音识别程序意外退出了，这次没有转写成功，也没有保存任何内容。",
            "The speech recogniser stopped unexpectedly; nothing was transcribed or stored.",
        ),
    }


class StoreUnavailableError(ServiceError):
    for_operator = True
    MESSAGES: ClassVar[Mapping[str, tuple[str, str]]] = {
        "unreachable": (
            "暂时连不上知识库（Qdrant），请稍后再试。({reason})",
            "The knowledge store (Qdrant) cannot be reached right now; please try again later. "
            "({reason})",
        ),
        "server_not_ready": (
            "Qdrant 服务器 {url} 还没有准备好（状态 {status}），请稍后再试。",
            "The Qdrant server at {url} is not ready yet (status {status}); try again soon.",
        ),
        "server_unreachable": (
            "连接不上 Qdrant 服务器 {url}。请确认 PAPERTUTOR_QDRANT_URL 正确、"
            "服务器已启动（Docker：qdrant 服务在运行）；不设置这个变量则使用内置的本地存储。",
            "Cannot reach the Qdrant server at {url}. Check PAPERTUTOR_QDRANT_URL and that the "
            "server is running (Docker: the qdrant service is up); leave it unset to use the "
            "embedded store.",
        ),
    }


class TelegramUnavailableError(ServiceError):
    """The Telegram Bot API did not answer at start-up, even after waiting."""

    for_operator = True
    MESSAGES: ClassVar[Mapping[str, tuple[str, str]]] = {
        "unreachable": (
            "连不上 Telegram（{host}），等了 {seconds} 秒仍然不行（{reason}）。请检查网络；"
            "在无法直连 Telegram 的地区，请设置代理（HTTPS_PROXY 环境变量）或自建的 Bot API 服务器"
            "（PAPERTUTOR_TELEGRAM_API_URL）。稍后可以再试。",
            "Telegram ({host}) could not be reached for {seconds} s ({reason}). Check the "
            "network; where Telegram is blocked, set a proxy (the HTTPS_PROXY environment "
            "variable) or a self-hosted Bot API server (PAPERTUTOR_TELEGRAM_API_URL). Try again "
            "later.",
        ),
    }


class StoreInUseError(StoreUnavailableError):
    """Embedded Qdrant allows one process per data directory, and another one has it."""

    MESSAGES: ClassVar[Mapping[str, tuple[str, str]]] = {
        "in_use": (
            "数据目录 {path} 正被另一个程序使用（多半是正在运行的机器人）：内置知识库同一时间"
            "只允许一个程序打开。请等它结束或先停止它（make run 的进程，或 docker compose stop "
            "bot）再试；要同时运行多个，请改用 Qdrant 服务器（PAPERTUTOR_QDRANT_URL）。",
            "The data directory {path} is in use by another process (most likely the running "
            "bot): the embedded store allows one process at a time. Wait for it to end or stop "
            "it first (the `make run` process, or `docker compose stop bot`), then try again; to "
            "run several at once, use a Qdrant server (PAPERTUTOR_QDRANT_URL).",
        ),
    }


class ReplaceFailedError(ServiceError):
    """Indexing a new copy of a source failed; the version the chat had is still READY."""

    MESSAGES: ClassVar[Mapping[str, tuple[str, str]]] = {
        "kept_previous": (
            "重新发送的《{title}》没有处理完。之前的版本没有受影响，仍然可以正常使用。",
            "The new copy of “{title}” could not be processed. The version you had before is "
            "untouched and still works.",
        ),
    }


class ReportSectionError(InputError):
    """A section the student asked to write again that cannot be written again."""

    MESSAGES: ClassVar[Mapping[str, tuple[str, str]]] = {
        "number": (
            "第（{section}）部分不能单独重写：可以重写的是第（2）（3）（4）部分。",
            "Part ({section}) cannot be rewritten on its own: parts (2), (3) and (4) can.",
        ),
        "no_video": (
            "还没有视频，第（4）部分没法重写。请先发送讲解视频。",
            "There is no video yet, so part (4) cannot be rewritten. Send the lecture video first.",
        ),
    }


class QuizError(LLMError):
    """The model's quiz questions failed the checks twice: none can be sent."""

    MESSAGES: ClassVar[Mapping[str, tuple[str, str]]] = {
        "unusable": (
            "这次出的题没有通过检查（答案和原文对不上），我没有发给你。",
            "The questions written this time failed the checks (their answers did not match "
            "the sources), so none was sent.",
        ),
    }


class ReportTooShortError(PaperTutorError):
    """The report stays under the minimum 字数 after every revision and the expand round.

    Retryable when the model was too terse; not retryable when the paper itself is too short.
    """


class ReportUnsupportedError(PaperTutorError):
    """A report section (2)-(4) ends with no citation its snippets support: never delivered
    uncited. Retryable when the model wrote past its sources; not when the material is thin."""

    MESSAGES: ClassVar[Mapping[str, tuple[str, str]]] = {
        "model": (
            "报告没有生成：{sections}写出的内容在论文和视频片段里都找不到依据，"
            "没法附上经过核对的引用。"
            "这通常是语言模型这一次没有按资料写作造成的，过一会儿再试一次通常就好。",
            "No report was made: what was written for {sections} is not supported by the paper or "
            "video passages, so it cannot carry checked citations. This usually means the language "
            "model did not write from the sources this time; trying again a little later usually "
            "works.",
        ),
        "material": (
            "报告没有生成：{sections}可用的资料太少（片段只有约 {chars} 个字符），"
            "写不出有引用依据的内容。请发送内容更完整的论文或讲解视频（带字幕）后再试。",
            "No report was made: {sections} has too little material to cite (about {chars} "
            "characters of passages). Send a fuller paper or lecture video (with subtitles) and "
            "try again.",
        ),
    }

    def __init__(self, zh_or_key: str, en: str | None = None, /, **values: object) -> None:
        super().__init__(zh_or_key, en, retryable=zh_or_key == "model", **values)
