"""The fake servers of the Telegram load benchmark, in a child process (own GIL).

``Servers(delay_s)`` starts a process running ``tests.fakes.bot_api.FakeBotApiServer`` (with
``TimedBotApi``: timestamps of updates served and of the bot's messages) and
``tests.fakes.openai_server.FakeOpenAI`` (``delay_s`` of model latency per call,
``query_delay_s`` for the query rewrite as with a faster ``PAPERTUTOR_LLM_QUERY_MODEL``; replies
recording when each question's rewrite and answer calls arrived), and talks to it over a pipe.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import re
import time
from collections.abc import Sequence
from http.server import ThreadingHTTPServer
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from bot.prompts import REWRITE_SYSTEM
from tests.fakes.bot_api import FakeBotApi, FakeBotApiServer
from tests.fakes.openai_server import FakeOpenAI

__all__ = ["DOC_CHAT", "FOLLOW_UPS", "QUESTIONS", "Servers", "TimedBotApi"]

DOC_CHAT = 3000
QUESTIONS = {
    "zh": "Q{n}：什么是稀疏注意力？它为什么能省内存？",
    "en": "Q{n}: What is sparse attention, and why does it save memory?",
}
# Asked after QUESTIONS (its exchange is in the chat's history): "它" / "its" point back.
FOLLOW_UPS = {
    "zh": "Q{n}：那它的计算成本和序列长度是什么关系？",
    "en": "Q{n}: And how does its cost grow with the sequence length?",
}
MARK = re.compile(r"Q(\d+)[：:]")
ANSWERS = {
    "zh": (
        "稀疏注意力只让每个词关注一部分词，所以需要的内存更少 [1]。"
        "这样模型可以在固定的内存预算里读很长的文档，效果和普通注意力差不多 [2]。"
    ),
    "en": (
        "Sparse attention lets each word look at only some of the other words, so it needs "
        "less memory [1]. That way the model can read long documents within a fixed memory "
        "budget and still do about as well as full attention [2]."
    ),
}


class TimedBotApi(FakeBotApi):
    """``FakeBotApi`` that timestamps updates served by getUpdates and the bot's messages."""

    def __init__(self) -> None:
        super().__init__()
        self.served: dict[int, float] = {}
        self.events: list[tuple[float, str, int, str | None, bool, str]] = []
        """(arrival, method, chat, parse_mode, carries the answer buttons, text): messages,
        edits and drafts."""

    def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        result = super()._get_updates(params)
        now = time.monotonic()
        for update in result:
            self.served.setdefault(update["update_id"], now)
        return result

    def handle(
        self, method: str, params: dict[str, Any], files: dict[str, tuple[str | None, bytes]]
    ) -> tuple[int, dict[str, Any]]:
        arrived = time.monotonic()
        if method in ("sendMessage", "editMessageText", "sendMessageDraft") and "chat_id" in params:
            markup = params.get("reply_markup")
            rows = markup.get("inline_keyboard", []) if isinstance(markup, dict) else []
            final = any(str(b.get("callback_data", "")).startswith("a:") for r in rows for b in r)
            event = (arrived, method, int(params["chat_id"]), params.get("parse_mode"), final)
            with self._lock:
                self.events.append((*event, str(params.get("text", ""))[:200]))
        return super().handle(method, params, files)

    def queue_all(self, updates: Sequence[dict[str, Any]]) -> None:
        """Deliver all ``updates`` in one getUpdates answer."""
        with self._lock:
            self._updates.extend(updates)
            self._lock.notify_all()


def _serve(conn: Connection, delay_s: float, lang: str, query_delay_s: float) -> None:
    """Child process: run both fake servers and answer the parent's commands."""
    # http.server listens with a backlog of 5: a burst of 100 new connections (100 chats'
    # first model calls at once) overflows it and connections break, which real endpoints
    # (deep backlogs) do not do. Only this child process is affected.
    ThreadingHTTPServer.request_queue_size = 1024
    api = TimedBotApi()
    llm_calls: list[tuple[float, str, int]] = []  # (arrival, "rewrite"/"answer", question no.)

    def reply(body: dict[str, Any]) -> str:
        messages = body["messages"]
        rewrite = messages[0]["content"] == REWRITE_SYSTEM
        found = MARK.search(messages[-1]["content"])
        llm_calls.append(
            (time.monotonic(), "rewrite" if rewrite else "answer", int(found[1]) if found else -1)
        )
        # The model's latency before the first byte (this handler thread only).
        time.sleep(query_delay_s if rewrite else delay_s)
        if rewrite:
            return json.dumps({"queries": ["sparse attention memory"], "terms": []})
        return ANSWERS[lang]

    with FakeOpenAI() as llm, FakeBotApiServer(api).running() as server:
        llm.set_default(reply)
        conn.send((server.base_url, server.file_url, llm.base_url))
        while True:
            command, arg = conn.recv()
            if command == "queue":
                updates = []
                for chat, text, doc in arg:
                    ids = {"id": chat}
                    if doc is None:
                        updates.append(api.update("message", text=text, chat=ids, user=ids))
                    else:
                        data, name = Path(doc).read_bytes(), Path(doc).name
                        updates.append(api.document_update(data, name, chat=ids, user=ids))
                api.queue_all(updates)
                conn.send({u["update_id"]: u["message"]["chat"]["id"] for u in updates})
            elif command == "finished":  # chats with their final answer; is the paper done?
                with api._lock:
                    events = list(api.events)
                finals = {e[2] for e in events if e[4]}
                doc = [e for e in events if e[2] == DOC_CHAT and e[1] == "editMessageText"]
                conn.send((finals, any(e[3] == "HTML" for e in doc)))
            elif command == "results":
                with api._lock:
                    conn.send((dict(api.served), list(api.events), list(llm_calls)))
            else:
                conn.send(None)
                return


class Servers:
    """The parent's handle on the child process (non-blocking waits on the pipe)."""

    def __init__(
        self, delay_s: float, lang: str = "zh", query_delay_s: float | None = None
    ) -> None:
        ctx = multiprocessing.get_context("spawn")
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(
            target=_serve,
            args=(child, delay_s, lang, delay_s if query_delay_s is None else query_delay_s),
            daemon=True,
        )
        self.proc.start()
        self.bot_url, self.file_url, self.llm_url = self.conn.recv()

    async def ask(self, command: str, arg: Any = None) -> Any:
        self.conn.send((command, arg))
        # Wait for the answer without blocking the loop being measured (nor using a thread).
        loop, ready = asyncio.get_running_loop(), asyncio.Event()
        loop.add_reader(self.conn.fileno(), ready.set)
        try:
            await ready.wait()
        finally:
            loop.remove_reader(self.conn.fileno())
        return self.conn.recv()

    def close(self) -> None:
        self.conn.send(("stop", None))
        self.conn.recv()
        self.proc.join(timeout=10)
