"""Display formulas of an answer, sent as pictures right after it.

The answer's text already shows each formula as Unicode (``a/b = √dₖ``); a fraction, root or
sum reads better drawn, so the few display formulas (``$$…$$``, ``\\[…\\]``) that need it follow
the answer as images (one photo, or an album). Drawing happens in ``FormulaRenderer``'s
thread. A formula that cannot be drawn, or a refused upload, costs only its picture: the
answer is already delivered.
"""

from __future__ import annotations

import logging

from telegram import Chat, InputMediaPhoto, ReplyParameters
from telegram.error import TelegramError

from bot.markup.formula_image import FormulaRenderer
from bot.markup.markdown import display_formulas

__all__ = ["send_formula_images"]

log = logging.getLogger(__name__)


async def send_formula_images(
    chat: Chat,
    answer: str,
    renderer: FormulaRenderer,
    *,
    reply: ReplyParameters | None = None,
) -> int:
    """Send the pictures of ``answer``'s display formulas to ``chat``; how many were sent."""
    formulas = display_formulas(answer)
    if not formulas:
        return 0
    images = await renderer.images(formulas)
    try:
        if len(images) == 1:
            await chat.send_photo(images[0], reply_parameters=reply)
        elif images:
            media = [InputMediaPhoto(png) for png in images]
            await chat.send_media_group(media, reply_parameters=reply)
    except TelegramError as exc:
        log.warning("formula images not sent: %s", exc)
        return 0
    return len(images)
