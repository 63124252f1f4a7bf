"""The result every loss returns, and the conventions shared by the losses."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
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


class InputError(ValueError):
    """Input the validator could not judge alone: what is wrong, and the key it is at."""

    def __init__(self, message: str, key: str | None = None):
        super().__init__(message)
        self.key = key


# A term as it really is: a Fraction where float64 cannot hold it (1e616 overflows to ∞),
# a float where it can, and ±∞ only where the term truly is infinite (a log of 0).
Exact = Fraction | float
# Given the flattened positions of the terms float64 shows as ±∞, their exact values.
ExactTerms = Callable[[list[int]], list[Exact]]


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
    # Where float64 holds a term only as ±∞ (1e616), its exact value by flattened index,
    # and the exact sum (None when every term is a float64 number or truly infinite).
    exact_terms: dict[int, Fraction] = field(default_factory=dict)
    exact_sum: Fraction | None = None

    @property
    def exact_value(self) -> Fraction | None:
        """`value` exactly, where it was taken from terms float64 cannot hold."""
        if self.exact_sum is None or self.reduction == "none":
            return None
        return self.exact_sum / self.terms.size if self.reduction == "mean" else self.exact_sum


@dataclass(frozen=True)
class Gradient:
    """The gradient of a loss's headline value (its reduction and log base included) with
    respect to the prediction input as it was given: `wrt` names it (yhat, logits,
    log_probs, probs, scores), `values` has its shape, `parts` holds what the working
    substitutes into the formula (σ(z), softmax, the kink mask, …), and `notes` say what
    convention a kink follows (PyTorch's)."""

    wrt: str
    values: np.ndarray
    parts: dict[str, Any] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    given_shape: tuple[int, ...] | None = None  # the input's shape, where `values` has
    # another (one observation given as a row is computed as a 1 × C matrix)

    @property
    def as_given(self) -> np.ndarray:
        """Return the gradient in the shape of the input as it was given."""
        return self.values if self.given_shape is None else self.values.reshape(self.given_shape)


def log_divisor(log_base: str) -> float:
    """Return ln(base): dividing a natural logarithm by it changes its base."""
    if log_base not in LOG_BASES:
        raise ValueError(f"log_base must be one of {', '.join(LOG_BASES)}, got {log_base!r}")
    return 1.0 if log_base == "e" else math.log(float(log_base))


def exact_sum(values: Any, divisor: int = 1, exact: ExactTerms | None = None) -> float:
    """Return Σ values / divisor, ±∞ only where the true sum is beyond float64 or a value is.

    Finite values are summed without rounding on the way: a sum that overflows only on
    the way (1.7e308 + 1.7e308 − 1.7e308) is exact, and so is a mean of terms whose sum
    is beyond float64. Terms that are ±∞ only because float64
    cannot hold them (a REINFORCE term of 1e616) are summed from `exact`, their true
    values, so that +1e616 and −2e308 sum to +∞ (beyond float64) and not to "undefined".
    Only truly infinite terms of both signs have no sum (ValueError).
    """
    values = np.ravel(np.asarray(values, dtype=np.float64))
    if np.isfinite(values).all():
        with np.errstate(over="ignore", invalid="ignore"):
            total, magnitude = float(np.sum(values)), float(np.sum(np.abs(values)))
        # numpy's pairwise sum is off by at most about log2(n)·ε·Σ|x|: fine where the
        # terms do not cancel (the usual case, at numpy's speed); else fsum, the sum
        # correctly rounded (pairwise loses 1.7e8 beside 8.5e307 − 8.5e307), and beyond
        # float64 on the way the exact sum of integers.
        bound = (math.log2(values.size + 1) + 2) * 2.3e-16 * magnitude
        if math.isfinite(magnitude) and bound <= 1e-12 * abs(total):
            return total / divisor if divisor != 1 else total
        try:
            total = math.fsum(values.tolist())
        except OverflowError:
            total = math.inf
        if math.isfinite(total):
            return total / divisor if divisor != 1 else total
        return to_float(float_sum(values) / divisor)
    if exact is not None:
        return to_float(exact_total(values, exact)[0] / divisor)
    if np.isposinf(values).any() and np.isneginf(values).any():
        raise ValueError("the terms are +∞ and −∞ at once: their sum is undefined")
    return math.inf if np.isposinf(values).any() else -math.inf


def exact_total(values: np.ndarray, exact: ExactTerms) -> tuple[Exact, list[tuple[int, Fraction]]]:
    """Return the exact sum of `values`, the ±∞ among them replaced by their `exact` values,
    and those that are numbers (by flattened position): a Fraction, or ±∞ where a term is
    truly infinite. Truly infinite terms of both signs have no sum (ValueError)."""
    flat = np.ravel(values)
    finite = np.isfinite(flat)
    where = [int(i) for i in np.flatnonzero(~finite)]
    replaced = exact(where)
    signs = {math.copysign(1.0, t) for t in replaced if isinstance(t, float) and math.isinf(t)}
    if len(signs) == 2:
        raise ValueError("the terms are +∞ and −∞ at once: their sum is undefined")
    numbers = [
        (i, Fraction(t))
        for i, t in zip(where, replaced, strict=True)
        if not (isinstance(t, float) and math.isinf(t))
    ]
    if signs:
        return math.inf * signs.pop(), numbers
    return float_sum(flat[finite]) + sum((t for _, t in numbers), Fraction(0)), numbers


def float_sum(values: np.ndarray) -> Fraction:
    """Return the exact sum of finite floats, without rounding: each is an integer of 53
    bits times a power of two, and the integers of each power are added as Python's."""
    values = values[values != 0]
    if not values.size:
        return Fraction(0)
    mantissa, exponent = np.frexp(values)
    whole = np.ldexp(mantissa, 53).astype(np.int64)  # exact: |whole| < 2^53
    shift = exponent.astype(np.int64) - 53
    lowest = int(shift.min())
    total = 0
    for power in np.unique(shift):
        part = whole[shift == power]
        # Halves of 26 and 27 bits: a million of them add up within int64.
        high, low = int(np.sum(part >> 26)), int(np.sum(part & ((1 << 26) - 1)))
        total += ((high << 26) + low) << int(power - lowest)
    return Fraction(total) * Fraction(2) ** lowest


def to_float(x: Exact) -> float:
    """Return an exact value as float64: ±∞ where it is beyond float64's range."""
    if isinstance(x, float):
        return x
    try:
        return float(x)
    except OverflowError:
        return math.inf if x > 0 else -math.inf


def reduce_terms(
    loss: str,
    terms: np.ndarray,
    reduction: str,
    *,
    log_base: str | None = None,
    warnings: list[str] | tuple[str, ...] = (),
    details: dict[str, Any] | None = None,
    exact: ExactTerms | None = None,
) -> LossResult:
    """Return the `LossResult` of `terms` under `reduction` (`mean`, `sum` or `none`).

    `exact` gives the terms' true values (see `exact_sum`) for the losses whose terms can
    be beyond float64: the sum and mean are taken from them when a term shows as ±∞.
    """
    if reduction not in REDUCTIONS:
        raise ValueError(f"reduction must be one of {', '.join(REDUCTIONS)}, got {reduction!r}")
    if terms.size == 0:
        raise ValueError("there are no terms to reduce")
    warnings = list(warnings)
    exact_sum_: Exact | None = None
    beyond: list[tuple[int, Fraction]] = []
    if exact is not None and not np.isfinite(terms).all():
        exact_sum_, beyond = exact_total(terms, exact)
        mean_exact = exact_sum_ / terms.size
        total, mean = to_float(exact_sum_), to_float(mean_exact)
        if beyond:
            shown = ", ".join(f"term {i + 1} = {num(v)}" for i, v in beyond[:WARNINGS_NAMED])
            more = (
                f" and {len(beyond) - WARNINGS_NAMED:,} more"
                if len(beyond) > WARNINGS_NAMED
                else ""
            )
            what = f"the sum, {num(exact_sum_)}, is"
            if loss != "custom":  # (a custom loss is a weighted sum: it has no mean)
                what = f"the sum, {num(exact_sum_)}, and the mean, {num(mean_exact)}, are"
            warnings.append(
                f"float64 cannot hold every term ({shown}{more}: shown as ±∞): {what} taken "
                "from their exact values"
            )
    else:
        total = exact_sum(terms)
        mean = total / terms.size
    if exact_sum_ is None and math.isinf(total) and np.isfinite(terms).all():
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
        exact_terms=dict(beyond),
        exact_sum=exact_sum_ if isinstance(exact_sum_, Fraction) and beyond else None,
    )


def index_label(index: tuple[int, ...] | int) -> str:
    """Return a term's 0-based position written as in the problem file's keys: `[1]`, `[0][2]`."""
    if isinstance(index, int | np.integer):
        index = (int(index),)
    return "".join(f"[{int(i)}]" for i in index)
