"""The kernel every layer shares: value types, the error tree, and one home per small concept.

- ``kernel.models``: the frozen value objects (chunks, source metadata, source records, search
  hits, citations, notes, terms, turns);
- ``kernel.errors``: every error a student or operator can be shown, each with its Chinese and
  English message beside its class, and whether retrying helps;
- ``kernel.links``: recognising video links, and links that open a video at a second;
- ``kernel.locators``: "where is this snippet" (page, timestamp) as every front door shows it;
- ``kernel.language``: which language a text is in.

The lowest layer: it imports nothing of ``ingest``, ``storage`` or ``bot``.
"""
