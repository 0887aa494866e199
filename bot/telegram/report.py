"""/report, /report md and /report pdf: the reading report with progress, as a file.

Progress shows "正在撰写第 n/4 部分"; the file's caption gives the 字数 and what went into it
(notes used, video included or not). Without a video the student chooses with a button
whether to go on without it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from telegram import Chat, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, ContextTypes, filters

from bot.report import Report
from bot.telegram.config import TelegramConfig
from bot.telegram.errors import shown_on
from bot.telegram.i18n import lang_for, t
from bot.telegram.jobs import JobLedger
from bot.telegram.status import StatusMessage, Tracking
from kernel.errors import VideoMissingError

if TYPE_CHECKING:
    from bot.services import Services

__all__ = ["REPORT_CALLBACK", "build_handlers"]

REPORT_CALLBACK = "rep:"


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


def build_handlers(
    services: Services, config: TelegramConfig
) -> list[BaseHandler[Update, Any, Any]]:
    """/report (.docx), /report md, /report pdf, and the go-on-without-video buttons."""
    ledger = JobLedger(config.jobs_dir)

    async def run_report(chat: Chat, lang: str, fmt: str, allow_no_video: bool) -> None:
        status = await StatusMessage.send(
            chat,
            t(lang, "report_start"),
            config.edit_interval_s,
            track=Tracking(ledger, lang, "report"),
        )

        async def progress(n: int, total: int) -> None:
            status.push(t(lang, "report_progress", n=n, total=total))

        building = services.reports.build(chat.id, allow_no_video=allow_no_video, progress=progress)
        try:
            report = await shown_on(status, lang, building, unless=(VideoMissingError,))
        except VideoMissingError:
            buttons = InlineKeyboardMarkup(
                [
                    [
                        InlineKeyboardButton(
                            t(lang, "btn_report_anyway"),
                            callback_data=f"{REPORT_CALLBACK}go:{fmt}",
                        )
                    ],
                    [
                        InlineKeyboardButton(
                            t(lang, "btn_report_wait"), callback_data=f"{REPORT_CALLBACK}wait"
                        )
                    ],
                ]
            )
            await status.finish(t(lang, "report_no_video"), reply_markup=buttons)
            return
        if report is None:
            return
        rendered = await shown_on(status, lang, services.reports.render(report, fmt))
        if rendered is None:
            return
        data, filename = rendered
        await status.finish(t(lang, "report_done"))
        await chat.send_document(data, filename=filename, caption=_caption(report, lang))

    async def handle_report(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        assert message is not None
        args = [a.lower() for a in context.args or []]
        fmt = "docx"
        if any(a in ("md", "markdown") for a in args):
            fmt = "md"
        elif "pdf" in args:
            fmt = "pdf"
        await run_report(message.chat, lang_for(update, context.user_data), fmt, False)

    async def handle_report_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        assert query.data is not None
        lang = lang_for(update, context.user_data)
        await query.answer()
        message = query.message
        if not isinstance(message, Message):
            return
        await query.edit_message_reply_markup(None)
        if query.data == f"{REPORT_CALLBACK}wait":
            await message.chat.send_message(t(lang, "report_wait"))
            return
        fmt = query.data.rsplit(":", 1)[-1]
        await run_report(message.chat, lang, fmt, True)

    return [
        CommandHandler("report", handle_report, filters=filters.UpdateType.MESSAGE),
        CallbackQueryHandler(
            handle_report_button, pattern=f"^{REPORT_CALLBACK}(go:(docx|md|pdf)|wait)$"
        ),
    ]
