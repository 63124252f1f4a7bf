"""Losses over whole sequences: per-step cross-entropy with padding, REINFORCE, and the
weighted sum of a custom loss."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from fractions import Fraction

import numpy as np

from rnnloss_cli.core.elementwise import (
    _half_log_softmax,
    _infinite_term_warnings,
    _log_softmax_parts,
    _overflowed,
    _xlogy,
    _zero_or_beyond,
    as_log_probs,
)
from rnnloss_cli.core.result import (
    Exact,
    InputError,
    LossResult,
    exact_sum,
    index_label,
    log_divisor,
    reduce_terms,
    to_float,
)

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

    `target` is B × T class indices, `log_probs` B × T × C (or T × C for B = 1), `mask`
    B × T (True for a real token, False for padding). `sum` is the lecture's
    −Σ_t Σ_c y log ŷ; `mean` is over the real tokens, as `cross_entropy(...,
    ignore_index=...)`. The perplexity exp(mean loss in nats) is in `details`, whatever
    the log base. `terms` holds the real tokens only, in order; `details["per_sequence"]`
    splits them by sequence.
    """
    if not mask.any():
        raise ValueError("every position is padding: there is no token to score")
    if log_probs.ndim == 2:
        log_probs = log_probs[None]
    batch, _steps = target.shape
    safe = np.where(mask, target, 0)
    divisor = log_divisor(log_base)
    if kind == "logits":
        logits = log_probs
        log_probs, top, lse = _log_softmax_parts(logits, axis=2)
    else:
        log_probs = as_log_probs(log_probs, kind)  # `kind`: yhat or log_probs
    picked = np.take_along_axis(log_probs, safe[:, :, None], axis=2)[:, :, 0]
    nats = np.where(mask, -picked, 0.0)
    with np.errstate(over="ignore"):  # bits of 1.7e308 nats: beyond float64, warned about
        scaled = nats / divisor
    zero = np.isneginf(picked)
    overflow: dict[str, np.ndarray] = {}
    if kind == "logits":
        chosen = np.take_along_axis(logits, safe[:, :, None], axis=2)
        over = _overflowed(picked, chosen[:, :, 0], mask)
        if over.any():
            # The target's logit is more than the float64 range below the top one: its
            # −log ŷ (2e308, say) is computed in halves, ∞ only if it is beyond float64
            # in the log base asked for (log₁₀ of it is 8.7e307).
            half = _half_log_softmax(chosen, top, lse)[:, :, 0]
            with np.errstate(over="ignore"):
                scaled = np.where(over, 2.0 * (-half / divisor), scaled)
                nats = np.where(over, 2.0 * -half, nats)
            overflow = {"overflowed": over, "half_log_p": half}
            zero &= ~over
    per_sequence = [scaled[b, mask[b]] for b in range(batch)]
    terms = np.concatenate(per_sequence)
    mean_nats = exact_sum(nats[mask], divisor=int(mask.sum()))
    perplexity = math.exp(mean_nats) if mean_nats < 709.0 else math.inf
    subtotals = [exact_sum(part) for part in per_sequence]
    warnings = _zero_or_beyond(
        terms, zero[mask], "the target token has predicted probability 0, and log 0 = −∞"
    )
    details = {
        "target": target,
        "mask": mask,
        "p": np.exp(picked),
        "log_p": picked,  # finite where ŷ underflows to 0 (logits 0 and −800)
        **overflow,  # where log ŷ is beyond float64 (−2e308): where, and half of it
        "per_sequence": per_sequence,
        "subtotals": subtotals,
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


def _mean(values: np.ndarray) -> float:
    """Return the mean of finite values; values near 1e308 overflow when summed, so they
    are averaged scaled by their largest magnitude."""
    scale = float(np.max(np.abs(values))) if np.isfinite(values).all() else 1.0
    scale = scale or 1.0
    return float(np.mean(values / scale)) * scale


def _exponent(rewards: np.ndarray, baseline: float | str | None) -> int:
    """Return e such that every reward (and a numeric baseline) divided by 2^e is below 1."""
    largest = float(np.max(np.abs(rewards)))
    if baseline is not None and baseline != "mean":
        largest = max(largest, abs(float(baseline)))
    return math.frexp(largest)[1]


def _listed(names: list[str], limit: int = 6) -> str:
    """Return `a, b and c`, the middle of a long list counted."""
    if len(names) > limit:
        names = [*names[: limit - 1], f"{len(names) - limit + 1:,} more"]
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


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
    with np.errstate(over="ignore", invalid="ignore"):  # overflow is worked again below
        g = reward_to_go(rewards, gamma) if returns == "reward-to-go" else rewards.copy()
        advantages = g.copy()
        baseline_value = None
        if baseline is not None:
            baseline_value = _mean(g) if baseline == "mean" else float(baseline)
            advantages = advantages - baseline_value
    # Returns, a baseline or advantages beyond float64 (the reward-to-go of two rewards of
    # 1e308, or 1e308 − (−1e308)) are worked again from the rewards scaled by 2^−e. They
    # are shown as ±∞, but the terms, the mean baseline and the standardised advantages
    # computed from the scaled values are exact: ∞ only where float64 cannot hold them.
    exponent = 0
    scaled_advantages = None
    overflowed = []
    if not (np.isfinite(advantages).all() and math.isfinite(baseline_value or 0.0)):
        exponent = _exponent(rewards, baseline)
        with np.errstate(under="ignore"):
            g_scaled = np.ldexp(rewards, -exponent)
        if returns == "reward-to-go":
            g_scaled = reward_to_go(g_scaled, gamma)
        scaled_advantages = g_scaled
        with np.errstate(over="ignore", invalid="ignore"):
            g = np.where(np.isfinite(g), g, np.ldexp(g_scaled, exponent))
        overflowed = [f"G{index_label(int(t))}" for t in np.flatnonzero(np.isinf(g))]
        with np.errstate(over="ignore", invalid="ignore"):
            if baseline is not None:
                if baseline == "mean":
                    b_scaled = _mean(g_scaled)
                else:
                    b_scaled = float(np.ldexp(float(baseline), -exponent))
                scaled_advantages = g_scaled - b_scaled
                if not math.isfinite(baseline_value or 0.0):
                    baseline_value = float(np.ldexp(b_scaled, exponent))
                    if math.isinf(baseline_value):
                        overflowed.append("the baseline b")
                direct = g - baseline_value
            else:
                direct = g
            advantages = np.where(
                np.isfinite(direct), direct, np.ldexp(scaled_advantages, exponent)
            )
        if not normalize:  # (standardised, the advantages shown are all finite)
            overflowed += [f"A{index_label(int(t))}" for t in np.flatnonzero(np.isinf(advantages))]
    std = None
    if normalize:
        if advantages.size < 2:
            raise ValueError("normalize needs at least 2 time steps (a standard deviation)")
        # Standardise on values scaled to at most 1, so that extreme returns (1e308) do not
        # overflow the squares of the standard deviation; the result is the same.
        source, extra = advantages, 0
        if not np.isfinite(advantages).all():
            assert scaled_advantages is not None
            source, extra = scaled_advantages, exponent
        scale = float(np.max(np.abs(source))) or 1.0
        scaled = source / scale
        mean = float(np.mean(scaled))
        std = float(np.std(scaled, ddof=1))
        with np.errstate(under="ignore"):  # ε in the units of `scaled`
            eps = float(np.ldexp(FLOAT32_EPS / scale, -extra))
        denominator = std + eps
        # Equal returns have std 0 and (A − mean) exactly 0: their standardisation is 0,
        # even where ε vanishes beside a scale beyond float64 (not 0 / 0).
        advantages = (scaled - mean) / denominator if denominator else np.zeros_like(scaled)
        with np.errstate(over="ignore"):  # the std of returns beyond float64 is ∞
            std = float(np.ldexp(std * scale, extra))
    divisor = log_divisor(log_base)
    with np.errstate(over="ignore", invalid="ignore"):
        weighted = _xlogy(advantages, log_probs) / divisor
        beyond = np.isinf(advantages)
        if beyond.any():
            # A beyond float64: its term from the scaled A, then scaled back (0 when log π
            # is 0, ∞ only when the term itself is beyond float64).
            assert scaled_advantages is not None
            exact = np.ldexp(_xlogy(scaled_advantages, log_probs) / divisor, exponent)
            weighted = np.where(beyond, exact, weighted)
    terms = -weighted

    def exact_terms(where: list[int]) -> list[Exact]:
        """−A·log π of these steps exactly: A from the scaled advantages where it is beyond
        float64; ±∞ only where π = 0 (log π = −∞) and A ≠ 0."""
        out: list[Exact] = []
        base = Fraction(divisor)
        for t in where:
            if np.isinf(advantages[t]):
                assert scaled_advantages is not None
                a = Fraction(float(scaled_advantages[t])) * Fraction(2) ** exponent
            else:
                a = Fraction(float(advantages[t]))
            log_p = float(log_probs[t])
            if a == 0:
                out.append(0.0)  # 0·log 0 = 0
            elif math.isinf(log_p):
                out.append(math.inf if a > 0 else -math.inf)  # −A·(−∞)
            else:
                out.append(-a * Fraction(log_p) / base)
        return out

    _refuse_opposite_infinities(log_probs, np.sign(advantages), kind)
    warnings = []
    if overflowed:
        warnings.append(
            f"float64 overflows at {_listed(overflowed)} (shown as ±∞): the terms are worked "
            f"from the rewards scaled by 2^−{exponent}, exact wherever float64 can hold them"
        )
    for t in np.nonzero(np.isinf(terms))[0]:
        why = (
            "the action taken has probability 0, and log 0 = −∞"
            if np.isneginf(log_probs[t])
            else "A·log π overflows float64"
        )
        warnings.append(f"term {t + 1} (at [{t}]) is infinite: {why}")
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
    }
    result = reduce_terms(
        "reinforce",
        terms,
        reduction,
        log_base=log_base,
        warnings=warnings,
        details=details,
        exact=exact_terms,
    )
    result.details["objective"] = 0.0 - result.sum  # Σ A·log π = −Σ terms, exactly
    return result


def _refuse_opposite_infinities(log_probs: np.ndarray, signs: np.ndarray, kind: str) -> None:
    """Refuse steps whose terms are truly +∞ and −∞: π = 0 (log π = −∞) where A > 0 and
    where A < 0. Terms that are ±∞ only because float64 cannot hold them always have a
    sum (see `exact_sum`)."""
    zero = np.isneginf(log_probs)
    positive = np.flatnonzero(zero & (signs > 0))
    negative = np.flatnonzero(zero & (signs < 0))
    if positive.size and negative.size:
        i, j = int(positive[0]), int(negative[0])
        what = "probability 0" if kind == "probs" else "log-probability −∞"
        raise InputError(
            f"the actions at [{i}] and [{j}] have {what}, with advantages of opposite signs: "
            f"their terms are +∞ and −∞, and the sum is undefined",
            key=kind,
        )


def weighted_sum(
    values: Sequence[float],
    weights: Sequence[float],
    exact_values: Sequence[Fraction | None] | None = None,
) -> LossResult:
    """Return a custom loss: the terms wᵢ·Lᵢ and their sum (a weight of 0 contributes 0).

    `exact_values` holds a component's value exactly where float64 shows it as ±∞ (a sum
    beyond float64), so that its weighted contribution is exact too.
    """
    exact_values = [None] * len(values) if exact_values is None else list(exact_values)
    with np.errstate(over="ignore"):  # a contribution beyond float64: ±∞, summed exactly
        contributions = np.array(
            [
                0.0 if w == 0 else to_float(Fraction(w) * big) if big is not None else w * v
                for v, w, big in zip(values, weights, exact_values, strict=True)
            ],
            dtype=float,
        )

    def exact_terms(where: list[int]) -> list[Exact]:
        """wᵢ·Lᵢ exactly: from a component's exact value where float64 holds it only as ±∞."""
        out: list[Exact] = []
        for i in where:
            v, w, big = values[i], weights[i], exact_values[i]
            if w == 0:
                out.append(0.0)
            elif big is not None:
                out.append(Fraction(w) * big)
            elif math.isinf(v):
                out.append(math.copysign(math.inf, v * w))
            else:
                out.append(Fraction(w) * Fraction(v))
        return out

    where = [int(i) for i in np.flatnonzero(~np.isfinite(contributions))]
    infinite = dict(zip(where, exact_terms(where), strict=True))
    signs = {math.copysign(1.0, t) for t in infinite.values() if _infinite(t)}
    if len(signs) == 2:
        shown = [i for i, t in infinite.items() if _infinite(t)]
        raise InputError(
            f"the losses of {_listed([f'[{i}]' for i in shown])} are infinite and weighted "
            "with opposite signs: their contributions are +∞ and −∞, and the sum is undefined",
            key="terms",
        )
    why = "its component's loss is infinite, or beyond float64 once weighted"
    warnings = _infinite_term_warnings(contributions, why)
    return reduce_terms("custom", contributions, "sum", warnings=warnings, exact=exact_terms)


def _infinite(value: Exact) -> bool:
    return isinstance(value, float) and math.isinf(value)
