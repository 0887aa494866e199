"""Voice questions: a voice message (or a round video message, or a short audio) is a question.

It is recognised (in the chat's language when the speech leaves doubt), the words are shown
("🎤 DPO 和 RLHF 有什么区别？") so the student sees what was understood, and then it is
answered exactly like a typed question, by the same answering path: follow-ups, citations,
buttons and the note included.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from telegram import Message, Update
from telegram.ext import BaseHandler, ContextTypes, MessageHandler, filters

from bot.telegram.ask import Questions
from bot.telegram.config import TelegramConfig
from bot.telegram.errors import error_text, shown_on
from bot.telegram.i18n import LANG_KEY, lang_for, t
from bot.telegram.media import Recording, recording_of, refused_as_too_big, seconds_of
from bot.telegram.render import esc
from bot.telegram.status import StatusMessage
from kernel.errors import MediaTooLongError

if TYPE_CHECKING:
    from bot.library import Library
    from bot.listening import Listener

__all__ = ["SHORT_AUDIO_S", "VoiceQuestions", "question_recording"]

SHORT_AUDIO_S = 60.0
"""An audio file this short is a question, not a lecture."""


def question_recording(message: Message) -> Recording | None:
    """The spoken question a message carries, if it is one."""
    if message.voice is not None:
        v = message.voice
        return Recording(v.file_id, v.file_size or 0, seconds_of(v), None, ".ogg")
    if message.video_note is not None:
        n = message.video_note
        return Recording(n.file_id, n.file_size or 0, seconds_of(n), None, ".mp4")
    if message.audio is not None:
        recording = recording_of(message)
        if recording is not None and (recording.duration_s or 0) <= SHORT_AUDIO_S:
            return recording
    return None


class _Question(filters.MessageFilter):
    def __init__(self) -> None:
        super().__init__(name="SpokenQuestion")

    def filter(self, message: Message) -> bool:
        return question_recording(message) is not None


class VoiceQuestions:
    """The voice-question feature: a spoken question is heard by ``listener``, shown, and
    answered by ``questions`` like a typed one, in its turn."""

    def __init__(
        self, library: Library, listener: Listener, config: TelegramConfig, questions: Questions
    ) -> None:
        self._library = library
        self._listener = listener
        self._config = config
        self._questions = questions

    def handlers(self) -> list[BaseHandler[Update, Any, Any]]:
        """The voice-question handler (register before the recording handler)."""
        only_new = filters.UpdateType.MESSAGE
        return [MessageHandler(only_new & _Question(), self.handle_voice)]

    async def handle_voice(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        assert message is not None
        recording = question_recording(message)
        assert recording is not None
        lang = lang_for(update, context.user_data)
        limit = self._listener.max_seconds
        if recording.duration_s is not None and recording.duration_s > limit:
            too_long = MediaTooLongError(
                "voice_too_long", seconds=int(recording.duration_s), limit=int(limit)
            )
            await message.reply_text(esc(error_text(too_long, lang)))
            return
        if await refused_as_too_big(message, recording, self._config, lang):
            return
        status = await StatusMessage.send(message.chat, t(lang, "listening"), 0.0)
        question = await shown_on(status, lang, self._hear(context, recording, lang))
        if question is None:
            return
        await status.finish(t(lang, "voice_heard", text=question))
        chosen = (context.user_data or {}).get(LANG_KEY)
        await self._questions.answer(
            context, message.chat, question, lang, chosen, reply_to=message
        )

    async def _hear(
        self, context: ContextTypes.DEFAULT_TYPE, recording: Recording, lang: str
    ) -> str:
        """Download the spoken question into the scratch folder and recognise it."""
        with self._library.scratch() as folder:
            path = folder / f"question{recording.suffix}"
            file = await context.bot.get_file(recording.file_id)
            await file.download_to_drive(path)
            return await self._listener.hear(path, lang=lang)
