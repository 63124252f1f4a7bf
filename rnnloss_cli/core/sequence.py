"""Losses over whole sequences: per-step cross-entropy with padding, REINFORCE, and the
weighted sum of a custom loss."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

import numpy as np

from rnnloss_cli.core.elementwise import _infinite_term_warnings, _xlogy, as_log_probs
from rnnloss_cli.core.result import LossResult, log_divisor, reduce_terms

FLOAT32_EPS = float(np.finfo(np.float32).eps)  # PyTorch's REINFORCE example adds this


def sequence_cross_entropy(
    target: np.ndarray,
    log_probs: np.ndarray,
    mask: np.ndarray,
    *,
    kind: str = "log_probs",
    reduction: str = "sum",
    log_base: str = "e",
) -> LossResult:
    """Return the per-step terms −log ŷ[t, target_t] of the unmasked steps and their reduction.

    `target` is B × T class indices, `log_probs` B × T × C, `mask` B × T (True for a real
    token, False for padding). `sum` is the lecture's −Σ_t Σ_c y log ŷ; `mean` is over the
    real tokens, as `cross_entropy(..., ignore_index=...)`. The perplexity exp(mean loss in
    nats) is in `details`, whatever the log base. `terms` holds the real tokens only, in
    order; `details["per_sequence"]` splits them by sequence.
    """
    if not mask.any():
        raise ValueError("every position is padding: there is no token to score")
    log_probs = as_log_probs(log_probs, kind)  # `kind`: yhat, log_probs or logits
    batch, _steps = target.shape
    safe = np.where(mask, target, 0)
    picked = np.take_along_axis(log_probs, safe[:, :, None], axis=2)[:, :, 0]
    nats = np.where(mask, -picked, 0.0)
    divisor = log_divisor(log_base)
    per_sequence = [nats[b, mask[b]] / divisor for b in range(batch)]
    terms = np.concatenate(per_sequence)
    mean_nats = float(np.sum(nats[mask])) / int(mask.sum())
    with np.errstate(over="ignore"):
        perplexity = math.exp(mean_nats) if mean_nats < 709.0 else math.inf
    warnings = _infinite_term_warnings(
        terms, "the target token has predicted probability 0, and log 0 = −∞"
    )
    details = {
        "target": target,
        "mask": mask,
        "p": np.exp(picked),
        "per_sequence": per_sequence,
        "subtotals": [float(np.sum(s)) for s in per_sequence],
        "perplexity": perplexity,
        "classes": log_probs.shape[-1],
    }
    result = reduce_terms(
        "sequence", terms, reduction, log_base=log_base, warnings=warnings, details=details
    )
    if reduction == "none":  # one list per sequence, as the input is
        nested = per_sequence[0] if batch == 1 else per_sequence
        return dataclasses.replace(result, value=nested)
    return result


def reward_to_go(rewards: np.ndarray, gamma: float) -> np.ndarray:
    """Return G_t = Σ_{k≥t} γ^(k−t) r_k, computed backwards: G_t = r_t + γ·G_{t+1}."""
    out = np.empty_like(rewards)
    running = 0.0
    for t in range(rewards.size - 1, -1, -1):
        running = rewards[t] + gamma * running
        out[t] = running
    return out


def reinforce(
    rewards: np.ndarray,
    log_probs: np.ndarray,
    *,
    kind: str = "log_probs",
    gamma: float = 1.0,
    returns: str = "as-given",
    baseline: float | str | None = None,
    normalize: bool = False,
    reduction: str = "sum",
    log_base: str = "e",
) -> LossResult:
    """Return the REINFORCE terms −A_t·log π(y_t | s_t) and their reduction.

    A_t starts as the reward R_t (`as-given`, the lecture's formula) or the reward-to-go
    G_t; a `baseline` (a number, or `mean` of the returns) is subtracted; `normalize`
    standardises as PyTorch's REINFORCE example: (A − mean) / (std with Bessel's
    correction + float32 eps). The lecture's Σ R_t log π is an objective to maximise; the
    loss minimised is its negative, and `details["objective"]` = Σ A_t log π_t = −sum.
    """
    if rewards.shape != log_probs.shape:
        raise ValueError(f"{rewards.size} rewards for {log_probs.size} action probabilities")
    log_probs = as_log_probs(log_probs, kind)  # `kind`: probs or log_probs
    with np.errstate(over="ignore", invalid="ignore"):  # overflow is reported as a warning
        g = reward_to_go(rewards, gamma) if returns == "reward-to-go" else rewards.copy()
        advantages = g.copy()
        baseline_value = None
        if baseline is not None:
            # The mean of values near 1e308 overflows when summed: average them scaled.
            scale = float(np.max(np.abs(g))) if np.isfinite(g).all() else 1.0
            scale = scale or 1.0
            mean_g = float(np.mean(g / scale)) * scale
            baseline_value = mean_g if baseline == "mean" else float(baseline)
            advantages = advantages - baseline_value
    std = None
    if normalize:
        if advantages.size < 2:
            raise ValueError("normalize needs at least 2 time steps (a standard deviation)")
        # Standardise on values scaled to at most 1, so that extreme returns (1e308) do not
        # overflow the squares of the standard deviation; the result is the same.
        scale = float(np.max(np.abs(advantages))) or 1.0
        scaled = advantages / scale
        mean = float(np.mean(scaled))
        std = float(np.std(scaled, ddof=1))
        advantages = (scaled - mean) / (std + FLOAT32_EPS / scale)
        std *= scale
    with np.errstate(over="ignore", invalid="ignore"):
        weighted = _xlogy(advantages, log_probs) / log_divisor(log_base)
    terms = -weighted
    if np.isposinf(terms).any() and np.isneginf(terms).any():
        raise ValueError("the terms are +∞ and −∞ at once: their sum is undefined")
    warnings = []
    for t in np.nonzero(np.isinf(terms))[0]:
        why = (
            "the action taken has probability 0, and log 0 = −∞"
            if np.isneginf(log_probs[t])
            else "its return overflows float64"
        )
        warnings.append(f"term {t + 1} (at [{t}]) is infinite: {why}")
    with np.errstate(over="ignore"):
        objective = float(np.sum(weighted))
    details = {
        "rewards": rewards,
        "returns_before_baseline": g,
        "advantages": advantages,
        "log_probs": log_probs,
        "p": np.exp(log_probs),
        "gamma": gamma,
        "returns": returns,
        "baseline": baseline_value,
        "baseline_rule": baseline,
        "normalize": normalize,
        "std": std,
        "objective": objective,
    }
    return reduce_terms(
        "reinforce", terms, reduction, log_base=log_base, warnings=warnings, details=details
    )


def weighted_sum(values: Sequence[float], weights: Sequence[float]) -> LossResult:
    """Return a custom loss: the terms wᵢ·Lᵢ and their sum (a weight of 0 contributes 0)."""
    contributions = np.array(
        [0.0 if w == 0 else w * v for v, w in zip(values, weights, strict=True)], dtype=float
    )
    if np.isposinf(contributions).any() and np.isneginf(contributions).any():
        raise ValueError("the weighted terms are +∞ and −∞ at once: their sum is undefined")
    warnings = _infinite_term_warnings(contributions, "its component's loss is infinite")
    return reduce_terms("custom", contributions, "sum", warnings=warnings)
