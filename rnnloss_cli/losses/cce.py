"""Categorical cross-entropy: −Σ_c y_c log ŷ_c, with soft labels and label smoothing."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rnnloss_cli.document import (
    Document,
)
from rnnloss_cli.losses import Explanation, Loss
from rnnloss_cli.losses.keys import CLASSIFICATION_EXAMPLE, GRAD, classification, template
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
from rnnloss_cli.workings.common import (
    FRAC_N,
    Formula,
    Layout,
    Rows,
    clip_formula,
    clipped,
    document,
    latex_log,
)
from rnnloss_cli.workings.gradients import gradient_formula, over

if TYPE_CHECKING:
    from rnnloss_cli.solver import Solution

LOSS = Loss(
    name="cce",
    title="Categorical cross-entropy",
    aliases=("categorical-cross-entropy",),
    keys=(*classification(label_smoothing=True), GRAD),
    validator="rnnloss_cli.problems.elementwise:validate_cce",
    core="rnnloss_cli.core.elementwise:categorical_cross_entropy",
    help="Categorical cross-entropy −Σᵢ Σ_c yᵢ,c log ŷᵢ,c, with soft labels and label "
    "smoothing; default reduction sum, the lecture's formula.",
    short="Categorical cross-entropy (alias: categorical-cross-entropy).",
    example=CLASSIFICATION_EXAMPLE,
    working="rnnloss_cli.losses.cce:working",
    gradient="rnnloss_cli.core.elementwise_grad:cross_entropy",
    explanation=Explanation(
        summary="−Σ_c y_c log ŷ_c per observation, summed; y may be soft",
        use="multi-class classification with one-hot or soft targets, label smoothing",
        formula="CCE = −Σᵢ Σ_c yᵢ,c·log ŷᵢ,c",
        when="Targets are distributions over the classes (one-hot, soft, or smoothed).",
        conventions="Default reduction sum, the lecture's formula. label_smoothing ε replaces y "
        "by (1 − ε)·y + ε/C, as PyTorch and Keras do. Rows that do not sum to 1 give a warning "
        "and are used as given.",
        pitfalls="Keras' categorical_crossentropy averages over the batch, the lecture's formula "
        "sums.",
        problem="problems/cce_intent.yaml",
        template=template("""
# Categorical cross-entropy of three utterances over three intents.
loss: cce
title: Intent classification
classes: [weather, music, alarm]
y:                                # one-hot (or soft) target rows
  - [0, 0, 1]
  - [1, 0, 0]
  - [0, 1, 0]
yhat:
  - [0.10, 0.20, 0.70]
  - [0.50, 0.30, 0.20]
  - [0.25, 0.50, 0.25]
label_smoothing: 0                # ε in [0, 1)
expected: 1.743
"""),
        example="rnnloss cce --classes weather,music,alarm --target alarm,weather,music --yhat "
        "'0.1,0.2,0.7; 0.5,0.3,0.2; 0.25,0.5,0.25' --expected 1.743",
    ),
)


# --- the working ------------------------------------------------------------------------
# Built from the solved problem as a format-neutral Document (rnnloss_cli.document); the
# writers in rnnloss_cli.render set it in the terminal, Markdown or LaTeX.


def cross_entropy_rows(solution: Solution, name: str = "CCE") -> Rows:
    """Return the rows of a cross-entropy working (nll and cce): `name` heads the formula."""
    import numpy as np

    from rnnloss_cli.core.result import log_divisor

    d, result, display = solution.result.details, solution.result, solution.problem.display
    log = log_name(result.log_base)
    mean = result.reduction == "mean"
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


CLASSES_SHOWN = (6, 3, 2)  # a row lists every class up to 6, else the first 3 and last 2


def cross_entropy_gradient_rows(solution: Solution) -> Rows:
    """Return the gradient rows of nll and cce, a row per observation listing its classes:
    from logits softmax − y (w the targets after label smoothing; softmax·Σw − w for a
    row that does not sum to 1), from log-probabilities −w, from probabilities −w/ŷ (0
    where clipping moved ŷ); divided by n for mean and by ln b for log base b."""
    import numpy as np

    d, result, gradient = solution.result.details, solution.result, solution.gradient
    assert gradient is not None
    scale, base = gradient.parts["scale"], result.log_base
    by = over(scale, base)
    weights, kind = gradient.parts["weights"], gradient.wrt
    smoothed = "y_smoothed" in d
    w = ("w_c", "w_c") if smoothed else ("y_c", "y_c")
    if kind == "logits":
        wrt = ("zᵢ,c", "z_{i,c}")
        body = (f"softmax(zᵢ)_c − {w[0]}", rf"\mathrm{{softmax}}(z_i)_c - {w[1]}")
    elif kind == "log_probs":
        wrt, body = ("log ŷᵢ,c", r"\log \hat{y}_{i,c}"), (f"−{w[0]}", f"-{w[1]}")
    else:
        wrt = ("ŷᵢ,c", r"\hat{y}_{i,c}")
        body = (f"−{w[0]}/ŷᵢ,c", rf"-\frac{{{w[1]}}}{{\hat{{y}}_{{i,c}}}}")
    formula: list[object] = [gradient_formula(wrt, body, result.reduction, scale, base)]
    if smoothed:
        formula.append(
            f"w = (1 − ε)·y + ε/C, the targets after label smoothing (ε = "
            f"{num(d['label_smoothing'])}, C = {weights.shape[1]})"
        )
    uneven = kind == "logits" and not np.allclose(gradient.parts["mass"], 1.0)
    if uneven:
        formula.append("a target row that does not sum to 1 scales the softmax: softmax·Σ_c w_c")
    if kind != "logits":
        formula.append("classes the target does not weigh have gradient 0 (not listed)")
    classes = class_names(solution.problem.display)
    clip = solution.problem.inputs.get("clip")
    headers = ["i", "c (class)", "working", f"∂L/∂{wrt[0]}"]

    def label(c: int) -> str:
        return f"{c} {classes[c]}" if classes else str(c)

    def cell(i: int, c: int) -> str:
        weight = paren(weights[i, c])
        if kind == "logits":
            mass = "" if not uneven else f"·{num(gradient.parts['mass'][i, 0])}"
            difference = f"{operand(d['p'][i, c])}{mass} − {weight}"
            return f"({difference}){by}" if by else difference
        if kind == "log_probs":
            return f"−{weight}{by}"
        if "passes" in gradient.parts and not gradient.parts["passes"][i, c]:
            return f"0: clipped ({clipped(float(d['yhat'][i, c]), clip)})"
        return f"−{weight}/{paren(d['p'][i, c])}{by}"

    def row(i: int) -> list[str]:
        listed = range(weights.shape[1]) if kind == "logits" else np.flatnonzero(weights[i])
        shown = elide([int(c) for c in listed], *CLASSES_SHOWN)
        names = ["…" if c is None else label(c) for c in shown]
        works = ["…" if c is None else cell(i, c) for c in shown]
        values = ["…" if c is None else num(gradient.values[i, c]) for c in shown]
        return [str(i + 1), "\n".join(names), "\n".join(works), "\n".join(values)]

    return formula, headers, LazyRows(weights.shape[0], row)


LAYOUT = Layout(
    "Categorical cross-entropy",
    cross_entropy_rows,
    target_line=True,
    gradient=cross_entropy_gradient_rows,
)


def working(solution: Solution, details: bool = False) -> Document:
    """Return the working of one solved problem."""
    return document(solution, LAYOUT, details)
