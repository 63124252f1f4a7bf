"""The contract's JSON objects (section 4): strict JSON, an infinity is the string "inf"."""

from __future__ import annotations

import json
import math
import re
from typing import Any

import numpy as np

from rnnloss_cli.errors import encodable
from rnnloss_cli.solver import Solution


def plain(value: Any) -> Any:
    """Return `value` as strict-JSON data: numpy → lists and floats, ±∞ → "inf"/"-inf"."""
    if isinstance(value, np.ndarray):
        if value.dtype.kind == "f" and np.isfinite(value).all():
            return (value + 0.0).tolist()  # the whole array at once: no −0.0, no ±∞
        items = value.tolist()
        return [plain(v) for v in items] if isinstance(items, list) else plain(items)
    if isinstance(value, np.generic):
        return plain(value.item())
    if isinstance(value, float):
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        if math.isnan(value):  # never produced by the core; null rather than invalid JSON
            return None
        return value + 0.0  # no −0.0 in the output: 0·log 0 is 0
    if isinstance(value, str):  # a file name that is not UTF-8: its bytes escaped
        return encodable(value)
    if isinstance(value, dict):
        return {encodable(str(k)): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        if value and set(map(type, value)) == {float}:  # a vector: numpy checks it at once
            array = np.array(value)
            if np.isfinite(array).all():
                return (array + 0.0).tolist()
        return [plain(v) for v in value]
    return value


def check_keys(solution: Solution) -> dict[str, Any]:
    problem = solution.problem
    out: dict[str, Any] = {
        "expected": problem.expected,
        "tolerance": problem.tolerance,
        "matches": solution.matches,
    }
    if solution.instead:  # a missed key that another reduction, base or method matches
        out["matches_instead"] = [
            {"settings": dict(r.settings), "value": r.value, "what": r.what, "note": r.note}
            for r in solution.instead
        ]
    return out


def common_object(solution: Solution) -> dict[str, Any]:
    """Return the keys every loss's result object starts with (section 4): the loss, its
    title, value and reduction, the log base where it has one, the terms, sum and mean."""
    result = solution.result
    out: dict[str, Any] = {
        "loss": result.loss,
        "title": solution.problem.title,
        "value": result.value,
        "reduction": result.reduction,
    }
    if result.log_base is not None:
        out["log_base"] = result.log_base
    out.update(terms=result.terms, sum=result.sum, mean=result.mean)
    return out


def result_object(solution: Solution) -> dict[str, Any]:
    """Return the result object of one solved problem: the loss's own object (its `json`
    in the registry: the common keys and its own, or for ctc section 3's object) or the
    common one, then the check against the answer key and the warnings."""
    from rnnloss_cli import losses

    loss = losses.get(solution.result.loss)
    build = common_object if loss.json is None else losses.resolve(loss.json)
    out = build(solution)
    if solution.gradient is not None:  # `grad: true`: the input's shape, and its name
        out.update(grad=solution.gradient.as_given, grad_wrt=solution.gradient.wrt)
    out.update(**check_keys(solution), warnings=list(solution.result.warnings))
    return plain(out)


def dumps(data: Any) -> str:
    """Return `data` as indented strict JSON (no NaN or Infinity tokens), each list of
    numbers or strings on one line: a vector per line, a matrix a row per line."""
    return _encode(plain(data), 0)


CONTAINERS = frozenset({list, dict})


def _flat(value: Any) -> str:
    kind = type(value)
    if kind is float:  # finite (see plain): JSON writes a float as its repr
        return repr(value)
    if value is None:
        return "null"
    if kind is bool:
        return "true" if value else "false"
    if kind is int:
        return str(value)
    text = json.dumps(value, ensure_ascii=False, allow_nan=False)
    # The user's text as written, but a character that acts on a terminal instead of
    # showing (DEL, a C1 control, a bidirectional override) as its JSON escape \uXXXX:
    # the same string to a JSON reader, harmless printed. (json.dumps escapes C0 itself.)
    return ACTING.sub(lambda m: f"\\u{ord(m.group()):04x}", text) if kind is str else text


ACTING = re.compile("[\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _encode(value: Any, level: int) -> str:
    inner = "  " * (level + 1)
    if isinstance(value, dict) and value:
        items = [f"{inner}{_flat(str(k))}: {_encode(v, level + 1)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + "  " * level + "}"
    if isinstance(value, list) and not CONTAINERS.isdisjoint(map(type, value)):
        items = [inner + _encode(v, level + 1) for v in value]
        return "[\n" + ",\n".join(items) + "\n" + "  " * level + "]"
    return _flat(value)
