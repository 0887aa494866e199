"""Files the student sends: paper PDFs (with the password follow-up) and subtitle files
(recordings go to ``bot.telegram.media``; ``ingest.routing.route_file`` tells them apart).

One status message is edited as the work goes on (下载中 → 解析第 n/N 页 → 建立索引 → the
paper card). A file over the download limit is refused before downloading. An encrypted PDF
is kept in memory while the bot asks for the password in the next message.
"""

from __future__ import annotations

import contextlib
import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from telegram import Chat, Document, Message, Update
from telegram.error import BadRequest, TelegramError
from telegram.ext import BaseHandler, ContextTypes, MessageHandler, filters

from bot.telegram.cards import (
    LAST_VIDEO_KEY,
    paper_card,
    question_buttons,
    suggested_questions,
    video_card,
)
from bot.telegram.config import TelegramConfig
from bot.telegram.errors import retry_data, retry_handler, shown_on
from bot.telegram.i18n import lang_for, t
from bot.telegram.jobs import JobLedger
from bot.telegram.status import StatusMessage, Tracking, thread_callback
from ingest.routing import route_file
from kernel.errors import PasswordRequiredError, TooLargeError, WrongPasswordError
from kernel.models import SourceKind, SourceStatus

if TYPE_CHECKING:
    from bot.library import Library

__all__ = ["Documents"]

PASSWORD_TRIES = 3
RETRY_CALLBACK = "dagain:"  # 🔄 under a file whose download broke: the file, by key


@dataclass
class _PendingPdf:
    data: bytes
    filename: str | None
    user_id: int
    tries_left: int = PASSWORD_TRIES


class _AwaitingPassword(filters.MessageFilter):
    """Plain text from the student whose encrypted PDF waits for its password."""

    def __init__(self, pending: dict[int, _PendingPdf]) -> None:
        super().__init__(name="AwaitingPassword")
        self._pending = pending

    def filter(self, message: Message) -> bool:
        wanted = self._pending.get(message.chat_id)
        text = message.text or ""
        return (
            wanted is not None
            and message.from_user is not None
            and message.from_user.id == wanted.user_id
            and bool(text)
            and not text.startswith("/")
        )


@dataclass(frozen=True)
class _Sent:
    """What a file sent in the chat needs to be downloaded and read again."""

    file_id: str
    file_name: str | None
    kind: str
    user_id: int


class Documents:
    """The document feature: a paper PDF (and its password, asked for in the chat) or a
    subtitle file sent as a document."""

    def __init__(self, library: Library, config: TelegramConfig) -> None:
        self._library = library
        self._config = config
        self._pending: dict[int, _PendingPdf] = {}  # chat -> the PDF waiting for its password
        self._ledger = JobLedger(config.jobs_dir)

    def handlers(self) -> list[BaseHandler[Update, Any, Any]]:
        """The document handler and the password follow-up (register before the question
        one)."""
        only_new = filters.UpdateType.MESSAGE
        return [
            MessageHandler(only_new & filters.Document.ALL, self.handle_document),
            MessageHandler(
                only_new & filters.TEXT & _AwaitingPassword(self._pending), self.handle_password
            ),
            retry_handler(RETRY_CALLBACK, self.again),
        ]

    async def _download(self, context: ContextTypes.DEFAULT_TYPE, file_id: str) -> bytes:
        try:
            file = await context.bot.get_file(file_id)
        except BadRequest as exc:  # its size was not said: Telegram refuses it only now
            if "too big" not in str(exc).lower():
                raise
            limit = round(self._config.max_download_bytes / 2**20)
            raise TooLargeError("telegram_download", limit=limit) from exc
        return bytes(await file.download_as_bytearray())

    async def ingest_pdf(
        self,
        status: StatusMessage,
        context: ContextTypes.DEFAULT_TYPE,
        chat_id: int,
        item: _PendingPdf,
        password: str | None,
        lang: str,
    ) -> None:
        """Add the PDF; a password it needs (or a wrong one) is asked for in the chat."""
        self._pending.pop(chat_id, None)
        adding = self._library.add_pdf(
            chat_id,
            item.data,
            filename=item.filename,
            password=password,
            progress=thread_callback(status, lang),
        )
        try:
            record = await shown_on(
                status, lang, adding, unless=(PasswordRequiredError, WrongPasswordError)
            )
        except PasswordRequiredError:
            self._pending[chat_id] = item
            await status.finish(t(lang, "password_needed"))
            return
        except WrongPasswordError:
            item.tries_left -= 1
            if item.tries_left <= 0:
                await status.finish(t(lang, "password_gave_up"))
                return
            self._pending[chat_id] = item
            await status.finish(t(lang, "password_wrong", left=item.tries_left))
            return
        if record is None:
            return
        assert context.chat_data is not None
        buttons = question_buttons(context.chat_data, suggested_questions(record, lang))
        papers = sum(
            s.kind is SourceKind.PAPER and s.status is SourceStatus.READY
            for s in await self._library.sources(chat_id)
        )
        await status.finish(paper_card(record, lang, papers=papers), reply_markup=buttons)

    async def ingest_subtitles(
        self,
        status: StatusMessage,
        context: ContextTypes.DEFAULT_TYPE,
        chat_id: int,
        data: bytes,
        filename: str | None,
        lang: str,
    ) -> None:
        """Add the subtitle file, as the transcript of the last video link sent, if any."""
        assert context.chat_data is not None
        last: dict[str, str] = context.chat_data.get(LAST_VIDEO_KEY) or {}
        adding = self._library.add_subtitles(
            chat_id,
            data,
            filename=filename,
            url=last.get("url"),
            title=last.get("title"),
            progress=thread_callback(status, lang),
        )
        record = await shown_on(status, lang, adding)
        if record is not None:
            await status.finish(video_card(record, lang))

    def _refusal(self, document: Document, kind: str | None, lang: str) -> str | None:
        """Why this document is not downloaded at all (not a PDF or subtitles, too large)."""
        if kind not in ("pdf", "subtitles"):
            name = document.file_name or document.mime_type or "?"
            return t(lang, "unsupported_file", name=name)
        size = document.file_size or 0
        limit = self._config.max_download_bytes
        if size > limit:
            return t(lang, "too_large", size=f"{size / 2**20:.1f}", limit=f"{limit / 2**20:.0f}")
        return None

    async def handle_document(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        assert message is not None
        assert message.document is not None
        document = message.document
        lang = lang_for(update, context.user_data)
        # Recordings sent as documents were taken by bot.telegram.media already.
        kind = route_file(document.file_name or "?", mime=document.mime_type)
        refusal = self._refusal(document, kind, lang)
        if refusal is not None or kind is None:
            await message.reply_text(refusal or "")
            return
        assert message.from_user is not None
        sent = _Sent(document.file_id, document.file_name, kind, message.from_user.id)
        await self._read(message.chat, context, lang, sent)

    async def _read(
        self, chat: Chat, context: ContextTypes.DEFAULT_TYPE, lang: str, sent: _Sent
    ) -> None:
        """Download ``sent`` and read it; a download that broke offers 🔄."""
        status = await StatusMessage.send(
            chat,
            t(lang, "downloading"),
            self._config.edit_interval_s,
            track=Tracking(self._ledger, lang, "source", sent.file_name or ""),
        )
        assert context.chat_data is not None
        retry = retry_data(context.chat_data, RETRY_CALLBACK, dataclasses.asdict(sent))
        data = await shown_on(status, lang, self._download(context, sent.file_id), retry=retry)
        if data is None:
            return
        if self._library.is_busy(chat.id):
            status.push(t(lang, "queued"))
        if sent.kind == "pdf":
            item = _PendingPdf(data, sent.file_name, sent.user_id)
            await self.ingest_pdf(status, context, chat.id, item, None, lang)
        else:
            await self.ingest_subtitles(status, context, chat.id, data, sent.file_name, lang)

    async def again(
        self, message: Message, context: ContextTypes.DEFAULT_TYPE, lang: str, payload: Any
    ) -> None:
        """🔄 under a file whose download broke: download and read it again."""
        await self._read(message.chat, context, lang, _Sent(**payload))

    async def handle_password(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        assert message is not None
        assert message.text is not None
        item = self._pending.pop(message.chat_id, None)
        if item is None:  # another update took it meanwhile
            return
        lang = lang_for(update, context.user_data)
        with contextlib.suppress(TelegramError):  # no delete right in a group: keep going
            await message.delete()
        status = await StatusMessage.send(
            message.chat,
            t(lang, "working"),
            self._config.edit_interval_s,
            track=Tracking(self._ledger, lang, "source", item.filename or ""),
        )
        await self.ingest_pdf(status, context, message.chat_id, item, message.text.strip(), lang)
