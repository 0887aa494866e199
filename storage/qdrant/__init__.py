"""The Qdrant adapter: ``index`` (``QdrantIndex``, the only code importing qdrant_client) and
``lock`` (whether another process holds the embedded data directory). It imports from
``storage.embedding`` only the sparse vector type and fastembed's import gate; never the
knowledge store above it.
"""
