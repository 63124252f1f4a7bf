"""Raw problem mappings → validated `Problem`s, as the contract (problem-format.md) says.

Everything a user can get wrong is caught here, before any number is computed, and
reported as one `ProblemError` naming the key (`yhat[1]`) and what is wrong with it. The
validated problem holds float64 arrays ready for the core, plus the warnings that
validation found (rows that do not sum to 1, …).
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

import numpy as np

from rnnloss_cli.errors import ProblemError

# ---------------------------------------------------------------------------------------
# The vocabulary of the format

LOSSES = ("mse", "bce", "nll", "cce", "hinge", "sequence", "reinforce", "ctc", "custom")
ALIASES = {
    "cross-entropy": "bce",
    "categorical-cross-entropy": "cce",
    "seq": "sequence",
    "sequence-hinge": "hinge",
    "rl": "reinforce",
}
AVAILABLE = ("mse", "bce", "nll", "cce", "hinge")

COMMON_KEYS = ("loss", "title", "expected", "tolerance")
_CLASSIFICATION_KEYS = (
    "target",
    "y",
    "yhat",
    "log_probs",
    "logits",
    "classes",
    "reduction",
    "log_base",
    "clip",
)
LOSS_KEYS: dict[str, tuple[str, ...]] = {
    "mse": ("y", "yhat", "reduction"),
    "bce": ("y", "yhat", "logits", "reduction", "log_base", "clip"),
    "nll": _CLASSIFICATION_KEYS,
    "cce": (*_CLASSIFICATION_KEYS, "label_smoothing"),
    "hinge": ("y", "yhat", "margin", "squared", "reduction"),
    # Keys of the losses still to come, known so that a misspelling is still caught.
    "sequence": (
        "target",
        "yhat",
        "log_probs",
        "logits",
        "classes",
        "ignore_index",
        "reduction",
        "log_base",
    ),
    "reinforce": (
        "rewards",
        "probs",
        "log_probs",
        "gamma",
        "returns",
        "baseline",
        "normalize",
        "reduction",
        "log_base",
    ),
    "ctc": (
        "label",
        "blank",
        "probabilities",
        "alignments",
        "frames",
        "alphabet",
        "probs",
        "log_probs",
        "logits",
        "method",
        "trellis",
        "grad",
        "log_base",
    ),
    "custom": ("terms",),
}
ALL_KEYS = sorted({*COMMON_KEYS, *(k for keys in LOSS_KEYS.values() for k in keys)})

DEFAULT_REDUCTION = {"mse": "mean", "bce": "mean", "nll": "sum", "cce": "sum", "hinge": "mean"}
REDUCTIONS = ("mean", "sum", "none")
ROW_SUM_TOLERANCE = 1e-6


@dataclass(frozen=True)
class Problem:
    """A validated problem: the core's keyword arguments and what the working shows."""

    loss: str
    inputs: dict[str, Any]
    title: str | None = None
    source: str | None = None
    index: int = 0
    expected: float | None = None
    tolerance: float | None = None
    warnings: tuple[str, ...] = ()
    display: dict[str, Any] = field(default_factory=dict)


def canonical_loss(name: Any, key: str = "loss") -> str:
    """Return the canonical loss name for `name` or an alias; an error lists the choices."""
    if not isinstance(name, str):
        raise ProblemError(f"must be a loss name, got {_shown(name)}", key=key)
    lowered = name.strip().lower()
    if lowered in LOSSES:
        return lowered
    if lowered in ALIASES:
        return ALIASES[lowered]
    names = [*LOSSES, *ALIASES]
    hint = _did_you_mean(lowered, names)
    raise ProblemError(f"unknown loss {name!r}{hint}; choose one of {', '.join(LOSSES)}", key=key)


# ---------------------------------------------------------------------------------------
# Numbers, lists and matrices


def _shown(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return repr(value)


def _did_you_mean(word: str, choices: list[str] | tuple[str, ...]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def parse_number(
    value: Any, key: str, *, allow_inf: bool = False, allow_neg_inf: bool = False
) -> float:
    """Return `value` as a float: an int, a float or a numeric string, never a bool or NaN."""
    if isinstance(value, bool) or value is None or isinstance(value, list | dict):
        raise ProblemError(f"expected a number, got {_shown(value)}", key=key)
    if isinstance(value, int):
        try:
            number = float(value)
        except OverflowError:
            raise ProblemError(
                f"an integer of {len(str(abs(value)))} digits is too large for a float", key=key
            ) from None
    elif isinstance(value, float):
        number = value
    elif isinstance(value, str):
        text = value.strip()
        try:
            number = float(text)
        except ValueError:
            raise ProblemError(f"{value!r} is not a number", key=key) from None
    else:
        raise ProblemError(f"expected a number, got {_shown(value)}", key=key)
    if math.isnan(number):
        raise ProblemError("NaN is not a number this tool accepts", key=key)
    if math.isinf(number) and not (allow_inf or (allow_neg_inf and number < 0)):
        raise ProblemError(f"{'−' if number < 0 else ''}infinity is not allowed here", key=key)
    return number


def _split(text: str, sep: str, key: str) -> list[str]:
    parts = [part.strip() for part in text.split(sep)]
    for i, part in enumerate(parts):
        if not part:
            raise ProblemError(
                f"empty value in {text!r} (position {i}, between {sep!r} separators)", key=key
            )
    return parts


def parse_array(
    value: Any,
    key: str,
    *,
    ndims: tuple[int, ...] = (1, 2),
    allow_neg_inf: bool = False,
) -> np.ndarray:
    """Return a 1-D or 2-D float64 array from a list, a list of rows, or `"1,2;3,4"` text."""
    rows: Any = value
    if isinstance(value, str):
        text = value.strip()
        if not text:
            raise ProblemError("is empty: give at least one number", key=key)
        rows = (
            [_split(r, ",", key) for r in _split(text, ";", key)]
            if ";" in text
            else _split(text, ",", key)
        )
    elif isinstance(value, int | float) and not isinstance(value, bool):
        rows = [value]
    elif not isinstance(value, list):
        raise ProblemError(f"expected a list of numbers, got {_shown(value)}", key=key)
    if not rows:
        raise ProblemError("is empty: give at least one number", key=key)

    nested = [isinstance(r, list) or (isinstance(r, str) and "," in r) for r in rows]
    if any(nested):
        if 2 not in ndims:
            first = nested.index(True)
            raise ProblemError("expected a number, got a list", key=f"{key}[{first}]")
        out_rows = []
        for i, row in enumerate(rows):
            row_key = f"{key}[{i}]"
            if isinstance(row, str):
                row = _split(row, ",", row_key)
            elif not isinstance(row, list):
                raise ProblemError(
                    f"expected a row (a list of numbers), got {_shown(row)}: "
                    "a matrix has a list in every row",
                    key=row_key,
                )
            if not row:
                raise ProblemError("is an empty row", key=row_key)
            out_rows.append(
                [
                    parse_number(v, f"{row_key}[{j}]", allow_neg_inf=allow_neg_inf)
                    if not isinstance(v, list)
                    else _too_deep(f"{row_key}[{j}]")
                    for j, v in enumerate(row)
                ]
            )
        widths = [len(r) for r in out_rows]
        if len(set(widths)) > 1:
            odd = next(i for i, w in enumerate(widths) if w != widths[0])
            raise ProblemError(
                f"ragged matrix: row 0 has {widths[0]} values but row {odd} has {widths[odd]}",
                key=key,
            )
        return np.array(out_rows, dtype=np.float64)
    if 1 not in ndims:
        raise ProblemError("expected a matrix (a list of rows)", key=key)
    return np.array(
        [parse_number(v, f"{key}[{i}]", allow_neg_inf=allow_neg_inf) for i, v in enumerate(rows)],
        dtype=np.float64,
    )


def _too_deep(key: str) -> float:
    raise ProblemError("expected a number, got a list (nested too deeply)", key=key)


def _positions(mask: np.ndarray) -> list[tuple[int, ...]]:
    return [tuple(int(i) for i in p) for p in zip(*np.nonzero(mask), strict=True)]


def _key_at(key: str, position: tuple[int, ...]) -> str:
    return key + "".join(f"[{i}]" for i in position)


def _check_range(array: np.ndarray, key: str, what: str, low: float, high: float) -> None:
    bad = (array < low) | (array > high)
    if bad.any():
        position = _positions(bad)[0]
        raise ProblemError(
            f"{what} {_fmt(array[position])} is outside [{_fmt(low)}, {_fmt(high)}]",
            key=_key_at(key, position),
        )


def _fmt(x: float) -> str:
    x = float(x)
    return str(int(x)) if x.is_integer() and abs(x) < 1e15 else f"{x:.10g}"


def tolerance_from_text(text: str | None, expected: float) -> float:
    """Return half a unit in the last decimal place of `expected` as written (`0.50` → 0.005)."""
    if math.isinf(expected):
        return 0.0
    if text is not None:
        try:
            exponent = Decimal(text.strip().replace("_", "")).as_tuple().exponent
        except InvalidOperation:
            exponent = None
        if isinstance(exponent, int):
            return 0.5 * 10.0**exponent
    # Not written as a decimal numeral (inline flags give text too, so this is rare).
    return 0.5 * 10.0 ** Decimal(repr(expected)).as_tuple().exponent


# ---------------------------------------------------------------------------------------
# Validation


class _Reader:
    """Takes keys out of one raw problem, remembering which keys were used."""

    def __init__(self, data: Mapping[str, Any]):
        self.data = data

    def has(self, key: str) -> bool:
        return key in self.data and self.data[key] is not None

    def get(self, key: str, default: Any = None) -> Any:
        value = self.data.get(key)
        return default if value is None else value

    def array(self, key: str, **kw: Any) -> np.ndarray:
        return parse_array(self.data[key], key, **kw)

    def number(self, key: str, default: float, **kw: Any) -> float:
        return parse_number(self.data[key], key, **kw) if self.has(key) else default

    def flag(self, key: str, default: bool = False) -> bool:
        if not self.has(key):
            return default
        value = self.data[key]
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "yes", "on", "1"):
            return True
        if isinstance(value, str) and value.strip().lower() in ("false", "no", "off", "0"):
            return False
        raise ProblemError(f"expected true or false, got {_shown(value)}", key=key)

    def choice(self, key: str, choices: tuple[str, ...], default: str) -> str:
        if not self.has(key):
            return default
        value = self.data[key]
        text = (
            _fmt(value) if isinstance(value, int | float) and not isinstance(value, bool) else value
        )
        if isinstance(text, str) and text.strip().lower() in choices:
            return text.strip().lower()
        hint = _did_you_mean(str(text).lower(), choices) if isinstance(text, str) else ""
        raise ProblemError(
            f"must be one of {', '.join(choices)}, got {_shown(value)}{hint}", key=key
        )

    def require(self, loss: str, *keys: str) -> None:
        for key in keys:
            if not self.has(key):
                raise ProblemError(f"missing: `{loss}` needs {' and '.join(keys)}", key=key)

    def one_of(self, loss: str, *keys: str) -> str:
        present = [k for k in keys if self.has(k)]
        if len(present) > 1:
            raise ProblemError(
                f"give one of {', '.join(keys)}, not both {present[0]} and {present[1]}",
                key=present[1],
            )
        if not present:
            raise ProblemError(f"missing: `{loss}` needs one of {', '.join(keys)}", key=keys[0])
        return present[0]


def _check_keys(data: Mapping[str, Any], loss: str) -> None:
    allowed = (*COMMON_KEYS, *LOSS_KEYS[loss])
    for key in data:
        if not isinstance(key, str):
            raise ProblemError(f"keys are names, got {_shown(key)}", key=str(key))
        if key in allowed:
            continue
        owners = [name for name, keys in LOSS_KEYS.items() if key in keys]
        if owners:
            raise ProblemError(
                f"`{loss}` does not take this key (it belongs to {', '.join(owners)})", key=key
            )
        raise ProblemError(
            f"unknown key{_did_you_mean(key, allowed) or _did_you_mean(key, ALL_KEYS)}", key=key
        )


def _same_shape(a: np.ndarray, a_key: str, b: np.ndarray, b_key: str) -> None:
    if a.shape != b.shape:

        def shape(x: np.ndarray) -> str:
            if x.ndim == 1:
                return f"{x.shape[0]} value{'s' if x.shape[0] != 1 else ''}"
            return f"{x.shape[0]} × {x.shape[1]}"

        raise ProblemError(
            f"shapes disagree: {a_key} has {shape(a)} but {b_key} has {shape(b)}", key=b_key
        )


def _row_sum_warnings(p: np.ndarray, key: str, what: str = "probabilities") -> list[str]:
    sums = p.sum(axis=-1)
    out = []
    for i, s in enumerate(np.atleast_1d(sums)):
        if abs(s - 1.0) > ROW_SUM_TOLERANCE:
            where = f"{key}[{i}]" if p.ndim == 2 else key
            out.append(
                f"{where}: the {what} sum to {_fmt(round(float(s), 10))}, not 1; "
                "the loss uses them as given"
            )
    return out


def _validate_mse(r: _Reader) -> tuple[dict[str, Any], list[str], dict[str, Any]]:
    r.require("mse", "y", "yhat")
    y, yhat = r.array("y"), r.array("yhat")
    _same_shape(y, "y", yhat, "yhat")
    return {"y": y, "yhat": yhat}, [], {}


def _clip(r: _Reader, prediction_key: str) -> float | None:
    if not r.has("clip"):
        return None
    if prediction_key != "yhat":
        raise ProblemError(
            f"clip applies to probabilities given as yhat, not to {prediction_key}", key="clip"
        )
    eps = parse_number(r.data["clip"], "clip")
    if not 0.0 < eps < 0.5:
        raise ProblemError(f"must lie in (0, 0.5), got {_fmt(eps)}", key="clip")
    return eps


def _validate_bce(r: _Reader) -> tuple[dict[str, Any], list[str], dict[str, Any]]:
    r.require("bce", "y")
    pred_key = r.one_of("bce", "yhat", "logits")
    y = r.array("y")
    _check_range(y, "y", "target", 0.0, 1.0)
    pred = r.array(pred_key)
    _same_shape(y, "y", pred, pred_key)
    if pred_key == "yhat":
        _check_range(pred, "yhat", "probability", 0.0, 1.0)
    inputs = {"y": y, pred_key: pred, "clip": _clip(r, pred_key)}
    return inputs, [], {}


def _validate_hinge(r: _Reader) -> tuple[dict[str, Any], list[str], dict[str, Any]]:
    r.require("hinge", "y", "yhat")
    y, yhat = r.array("y"), r.array("yhat")
    bad = (y != 1.0) & (y != -1.0)
    if bad.any():
        position = _positions(bad)[0]
        hint = ""
        if np.isin(y, (0.0, 1.0)).all():
            hint = "; these look like 0/1 labels: write 0 as −1"
        raise ProblemError(
            f"hinge labels are −1 or +1, got {_fmt(y[position])}{hint}", key=_key_at("y", position)
        )
    _same_shape(y, "y", yhat, "yhat")
    margin = r.number("margin", 1.0)
    return {"y": y, "yhat": yhat, "margin": margin, "squared": r.flag("squared")}, [], {}


def _parse_classes(r: _Reader) -> list[str] | None:
    if not r.has("classes"):
        return None
    value = r.data["classes"]
    if isinstance(value, str):
        names = _split(value, ",", "classes")
    elif isinstance(value, list) and value:
        names = []
        for i, v in enumerate(value):
            if isinstance(v, bool):
                raise ProblemError(
                    f"a class name, got {_shown(v)}: YAML reads a bare yes/no/on/off as true or "
                    "false, so quote the name ('on')",
                    key=f"classes[{i}]",
                )
            if v is None or isinstance(v, list | dict):
                raise ProblemError(f"a class name, got {_shown(v)}", key=f"classes[{i}]")
            names.append(str(v))
    else:
        raise ProblemError(f"expected a list of class names, got {_shown(value)}", key="classes")
    seen: dict[str, int] = {}
    for i, name in enumerate(names):
        if name in seen:
            raise ProblemError(
                f"{name!r} is listed twice (also at [{seen[name]}])", key=f"classes[{i}]"
            )
        seen[name] = i
    return names


def _parse_targets(r: _Reader, classes: list[str] | None, n_classes: int) -> tuple[list[int], bool]:
    """Return the target class indices and whether the file gave a single scalar target."""
    value = r.data["target"]
    scalar = not isinstance(value, list) and not (isinstance(value, str) and "," in value)
    items = (
        value
        if isinstance(value, list)
        else _split(value, ",", "target")
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
                hint = _did_you_mean(item.strip(), classes)
                raise ProblemError(
                    f"{item!r} is not one of the classes ({', '.join(classes)}){hint}", key=key
                ) from None
        if isinstance(item, list):
            raise ProblemError(
                "expected a class index or name, got a list (one-hot rows go under `y`)", key=key
            )
        if isinstance(item, bool) and classes is not None:
            raise ProblemError(
                f"got {_shown(item)}: YAML reads a bare yes/no/on/off as true or false, so "
                "quote the class name ('on')",
                key=key,
            )
        number = parse_number(item, key)
        if not number.is_integer():
            raise ProblemError(f"a class index is a whole number, got {_fmt(number)}", key=key)
        index = int(number)
        if not 0 <= index < n_classes:
            raise ProblemError(
                f"class index {index} is out of range for {n_classes} classes "
                f"(0 to {n_classes - 1})",
                key=key,
            )
        out.append(index)
    return out, scalar


def _validate_classification(
    r: _Reader, loss: str
) -> tuple[dict[str, Any], list[str], dict[str, Any]]:
    target_key = r.one_of(loss, "target", "y")
    pred_key = r.one_of(loss, "yhat", "log_probs", "logits")
    pred = r.array(pred_key, allow_neg_inf=pred_key == "log_probs")
    single = pred.ndim == 1
    pred2 = pred.reshape(1, -1) if single else pred
    n, n_classes = pred2.shape
    warnings: list[str] = []
    display: dict[str, Any] = {}

    classes = _parse_classes(r)
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
        _same_shape(pred, pred_key, y, "y")
        y = y.reshape(1, -1) if single else y
        _check_range(y, "y", "target", 0.0, 1.0)
        one_hot = np.isin(y, (0.0, 1.0)).all(axis=1) & (y.sum(axis=1) == 1.0)
        if loss == "nll" and not one_hot.all():
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
            warnings += _row_sum_warnings(y if not single else y[0], "y", "target weights")

    if pred_key == "yhat":
        _check_range(pred, "yhat", "probability", 0.0, 1.0)
        warnings += _row_sum_warnings(pred, "yhat")
    elif pred_key == "log_probs":
        _check_range(pred, "log_probs", "log-probability", -math.inf, 1e-9)
        warnings += _row_sum_warnings(np.exp(pred), "log_probs", "probabilities exp(log_probs)")

    inputs: dict[str, Any] = {"y": y, pred_key: pred2, "clip": _clip(r, pred_key), "loss": loss}
    if loss == "cce":
        smoothing = r.number("label_smoothing", 0.0)
        if not 0.0 <= smoothing < 1.0:
            raise ProblemError(f"must lie in [0, 1), got {_fmt(smoothing)}", key="label_smoothing")
        inputs["label_smoothing"] = smoothing
    return inputs, warnings, display


VALIDATORS: dict[str, Callable[..., tuple[dict[str, Any], list[str], dict[str, Any]]]] = {
    "mse": _validate_mse,
    "bce": _validate_bce,
    "nll": lambda r: _validate_classification(r, "nll"),
    "cce": lambda r: _validate_classification(r, "cce"),
    "hinge": _validate_hinge,
}
TAKES_LOG_BASE = ("bce", "nll", "cce")


def validate(
    data: Any,
    *,
    source: str | None = None,
    index: int = 0,
    expected_text: str | None = None,
    default_title: str | None = None,
    loss: str | None = None,
) -> Problem:
    """Return the validated `Problem` for one raw mapping, or raise `ProblemError`.

    `loss` is the command's loss: it fills a missing `loss` key, and a file that names a
    different loss is an error. `expected_text` is `expected` as written in the file, from
    which the default tolerance is read.
    """
    try:
        return _validate(data, index, expected_text, default_title, loss, source)
    except ProblemError as exc:
        raise exc.with_source(source) from None


def _validate(
    data: Any,
    index: int,
    expected_text: str | None,
    default_title: str | None,
    command_loss: str | None,
    source: str | None,
) -> Problem:
    if not isinstance(data, dict):
        kind = "a list" if isinstance(data, list) else f"a {type(data).__name__}"
        raise ProblemError(f"a problem is a mapping of keys (loss: …, y: …), got {kind}")
    r = _Reader(data)
    if "loss" in data:
        loss = canonical_loss(data["loss"])
        if command_loss is not None and loss != command_loss:
            raise ProblemError(
                f"this is a `{loss}` problem; solve it with `rnnloss {loss}` or `rnnloss solve`",
                key="loss",
            )
    elif command_loss is not None:
        loss = command_loss
    else:
        raise ProblemError(
            f"missing: every problem names its loss ({', '.join(LOSSES)})", key="loss"
        )
    if loss not in AVAILABLE:
        raise ProblemError(
            f"the `{loss}` loss is not available in this version yet "
            f"(available: {', '.join(AVAILABLE)})",
            key="loss",
        )
    _check_keys(data, loss)

    inputs, warnings, display = VALIDATORS[loss](r)
    inputs = {k: v for k, v in inputs.items() if v is not None}
    reduction = r.choice("reduction", REDUCTIONS, DEFAULT_REDUCTION[loss])
    inputs["reduction"] = reduction
    if loss in TAKES_LOG_BASE:
        inputs["log_base"] = r.choice("log_base", ("e", "2", "10"), "e")

    title = r.get("title")
    if title is not None and not isinstance(title, str | int | float):
        raise ProblemError(f"expected a line of text, got {_shown(title)}", key="title")
    expected = tolerance = None
    if r.has("expected"):
        if reduction == "none":
            raise ProblemError(
                "there is no single answer to check with reduction none: drop expected "
                "or choose mean or sum",
                key="expected",
            )
        expected = parse_number(data["expected"], "expected", allow_inf=True)
        text = expected_text
        if text is None and isinstance(data["expected"], str):
            text = data["expected"]
        tolerance = tolerance_from_text(text, expected)
    if r.has("tolerance"):
        if expected is None:
            raise ProblemError(
                "is given without expected: there is nothing to check", key="tolerance"
            )
        tolerance = parse_number(data["tolerance"], "tolerance")
        if tolerance < 0:
            raise ProblemError(f"must not be negative, got {_fmt(tolerance)}", key="tolerance")

    return Problem(
        loss=loss,
        inputs=inputs,
        title=str(title) if title is not None else default_title,
        source=source,
        index=index,
        expected=expected,
        tolerance=tolerance,
        warnings=tuple(warnings),
        display=display,
    )
