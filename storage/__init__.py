"""Persistence and search: the Qdrant index, the embedders and the notebook store.

Only ``storage.index`` imports ``qdrant_client``; only ``storage.embedder`` imports
``fastembed``. May import ``ingest.models`` and ``ingest.errors``; never ``bot``.
"""
