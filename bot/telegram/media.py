"""Lecture recordings sent in the chat: a video, an audio file, or either sent as a document.

Refused before downloading when it is over Telegram's bot download limit (with what to do
instead: the link, the sound alone, or the subtitle file) or over the length limit. Otherwise
it is downloaded into the bot's scratch folder, recognised with progress ("🎙 转写中 12:30 /
58:00（约 9 分钟）") and a stop button, and the video card follows; a failure that may pass
(the download broke, the recogniser was busy) offers 🔄, which downloads and reads it again.
Short audio is a question: ``bot.telegram.voice`` takes it first.
"""

from __future__ import annotations

import dataclasses
import threading
from dataclasses import dataclass
from pathlib import PurePath
from typing import TYPE_CHECKING, Any

from telegram import Chat, Message, TelegramObject, Update
from telegram.ext import BaseHandler, ContextTypes, MessageHandler, filters

from bot.telegram.cards import video_card
from bot.telegram.config import TelegramConfig
from bot.telegram.errors import error_text, retry_data, retry_handler, shown_on
from bot.telegram.i18n import lang_for, t
from bot.telegram.jobs import JobLedger
from bot.telegram.progress import MediaProgress, StopButtons
from bot.telegram.render import esc
from bot.telegram.status import StatusMessage, Tracking
from ingest.routing import route_file
from kernel.errors import MediaTooLongError
from kernel.models import SourceRecord

if TYPE_CHECKING:
    from bot.library import Library

__all__ = [
    "RETRY_CALLBACK",
    "STOP_CALLBACK",
    "Recording",
    "Recordings",
    "recording_of",
    "refused_as_too_big",
    "seconds_of",
]

STOP_CALLBACK = "stopm:"
RETRY_CALLBACK = "magain:"  # 🔄 under a recording that could not be read: its file, by key


@dataclass(frozen=True)
class Recording:
    """What Telegram tells about a file before it is downloaded."""

    file_id: str
    size: int
    duration_s: float | None
    filename: str | None
    suffix: str


def recording_of(message: Message) -> Recording | None:
    """The lecture recording a message carries (video, audio, or a media document)."""
    if message.video is not None:
        v = message.video
        name = v.file_name
        return Recording(v.file_id, v.file_size or 0, seconds_of(v), name, _suffix(name, ".mp4"))
    if message.audio is not None:
        a = message.audio
        name = a.file_name
        return Recording(a.file_id, a.file_size or 0, seconds_of(a), name, _suffix(name, ".mp3"))
    document = message.document
    if document is not None and route_file(document.file_name, mime=document.mime_type) == "media":
        name = document.file_name
        return Recording(
            document.file_id, document.file_size or 0, None, name, _suffix(name, ".bin")
        )
    return None


def seconds_of(media: TelegramObject) -> float | None:
    """The duration Telegram reports for a voice, audio or video (seconds), read from the
    serialised object: the attribute itself warns of its coming type change."""
    value = media.to_dict().get("duration")
    return float(value) if isinstance(value, int | float) else None


def _suffix(name: str | None, default: str) -> str:
    return PurePath(name or "").suffix.lower() or default


async def refused_as_too_big(
    message: Message, recording: Recording, config: TelegramConfig, lang: str
) -> bool:
    """Over the Bot API's download limit: explain it and what to do instead, download nothing."""
    if recording.size <= config.max_download_bytes:
        return False
    size = f"{recording.size / 2**20:.0f}"
    limit = f"{config.max_download_bytes / 2**20:.0f}"
    await message.reply_text(t(lang, "media_too_big", size=size, limit=limit))
    return True


class _Recording(filters.MessageFilter):
    def __init__(self) -> None:
        super().__init__(name="Recording")

    def filter(self, message: Message) -> bool:
        return recording_of(message) is not None


class Recordings:
    """The recording feature: a lecture video or audio sent in the chat, downloaded and
    recognised with progress and a stop button, then the video card; 🔄 under a read that
    failed in a way that may pass."""

    def __init__(self, library: Library, config: TelegramConfig) -> None:
        self._library = library
        self._config = config
        self._stops = StopButtons(STOP_CALLBACK)
        self._ledger = JobLedger(config.jobs_dir)

    def handlers(self) -> list[BaseHandler[Update, Any, Any]]:
        """The recording handler (register before the document handler), its 🔄 and its stop
        button."""
        only_new = filters.UpdateType.MESSAGE
        return [
            MessageHandler(only_new & _Recording(), self.handle_recording),
            retry_handler(RETRY_CALLBACK, self.again),
            self._stops.handler(),
        ]

    async def handle_recording(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        assert message is not None
        recording = recording_of(message)
        assert recording is not None
        lang = lang_for(update, context.user_data)
        if await refused_as_too_big(message, recording, self._config, lang):
            return
        try:
            self._library.check_media_length(recording.duration_s)
        except MediaTooLongError as exc:
            await message.reply_text(esc(error_text(exc, lang)))
            return
        caption = (message.caption or "").strip() or None
        await self.read_recording(message.chat, context, lang, recording, caption)

    async def read_recording(
        self,
        chat: Chat,
        context: ContextTypes.DEFAULT_TYPE,
        lang: str,
        recording: Recording,
        caption: str | None,
    ) -> None:
        """Download and recognise ``recording``; a failure that may pass offers 🔄."""
        key, cancel, stop = self._stops.new(lang)
        status = await StatusMessage.send(
            chat,
            t(lang, "downloading"),
            self._config.edit_interval_s,
            markup=stop,
            track=Tracking(self._ledger, lang, "source", recording.filename or ""),
        )
        assert context.chat_data is not None
        payload = {"recording": dataclasses.asdict(recording), "caption": caption}
        retry = retry_data(context.chat_data, RETRY_CALLBACK, payload)
        try:
            reading = self._download_and_add(
                chat.id, context, lang, recording, caption, status, cancel
            )
            record = await shown_on(status, lang, reading, retry=retry)
        finally:
            self._stops.release(key)
        if record is not None:
            await status.finish(video_card(record, lang))

    async def _download_and_add(
        self,
        chat_id: int,
        context: ContextTypes.DEFAULT_TYPE,
        lang: str,
        recording: Recording,
        caption: str | None,
        status: StatusMessage,
        cancel: threading.Event,
    ) -> SourceRecord:
        """Download ``recording`` into the scratch folder and add it, with progress on
        ``status``."""
        with self._library.scratch() as folder:
            path = folder / f"recording{recording.suffix}"
            file = await context.bot.get_file(recording.file_id)
            await file.download_to_drive(path)
            if self._library.is_busy(chat_id):
                status.push(t(lang, "queued"))
            return await self._library.add_media(
                chat_id,
                path,
                filename=recording.filename,
                title=caption,
                lang=lang,
                progress=MediaProgress(status, lang).callback(),
                cancel=cancel,
            )

    async def again(
        self, message: Message, context: ContextTypes.DEFAULT_TYPE, lang: str, payload: Any
    ) -> None:
        """🔄 under a recording that could not be read: download and read it again."""
        recording = Recording(**payload["recording"])
        await self.read_recording(message.chat, context, lang, recording, payload["caption"])
