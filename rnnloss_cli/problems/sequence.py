"""Validation of the sequence-level losses: sequence cross-entropy with padding, REINFORCE."""

from __future__ import annotations

from typing import Any

import numpy as np

from rnnloss_cli.core.text import count
from rnnloss_cli.errors import ProblemError, quoted
from rnnloss_cli.losses.reinforce import RETURNS
from rnnloss_cli.problems.elementwise import parse_classes
from rnnloss_cli.problems.values import (
    Reader,
    check_prediction,
    did_you_mean,
    fmt,
    infinities,
    parse_array,
    parse_array3,
    parse_number,
    shown,
    split_list,
)

Validated = tuple[dict[str, Any], list[str], dict[str, Any]]


def _targets(r: Reader, classes: list[str] | None, ignore: int | None) -> list[list[Any]]:
    """Return the targets as rows (one per sequence) of raw items, names resolved later."""
    value = r.data["target"]
    if isinstance(value, str):
        # Inline, one row per sequence: split by ; (or by |, as the predictions are).
        separator = "|" if "|" in value else ";"
        rows = [split_list(row, ",", "target") for row in split_list(value, separator, "target")]
    elif isinstance(value, list) and value and all(isinstance(v, list) for v in value):
        rows = value
    elif isinstance(value, list) and value and not any(isinstance(v, list) for v in value):
        rows = [value]
    else:
        raise ProblemError(
            f"expected class indices per time step (or one row per sequence), got "
            f"{shown(value) if not isinstance(value, list) or not value else 'mixed rows'}",
            key="target",
        )
    return rows


def _index(
    item: Any, key: str, classes: list[str] | None, n_classes: int, ignore: int | None
) -> int:
    if isinstance(item, bool):
        raise ProblemError(f"expected a class index or name, got {shown(item)}", key=key)
    if classes is not None and isinstance(item, str) and item.strip() in classes:
        return classes.index(item.strip())
    if isinstance(item, str):
        try:
            float(item)
        except ValueError:
            hint = did_you_mean(item.strip(), classes or [])
            what = f"one of the classes ({', '.join(classes)})" if classes else "a class index"
            raise ProblemError(f"{quoted(item)} is not {what}{hint}", key=key) from None
    if isinstance(item, list | dict) or item is None:
        raise ProblemError(f"expected a class index or name, got {shown(item)}", key=key)
    number = parse_number(item, key)
    if not number.is_integer():
        raise ProblemError(f"a class index is a whole number, got {fmt(number)}", key=key)
    index = int(number)
    if ignore is not None and index == ignore:
        return index
    if not 0 <= index < n_classes:
        padding = "" if ignore is None else f", and is not the padding index {ignore}"
        raise ProblemError(
            f"class index {index} is out of range for {count(n_classes, 'class', 'classes')} (0 to "
            f"{n_classes - 1}){padding}",
            key=key,
        )
    return index


def validate_sequence(r: Reader) -> Validated:
    """Return the inputs of `sequence_cross_entropy`: targets, log-probabilities, mask."""
    r.require("sequence", "target")
    pred_key = r.one_of("sequence", "yhat", "log_probs", "logits")
    pred = parse_array3(r.data[pred_key], pred_key, **infinities(pred_key))
    single = pred.ndim == 2
    pred3 = pred[None] if single else pred
    batch, steps, n_classes = pred3.shape
    ignore = None
    if r.has("ignore_index"):
        number = parse_number(r.data["ignore_index"], "ignore_index")
        if not number.is_integer():
            raise ProblemError(
                f"a class index is a whole number, got {fmt(number)}", key="ignore_index"
            )
        if not -(2**63) <= number < 2**63:
            raise ProblemError(
                f"{fmt(number)} is outside the 64-bit range of an index", key="ignore_index"
            )
        ignore = int(number)
    classes = parse_classes(r)
    if classes is not None and len(classes) != n_classes:
        raise ProblemError(
            f"names {len(classes)} classes but {pred_key} has {n_classes} values per step",
            key="classes",
        )
    rows = _targets(r, classes, ignore)
    if len(rows) != batch:
        raise ProblemError(
            f"gives {len(rows)} sequence{'s' if len(rows) != 1 else ''} of targets but "
            f"{pred_key} has {batch}",
            key="target",
        )
    target = np.zeros((batch, steps), dtype=np.int64)
    for b, row in enumerate(rows):
        if len(row) != steps:
            where = "target" if batch == 1 else f"target[{b}]"
            raise ProblemError(
                f"{len(row)} time steps but {pred_key} has {steps} per sequence", key=where
            )
        for t, item in enumerate(row):
            key = f"target[{t}]" if batch == 1 else f"target[{b}][{t}]"
            target[b, t] = _index(item, key, classes, n_classes, ignore)
    mask = np.ones_like(target, dtype=bool) if ignore is None else target != ignore
    if not mask.any():
        raise ProblemError(
            f"every position is padding (ignore_index {ignore}): there is no token to score",
            key="target",
        )
    warnings = check_prediction(pred, pred_key)
    for b in range(batch):
        if not mask[b].any() and batch > 1:
            warnings.append(f"target[{b}] is all padding: that sequence adds nothing")
    # The prediction as given (T × C for one sequence): its gradient has that shape.
    inputs = {"target": target, "log_probs": pred, "kind": pred_key, "mask": mask}
    display = {"classes": classes, "pred_key": pred_key, "ignore_index": ignore, "single": single}
    return inputs, warnings, display


def validate_reinforce(r: Reader) -> Validated:
    """Return the inputs of `reinforce`: rewards, log π of the actions taken, the options."""
    r.require("reinforce", "rewards")
    pred_key = r.one_of("reinforce", "probs", "log_probs")
    rewards = parse_array(r.data["rewards"], "rewards", ndims=(1,))
    pred = parse_array(
        r.data[pred_key], pred_key, ndims=(1,), allow_neg_inf=pred_key == "log_probs"
    )
    if pred.size != rewards.size:
        raise ProblemError(
            f"{pred.size} action probabilities for {rewards.size} rewards: give one per time step",
            key=pred_key,
        )
    check_prediction(pred, pred_key, rows=False)  # one action's probability per step
    gamma = r.number("gamma", 1.0)
    if not 0.0 <= gamma <= 1.0:
        raise ProblemError(f"a discount lies in [0, 1], got {fmt(gamma)}", key="gamma")
    returns = r.choice("returns", RETURNS, "as-given")
    warnings = []
    if r.has("gamma") and returns == "as-given" and gamma != 1.0:
        warnings.append(
            f"gamma: {fmt(gamma)} has no effect with returns as-given (the rewards are used as "
            "they are); add returns: reward-to-go to discount"
        )
    baseline: float | str | None = None
    if r.has("baseline"):
        value = r.data["baseline"]
        if isinstance(value, str) and value.strip().lower() == "mean":
            baseline = "mean"
        else:
            try:
                baseline = parse_number(value, "baseline")
            except ProblemError:
                raise ProblemError(
                    f"a number or mean, got {shown(value)}", key="baseline"
                ) from None
    normalize = r.flag("normalize")
    if normalize and rewards.size < 2:
        raise ProblemError(
            "needs at least 2 time steps (it divides by a standard deviation)", key="normalize"
        )
    inputs = {
        "rewards": rewards,
        "log_probs": pred,
        "kind": pred_key,
        "gamma": gamma,
        "returns": returns,
        "baseline": baseline,
        "normalize": normalize,
    }
    return inputs, warnings, {"pred_key": pred_key}
