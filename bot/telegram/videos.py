"""Video links: read the lecture with progress and a stop button, then show the video card.

A YouTube or Bilibili link anywhere in a message, or a message that is nothing but a link to
another site, is a lecture to read: the platform's captions when it has them, otherwise speech
recognition of its audio ("🎙 转写中 12:30 / 58:00"). The link is remembered per chat, so a
subtitle file sent afterwards is tied to it and citations can open the video at a second.
A read that failed in a way that may pass (a download cut off, the site busy) offers 🔄,
which reads the same link again.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from telegram import Chat, Message, Update
from telegram.ext import BaseHandler, ContextTypes, MessageHandler, filters

from bot.telegram.cards import LAST_VIDEO_KEY, video_card
from bot.telegram.config import TelegramConfig
from bot.telegram.errors import retry_data, retry_handler, shown_on
from bot.telegram.i18n import lang_for, t
from bot.telegram.jobs import JobLedger
from bot.telegram.progress import MediaProgress, StopButtons
from bot.telegram.status import StatusMessage, Tracking
from kernel.links import bare_url, parse_video_link

if TYPE_CHECKING:
    from bot.library import Library

__all__ = ["RETRY_CALLBACK", "STOP_CALLBACK", "Videos", "video_link_in"]

STOP_CALLBACK = "stopv:"
RETRY_CALLBACK = "vagain:"  # 🔄 under a lecture that could not be read: the link, by key
# Bare links that are papers, not lectures: left to the student's question (send the PDF).
_PAPER_LINK = re.compile(
    r"(?i)^https?://(?:[\w-]+\.)*(?:arxiv\.org|doi\.org|openreview\.net|aclanthology\.org)/"
    r"|\.pdf(?:[?#].*)?$"
)


def video_link_in(text: str) -> str | None:
    """The link a message asks to read: a YouTube/Bilibili link anywhere, or a bare link that
    is not a paper's."""
    link = parse_video_link(text)
    if link is not None:
        return link.url
    url = bare_url(text)
    return None if url is None or _PAPER_LINK.search(url) else url


class _VideoLink(filters.MessageFilter):
    """Text that contains a YouTube or Bilibili video link, or is a bare link."""

    def __init__(self) -> None:
        super().__init__(name="VideoLink")

    def filter(self, message: Message) -> bool:
        return video_link_in(message.text or "") is not None


class Videos:
    """The video-link feature: a lecture link read with progress and a stop button, the video
    card, and 🔄 under a read that failed in a way that may pass."""

    def __init__(self, library: Library, config: TelegramConfig) -> None:
        self._library = library
        self._config = config
        self._stops = StopButtons(STOP_CALLBACK)
        self._ledger = JobLedger(config.jobs_dir)

    def handlers(self) -> list[BaseHandler[Update, Any, Any]]:
        """The video-link handler (register before the question handler), its 🔄 and its stop
        button."""
        only_new = filters.UpdateType.MESSAGE
        return [
            MessageHandler(only_new & filters.TEXT & _VideoLink(), self.handle_video_link),
            retry_handler(RETRY_CALLBACK, self.again),
            self._stops.handler(),
        ]

    async def read_link(
        self, chat: Chat, chat_data: dict[Any, Any], lang: str, text: str, url: str
    ) -> None:
        """Read the lecture ``text`` links to; a failure that may pass offers 🔄."""
        chat_data[LAST_VIDEO_KEY] = {"url": url}
        key, cancel, stop = self._stops.new(lang)
        first = "queued" if self._library.is_busy(chat.id) else "probing"
        status = await StatusMessage.send(
            chat,
            t(lang, first),
            self._config.edit_interval_s,
            markup=stop,
            track=Tracking(self._ledger, lang, "source", url),
        )
        retry = retry_data(chat_data, RETRY_CALLBACK, text)
        try:
            adding = self._library.add_video_link(
                chat.id,
                text,
                lang=lang,
                progress=MediaProgress(status, lang).callback(),
                cancel=cancel,
            )
            record = await shown_on(status, lang, adding, retry=retry)
        finally:
            self._stops.release(key)
        if record is None:
            return
        video_url = record.video.url if record.video and record.video.url else url
        chat_data[LAST_VIDEO_KEY] = {"url": video_url, "title": record.title}
        await status.finish(video_card(record, lang))

    async def handle_video_link(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        assert message is not None
        assert message.text is not None
        assert context.chat_data is not None
        lang = lang_for(update, context.user_data)
        url = video_link_in(message.text)
        assert url is not None
        await self.read_link(message.chat, context.chat_data, lang, message.text, url)

    async def again(
        self, message: Message, context: ContextTypes.DEFAULT_TYPE, lang: str, text: Any
    ) -> None:
        """🔄 under a lecture that could not be read: read the same link again."""
        url = video_link_in(str(text))
        if url is not None and context.chat_data is not None:
            await self.read_link(message.chat, context.chat_data, lang, str(text), url)
