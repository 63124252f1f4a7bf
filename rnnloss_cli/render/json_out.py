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


def _check_keys(solution: Solution) -> dict[str, Any]:
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


def _ctc_object(solution: Solution) -> dict[str, Any]:
    """Return the contract's CTC object (section 3): `naive`, `dp`, `method`."""
    result = solution.result
    word = "".join if result.label_is_string else list  # as data: whole, "" when empty

    def symbols(indices: list[int]) -> Any:
        return word([result.alphabet[i] for i in indices])

    out: dict[str, Any] = {
        "loss": "ctc",
        "title": solution.problem.title,
        "value": result.value,
        "method": result.method,
        "reduction": result.reduction,
        "log_base": result.log_base,
        "label": word(result.label),
        "blank": result.blank,
    }
    if result.naive is not None:
        naive = result.naive
        out["naive"] = {
            "alignments": [
                {
                    "path": word(a.path),
                    "collapsed": word(a.collapsed),
                    "valid": a.valid,
                    "factors": a.factors,
                    "probability": a.probability,
                    "stated": a.stated,
                    "symbols_probability": a.symbols_probability,
                    "log_probability": a.log_probability / result.log_divisor,
                }
                for a in naive.alignments
            ],
            "probability": naive.probability,
            "loss": naive.loss,
            "valid_probability": naive.valid_probability,
            "valid_loss": naive.valid_loss,
            # Added: the logs of the sums, exact where the sums underflow float64 to 0.
            "log_probability": naive.log_probability / result.log_divisor,
            "valid_log_probability": naive.valid_log_probability / result.log_divisor,
        }
    dp = result.dp
    dp_out: dict[str, Any] = {
        "frames": dp.frames,
        "paths": dp.paths,
        "probability": dp.probability,
        "log_probability": result.exact_log_probability,
        "loss": result.exact_loss,
        "min_frames": dp.min_frames,
    }
    normalized = getattr(dp, "normalized", None)
    if normalized is not None:
        dp_out["normalized"] = {
            "probability": normalized.probability,
            "loss": result.normalized_loss,
            "divided_by": normalized.total,
        }
    dp_out["best_path"] = None
    if dp.best_path is not None:
        path = dp.best_path.path
        dp_out["best_path"] = {
            "path": symbols(path) if result.alphabet else word(path),
            "probability": dp.best_path.probability,
            "log_probability": dp.best_path.log_probability / result.log_divisor,
        }
    greedy = getattr(dp, "greedy", None)
    if greedy is not None and result.alphabet is not None:
        dp_out["greedy"] = {"path": symbols(greedy.path), "collapsed": symbols(greedy.collapsed)}
    if dp.alpha is not None:
        dp_out["alpha"] = dp.alpha
    if result.gradient is not None:
        dp_out["grad"] = result.gradient
    out["dp"] = dp_out
    out.update(_check_keys(solution))
    out["warnings"] = list(result.warnings)
    return plain(out)


def result_object(solution: Solution) -> dict[str, Any]:
    """Return the result object of one solved problem."""
    result, problem = solution.result, solution.problem
    if result.loss == "ctc":
        return _ctc_object(solution)
    out: dict[str, Any] = {
        "loss": result.loss,
        "title": problem.title,
        "value": result.value,
        "reduction": result.reduction,
    }
    if result.log_base is not None:
        out["log_base"] = result.log_base
    terms: Any = result.terms
    details = result.details
    if result.loss == "sequence" and not problem.display.get("single"):
        terms = details["per_sequence"]  # one list per sequence, padding left out
    out.update(terms=terms, sum=result.sum, mean=result.mean)
    if result.loss == "sequence":
        out["perplexity"] = details["perplexity"]
        out["subtotals"] = details["subtotals"]
    elif result.loss == "reinforce":
        out["objective"] = details["objective"]
        out["returns"] = details["advantages"]
        out["gamma"] = details["gamma"]
        out["returns_rule"] = details["returns"]
        out["baseline"] = details["baseline"]
        out["normalize"] = details["normalize"]
    elif result.loss == "custom":
        out["components"] = [
            {
                **result_object(c["solution"]),
                "name": c["name"],
                "weight": c["weight"],
                "contribution": contribution,
            }
            for c, contribution in zip(details["components"], result.terms, strict=True)
        ]
    out.update(**_check_keys(solution), warnings=list(result.warnings))
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
