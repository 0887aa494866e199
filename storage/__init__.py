"""Persistence and search: the knowledge store and, below it, its Qdrant adapter and its vectors.

``storage`` itself holds the store facade and what serves it (``store``, ``async_store``,
``recovery``, ``backup``, ``backup_file``, ``kept_reports``, ``paper_files``, ``diversity``).
``storage.qdrant`` is the Qdrant adapter (only ``storage.qdrant.index`` imports
``qdrant_client``); ``storage.embedding`` makes the vectors (only
``storage.embedding.embedder`` imports ``fastembed``), and never imports ``storage.qdrant``.
May import ``kernel.models`` and ``kernel.errors``; never ``bot``.
"""
