"""The contract's JSON objects (section 4): strict JSON, an infinity is the string "inf"."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np

from rnnloss_cli.solver import Solution


def plain(value: Any) -> Any:
    """Return `value` as strict-JSON data: numpy → lists and floats, ±∞ → "inf"/"-inf"."""
    if isinstance(value, np.ndarray):
        return plain(value.tolist())
    if isinstance(value, np.generic):
        return plain(value.item())
    if isinstance(value, float):
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        if math.isnan(value):  # never produced by the core; null rather than invalid JSON
            return None
        return value
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def result_object(solution: Solution) -> dict[str, Any]:
    """Return the result object of one solved problem."""
    result, problem = solution.result, solution.problem
    out: dict[str, Any] = {
        "loss": result.loss,
        "title": problem.title,
        "value": result.value,
        "reduction": result.reduction,
    }
    if result.log_base is not None:
        out["log_base"] = result.log_base
    out.update(
        terms=result.terms,
        sum=result.sum,
        mean=result.mean,
        expected=problem.expected,
        tolerance=problem.tolerance,
        matches=solution.matches,
        warnings=list(result.warnings),
    )
    return plain(out)


def dumps(data: Any) -> str:
    """Return `data` as indented strict JSON (no NaN or Infinity tokens)."""
    return json.dumps(plain(data), indent=2, ensure_ascii=False, allow_nan=False)
