"""Display formulas drawn as PNGs by matplotlib's mathtext, in the renderer's own thread."""

from __future__ import annotations

import io
import subprocess
import sys
import threading

import pytest
from PIL import Image

from bot.markup.formula_image import (
    MAX_IMAGES,
    FormulaRenderer,
    images_worth_sending,
    render_formula_png,
)

ATTENTION = r"\mathrm{softmax}\left(\frac{QK^T}{\sqrt{d_k}}\right)V"
DPO = (
    r"\mathcal{L}_{\text{DPO}} = -\mathbb{E}_{(x, y_w, y_l) \sim \mathcal{D}}\left[\log \sigma"
    r"\left(\beta \log \frac{\pi_\theta(y_w|x)}{\pi_{\text{ref}}(y_w|x)} - \beta \log "
    r"\frac{\pi_\theta(y_l|x)}{\pi_{\text{ref}}(y_l|x)}\right)\right]"
)


def decode(png: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG"
    return image.convert("L")


@pytest.mark.parametrize("latex", [ATTENTION, DPO, r"\Delta \log \pi \approx -\eta A K G"])
def test_a_formula_becomes_a_readable_png(latex: str) -> None:
    png = render_formula_png(latex)
    assert png is not None
    image = decode(png)
    width, height = image.size
    assert 100 < width <= 4000
    assert height > 30
    assert width / height <= 20  # Telegram refuses photos more elongated than 20:1
    assert image.getpixel((0, 0)) == 255  # white background, also in dark mode
    assert sum(image.histogram()[:128]) > 200  # and black ink: the formula is drawn


def test_a_short_formula_is_padded_and_a_long_one_fits_a_phone() -> None:
    short = decode(render_formula_png("x") or b"")
    assert short.size[0] / short.size[1] <= 20
    long = decode(render_formula_png(" + ".join(f"x_{{{i}}}^2" for i in range(40))) or b"")
    assert long.size[0] <= 4000
    assert long.size[0] / long.size[1] <= 20


@pytest.mark.parametrize(
    "latex",
    [
        r"\frac{a",  # broken
        r"x \\ y",  # several lines: mathtext draws one
        r"\begin{pmatrix}a\end{pmatrix}",
        r"\text{注意力}",  # mathtext's fonts have no Chinese: it would draw empty boxes
        r"\undefinedmacro{x}",
        "{" * 30 + "x" + "}" * 30,
        "x+" * 400,
        "",
    ],
)
def test_what_mathtext_cannot_draw_gives_none(latex: str) -> None:
    assert render_formula_png(latex) is None


def test_common_spellings_mathtext_lacks_are_rewritten() -> None:
    assert render_formula_png(r"a \le b \ge c \ne d, \tfrac{1}{2}, \lVert x \rVert") is not None
    assert render_formula_png(r"\softmax\big(s(x)\big)") is None  # unknown macro
    assert render_formula_png(r"\mathrm{softmax}\big(s(x)\Bigr)") is not None


def test_only_formulas_that_need_a_picture_are_drawn() -> None:
    formulas = ["x^2", ATTENTION, ATTENTION, r"a_{\text{long name}}", r"\sum_i x_i", DPO, "y"]
    assert images_worth_sending(formulas) == [ATTENTION, r"a_{\text{long name}}", r"\sum_i x_i"]
    assert len(images_worth_sending([f"\\frac{{{i}}}{{2}}" for i in range(9)])) == MAX_IMAGES


async def test_the_renderer_draws_in_its_own_thread() -> None:
    renderer = FormulaRenderer()
    threads: list[str] = []
    try:
        await renderer.render("x")  # starts the worker
        worker = [t for t in threading.enumerate() if t.name.startswith("formulas")]
        threads = [t.name for t in worker]
        images = await renderer.images(["x^2", ATTENTION, r"\frac{a", DPO])
    finally:
        renderer.close()
    assert threads
    assert threading.current_thread().name not in threads
    assert len(images) == 2
    assert all(decode(png).size[0] > 100 for png in images)


def test_matplotlib_is_not_imported_until_a_formula_is_drawn() -> None:
    code = (
        "import sys, bot.cli, bot.telegram.app, bot.markup.formula_image\n"
        "assert 'matplotlib' not in sys.modules, 'imported at start-up'\n"
        "from bot.markup.formula_image import render_formula_png\n"
        "assert render_formula_png('x^2') is not None\n"
        "assert 'matplotlib' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
