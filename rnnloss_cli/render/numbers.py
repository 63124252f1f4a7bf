"""How numbers are written in the working: short, exact where exact, with real minus signs."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

MINUS = "−"
LOG_NAMES = {"e": "ln", "2": "log₂", "10": "log₁₀"}


def num(x: Any, digits: int = 6) -> str:
    """Return `x` with up to `digits` significant digits: 0.2, 0.466667, 1.88e−04, ∞."""
    x = float(x)
    if math.isinf(x):
        return "∞" if x > 0 else f"{MINUS}∞"
    if x == 0:
        return "0"
    if x.is_integer() and abs(x) < 1e15:
        text = str(int(x))
    else:
        text = f"{x:.{digits}g}"
        if "e" in text:
            mantissa, exponent = text.split("e")
            text = f"{mantissa}e{int(exponent):+03d}"
    return text.replace("-", MINUS)


def decimal(x: float) -> str:
    """Return a tolerance as a plain decimal (0.00005, not 5e−05) where that stays short."""
    if x == 0 or not 1e-9 <= abs(x) < 1e15:
        return num(x, 3)
    return f"{x:.10f}".rstrip("0").rstrip(".")


def paren(x: Any, digits: int = 6) -> str:
    """Return `x` written for substitution into a formula: negatives in parentheses."""
    text = num(x, digits)
    return f"({text})" if text.startswith(MINUS) else text


def vector(values: Sequence[Any], limit: int = 10) -> str:
    """Return `[a, b, …, z]`, eliding the middle of long lists."""
    items = [num(v) for v in values]
    if len(items) > limit:
        head = limit - 3
        items = [*items[:head], "…", *items[-2:]]
    return "[" + ", ".join(items) + "]"


def sum_expression(values: Sequence[Any], limit: int = 8) -> str:
    """Return `a + b + c` for the working's sum line, eliding the middle of long sums."""
    items = [paren(v) for v in values]
    if len(items) > limit:
        items = [*items[:3], "…", *items[-2:]]
    return " + ".join(items)


def log_name(log_base: str | None) -> str:
    return LOG_NAMES.get(log_base or "e", "ln")
