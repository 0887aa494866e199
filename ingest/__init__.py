"""Turning papers, transcripts and subtitle files into typed chunks and source metadata.

The lowest layer: it imports neither ``storage`` nor ``bot``.
"""
