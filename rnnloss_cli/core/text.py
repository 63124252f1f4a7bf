"""How numbers are written wherever rnnloss shows one: the working, the answer, warnings.

One formatter for all of them, so that a warning never writes `-15.2623` where the working
beside it writes `−15.2623`.
"""

from __future__ import annotations

import math
from decimal import Context, Decimal
from fractions import Fraction
from typing import Any

MINUS = "−"


def num(x: Any, digits: int = 6) -> str:
    """Return `x` with up to `digits` significant digits: 0.2, 0.466667, 1.88e−04, ∞; an
    exact Fraction beyond float64 as what it is, 1e+616."""
    if isinstance(x, Fraction):
        try:
            x = float(x)
        except OverflowError:
            quotient = Context(prec=digits).divide(Decimal(x.numerator), Decimal(x.denominator))
            mantissa, exponent = f"{quotient:.{max(digits - 1, 0)}e}".split("e")
            if "." in mantissa:
                mantissa = mantissa.rstrip("0").rstrip(".")
            return f"{mantissa}e{int(exponent):+03d}".replace("-", MINUS)
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


def count(n: int, noun: str, plural: str | None = None) -> str:
    """Return `1 row`, `2 rows`, `10,000 rows` (`plural` where it is not noun + s: classes)."""
    return f"{n:,} {noun if n == 1 else plural or noun + 's'}"
