"""/start, /help and /lang: what to send, what the bot can do, and the language switch."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, ContextTypes, filters

from bot.telegram.config import TelegramConfig
from bot.telegram.i18n import LANG_KEY, lang_for, t

if TYPE_CHECKING:
    from bot.services import Services

__all__ = ["build_handlers"]

_LANG_CALLBACK = "lang:"


def build_handlers(
    services: Services, config: TelegramConfig
) -> list[BaseHandler[Update, Any, Any]]:
    """Handlers of the greeting and language commands."""
    del services, config  # nothing to call: these only talk

    async def handle_start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text(t(lang_for(update, context.user_data), "start"))

    async def handle_lang(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
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

    async def handle_lang_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        assert query.data is not None
        assert context.user_data is not None
        lang = "en" if query.data.endswith("en") else "zh"
        context.user_data[LANG_KEY] = lang
        await query.answer()
        await query.edit_message_text(t(lang, "lang_set"))

    only_new = filters.UpdateType.MESSAGE
    return [
        CommandHandler(["start", "help"], handle_start, filters=only_new),
        CommandHandler("lang", handle_lang, filters=only_new),
        CallbackQueryHandler(handle_lang_button, pattern=f"^{_LANG_CALLBACK}(zh|en)$"),
    ]
