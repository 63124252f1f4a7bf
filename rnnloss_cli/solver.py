"""Validated problem → core result, and the check against the answer key."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from rnnloss_cli import losses
from rnnloss_cli.core.result import Gradient, LossResult
from rnnloss_cli.errors import ProblemError
from rnnloss_cli.problems import Problem

if TYPE_CHECKING:
    from rnnloss_cli.core.ctc_solve import CTCResult


def core_function(loss: str, inputs: dict[str, Any]) -> Callable[..., Any]:
    """Return the core function that computes `loss` from these validated inputs, imported
    only when a problem of that loss is solved (an inline hinge never pays for the CTC
    kernels); the loss's module names it."""
    return losses.get(loss).core_function(inputs)


@dataclass(frozen=True)
class Reading:
    """Another value of the same problem, under other settings (`reduction: mean`, …)."""

    settings: tuple[tuple[str, str], ...]  # the problem keys to set, and their values
    value: float
    what: str  # what the value is, in words: "the mean", "the objective J"
    note: str = ""  # what else to know, when no setting asks for it


@dataclass(frozen=True)
class Solution:
    """A problem, its result, and whether the answer matches `expected` (None without one).

    `instead` lists the other readings of the problem that the answer key does match,
    when the headline does not (a key worked with another reduction, say).
    """

    problem: Problem
    result: LossResult | CTCResult
    matches: bool | None
    instead: tuple[Reading, ...] = ()
    gradient: Gradient | None = None  # with `grad: true`, of the headline value

    @property
    def difference(self) -> float | None:
        if self.problem.expected is None or not isinstance(self.result.value, float):
            return None
        if math.isinf(self.problem.expected) and self.result.value == self.problem.expected:
            return 0.0
        return self.result.value - self.problem.expected


def check(value: Any, expected: float | None, tolerance: float | None) -> bool | None:
    """Return whether `value` lies within `tolerance` of `expected` (None: nothing to check)."""
    if expected is None or not isinstance(value, float):
        return None
    if math.isinf(expected) or math.isinf(value):
        return value == expected
    return abs(value - expected) <= (tolerance or 0.0) * (1 + 1e-9)


MAX_WARNINGS = 20


def solve(problem: Problem) -> Solution:
    """Return the `Solution` of a validated problem."""
    try:
        result = core_function(problem.loss, problem.inputs)(**problem.inputs)
    except ValueError as exc:  # the validator could not judge it: still one clean line
        key = getattr(exc, "key", None)
        raise ProblemError(str(exc), key=key, source=problem.source) from None
    warnings = problem.warnings + result.warnings
    if len(warnings) > MAX_WARNINGS:  # a page of warnings, then how many more
        more = len(warnings) - (MAX_WARNINGS - 1)
        warnings = (*warnings[: MAX_WARNINGS - 1], f"… and {more:,} more warnings")
    if warnings != result.warnings:
        result = replace(result, warnings=warnings)
    matches = check(result.value, problem.expected, problem.tolerance)
    instead: tuple[Reading, ...] = ()
    if matches is False:
        instead = tuple(
            r
            for r in readings(problem, result)
            if check(r.value, problem.expected, problem.tolerance)
        )
    gradient = None
    declared = losses.get(problem.loss)
    if problem.grad and declared.gradient is not None:
        gradient = losses.resolve(declared.gradient)(result, problem.inputs)
        # A validator that reshaped the prediction (one observation as a 1 × C row) says
        # the shape it was given: JSON returns the gradient in it, as torch's would be.
        shape = problem.display.get("given_shape")
        if shape is not None and gradient.values.shape != shape:
            gradient = replace(gradient, given_shape=tuple(shape))
    return Solution(problem, result, matches, instead, gradient)


REDUCTION_WORDS = {"sum": "the sum", "mean": "the mean"}
LOG_BASE_WORDS = {"e": "nats (ln)", "2": "bits (log₂)", "10": "log₁₀"}


def readings(problem: Problem, result: LossResult | CTCResult) -> list[Reading]:
    """Return the problem's value under every other reduction, log base and (CTC) method,
    fewest changed settings first: what an answer key worked another way would hold. A
    loss's module may say what its readings are (CTC's methods, REINFORCE's objective);
    else they are the sum and the mean of its terms."""
    hook = losses.get(result.loss).readings
    out = losses.resolve(hook)(problem, result) if hook is not None else term_readings(result)
    return sorted(out, key=lambda r: len(r.settings))


def term_readings(result: LossResult) -> list[Reading]:
    """Return the sum and the mean of a loss's terms, in every log base, but its own."""
    if not (isinstance(result.value, float) and result.reduction in ("sum", "mean")):
        return []  # reduction none: no single value
    values = {(None, "sum"): result.sum, (None, "mean"): result.mean}
    return other_readings(result, values, (None, result.reduction), {}, {})


def other_readings(
    result: LossResult | CTCResult,
    values: dict[tuple[str | None, str], float],
    own: tuple[str | None, str | None],
    words: dict[str | None, str],
    notes: dict[str | None, str],
) -> list[Reading]:
    """Return a Reading of each of `values` (by method and reduction, `own` the result's
    own) in every log base, bar the result's own settings; `words` say what each
    method's value is, `notes` what else to know of it."""
    out: list[Reading] = []
    bases = LOG_BASE_WORDS if result.log_base is not None else {}
    own_base = result.log_base
    for (method, reduction), value in values.items():
        for base in bases or {None: ""}:
            in_base = value
            if base is not None and base != own_base:
                in_base = value * math.log(_base(own_base)) / math.log(_base(base))
            settings = []
            if method != own[0]:
                settings.append(("method", str(method)))
            if reduction != own[1]:
                settings.append(("reduction", reduction))
            if base is not None and base != own_base:
                settings.append(("log_base", base))
            if not settings:
                continue
            if method is None:  # a loss of terms: the sum or the mean of them
                what = REDUCTION_WORDS[reduction]
            else:
                what = words[method]
                if reduction != own[1]:
                    what += f" under reduction {reduction}"
            if base is not None and base != own_base:
                what += f" in {LOG_BASE_WORDS[base]}"
            out.append(Reading(tuple(settings), in_base, what, notes.get(method, "")))
    return out


def _base(log_base: str | None) -> float:
    return math.e if log_base in (None, "e") else float(log_base)
