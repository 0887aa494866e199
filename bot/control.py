"""The running bot answers the command line's reads: a Unix socket in the data directory.

Embedded Qdrant lets one process hold the store, so while the bot runs, ``papertutor sources``
and ``papertutor notes`` could only say "in use". The bot listens on ``<data dir>/bot.sock``
(only its owner may connect: mode 0600, set before it listens) and answers these two
reads from the store it holds; the command line asks it when the store is in use, and so also
starts without loading qdrant-client at all. Writes are never taken here: they wait for the bot
to stop (or go through the chat).

Protocol: one JSON line each way. Request ``{"read": "sources" | "notes", "chat": <int>}``;
reply ``{"sources": [...]}`` / ``{"notes": [...]}`` (the records as JSON) or ``{"error": "..."}``.
The client (``read_from_bot``) uses the standard library only, so asking costs no import.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from storage.async_store import AsyncKnowledgeStore

__all__ = ["READS", "SOCKET_NAME", "BotUnreachableError", "ControlServer", "read_from_bot"]

log = logging.getLogger(__name__)

SOCKET_NAME = "bot.sock"
READS = ("sources", "notes")
MAX_REQUEST = 4096  # bytes of one request line
MAX_REPLY = 64 * 1024 * 1024  # bytes of one reply line (a chat's notes, with their citations)
REQUEST_TIMEOUT_S = 5.0


class BotUnreachableError(Exception):
    """No running bot answered on the socket (none runs, an older one, or it failed)."""


def socket_path(data_dir: Path) -> Path:
    return data_dir / SOCKET_NAME


class ControlServer:
    """Serves the reads of ``READS`` from ``store`` on ``path`` (see the module docstring)."""

    def __init__(self, store: AsyncKnowledgeStore, path: Path) -> None:
        self._store = store
        self.path = path
        self._server: asyncio.AbstractServer | None = None

    async def start(self) -> bool:
        """Listen; False (logged) when the socket cannot be made: the bot works without it."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # A socket file left by a bot that was killed: this process holds the store now.
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                # Bound and made 0600 before it listens: nobody else can ever connect.
                sock.bind(str(self.path))
                os.chmod(self.path, 0o600)
                self._server = await asyncio.start_unix_server(
                    self._serve, sock=sock, limit=MAX_REQUEST
                )
            except BaseException:
                sock.close()
                raise
        except OSError as exc:  # e.g. a path longer than a socket address allows
            log.warning("command-line reads while the bot runs are off: %s", exc)
            return False
        return True

    async def close(self) -> None:
        if self._server is None:
            return
        self._server.close()
        await self._server.wait_closed()
        self._server = None
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            try:
                line = await asyncio.wait_for(reader.readline(), REQUEST_TIMEOUT_S)
                reply = await self._answer(line)
            except (TimeoutError, ValueError):  # readline: a line over the limit is a ValueError
                reply = {"error": "bad request"}
            writer.write(json.dumps(reply, ensure_ascii=False).encode() + b"\n")
            await writer.drain()
        except ConnectionError:
            pass  # the asker went away
        except Exception:  # a read that failed: the asker is told, the bot goes on
            log.exception("command-line read failed")
            with contextlib.suppress(Exception):
                writer.write(b'{"error": "read failed"}\n')
                await writer.drain()
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _answer(self, line: bytes) -> dict[str, Any]:
        request = json.loads(line) if line.strip() else None
        if not isinstance(request, dict):
            return {"error": "bad request"}
        kind, chat = request.get("read"), request.get("chat")
        if kind not in READS or not isinstance(chat, int) or isinstance(chat, bool):
            return {"error": "bad request"}
        if kind == "sources":
            return {kind: [r.model_dump(mode="json") for r in await self._store.sources(chat)]}
        return {kind: [n.model_dump(mode="json") for n in await self._store.notes(chat)]}


def read_from_bot(
    data_dir: Path, kind: str, chat: int, *, timeout: float = 10.0
) -> list[dict[str, Any]]:
    """The chat's records of ``kind`` as the running bot holds them (JSON objects).

    Raises ``BotUnreachableError`` when no bot answers, ``ValueError`` for a kind it does not serve.
    """
    if kind not in READS:
        raise ValueError(f"kind must be one of {READS}, not {kind!r}")
    path = socket_path(data_dir)
    request = json.dumps({"read": kind, "chat": chat}).encode() + b"\n"
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            conn.settimeout(timeout)
            conn.connect(str(path))
            conn.sendall(request)
            data = b""
            while not data.endswith(b"\n"):
                piece = conn.recv(1 << 16)
                if not piece:
                    break
                data += piece
                if len(data) > MAX_REPLY:
                    raise BotUnreachableError("reply too long")
    except OSError as exc:  # no socket, refused (a stale file), timed out
        raise BotUnreachableError(str(exc)) from exc
    try:
        reply = json.loads(data)
    except ValueError as exc:
        raise BotUnreachableError("unreadable reply") from exc
    if not isinstance(reply, dict):
        raise BotUnreachableError("unreadable reply")
    records = reply.get(kind)
    if not isinstance(records, list):
        raise BotUnreachableError(str(reply.get("error", "no records")))
    return list(records)
