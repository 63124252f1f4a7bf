"""The workings of the losses with one term per element or observation: MSE, BCE, NLL,
CCE and hinge (binary, per time step, and multi-class)."""

from __future__ import annotations

import numpy as np

from rnnloss_cli.core.result import log_divisor
from rnnloss_cli.document import Document
from rnnloss_cli.render.numbers import (
    LazyRows,
    class_names,
    elide,
    log_name,
    log_of,
    num,
    operand,
    paren,
    probability,
)
from rnnloss_cli.solver import Solution
from rnnloss_cli.workings.common import (
    Formula,
    Layout,
    Rows,
    clip_formula,
    clipped,
    document,
    latex_log,
    latex_number,
    position,
    position_label,
)

FRAC_N = r"\frac{1}{n} "  # the mean's 1/n, in LaTeX

# --- one function a loss: formula lines, term table columns, one row of cells per term ---


def _multiclass_hinge_rows(solution: Solution) -> Rows:
    d, display = solution.result.details, solution.problem.display
    classes = class_names(display)
    m = num(d["margin"])
    power = "²" if d["squared"] else ""
    mean = "(1/n) " if solution.result.reduction == "mean" else ""
    tex_mean = FRAC_N if mean else ""
    tex_power = "^2" if d["squared"] else ""
    tex_m = latex_number(m)

    def name(c: int) -> str:
        return classes[c] if classes else str(c)

    if d["multiclass"] == "crammer-singer":
        formula = [
            Formula(
                f"L = {mean}Σᵢ max(0, {m} − s[yᵢ] + max_(j≠yᵢ) s[j]){power}",
                f"L = {tex_mean}\\sum_i \\max\\bigl(0,\\ {tex_m} - s_{{y_i}} "
                f"+ \\max_{{j \\ne y_i}} s_j\\bigr){tex_power}",
            ),
            "(Crammer–Singer, as scikit-learn's hinge_loss): only the strongest competing",
            "class counts",
        ]
        headers = ["i", "target", "rival", "working", "term"]
    else:
        formula = [
            Formula(
                f"L = {mean}Σᵢ (1/C) Σ_(j≠yᵢ) max(0, {m} − s[yᵢ] + s[j]){power}",
                f"L = {tex_mean}\\sum_i \\frac{{1}}{{C}} \\sum_{{j \\ne y_i}} "
                f"\\max(0,\\ {tex_m} - s_{{y_i}} + s_j){tex_power}",
            ),
            "(Weston–Watkins, as PyTorch's multi_margin_loss, which also divides by the C",
            "classes)",
        ]
        headers = ["i", "target", "worst rival", "working", "term"]

    def row(i: int) -> list[str]:
        t = int(d["target"][i])
        s_y = paren(d["true_score"][i])
        rival = int(d["rival"][i])
        if d["multiclass"] == "crammer-singer":
            work = f"max(0, {m} − {s_y} + {paren(d['scores'][i, rival])}){power}"
        else:
            rivals: list[int | None] = [j for j in range(d["scores"].shape[1]) if j != t]
            if len(rivals) > 4:
                rivals = elide(rivals, 4, 2, 1)
            parts = [
                "…" if j is None else f"max(0, {m} − {s_y} + {paren(d['scores'][i, j])}){power}"
                for j in rivals
            ]
            work = "(" + "\n + ".join(parts) + f") / {d['scores'].shape[1]}"
        return [str(i + 1), name(t), name(rival), work, num(solution.result.terms[i])]

    return formula, headers, LazyRows(len(d["target"]), row)


def _hinge_rows(solution: Solution) -> Rows:
    d = solution.result.details
    if "scores" in d:
        return _multiclass_hinge_rows(solution)
    m = num(d["margin"])
    power = "²" if d["squared"] else ""
    mean = solution.result.reduction == "mean"
    tex_mean = FRAC_N if mean else ""
    formula = [
        Formula(
            f"L = {'(1/n) ' if mean else ''}Σᵢ max(0, {m} − yᵢ·ŷᵢ){power}",
            f"L = {tex_mean}\\sum_i "
            f"\\max(0,\\ {latex_number(m)} - y_i \\hat{{y}}_i){'^2' if d['squared'] else ''}",
        ),
        "The lecture's formula is the sum Σₜ max(0, 1 − yₜ·ŷₜ), but its worked",
        "example averages; both the sum and the mean are shown below.",
    ]
    headers = ["i", "y", "ŷ", f"max(0, {m} − y·ŷ){power}", "term"]

    def row(k: int) -> list[str]:
        pos = position(d["y"].shape, k)
        y, yhat, raw = d["y"][pos], d["yhat"][pos], d["raw"][pos]
        product = f"({num(y)})({num(yhat)})"
        work = f"max(0, {m} − {product}) = max(0, {num(raw)})"
        if d["squared"]:
            work = f"max(0, {m} − {product})² = {paren(max(raw, 0.0))}²"
        return [position_label(pos), num(y), num(yhat), work, num(solution.result.terms[pos])]

    return formula, headers, LazyRows(d["y"].size, row)


def _mse_rows(solution: Solution) -> Rows:
    d = solution.result.details
    mean = solution.result.reduction == "mean"
    tex_mean = FRAC_N if mean else ""
    formula = [
        Formula(
            f"MSE = {'(1/n) ' if mean else ''}Σᵢ (yᵢ − ŷᵢ)²",
            f"\\mathrm{{MSE}} = {tex_mean}\\sum_i (y_i - \\hat{{y}}_i)^2",
        )
    ]
    headers = ["i", "y", "ŷ", "(y − ŷ)²", "term"]

    def row(k: int) -> list[str]:
        pos = position(d["y"].shape, k)
        y, yhat, diff = d["y"][pos], d["yhat"][pos], d["diff"][pos]
        work = f"({num(y)} − {paren(yhat)})² = {paren(diff)}²"
        return [position_label(pos), num(y), num(yhat), work, num(solution.result.terms[pos])]

    return formula, headers, LazyRows(d["y"].size, row)


def _bce_rows(solution: Solution) -> Rows:
    d, result = solution.result.details, solution.result
    log = log_name(result.log_base)
    mean = result.reduction == "mean"
    tex_mean = FRAC_N if mean else ""
    tex_log = latex_log(result.log_base)
    formula = [
        Formula(
            f"BCE = −{'(1/n) ' if mean else ''}Σᵢ [yᵢ·{log} ŷᵢ + (1 − yᵢ)·{log}(1 − ŷᵢ)]"
            "   (0·log 0 = 0)",
            f"\\mathrm{{BCE}} = -{tex_mean}\\sum_i \\bigl[y_i {tex_log} "
            f"\\hat{{y}}_i + (1 - y_i) {tex_log}(1 - \\hat{{y}}_i)\\bigr]"
            r"\qquad (0 \cdot \log 0 = 0)",
        )
    ]
    if "logits" in d:
        formula.append(
            Formula(
                "ŷ = σ(logit) = 1 / (1 + e^(−logit)), the logs taken from the logits "
                "directly so nothing rounds to log 0",
                r"\hat{y} = \sigma(z) = \frac{1}{1 + e^{-z}}"
                r"\text{, the logs taken from the logits directly so nothing rounds to }"
                r"\log 0",
            )
        )
    clip = solution.problem.inputs.get("clip")
    if clip is not None:
        formula.append(clip_formula(clip))
    headers = ["i", "y", "ŷ", "working", "term"]

    def row(k: int) -> list[str]:
        pos = position(d["y"].shape, k)
        y, p = float(d["y"][pos]), float(d["p"][pos])
        # With logits the probability is written σ(x): a rounded σ(40) = 1 would make
        # log(1 − 1) look infinite where the loss, taken from the logit, is finite.
        if "logits" in d:
            p_text = f"σ({num(d['logits'][pos])})"
            shown_p = f"{p_text} = {operand(p)}"
        else:
            p_text = operand(p)  # the clipped value the log is taken of
            shown_p = clipped(float(d["yhat"][pos]), clip)
        if y == 1:
            work = f"−{log} {p_text}" if "logits" in d else f"−{log}({p_text})"
        elif y == 0:
            work = f"−{log}(1 − {p_text})"
        else:
            first = f"{log} {p_text}" if "logits" in d else f"{log}({p_text})"
            work = f"−[{num(y)}·{first} + {num(1 - y)}·{log}(1 − {p_text})]"
        return [position_label(pos), num(y), shown_p, work, num(result.terms[pos])]

    return formula, headers, LazyRows(d["y"].size, row)


def _cross_entropy_rows(solution: Solution) -> Rows:
    d, result, display = solution.result.details, solution.result, solution.problem.display
    log = log_name(result.log_base)
    mean = result.reduction == "mean"
    name = "NLL" if result.loss == "nll" else "CCE"
    tex_mean = FRAC_N if mean else ""
    formula = [
        Formula(
            f"{name} = −{'(1/n) ' if mean else ''}Σᵢ Σ_c yᵢ,c·{log} ŷᵢ,c",
            f"\\mathrm{{{name}}} = -{tex_mean}\\sum_i \\sum_c y_{{i,c}} "
            f"{latex_log(result.log_base)} \\hat{{y}}_{{i,c}}",
        ),
        f"(one-hot y: a single term, −{log} ŷ[target])",
    ]
    if "logits" in d:
        formula.append("ŷ = softmax(logits), computed as log-softmax (no overflow)")
    clip = solution.problem.inputs.get("clip")
    if clip is not None:
        formula.append(clip_formula(clip))
    weights = d.get("y_smoothed", d["y"])
    classes = class_names(display)
    one_hot = "target" in display and "y_smoothed" not in d
    headers = (
        ["i", "target", "ŷ[target]", "working", "term"] if one_hot else ["i", "working", "term"]
    )

    divisor = log_divisor(result.log_base or "e")

    def logs(i: int, c: int) -> tuple[float | None, float | None]:
        """ln ŷ[i, c] where it was computed, and half of it where even that overflows."""
        log_p = d["log_p"][i, c] if "log_p" in d else None
        half = d["half_log_p"][i, c] if "overflowed" in d and d["overflowed"][i, c] else None
        return log_p, half

    def logarithm(i: int, c: int) -> str:
        """log ŷ[i, c] as substituted: its value where ŷ underflows to 0 (see log_of)."""
        return log_of(float(d["p"][i, c]), log, divisor, *logs(i, c))

    def row(i: int) -> list[str]:
        p = d["p"][i]
        if one_hot:
            t = display["target"][i]
            label = classes[t] if classes else str(t)
            if clip is not None:
                given = clipped(float(d["yhat"][i, t]), clip)
            else:  # e^(−800), not 0, where ŷ underflows but its log is finite
                given = probability(float(p[t]), *logs(i, t))
            return [str(i + 1), label, given, f"−{logarithm(i, t)}", num(result.terms[i])]
        # Soft targets: one line per class that has weight, y_c·log ŷ_c.
        nonzero = [int(c) for c in np.flatnonzero(weights[i])]
        shown = elide(nonzero, 6, 3, 2)
        parts = ["…" if c is None else f"{num(weights[i, c])}·{logarithm(i, c)}" for c in shown]
        return [str(i + 1), "−( " + "\n + ".join(parts) + " )", num(result.terms[i])]

    rows = LazyRows(weights.shape[0], row)
    if "y_smoothed" in d:
        formula.append(
            f"with label smoothing the targets become (1 − ε)·y + ε/C "
            f"over C = {weights.shape[1]} classes"
        )
    return formula, headers, rows


LAYOUTS = {
    "mse": Layout("Mean squared error", _mse_rows),
    "bce": Layout("Binary cross-entropy", _bce_rows),
    "nll": Layout("Negative log-likelihood", _cross_entropy_rows),
    "cce": Layout("Categorical cross-entropy", _cross_entropy_rows),
    "hinge": Layout("Hinge loss", _hinge_rows),
}


def working(solution: Solution, details: bool = False) -> Document:
    """Return the working of an MSE, BCE, NLL, CCE or hinge problem."""
    return document(solution, LAYOUTS[solution.result.loss], details)
