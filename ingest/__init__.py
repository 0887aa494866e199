"""Turning papers, transcripts and subtitle files into typed chunks and source metadata.

Above ``kernel`` only: it imports neither ``storage`` nor ``bot``. Two pipelines, independent
of each other: ``ingest.paper`` (PDFs) and ``ingest.video`` (lectures). ``routing`` above them
tells a file's kind; ``text``, ``terms`` and ``children`` below them serve both.
"""
