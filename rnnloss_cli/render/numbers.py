"""How numbers are written in the working: short, exact where exact, with real minus signs."""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Sequence
from typing import Any

from rnnloss_cli.core.text import MINUS, num  # in core: warnings are written with it too
from rnnloss_cli.errors import printable

LOG_NAMES = {"e": "ln", "2": "log₂", "10": "log₁₀"}


def operand(x: Any, digits: int = 6) -> str:
    """Return `x` for a formula whose result depends on its distance from a whole number —
    ŷ in ln(1 − ŷ) or ln ŷ, a clipping bound 1 − ε: never written as the whole number it
    is not. 1 − 1e−7 is 0.9999999, not 1 (which would make ln(1 − 1) look infinite next to
    a finite term); as many digits as it takes, up to float64's 17."""
    text = num(x, digits)
    x = float(x)
    while _whole(text) and not x.is_integer() and math.isfinite(x) and digits < 17:
        digits += 1
        text = num(x, digits)
    return text


def probability(
    p: float, log_p: float | None = None, half: float | None = None, digits: int = 6
) -> str:
    """Return a probability whose logarithm the working takes: as `operand` writes it, but
    where it underflows float64 to 0 while its logarithm `log_p` (natural) is finite, as
    e^(that logarithm) — `e^(−800)`, `e^(−1e+308)` — never `0`, which would make the
    finite log beside it look like log 0; where even the logarithm is beyond float64,
    twice its `half`, `e^(2·(−1e+308))`."""
    if p == 0:
        if half is not None and math.isfinite(half):
            return f"e^(2·{paren(half)})"
        if log_p is not None and math.isfinite(log_p):
            return f"e^({num(log_p)})"
    return operand(p, digits)


def beyond(exact: Any) -> str:
    """Return an exact value, and what float64 holds after it where it cannot hold the
    value: `2e+308 (float64: ∞)`."""
    text = num(exact)
    if abs(exact) <= sys.float_info.max:
        return text
    return f"{text} (float64: {num(math.inf if exact > 0 else -math.inf)})"


def _whole(text: str) -> bool:
    return text.lstrip(MINUS).isdigit()


def decimal(x: float) -> str:
    """Return a tolerance as a plain decimal (0.00005, not 5e−05) where that stays short."""
    if x == 0 or not 1e-9 <= abs(x) < 1e15:
        return num(x, 3)
    return f"{x:.10f}".rstrip("0").rstrip(".")


def paren(x: Any, digits: int = 6) -> str:
    """Return `x` written for substitution into a formula: negatives in parentheses."""
    text = num(x, digits)
    return f"({text})" if text.startswith(MINUS) else text


def log_of(
    p: float, log: str, divisor: float, log_p: float | None = None, half: float | None = None
) -> str:
    """Return a logarithm for the working: `ln(0.25)`; where ŷ underflows to 0 but its
    logarithm `log_p` (natural) is finite, that value, `(−800)`; where even the logarithm
    is beyond float64 (−2e308), twice its `half`, `2·(−1e+308)`."""
    if half is not None:
        return f"2·{paren(float(half) / divisor)}"  # (Python floats: ∞, not a warning)
    if p == 0 and log_p is not None and math.isfinite(log_p):
        return f"({num(float(log_p) / divisor)})"
    return f"{log}({operand(p)})"


def elide(values: Sequence[Any], limit: int, head: int, tail: int) -> list[Any]:
    """Return the items of `values` shown: all, or, when there are more than `limit`, the
    first `head` and the last `tail` around None (the middle left out). Rows, columns and
    list items are chosen this way before any of them is formatted."""
    if len(values) <= limit:
        return list(values)
    return [*values[:head], None, *values[len(values) - tail :]]


def vector(values: Sequence[Any], limit: int = 10, logs: Sequence[Any] | None = None) -> str:
    """Return `[a, b, …, z]`, eliding the middle of long lists. Each value is written as
    `operand` writes it (0.99999999 is never `1`: a log may depend on the difference);
    with `logs`, the values' natural logarithms, as `probability` writes it (an underflow
    to 0 whose logarithm is finite as `e^(−800)`)."""
    shown = elide(range(len(values)), limit, limit - 3, 2)

    def item(i: int) -> str:
        if logs is None:
            return operand(values[i])
        return probability(float(values[i]), float(logs[i]))

    return "[" + ", ".join("…" if i is None else item(i) for i in shown) + "]"


def listing(values: Sequence[str], limit: int = 20) -> str:
    """Return `[cat, dog, …, eel]`: names (classes, tokens), the middle of long lists elided."""
    shown = elide(values, limit, limit - 3, 2)
    return "[" + ", ".join("…" if v is None else v for v in shown) + "]"


def sum_expression(values: Sequence[Any], limit: int = 8) -> str:
    """Return `a + b + c` for the working's sum line, eliding the middle of long sums."""
    return " + ".join("…" if v is None else paren(v) for v in elide(values, limit, 3, 2))


class LazyRows(Sequence[list[str]]):
    """The rows of a term table, each built when it is first read: a table shows a dozen
    rows of what may be millions of terms."""

    def __init__(self, count: int, build: Callable[[int], list[str]]) -> None:
        self.count = count
        self.build = build

    def __len__(self) -> int:
        return self.count

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [self.build(i) for i in range(*index.indices(self.count))]
        if index < 0:
            index += self.count
        if not 0 <= index < self.count:
            raise IndexError(index)
        return self.build(index)


def class_names(display: dict[str, Any]) -> list[str] | None:
    """Return the class names as the working shows them (user text: `printable`), or None."""
    classes = display.get("classes")
    return None if classes is None else [printable(name) for name in classes]


def log_name(log_base: str | None) -> str:
    return LOG_NAMES.get(log_base or "e", "ln")


def trellis_cell(value: float) -> str:
    """Return a trellis cell: 3 significant digits, a short exponent (6.4e−5)."""
    return short(num(value, 3))


def beyond_cell(value: float, log_value: float) -> str | None:
    """Return a trellis cell that float64 cannot hold — 0 or ∞ although its natural
    logarithm is finite — as e^(that logarithm), `e^−1380.5`; None for any other cell."""
    if (value == 0.0 or math.isinf(value)) and math.isfinite(log_value):
        return f"e^{short(num(log_value, 5))}"
    return None


def input_cell(value: float) -> str:
    """Return a cell of the input matrix: as `_cell`, but never a whole number it is not
    (a probability of 0.9999999 is not `1`: its log is taken)."""
    return short(operand(value, 3))


def short(text: str) -> str:
    """Return a number with a short exponent: 6.4e−05 as 6.4e−5."""
    if "e" in text:
        mantissa, exponent = text.split("e")
        sign = exponent[0]
        text = f"{mantissa}e{sign if sign == '−' else ''}{exponent[1:].lstrip('0')}"
    return text
