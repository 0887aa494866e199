"""LaTeX math as one readable line of Unicode; what cannot be read gives None, never an error."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.markup.latex import MAX_SOURCE, latex_to_unicode


@pytest.mark.parametrize(
    ("latex", "expected"),
    [
        (r"\mathrm{softmax}\left(\frac{QK^T}{\sqrt{d_k}}\right)V", "softmax(QKᵀ/√dₖ)V"),
        (r"\sqrt{d_k}", "√dₖ"),
        (r"QK^\top", "QKᵀ"),
        (r"\Delta \log \pi \approx -\eta \cdot A \cdot K \cdot G", "Δ log π ≈ -η · A · K · G"),
        (r"x_{t+1}", "xₜ₊₁"),
        (r"10^{-4}", "10⁻⁴"),
        (r"\sum_{i=1}^{n} x_i^2", "∑ᵢ₌₁ⁿ xᵢ²"),
        (r"\frac{1}{2}", "1/2"),
        (r"\frac12", "1/2"),
        (r"\frac{\partial L}{\partial w}", "∂L/∂w"),
        (r"\frac{a+b}{c}", "(a+b)/c"),
        (r"\sqrt[3]{x}", "∛x"),
        (r"d_{\text{model}}", "d_model"),  # no Unicode subscript for every letter: spelled out
        (r"\pi_{\text{ref}}", "π_ref"),
        (r"\mathcal{L}_{\text{DPO}}", "ℒ_DPO"),
        (r"\mathbb{E}[X] \in \mathbb{R}", "𝔼[X] ∈ ℝ"),
        (r"\operatorname{LN}(x)", "LN(x)"),
        (r"\hat{y}", "ŷ"),
        (r"\|x\|_2", "‖x‖₂"),
        (r"\alpha\beta\gamma", "αβγ"),
        (r"a \leq b \neq c", "a ≤ b ≠ c"),
        (r"\begin{pmatrix}a&b\\c&d\end{pmatrix}", "(a, b; c, d)"),
        (r"\text{注意力}(Q)", "注意力(Q)"),
    ],
)
def test_formulas_read_as_unicode(latex: str, expected: str) -> None:
    assert latex_to_unicode(latex) == expected


@pytest.mark.parametrize(
    "latex",
    [r"\frac{a", r"x^", r"\foo{x}", r"\begin{tikzpicture}x\end{tikzpicture}", "", "   ", "}{"],
)
def test_unreadable_math_is_none(latex: str) -> None:
    assert latex_to_unicode(latex) is None


def test_very_long_formulas_are_not_converted() -> None:
    assert latex_to_unicode("x+" * MAX_SOURCE) is None


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                *list("{}[]()_^&$%#~ \\abxy12+-=|"),
                r"\frac",
                r"\sqrt",
                r"\left",
                r"\right",
                r"\text",
                r"\alpha",
                r"\begin{cases}",
                r"\end{cases}",
                r"\\",
                r"\hat",
                r"\mathbb",
                r"\sum",
                r"\undefined",
            ]
        ),
        max_size=30,
    ).map("".join)
)
def test_any_input_gives_text_or_none(latex: str) -> None:
    out = latex_to_unicode(latex)
    assert out is None or (out.strip() == out and out)
