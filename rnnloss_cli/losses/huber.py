"""Huber loss: ½·d² near the target, δ·(|d| − ½·δ) beyond δ — MSE's robust cousin."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rnnloss_cli.document import Block, Document, paragraph
from rnnloss_cli.losses import Explanation, Key, Loss
from rnnloss_cli.losses.keys import GRAD, YHAT, Y, reduction, template
from rnnloss_cli.render.numbers import (
    LazyRows,
    num,
    paren,
)
from rnnloss_cli.workings.common import (
    FRAC_N,
    Formula,
    Layout,
    Rows,
    document,
    input_blocks,
    latex_number,
    position,
    position_label,
)
from rnnloss_cli.workings.gradients import gradient_formula, over

if TYPE_CHECKING:
    from rnnloss_cli.problems.values import Reader
    from rnnloss_cli.solver import Solution


def validate(r: Reader) -> tuple[dict[str, Any], list[str], dict[str, Any]]:
    """Return huber's inputs: y and ŷ of one shape, and δ, a finite number > 0."""
    from rnnloss_cli.errors import ProblemError
    from rnnloss_cli.problems.values import fmt, same_shape

    r.require("huber", "y", "yhat")
    y, yhat = r.array("y"), r.array("yhat")
    same_shape(y, "y", yhat, "yhat")
    delta = r.number("delta", 1.0)
    if not 0.0 < delta < float("inf"):
        raise ProblemError(f"must be a finite number > 0, got {fmt(delta)}", key="delta")
    return {"y": y, "yhat": yhat, "delta": delta}, [], {}


LOSS = Loss(
    name="huber",
    title="Huber loss",
    aliases=("smooth-l1",),
    keys=(
        Y.with_help("Real targets, e.g. 3,5,2.5."),
        YHAT.with_help("Real predictions, e.g. 2.5,5,4."),
        Key(
            "delta",
            "number",
            "δ, where the term turns from quadratic to linear",
            help="δ > 0, where quadratic turns linear (default 1).",
            default=1.0,
            bounds={"exclusiveMinimum": 0},
        ),
        reduction("mean"),
        GRAD,
    ),
    validator="rnnloss_cli.losses.huber:validate",
    core="rnnloss_cli.core.elementwise:huber",
    working="rnnloss_cli.losses.huber:working",
    gradient="rnnloss_cli.core.elementwise_grad:huber",
    help="Huber loss: ½·d² where |d| ≤ δ, δ·(|d| − ½·δ) beyond (d = ŷ − y); default "
    "reduction mean, as torch.nn.functional.huber_loss and Keras Huber.",
    short="Huber loss (robust regression; alias: smooth-l1).",
    example="--y 30,25,40,35 --yhat 28,26,41,50 --delta 5",
    explanation=Explanation(
        summary="squared error near the target, absolute error in the tails",
        use="regression with outliers: forecasting with occasional spikes",
        formula="ℓ = ½·d² if |d| ≤ δ, else δ·(|d| − ½·δ), d = ŷ − y",
        when="Real-valued targets where a few large errors should not dominate, as they do "
        "under MSE.",
        conventions="Default reduction mean and δ = 1, as torch.nn.functional.huber_loss and "
        "Keras Huber. As δ → ∞ the loss is MSE/2; as δ → 0 it tends to δ × MAE. PyTorch's "
        "smooth_l1_loss is this divided by δ (the alias smooth-l1 names the family: "
        "divide by δ yourself for PyTorch's value).",
        pitfalls="Huber with δ = 1 is not MSE: the quadratic branch has the factor ½. Check the "
        "δ a question uses; the working says which branch each term took.",
        problem="problems/huber_delivery.yaml",
        template=template("""
# Huber loss of four delivery-time predictions, one far off. Change y, yhat and delta.
loss: huber
title: Delivery times with one outlier
y: [30, 25, 40, 35]               # targets
yhat: [28, 26, 41, 50]            # predictions
delta: 5                          # δ > 0: quadratic up to δ, linear beyond (default 1)
reduction: mean                   # mean (default) | sum | none
expected: 16.375                  # the answer key (optional)
"""),
        example="rnnloss huber --y 30,25,40,35 --yhat 28,26,41,50 --delta 5 --expected 16.375",
    ),
)

# --- the working ------------------------------------------------------------------------


def _huber_rows(solution: Solution) -> Rows:
    import numpy as np

    d, result = solution.result.details, solution.result
    delta = num(d["delta"])
    mean = result.reduction == "mean"
    tex_mean = FRAC_N if mean else ""
    tex_delta = latex_number(delta)
    formula: list[Any] = [
        Formula(
            f"L = {'(1/n) ' if mean else ''}Σᵢ ℓᵢ,   ℓᵢ = ½·dᵢ² if |dᵢ| ≤ δ, else δ·(|dᵢ| − ½·δ)",
            f"L = {tex_mean}\\sum_i \\ell_i,\\quad "
            f"\\ell_i = \\begin{{cases}} \\tfrac12 d_i^2 & |d_i| \\le \\delta \\\\ "
            f"\\delta\\,(|d_i| - \\tfrac12\\delta) & \\text{{otherwise}} \\end{{cases}}",
        ),
        Formula(
            f"dᵢ = ŷᵢ − yᵢ, δ = {delta}: quadratic near the target, linear in the tails",
            f"d_i = \\hat{{y}}_i - y_i,\\ \\delta = {tex_delta}"
            r"\text{: quadratic near the target, linear in the tails}",
        ),
        "(an outlier costs δ·|d|, not d²). The limits: as δ → ∞ every term is ½·d²",
        "(the loss is MSE/2); as δ → 0 each is δ·|d| − ½·δ², so the loss tends to",
        "δ × MAE (MAE: the mean absolute error), never above it",
    ]
    quadratic = np.asarray(d["quadratic"])
    if quadratic.all():
        formula.append(f"here every |d| ≤ δ = {delta}: each term is ½·d², the loss is MSE/2")
    elif not quadratic.any():
        formula.append(f"here every |d| > δ = {delta}: each term is δ·|d| − ½·δ² (the MAE side)")
    headers = ["i", "y", "ŷ", "d = ŷ − y", "working", "term"]

    def row(k: int) -> list[str]:
        pos = position(d["y"].shape, k)
        diff, size = d["diff"][pos], d["abs_diff"][pos]
        if d["quadratic"][pos]:
            work = f"|d| = {num(size)} ≤ {delta}: ½·{paren(diff)}²"
        else:
            work = f"|d| = {num(size)} > {delta}: {paren(d['delta'])}·({num(size)} − ½·{delta})"
        return [
            position_label(pos),
            num(d["y"][pos]),
            num(d["yhat"][pos]),
            num(diff),
            work,
            num(result.terms[pos]),
        ]

    return formula, headers, LazyRows(d["y"].size, row)


def _huber_inputs(solution: Solution) -> list[Block]:
    d = solution.result.details
    blocks = input_blocks(solution)
    return [*blocks, paragraph(f"δ = {num(d['delta'])}   (delta: where quadratic turns linear)")]


def _gradient_rows(solution: Solution) -> Rows:
    """dᵢ/n where |dᵢ| ≤ δ, δ·sign(dᵢ)/n beyond: the derivative is continuous at |d| = δ."""
    d, result, gradient = solution.result.details, solution.result, solution.gradient
    assert gradient is not None
    delta, scale = num(d["delta"]), gradient.parts["divisor"]
    by = over(scale)
    body = ("clip(dᵢ, −δ, δ)", r"\operatorname{clip}(d_i, -\delta, \delta)")
    formula: list[Any] = [
        gradient_formula(("ŷᵢ", r"\hat{y}_i"), body, result.reduction, scale),
        f"dᵢ where |dᵢ| ≤ δ = {delta}, δ·sign(dᵢ) beyond: the two branches meet at |d| = δ",
        "with the same slope, so there is no kink (as F.huber_loss's backward)",
    ]
    headers = ["i", "d = ŷ − y", "working", "∂L/∂ŷᵢ"]

    def row(k: int) -> list[str]:
        pos = position(d["y"].shape, k)
        diff, size = d["diff"][pos], d["abs_diff"][pos]
        if d["quadratic"][pos]:
            work = f"|d| ≤ {delta}: {paren(diff)}{by}"
        else:
            sign = "−" if diff < 0 else ""
            work = f"|d| = {num(size)} > {delta}: {sign}{delta}{by}"
        return [position_label(pos), num(diff), work, num(gradient.values[pos])]

    return formula, headers, LazyRows(d["y"].size, row)


LAYOUT = Layout("Huber loss", _huber_rows, _huber_inputs, gradient=_gradient_rows)


def working(solution: Solution, details: bool = False) -> Document:
    """Return the working of one solved problem."""
    return document(solution, LAYOUT, details)
