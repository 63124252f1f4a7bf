"""Validated problem → core result, and the check against the answer key."""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from rnnloss_cli.core.result import LossResult
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
class Solution:
    """A problem, its result, and whether the answer matches `expected` (None without one)."""

    problem: Problem
    result: LossResult | CTCResult
    matches: bool | None

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
    from rnnloss_cli.core.sequence import weighted_sum

    result = weighted_sum(values, [c["weight"] for c in components])
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
    except ValueError as exc:  # the validator should have caught it: still one clean line
        raise ProblemError(str(exc), source=problem.source) from None
    warnings = problem.warnings + result.warnings
    if len(warnings) > MAX_WARNINGS:  # a page of warnings, then how many more
        more = len(warnings) - (MAX_WARNINGS - 1)
        warnings = (*warnings[: MAX_WARNINGS - 1], f"… and {more:,} more warnings")
    if warnings != result.warnings:
        result = replace(result, warnings=warnings)
    return Solution(problem, result, check(result.value, problem.expected, problem.tolerance))
