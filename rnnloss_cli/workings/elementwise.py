"""The workings of the losses with one term per element or observation: MSE, BCE, NLL,
CCE and hinge (binary, per time step, and multi-class)."""

from __future__ import annotations

from typing import Any

import numpy as np

from rnnloss_cli.core.result import log_divisor
from rnnloss_cli.document import Block, Document, Line, Matrix, line, paragraph
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
    input_blocks,
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


def _huber_rows(solution: Solution) -> Rows:
    d, result = solution.result.details, solution.result
    delta = num(d["delta"])
    mean = result.reduction == "mean"
    tex_mean = FRAC_N if mean else ""
    tex_delta = latex_number(delta)
    formula: list[Any] = [
        Formula(
            f"L = {'(1/n) ' if mean else ''}Σᵢ ℓᵢ,   ℓᵢ = ½·dᵢ² if |dᵢ| ≤ δ, else δ·(|dᵢ| − ½·δ)",
            f"L = {tex_mean}\\sum_i \\ell_i,\\quad "
            f"\\ell_i = \\begin{{cases}} \\tfrac12 d_i^2 & |d_i| \\le \\delta \\\\ "
            f"\\delta\\,(|d_i| - \\tfrac12\\delta) & \\text{{otherwise}} \\end{{cases}}",
        ),
        Formula(
            f"dᵢ = ŷᵢ − yᵢ, δ = {delta}: quadratic near the target, linear in the tails",
            f"d_i = \\hat{{y}}_i - y_i,\\ \\delta = {tex_delta}"
            r"\text{: quadratic near the target, linear in the tails}",
        ),
        "(an outlier costs δ·|d|, not d²). The limits: as δ → ∞ every term is ½·d²",
        "(the loss is MSE/2); as δ → 0 each is δ·|d| − ½·δ², so the loss tends to",
        "δ × MAE (MAE: the mean absolute error), never above it",
    ]
    quadratic = np.asarray(d["quadratic"])
    if quadratic.all():
        formula.append(f"here every |d| ≤ δ = {delta}: each term is ½·d², the loss is MSE/2")
    elif not quadratic.any():
        formula.append(f"here every |d| > δ = {delta}: each term is δ·|d| − ½·δ² (the MAE side)")
    headers = ["i", "y", "ŷ", "d = ŷ − y", "working", "term"]

    def row(k: int) -> list[str]:
        pos = position(d["y"].shape, k)
        diff, size = d["diff"][pos], d["abs_diff"][pos]
        if d["quadratic"][pos]:
            work = f"|d| = {num(size)} ≤ {delta}: ½·{paren(diff)}²"
        else:
            work = f"|d| = {num(size)} > {delta}: {paren(d['delta'])}·({num(size)} − ½·{delta})"
        return [
            position_label(pos),
            num(d["y"][pos]),
            num(d["yhat"][pos]),
            num(diff),
            work,
            num(result.terms[pos]),
        ]

    return formula, headers, LazyRows(d["y"].size, row)


def _huber_inputs(solution: Solution) -> list[Block]:
    d = solution.result.details
    blocks = input_blocks(solution)
    return [*blocks, paragraph(f"δ = {num(d['delta'])}   (delta: where quadratic turns linear)")]


def _kl_rows(solution: Solution) -> Rows:
    d, result = solution.result.details, solution.result
    formula: list[Any] = [
        Formula(
            "KL(y ‖ ŷ) = Σᵢ Σ_c yᵢ,c·(ln yᵢ,c − ln ŷᵢ,c)   (0·ln 0 = 0)",
            r"\mathrm{KL}(y \,\|\, \hat{y}) = \sum_i \sum_c y_{i,c}\,"
            r"(\ln y_{i,c} - \ln \hat{y}_{i,c})\qquad (0 \cdot \ln 0 = 0)",
        ),
        Formula(
            "= H(y, ŷ) − H(y): the cross-entropy minus the target's own entropy",
            r"= H(y, \hat{y}) - H(y)\text{: the cross-entropy minus the target's own entropy}",
        ),
        "(the part of the cross-entropy the prediction can still remove: 0 when ŷ = y)",
    ]
    if d.get("log_target"):
        formula.append("log_target: y is given as ln y, as F.kl_div(log_target=True)")
    headers = ["i", "working", "H(y, ŷ)", "H(y)", "term"]
    weights, log_y, log_p = d["y"], d["log_y"], d["log_p"]

    p = d["p"]

    def row(i: int) -> list[str]:
        nonzero = [int(c) for c in np.flatnonzero(weights[i])]
        shown = elide(nonzero, 4, 2, 1)
        # y·(ln y − ln ŷ), each log written ln(0.25) (its value where the probability
        # underflows but its log is finite), only the classes the target weighs.
        parts = [
            "…"
            if c is None
            else f"{operand(weights[i, c])}·({log_of(float(weights[i, c]), 'ln', 1.0, log_y[i, c])}"
            f" − {log_of(float(p[i, c]), 'ln', 1.0, log_p[i, c])})"
            for c in shown
        ]
        work = "\n + ".join(parts) if parts else "0 (y is all zeros)"
        return [
            str(i + 1),
            work,
            num(d["cross_entropy"][i]),
            num(d["entropy"][i]),
            num(result.terms[i]),
        ]

    return formula, headers, LazyRows(weights.shape[0], row)


def _kl_inputs(solution: Solution) -> list[Block]:
    d = solution.result.details
    classes = class_names(solution.problem.display)
    rows, count = d["y"].shape
    columns = tuple(classes or [str(c) for c in range(count)])
    label = "log ŷ" if "log_probs" in d else "ŷ"
    shape = f"({rows} × {count}):"
    blocks: list[Block] = [
        Matrix(d["y"], columns, "i", "operand", caption=f"y, the target distribution {shape}"),
        Matrix(
            d.get("log_probs", d.get("yhat")), columns, "i", "operand", caption=f"{label} {shape}"
        ),
    ]
    if d.get("log_target"):
        blocks.append(
            paragraph("log_target: true (y above is e^(given), the given values are ln y)")
        )
    return blocks


def _kl_totals(solution: Solution) -> list[Line]:
    d, result = solution.result.details, solution.result
    rows, count = d["y"].shape
    total = num(result.sum)
    lines = [
        line(("batchmean  ", "bold"), f"{total} / {rows} rows = {num(result.sum / rows)}"),
        line(
            ("mean       ", "bold"),
            f"{total} / {rows * count} elements = {num(result.sum / (rows * count))}"
            "   (PyTorch's 'mean')",
        ),
    ]
    return lines


LAYOUTS["huber"] = Layout("Huber loss", _huber_rows, _huber_inputs)
LAYOUTS["kl"] = Layout("KL divergence", _kl_rows, _kl_inputs, _kl_totals, mean=False)
