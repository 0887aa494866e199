"""What tests of the bot's modules share: a chat holding one paper, for the page viewer."""

from __future__ import annotations

import uuid

from kernel.models import SourceStatus
from tests.fakes.services import paper_record

__all__ = ["CHAT", "SOURCE", "OnePaperStore"]

CHAT = 1001
SOURCE = str(uuid.uuid5(uuid.NAMESPACE_URL, "pages-paper"))


class OnePaperStore:
    """The store as ``PageViewer`` reads it: chat ``CHAT`` holds one paper, ``SOURCE``."""

    def __init__(self, status: SourceStatus = SourceStatus.READY) -> None:
        self.status = status

    async def sources(self, chat_id: int) -> list[object]:
        record = paper_record(chat_id).model_copy(
            update={"source_id": SOURCE, "status": self.status}
        )
        return [record] if chat_id == CHAT else []
