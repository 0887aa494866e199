"""How long rendering an answer takes: Markdown → Telegram HTML, the streamed preview, LaTeX →
Unicode, and formula images (matplotlib's import cost and the time to draw one formula).

    .venv/bin/python -m scripts.bench_render

The formulas are the ones the corpus papers are made of (Attention Is All You Need, InstructGPT,
the NNDL attention chapter), written as a model writes them in LaTeX; the answer is a typical
beginner answer around them. Cold figures run in fresh interpreters (median of 3). Writes the
"Answer rendering (issue 16)" section of BENCHMARKS.md.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable

from bot.markup.formula_image import FormulaRenderer, render_formula_png
from bot.markup.latex import latex_to_unicode
from bot.markup.markdown import to_telegram_html
from bot.telegram.render import preview_text, render_answer_body, split_html
from scripts.benchlib import ROOT, percentile, write_section

__all__ = ["FORMULAS", "main"]

FORMULAS = {
    "Attention (eq. 1)": (
        r"\mathrm{Attention}(Q, K, V) = \mathrm{softmax}\left(\frac{QK^T}{\sqrt{d_k}}\right)V"
    ),
    "multi-head": (
        r"\mathrm{MultiHead}(Q,K,V) = \mathrm{Concat}(\mathrm{head}_1, \ldots, \mathrm{head}_h)W^O"
    ),
    "positional encoding": r"PE_{(pos, 2i)} = \sin\left(pos / 10000^{2i/d_{\text{model}}}\right)",
    "FFN (eq. 2)": r"\mathrm{FFN}(x) = \max(0, xW_1 + b_1)W_2 + b_2",
    "InstructGPT objective": (
        r"\mathrm{objective}(\phi) = E_{(x,y) \sim D_{\pi_\phi^{RL}}}\left[r_\theta(x,y) - "
        r"\beta \log\left(\pi_\phi^{RL}(y \mid x) / \pi^{SFT}(y \mid x)\right)\right] + "
        r"\gamma E_{x \sim D_{\text{pretrain}}}\left[\log \pi_\phi^{RL}(x)\right]"
    ),
    "reward model loss": (
        r"\mathrm{loss}(\theta) = -\frac{1}{\binom{K}{2}} E_{(x, y_w, y_l) \sim D}"
        r"\left[\log\left(\sigma\left(r_\theta(x, y_w) - r_\theta(x, y_l)\right)\right)\right]"
    ),
    "NNDL attention distribution": (
        r"\alpha_n = \mathrm{softmax}\big(s(\mathbf{x}_n, \mathbf{q})\big) = "
        r"\frac{\exp(s(\mathbf{x}_n, \mathbf{q}))}"
        r"{\sum_{j=1}^{N} \exp(s(\mathbf{x}_j, \mathbf{q}))}"
    ),
    "learning dynamics": (
        r"\Delta \log \pi^t(y \mid x_o) \approx "
        r"-\eta \mathcal{A}^t(x_o) \mathcal{K}^t(x_o, x_u) \mathcal{G}^t(x_u, y_u)"
    ),
}  # fmt: skip

ANSWER = (
    "### 为什么要除以 √d_k\n\n"
    "**缩放点积注意力**先算查询和键的点积 $QK^T$，再除以 $\\sqrt{d_k}$，最后做 softmax [1]。\n\n"
    "$$\\mathrm{Attention}(Q, K, V) = \\mathrm{softmax}\\left(\\frac{QK^T}{\\sqrt{d_k}}\\right)V$$"
    "\n\n原因是：\n\n"
    "1. 当 $d_k$ 很大时，点积的方差约为 $d_k$，数值会变得很大 [1]。\n"
    "2. softmax 在大数值处梯度极小，*训练会变慢* [2]。\n"
    "3. 除以 $\\sqrt{d_k}$ 后方差回到 1 左右 [1][2]。\n\n"
    "> 论文原话：We suspect that for large values of $d_k$, the dot products grow large "
    "in magnitude [1].\n\n"
    "| 做法 | 效果 |\n|---|---|\n| 不缩放 | 梯度消失 |\n| 除以 $\\sqrt{d_k}$ | 训练稳定 |\n\n"
    "代码里就是 `scores = q @ k.T / math.sqrt(d_k)`。想看推导可以读 "
    "[原论文](https://arxiv.org/abs/1706.03762) 第 4 页 [1]。"
)

_COLD = """
import json, resource, sys, time
rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t0 = time.perf_counter()
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.mathtext import MathTextParser
t1 = time.perf_counter()
rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
from bot.markup.formula_image import render_formula_png
assert render_formula_png(sys.argv[1]) is not None
t2 = time.perf_counter()
print(json.dumps({"import_s": t1 - t0, "first_s": t2 - t0, "rss_mb": (rss1 - rss0) / 1024}))
"""


def _cold(formula: str) -> dict[str, float]:
    runs = []
    for _ in range(3):
        out = subprocess.run(
            [sys.executable, "-c", _COLD, formula],
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        )
        runs.append(json.loads(out.stdout))
    return {key: statistics.median(r[key] for r in runs) for key in runs[0]}


def _ms(fn: Callable[[], object], repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


async def _loop_lag(formulas: list[str]) -> tuple[float, float]:
    """Largest delay of a 5 ms ticker on the event loop while a fresh ``FormulaRenderer`` (first
    use: imports matplotlib in its thread) draws ``formulas``; and the wall time it took."""
    renderer = FormulaRenderer()
    lags: list[float] = []
    done = False

    async def tick() -> None:
        while not done:
            start = time.perf_counter()
            await asyncio.sleep(0.005)
            lags.append((time.perf_counter() - start - 0.005) * 1000)

    ticker = asyncio.create_task(tick())
    start = time.perf_counter()
    try:
        images = await renderer.images(formulas, limit=len(formulas))
    finally:
        done = True
        await ticker
        renderer.close()
    assert len(images) == len(formulas)
    return max(lags), time.perf_counter() - start


def main() -> int:
    load = os.getloadavg()[0]
    formulas = list(FORMULAS.values())
    cold = _cold(formulas[0])
    render_formula_png(formulas[0])  # warm: matplotlib imported, fonts loaded
    draw = {name: _ms(lambda f=f: render_formula_png(f), 5) for name, f in FORMULAS.items()}
    sizes = {name: len(render_formula_png(f) or b"") for name, f in FORMULAS.items()}
    uncached = latex_to_unicode.__wrapped__
    unicode_us = [s * 1000 for f in formulas for s in _ms(lambda f=f: uncached(f), 20)]
    html_ms = _ms(lambda: render_answer_body(ANSWER), 50)
    long_answer = "\n\n".join([ANSWER] * 4)
    long_ms = _ms(lambda: split_html(render_answer_body(long_answer)), 20)
    previews = []
    for end in range(3, len(ANSWER) + 3, 3):  # a delta of 3 characters at a time
        start = time.perf_counter()
        preview_text(ANSWER[:end])
        previews.append((time.perf_counter() - start) * 1000)
    lag_ms, lag_wall = asyncio.run(_loop_lag(formulas[:3]))

    all_draw = [s for samples in draw.values() for s in samples]

    def spread(samples: list[float], unit: str, digits: int = 1) -> str:
        p50, p95 = percentile(samples, 50), percentile(samples, 95)
        return f"{p50:.{digits}f} / {p95:.{digits}f} {unit}"

    image_rows = [
        ("import of the matplotlib modules used, fresh interpreter (median of 3)",
         f"{cold['import_s'] * 1000:.0f} ms"),
        ("their resident memory", f"+{cold['rss_mb']:.0f} MB"),
        ("first formula in a fresh interpreter (import + fonts + draw)",
         f"{cold['first_s'] * 1000:.0f} ms"),
        (f"one formula, warm (p50 / p95 over {len(all_draw)} draws)", spread(all_draw, "ms", 0)),
        ("event loop's largest delay while a fresh renderer imports and draws 3 formulas in "
         "its thread", f"{lag_ms:.1f} ms (of {lag_wall * 1000:.0f} ms)"),
    ]  # fmt: skip
    formula_rows = [
        (name, f"{statistics.median(draw[name]):.0f}", f"{max(draw[name]):.0f}",
         f"{sizes[name] / 1024:.0f}", latex_to_unicode(FORMULAS[name]) or "(code)")
        for name in FORMULAS
    ]  # fmt: skip
    text_rows = [
        ("LaTeX → Unicode, one formula, uncached", spread(unicode_us, "µs", 0)),
        ("answer → Telegram HTML (`render_answer_body`)", spread(html_ms, "ms")),
        (f"4× answer ({len(long_answer)} chars) → HTML → split at 4096", spread(long_ms, "ms")),
        ("streamed preview (`preview_text`) per 3-character delta",
         spread(previews, "ms", 2) + f" ({sum(previews):.0f} ms over {len(previews)} deltas)"),
    ]  # fmt: skip

    def table(rows: list[tuple[str, ...]]) -> str:
        return "\n".join("| " + " | ".join(row) + " |" for row in rows)

    html = to_telegram_html(ANSWER)
    body = f"""## Answer rendering (issue 16)

Command: `.venv/bin/python -m scripts.bench_render` ({time.strftime("%Y-%m-%d")}, 2 cores shared
with other work, load average {load:.1f} at the start). Formulas: the corpus papers' own, in the
LaTeX a model writes; answer: {len(ANSWER)} characters of Chinese Markdown with math, a list,
a quote, a table and code ({len(html.formulas)} display formula).

Formula images (matplotlib mathtext, `bot/markup/formula_image.py`):

| what | figure |
|---|---|
{table(image_rows)}

| formula | draw p50 ms | max ms | PNG KB | as Unicode in the text |
|---|---|---|---|---|
{table(formula_rows)}

Text (on the event loop):

| what | p50 / p95 |
|---|---|
{table(text_rows)}

matplotlib is imported only on the first formula to draw, in the renderer's thread; the answer
text is sent before any drawing starts.
"""
    print(body)
    write_section("## Answer rendering (issue 16)", body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
