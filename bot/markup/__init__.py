"""The model's text made readable for a student: Markdown and LaTeX math.

- ``markdown``: Markdown → Telegram HTML or plain text (the only markdown-it importer);
- ``latex``: LaTeX math → one line of Unicode (the only pylatexenc / unicodeit importer);
- ``formula_image``: display formulas → PNG (the only matplotlib importer, lazily, in its own
  thread).

Nothing here knows Telegram's API; ``bot.telegram`` sends what these produce.
"""
