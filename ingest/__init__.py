"""Turning papers, transcripts and subtitle files into typed chunks and source metadata.

Above ``kernel`` only: it imports neither ``storage`` nor ``bot``.
"""
