"""Numbers, lists, matrices and choices read from a raw problem, with errors naming the key.

Every reader here turns one raw YAML value (or an inline flag's text) into a checked
Python or numpy value, or raises a `ProblemError` that says which key and what is wrong.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from rnnloss_cli.core.result import DISTRIBUTION_TOLERANCE as ROW_SUM_TOLERANCE
from rnnloss_cli.core.result import name_first
from rnnloss_cli.core.text import count, num
from rnnloss_cli.errors import ProblemError, printable, quoted

MAX_NAME = 50  # characters in a class name or a CTC symbol: names are table cells

# What a person types or pastes for the ASCII a number is written in: the minus sign and
# infinity that rnnloss prints (`−0.5`, `1.88e−04`, `−∞`), and the small and fullwidth
# forms an East Asian input method gives (`－１．５`, `１，２；３，４`). Python's float()
# reads none of these but the fullwidth digits; mapped here, they read as ASCII does.
TYPED_FORMS = str.maketrans(
    {
        "\u2212": "-",  # − minus sign, as rnnloss prints it
        "\ufe63": "-",  # ﹣ small hyphen-minus
        "\uff0d": "-",  # － fullwidth hyphen-minus
        "\ufe62": "+",  # ﹢ small plus sign
        "\uff0b": "+",  # ＋ fullwidth plus sign
        "\uff0e": ".",  # ． fullwidth full stop
        "\uff0c": ",",  # ， fullwidth comma
        "\uff1b": ";",  # ； fullwidth semicolon
        "\uff5c": "|",  # ｜ fullwidth vertical line
        "\uff45": "e",  # ｅ
        "\uff25": "E",  # Ｅ
        "\u221e": "inf",  # ∞, as rnnloss prints it
        **{chr(0xFF10 + digit): str(digit) for digit in range(10)},  # ０ to ９
    }
)
# Dashes that word processors put for a minus: refused, not read, since a dash is also a
# range (`1–3`) or a break in a sentence, and the message says what to write.
DASHES = {
    "\u2010": "a hyphen",
    "\u2011": "a non-breaking hyphen",
    "\u2012": "a figure dash",
    "\u2013": "an en dash",
    "\u2014": "an em dash",
    "\u2015": "a horizontal bar",
}


def check_name(text: str, key: str, what: str) -> str:
    """Return a class name or symbol that is not over MAX_NAME characters."""
    if len(text) > MAX_NAME:
        raise ProblemError(
            f"a {what} of {len(text):,} characters is over the limit of {MAX_NAME}", key=key
        )
    return text


def shown(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return quoted(value)
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, bytes):
        return "binary data"
    if isinstance(value, int | float):
        return repr(value)
    return f"{printable(str(value))} (a {type(value).__name__})"


def did_you_mean(word: str, choices: list[str] | tuple[str, ...]) -> str:
    import difflib  # only when a suggestion is needed: it costs start-up time

    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {quoted(close[0])}?)" if close else ""


def parse_number(
    value: Any, key: str, *, allow_inf: bool = False, allow_neg_inf: bool = False
) -> float:
    """Return `value` as a float: an int, a float or a numeric string, never a bool or NaN."""
    if isinstance(value, bool) or value is None or isinstance(value, list | dict):
        raise ProblemError(f"expected a number, got {shown(value)}", key=key)
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
            # Only text that is not plain ASCII pays for this: `−1`, `１．５`, `∞`.
            text = text.translate(TYPED_FORMS)
            try:
                number = float(text)
            except ValueError:
                raise ProblemError(not_a_number(value, text), key=key) from None
    else:
        raise ProblemError(f"expected a number, got {shown(value)}", key=key)
    if math.isnan(number):
        raise ProblemError("NaN is not a number this tool accepts", key=key)
    if math.isinf(number) and not (allow_inf or (allow_neg_inf and number < 0)):
        raise ProblemError(f"{'−' if number < 0 else ''}infinity is not allowed here", key=key)
    return number


def not_a_number(value: str, text: str, *, listed: bool = False) -> str:
    """Return why `value` (`text` once its typed forms are ASCII) is not a number, and what
    to write instead where the slip is a known one; `listed` when a list was expected."""
    import re

    for dash, name in DASHES.items():
        if dash in text:
            return (
                f"{quoted(value)} is not a number: {quoted(dash)} (U+{ord(dash):04X}, {name}) "
                "is not a minus sign; write − or -"
            )
    if re.fullmatch(r"[+-]?\d+,\d+", text):
        return (
            f"{quoted(value)} is not a number: write a decimal point ({text.replace(',', '.')}); "
            "a comma separates the values of a list"
        )
    words = text.split()  # any whitespace, the non-breaking space included
    if len(words) > 1 and all(_is_number(word) for word in words):
        # `1 2 3` for a list, or `1 000` grouping one number's digits: both are told.
        also = "" if listed else "; a number is written without spaces"
        return (
            f"{quoted(value)} has spaces between numbers: separate a list's values with commas "
            f"({','.join(words)}){also}"
        )
    if any(bracket in text for bracket in "[]()"):
        return (
            f"{quoted(value)} is not a number: write a list without brackets (1,-1,1; rows "
            "split by ;)"
        )
    return f"{quoted(value)} is not a number"


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


FULLWIDTH_SEPARATORS = {",": "\uff0c", ";": "\uff1b", "|": "\uff5c"}  # ， ； ｜


def split_list(text: str, sep: str, key: str) -> list[str]:
    """Return the stripped parts of `text` between `sep` (or its fullwidth form), none empty."""
    fullwidth = FULLWIDTH_SEPARATORS.get(sep)
    if fullwidth is not None and fullwidth in text:
        text = text.replace(fullwidth, sep)
    parts = [part.strip() for part in text.split(sep)]
    for i, part in enumerate(parts):
        if not part:
            if len(parts) > 1 and i == len(parts) - 1:
                problem = (
                    f"ends with {quoted(sep)}: give the value after it, or drop the {quoted(sep)}"
                )
            elif len(parts) > 1 and i == 0:
                problem = (
                    f"starts with {quoted(sep)}: give the value before it, or drop the "
                    f"{quoted(sep)}"
                )
            else:
                problem = f"has an empty value at position {i}, between two {quoted(sep)}"
            raise ProblemError(f"{quoted(text)} {problem}", key=key)
    return parts


def parse_array(
    value: Any,
    key: str,
    *,
    ndims: tuple[int, ...] = (1, 2),
    allow_neg_inf: bool = False,
    allow_inf: bool = False,
) -> np.ndarray:
    """Return a 1-D or 2-D float64 array from a list, a list of rows, or `"1,2;3,4"` text.

    Infinities are refused unless `allow_neg_inf` (−∞: a log-probability of 0, a masked
    logit) or `allow_inf` (either sign) says otherwise.
    """
    allowed = {"allow_neg_inf": allow_neg_inf, "allow_inf": allow_inf}
    rows: Any = value
    if isinstance(value, str):
        text = value.strip().translate(TYPED_FORMS)  # `−1,１` and `1;２` split as ASCII
        if not text:
            raise ProblemError("is empty: give at least one number", key=key)
        if not any(sep in text for sep in ",;") and len(text.split()) > 1:
            raise ProblemError(not_a_number(value, text, listed=True), key=key)  # `1 2 3`
        rows = (
            [split_list(r, ",", key) for r in split_list(text, ";", key)]
            if ";" in text
            else split_list(text, ",", key)
        )
    elif isinstance(value, int | float) and not isinstance(value, bool):
        rows = [value]
    elif not isinstance(value, list):
        raise ProblemError(f"expected a list of numbers, got {shown(value)}", key=key)
    if not rows:
        raise ProblemError("is empty: give at least one number", key=key)
    fast = _plain_array(rows, ndims, allow_neg_inf, allow_inf) if rows is value else None
    if fast is not None:
        return fast

    nested = [isinstance(r, list) or (isinstance(r, str) and "," in r) for r in rows]
    if any(nested):
        if 2 not in ndims:
            first = nested.index(True)
            raise ProblemError("expected a number, got a list", key=f"{key}[{first}]")
        out_rows = []
        for i, row in enumerate(rows):
            row_key = f"{key}[{i}]"
            if isinstance(row, str):
                row = split_list(row, ",", row_key)
            elif not isinstance(row, list):
                raise ProblemError(
                    f"expected a row (a list of numbers), got {shown(row)}: "
                    "a matrix has a list in every row",
                    key=row_key,
                )
            if not row:
                raise ProblemError("is an empty row", key=row_key)
            out_rows.append(
                [
                    parse_number(v, f"{row_key}[{j}]", **allowed)
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
        [parse_number(v, f"{key}[{i}]", **allowed) for i, v in enumerate(rows)],
        dtype=np.float64,
    )


_PLAIN_NUMBERS = frozenset({int, float})


def _plain_array(
    rows: list, ndims: tuple[int, ...], allow_neg_inf: bool, allow_inf: bool = False
) -> np.ndarray | None:
    """numpy's own conversion of the usual input, a list (or a rectangular list of lists)
    of plain ints and floats, all finite; None for anything else, which the value-by-value
    path then reads or names the exact position of the fault in.

    A matrix row given many times by a YAML alias is checked once.
    """
    if set(map(type, rows)) <= _PLAIN_NUMBERS:
        if 1 not in ndims:
            return None
    elif 2 in ndims and all(type(row) is list for row in rows):
        checked: set[int] = set()
        for row in rows:
            if id(row) not in checked:
                if not row or not set(map(type, row)) <= _PLAIN_NUMBERS:
                    return None
                checked.add(id(row))
        if len(set(map(len, rows))) != 1:
            return None
    else:
        return None
    try:
        array = np.array(rows, dtype=np.float64)
    except (OverflowError, ValueError, TypeError):
        return None
    finite = np.isfinite(array)
    if not finite.all():
        odd = array[~finite]
        if np.isnan(odd).any() or not (allow_inf or (allow_neg_inf and (odd < 0).all())):
            return None
    return array


def _too_deep(key: str) -> float:
    raise ProblemError("expected a number, got a list (nested too deeply)", key=key)


def positions(mask: np.ndarray) -> list[tuple[int, ...]]:
    return [tuple(int(i) for i in p) for p in zip(*np.nonzero(mask), strict=True)]


def key_at(key: str, position: tuple[int, ...]) -> str:
    return key + "".join(f"[{i}]" for i in position)


def check_range(array: np.ndarray, key: str, what: str, low: float, high: float) -> None:
    bad = (array < low) | (array > high)
    if bad.any():
        position = positions(bad)[0]
        raise ProblemError(
            f"{what} {fmt(array[position])} is outside [{fmt(low)}, {fmt(high)}]",
            key=key_at(key, position),
        )


def fmt(x: float) -> str:
    """Return a number for a message: up to 10 digits, written as the working writes it."""
    return num(x, 10)


def tolerance_from_text(text: str | None, expected: float) -> float:
    """Return half a unit in the last decimal place of `expected` as written (`0.50` → 0.005)."""
    from decimal import Decimal, InvalidOperation

    if math.isinf(expected):
        return 0.0
    if text is not None:
        try:
            written = text.strip().replace("_", "").translate(TYPED_FORMS)  # `−0.50`
            exponent = Decimal(written).as_tuple().exponent
        except InvalidOperation:
            exponent = None
        if isinstance(exponent, int):
            try:
                return 0.5 * 10.0**exponent
            except OverflowError:  # `0e999999`: a precision beyond every float
                return math.inf
    # Not written as a decimal numeral (`0x1`, say): a whole number is exact to units.
    if expected.is_integer():
        return 0.5
    return 0.5 * 10.0 ** Decimal(repr(expected)).as_tuple().exponent


class Reader:
    """Reads the keys of one raw problem with the parsers above. `source` is the file it
    came from, `depth` how deep it sits in custom losses (0: a problem of its own)."""

    def __init__(self, data: Mapping[str, Any], *, source: str | None = None, depth: int = 0):
        self.data = data
        self.source = source
        self.depth = depth

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
        raise ProblemError(f"expected true or false, got {shown(value)}", key=key)

    def choice(self, key: str, choices: tuple[str, ...], default: str) -> str:
        if not self.has(key):
            return default
        value = self.data[key]
        text = (
            fmt(value) if isinstance(value, int | float) and not isinstance(value, bool) else value
        )
        if isinstance(text, str) and text.strip().lower() in choices:
            return text.strip().lower()
        hint = did_you_mean(str(text).lower(), choices) if isinstance(text, str) else ""
        raise ProblemError(
            f"must be one of {', '.join(choices)}, got {shown(value)}{hint}", key=key
        )

    def require(self, loss: str, *keys: str) -> None:
        for key in keys:
            if not self.has(key):
                raise ProblemError(f"missing: `{loss}` needs {' and '.join(keys)}", key=key)

    def forbid(self, reasons: dict[str, str]) -> None:
        """Reject each given key that does not belong here, with the reason why."""
        for key, reason in reasons.items():
            if self.has(key):
                raise ProblemError(reason, key=key)

    def bounded_list(self, key: str, what: str, cap: int) -> list[Any]:
        """Return the key's non-empty list (a lone string counts as one item), at most `cap`."""
        value = self.data[key]
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not value:
            raise ProblemError(f"expected a list of {what}", key=key)
        if len(value) > cap:
            raise ProblemError(f"{len(value)} {what} is over the limit of {cap}", key=key)
        return value

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


def shape_words(x: np.ndarray) -> str:
    """Return an array's shape as messages say it: `3 values`, `2 × 3`."""
    if x.ndim == 1:
        return count(x.shape[0], "value")
    return " × ".join(str(n) for n in x.shape)


def same_shape(a: np.ndarray, a_key: str, b: np.ndarray, b_key: str) -> None:
    if a.shape != b.shape:
        raise ProblemError(
            f"shapes disagree: {a_key} has {shape_words(a)} but {b_key} has {shape_words(b)}",
            key=b_key,
        )


def row_sum_warnings(p: np.ndarray, key: str, what: str = "probabilities") -> list[str]:
    """Return a warning for each row (of each sequence, for 3-D) that does not sum to 1:
    the first WARNINGS_NAMED of them, then how many more."""
    sums = np.atleast_1d(p.sum(axis=-1))

    def warning(found: np.ndarray) -> str:
        position = tuple(int(i) for i in found)
        where = key_at(key, position) if p.ndim > 1 else key
        total = fmt(round(float(sums[position]), 10))
        return f"{where}: the {what} sum to {total}, not 1; the loss uses them as given"

    off = np.argwhere(np.abs(sums - 1.0) > ROW_SUM_TOLERANCE)
    return name_first(off, warning, f"rows of {key} not summing to 1")


def check_prediction(values: np.ndarray, key: str, *, rows: bool = True) -> list[str]:
    """Check predictions by their key and return the warnings for rows not summing to 1.

    Probabilities (`yhat`, `probs`) lie in [0, 1]; log-probabilities are at most 0; logits
    may be anything. With `rows`, each row is a distribution and should sum to 1.
    """
    if key in ("yhat", "probs"):
        check_range(values, key, "probability", 0.0, 1.0)
        return row_sum_warnings(values, key) if rows else []
    if key == "log_probs":
        check_range(values, key, "log-probability", -math.inf, 1e-9)
        if rows:
            return row_sum_warnings(np.exp(values), key, "probabilities exp(log_probs)")
    if key == "logits":
        check_logits(values, key)
    return []


# Keys whose values may hold infinities: −∞ a log-probability of 0 or a masked logit
# (softmax gives it probability 0, as PyTorch and optax do); bce's logits also +∞ (σ = 1).
def infinities(key: str) -> dict[str, bool]:
    """Return the parse_array options for the infinities `key` may hold."""
    if key == "logits":
        return {"allow_inf": True}  # +∞ is then refused with a reason (check_logits)
    return {"allow_neg_inf": key == "log_probs"}


def check_logits(values: np.ndarray, key: str) -> None:
    """Refuse the logits that softmax cannot take: +∞ (its shift by the row's maximum is
    ∞ − ∞), and a row (or, 1-D, the one row) that is −∞ everywhere. A −∞ among finite
    logits masks its class."""
    positive = np.isposinf(values)
    if positive.any():
        raise ProblemError(
            "+∞ is not a logit softmax can take (∞ − ∞ is undefined): mask a class with −∞, "
            "or give a large finite logit",
            key=key_at(key, positions(positive)[0]),
        )
    dead = np.isneginf(values).all(axis=-1)
    if dead.any():
        where = key_at(key, positions(np.atleast_1d(dead))[0]) if values.ndim > 1 else key
        raise ProblemError(
            "is −∞ everywhere: softmax is undefined (−∞ masks a class; leave one finite)",
            key=where,
        )


def check_unique(names: list[str], key: str) -> None:
    """Reject a name listed twice in `key` (class names, an alphabet's symbols)."""
    seen: dict[str, int] = {}
    for i, name in enumerate(names):
        if name in seen:
            raise ProblemError(
                f"{quoted(name)} is listed twice (also at [{seen[name]}])", key=f"{key}[{i}]"
            )
        seen[name] = i


def parse_array3(
    value: Any, key: str, *, allow_neg_inf: bool = False, allow_inf: bool = False
) -> np.ndarray:
    """Return a 2-D or 3-D array: a matrix, or a list of matrices (inline, split by `|`)."""
    if isinstance(value, str):
        value = value.translate(TYPED_FORMS)  # a fullwidth ｜ separates as | does
    forced = isinstance(value, str) and "|" in value  # inline, | always separates sequences
    if forced:
        value = split_list(value, "|", key)
    is_batch = forced or (
        isinstance(value, list)
        and any(
            (isinstance(item, list) and any(isinstance(row, list) for row in item))
            or (isinstance(item, str) and ";" in item)
            for item in value
        )
    )
    if not is_batch:
        return parse_array(value, key, ndims=(2,), allow_neg_inf=allow_neg_inf, allow_inf=allow_inf)
    matrices = [
        np.atleast_2d(
            parse_array(
                item,
                f"{key}[{b}]",
                ndims=(1, 2) if forced else (2,),
                allow_neg_inf=allow_neg_inf,
                allow_inf=allow_inf,
            )
        )
        for b, item in enumerate(value)
    ]
    for b, matrix in enumerate(matrices):
        if matrix.shape != matrices[0].shape:
            raise ProblemError(
                f"sequence {b} is {matrix.shape[0]} × {matrix.shape[1]} but sequence 0 is "
                f"{matrices[0].shape[0]} × {matrices[0].shape[1]}: pad every sequence to one "
                "length (and mark the padding with ignore_index)",
                key=key,
            )
    return np.stack(matrices)
