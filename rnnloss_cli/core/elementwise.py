"""Losses with one term per element or per observation: MSE, BCE, NLL/CCE and hinge.

Every function takes validated float64 arrays and returns a `LossResult`. Shapes are
checked by the problem validator before anything gets here; the checks below are a
second line of defence that raise `ValueError`, never a silent broadcast.
"""

from __future__ import annotations

import numpy as np

from rnnloss_cli.core.result import (
    LossResult,
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


def log_softmax(logits: np.ndarray, axis: int = -1) -> np.ndarray:
    """Return log softmax(logits) along `axis`, shifted by the maximum so nothing overflows.

    Logits a float64 apart (1e308 and −1e308) shift to −∞, whose softmax is exactly 0.
    """
    with np.errstate(over="ignore"):
        shifted = logits - np.max(logits, axis=axis, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


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
    return reduce_terms("mse", terms, reduction, warnings=warnings, details=details)


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
    terms = nats / log_divisor(log_base)
    warnings = _infinite_term_warnings(
        terms, "the target puts weight on a predicted probability of 0, and log 0 = −∞"
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
    if logits is not None:
        log_p = log_softmax(logits)
        details["logits"] = logits
        details["p"] = np.exp(log_p)
    elif log_probs is not None:
        log_p = log_probs
        details["log_probs"] = log_probs
        details["p"] = np.exp(log_p)
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
    nats = -np.sum(_xlogy(weights, log_p), axis=1)
    terms = nats / log_divisor(log_base)
    warnings = _infinite_term_warnings(
        terms, "the target puts weight on a class predicted with probability 0, and log 0 = −∞"
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
    return reduce_terms(
        "hinge",
        terms,
        reduction,
        warnings=warnings,
        details={
            "y": y,
            "yhat": yhat,
            "product": product,
            "raw": raw,
            "margin": margin,
            "squared": squared,
        },
    )


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
    rows = np.arange(n)
    true_score = scores[rows, target]
    others = scores.copy()
    others[rows, target] = -np.inf
    if multiclass == "crammer-singer":
        rival = np.argmax(others, axis=1)
        hinges = np.maximum(margin - true_score + others[rows, rival], 0.0)
        terms = hinges * hinges if squared else hinges
        per_class = None
    elif multiclass == "weston-watkins":
        rival = np.argmax(others, axis=1)
        per_class = np.maximum(margin - true_score[:, None] + scores, 0.0)
        per_class[rows, target] = 0.0
        if squared:
            per_class = per_class * per_class
        terms = per_class.sum(axis=1) / c
    else:
        raise ValueError(f"multiclass must be crammer-singer or weston-watkins, got {multiclass!r}")
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
