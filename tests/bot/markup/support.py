"""What the rendering tests share: the pieces a model's Markdown is made of, for generated
answers (Hypothesis)."""

from __future__ import annotations

__all__ = ["FRAGMENTS"]

FRAGMENTS = [
    "注意力", "Attention ", "。", "，", " ", "\n", "\n\n", "# ", "### ", "- ", "1. ", "> ",
    "**", "*", "_", "~~", "`", "```", "```python\n", "$", "$$", "\\(", "\\)", "\\[", "\\]",
    "\\frac{a}{b}", "\\sqrt{d_k}", "x^2", "d_k", "\\alpha", "{", "}", "[1]", "[2][3]", "[4]: ",
    "<script>", "</b>", "<b>", "&amp;", "&", "<", ">", '"', "'", "|", "---",
    "| a | b |\n|---|---|\n",
    "[链接](https://example.org/a?b=1&c=2)", "[坏](javascript:alert(1))", "![图](https://x.org/i.png)",
    "<https://example.org>", "😀", "\\", "“", "”", "：",
]  # fmt: skip
