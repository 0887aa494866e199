"""/report, /report md and /report pdf: the reading report with progress, as a file.

Progress shows "正在撰写第 n/4 部分"; the file's caption gives the 字数 and what went into it
(notes used, video included or not). Without a video the student chooses with a button
whether to go on without it. A chat holding several papers is asked which one the report is
about (one button per paper), unless a paper was chosen in /sources; the choice is kept in
``chat_data`` under ``REPORT_PAPER_KEY``.
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
from kernel.errors import PaperChoiceError, VideoMissingError
from kernel.models import SourceKind, SourceStatus

if TYPE_CHECKING:
    from bot.services import Services

__all__ = ["REPORT_CALLBACK", "REPORT_PAPER_KEY", "build_handlers", "paper_buttons"]

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


def build_handlers(  # noqa: C901 - split pending: being changed by another branch
    services: Services, config: TelegramConfig
) -> list[BaseHandler[Update, Any, Any]]:
    """/report (.docx), /report md, /report pdf, and the go-on-without-video buttons."""
    ledger = JobLedger(config.jobs_dir)

    async def chosen_paper(chat_id: int, chat_data: dict[Any, Any] | None) -> str | None:
        """The paper chosen for this chat's reports, if it is still one of its ready papers."""
        if chat_data is None or not (chosen := chat_data.get(REPORT_PAPER_KEY)):
            return None
        ready = {
            s.source_id
            for s in await services.library.sources(chat_id)
            if s.kind is SourceKind.PAPER and s.status is SourceStatus.READY
        }
        if chosen not in ready:
            chat_data.pop(REPORT_PAPER_KEY, None)  # removed since: ask again
            return None
        return str(chosen)

    async def run_report(
        chat: Chat, lang: str, fmt: str, allow_no_video: bool, chat_data: dict[Any, Any] | None
    ) -> None:
        paper_id = await chosen_paper(chat.id, chat_data)
        status = await StatusMessage.send(
            chat,
            t(lang, "report_start"),
            config.edit_interval_s,
            track=Tracking(ledger, lang, "report"),
        )

        async def progress(n: int, total: int) -> None:
            status.push(t(lang, "report_progress", n=n, total=total))

        building = services.reports.build(
            chat.id, allow_no_video=allow_no_video, paper_id=paper_id, progress=progress
        )
        try:
            report = await shown_on(
                status, lang, building, unless=(VideoMissingError, PaperChoiceError)
            )
        except PaperChoiceError as exc:
            text = t(lang, "report_which_paper", n=len(exc.choices))
            await status.finish(text, reply_markup=paper_buttons(exc.choices, fmt))
            return
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
        lang = lang_for(update, context.user_data)
        await run_report(message.chat, lang, fmt, False, context.chat_data)

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
        if query.data.startswith(f"{REPORT_CALLBACK}p:"):  # the paper chosen: write about it
            _, _, fmt, paper_id = query.data.split(":", 3)
            if context.chat_data is not None:
                context.chat_data[REPORT_PAPER_KEY] = paper_id
            await run_report(message.chat, lang, fmt, False, context.chat_data)
            return
        fmt = query.data.rsplit(":", 1)[-1]
        await run_report(message.chat, lang, fmt, True, context.chat_data)

    return [
        CommandHandler("report", handle_report, filters=filters.UpdateType.MESSAGE),
        CallbackQueryHandler(
            handle_report_button,
            pattern=f"^{REPORT_CALLBACK}(go:(docx|md|pdf)|wait|p:(docx|md|pdf):[\\w-]{{1,40}})$",
        ),
    ]
