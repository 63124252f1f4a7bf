"""Losses with one term per element or per observation: MSE, BCE, NLL/CCE, hinge, Huber, KL.

Every function takes validated float64 arrays and returns a `LossResult`. Shapes are
checked by the problem validator before anything gets here; the checks below are a
second line of defence that raise `ValueError`, never a silent broadcast.
"""

from __future__ import annotations

import math
from dataclasses import replace
from fractions import Fraction

import numpy as np

from rnnloss_cli.core.result import (
    WARNINGS_NAMED,
    Exact,
    LossResult,
    exact_sum,
    index_label,
    log_divisor,
    name_first,
    reduce_terms,
)


def _same_shape(y: np.ndarray, yhat: np.ndarray, what: str = "yhat") -> None:
    if y.shape != yhat.shape:
        raise ValueError(f"shape mismatch: y has shape {y.shape}, {what} has shape {yhat.shape}")


def _infinite_term_warnings(terms: np.ndarray, why: str) -> list[str]:
    """Name the infinite terms (1-based, as the working numbers them) and their positions:
    the first WARNINGS_NAMED, then how many more."""

    def warning(found: np.ndarray) -> str:
        position = tuple(int(i) for i in found)
        number = int(np.ravel_multi_index(position, terms.shape)) + 1 if terms.ndim else 1
        return f"term {number} (at {index_label(position)}) is infinite: {why}"

    return name_first(np.argwhere(np.isinf(terms)), warning, "infinite terms")


BEYOND_FLOAT64 = "the loss is beyond float64 (above 1.8e308)"


def _zero_or_beyond(terms: np.ndarray, zero: np.ndarray, why_zero: str) -> list[str]:
    """Name the infinite terms: where `zero` (a weighted probability of exactly 0) with
    `why_zero`, the others (a logarithm beyond float64, or its change of base) as such."""
    zero = np.broadcast_to(zero, terms.shape)
    named = _infinite_term_warnings(np.where(zero, terms, 0.0), why_zero)
    return named + _infinite_term_warnings(np.where(zero, 0.0, terms), BEYOND_FLOAT64)


def _xlogy(x: np.ndarray, log_y: np.ndarray) -> np.ndarray:
    """Return x·log y with 0·log 0 = 0 (and 0·(−∞) = 0), as scipy.special.xlogy does."""
    with np.errstate(invalid="ignore"):
        return np.where(x == 0, 0.0, x * log_y)


def _log(p: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore"):
        return np.log(p)


def _softplus(x: np.ndarray) -> np.ndarray:
    """Return log(1 + eˣ) without overflow: max(x, 0) + log1p(e^−|x|)."""
    return np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x)))


def _log_softmax_parts(
    logits: np.ndarray, axis: int = -1
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (log softmax, the maximum, log Σ e^(x − maximum)) along `axis`, keepdims.

    A logit of −∞ masks its class (probability exactly 0); a row that is −∞ everywhere, or
    a logit of +∞ (∞ − ∞ in the shift), has no softmax and is refused.
    """
    top = np.max(logits, axis=axis, keepdims=True)
    if not np.isfinite(top).all():
        if np.isnan(top).any():
            raise ValueError("the logits contain NaN")
        if np.isposinf(top).any():
            raise ValueError("a logit is +∞: softmax is undefined (∞ − ∞); mask with −∞")
        raise ValueError("a row of logits is −∞ everywhere: softmax is undefined")
    with np.errstate(over="ignore"):
        shifted = logits - top
    lse = np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))
    return shifted - lse, top, lse


def log_softmax(logits: np.ndarray, axis: int = -1) -> np.ndarray:
    """Return log softmax(logits) along `axis`, shifted by the maximum so nothing overflows.

    Logits a float64 apart (1e308 and −1e308) shift to −∞, whose softmax is exactly 0;
    `_half_log_softmax` has their finite logarithms. −∞ masks a class (see above).
    """
    return _log_softmax_parts(logits, axis)[0]


def _half_log_softmax(logits: np.ndarray, top: np.ndarray, lse: np.ndarray) -> np.ndarray:
    """Return log softmax / 2 as (x/2 − max/2) − lse/2: finite for every finite logit.

    x − max overflows when the logits are more than the float64 range apart (−1e308 beside
    1e308: −2e308), but half of it never does. Halving is exact except for subnormal
    logits, so this is used only where the direct difference overflowed.
    """
    return (logits / 2 - top / 2) - lse / 2


def _overflowed(log_p: np.ndarray, logits: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Where log softmax is −∞ only because x − max overflowed, and the target weighs it."""
    return np.isneginf(log_p) & np.isfinite(logits) & (weights != 0)


def as_log_probs(values: np.ndarray, kind: str) -> np.ndarray:
    """Return log-probabilities from probabilities (`probs`/`yhat`), `log_probs` or `logits`."""
    if kind == "logits":
        return log_softmax(values)
    if kind == "log_probs":
        return values
    if kind in ("probs", "yhat"):
        return _log(values)
    raise ValueError(f"unknown kind of prediction {kind!r}")


def mse(y: np.ndarray, yhat: np.ndarray, *, reduction: str = "mean") -> LossResult:
    """Return the squared errors (y − ŷ)² and their mean (the lecture's 1/n Σ) or sum."""
    _same_shape(y, yhat)
    with np.errstate(over="ignore", invalid="ignore"):  # overflow is reported as a warning
        diff = y - yhat
        terms = diff * diff
    warnings = _infinite_term_warnings(terms, "the squared difference overflows float64")
    details = {"y": y, "yhat": yhat, "diff": diff}

    def exact(where: list[int]) -> list[Exact]:  # (y − ŷ)²: finite inputs, never truly ∞
        return [(Fraction(y.flat[i]) - Fraction(yhat.flat[i])) ** 2 for i in where]

    return reduce_terms("mse", terms, reduction, warnings=warnings, details=details, exact=exact)


def bce(
    y: np.ndarray,
    yhat: np.ndarray | None = None,
    *,
    logits: np.ndarray | None = None,
    reduction: str = "mean",
    log_base: str = "e",
    clip: float | None = None,
) -> LossResult:
    """Return the binary cross-entropy terms −[y log ŷ + (1 − y) log(1 − ŷ)] and their reduction.

    `yhat` are probabilities; with `logits` instead, ŷ = sigmoid(logits) and the logarithms
    come straight from the logits: log σ(x) = −softplus(−x), log(1 − σ(x)) = −softplus(x),
    which stays finite where 1 − σ(x) would round to 0. 0·log 0 = 0, so a target of exactly
    0 or 1 never turns a confident prediction into NaN. `clip` moves probabilities into
    [clip, 1 − clip] first, as Keras does with its epsilon.
    """
    if (yhat is None) == (logits is None):
        raise ValueError("give exactly one of yhat and logits")
    details: dict[str, np.ndarray] = {"y": y}
    if logits is not None:
        _same_shape(y, logits, "logits")
        log_p = -_softplus(-logits)
        log_1mp = -_softplus(logits)
        details["logits"] = logits
        details["p"] = np.exp(log_p)
    else:
        assert yhat is not None
        _same_shape(y, yhat)
        p = yhat if clip is None else np.clip(yhat, clip, 1.0 - clip)
        log_p, log_1mp = _log(p), _log(1.0 - p)
        details["yhat"] = yhat
        details["p"] = p
    nats = -(_xlogy(y, log_p) + _xlogy(1.0 - y, log_1mp))
    with np.errstate(over="ignore"):  # bits of 1.7e308 nats: beyond float64, warned about
        terms = nats / log_divisor(log_base)
    zero = ((y != 0) & np.isneginf(log_p)) | ((y != 1) & np.isneginf(log_1mp))
    warnings = _zero_or_beyond(
        terms, zero, "the target puts weight on a predicted probability of 0, and log 0 = −∞"
    )
    return reduce_terms(
        "bce", terms, reduction, log_base=log_base, warnings=warnings, details=details
    )


def categorical_cross_entropy(
    y: np.ndarray,
    yhat: np.ndarray | None = None,
    *,
    logits: np.ndarray | None = None,
    log_probs: np.ndarray | None = None,
    reduction: str = "sum",
    log_base: str = "e",
    clip: float | None = None,
    label_smoothing: float = 0.0,
    loss: str = "cce",
) -> LossResult:
    """Return the per-observation cross-entropies −Σ_c y_c log ŷ_c and their reduction.

    `y` is N × C (one-hot or soft rows); the prediction is N × C probabilities (`yhat`),
    log-probabilities (`log_probs`) or `logits` (log-softmax applied, so nothing overflows).
    `label_smoothing` ε replaces y by (1 − ε)·y + ε/C, as PyTorch and Keras do. `loss`
    names the result (`nll` is the same formula restricted to one-hot targets).
    """
    given = [a for a in (yhat, logits, log_probs) if a is not None]
    if len(given) != 1:
        raise ValueError("give exactly one of yhat, logits and log_probs")
    prediction = given[0]
    if y.ndim != 2:
        raise ValueError(f"y must be N × C, got shape {y.shape}")
    _same_shape(y, prediction, "the prediction")
    if not 0.0 <= label_smoothing < 1.0:
        raise ValueError(f"label_smoothing must lie in [0, 1), got {label_smoothing}")
    details: dict[str, np.ndarray] = {"y": y}
    top = lse = None
    if logits is not None:
        log_p, top, lse = _log_softmax_parts(logits, axis=1)
        details["logits"] = logits
        details["p"] = np.exp(log_p)
        details["log_p"] = log_p  # finite where ŷ underflows to 0 (logits 0 and −800)
    elif log_probs is not None:
        log_p = log_probs
        details["log_probs"] = log_probs
        details["p"] = np.exp(log_p)
        details["log_p"] = log_p
    else:
        assert yhat is not None
        p = yhat if clip is None else np.clip(yhat, clip, 1.0 - clip)
        log_p = _log(p)
        details["yhat"] = yhat
        details["p"] = p
    weights = y
    if label_smoothing:
        weights = (1.0 - label_smoothing) * y + label_smoothing / y.shape[1]
        details["y_smoothed"] = weights
        details["label_smoothing"] = label_smoothing
    divisor = log_divisor(log_base)
    nats = -np.sum(_xlogy(weights, log_p), axis=1)
    with np.errstate(over="ignore"):  # bits of 1.7e308 nats: beyond float64, warned about
        terms = nats / divisor
    zero = (weights != 0) & np.isneginf(log_p)
    if logits is not None:
        over = _overflowed(log_p, logits, weights)
        zero &= ~over
        if over.any():
            # A weighted class whose logit is more than the float64 range below the top
            # one: its log-probability (−2e308, say) overflows, the loss need not. Those
            # rows are summed in halves, then doubled (∞ only if the loss itself is).
            rows = over.any(axis=1)
            assert top is not None and lse is not None
            half = _half_log_softmax(logits[rows], top[rows], lse[rows])
            half_nats = -np.sum(_xlogy(weights[rows], half), axis=1)
            with np.errstate(over="ignore"):
                terms[rows] = 2.0 * (half_nats / divisor)
            # For the working: ln ŷ of those cells is 2 × this (beyond float64, shown so).
            details["overflowed"] = over
            details["half_log_p"] = _half_log_softmax(logits, top, lse)
    warnings = _zero_or_beyond(
        terms,
        zero.any(axis=1),
        "the target puts weight on a class predicted with probability 0, and log 0 = −∞",
    )
    return reduce_terms(
        loss, terms, reduction, log_base=log_base, warnings=warnings, details=details
    )


def hinge(
    y: np.ndarray,
    yhat: np.ndarray,
    *,
    margin: float = 1.0,
    squared: bool = False,
    reduction: str = "mean",
) -> LossResult:
    """Return the hinge terms max(0, margin − y·ŷ) (squared if asked) and their reduction.

    Labels are −1 or +1 and ŷ a real score. The lecture writes the sequence hinge loss as a
    sum over time steps but averages in its worked example, so `mean` is the default and
    the working always shows both.
    """
    _same_shape(y, yhat)
    with np.errstate(over="ignore", invalid="ignore"):  # overflow is reported as a warning
        product = y * yhat
        raw = margin - product
        terms = np.maximum(raw, 0.0)
        if squared:
            terms = terms * terms
    warnings = _infinite_term_warnings(terms, "the margin overflows float64")

    def exact(where: list[int]) -> list[Exact]:  # max(0, m − y·ŷ)(²): never truly ∞
        out: list[Exact] = []
        for i in where:
            hinge = max(Fraction(margin) - Fraction(y.flat[i]) * Fraction(yhat.flat[i]), 0)
            out.append(hinge * hinge if squared else hinge)
        return out

    return reduce_terms(
        "hinge",
        terms,
        reduction,
        warnings=warnings,
        exact=exact,
        details={
            "y": y,
            "yhat": yhat,
            "product": product,
            "raw": raw,
            "margin": margin,
            "squared": squared,
        },
    )


def _margin_sum(margin: float, true_score: np.ndarray, other: np.ndarray) -> np.ndarray:
    """Return margin − s_y + s_j, ±∞ only where the exact value is beyond float64.

    Scores ±1e308 overflow the direct sum (1 − (−1e308) + 1e308); a sum of quarters never
    does, and scaled back by 4 it overflows exactly when the true value is too large.
    """
    with np.errstate(over="ignore"):
        direct = margin - true_score + other
        over = np.isinf(direct)
        if over.any():
            quarters = 4.0 * ((margin / 4 - true_score / 4) + other / 4)
            direct = np.where(over, quarters, direct)
    return direct


def multiclass_hinge(
    target: np.ndarray,
    scores: np.ndarray,
    *,
    multiclass: str = "crammer-singer",
    margin: float = 1.0,
    squared: bool = False,
    reduction: str = "mean",
) -> LossResult:
    """Return the multi-class hinge terms, one per observation, and their reduction.

    `crammer-singer` (scikit-learn's `hinge_loss`): max(0, margin − s_y + max_{j≠y} s_j).
    `weston-watkins` (PyTorch's `multi_margin_loss`): Σ_{j≠y} max(0, margin − s_y + s_j) / C,
    PyTorch's division by the number of classes C included. `squared` squares each hinge
    (PyTorch's p = 2).
    """
    n, c = scores.shape
    if target.shape != (n,):
        raise ValueError(f"shape mismatch: {target.shape[0]} targets for {n} rows of scores")
    if multiclass not in ("crammer-singer", "weston-watkins"):
        raise ValueError(f"multiclass must be crammer-singer or weston-watkins, got {multiclass!r}")
    rows = np.arange(n)
    true_score = scores[rows, target]
    others = scores.copy()
    others[rows, target] = -np.inf
    rival = np.argmax(others, axis=1)
    if multiclass == "crammer-singer":
        hinges = np.maximum(_margin_sum(margin, true_score, others[rows, rival]), 0.0)
        with np.errstate(over="ignore"):  # a square beyond float64 is ∞, and warned about
            terms = hinges * hinges if squared else hinges
        per_class = None
    else:
        per_class = np.maximum(_margin_sum(margin, true_score[:, None], scores), 0.0)
        per_class[rows, target] = 0.0
        with np.errstate(over="ignore"):
            if squared:
                per_class = per_class * per_class
            terms = per_class.sum(axis=1) / c
        big = np.isinf(terms)
        if big.any():
            # A sum beyond float64 whose mean over the C classes need not be: add quarters
            # of the hinges (which never overflow), divided by C, and scale back.
            quarter = np.maximum(margin / 4 - true_score[big, None] / 4 + scores[big] / 4, 0.0)
            quarter[np.arange(quarter.shape[0]), target[big]] = 0.0
            with np.errstate(over="ignore"):
                if squared:
                    terms[big] = 16.0 * np.sum(quarter * (quarter / c), axis=1)
                else:
                    terms[big] = 4.0 * np.sum(quarter / c, axis=1)
    details = {
        "target": target,
        "scores": scores,
        "true_score": true_score,
        "rival": rival,
        "per_class": per_class,
        "margin": margin,
        "squared": squared,
        "multiclass": multiclass,
    }
    warnings = _infinite_term_warnings(terms, "the margin overflows float64")
    return reduce_terms("hinge", terms, reduction, warnings=warnings, details=details)


def huber(
    y: np.ndarray, yhat: np.ndarray, *, delta: float = 1.0, reduction: str = "mean"
) -> LossResult:
    """Return the Huber terms and their mean (the default, as `F.huber_loss`) or sum.

    With d = ŷ − y, each term is 0.5·d² where |d| ≤ δ and δ·(|d| − 0.5·δ) beyond: quadratic
    near the target, linear in the tails, so one outlier weighs δ·|d| and not d². The two
    branches meet with equal value and slope at |d| = δ. Limits: as δ → ∞ every term is
    quadratic and the mean is MSE/2; as δ → 0 a term is δ·|d| − δ²/2, so the mean tends to
    δ·MAE (and never exceeds it). `delta` must be a finite number > 0.

    Reference: P. J. Huber, "Robust Estimation of a Location Parameter", Annals of
    Mathematical Statistics 35(1), 1964; as `torch.nn.functional.huber_loss` and Keras
    `Huber` (PyTorch's `smooth_l1_loss` is this divided by δ).
    """
    _same_shape(y, yhat)
    delta_value = float(delta)
    if not (math.isfinite(delta_value) and delta_value > 0):
        raise ValueError(f"delta must be a finite number > 0, got {delta!r}")
    with np.errstate(over="ignore"):  # overflow is reported as a warning, the term kept exact
        diff = yhat - y
        abs_diff = np.abs(diff)
        quadratic = abs_diff <= delta_value
        # 0.5·d² correctly rounded: (d·d)/2 would overflow from |d| = 1.3e154, and 0.5·d
        # loses a bit of a subnormal d, so each is used where it is exact.
        square = np.where(abs_diff < 1.0, 0.5 * (abs_diff * abs_diff), (0.5 * abs_diff) * abs_diff)
        linear = delta_value * (abs_diff - 0.5 * delta_value)
        terms = np.where(quadratic, square, linear)
    warnings = _infinite_term_warnings(terms, "the Huber term overflows float64")
    details = {
        "y": y,
        "yhat": yhat,
        "diff": diff,
        "abs_diff": abs_diff,
        "delta": delta_value,
        "quadratic": quadratic,
    }

    def exact(where: list[int]) -> list[Exact]:  # finite inputs and δ: never truly ∞
        out: list[Exact] = []
        exact_delta = Fraction(delta_value)
        for i in where:
            d = abs(Fraction(yhat.flat[i]) - Fraction(y.flat[i]))
            out.append(d * d / 2 if d <= exact_delta else exact_delta * (d - exact_delta / 2))
        return out

    return reduce_terms("huber", terms, reduction, warnings=warnings, details=details, exact=exact)


KL_REDUCTIONS = ("sum", "mean", "batchmean", "none")
# Below this a probability e^(log p) is subnormal or 0: a product with it is taken in logs.
_SMALLEST_NORMAL = float(np.finfo(np.float64).tiny)


def _weighted(
    weight: np.ndarray, log_weight: np.ndarray, value: np.ndarray, *, from_log: bool
) -> np.ndarray:
    """Return weight·value, 0 where the weight is exactly 0 (log weight −∞), so 0·log 0 = 0.

    A weight computed as e^(log weight) (`from_log`) may underflow (e^−800 is 0 in float64)
    while its product is a number (e^−800 · 1e308 ≈ 3.6e−40): there the product is taken
    as e^(log w + log |value|), and a positive weight times ∞ is ∞ whatever it rounded to.
    A weight given as a number is exact, and so is its product, correctly rounded.
    """
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        out = np.where(np.isneginf(log_weight), 0.0, weight * value)
        tiny = (weight < _SMALLEST_NORMAL) & np.isfinite(log_weight) & (value != 0)
        if from_log and tiny.any():
            out[tiny] = np.sign(value[tiny]) * np.exp(
                log_weight[tiny] + np.log(np.abs(value[tiny]))
            )
    return out


def kl_divergence(
    y: np.ndarray,
    yhat: np.ndarray | None = None,
    *,
    log_probs: np.ndarray | None = None,
    log_target: bool = False,
    reduction: str = "sum",
    log_base: str = "e",
) -> LossResult:
    """Return the per-row KL divergences Σ_c y_c (log y_c − log ŷ_c) and their reduction.

    `log_base` is the logarithm's base (e: nats, 2: bits, 10), as for the cross-entropies:
    every term, contribution, cross-entropy and entropy is divided by ln(base).

    `y` holds target distributions, N × C (a single row of C is one observation, 1 × C);
    the prediction is N × C probabilities (`yhat`) or log-probabilities (`log_probs`).
    With `log_target` `y` is given as log-probabilities, as `F.kl_div(log_target=True)`.
    Natural logarithms (nats) only. 0·log 0 = 0: a class with y_c = 0 adds nothing, even
    where ŷ_c = 0 (PyTorch gives NaN there with `log_target=True`); y_c > 0 where ŷ_c = 0
    makes the row infinite, with a warning naming the row and the class.

    Reductions: `sum` (default) of the row terms; `batchmean` the sum / N, the KL per
    observation (the mathematical mean); `mean` the sum / (N·C), over every element, as
    PyTorch's `reduction='mean'`, which PyTorch itself warns is not the KL mean; `none` the
    N row terms — PyTorch's `none` is elementwise (N × C), and those elementwise
    contributions are `details["contributions"]`. The result's `mean` is sum / N (per row,
    as for the other losses) whatever the reduction; `details["divisor"]` says what the
    sum was divided by for `value`. A single 1-D row has N = 1, so its `batchmean` is its
    sum, where PyTorch divides a 1-D input by its first dimension, C.

    KL(y ‖ ŷ) = H(y, ŷ) − H(y): `details` has the cross-entropy and the entropy per row.
    Reference: S. Kullback and R. A. Leibler, "On Information and Sufficiency", Annals of
    Mathematical Statistics 22(1), 1951; `torch.nn.functional.kl_div`.
    """
    if (yhat is None) == (log_probs is None):
        raise ValueError("give exactly one of yhat and log_probs")
    if reduction not in KL_REDUCTIONS:
        raise ValueError(f"reduction must be one of {', '.join(KL_REDUCTIONS)}, got {reduction!r}")
    prediction = yhat if yhat is not None else log_probs
    assert prediction is not None
    what = "yhat" if yhat is not None else "log_probs"
    if y.ndim not in (1, 2):
        raise ValueError(f"y must be N × C (or a single row of C), got shape {y.shape}")
    _same_shape(y, prediction, what)
    single_row = y.ndim == 1
    if single_row:
        y, prediction = y[None, :], prediction[None, :]
    n, c = y.shape
    if c == 0:
        raise ValueError(f"y has no classes: shape {y.shape}")

    details: dict[str, object] = {}
    if log_target:
        log_y = y
        with np.errstate(under="ignore", over="ignore"):  # (for input out of range)
            target = np.exp(log_y)
    else:
        target, log_y = y, _log(y)
    if yhat is not None:
        log_p = _log(prediction)
        details["yhat"] = prediction
        p = prediction
    else:
        log_p = prediction
        with np.errstate(under="ignore", over="ignore"):  # (for input out of range)
            p = np.exp(log_p)
        details["log_probs"] = prediction

    with np.errstate(over="ignore", invalid="ignore"):  # log y − (−∞) = +∞: a term of ∞
        log_ratio = log_y - log_p
    contributions = _weighted(target, log_y, log_ratio, from_log=log_target)
    with np.errstate(over="ignore"):  # a sum beyond float64 is ∞ (the terms are warned about)
        cross_entropy = -np.sum(_weighted(target, log_y, log_p, from_log=log_target), axis=1)
        entropy = -np.sum(_weighted(target, log_y, log_y, from_log=log_target), axis=1)
        terms = np.sum(contributions, axis=1)
    for row in np.flatnonzero(np.isinf(terms) & np.isfinite(contributions).all(axis=1)):
        terms[row] = exact_sum(contributions[row])  # overflow on the way only: not ∞
    scale = log_divisor(log_base)
    if scale != 1.0:  # in bits or log₁₀: every logarithm divided by ln(base)
        contributions, terms = contributions / scale, terms / scale
        cross_entropy, entropy = cross_entropy / scale, entropy / scale

    zero = np.isfinite(log_y) & np.isneginf(log_p)  # weight on a class predicted at 0
    zero_rows = np.flatnonzero(zero.any(axis=1))

    def zero_warning(row: int) -> str:
        classes = [int(k) for k in np.flatnonzero(zero[row])]
        shown = ", ".join(f"{k} (at {index_label((row, k))})" for k in classes[:WARNINGS_NAMED])
        extra = len(classes) - WARNINGS_NAMED
        more = f" and {extra:,} more" if extra > 0 else ""
        noun = "class" if len(classes) == 1 else "classes"
        return (
            f"term {row + 1} (at {index_label(row)}) is infinite: the target puts weight on "
            f"{noun} {shown}{more}, predicted with probability 0, and log 0 = −∞"
        )

    warnings = name_first(list(zero_rows), zero_warning, "infinite terms")
    beyond = np.where(zero.any(axis=1), 0.0, terms)
    warnings += _infinite_term_warnings(beyond, BEYOND_FLOAT64)

    result = reduce_terms(
        "kl",
        terms,
        "none" if reduction == "none" else "sum",
        log_base=log_base,
        warnings=warnings,
    )
    divisor: int | None
    value: float | np.ndarray
    rows = f"{n:,} row" + ("s" if n != 1 else "")
    classes = f"{c:,} class" + ("es" if c != 1 else "")
    if reduction == "sum":
        divisor, value = 1, result.sum
        words = f"the sum over the {rows}"
    elif reduction == "batchmean":
        divisor, value = n, result.mean
        words = f"the sum divided by the {rows} (batchmean: the KL per observation)"
    elif reduction == "mean":
        divisor, value = n * c, result.sum / (n * c)
        words = (
            f"the sum divided by the {n * c:,} elements ({rows} × {classes}), as "
            "PyTorch's reduction='mean': not the KL per observation (that is batchmean)"
        )
    else:
        divisor, value = None, result.terms
        words = "one term per row (PyTorch's 'none' is per element: see the contributions)"
    details.update(
        {
            "y": target,
            "log_y": log_y,
            "log_target": log_target,
            "p": p,
            "log_p": log_p,
            "contributions": contributions,
            "cross_entropy": cross_entropy,
            "entropy": entropy,
            "single_row": single_row,
            "divisor": divisor,
            "reduction_words": words,
        }
    )
    return replace(result, reduction=reduction, value=value, details=details)
