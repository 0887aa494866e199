"""Dense embeddings from any OpenAI-compatible ``/v1/embeddings`` server.

For deployments where the embedding model runs elsewhere (text-embeddings-inference, vLLM,
Ollama, a hosted API, or ``scripts/embedding_server.py`` here): the bot then needs no local
model at all. Plain ``requests``, so storage does not depend on the openai package. Models of
the e5 family expect ``"query: "`` / ``"passage: "`` in front of the text; those prefixes are
constructor options because plain servers do not add them.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import requests

from kernel.errors import ConfigError, ServiceError

__all__ = ["HttpEmbedder"]


def _unavailable(base_url: str, detail: object) -> ServiceError:
    return ServiceError("embedding_server_down", url=base_url, detail=detail)


def _bad_server(base_url: str, detail: object) -> ConfigError:
    return ConfigError("embedding_server_answer", url=base_url, detail=detail)


class HttpEmbedder:
    """``Embedder`` over HTTP: POST ``{base_url}/embeddings`` with ``{"model", "input"}``."""

    def __init__(
        self,
        base_url: str,
        model_name: str,
        *,
        api_key: str | None = None,
        query_prefix: str = "",
        passage_prefix: str = "",
        batch_size: int = 32,
        timeout: float = 60.0,
        session: requests.Session | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.model_name = model_name
        self.query_prefix = query_prefix
        self.passage_prefix = passage_prefix
        self.batch_size = max(1, batch_size)
        self.timeout = timeout
        self._session = session or requests.Session()
        if api_key:
            self._session.headers["Authorization"] = f"Bearer {api_key}"
        self._lock = threading.Lock()
        # The server decides the size; ask once so the index can be created to match.
        self.dim = len(self.embed_query("dimension probe"))

    def _post(self, texts: list[str]) -> list[list[float]]:
        url = f"{self.base_url}/embeddings"
        try:
            response = self._session.post(
                url, json={"model": self.model_name, "input": texts}, timeout=self.timeout
            )
        except requests.RequestException as exc:
            raise _unavailable(self.base_url, exc) from exc
        if response.status_code == 429 or response.status_code >= 500:
            raise _unavailable(self.base_url, f"HTTP {response.status_code}")
        if response.status_code != 200:
            raise _bad_server(self.base_url, f"HTTP {response.status_code}: {response.text[:200]}")
        try:
            data: list[dict[str, Any]] = response.json()["data"]
            # The OpenAI format carries "index"; order by it rather than trusting list order.
            ordered = sorted(data, key=lambda item: int(item.get("index", 0)))
            vectors = [[float(x) for x in item["embedding"]] for item in ordered]
        except (ValueError, KeyError, TypeError) as exc:
            raise _bad_server(self.base_url, f"malformed response: {exc!r}") from exc
        if len(vectors) != len(texts) or len({len(v) for v in vectors}) > 1:
            raise _bad_server(self.base_url, f"{len(vectors)} vectors for {len(texts)} texts")
        return vectors

    def embed_passages(self, texts: Sequence[str]) -> list[list[float]]:
        """Vectors of passages to store, in input order."""
        out: list[list[float]] = []
        with self._lock:
            for start in range(0, len(texts), self.batch_size):
                batch = texts[start : start + self.batch_size]
                out.extend(self._post([self.passage_prefix + t for t in batch]))
        return out

    def embed_query(self, text: str) -> list[float]:
        """Vector of a search query."""
        with self._lock:
            return self._post([self.query_prefix + text])[0]

    def close(self) -> None:
        """Close the HTTP connections."""
        self._session.close()
