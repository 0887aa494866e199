"""Video links: fetch the transcript with progress, then show title, language, duration.

The link is remembered per chat, so a subtitle file sent afterwards (for example because the
transcript could not be fetched) is tied to it and citations can open the video at a second.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from telegram import Message, Update
from telegram.ext import BaseHandler, ContextTypes, MessageHandler, filters

from bot.telegram.cards import LAST_VIDEO_KEY, video_card
from bot.telegram.config import TelegramConfig
from bot.telegram.errors import error_text, shown_on
from bot.telegram.i18n import lang_for, t
from bot.telegram.jobs import JobLedger
from bot.telegram.render import esc
from bot.telegram.status import StatusMessage, Tracking, thread_callback
from kernel.errors import VideoUnavailableError
from kernel.links import parse_video_link

if TYPE_CHECKING:
    from bot.services import Services

__all__ = ["build_handlers"]


class _VideoLink(filters.MessageFilter):
    """Text that contains a YouTube or Bilibili video link."""

    def __init__(self) -> None:
        super().__init__(name="VideoLink")

    def filter(self, message: Message) -> bool:
        return parse_video_link(message.text or "") is not None


def build_handlers(
    services: Services, config: TelegramConfig
) -> list[BaseHandler[Update, Any, Any]]:
    """The video-link handler (register before the question handler)."""
    library = services.library
    ledger = JobLedger(config.jobs_dir)

    async def handle_video_link(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        assert message is not None
        assert message.text is not None
        assert context.chat_data is not None
        lang = lang_for(update, context.user_data)
        link = parse_video_link(message.text)
        assert link is not None
        context.chat_data[LAST_VIDEO_KEY] = {"url": link.url}
        first = "queued" if library.is_busy(message.chat_id) else "fetching"
        status = await StatusMessage.send(
            message.chat,
            t(lang, first),
            config.edit_interval_s,
            track=Tracking(ledger, lang, "source", link.url),
        )
        adding = library.add_video_link(
            message.chat_id, message.text, progress=thread_callback(status, lang)
        )
        try:
            record = await shown_on(status, lang, adding, unless=(VideoUnavailableError,))
        except VideoUnavailableError as exc:
            text = esc(error_text(exc, lang)) + "\n\n" + t(lang, "video_failed_hint")
            await status.finish(text)
            return
        if record is None:
            return
        url = record.video.url if record.video and record.video.url else link.url
        context.chat_data[LAST_VIDEO_KEY] = {"url": url, "title": record.title}
        await status.finish(video_card(record, lang))

    only_new = filters.UpdateType.MESSAGE
    return [MessageHandler(only_new & filters.TEXT & _VideoLink(), handle_video_link)]
