"""The HTTP server under the fake Bot API and OpenAI servers: quiet about clients hanging up.

With keep-alive (as real servers offer), a client closing its idle connections at shutdown
makes ``http.server`` print a ``ConnectionResetError`` traceback for each one. That is how a
connection ends, not an error of the fake, so it is not printed; anything else still is.
"""

from __future__ import annotations

import sys
from http.server import ThreadingHTTPServer
from typing import Any

__all__ = ["QuietHTTPServer"]


class QuietHTTPServer(ThreadingHTTPServer):
    daemon_threads = True  # a kept-alive connection's thread never holds up shutdown

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError):  # reset, broken pipe, aborted
            return
        super().handle_error(request, client_address)
