"""Gradients of the sequence losses' headline values (sequence cross-entropy, REINFORCE,
CTC) with respect to the prediction input as it was given, and a custom loss's weighting
of its components' gradients — the numbers `grad: true` shows and PyTorch's autograd
computes.

Each loss's function takes its result and the validated inputs and returns a `Gradient`
of the input's shape. The reduction and log base are included: a loss in log base b is
the natural one over ln b, and a mean divides by its count (real tokens, time steps, or
the CTC label length). With reduction none the headline is the list of terms; its
gradient is taken as that of their sum (`loss.sum().backward()`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np

from rnnloss_cli.core.elementwise import log_softmax
from rnnloss_cli.core.result import Gradient, InputError, LossResult, log_divisor

if TYPE_CHECKING:
    from rnnloss_cli.core.ctc_solve import CTCResult

# With `probs`, a CTC probability of exactly 0 has no occupancy to divide: its derivative
# is found by one more forward pass each (see `_ctc_zero_entries`), for at most this many.
MAX_ZERO_PROBABILITIES = 200


def sequence_cross_entropy(result: LossResult, inputs: Mapping[str, Any]) -> Gradient:
    """∂L/∂z = (softmax(z) − onehot(target)) / (N·ln b) from logits; −onehot / (N·ln b)
    from log-probabilities; −onehot / (ŷ·N·ln b) from probabilities. N is the number of
    real (unpadded) tokens under mean, else 1; padded steps have gradient 0, as
    `cross_entropy(..., ignore_index=...)` gives them."""
    kind, given = inputs["kind"], np.asarray(inputs["log_probs"], dtype=np.float64)
    target, mask = inputs["target"], inputs["mask"]
    values3 = given[None] if given.ndim == 2 else given
    count = int(mask.sum())
    n = float(count) if result.reduction == "mean" else 1.0
    scale = n * log_divisor(result.log_base or "e")
    onehot = np.zeros(values3.shape)
    safe = np.where(mask, target, 0)
    np.put_along_axis(onehot, safe[:, :, None], mask[:, :, None].astype(float), axis=2)
    parts: dict[str, Any] = {"divisor": n, "log_divisor": scale / n, "count": count}
    notes: tuple[str, ...] = ()
    if kind == "logits":
        softmax = np.exp(log_softmax(values3, axis=2))
        values = np.where(mask[:, :, None], softmax - onehot, 0.0) / scale
        parts["softmax"] = softmax
    elif kind == "log_probs":
        values = -onehot / scale
    else:  # yhat: d(−log ŷ)/dŷ = −1/ŷ at the target's entry only
        with np.errstate(divide="ignore", over="ignore"):
            picked = np.where(onehot > 0, values3, 1.0)
            values = np.where(onehot > 0, -1.0 / (picked * scale), 0.0)
        if np.isinf(values).any():
            notes = ("a target token of probability 0 has loss ∞ and derivative −∞",)
    values = values + 0.0  # (no −0.0 in the output)
    return Gradient(kind, values.reshape(given.shape), parts, notes)


def reinforce(result: LossResult, inputs: Mapping[str, Any]) -> Gradient:
    """∂L/∂log πₜ = −Aₜ / (T·ln b) from log-probabilities, ∂L/∂πₜ = −Aₜ / (πₜ·T·ln b) from
    probabilities (T the steps under mean, else 1). The advantages come from the rewards
    alone (their baseline and standardisation too), so they are constants here, as
    `.detach()` makes them in PyTorch."""
    kind = inputs["kind"]
    advantages = result.details["advantages"]
    n = float(advantages.size) if result.reduction == "mean" else 1.0
    scale = n * log_divisor(result.log_base or "e")
    notes: tuple[str, ...] = ()
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        values = -advantages / scale
        if kind == "probs":
            probs = np.asarray(inputs["log_probs"], dtype=np.float64)
            values = np.where(advantages == 0, 0.0, values / probs)
            if ((probs == 0) & (advantages == 0)).any():
                notes = ("at π = 0 with A = 0 the term is 0·log 0 = 0, and its derivative is 0",)
    if np.isinf(values).any() and not notes:
        notes = ("an action of probability 0 with A ≠ 0 has derivative ±∞",)
    return Gradient(kind, values + 0.0, {"divisor": n, "log_divisor": scale / n}, notes)


TORCH_LOG_PROBS_NOTE = (
    "PyTorch's ctc_loss backward returns exp(log_probs) − occupancy, which is the gradient "
    "with respect to the logits that produced them (through log_softmax), not this partial "
    "derivative: that one is in dp.grad"
)


def ctc(result: CTCResult, inputs: Mapping[str, Any]) -> Gradient:
    """Return ∂L/∂(the matrix as given) in matrix mode: softmax − occupancy from logits
    (`CTCResult.gradient`), −occupancy from log-probabilities, −occupancy / p from
    probabilities, each over ln b and, under mean, the label length. An impossible label
    (loss ∞) has gradient 0, as ctc_loss(zero_infinity=True) gives it."""
    kind = inputs["kind"]
    logits_grad = result.gradient
    if logits_grad is None:
        raise ValueError("the CTC gradient is computed in matrix mode only")
    parts: dict[str, Any] = {"divisor": result.per_symbol, "log_divisor": result.log_divisor}
    if kind == "logits":
        return Gradient("logits", logits_grad, parts)
    scale = result.log_divisor * result.per_symbol
    prediction = np.asarray(inputs["prediction"], dtype=np.float64)
    if not math.isfinite(result.dp.loss):
        return Gradient(kind, np.zeros_like(prediction), parts)
    with np.errstate(divide="ignore"):
        lp = prediction if kind == "log_probs" else np.log(prediction)
    # dp.grad = exp(log p) − γ: the occupancy γ is what is left of it (γ ≥ 0).
    occupancy = np.maximum(np.exp(lp) - result.dp.grad, 0.0)
    parts["occupancy"] = occupancy
    if kind == "log_probs":
        return Gradient("log_probs", -occupancy / scale + 0.0, parts, (TORCH_LOG_PROBS_NOTE,))
    with np.errstate(divide="ignore", invalid="ignore"):
        values = np.where(prediction > 0, -occupancy / np.where(prediction > 0, prediction, 1.0), 0)
    notes: tuple[str, ...] = ()
    zeros = np.argwhere(prediction == 0)
    if zeros.size:
        values = _ctc_zero_entries(result, inputs, lp, values, zeros)
        notes = (
            "where p = 0 the occupancy is 0 but the derivative is not: p(label) is linear "
            "in each entry, so it is the probability with that frame's row made one-hot "
            "on the entry, over p(label)",
        )
    return Gradient("probs", values / scale + 0.0, parts, notes)


def _ctc_zero_entries(
    result: CTCResult,
    inputs: Mapping[str, Any],
    lp: np.ndarray,
    values: np.ndarray,
    zeros: np.ndarray,
) -> np.ndarray:
    """Return `values` with ∂(−ln p)/∂p[t, k] filled in where p[t, k] = 0: p(label) is
    linear in each entry, so the derivative is p(label) with row t one-hot on k, over
    p(label). Columns the label never visits (neither its symbols nor the blank) give 0."""
    from rnnloss_cli.core import ctc as ctc_core

    label = list(result.label_indices)
    blank = inputs["alphabet"].index(result.blank)
    visited = {*label, blank}
    needed = [(int(t), int(k)) for t, k in zeros if int(k) in visited]
    if len(needed) > MAX_ZERO_PROBABILITIES:
        raise InputError(
            f"{len(needed):,} probabilities of the label's symbols or the blank are exactly 0: "
            f"the gradient with respect to them takes a forward pass each (at most "
            f"{MAX_ZERO_PROBABILITIES}); give log_probs or logits for the gradient",
            key="probs",
        )
    values = values.copy()
    for t, k in needed:
        row = np.full(lp.shape[1], -np.inf)
        row[k] = 0.0
        changed = lp.copy()
        changed[t] = row
        log_partial = ctc_core.ctc_matrix(label, changed, blank).log_probability
        values[t, k] = -math.exp(log_partial - result.dp.log_probability)
    return values


def weighted(gradient: Gradient, weight: float) -> Gradient:
    """Return a component's gradient as the custom loss Σ wᵢ·Lᵢ has it: wᵢ times its own.
    `parts["weight"]` holds wᵢ and `parts["own"]` the component's own values; a gradient
    already weighted (a term of a custom term) is weighted by the product."""
    if "weight" in gradient.parts:
        weight *= gradient.parts["weight"]
        gradient = replace(gradient, values=gradient.parts["own"])
    if weight == 0:  # (a weight of 0 contributes 0, even beside a derivative of ±∞)
        values = np.zeros_like(gradient.values)
    else:
        with np.errstate(over="ignore"):
            values = weight * gradient.values + 0.0
    parts = {**gradient.parts, "weight": weight, "own": gradient.values}
    # replace keeps given_shape: a term given as one row returns its gradient as one row
    return replace(gradient, values=values, parts=parts)
