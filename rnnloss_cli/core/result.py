"""The result every loss returns, and the conventions shared by the losses."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rnnloss_cli.core.text import num

REDUCTIONS = ("mean", "sum", "none")
# Probabilities that sum to 1 within this are a distribution (the contract's 1e-6).
DISTRIBUTION_TOLERANCE = 1e-6
LOG_BASES = ("e", "2", "10")
# Warnings about single terms or rows name this many, then say how many more there are.
WARNINGS_NAMED = 10


def name_first(items: Sequence[Any], warning: Callable[[Any], str], rest: str) -> list[str]:
    """Return `warning(item)` for the first WARNINGS_NAMED items, then `… and N more {rest}`."""
    out = [warning(item) for item in items[:WARNINGS_NAMED]]
    if len(items) > WARNINGS_NAMED:
        out.append(f"… and {len(items) - WARNINGS_NAMED:,} more {rest}")
    return out


@dataclass(frozen=True)
class LossResult:
    """One loss computed: terms, their sum and mean, and the headline value.

    `terms` keeps the shape of the input (per element for `mse`/`bce`/`hinge`, per
    observation for `nll`/`cce`). `value` is `mean` or `sum` (a float) or, for the
    reduction `none`, the terms themselves. `details` holds the intermediate arrays that
    the working substitutes into the formula (probabilities after a sigmoid, margins, …).
    """

    loss: str
    reduction: str
    terms: np.ndarray
    sum: float
    mean: float
    value: float | np.ndarray
    log_base: str | None = None
    warnings: tuple[str, ...] = ()
    details: dict[str, Any] = field(default_factory=dict)


def log_divisor(log_base: str) -> float:
    """Return ln(base): dividing a natural logarithm by it changes its base."""
    if log_base not in LOG_BASES:
        raise ValueError(f"log_base must be one of {', '.join(LOG_BASES)}, got {log_base!r}")
    return 1.0 if log_base == "e" else math.log(float(log_base))


def exact_sum(values: Any, divisor: int = 1) -> float:
    """Return Σ values / divisor, ±∞ only where the true sum is beyond float64 or a value is.

    numpy's sum of finite values can overflow on the way (1.7e308 + 1.7e308 − 1.7e308,
    or ∞ − ∞ between its partial sums) when the total would not: such sums are taken
    again on the values scaled by a power of two. An infinite value makes the sum that
    infinity; +∞ and −∞ together have no sum (ValueError).
    """
    values = np.asarray(values, dtype=np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        total = float(np.sum(values))
    if math.isfinite(total):
        return total / divisor if divisor != 1 else total
    if np.isinf(values).any():
        if np.isposinf(values).any() and np.isneginf(values).any():
            raise ValueError("the terms are +∞ and −∞ at once: their sum is undefined")
        return math.inf if np.isposinf(values).any() else -math.inf
    exponent = math.frexp(float(np.max(np.abs(values))))[1]
    with np.errstate(over="ignore", under="ignore"):
        scaled = float(np.sum(np.ldexp(values, -exponent))) / divisor
        return float(np.ldexp(scaled, exponent))


def reduce_terms(
    loss: str,
    terms: np.ndarray,
    reduction: str,
    *,
    log_base: str | None = None,
    warnings: list[str] | tuple[str, ...] = (),
    details: dict[str, Any] | None = None,
) -> LossResult:
    """Return the `LossResult` of `terms` under `reduction` (`mean`, `sum` or `none`)."""
    if reduction not in REDUCTIONS:
        raise ValueError(f"reduction must be one of {', '.join(REDUCTIONS)}, got {reduction!r}")
    if terms.size == 0:
        raise ValueError("there are no terms to reduce")
    warnings = list(warnings)
    total = exact_sum(terms)
    mean = total / terms.size
    if math.isinf(total) and np.isfinite(terms).all():
        # Finite terms whose sum overflows: the mean still exists, so take it scaled.
        mean = exact_sum(terms, divisor=terms.size)
        warnings.append(f"the sum of the terms overflows float64 (the mean is {num(mean)})")
    value: float | np.ndarray
    if reduction == "mean":
        value = mean
    elif reduction == "sum":
        value = total
    else:
        value = terms
    return LossResult(
        loss=loss,
        reduction=reduction,
        terms=terms,
        sum=total,
        mean=mean,
        value=value,
        log_base=log_base,
        warnings=tuple(warnings),
        details=details or {},
    )


def index_label(index: tuple[int, ...] | int) -> str:
    """Return a term's 0-based position written as in the problem file's keys: `[1]`, `[0][2]`."""
    if isinstance(index, int | np.integer):
        index = (int(index),)
    return "".join(f"[{int(i)}]" for i in index)
