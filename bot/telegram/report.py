"""/report, /report md and /report pdf: the reading report with progress, a preview, a file.

Progress names the section being written and how long the finished ones took. A report just
written is shown as a preview (headings, 字数, checked citations, each section's first lines
in an expandable quote) with a 🔄 button per section, which writes that section again, and
✅, which sends the file; the file's caption gives the 字数 and what went into it. A report
kept whole from before (nothing changed since) is sent as a file at once. A failed report
offers 🔄, which continues from the sections already kept. Without a video the student chooses
with a button whether to go on without it. A chat holding several papers is asked which one
the report is about (one button per paper), unless a paper was chosen in /sources; the choice
is kept in ``chat_data`` under ``REPORT_PAPER_KEY``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from telegram import Chat, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, ContextTypes, filters

from bot.report import HEADINGS, Report
from bot.report.models import ReportProgress
from bot.report.progress import progress_text
from bot.telegram.config import TelegramConfig
from bot.telegram.errors import shown_on
from bot.telegram.i18n import lang_for, t
from bot.telegram.jobs import JobLedger
from bot.telegram.render import esc
from bot.telegram.status import StatusMessage, Tracking
from kernel.errors import PaperChoiceError, VideoMissingError
from kernel.models import SourceKind, SourceStatus

if TYPE_CHECKING:
    from bot.services import Services

__all__ = ["REPORT_CALLBACK", "REPORT_PAPER_KEY", "Reports", "paper_buttons"]

REPORT_CALLBACK = "rep:"
REPORT_PAPER_KEY = "report_paper"
"""``chat_data`` key: the source id of the paper the chat's reports are about."""


def paper_buttons(choices: tuple[tuple[str, str], ...], fmt: str) -> InlineKeyboardMarkup:
    """One button per paper; pressing one writes the report about it."""
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    f"📄 {title[:60]}", callback_data=f"{REPORT_CALLBACK}p:{fmt}:{sid}"
                )
            ]
            for sid, title in choices
        ]
    )


def _caption(report: Report, lang: str) -> str:
    video = t(lang, "report_video_yes" if report.video_included else "report_video_no")
    return t(
        lang,
        "report_caption",
        title=report.title,
        paper=report.paper_title,
        chars=report.chars,
        notes=report.notes_used,
        video=video,
        cites=report.citations,
    )


_PREVIEW_CHARS = 160  # of each section's opening shown in the preview


def preview_html(report: Report, lang: str, fmt: str) -> str:
    """Headings, 字数 each and in all, checked citations, and each section's first lines."""
    parts = [
        t(
            lang,
            "report_preview",
            title=report.title,
            paper=report.paper_title,
            chars=report.chars,
            cites=report.citations,
        )
    ]
    for section in report.sections:
        opening = section.body.strip()
        if len(opening) > _PREVIEW_CHARS:
            opening = opening[:_PREVIEW_CHARS].rstrip() + "…"
        parts.append(
            f"<b>{esc(section.heading)}</b> · {t(lang, 'report_zi', chars=section.chars)}\n"
            f"<blockquote expandable>{esc(opening)}</blockquote>"
        )
    parts.append(t(lang, "report_preview_hint", fmt=fmt))
    return "\n".join(parts)


def _flag(allow_no_video: bool) -> str:
    return "1" if allow_no_video else "0"


def preview_buttons(
    report: Report, lang: str, fmt: str, allow_no_video: bool
) -> InlineKeyboardMarkup:
    """🔄 per written section (writes it again), then ✅ (sends the file)."""
    v = _flag(allow_no_video)
    last = 4 if report.video_included else 3
    again = [
        InlineKeyboardButton(
            t(lang, "btn_report_again", part=HEADINGS[n - 1][:3]),
            callback_data=f"{REPORT_CALLBACK}s:{n}:{fmt}:{v}",
        )
        for n in range(2, last + 1)
    ]
    accept = InlineKeyboardButton(
        t(lang, "btn_report_accept", fmt=fmt), callback_data=f"{REPORT_CALLBACK}ok:{fmt}:{v}"
    )
    return InlineKeyboardMarkup([again, [accept]])


def _no_video_buttons(lang: str, fmt: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    t(lang, "btn_report_anyway"), callback_data=f"{REPORT_CALLBACK}go:{fmt}"
                )
            ],
            [
                InlineKeyboardButton(
                    t(lang, "btn_report_wait"), callback_data=f"{REPORT_CALLBACK}wait"
                )
            ],
        ]
    )


def _format_of(args: list[str]) -> str:
    """The file format ``/report`` asks for: docx unless md/markdown or pdf is named."""
    if any(a in ("md", "markdown") for a in args):
        return "md"
    return "pdf" if "pdf" in args else "docx"


class Reports:
    """/report (.docx), /report md, /report pdf, and the buttons: paper choice, go on without
    video, regenerate a section, accept, retry."""

    def __init__(self, services: Services, config: TelegramConfig) -> None:
        self._services = services
        self._config = config
        self._ledger = JobLedger(config.jobs_dir)

    async def _chosen_paper(self, chat_id: int, chat_data: dict[Any, Any] | None) -> str | None:
        """The paper chosen for this chat's reports, if it is still one of its ready papers."""
        if chat_data is None or not (chosen := chat_data.get(REPORT_PAPER_KEY)):
            return None
        ready = {
            s.source_id
            for s in await self._services.library.sources(chat_id)
            if s.kind is SourceKind.PAPER and s.status is SourceStatus.READY
        }
        if chosen not in ready:
            chat_data.pop(REPORT_PAPER_KEY, None)  # removed since: ask again
            return None
        return str(chosen)

    async def run(
        self,
        chat: Chat,
        lang: str,
        fmt: str,
        allow_no_video: bool,
        chat_data: dict[Any, Any] | None,
        *,
        author: str = "",
        section: int | None = None,
        deliver: bool = False,
    ) -> None:
        """Build (continuing from what was kept), then preview it, or send the file when
        ``deliver`` (accepted) or when the whole report was kept from before."""
        paper_id = await self._chosen_paper(chat.id, chat_data)
        status = await StatusMessage.send(
            chat,
            t(lang, "report_start"),
            self._config.edit_interval_s,
            track=Tracking(self._ledger, lang, "report"),
        )

        async def progress(p: ReportProgress) -> None:
            status.push(progress_text(p, lang))

        building = self._services.reports.build(
            chat.id,
            allow_no_video=allow_no_video,
            paper_id=paper_id,
            progress=progress,
            section=section,
        )
        retry = f"{REPORT_CALLBACK}r:{fmt}:{_flag(allow_no_video)}"
        try:
            report = await shown_on(
                status, lang, building, unless=(VideoMissingError, PaperChoiceError), retry=retry
            )
        except PaperChoiceError as exc:
            text = t(lang, "report_which_paper", n=len(exc.choices))
            await status.finish(text, reply_markup=paper_buttons(exc.choices, fmt))
            return
        except VideoMissingError:
            await status.finish(
                t(lang, "report_no_video"), reply_markup=_no_video_buttons(lang, fmt)
            )
            return
        if report is None:
            return
        if not (deliver or report.reused):
            await status.finish(
                preview_html(report, lang, fmt),
                reply_markup=preview_buttons(report, lang, fmt, allow_no_video),
            )
            return
        await self._send(chat, status, report, lang, fmt, author, retry)

    async def _send(
        self,
        chat: Chat,
        status: StatusMessage,
        report: Report,
        lang: str,
        fmt: str,
        author: str,
        retry: str,
    ) -> None:
        rendering = self._services.reports.render(report, fmt, author=author)
        rendered = await shown_on(status, lang, rendering, retry=retry)
        if rendered is None:
            return
        data, filename = rendered
        await status.finish(t(lang, "report_done"))
        await chat.send_document(data, filename=filename, caption=_caption(report, lang))

    async def handle_report(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        assert message is not None
        fmt = _format_of([a.lower() for a in context.args or []])
        lang = lang_for(update, context.user_data)
        author = update.effective_user.full_name if update.effective_user else ""
        await self.run(message.chat, lang, fmt, False, context.chat_data, author=author)

    async def handle_report_button(
        self, update: Update, context: ContextTypes.DEFAULT_TYPE
    ) -> None:
        query = update.callback_query
        assert query is not None
        assert query.data is not None
        lang = lang_for(update, context.user_data)
        await query.answer()
        message = query.message
        if not isinstance(message, Message):
            return
        await query.edit_message_reply_markup(None)
        author = query.from_user.full_name if query.from_user else ""
        data = query.data.removeprefix(REPORT_CALLBACK)
        if data == "wait":
            await message.chat.send_message(t(lang, "report_wait"))
            return
        action, _, rest = data.partition(":")
        if action == "p":  # the paper chosen: write about it
            fmt, paper_id = rest.split(":", 1)
            if context.chat_data is not None:
                context.chat_data[REPORT_PAPER_KEY] = paper_id
            await self.run(message.chat, lang, fmt, False, context.chat_data, author=author)
            return
        if action == "go":  # on without a video
            await self.run(message.chat, lang, rest, True, context.chat_data, author=author)
            return
        section = None
        if action == "s":  # write one section again
            number, rest = rest.split(":", 1)
            section = int(number)
        fmt, flag = rest.split(":")
        await self.run(
            message.chat,
            lang,
            fmt,
            flag == "1",
            context.chat_data,
            author=author,
            section=section,
            deliver=action == "ok",
        )

    def handlers(self) -> list[BaseHandler[Update, Any, Any]]:
        fmts = "(docx|md|pdf)"
        return [
            CommandHandler("report", self.handle_report, filters=filters.UpdateType.MESSAGE),
            CallbackQueryHandler(
                self.handle_report_button,
                pattern=(
                    f"^{REPORT_CALLBACK}(go:{fmts}|wait|p:{fmts}:[\\w-]{{1,40}}"
                    f"|(r|ok|s:[2-4]):{fmts}:[01])$"
                ),
            ),
        ]
