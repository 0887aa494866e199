"""The model's Markdown as Telegram HTML (checked by Telegram's parser) and as plain text."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.markup.markdown import display_formulas, settled_end, to_plain, to_telegram_html
from tests.bot.markup.support import FRAGMENTS
from tests.fakes.telegram_html import parse_html

ANSWER = r"""## 缩放点积注意力

**自注意力**把每个词和其它词比较 [1]。公式是 $\mathrm{softmax}(QK^T/\sqrt{d_k})V$，
其中 $d_k$ 是维度 [2][3]。

- 第一点：*查询* 和 `key`
- 第二点 [3]
  1. 子项 \(x_i\)

$$
\frac{QK^T}{\sqrt{d_k}}
$$

```python
print("<hi>")
```

> 原文说 **重要**

更多见 [论文](https://arxiv.org/abs/1706.03762)。"""


def visible(html: str) -> str:
    return parse_html(html)[0]


def test_a_chat_answer_becomes_telegram_html() -> None:
    out = to_telegram_html(ANSWER)
    assert out.text.startswith("<b>缩放点积注意力</b>\n\n<b>自注意力</b>把每个词")
    assert "公式是 softmax(QKᵀ/√dₖ)V，\n其中 dₖ 是维度 [2][3]。" in out.text
    assert "• 第一点：<i>查询</i> 和 <code>key</code>\n• 第二点 [3]\n  1. 子项 xᵢ" in out.text
    assert "\n\nQKᵀ/√dₖ\n\n" in out.text  # the display formula, readable as text too
    assert (
        '<pre><code class="language-python">print(&quot;&lt;hi&gt;&quot;)</code></pre>' in out.text
    )
    assert "<blockquote>原文说 <b>重要</b></blockquote>" in out.text
    assert '<a href="https://arxiv.org/abs/1706.03762">论文</a>' in out.text
    assert out.formulas == (r"\frac{QK^T}{\sqrt{d_k}}",)
    text = visible(out.text)
    assert "#" not in text
    assert "**" not in text
    assert "$" not in text


def test_plain_text_reads_the_same_without_markup() -> None:
    text = to_plain(ANSWER)
    assert text.startswith("缩放点积注意力\n\n自注意力把每个词")
    assert "softmax(QKᵀ/√dₖ)V" in text
    assert "• 第一点：查询 和 key" in text
    assert 'print("<hi>")' in text
    assert "论文 (https://arxiv.org/abs/1706.03762)" in text
    assert not re.search(r"[#*$`]|\\frac", text)


@pytest.mark.parametrize(
    ("markdown", "shown"),
    [
        ("<b>粗</b> & <script>alert(1)</script>", "<b>粗</b> & <script>alert(1)</script>"),
        ("</blockquote></pre><a href='x'>", "</blockquote></pre><a href='x'>"),
        ("&lt; is Markdown for <, &amp;lt; for &lt;", "< is Markdown for <, &lt; for <"),
        ('`<code>"x"</code>`', '<code>"x"</code>'),
        ("$<b>$ and $\\text{<i>}$", "<b> and <i>"),
        ("```\n</pre><b>\n```", "</pre><b>"),
    ],
)
def test_the_models_text_never_becomes_markup(markdown: str, shown: str) -> None:
    html = to_telegram_html(markdown).text
    assert visible(html) == shown


@pytest.mark.parametrize(
    ("markdown", "shown"),
    [
        ("[点我](javascript:alert(1))", "[点我](javascript:alert(1))"),
        ("[文件](file:///etc/passwd)", "[文件](file:///etc/passwd)"),
        ("[相对](page.html)", "[相对](page.html)"),
        ('[引号](https://x.org/?q="><b>)', "引号"),
    ],
)
def test_links_are_only_http(markdown: str, shown: str) -> None:
    html = to_telegram_html(markdown).text
    assert visible(html) == shown
    assert all(e.argument.startswith("https://") for e in parse_html(html)[1] if e.tag == "a")


def test_a_quoted_attribute_cannot_escape_the_link() -> None:
    html = to_telegram_html('[x](https://a.org/?q="onclick=1)').text
    assert html == '<a href="https://a.org/?q=%22onclick=1">x</a>'


@pytest.mark.parametrize(
    "markdown",
    [
        "结论成立 [1]。",
        "[1]: 模型在第 3 页这样说。",
        "见 [1][2]，以及 [3]。",
        r"转义的 \[4\] 也一样",
        r"\[5\] 开头的句子",
        "**加粗 [6]**",
        "链接过的 [7](https://arxiv.org/abs/1)",
        "- 列表 [8]\n- 另一项 [9]",
        "> 引用 [10]",
    ],
)
def test_citation_markers_come_out_as_written(markdown: str) -> None:
    markers = re.findall(r"\[\d+\]", markdown.replace("\\[", "[").replace("\\]", "]"))
    for render in (lambda m: visible(to_telegram_html(m).text), to_plain):
        assert re.findall(r"\[\d+\]", render(markdown)) == markers


@pytest.mark.parametrize(
    ("markdown", "html"),
    [
        ("这是**“自注意力”**机制", "这是<b>“自注意力”</b>机制"),
        ("**注意：**这一步很重要", "<b>注意：</b>这一步很重要"),
        ("模型**（Transformer）**很好", "模型<b>（Transformer）</b>很好"),
        ("用*斜体*表示", "用<i>斜体</i>表示"),
        ("2 * 3 * 4 = 24", "2 * 3 * 4 = 24"),
        ("snake_case_name 不变", "snake_case_name 不变"),
    ],
)
def test_chinese_emphasis_closes_next_to_punctuation(markdown: str, html: str) -> None:
    assert to_telegram_html(markdown).text == html


def test_math_inline_display_and_unreadable() -> None:
    out = to_telegram_html(
        r"注意 $\sqrt{d_k}$ 与 \(QK^\top\)。价格 $5 和 $10 不是公式。"
        "\n\n"
        r"\[ \mathcal{L} = -\log \sigma(\beta) \]"
        "\n\n"
        r"坏的 $\frac{a$ 与 $\unknownmacro{x}$ 保持原样。"
    )
    assert "注意 √dₖ 与 QKᵀ。价格 $5 和 $10 不是公式。" in out.text
    assert "ℒ = -log σ(β)" in out.text
    assert r"<code>\frac{a</code> 与 <code>\unknownmacro{x}</code>" in out.text
    assert out.formulas == (r"\mathcal{L} = -\log \sigma(\beta)",)


def test_display_formulas_in_every_spelling() -> None:
    text = "$$a^2$$\n\n\\[\nb^2\n\\]\n\n行内 $$c^2$$ 和 \\[d^2\\] 都算\n\n```\n$$not^2$$\n```"
    assert display_formulas(text) == ("a^2", "b^2", "c^2", "d^2")


def test_a_formula_line_with_text_after_it_loses_nothing() -> None:
    assert to_plain(r"\[x^2\] 这是平方，后面的字还在。") == "x² 这是平方，后面的字还在。"


def test_tables_become_one_line_per_row() -> None:
    table = "| 方法 | 优点 | 缺点 |\n|---|---|---|\n| RLHF | 效果好 | 复杂 |\n| DPO | 简单 |  |"
    assert to_telegram_html(table).text == (
        "• <b>RLHF</b> — 优点: 效果好; 缺点: 复杂\n• <b>DPO</b> — 优点: 简单"
    )


def test_quotes_do_not_nest_and_code_stays_out_of_links() -> None:
    html = to_telegram_html("> 外层\n> > 内层\n\n[`code` 链接](https://a.org)").text
    assert html.count("<blockquote>") == 1
    assert '<a href="https://a.org">code 链接</a>' in html
    visible(html)  # Telegram accepts it


def test_settled_end_never_cuts_inside_code_or_display_math() -> None:
    assert settled_end("第一段\n\n第二段还在写") == len("第一段")
    assert settled_end("第一段\n\n```\ncode\n\nmore") == len("第一段")
    assert settled_end("a\n\n$$\nx\n\ny") == 1
    assert settled_end("只有一段") == 0


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(FRAGMENTS), max_size=40).map("".join))
def test_any_model_output_is_valid_telegram_html(markdown: str) -> None:
    html = to_telegram_html(markdown).text
    _, entities = parse_html(html)  # raises like Telegram on malformed markup
    assert {e.tag for e in entities} <= {"b", "i", "s", "code", "pre", "blockquote", "a"}
    assert "<script" not in html
    if "|---" not in markdown:  # (a table row's cells beyond its header's are dropped: GFM)
        assert len(re.findall(r"\[\d\]", to_plain(markdown))) >= len(
            re.findall(r"(?<![\\!\]])\[\d\](?![(:\[])", markdown)
        )
