"""Validation of the elementwise losses: mse, bce, hinge, and nll/cce (indices or one-hot)."""

from __future__ import annotations

from typing import Any

import numpy as np

from rnnloss_cli.core.text import count
from rnnloss_cli.errors import ProblemError, quoted
from rnnloss_cli.losses.hinge import MULTICLASS
from rnnloss_cli.problems.values import (
    Reader,
    check_name,
    check_prediction,
    check_range,
    check_unique,
    did_you_mean,
    fmt,
    infinities,
    key_at,
    parse_number,
    positions,
    row_sum_warnings,
    same_shape,
    shown,
    split_list,
)

Validated = tuple[dict[str, Any], list[str], dict[str, Any]]


def validate_mse(r: Reader) -> Validated:
    r.require("mse", "y", "yhat")
    y, yhat = r.array("y"), r.array("yhat")
    same_shape(y, "y", yhat, "yhat")
    return {"y": y, "yhat": yhat}, [], {}


def _clip(r: Reader, prediction_key: str) -> float | None:
    if not r.has("clip"):
        return None
    if prediction_key != "yhat":
        raise ProblemError(
            f"clip applies to probabilities given as yhat, not to {prediction_key}", key="clip"
        )
    eps = parse_number(r.data["clip"], "clip")
    if not 0.0 < eps < 0.5:
        raise ProblemError(f"must lie in (0, 0.5), got {fmt(eps)}", key="clip")
    return eps


def validate_bce(r: Reader) -> Validated:
    r.require("bce", "y")
    pred_key = r.one_of("bce", "yhat", "logits")
    y = r.array("y")
    check_range(y, "y", "target", 0.0, 1.0)
    pred = r.array(pred_key, **infinities(pred_key))  # logits ±∞: σ is 0 or 1 exactly
    same_shape(y, "y", pred, pred_key)
    if pred_key == "yhat":
        check_range(pred, "yhat", "probability", 0.0, 1.0)
    inputs = {"y": y, pred_key: pred, "clip": _clip(r, pred_key)}
    return inputs, [], {}


def _validate_multiclass_hinge(r: Reader) -> Validated:
    pairs = "binary hinge takes y and yhat; multi-class hinge takes target and scores: give one"
    r.forbid({"y": pairs, "yhat": pairs})
    r.require("hinge", "target", "scores")
    scores = r.array("scores")
    scores2 = scores.reshape(1, -1) if scores.ndim == 1 else scores
    if scores2.shape[1] < 2:
        raise ProblemError("multi-class hinge needs at least 2 classes per row", key="scores")
    classes = parse_classes(r)
    if classes is not None and len(classes) != scores2.shape[1]:
        raise ProblemError(
            f"names {len(classes)} classes but each row of scores has {scores2.shape[1]} values",
            key="classes",
        )
    indices, _ = _parse_targets(r, classes, scores2.shape[1])
    if len(indices) != scores2.shape[0]:
        raise ProblemError(
            f"gives {len(indices)} targets but scores has {scores2.shape[0]} rows", key="target"
        )
    inputs = {
        "target": np.array(indices, dtype=np.int64),
        "scores": scores2,
        "multiclass": r.choice("multiclass", MULTICLASS, "crammer-singer"),
        "margin": r.number("margin", 1.0),
        "squared": r.flag("squared"),
    }
    display = {"target": indices} | ({"classes": classes} if classes else {})
    display["given_shape"] = scores.shape  # a gradient has the shape given (one row: 1-D)
    return inputs, [], display


def validate_hinge(r: Reader) -> Validated:
    if r.has("target") or r.has("scores"):
        return _validate_multiclass_hinge(r)
    if r.has("multiclass"):
        raise ProblemError("applies to multi-class hinge: give target and scores", key="multiclass")
    r.require("hinge", "y", "yhat")
    y, yhat = r.array("y"), r.array("yhat")
    bad = (y != 1.0) & (y != -1.0)
    if bad.any():
        position = positions(bad)[0]
        hint = ""
        if np.isin(y, (0.0, 1.0)).all():
            hint = "; these look like 0/1 labels: write 0 as −1"
        raise ProblemError(
            f"hinge labels are −1 or +1, got {fmt(y[position])}{hint}", key=key_at("y", position)
        )
    same_shape(y, "y", yhat, "yhat")
    margin = r.number("margin", 1.0)
    return {"y": y, "yhat": yhat, "margin": margin, "squared": r.flag("squared")}, [], {}


def parse_classes(r: Reader) -> list[str] | None:
    if not r.has("classes"):
        return None
    value = r.data["classes"]
    if isinstance(value, str):
        names = split_list(value, ",", "classes")
    elif isinstance(value, list) and value:
        names = []
        for i, v in enumerate(value):
            if isinstance(v, bool):
                raise ProblemError(
                    f"a class name, got {shown(v)}: YAML reads a bare yes/no/on/off as true or "
                    "false, so quote the name ('on')",
                    key=f"classes[{i}]",
                )
            if v is None or isinstance(v, list | dict):
                raise ProblemError(f"a class name, got {shown(v)}", key=f"classes[{i}]")
            names.append(str(v))
    else:
        raise ProblemError(f"expected a list of class names, got {shown(value)}", key="classes")
    for i, name in enumerate(names):
        check_name(name, f"classes[{i}]", "class name")
    check_unique(names, "classes")
    return names


def _parse_targets(r: Reader, classes: list[str] | None, n_classes: int) -> tuple[list[int], bool]:
    """Return the target class indices and whether the file gave a single scalar target."""
    value = r.data["target"]
    scalar = not isinstance(value, list) and not (isinstance(value, str) and "," in value)
    items = (
        value
        if isinstance(value, list)
        else split_list(value, ",", "target")
        if isinstance(value, str)
        else [value]
    )
    if not items:
        raise ProblemError("is empty", key="target")
    out = []
    for i, item in enumerate(items):
        key = "target" if scalar else f"target[{i}]"
        if classes is not None and isinstance(item, str) and item.strip() in classes:
            out.append(classes.index(item.strip()))
            continue
        if isinstance(item, str) and classes is not None:
            try:
                float(item)
            except ValueError:
                hint = did_you_mean(item.strip(), classes)
                raise ProblemError(
                    f"{quoted(item)} is not one of the classes ({', '.join(classes)}){hint}",
                    key=key,
                ) from None
        if isinstance(item, list):
            raise ProblemError(
                "expected a class index or name, got a list (one-hot rows go under `y`)", key=key
            )
        if isinstance(item, bool) and classes is not None:
            raise ProblemError(
                f"got {shown(item)}: YAML reads a bare yes/no/on/off as true or false, so "
                "quote the class name ('on')",
                key=key,
            )
        number = parse_number(item, key)
        if not number.is_integer():
            raise ProblemError(f"a class index is a whole number, got {fmt(number)}", key=key)
        index = int(number)
        if not 0 <= index < n_classes:
            raise ProblemError(
                f"class index {index} is out of range for {count(n_classes, 'class', 'classes')} "
                f"(0 to {n_classes - 1})",
                key=key,
            )
        out.append(index)
    return out, scalar


def validate_nll(r: Reader) -> Validated:
    """Return nll's inputs: one class per observation (one-hot rows, no soft labels)."""
    return _validate_classification(r, "nll", soft_labels=False, label_smoothing=False)


def validate_cce(r: Reader) -> Validated:
    """Return cce's inputs: soft labels and label smoothing allowed."""
    return _validate_classification(r, "cce", soft_labels=True, label_smoothing=True)


def _validate_classification(
    r: Reader, loss: str, *, soft_labels: bool, label_smoothing: bool
) -> Validated:
    target_key = r.one_of(loss, "target", "y")
    pred_key = r.one_of(loss, "yhat", "log_probs", "logits")
    pred = r.array(pred_key, **infinities(pred_key))
    single = pred.ndim == 1
    pred2 = pred.reshape(1, -1) if single else pred
    n, n_classes = pred2.shape
    warnings: list[str] = []
    display: dict[str, Any] = {"given_shape": pred.shape}  # a gradient has this shape

    classes = parse_classes(r)
    if classes is not None and len(classes) != n_classes:
        raise ProblemError(
            f"names {len(classes)} classes but each row of {pred_key} has {n_classes} values",
            key="classes",
        )
    if classes is not None:
        display["classes"] = classes

    if target_key == "target":
        indices, _ = _parse_targets(r, classes, n_classes)
        if len(indices) != n:
            what = "1 observation" if single else f"{n} rows"
            raise ProblemError(
                f"gives {len(indices)} targets but {pred_key} has {what}", key="target"
            )
        y = np.zeros((n, n_classes))
        y[np.arange(n), indices] = 1.0
        display["target"] = indices
    else:
        y = r.array("y")
        if y.ndim != pred.ndim:
            raise ProblemError(
                f"shapes disagree: y is {'1-D' if y.ndim == 1 else '2-D'} but {pred_key} is "
                f"{'1-D' if pred.ndim == 1 else '2-D'}",
                key="y",
            )
        same_shape(pred, pred_key, y, "y")
        y = y.reshape(1, -1) if single else y
        check_range(y, "y", "target", 0.0, 1.0)
        one_hot = np.isin(y, (0.0, 1.0)).all(axis=1) & (y.sum(axis=1) == 1.0)
        if not soft_labels and not one_hot.all():
            i = int(np.argmin(one_hot))
            key = "y" if single else f"y[{i}]"
            raise ProblemError(
                "is not a one-hot row; soft labels belong to `cce` (nll takes one class per "
                "observation)",
                key=key,
            )
        if one_hot.all():
            display["target"] = [int(i) for i in y.argmax(axis=1)]
        else:
            warnings += row_sum_warnings(y if not single else y[0], "y", "target weights")

    warnings += check_prediction(pred, pred_key)

    inputs: dict[str, Any] = {"y": y, pred_key: pred2, "clip": _clip(r, pred_key), "loss": loss}
    if label_smoothing:
        smoothing = r.number("label_smoothing", 0.0)
        if not 0.0 <= smoothing < 1.0:
            raise ProblemError(f"must lie in [0, 1), got {fmt(smoothing)}", key="label_smoothing")
        inputs["label_smoothing"] = smoothing
    return inputs, warnings, display
