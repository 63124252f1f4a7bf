"""Mean squared error: (1/n) Σ (y − ŷ)²."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rnnloss_cli.document import (
    Document,
)
from rnnloss_cli.losses import Explanation, Loss
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
    position,
    position_label,
)

if TYPE_CHECKING:
    from rnnloss_cli.solver import Solution

LOSS = Loss(
    name="mse",
    title="Mean squared error",
    aliases=(),
    keys=(
        Y.with_help("Real targets, e.g. 3,5,2.5."),
        YHAT,
        reduction("mean"),
        GRAD,
    ),
    validator="rnnloss_cli.problems.elementwise:validate_mse",
    core="rnnloss_cli.core.elementwise:mse",
    help="Mean squared error (1/n) Σ (y − ŷ)²; default reduction mean.",
    short="Mean squared error.",
    example="--y 3,5,2.5 --yhat 2.5,5,4",
    working="rnnloss_cli.losses.mse:working",
    gradient="rnnloss_cli.core.elementwise_grad:mse",
    explanation=Explanation(
        summary="the average of the squared differences between targets and predictions",
        use="regression: time-series forecasting",
        formula="MSE = (1/n) Σᵢ (yᵢ − ŷᵢ)²",
        when="Real-valued targets; large errors cost quadratically, so outliers dominate.",
        conventions="Default reduction mean, as the lecture's 1/n (PyTorch's default too); a "
        "2-D y/ŷ averages over every element. No logarithm, so no log_base.",
        pitfalls="A sum and a mean differ by the factor n: check which the question wants (the "
        "working shows both).",
        problem="problems/mse_forecast.yaml",
        template=template("""
# Mean squared error of a four-day forecast. Change y and yhat to your numbers.
loss: mse
title: Forecasting four days of temperature
y: [22.0, 24.5, 23.0, 25.5]       # targets
yhat: [21.5, 25.0, 23.5, 24.0]    # predictions
reduction: mean                   # mean (default) | sum | none
expected: 0.75                    # the answer key (optional)
"""),
        example="rnnloss mse --y 22,24.5,23,25.5 --yhat 21.5,25,23.5,24 --expected 0.75",
    ),
)


# --- the working ------------------------------------------------------------------------
# Built from the solved problem as a format-neutral Document (rnnloss_cli.document); the
# writers in rnnloss_cli.render set it in the terminal, Markdown or LaTeX.


def _mse_rows(solution: Solution) -> Rows:
    d = solution.result.details
    mean = solution.result.reduction == "mean"
    tex_mean = FRAC_N if mean else ""
    formula = [
        Formula(
            f"MSE = {'(1/n) ' if mean else ''}Σᵢ (yᵢ − ŷᵢ)²",
            f"\\mathrm{{MSE}} = {tex_mean}\\sum_i (y_i - \\hat{{y}}_i)^2",
        )
    ]
    headers = ["i", "y", "ŷ", "(y − ŷ)²", "term"]

    def row(k: int) -> list[str]:
        pos = position(d["y"].shape, k)
        y, yhat, diff = d["y"][pos], d["yhat"][pos], d["diff"][pos]
        work = f"({num(y)} − {paren(yhat)})² = {paren(diff)}²"
        return [position_label(pos), num(y), num(yhat), work, num(solution.result.terms[pos])]

    return formula, headers, LazyRows(d["y"].size, row)


def _gradient_rows(solution: Solution) -> Rows:
    from rnnloss_cli.workings.gradients import gradient_formula

    d, gradient = solution.result.details, solution.gradient
    assert gradient is not None
    n = gradient.parts["divisor"]
    over = f"/{num(n)}" if n != 1 else ""
    body = ("2(ŷᵢ − yᵢ)", r"2(\hat{y}_i - y_i)")
    formula = [gradient_formula(("ŷᵢ", r"\hat{y}_i"), body, solution.result.reduction, n)]
    headers = ["i", "y", "ŷ", "working", "∂L/∂ŷᵢ"]

    def row(k: int) -> list[str]:
        pos = position(d["y"].shape, k)
        y, yhat = d["y"][pos], d["yhat"][pos]
        work = f"2({num(yhat)} − {paren(y)}){over}"
        return [position_label(pos), num(y), num(yhat), work, num(gradient.values[pos])]

    return formula, headers, LazyRows(d["y"].size, row)


LAYOUT = Layout("Mean squared error", _mse_rows, gradient=_gradient_rows)


def working(solution: Solution, details: bool = False) -> Document:
    """Return the working of one solved problem."""
    return document(solution, LAYOUT, details)
