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
    │   └── MissingSourceError           the chat has no paper (or video) yet
    ├── VideoUnavailableError            no transcript can be fetched; send a subtitle file
    ├── VideoMissingError                /report without a video: ask before going on
    ├── ReportTooShortError              the report cannot reach the minimum 字数
    ├── ReportUnsupportedError           a section has no sentence its sources support
    ├── BusyError                        this chat is already ingesting something; wait
    ├── NotFoundError                    unknown source or note id
    ├── ConfigError                      a setting is missing or wrong (operator)
    └── ServiceError                     retryable: an outside system failed
        ├── LLMError                     the language model failed (timeout, 429, 5xx, junk)
        │   └── QuizError                its quiz questions all failed the checks
        └── StoreUnavailableError        Qdrant cannot be reached
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

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
    "PaperTutorError",
    "PasswordRequiredError",
    "QuizError",
    "ReportTooShortError",
    "ReportUnsupportedError",
    "ServiceError",
    "StoreUnavailableError",
    "SubtitleFormatError",
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
    MESSAGES: ClassVar[Mapping[str, tuple[str, str]]] = {
        "render_damaged": (
            "保存的论文 PDF 读不出来了，无法显示原文。请重新发送这篇论文。",
            "The saved copy of the paper cannot be read, so its pages cannot be shown. "
            "Please send the paper again.",
        ),
    }


class PasswordRequiredError(InputError):
    MESSAGES: ClassVar[Mapping[str, tuple[str, str]]] = {
        "render_password": (
            "这个 PDF 有密码保护，我不能显示它的原文页面；它的文字内容仍然可以问我。",
            "This PDF is password-protected, so I cannot show its pages; you can still ask "
            "me about its text.",
        ),
    }


class WrongPasswordError(InputError):
    pass


class TooLargeError(InputError):
    pass


class NoTextError(InputError):
    pass


class UnsupportedFileError(InputError):
    pass


class SubtitleFormatError(InputError):
    pass


class UnsupportedLinkError(InputError):
    pass


class MissingSourceError(InputError):
    MESSAGES: ClassVar[Mapping[str, tuple[str, str]]] = {
        "quiz": (
            "还没有可以出题的学习材料。请先发送论文的 PDF 文件（也可以再发视频链接），再发 /quiz。",
            "There is no study material to quiz you on yet. Send the paper as a PDF first (and "
            "a video link if you like), then /quiz.",
        ),
    }


class VideoMissingError(PaperTutorError):
    """The report was asked for with no video ingested; the student decides whether to go on."""


class BusyError(PaperTutorError):
    """Another ingestion of this chat is running; this one waits or is retried."""

    retryable = True


class VideoUnavailableError(PaperTutorError):
    """No transcript could be fetched; the message always says a subtitle file can be sent."""


class NotFoundError(PaperTutorError):
    MESSAGES: ClassVar[Mapping[str, tuple[str, str]]] = {
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


class ConfigError(PaperTutorError):
    pass


class ServiceError(PaperTutorError):
    """An outside system failed; trying again later may work."""

    retryable = True


class LLMError(ServiceError):
    pass


class StoreUnavailableError(ServiceError):
    pass


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
            "这通常是语言模型没有按资料写作造成的，请稍后再发送 /report 重试。",
            "No report was made: what was written for {sections} is not supported by the paper or "
            "video passages, so it cannot carry checked citations. This usually means the language "
            "model did not write from the sources; please send /report again later.",
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
