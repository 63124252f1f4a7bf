"""A tiny Elman RNN run forward, and backpropagated through time (BPTT) given ∂L/∂o.

    aₜ = W_xh·xₜ + W_hh·hₜ₋₁ + b_h      (the pre-activation)
    hₜ = act(aₜ)                        (tanh or relu)
    oₜ = W_hy·hₜ + b_y                  (the raw output; the output loss reads it)

Backward, given gₜ = ∂L/∂oₜ from the output loss (any loss: the caller asks it):

    ∂L/∂hₜ = W_hyᵀ·gₜ  +  W_hhᵀ·δₜ₊₁    (from the output, and from step t + 1)
    δₜ = ∂L/∂aₜ = ∂L/∂hₜ ⊙ act′(aₜ)       (tanh′ = 1 − hₜ², relu′ = [aₜ > 0])

and the weights' gradients are sums over the steps of each step's contribution:
∂L/∂W_xh = Σₜ δₜ·xₜᵀ, ∂L/∂W_hh = Σₜ δₜ·hₜ₋₁ᵀ, ∂L/∂b_h = Σₜ δₜ, ∂L/∂W_hy = Σₜ gₜ·hₜᵀ,
∂L/∂b_y = Σₜ gₜ — the same numbers as torch.nn.RNN (with b_h = b_ih + b_hh) and autograd.

Truncated BPTT (`truncate = k`, the contract's rule, as the classic tutorials'
`bptt_truncate`): the gradient of step t's output goes back through the cells of steps
t, t − 1, …, t − k and stops there. Each output's signal is followed on its own, so this
is not detaching h every k steps (which cuts every signal at the same boundaries).

Pure numpy; nothing here prints. Overflow is never returned as NaN: the forward and
backward passes raise ValueError at the step where float64 fails, and `update` says
whether the new weights are still numbers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

ACTIVATIONS = ("tanh", "relu")
# The five weights, in the order torch.nn.RNN's parameters and clip_grad_norm_ take them
# (h0 is an input, not a weight: it is neither clipped nor updated).
WEIGHTS = ("W_xh", "W_hh", "b_h", "W_hy", "b_y")
CLIP_EPSILON = 1e-6  # torch.nn.utils.clip_grad_norm_: max_norm / (total_norm + 1e-6)

Weights = Mapping[str, np.ndarray]


@dataclass(frozen=True)
class Forward:
    """The forward pass: per step (rows t = 1…T) the pre-activation, hidden state and output."""

    pre: np.ndarray  # T × H: aₜ
    hidden: np.ndarray  # T × H: hₜ
    outputs: np.ndarray  # T × K: oₜ
    previous: np.ndarray  # T × H: hₜ₋₁ (h0 first)


@dataclass(frozen=True)
class Backward:
    """The backward pass through time (under truncation, the truncated one)."""

    output_grad: np.ndarray  # T × K: gₜ = ∂L/∂oₜ, as the output loss gave it
    from_output: np.ndarray  # T × H: W_hyᵀ·gₜ
    from_next: np.ndarray  # T × H: what reaches hₜ from later steps (W_hhᵀ·δₜ₊₁ in full BPTT)
    hidden_grad: np.ndarray  # T × H: ∂L/∂hₜ, the sum of the two
    delta: np.ndarray  # T × H: δₜ = ∂L/∂aₜ
    grads: dict[str, np.ndarray]  # by WEIGHTS
    grad_norms: np.ndarray  # T: ‖∂L/∂hₜ‖


@dataclass(frozen=True)
class Clipping:
    """clip_grad_norm_ over the five weights: the norm before, the scale and the result."""

    max_norm: float | None
    norm: float  # ‖g‖ over every entry of the five gradients, before clipping
    scale: float  # what each gradient was multiplied by (1 when not clipped)
    clipped: bool
    grads: dict[str, np.ndarray]  # the gradients after clipping

    @property
    def ratio(self) -> float | None:
        """max_norm / (‖g‖ + 1e−6), before it is held to at most 1 (None without clip)."""
        return None if self.max_norm is None else self.max_norm / (self.norm + CLIP_EPSILON)


def forward(weights: Weights, h0: np.ndarray, inputs: np.ndarray, activation: str) -> Forward:
    """Return the forward pass over the T rows of `inputs` (T × D); ValueError at the
    first step where float64 overflows."""
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {', '.join(ACTIVATIONS)}, got {activation!r}")
    w_xh, w_hh, b_h = weights["W_xh"], weights["W_hh"], weights["b_h"]
    steps, size = inputs.shape[0], w_hh.shape[0]
    pre = np.empty((steps, size))
    hidden = np.empty((steps, size))
    with np.errstate(over="ignore", invalid="ignore"):
        driven = inputs @ w_xh.T + b_h  # W_xh·xₜ + b_h for every step at once
        h = h0
        for t in range(steps):  # hₜ needs hₜ₋₁: the steps are a loop
            a = driven[t] + w_hh @ h
            h = np.tanh(a) if activation == "tanh" else np.maximum(a, 0.0)
            pre[t], hidden[t] = a, h
        outputs = hidden @ weights["W_hy"].T + weights["b_y"]
    bad = ~(np.isfinite(pre).all(axis=1) & np.isfinite(outputs).all(axis=1))
    if bad.any():
        t = int(np.argmax(bad))
        what = "pre-activation" if not np.isfinite(pre[t]).all() else "output"
        raise ValueError(
            f"the forward pass overflows float64 at step {t + 1} (its {what} is beyond "
            "±1.8e308): make the weights or inputs smaller"
        )
    previous = np.vstack([h0[None, :], hidden[:-1]])
    return Forward(pre, hidden, outputs, previous)


def derivative(run: Forward, activation: str) -> np.ndarray:
    """Return act′(aₜ) per step: 1 − hₜ² for tanh, [aₜ > 0] for relu (0 at the kink, as
    PyTorch's relu)."""
    if activation == "tanh":
        return 1.0 - run.hidden**2
    return (run.pre > 0).astype(np.float64)


def backward(
    weights: Weights,
    inputs: np.ndarray,
    run: Forward,
    output_grad: np.ndarray,
    activation: str,
    truncate: int | None = None,
) -> Backward:
    """Return the gradients of the loss through time, given gₜ = ∂L/∂oₜ (T × K).

    Full BPTT is the one recursion δₜ = (W_hyᵀ·gₜ + W_hhᵀ·δₜ₊₁) ⊙ act′(aₜ), a loop over the
    steps. Truncated (`truncate = k < T − 1`), each output's signal travels at most k
    cells back: the signals of every output are moved one cell back at once, k times
    (T·k·H² work, vectorised over the steps). ValueError where float64 overflows.
    """
    steps = inputs.shape[0]
    w_hh, w_hy = weights["W_hh"], weights["W_hy"]
    slope = derivative(run, activation)
    with np.errstate(over="ignore", invalid="ignore"):
        from_output = output_grad @ w_hy  # W_hyᵀ·gₜ for every step (rows)
        if truncate is None or truncate >= steps - 1:
            hidden_grad = np.empty_like(from_output)
            delta = np.empty_like(from_output)
            carried = np.zeros(from_output.shape[1])
            for t in range(steps - 1, -1, -1):
                hidden_grad[t] = from_output[t] + carried
                delta[t] = hidden_grad[t] * slope[t]
                carried = delta[t] @ w_hh  # W_hhᵀ·δₜ: what step t − 1 receives
        else:
            # signal[c]: the part of output c + lag's gradient that reaches hidden state
            # c; each pass moves every output's signal one cell back (through that
            # cell's act′ and W_hh) and drops those that reached cell 0.
            hidden_grad = from_output.copy()
            signal = from_output
            for lag in range(1, truncate + 1):
                signal = (signal[1:] * slope[1 : steps - lag + 1]) @ w_hh
                hidden_grad[: steps - lag] += signal
            delta = hidden_grad * slope
        from_next = hidden_grad - from_output
        grads = {
            "W_xh": delta.T @ inputs,
            "W_hh": delta.T @ run.previous,
            "b_h": delta.sum(axis=0),
            "W_hy": output_grad.T @ run.hidden,
            "b_y": output_grad.sum(axis=0),
        }
    at_output = ~np.isfinite(from_output).all(axis=1)
    if at_output.any():  # not carried back through time: no W_hh, no truncation helps
        t = int(np.argmax(at_output))
        what = "∂L/∂oₜ" if not np.isfinite(output_grad[t]).all() else "W_hyᵀ·∂L/∂oₜ"
        raise ValueError(
            f"the backward pass overflows float64 at step {t + 1}, at the output ({what} is "
            "beyond ±1.8e308): make W_hy, b_y or the outputs smaller"
        )
    finite = np.isfinite(delta).all(axis=1) & np.isfinite(hidden_grad).all(axis=1)
    if not finite.all() or not all(np.isfinite(g).all() for g in grads.values()):
        last = int(np.flatnonzero(~finite).max()) if not finite.all() else 0
        raise ValueError(
            f"the backward pass overflows float64 at step {last + 1} (exploding gradients: "
            "‖∂L/∂hₜ‖ grows past ±1.8e308 going back): make W_hh smaller, or truncate"
        )
    return Backward(
        output_grad, from_output, from_next, hidden_grad, delta, grads, row_norms(hidden_grad)
    )


def row_norms(rows: np.ndarray) -> np.ndarray:
    """Return the 2-norm of each row, each row scaled by its largest entry first so that
    the squares cannot overflow; a norm beyond float64 (entries finite) is ∞."""
    rows = np.atleast_2d(np.asarray(rows, dtype=float))
    top = np.max(np.abs(rows), axis=1, initial=0.0)
    safe = np.where(top > 0, top, 1.0)
    with np.errstate(over="ignore"):
        return top * np.sqrt(np.sum((rows / safe[:, None]) ** 2, axis=1))


def clip(grads: Mapping[str, np.ndarray], max_norm: float | None) -> Clipping:
    """Return the gradients clipped as torch.nn.utils.clip_grad_norm_(max_norm): scaled
    by max_norm / (‖g‖ + 1e−6) when that is below 1 (‖g‖ the 2-norm of every entry)."""
    norm = _norm(grads)
    if max_norm is None:
        return Clipping(None, norm, 1.0, False, dict(grads))
    scale = max_norm / (norm + CLIP_EPSILON)
    if scale >= 1.0:
        return Clipping(max_norm, norm, 1.0, False, dict(grads))
    return Clipping(max_norm, norm, scale, True, {k: g * scale for k, g in grads.items()})


def _norm(grads: Mapping[str, np.ndarray]) -> float:
    """Return the 2-norm of every entry of the gradients together (the norm of the norms,
    as clip_grad_norm_ takes it), overflow-safe as row_norms is."""
    return float(row_norms(np.concatenate([np.ravel(grads[k]) for k in WEIGHTS]))[0])


def update(weights: Weights, grads: Mapping[str, np.ndarray], rate: float) -> dict[str, np.ndarray]:
    """Return one step of gradient descent, W − η·g, for each of the five weights (an
    entry beyond float64 is ±∞: the caller says the step diverges)."""
    with np.errstate(over="ignore"):
        return {k: weights[k] - rate * grads[k] for k in WEIGHTS}
