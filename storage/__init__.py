"""Persistence and search: the Qdrant index, the embedders and the notebook store.

Only ``storage.index`` imports ``qdrant_client``; only ``storage.embedder`` imports
``fastembed``. May import ``kernel.models`` and ``kernel.errors``; never ``bot``.
"""
