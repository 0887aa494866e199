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
    │   └── PaperChoiceError             several papers: which one is the report about?
    ├── VideoUnavailableError            no transcript can be fetched; send a subtitle file
    ├── VideoMissingError                /report without a video: ask before going on
    ├── ReportTooShortError              the report cannot reach the minimum 字数
    ├── BusyError                        this chat is already ingesting something; wait
    ├── NotFoundError                    unknown source or note id
    ├── ConfigError                      a setting is missing or wrong (operator)
    └── ServiceError                     retryable: an outside system failed
        ├── LLMError                     the language model failed (timeout, 429, 5xx, junk)
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
    "ConfigError",
    "DamagedFileError",
    "EmptyFileError",
    "InputError",
    "LLMError",
    "MissingSourceError",
    "NoTextError",
    "NotAPDFError",
    "NotFoundError",
    "PaperChoiceError",
    "PaperTutorError",
    "PasswordRequiredError",
    "ReplaceFailedError",
    "ReportTooShortError",
    "ServiceError",
    "StoreInUseError",
    "StoreUnavailableError",
    "SubtitleFormatError",
    "TelegramUnavailableError",
    "TooLargeError",
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


class InputError(PaperTutorError):
    """The input cannot be used; the student has to send something else."""


class NotAPDFError(InputError):
    pass


class EmptyFileError(InputError):
    pass


class DamagedFileError(InputError):
    pass


class PasswordRequiredError(InputError):
    pass


class WrongPasswordError(InputError):
    pass


class TooLargeError(InputError):
    MESSAGES: ClassVar[Mapping[str, tuple[str, str]]] = {
        "subtitle_bytes": (
            "这个字幕文件有 {mb} MB，超过了上限 {limit} MB（一般一小时的讲座字幕不到 0.2 MB）。"
            "请确认发的是字幕文件；讲座很长的话，可以只发需要的那一部分。",
            "This subtitle file is {mb} MB, over the {limit} MB limit (an hour of lecture is "
            "usually under 0.2 MB). Check it is the subtitle file; for a very long talk, send "
            "only the part you need.",
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
    pass


class UnsupportedFileError(InputError):
    pass


class SubtitleFormatError(InputError):
    pass


class UnsupportedLinkError(InputError):
    MESSAGES: ClassVar[Mapping[str, tuple[str, str]]] = {
        "not_web": (
            "“{url}” 不是网页链接：视频地址只能是 http:// 或 https:// 开头的链接。",
            "“{url}” is not a web link: a video's address must start with http:// or https://.",
        ),
    }


class MissingSourceError(InputError):
    pass


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


class VideoUnavailableError(PaperTutorError):
    """No transcript could be fetched; the message always says a subtitle file can be sent."""


class NotFoundError(PaperTutorError):
    pass


class ConfigError(PaperTutorError):
    """A setting is missing or wrong: the operator must fix it (no retry helps)."""

    for_operator = True
    MESSAGES: ClassVar[Mapping[str, tuple[str, str]]] = {
        "token_refused": (
            "Telegram 拒绝了机器人令牌 {token}（它无效或已被 @BotFather 撤销）。请在 @BotFather 里"
            "用 /mybots 找到机器人，复制当前的令牌写进 .env 的 TELEGRAM_BOT_TOKEN{api_hint_zh}。",
            "Telegram refused the bot token {token} (it is wrong or was revoked in @BotFather). "
            "In @BotFather, open /mybots, copy the bot's current token into TELEGRAM_BOT_TOKEN "
            "in .env{api_hint_en}.",
        ),
        "bad_settings": (
            "设置有误：{zh_list}。请在 .env 或环境变量里改正（.env.example 里有每个设置的说明）。",
            "A setting is wrong: {en_list}. Fix it in .env or the environment (.env.example "
            "describes every setting).",
        ),
    }


class ServiceError(PaperTutorError):
    """An outside system failed; trying again later may work."""

    retryable = True


class LLMError(ServiceError):
    pass


class StoreUnavailableError(ServiceError):
    for_operator = True


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


class ReportTooShortError(PaperTutorError):
    """The report stays under the minimum 字数 after every revision and the expand round.

    Retryable when the model was too terse; not retryable when the paper itself is too short.
    """
