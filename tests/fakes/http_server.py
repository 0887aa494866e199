"""The HTTP server under the fake Bot API and OpenAI servers: quiet about clients hanging up;
and ``static_files``, a file server (a video site's media URLs, a direct link to a recording).

With keep-alive (as real servers offer), a client closing its idle connections at shutdown
makes ``http.server`` print a ``ConnectionResetError`` traceback for each one. That is how a
connection ends, not an error of the fake, so it is not printed; anything else still is.
"""

from __future__ import annotations

import gc
import sys
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["QuietHTTPServer", "StaticFiles", "collect_ytdlp_leaks", "static_files"]


class QuietHTTPServer(ThreadingHTTPServer):
    daemon_threads = True  # a kept-alive connection's thread never holds up shutdown

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError):  # reset, broken pipe, aborted
            return
        super().handle_error(request, client_address)


@dataclass
class StaticFiles:
    """Files served over HTTP on 127.0.0.1 (``files``: path -> bytes); ``seen`` records every
    request path, so a test can tell what was (not) downloaded."""

    files: dict[str, bytes]
    url: str = ""
    seen: list[str] = field(default_factory=list)

    def downloaded(self, path: str) -> bool:
        return any(s.split("?", 1)[0] == path for s in self.seen)


@contextmanager
def static_files(files: dict[str, bytes]) -> Iterator[StaticFiles]:
    """Serve ``files`` (GET and HEAD, with Content-Length; 404 for anything else)."""
    served = StaticFiles(dict(files))

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            return

        def _answer(self, with_body: bool) -> None:
            served.seen.append(self.path)
            body = served.files.get(self.path.split("?", 1)[0])
            self.send_response(200 if body is not None else 404)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(len(body or b"")))
            self.end_headers()
            if with_body and body:
                self.wfile.write(body)

        def do_GET(self) -> None:
            self._answer(True)

        def do_HEAD(self) -> None:
            self._answer(False)

    server = QuietHTTPServer(("127.0.0.1", 0), Handler)
    served.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever)
    thread.start()
    try:
        yield served
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def collect_ytdlp_leaks() -> None:
    """Collect the HTTP responses yt-dlp's generic extractor leaves open (it reads the first
    bytes of a direct media link and never closes the response), with their ResourceWarning
    ignored, so they are not reported against whichever later test the collector runs in."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        gc.collect()
