"""What the gradient sections of the elementwise losses share: the divisor a gradient is
divided by (the mean's n, the log base's ln b) written into a formula and into a row."""

from __future__ import annotations

from rnnloss_cli.render.numbers import num
from rnnloss_cli.workings.common import Formula

LATEX_LN = {"2": r"\ln 2", "10": r"\ln 10"}


def _factors(scale: float, log_base: str | None, symbols: bool) -> list[str]:
    out = []
    if scale != 1:
        out.append("n" if symbols else num(scale))
    if log_base not in (None, "e"):
        out.append(f"ln {log_base}")
    return out


def over(scale: float, log_base: str | None = None) -> str:
    """Return what a row's working divides by: `/4`, `/ln 2`, `/(4·ln 2)`, or nothing."""
    factors = _factors(scale, log_base, symbols=False)
    if not factors:
        return ""
    return f"/{factors[0]}" if len(factors) == 1 else f"/({'·'.join(factors)})"


def reduction_words(reduction: str, scale: float, log_base: str | None = None) -> str:
    """Return what the divisor is, in words: `the mean's n = 4; log base 2`."""
    if reduction == "mean":
        words = f"the mean's n = {num(scale)}"
    elif reduction == "none":
        words = "reduction none: the gradient of the sum of the terms"
    else:
        words = f"the {reduction}" if scale == 1 else f"{reduction}: n = {num(scale)}"
    if log_base not in (None, "e"):
        words += f"; log base {log_base}, so divided by ln {log_base}"
    return words


def _top_level_minus(text: str) -> bool:
    """Return whether `text` has a subtraction outside brackets (dividing it needs them)."""
    depth = 0
    for i, ch in enumerate(text):
        depth += ch in "(["
        depth -= ch in ")]"
        if depth == 0 and text.startswith(" − ", i):
            return True
    return False


def gradient_formula(
    wrt: tuple[str, str],
    body: tuple[str, str],
    reduction: str,
    scale: float,
    log_base: str | None = None,
) -> Formula:
    """Return the gradient's formula line: ∂L/∂wrt = body/(n·ln b) and its divisor in
    words; `wrt` and `body` as (text, LaTeX math)."""
    factors = _factors(scale, log_base, symbols=True)
    if factors and _top_level_minus(body[0]):
        body = (f"({body[0]})", body[1])
    words = reduction_words(reduction, scale, log_base)
    text = body[0]
    if factors:
        text += f"/{factors[0]}" if len(factors) == 1 else f"/({'·'.join(factors)})"
    denominator = " ".join(
        LATEX_LN.get(log_base or "e", "") if f.startswith("ln") else f for f in factors
    )
    math = f"\\frac{{{body[1]}}}{{{denominator}}}" if factors else body[1]
    return Formula(
        f"∂L/∂{wrt[0]} = {text}   ({words})",
        f"\\frac{{\\partial L}}{{\\partial {wrt[1]}}} = {math}\\quad\\text{{({words})}}",
    )
