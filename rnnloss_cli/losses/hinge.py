"""Hinge loss: max(0, margin − y·ŷ), binary or multi-class."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from rnnloss_cli.document import (
    Document,
)
from rnnloss_cli.losses import Explanation, Key, Loss
from rnnloss_cli.losses.keys import CLASSES, GRAD, TARGET, YHAT, Y, reduction, template
from rnnloss_cli.render.numbers import (
    LazyRows,
    class_names,
    elide,
    num,
    paren,
)
from rnnloss_cli.workings.common import (
    FRAC_N,
    Formula,
    Layout,
    Rows,
    document,
    latex_number,
    position,
    position_label,
)
from rnnloss_cli.workings.gradients import gradient_formula, over, reduction_words

if TYPE_CHECKING:
    from rnnloss_cli.solver import Solution

MULTICLASS = ("crammer-singer", "weston-watkins")


def choose_core(inputs: Mapping[str, Any]) -> str:
    """Return the core function: multi-class hinge when scores are given."""
    name = "multiclass_hinge" if "scores" in inputs else "hinge"
    return f"rnnloss_cli.core.elementwise:{name}"


LOSS = Loss(
    name="hinge",
    title="Hinge loss",
    aliases=("sequence-hinge",),
    keys=(
        Y.with_help("Labels −1 or +1, e.g. 1,-1,1."),
        YHAT.with_help("Real scores, e.g. 0.8,-0.5,0.3."),
        Key(
            "margin",
            "number",
            "the hinge margin (default 1)",
            help="The margin (default 1).",
            default=1.0,
        ),
        TARGET.with_help("Multi-class: class indices or names."),
        Key(
            "scores",
            "matrix",
            "multi-class hinge: one row of scores per target",
            help="Multi-class: score rows, split by ;.",
        ),
        Key(
            "multiclass",
            "choice",
            "the multi-class hinge rule",
            help="crammer-singer (default) or weston-watkins.",
            default="crammer-singer",
            choices=MULTICLASS,
        ),
        CLASSES,
        Key("squared", "flag", "true or false", help="Square each term.", default=False),
        reduction("mean"),
        GRAD,
    ),
    validator="rnnloss_cli.problems.elementwise:validate_hinge",
    core="rnnloss_cli.core.elementwise:hinge",
    choose_core=choose_core,
    help="Hinge loss max(0, margin − y·ŷ) per element or time step; default reduction mean.",
    short="Hinge loss per element or time step (alias: sequence-hinge).",
    example="--y 1,-1,1 --yhat 0.8,-0.5,0.3",
    working="rnnloss_cli.losses.hinge:working",
    gradient="rnnloss_cli.core.elementwise_grad:hinge",
    explanation=Explanation(
        summary="max(0, margin − y·ŷ) per element or time step; multi-class with a rival class",
        use="margin classifiers (SVM-style), ranking, per-time-step binary decisions",
        formula="L = (1/n) Σₜ max(0, 1 − yₜ·ŷₜ)   multi-class: max(0, 1 − s[y] + max_(j≠y) s[j])",
        when="Labels are −1/+1 and predictions are scores, not probabilities.",
        conventions="Default reduction mean: the lecture writes a sum but its worked example "
        "averages (1.4 / 3 ≈ 0.467); the working shows both. margin (1), squared (false). "
        "Multi-class: target and scores, multiclass crammer-singer (scikit-learn) or "
        "weston-watkins (PyTorch's multi_margin_loss, divided by C).",
        pitfalls="Labels 0/1 must be written −1/+1. Sum versus mean: the lecture uses both.",
        problem="problems/hinge_sequence.yaml",
        template=template("""
# The lecture's hinge loss for a sequence.
loss: hinge
title: Hinge loss for a sequence
y: [1, -1, 1]                     # labels −1 or +1
yhat: [0.8, -0.5, 0.3]            # scores
margin: 1
squared: false
reduction: mean                   # mean (default, as the worked example) | sum | none
expected: 0.467
"""),
        example="rnnloss hinge --y 1,-1,1 --yhat 0.8,-0.5,0.3 --expected 0.467",
    ),
)


# --- the working ------------------------------------------------------------------------
# Built from the solved problem as a format-neutral Document (rnnloss_cli.document); the
# writers in rnnloss_cli.render set it in the terminal, Markdown or LaTeX.


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


def _multiclass_gradient_rows(solution: Solution) -> Rows:
    """Crammer-Singer: −g at the target, +g at the worst rival; Weston-Watkins: g_j at each
    rival j whose hinge is active and −Σ_j g_j at the target (g = [h > 0], or 2h squared,
    over n for mean and over C for Weston-Watkins)."""
    import numpy as np

    d, result, gradient = solution.result.details, solution.result, solution.gradient
    assert gradient is not None
    classes = class_names(solution.problem.display)
    m, c = num(d["margin"]), d["scores"].shape[1]
    by = over(gradient.parts["divisor"])
    n = gradient.parts["divisor"] / (c if d["multiclass"] == "weston-watkins" else 1)
    squared = d["squared"]
    g = "2hᵢ" if squared else "[hᵢ > 0]"
    g_tex = "2h_i" if squared else "[h_i > 0]"
    words = reduction_words(result.reduction, n)
    if d["multiclass"] == "crammer-singer":
        den = "/n" if n != 1 else ""
        den_tex = "/n" if n != 1 else ""
        formula: list[object] = [
            f"hᵢ = max(0, {m} − s[yᵢ] + max_(j≠yᵢ) s[j]), the worst rival r the j of that max",
            Formula(
                f"∂L/∂sᵢ,yᵢ = −{g}{den},  ∂L/∂sᵢ,r = +{g}{den},  0 elsewhere   ({words})",
                f"\\frac{{\\partial L}}{{\\partial s_{{i,y_i}}}} = -{g_tex}{den_tex},\\ "
                f"\\frac{{\\partial L}}{{\\partial s_{{i,r}}}} = {g_tex}{den_tex}"
                f"\\quad\\text{{({words})}}",
            ),
        ]
    else:
        den = "/(C·n)" if n != 1 else "/C"
        den_tex = "/(Cn)" if n != 1 else "/C"
        formula = [
            f"hᵢ,j = max(0, {m} − s[yᵢ] + s[j]) for each rival j ≠ yᵢ; C = {c} classes",
            Formula(
                f"∂L/∂sᵢ,j = {g.replace('ᵢ', 'ᵢ,j')}{den},  ∂L/∂sᵢ,yᵢ = −Σ_j ∂L/∂sᵢ,j   ({words})",
                f"\\frac{{\\partial L}}{{\\partial s_{{i,j}}}} = "
                f"{g_tex.replace('_i', '_{i,j}')}{den_tex},\\ "
                f"\\frac{{\\partial L}}{{\\partial s_{{i,y_i}}}} = "
                f"-\\sum_j \\frac{{\\partial L}}{{\\partial s_{{i,j}}}}"
                f"\\quad\\text{{({words})}}",
            ),
        ]
    formula.append("classes not listed have gradient 0")
    headers = ["i", "c (class)", "working", "∂L/∂sᵢ,c"]

    def label(k: int) -> str:
        return f"{k} {classes[k]}" if classes else str(k)

    def factor(h: float) -> str:
        return f"2·{paren(h)}" if squared else f"[{num(h)} > 0]"

    def row(i: int) -> list[str]:
        t = int(d["target"][i])
        values = gradient.values[i]
        if d["multiclass"] == "crammer-singer":
            rival = int(d["rival"][i])
            h = factor(gradient.parts["hinge"][i])
            listed: list[int | None] = [t, rival]
            works = {t: f"−{h}{by}", rival: f"+{h}{by}"}
        else:
            hinges = gradient.parts["hinges"][i]
            active = [int(j) for j in np.flatnonzero(hinges > 0) if j != t]
            shown = elide(active, 5, 3, 1)
            listed = [t, *shown]
            works = {int(j): f"{factor(hinges[j])}{by}" for j in active}
            works[t] = "−(the sum of the rivals' below)" if active else "0 (no active rival)"
        names = ["…" if k is None else label(k) for k in listed]
        cells = ["…" if k is None else works[k] for k in listed]
        numbers = ["…" if k is None else num(values[k]) for k in listed]
        return [str(i + 1), "\n".join(names), "\n".join(cells), "\n".join(numbers)]

    return formula, headers, LazyRows(len(d["target"]), row)


def _gradient_rows(solution: Solution) -> Rows:
    """−yᵢ·[m − yᵢ·ŷᵢ > 0]/n (squared −2yᵢ·max(0, m − yᵢ·ŷᵢ)/n), 0 at the kink as PyTorch."""
    d, result, gradient = solution.result.details, solution.result, solution.gradient
    assert gradient is not None
    if "scores" in d:
        return _multiclass_gradient_rows(solution)
    m, scale = num(d["margin"]), gradient.parts["divisor"]
    by = over(scale)
    tex_m = latex_number(m)
    if d["squared"]:
        body = (f"−2yᵢ·max(0, {m} − yᵢ·ŷᵢ)", f"-2 y_i \\max(0,\\ {tex_m} - y_i \\hat{{y}}_i)")
    else:
        body = (f"−yᵢ·[{m} − yᵢ·ŷᵢ > 0]", f"-y_i \\,[{tex_m} - y_i \\hat{{y}}_i > 0]")
    wrt = ("ŷᵢ", r"\hat{y}_i")
    formula: list[object] = [gradient_formula(wrt, body, result.reduction, scale)]
    headers = ["i", "y", "ŷ", f"{m} − y·ŷ", "working", "∂L/∂ŷᵢ"]

    def row(k: int) -> list[str]:
        pos = position(d["y"].shape, k)
        y, yhat, raw = d["y"][pos], d["yhat"][pos], float(d["raw"][pos])
        if d["squared"]:
            work = f"−2·{paren(y)}·{paren(max(raw, 0.0))}{by}"
        else:
            work = f"−{paren(y)}·[{num(raw)} > 0]{by}"
        cells = [num(y), num(yhat), num(raw), work, num(gradient.values[pos])]
        return [position_label(pos), *cells]

    return formula, headers, LazyRows(d["y"].size, row)


LAYOUT = Layout("Hinge loss", _hinge_rows, gradient=_gradient_rows)


def working(solution: Solution, details: bool = False) -> Document:
    """Return the working of one solved problem."""
    return document(solution, LAYOUT, details)
