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

from rnnloss_cli.core.elementwise import _margin_sum
from rnnloss_cli.core.result import Gradient, LossResult, log_divisor
from rnnloss_cli.core.text import num


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


def _divisor(result: LossResult, count: int) -> float:
    """Return what the headline divides the sum of the natural-log terms by: n for mean
    (else 1) times ln b for log base b."""
    return _scale(result, count) * log_divisor(result.log_base or "e")


ZERO_BY_ZERO = (
    "a logarithm weighted 0 at a probability of 0 (0·log 0 = 0) adds 0 to the gradient; "
    "PyTorch's autograd of xlogy(y, ŷ) gives NaN there"
)
TORCH_BCE_EPS = (
    "where ŷ(1 − ŷ) < 1e−12 PyTorch's binary_cross_entropy divides by 1e−12 instead (its "
    "logs are clamped at −100); this is the gradient of the loss as computed here, unclamped"
)
BEYOND = "a gradient shown as ±∞ is beyond float64 (ŷ = 0, or near it, where the target weighs it)"


def _weight_over_p(weight: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, tuple[str, ...]]:
    """Return w/p, 0 where w = 0 (even at p = 0: the 0·log 0 = 0 convention), ±∞ where the
    true quotient is beyond float64, and the notes those two cases need."""
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        out = np.where(weight == 0, 0.0, weight / p)
    notes: list[str] = []
    if ((weight == 0) & (p == 0)).any():
        notes.append(ZERO_BY_ZERO)
    if np.isinf(out).any():
        notes.append(BEYOND)
    return out, tuple(notes)


def clip_note(clip: float) -> str:
    """Return the note on what clipping does to the gradient (torch.clamp's convention)."""
    return (
        f"clipping: the gradient is 0 where ŷ lies outside [{num(clip)}, 1 − {num(clip)}] and "
        "passes where ŷ is exactly at a bound, as torch.clamp's"
    )


def bce(result: LossResult, inputs: Mapping[str, Any]) -> Gradient:
    """∂L/∂z = (σ(z) − y)/(n·ln b) from logits; from probabilities
    ∂L/∂ŷ = (ŷ − y)/(ŷ(1 − ŷ))/(n·ln b), times 0 where `clip` moved ŷ (torch.clamp's)."""
    d = result.details
    y, p = d["y"], d["p"]
    divisor = _divisor(result, y.size)
    parts: dict[str, Any] = {"divisor": divisor, "scale": _scale(result, y.size)}
    if "logits" in d:
        return Gradient("logits", (p - y) / divisor + 0.0, parts)
    yhat, clip = d["yhat"], inputs.get("clip")
    notes: list[str] = []
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        inside = (p > 0) & (p < 1)
        # (ŷ − y)/(ŷ(1 − ŷ)) is −y/ŷ + (1 − y)/(1 − ŷ) without its cancellation; at ŷ = 0
        # or 1 one of the two logs is weighted 0 (0·log 0 = 0) and the other is taken alone.
        interior = (p - y) / (p * (1.0 - p))
        first, n1 = _weight_over_p(y, p)
        second, n2 = _weight_over_p(1.0 - y, 1.0 - p)
        values = np.where(inside, interior, second - first) / divisor
    notes += list(dict.fromkeys(n1 + n2))
    with np.errstate(under="ignore"):
        if (p * (1.0 - p) < 1e-12).any():
            notes.append(TORCH_BCE_EPS)
    if np.isinf(values).any() and BEYOND not in notes:
        notes.append(BEYOND)
    if clip is not None:
        passes = (yhat >= clip) & (yhat <= 1.0 - clip)
        values = np.where(passes, values, 0.0)
        parts["passes"] = passes
        notes.append(clip_note(clip))
    return Gradient("yhat", values + 0.0, parts, tuple(notes))


def cross_entropy(result: LossResult, inputs: Mapping[str, Any]) -> Gradient:
    """The gradient of nll/cce, w the targets (label smoothing applied):
    from logits (softmax·Σ_c w_c − w)/(n·ln b) (softmax − y for a distribution);
    from log-probabilities −w/(n·ln b); from probabilities −w/ŷ/(n·ln b), times 0 where
    `clip` moved ŷ (torch.clamp's)."""
    d = result.details
    weights = d.get("y_smoothed", d["y"])
    n = weights.shape[0]
    divisor = _divisor(result, n)
    parts: dict[str, Any] = {"divisor": divisor, "scale": _scale(result, n), "weights": weights}
    if "logits" in d:
        mass = weights.sum(axis=1, keepdims=True)
        parts["mass"] = mass
        return Gradient("logits", (d["p"] * mass - weights) / divisor + 0.0, parts)
    if "log_probs" in d:
        return Gradient("log_probs", -weights / divisor + 0.0, parts)
    ratio, notes = _weight_over_p(weights, d["p"])
    with np.errstate(over="ignore"):
        values = -ratio / divisor
    clip = inputs.get("clip")
    if clip is not None:
        yhat = d["yhat"]
        passes = (yhat >= clip) & (yhat <= 1.0 - clip)
        values = np.where(passes, values, 0.0)
        parts["passes"] = passes
        notes += (clip_note(clip),)
    return Gradient("yhat", values + 0.0, parts, notes)


HINGE_KINK = (
    "at {m} − {what} = 0 exactly (the kink) the subgradient is 0, as PyTorch's "
    "(relu's and multi_margin_loss's)"
)


def hinge(result: LossResult, inputs: Mapping[str, Any]) -> Gradient:
    """∂L/∂ŷ = −y·[m − y·ŷ > 0]/n, squared −2y·max(0, m − y·ŷ)/n; 0 at the kink (PyTorch's)."""
    d = result.details
    if "scores" in d:
        return _multiclass_hinge(result)
    y, raw = d["y"], d["raw"]
    n = _scale(result, y.size)
    active = raw > 0
    with np.errstate(over="ignore", invalid="ignore"):
        if d["squared"]:
            values = np.where(active, -2.0 * y * raw, 0.0) / n
        else:
            values = np.where(active, -y, 0.0) / n
    notes = () if d["squared"] else (HINGE_KINK.format(m=num(d["margin"]), what="y·ŷ"),)
    return Gradient("yhat", values + 0.0, {"divisor": n, "active": active}, notes)


def _multiclass_hinge(result: LossResult) -> Gradient:
    """Crammer-Singer: −g at the target's score and +g at the worst rival's, g = [h > 0]/n
    (2h/n squared), h = max(0, m − s_y + max_{j≠y} s_j). Weston-Watkins (multi_margin_loss):
    each rival j with h_j = m − s_y + s_j > 0 gets g_j = 1/(C·n) (2h_j/(C·n) squared) and the
    target −Σ_j g_j."""
    d = result.details
    scores, target, margin = d["scores"], d["target"], d["margin"]
    n_rows, c = scores.shape
    rows = np.arange(n_rows)
    n = _scale(result, n_rows)
    values = np.zeros_like(scores)
    if d["multiclass"] == "crammer-singer":
        rival = d["rival"]
        hinge = np.maximum(_margin_sum(margin, d["true_score"], scores[rows, rival]), 0.0)
        with np.errstate(over="ignore"):
            g = (2.0 * hinge if d["squared"] else (hinge > 0).astype(float)) / n
        values[rows, rival] += g
        values[rows, target] -= g
        notes = [
            "the gradient goes to the worst rival only; between tied rivals, to the first "
            "(lowest index), as torch.max(dim=1)'s"
        ]
        parts: dict[str, Any] = {"divisor": n, "hinge": hinge, "g": g}
        what = "s[y] + max_(j≠y) s[j]"
    else:
        hinges = np.maximum(_margin_sum(margin, d["true_score"][:, None], scores), 0.0)
        hinges[rows, target] = 0.0
        with np.errstate(over="ignore"):
            g = (2.0 * hinges if d["squared"] else (hinges > 0).astype(float)) / (c * n)
            values = g.copy()
            values[rows, target] = -g.sum(axis=1)
        notes = []
        parts = {"divisor": c * n, "hinges": hinges, "g": g}
        what = "s[y] + s[j]"
    if not d["squared"]:
        notes.append(HINGE_KINK.format(m=num(margin), what=what))
    if np.isinf(values).any():
        notes.append("a gradient shown as ±∞ is beyond float64 (a squared hinge of ~1e308)")
    return Gradient("scores", values + 0.0, parts, tuple(notes))


def huber(result: LossResult, inputs: Mapping[str, Any]) -> Gradient:
    """∂L/∂ŷ = d/n where |d| ≤ δ, δ·sign(d)/n beyond (d = ŷ − y): the branches meet at
    |d| = δ with the same slope, so there is no kink (as `F.huber_loss`'s backward)."""
    d = result.details
    diff, delta = d["diff"], d["delta"]
    n = _scale(result, diff.size)
    # d itself may overflow (1e308 − (−1e308)) only where |d| > δ: there sign(d) is used.
    values = np.where(d["quadratic"], diff, delta * np.sign(diff)) / n
    return Gradient("yhat", values + 0.0, {"divisor": n})


def kl(result: LossResult, inputs: Mapping[str, Any]) -> Gradient:
    """From log-probabilities ∂L/∂log ŷ_c = −y_c/D; from probabilities ∂L/∂ŷ_c = −y_c/ŷ_c/D
    (0 where y_c = 0), D the reduction's divisor (1, N, N·C; the sum of rows for none)."""
    d = result.details
    # The reduction's divisor D, times ln(base) where the loss is not in nats.
    parts: dict[str, Any] = {"divisor": float(d["divisor"] or 1), "log_base": result.log_base}
    divisor = parts["divisor"] * log_divisor(result.log_base or "e")
    target = d["y"]
    if "log_probs" in d:
        wrt, values, notes = "log_probs", -target / divisor, ()
    else:
        p = d["p"]
        ratio, notes = _weight_over_p(target, p)
        # A target e^(log y) that underflowed to 0 over a ŷ as small: the quotient is
        # e^(log y − log ŷ), a number (e^−800/e^−800 = 1), not 0.
        tiny = (target == 0) & np.isfinite(d["log_y"]) & (p > 0)
        if tiny.any():
            ratio[tiny] = np.exp(d["log_y"][tiny] - np.log(p[tiny]))
        with np.errstate(over="ignore"):
            wrt, values = "yhat", -ratio / divisor
    if d["single_row"]:
        values = values[0]
    return Gradient(wrt, values + 0.0, parts, notes)
