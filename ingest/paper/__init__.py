"""The paper pipeline: a PDF (text, layout, figures, metadata) into typed chunks, and pictures of
its pages (``render``). The only code importing pymupdf; it never imports ``ingest.video``.
"""
