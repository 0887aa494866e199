"""A fake Telegram Bot API for offline tests: one state, two doors.

``FakeBotApi`` answers Bot API methods the way Telegram does (enough of them for this bot),
keeps every chat's messages as the student would see them (edits applied, deletions
removed), serves files for ``getFile`` + download, and queues updates for ``getUpdates``.
Texts and captions are checked as Telegram checks them (``tests/fakes/telegram_html.py``: HTML parse
mode, empty or too long), and so are quiz polls (``sendPoll``: question, options and
explanation lengths, the correct option): a message Telegram would refuse gets its 400 answer
and is listed in ``rejected``. ``poll_answer_update`` is a student answering a poll.

- ``RecordingRequest(api)``: a ``telegram.request.BaseRequest`` for handler tests
  (``ApplicationBuilder().request(...)``), no sockets.
- ``FakeBotApiServer(api)``: the same API over HTTP on 127.0.0.1, for end-to-end tests with
  the real PTB polling loop (``base_url`` / ``base_file_url`` point at it).

Updates are built from JSON fixtures in ``tests/fakes/telegram_updates`` (``api.update(...)``).
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import default as email_policy
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from telegram.constants import PollLimit
from telegram.request import BaseRequest, RequestData

from tests.fakes.http_server import QuietHTTPServer
from tests.fakes.telegram_html import MAX_CAPTION, HtmlError, check_text, parse_html, utf16_len

__all__ = [
    "BOT_ID",
    "BOT_USERNAME",
    "TOKEN",
    "Call",
    "FakeBotApi",
    "FakeBotApiServer",
    "RecordingRequest",
    "Seen",
    "plain",
]

TOKEN = "123456789:AAFakeTokenForOfflineTestsOnly_0123456789"
BOT_ID = 123456789
BOT_USERNAME = "papertutor_test_bot"
FIXTURES = Path(__file__).parent / "telegram_updates"


class _RefusedError(Exception):
    """A call Telegram would refuse with 400 and this description."""


def plain(text: str) -> str:
    """Telegram HTML as the student reads it: tags dropped, entities decoded."""
    return parse_html(text)[0]


@dataclass
class Call:
    """One Bot API call the bot made."""

    method: str
    params: dict[str, Any]
    files: dict[str, tuple[str | None, bytes]] = field(default_factory=dict)


@dataclass
class Seen:
    """One message in a chat, as it currently looks."""

    message_id: int
    text: str
    from_bot: bool
    buttons: list[tuple[str, str]] = field(default_factory=list)
    document: tuple[str | None, bytes] | None = None
    photo: bytes | None = None
    poll: dict[str, Any] | None = None
    """A poll as sent: ``id``, ``question``, ``options`` (texts), ``correct_option_ids``,
    ``explanation``, ``type``, ``is_anonymous``."""
    edits: int = 0
    parse_mode: str | None = None
    markup: dict[str, Any] | None = None
    history: list[str] = field(default_factory=list)
    """Every text the message showed, in order (sent, then each edit)."""

    def __post_init__(self) -> None:
        self.history.append(self.text)

    @property
    def plain(self) -> str:
        return plain(self.text) if self.parse_mode == "HTML" else self.text


def _decode(value: str) -> Any:
    """Form values: non-strings arrive JSON-encoded; texts stay texts."""
    if value[:1] in "[{":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _buttons(markup: Any) -> list[tuple[str, str]]:
    if not isinstance(markup, dict):
        return []
    return [
        (b.get("text", ""), b.get("callback_data") or b.get("url") or "")
        for row in markup.get("inline_keyboard", [])
        for b in row
    ]


class FakeBotApi:
    """The fake Bot API's state. Thread-safe: the HTTP server answers from its threads."""

    def __init__(self, *, token: str = TOKEN) -> None:
        self.token = token
        self.calls: list[Call] = []
        self.bot_user = {
            "id": BOT_ID,
            "is_bot": True,
            "first_name": "Paper Tutor",
            "username": BOT_USERNAME,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }
        self._lock = threading.Condition()
        self._chats: dict[int, dict[str, Any]] = {}
        self._messages: dict[int, dict[int, Seen]] = {}
        self._message_ids = itertools.count(1000)
        self._update_ids = itertools.count(1)
        self._updates: list[dict[str, Any]] = []
        self._files: dict[str, bytes] = {}
        self._file_ids = itertools.count(1)
        self._poll_ids = itertools.count(5000)
        self.rejected: list[tuple[Call, str]] = []
        self.flood_limit: float | None = None
        """Messages per second one chat may receive; above it a call gets 429 + retry_after,
        as Telegram answers a bot that floods a chat (None: no limit)."""
        self.flood_retry_after = 1
        self.flooded: list[Call] = []  # calls refused with 429
        self._sent_at: dict[int, list[float]] = {}
        """Calls answered 400 because Telegram would refuse their text, with the reason."""
        self.fail_methods: dict[str, str] = {}
        """method -> description: answer that method with a 400 error (e.g. deleteMessage)."""

    # -- building updates ----------------------------------------------------------------------

    def add_file(self, data: bytes) -> str:
        """Make ``data`` downloadable; returns its file_id."""
        with self._lock:
            file_id = f"file-{next(self._file_ids)}"
            self._files[file_id] = data
            return file_id

    def update(self, fixture: str, **fields: Any) -> dict[str, Any]:
        """An update from ``telegram_updates/<fixture>.json``, a fresh id and ``fields`` applied.

        ``fields`` are message fields (``text``, ``caption``, ``document``...), plus ``chat`` /
        ``user`` dicts merged into the chat and sender, and ``data`` for callback queries.
        A message sent by the student is also added to the chat's visible history.
        """
        raw = json.loads((FIXTURES / f"{fixture}.json").read_text(encoding="utf-8"))
        raw = copy.deepcopy(raw)
        with self._lock:
            raw["update_id"] = next(self._update_ids)
            if "callback_query" in raw:
                query = raw["callback_query"]
                query["id"] = str(raw["update_id"])
                if "data" in fields:
                    query["data"] = fields.pop("data")
                query["from"].update(fields.pop("user", {}))
                message = query["message"]
                message.update(fields)
                message["from"] = self.bot_user
                return raw
            message = raw["message"]
            message["message_id"] = next(self._message_ids)
            message["date"] = int(time.time())
            message["chat"].update(fields.pop("chat", {}))
            message["from"].update(fields.pop("user", {}))
            message.update(fields)
            if "text" in fields and str(fields["text"]).startswith("/"):
                command = str(fields["text"]).split()[0]
                message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
            chat = message["chat"]
            self._chats[chat["id"]] = chat
            self._messages.setdefault(chat["id"], {})[message["message_id"]] = Seen(
                message["message_id"], message.get("text") or message.get("caption") or "", False
            )
        return raw

    def document_update(
        self, data: bytes, file_name: str, *, mime_type: str | None = None, **fields: Any
    ) -> dict[str, Any]:
        """A message carrying ``data`` as a document (size as Telegram reports it)."""
        file_id = self.add_file(data)
        document = {
            "file_id": file_id,
            "file_unique_id": f"u{file_id}",
            "file_name": file_name,
            "file_size": fields.pop("file_size", len(data)),
        }
        if mime_type:
            document["mime_type"] = mime_type
        return self.update("document", document=document, **fields)

    def media_update(
        self,
        kind: str,
        data: bytes,
        *,
        duration: int,
        file_name: str | None = None,
        mime_type: str | None = None,
        **fields: Any,
    ) -> dict[str, Any]:
        """A message carrying ``data`` as a ``voice``, ``audio``, ``video`` or ``video_note``
        (with the duration and size Telegram reports before any download)."""
        file_id = self.add_file(data)
        media: dict[str, Any] = {
            "file_id": file_id,
            "file_unique_id": f"u{file_id}",
            "duration": duration,
            "file_size": fields.pop("file_size", len(data)),
        }
        if kind == "video":
            media |= {"width": 64, "height": 48}
        if kind == "video_note":
            media["length"] = 240
        if file_name is not None:
            media["file_name"] = file_name
        if mime_type is not None:
            media["mime_type"] = mime_type
        raw = self.update("document", **{kind: media}, **fields)
        del raw["message"]["document"]
        return raw

    def callback_update(self, chat_id: int, message_id: int, data: str, **fields: Any) -> Any:
        """The student pressing the button ``data`` under the bot's message ``message_id``."""
        with self._lock:
            seen = self._messages[chat_id][message_id]
            chat = self._chats.get(chat_id, {"id": chat_id, "type": "private"})
        if seen.markup:
            fields.setdefault("reply_markup", seen.markup)
        return self.update(
            "callback_query",
            data=data,
            chat=chat,
            message_id=message_id,
            text=seen.text,
            date=int(time.time()),
            **fields,
        )

    def poll_answer_update(
        self, poll_id: str, option_ids: list[int], *, user: int = 1001
    ) -> dict[str, Any]:
        """The student ``user`` choosing ``option_ids`` in the poll ``poll_id`` (a non-anonymous
        poll's answer: it names the poll and the user, not the chat)."""
        with self._lock:
            return {
                "update_id": next(self._update_ids),
                "poll_answer": {
                    "poll_id": poll_id,
                    "user": {"id": user, "is_bot": False, "first_name": "小明"},
                    "option_ids": option_ids,
                    "option_persistent_ids": [str(i) for i in option_ids],
                },
            }

    def queue(self, update: dict[str, Any]) -> None:
        """Deliver ``update`` through ``getUpdates``."""
        with self._lock:
            self._updates.append(update)
            self._lock.notify_all()

    # -- what the student sees -----------------------------------------------------------------

    def chat(self, chat_id: int) -> list[Seen]:
        """The chat's messages in order (both sides), as they look now."""
        with self._lock:
            return [copy.deepcopy(m) for m in self._messages.get(chat_id, {}).values()]

    def bot_messages(self, chat_id: int) -> list[Seen]:
        return [m for m in self.chat(chat_id) if m.from_bot]

    def of(self, method: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    async def wait_for(
        self, predicate: Callable[[], bool], *, within: float = 20.0, what: str = ""
    ) -> None:
        """Wait (in the test's event loop) until ``predicate()`` holds, at most ``within`` s."""
        deadline = time.monotonic() + within
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what or predicate}")
            await asyncio.sleep(0.05)

    # -- answering the bot ---------------------------------------------------------------------

    def download(self, file_path: str) -> bytes | None:
        with self._lock:
            return self._files.get(file_path.rsplit("/", 1)[-1])

    def answer(
        self, path: str, params: dict[str, Any], files: dict[str, tuple[str | None, bytes]]
    ) -> tuple[int, dict[str, Any]]:
        """Answer a call to ``/bot<token>/<method>``; a token other than ours is refused with
        401, as api.telegram.org does."""
        *_, prefix, method = path.split("/")
        if prefix != f"bot{self.token}":
            return 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
        return self.handle(method, params, files)

    def handle(
        self, method: str, params: dict[str, Any], files: dict[str, tuple[str | None, bytes]]
    ) -> tuple[int, dict[str, Any]]:
        """Answer one Bot API call: (HTTP status, JSON body)."""
        if method == "getUpdates":
            return 200, {"ok": True, "result": self._get_updates(params)}
        with self._lock:
            if self._floods(method, params):
                self.flooded.append(Call(method, params, files))
                wait = self.flood_retry_after
                return 429, {
                    "ok": False,
                    "error_code": 429,
                    "description": f"Too Many Requests: retry after {wait}",
                    "parameters": {"retry_after": wait},
                }
            self.calls.append(Call(method, params, files))
            if method in self.fail_methods:
                return 400, {
                    "ok": False,
                    "error_code": 400,
                    "description": self.fail_methods[method],
                }
            problem = _refusal(method, params)
            if problem is not None:
                self.rejected.append((self.calls[-1], problem))
                return 400, {
                    "ok": False,
                    "error_code": 400,
                    "description": "Bad Request: " + problem,
                }
            answer = getattr(self, "_" + re.sub(r"(?<!^)([A-Z])", r"_\1", method).lower(), None)
            if answer is None:
                if method in _TRUE_METHODS:
                    return 200, {"ok": True, "result": True}
                return 404, {"ok": False, "error_code": 404, "description": "Not Found"}
            try:
                return 200, {"ok": True, "result": answer(params, files)}
            except _RefusedError as exc:
                return 400, {"ok": False, "error_code": 400, "description": str(exc)}

    def _floods(self, method: str, params: dict[str, Any]) -> bool:
        """Whether this call is over the chat's flood limit (messages sent, edited, drafted)."""
        if self.flood_limit is None or "chat_id" not in params:
            return False
        if not method.startswith(("send", "edit", "copy", "forward")) or method in _NOT_COUNTED:
            return False
        now = time.monotonic()
        recent = [t for t in self._sent_at.get(int(params["chat_id"]), []) if now - t < 1.0]
        if len(recent) >= self.flood_limit:
            self._sent_at[int(params["chat_id"])] = recent
            return True
        self._sent_at[int(params["chat_id"])] = [*recent, now]
        return False

    def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        wait = min(float(params.get("timeout") or 0), 0.5)
        with self._lock:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
            if not self._updates and wait:
                self._lock.wait(wait)
            return list(self._updates)

    def _get_me(self, params: dict[str, Any], files: Any) -> dict[str, Any]:
        return self.bot_user

    def _message(self, params: dict[str, Any], **extra: Any) -> dict[str, Any]:
        chat_id = int(params["chat_id"])
        chat = self._chats.get(chat_id, {"id": chat_id, "type": "private"})
        message: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": chat,
            "from": self.bot_user,
            **extra,
        }
        if params.get("reply_markup"):
            message["reply_markup"] = params["reply_markup"]
        return message

    def _send_message(self, params: dict[str, Any], files: Any) -> dict[str, Any]:
        message = self._message(params, text=params["text"])
        chat_id = message["chat"]["id"]
        self._messages.setdefault(chat_id, {})[message["message_id"]] = Seen(
            message["message_id"],
            params["text"],
            True,
            _buttons(params.get("reply_markup")),
            parse_mode=params.get("parse_mode"),
            markup=params.get("reply_markup") or None,
        )
        return message

    def _send_document(self, params: dict[str, Any], files: Any) -> dict[str, Any]:
        upload = files.get("document")
        caption = params.get("caption", "")
        doc_name = upload[0] if upload else None
        message = self._message(
            params,
            caption=caption,
            document={"file_id": "sent", "file_unique_id": "sent", "file_name": doc_name},
        )
        seen = Seen(message["message_id"], caption, True, parse_mode=params.get("parse_mode"))
        seen.document = upload
        self._messages.setdefault(message["chat"]["id"], {})[message["message_id"]] = seen
        return message

    def _send_poll(self, params: dict[str, Any], files: Any) -> dict[str, Any]:
        options = [str(o["text"] if isinstance(o, dict) else o) for o in params["options"]]
        correct = params.get("correct_option_ids") or []
        if "correct_option_id" in params:
            correct = [params["correct_option_id"]]
        poll = {
            "id": str(next(self._poll_ids)),
            "question": params["question"],
            "options": [
                {"text": text, "voter_count": 0, "persistent_id": str(i)}
                for i, text in enumerate(options)
            ],
            "total_voter_count": 0,
            "is_closed": False,
            "is_anonymous": params.get("is_anonymous", True) not in (False, "false"),
            "type": params.get("type", "regular"),
            "allows_multiple_answers": False,
            "allows_revoting": False,
            "members_only": False,
            "correct_option_ids": [int(c) for c in correct],
        }
        if params.get("explanation"):
            poll["explanation"] = params["explanation"]
        message = self._message(params, poll=poll)
        seen = Seen(message["message_id"], params["question"], True)
        seen.poll = poll | {"options": options}
        self._messages.setdefault(message["chat"]["id"], {})[message["message_id"]] = seen
        return message

    def polls(self, chat_id: int) -> list[dict[str, Any]]:
        """The polls the chat received, in order."""
        return [m.poll for m in self.chat(chat_id) if m.poll is not None]

    def _photo_message(
        self, params: dict[str, Any], upload: tuple[str | None, bytes] | None
    ) -> dict[str, Any]:
        """Like Telegram: the upload must be an image, of a shape a photo may have."""
        data = upload[1] if upload else b""
        if not data.startswith((b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff")):
            raise _RefusedError("Bad Request: IMAGE_PROCESS_FAILED")
        if data[12:16] == b"IHDR":
            width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
            if width + height > 10000 or max(width, height) > 20 * min(width, height):
                raise _RefusedError("Bad Request: PHOTO_INVALID_DIMENSIONS")
        caption = params.get("caption", "")
        if len(plain(caption) if params.get("parse_mode") == "HTML" else caption) > 1024:
            raise _RefusedError("Bad Request: message caption is too long")
        size = {"file_id": "photo", "file_unique_id": "photo", "width": 1, "height": 1}
        message = self._message(params, caption=caption, photo=[size])
        seen = Seen(message["message_id"], caption, True, parse_mode=params.get("parse_mode"))
        seen.photo = data
        seen.document = upload
        self._messages.setdefault(message["chat"]["id"], {})[message["message_id"]] = seen
        return message

    def _send_photo(self, params: dict[str, Any], files: Any) -> dict[str, Any]:
        return self._photo_message(params, files.get("photo"))

    def _send_media_group(self, params: dict[str, Any], files: Any) -> list[dict[str, Any]]:
        sent = []
        for item in params["media"]:
            ref = str(item.get("media", ""))
            sent.append(
                self._photo_message({**params, **item}, files.get(ref.removeprefix("attach://")))
            )
        return sent

    def _find(self, params: dict[str, Any]) -> Seen:
        try:
            return self._messages[int(params["chat_id"])][int(params["message_id"])]
        except KeyError:
            raise _NotFoundError("Bad Request: message to edit not found") from None

    def _edit_message_text(self, params: dict[str, Any], files: Any) -> dict[str, Any]:
        seen = self._find(params)
        seen.text = params["text"]
        seen.history.append(seen.text)
        seen.parse_mode = params.get("parse_mode")
        seen.buttons = _buttons(params.get("reply_markup"))
        seen.markup = params.get("reply_markup") or None
        seen.edits += 1
        return self._message(params, text=seen.text) | {"message_id": seen.message_id}

    def _edit_message_reply_markup(self, params: dict[str, Any], files: Any) -> dict[str, Any]:
        seen = self._find(params)
        seen.buttons = _buttons(params.get("reply_markup"))
        seen.markup = params.get("reply_markup") or None
        return self._message(params, text=seen.text) | {"message_id": seen.message_id}

    def _delete_message(self, params: dict[str, Any], files: Any) -> bool:
        self._messages.get(int(params["chat_id"]), {}).pop(int(params["message_id"]), None)
        return True

    def _get_file(self, params: dict[str, Any], files: Any) -> dict[str, Any]:
        file_id = params["file_id"]
        data = self._files[file_id]
        return {
            "file_id": file_id,
            "file_unique_id": f"u{file_id}",
            "file_size": len(data),
            "file_path": f"documents/{file_id}",
        }


def _poll_refusal(params: dict[str, Any]) -> str | None:
    """Why Telegram would refuse a ``sendPoll``, or ``None``."""
    question = str(params.get("question", ""))
    options = [str(o["text"] if isinstance(o, dict) else o) for o in params.get("options") or []]
    if not PollLimit.MIN_QUESTION_LENGTH <= utf16_len(question) <= PollLimit.MAX_QUESTION_LENGTH:
        return "poll question length must be 1-300"
    if not 2 <= len(options) <= PollLimit.MAX_OPTION_NUMBER:
        return "poll must have at least 2 option"
    if any(not o.strip() or utf16_len(o) > PollLimit.MAX_OPTION_LENGTH for o in options):
        return "poll options length must not exceed 100"
    if len({o.strip() for o in options}) < len(options):
        return "poll options must be unique"
    explanation = str(params.get("explanation") or "")
    if utf16_len(explanation) > PollLimit.MAX_EXPLANATION_LENGTH:
        return "quiz poll explanation is too long"
    if explanation.count("\n") > PollLimit.MAX_EXPLANATION_LINE_FEEDS:
        return "quiz poll explanation must have at most 2 line feeds"
    if params.get("type") == "quiz":
        correct = params.get("correct_option_ids")
        if correct is None and "correct_option_id" in params:
            correct = [params["correct_option_id"]]
        if not correct or len(correct) != 1 or not 0 <= int(correct[0]) < len(options):
            return "wrong quiz correct option"
    for mode_key, text in (
        ("question_parse_mode", question),
        ("explanation_parse_mode", explanation),
    ):
        if params.get(mode_key):
            try:
                check_text(text, params[mode_key], limit=PollLimit.MAX_QUESTION_LENGTH)
            except HtmlError as exc:
                return str(exc)
    return None


def _refusal(method: str, params: dict[str, Any]) -> str | None:
    """Why Telegram would answer ``method`` with 400 for its text or captions, or ``None``."""
    if method == "sendPoll":
        return _poll_refusal(params)
    texts: list[tuple[str, str | None, int]] = []
    if method in ("sendMessage", "editMessageText", "sendMessageDraft"):
        texts.append((str(params.get("text", "")), params.get("parse_mode"), 4096))
    elif params.get("caption"):
        texts.append((str(params["caption"]), params.get("parse_mode"), MAX_CAPTION))
    if method == "sendMediaGroup":
        for item in params.get("media") or []:
            if item.get("caption"):
                texts.append((str(item["caption"]), item.get("parse_mode"), MAX_CAPTION))
    for text, mode, limit in texts:
        try:
            check_text(text, mode, limit=limit)
        except HtmlError as exc:
            return str(exc)
    return None


_NOT_COUNTED = {"sendChatAction"}  # not a message: not part of Telegram's flood limit


class _NotFoundError(_RefusedError):
    """The message a call names is not there (deleted, or never sent)."""


_TRUE_METHODS = {
    "sendChatAction",
    "setMessageReaction",
    "answerCallbackQuery",
    "setMyCommands",
    "deleteWebhook",
    "setWebhook",
    "sendMessageDraft",
    "close",
    "logOut",
}


def _request_parts(
    request_data: RequestData | None,
) -> tuple[dict[str, Any], dict[str, tuple[str | None, bytes]]]:
    if request_data is None:
        return {}, {}
    params = {k: _decode(v) for k, v in request_data.json_parameters.items()}
    files: dict[str, tuple[str | None, bytes]] = {}
    if request_data.contains_files:
        for name, value in request_data.multipart_data.items():
            if isinstance(value, tuple):
                files[name] = (value[0], bytes(value[1]))
    return params, files


class RecordingRequest(BaseRequest):
    """PTB's network seam, answered by a ``FakeBotApi`` in-process."""

    def __init__(self, api: FakeBotApi) -> None:
        self.api = api

    @property
    def read_timeout(self) -> float | None:
        return 1.0

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = None,
        write_timeout: Any = None,
        connect_timeout: Any = None,
        pool_timeout: Any = None,
    ) -> tuple[int, bytes]:
        path = urlsplit(url).path
        if method == "GET" and "/file/bot" in path:
            data = self.api.download(path)
            return (200, data) if data is not None else (404, b"")
        params, files = _request_parts(request_data)
        status, body = self.api.answer(path, params, files)
        return status, json.dumps(body).encode()


def _parse_body(content_type: str, body: bytes) -> tuple[dict[str, Any], dict[str, Any]]:
    if content_type.startswith("multipart/form-data"):
        head = f"Content-Type: {content_type}\r\n\r\n".encode()
        message = BytesParser(policy=email_policy).parsebytes(head + body)
        params: dict[str, Any] = {}
        files: dict[str, tuple[str | None, bytes]] = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True) or b""
            filename = part.get_filename()
            if filename is not None or part.get_content_type() != "text/plain":
                files[str(name)] = (filename, payload)
            else:
                params[str(name)] = _decode(payload.decode("utf-8"))
        return params, files
    if content_type.startswith("application/json"):
        return json.loads(body or b"{}"), {}
    return {k: _decode(v) for k, v in parse_qsl(body.decode("utf-8"), keep_blank_values=True)}, {}


class FakeBotApiServer:
    """``FakeBotApi`` over HTTP on 127.0.0.1 (``base_url`` / ``file_url`` for PTB)."""

    def __init__(self, api: FakeBotApi) -> None:
        self.api = api
        fake = api

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, like api.telegram.org
            disable_nagle_algorithm = True  # headers and body go out at once, no ACK wait

            def log_message(self, format: str, *args: Any) -> None:
                return

            def _reply(self, status: int, body: bytes, ctype: str = "application/json") -> None:
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", ctype)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the bot gave up on a long poll while stopping

            def do_GET(self) -> None:
                data = fake.download(unquote(urlsplit(self.path).path))
                if data is None:
                    self._reply(404, b"")
                else:
                    self._reply(200, data, "application/octet-stream")

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                params, files = _parse_body(self.headers.get("Content-Type", ""), body)
                status, answer = fake.answer(urlsplit(self.path).path, params, files)
                self._reply(status, json.dumps(answer).encode())

        self._server = QuietHTTPServer(("127.0.0.1", 0), Handler)
        port = self._server.server_address[1]
        self.base_url = f"http://127.0.0.1:{port}/bot"
        self.file_url = f"http://127.0.0.1:{port}/file/bot"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @contextmanager
    def running(self) -> Iterator[FakeBotApiServer]:
        self._thread.start()
        try:
            yield self
        finally:
            self._server.shutdown()
            self._server.server_close()
