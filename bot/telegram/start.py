"""/start, /help and /lang: what to send, what the bot can do, and the language switch."""

from __future__ import annotations

from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, ContextTypes, filters

from bot.telegram.i18n import LANG_KEY, lang_for, t

__all__ = ["Start"]

_LANG_CALLBACK = "lang:"


class Start:
    """The greeting (/start, /help) and the language switch (/lang and its buttons). Nothing
    to call: these only talk."""

    def handlers(self) -> list[BaseHandler[Update, Any, Any]]:
        only_new = filters.UpdateType.MESSAGE
        return [
            CommandHandler(["start", "help"], self.handle_start, filters=only_new),
            CommandHandler("lang", self.handle_lang, filters=only_new),
            CallbackQueryHandler(self.handle_lang_button, pattern=f"^{_LANG_CALLBACK}(zh|en)$"),
        ]

    async def handle_start(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text(t(lang_for(update, context.user_data), "start"))

    async def handle_lang(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """``/lang zh`` or ``/lang en`` switches; a bare ``/lang`` offers the two buttons."""
        message = update.effective_message
        assert message is not None
        assert context.user_data is not None
        choice = (context.args or [""])[0].lower()
        if choice.startswith(("zh", "cn", "中")):
            context.user_data[LANG_KEY] = "zh"
        elif choice.startswith("en"):
            context.user_data[LANG_KEY] = "en"
        else:
            buttons = InlineKeyboardMarkup(
                [
                    [
                        InlineKeyboardButton("中文", callback_data=_LANG_CALLBACK + "zh"),
                        InlineKeyboardButton("English", callback_data=_LANG_CALLBACK + "en"),
                    ]
                ]
            )
            lang = lang_for(update, context.user_data)
            await message.reply_text(t(lang, "lang_choose"), reply_markup=buttons)
            return
        await message.reply_text(t(context.user_data[LANG_KEY], "lang_set"))

    async def handle_lang_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        assert query.data is not None
        assert context.user_data is not None
        lang = "en" if query.data.endswith("en") else "zh"
        context.user_data[LANG_KEY] = lang
        await query.answer()
        await query.edit_message_text(t(lang, "lang_set"))
