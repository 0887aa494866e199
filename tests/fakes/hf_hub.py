"""A tiny Hugging Face Hub stand-in on 127.0.0.1 for download tests.

Serves the few routes ``huggingface_hub.snapshot_download`` and fastembed's download use (repo
info, recursive tree,
``resolve`` HEAD/GET) for in-memory repos, and records every request path so tests can check
what was fetched. Point a client at it with ``endpoint=hub.url``, or point the whole process
at it with ``use_mirror`` (what ``HF_ENDPOINT`` does to a process started with it).
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

__all__ = ["FakeHub", "fake_hub", "repo_from_dir", "use_mirror"]

COMMIT = "0123456789abcdef0123456789abcdef01234567"


@dataclass
class FakeHub:
    """Repos by id (each a mapping of repo path to bytes) and the requests seen."""

    repos: dict[str, dict[str, bytes]]
    url: str = ""
    requests: list[str] = field(default_factory=list)

    def downloaded(self) -> list[str]:
        """Repo file paths fetched with GET, in order."""
        return [
            p.split(f"/resolve/{COMMIT}/", 1)[1]
            for p in self.requests
            if "GET " in p and "/resolve/" in p
        ]


def repo_from_dir(directory: Path) -> dict[str, bytes]:
    """Every file under ``directory`` keyed by its posix path relative to it."""
    return {
        p.relative_to(directory).as_posix(): p.read_bytes()
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    }


def _handler(hub: FakeHub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass  # keep test output clean

        def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _json(self, data: object) -> None:
            self._send(200, json.dumps(data).encode(), {"Content-Type": "application/json"})

        def _not_found(self) -> None:
            self._send(
                404,
                b'{"error":"Repository not found"}',
                {"Content-Type": "application/json", "X-Error-Code": "RepoNotFound"},
            )

        def _route(self) -> None:
            path = unquote(urlsplit(self.path).path)
            hub.requests.append(f"{self.command} {path}")
            for repo_id, files in hub.repos.items():
                info = f"/api/models/{repo_id}/revision/"
                tree = f"/api/models/{repo_id}/tree/"
                resolve = f"/{repo_id}/resolve/"
                if path.startswith(info) or path == f"/api/models/{repo_id}":
                    return self._json(
                        {
                            "id": repo_id,
                            "modelId": repo_id,
                            "sha": COMMIT,
                            "siblings": [{"rfilename": name} for name in files],
                        }
                    )
                if path.startswith(tree):
                    return self._json(
                        [
                            {
                                "type": "file",
                                "path": name,
                                "size": len(data),
                                "oid": hashlib.sha1(data).hexdigest(),
                            }
                            for name, data in files.items()
                        ]
                    )
                if path.startswith(resolve):
                    name = path[len(resolve) :].split("/", 1)[1]
                    if name not in files:
                        return self._not_found()
                    data = files[name]
                    return self._send(
                        200,
                        data,
                        {
                            "X-Repo-Commit": COMMIT,
                            "ETag": f'"{hashlib.sha256(data).hexdigest()}"',
                            "Content-Type": "application/octet-stream",
                        },
                    )
            return self._not_found()

        do_GET = _route  # noqa: N815 - http.server's naming
        do_HEAD = _route  # noqa: N815

    return Handler


@contextmanager
def fake_hub(repos: dict[str, dict[str, bytes]]) -> Iterator[FakeHub]:
    """Run a ``FakeHub`` serving ``repos`` for the duration of the block."""
    hub = FakeHub(repos=repos)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(hub))
    server.daemon_threads = True
    hub.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield hub
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def use_mirror(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    """Make this process use ``url`` as its hub, as ``HF_ENDPOINT=url`` does for a process
    started with it: file downloads read the variable when called, but huggingface_hub's
    default client (which fastembed's download asks for the repo's file list) read it once, at
    import."""
    from huggingface_hub import hf_api

    monkeypatch.setenv("HF_ENDPOINT", url)
    monkeypatch.setattr(hf_api.api, "endpoint", url)
