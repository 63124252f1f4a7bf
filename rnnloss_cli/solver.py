"""Validated problem → core result, and the check against the answer key."""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from rnnloss_cli.core.result import LossResult
from rnnloss_cli.core.text import num
from rnnloss_cli.errors import ProblemError
from rnnloss_cli.problems import Problem

if TYPE_CHECKING:
    from rnnloss_cli.core.ctc_solve import CTCResult

# Each loss's core function, imported only when a problem of that loss is solved (an
# inline hinge never pays for the CTC kernels).
CORE: dict[str, tuple[str, str]] = {
    "mse": ("elementwise", "mse"),
    "bce": ("elementwise", "bce"),
    "nll": ("elementwise", "categorical_cross_entropy"),
    "cce": ("elementwise", "categorical_cross_entropy"),
    "hinge": ("elementwise", "hinge"),
    "ctc": ("ctc_solve", "solve"),
    "sequence": ("sequence", "sequence_cross_entropy"),
    "reinforce": ("sequence", "reinforce"),
}


def core_function(loss: str, inputs: dict[str, Any]) -> Callable[..., Any]:
    """Return the core function that computes `loss` from these validated inputs."""
    module, name = CORE[loss]
    if loss == "hinge" and "scores" in inputs:
        name = "multiclass_hinge"
    return getattr(importlib.import_module(f"rnnloss_cli.core.{module}"), name)


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


def _custom(problem: Problem) -> LossResult:
    """Solve each component, then weigh and add their values in the core."""
    components = []
    for component in problem.inputs["components"]:
        solution = solve(component["problem"])
        components.append({**component, "solution": solution})
    values = [float(c["solution"].result.value) for c in components]
    exact = [getattr(c["solution"].result, "exact_value", None) for c in components]
    from rnnloss_cli.core.sequence import weighted_sum

    result = weighted_sum(values, [c["weight"] for c in components], exact)
    named = [
        f"term {i + 1} ({c['name']}): {w}"
        for i, c in enumerate(components)
        for w in c["solution"].result.warnings
    ]
    warnings = [*named, *result.warnings]
    return replace(result, warnings=tuple(warnings), details={"components": components})


def solve(problem: Problem) -> Solution:
    """Return the `Solution` of a validated problem."""
    try:
        if problem.loss == "custom":
            result = _custom(problem)
        else:
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
    return Solution(problem, result, matches, instead)


REDUCTION_WORDS = {"sum": "the sum", "mean": "the mean"}
LOG_BASE_WORDS = {"e": "nats (ln)", "2": "bits (log₂)", "10": "log₁₀"}
CTC_METHOD_WORDS = {
    "listed": "the listed alignments' loss (the lecture's method)",
    "valid": "the valid listed alignments' loss",
    "exact": "the exact loss",
    "normalized": "the exact loss with each frame normalised",
}


def readings(problem: Problem, result: LossResult | CTCResult) -> list[Reading]:
    """Return the problem's value under every other reduction, log base and (CTC) method,
    fewest changed settings first: what an answer key worked another way would hold."""
    out: list[Reading] = []
    notes: dict[str | None, str] = {}  # what else to know of a method's value
    bases = LOG_BASE_WORDS if result.log_base is not None else {}
    own_base = result.log_base
    if result.loss == "ctc":
        assert not isinstance(result, LossResult)
        values = {
            (method, reduction): loss / (max(len(result.label), 1) if reduction == "mean" else 1)
            for method, loss in result.losses.items()
            for reduction in ("sum", "mean")
        }
        own = (result.method, result.reduction)
        words = dict(CTC_METHOD_WORDS)
        if not result.is_distribution:  # as the working calls it: −log of a sum, no loss
            words["exact"] = "the −log of the unnormalised exact sum (method exact)"
            words["normalized"] = "the normalised exact loss (each frame ÷ the values' sum)"
            notes["exact"] = (
                f"it is not a loss: the values sum to {num(result.probabilities_total)}, "
                "not 1 (method normalized gives the exact loss)"
            )
    elif (
        isinstance(result.value, float)
        and result.reduction in ("sum", "mean")
        and result.loss != "custom"
    ):
        values = {(None, "sum"): result.sum, (None, "mean"): result.mean}
        own = (None, result.reduction)
        words = {}
    else:  # reduction none (no single value), or a custom loss (a weighted sum, no mean)
        return []
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
    if result.loss == "reinforce":
        assert isinstance(result, LossResult)
        out.append(
            Reading(
                (),
                float(result.details["objective"]),
                "the objective J = Σₜ Aₜ·log πₜ",
                "the lecture's formula, to maximise; the loss is its negative",
            )
        )
    return sorted(out, key=lambda r: len(r.settings))


def _base(log_base: str | None) -> float:
    return math.e if log_base in (None, "e") else float(log_base)
