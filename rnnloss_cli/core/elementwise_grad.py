"""Gradients of the elementwise losses' headline values with respect to the prediction
input as it was given — the numbers `grad: true` shows and PyTorch's autograd computes.

Each function takes the loss's `LossResult` (whose `details` hold the inputs and the
intermediate arrays) and the validated inputs, and returns a `Gradient` of the input's
shape. The reduction and log base are included: the gradient of the mean is the
gradient of the sum divided by n. With reduction none the headline is the vector of
terms; its gradient is taken as that of their sum (`loss.sum().backward()`), each term
depending on its own inputs only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from rnnloss_cli.core.result import Gradient, LossResult


def _scale(result: LossResult, count: int) -> float:
    """Return what the headline divides the sum of the terms by: n for mean, else 1."""
    return float(count) if result.reduction == "mean" else 1.0


def mse(result: LossResult, inputs: Mapping[str, Any]) -> Gradient:
    """∂L/∂ŷᵢ = 2(ŷᵢ − yᵢ)/n under mean (2(ŷᵢ − yᵢ) under sum)."""
    d = result.details
    yhat, y = d["yhat"], d["y"]
    n = _scale(result, yhat.size)
    with np.errstate(over="ignore"):  # 2·1e308 is ∞: the gradient really is that large
        values = 2.0 * (yhat - y) / n
    return Gradient("yhat", values, {"divisor": n})
