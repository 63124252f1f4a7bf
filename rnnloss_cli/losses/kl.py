"""Kullback–Leibler divergence KL(y ‖ ŷ) = Σ_c y_c·(log y_c − log ŷ_c): cross-entropy minus
the target's entropy."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rnnloss_cli.core.text import count as counted
from rnnloss_cli.document import Block, Document, Line, Matrix, line, paragraph
from rnnloss_cli.losses import Explanation, Key, Loss
from rnnloss_cli.losses.keys import CLASSES, GRAD, LOG_BASE, LOG_PROBS, YHAT, Y, reduction, template
from rnnloss_cli.render.numbers import (
    LazyRows,
    class_names,
    elide,
    log_name,
    log_of,
    num,
    operand,
)
from rnnloss_cli.workings.common import (
    Formula,
    Layout,
    Rows,
    document,
    latex_log,
)

if TYPE_CHECKING:
    from rnnloss_cli.problems.values import Reader
    from rnnloss_cli.solver import Solution

REDUCTIONS = ("sum", "mean", "batchmean", "none")


def validate(r: Reader) -> tuple[dict[str, Any], list[str], dict[str, Any]]:
    """Return kl's inputs: target rows y (probabilities, or log-probabilities with
    log_target), predicted rows as probabilities (yhat) or log-probabilities, one shape."""
    from rnnloss_cli.errors import ProblemError
    from rnnloss_cli.problems.elementwise import parse_classes
    from rnnloss_cli.problems.values import (
        check_prediction,
        check_range,
        infinities,
        row_sum_warnings,
        same_shape,
    )

    r.require("kl", "y")
    pred_key = r.one_of("kl", "yhat", "log_probs")
    log_target = r.flag("log_target", False)
    y = r.array("y", allow_neg_inf=log_target)
    pred = r.array(pred_key, **infinities(pred_key))
    same_shape(y, "y", pred, pred_key)
    if y.ndim not in (1, 2) or y.shape[-1] == 0:
        raise ProblemError(f"expected a row or rows of class values, got shape {y.shape}", key="y")
    warnings: list[str] = []
    import numpy as np

    if log_target:
        check_range(y, "y", "log-probability (log_target: true)", -np.inf, 1e-9)
        warnings += row_sum_warnings(np.exp(y), "y", "target probabilities exp(y)")
    else:
        check_range(y, "y", "target probability", 0.0, 1.0)
        warnings += row_sum_warnings(y, "y", "target probabilities")
    warnings += check_prediction(pred, pred_key)
    display: dict[str, Any] = {}
    classes = parse_classes(r)
    if classes is not None:
        if len(classes) != y.shape[-1]:
            raise ProblemError(
                f"names {len(classes)} classes but each row of y has {y.shape[-1]} values",
                key="classes",
            )
        display["classes"] = classes
    inputs = {"y": y, pred_key: pred, "log_target": log_target}
    return inputs, warnings, display


def readings(problem: Any, result: Any) -> list[Any]:
    """Return the value under the other reductions — the sum, batchmean (÷ rows) and
    PyTorch's mean (÷ elements) — and in the other log bases: what an answer key worked
    another way would hold (a value equal to another is named once)."""
    import math

    from rnnloss_cli.solver import LOG_BASE_WORDS, Reading

    if result.reduction == "none":
        return []
    rows, count = result.details["y"].shape
    row_words = counted(rows, "row")
    values = {
        "sum": (result.sum, "the sum"),
        "batchmean": (result.sum / rows, f"the batchmean (the sum ÷ {row_words})"),
        "mean": (
            result.sum / (rows * count),
            f"PyTorch's mean (the sum ÷ {rows * count:,} elements)",
        ),
    }
    own_base = result.log_base or "e"
    bases = {"e": math.e, "2": 2.0, "10": 10.0}
    out, seen = [], {float(result.value)} if isinstance(result.value, float) else set()
    for base in ("e", "2", "10"):
        factor = math.log(bases[own_base]) / math.log(bases[base])
        for name, (value, what) in values.items():
            settings = []
            if name != result.reduction:
                settings.append(("reduction", name))
            if base != own_base:
                settings.append(("log_base", base))
                what = f"{what} in {LOG_BASE_WORDS[base]}"
            in_base = value * factor
            if not settings or in_base in seen:
                continue
            seen.add(in_base)
            out.append(Reading(tuple(settings), in_base, what))
    return out


LOSS = Loss(
    name="kl",
    title="KL divergence",
    aliases=("kl-divergence", "kldiv"),
    keys=(
        Y.with_help("Target distribution rows, e.g. '0.7,0.2,0.1;0.1,0.8,0.1'."),
        YHAT.with_help("Predicted probability rows, e.g. '0.5,0.3,0.2;0.2,0.6,0.2'."),
        LOG_PROBS.with_help("Predicted log-probabilities instead of --yhat."),
        CLASSES,
        Key(
            "log_target",
            "flag",
            "y is given as log-probabilities (as F.kl_div's log_target)",
            help="y is given as log-probabilities.",
            default=False,
        ),
        reduction(
            "sum",
            REDUCTIONS,
            help="sum (default), batchmean (÷ rows), mean (÷ elements, as PyTorch) or none.",
        ),
        LOG_BASE,
        GRAD,
    ),
    validator="rnnloss_cli.losses.kl:validate",
    core="rnnloss_cli.core.elementwise:kl_divergence",
    working="rnnloss_cli.losses.kl:working",
    gradient="rnnloss_cli.core.elementwise_grad:kl",
    readings="rnnloss_cli.losses.kl:readings",
    help="KL divergence Σ_c y_c·(ln y_c − ln ŷ_c) of target rows y from predicted rows ŷ; "
    "reductions sum (default), batchmean, mean (over elements, as PyTorch) and none.",
    short="Kullback–Leibler divergence (alias: kl-divergence).",
    example="--y '0.7,0.2,0.1;0.1,0.8,0.1' --yhat '0.5,0.3,0.2;0.2,0.6,0.2' --reduction batchmean",
    explanation=Explanation(
        summary="how far a predicted distribution is from a target one: cross-entropy "
        "minus the target's entropy",
        use="knowledge distillation (a student RNN matching a teacher's softmax), VAEs",
        formula="KL(y ‖ ŷ) = Σ_c y_c·(ln y_c − ln ŷ_c) = H(y, ŷ) − H(y)",
        when="The target is a distribution, not one class: soft labels from a teacher, a "
        "prior to match.",
        conventions="Natural log (nats) unless log_base says 2 (bits) or 10. Default "
        "reduction sum (the definition); batchmean divides "
        "by the rows, the KL per observation; mean divides by every element, as PyTorch's "
        "reduction='mean' (which PyTorch warns is not the KL per observation). 0·ln 0 = 0. "
        "log_target: y given as ln y, as F.kl_div(log_target=True). Terms are per row "
        "(PyTorch's reduction none is per element).",
        pitfalls="F.kl_div takes the prediction as log-probabilities and the target second: "
        "kl_div(log ŷ, y). KL is not symmetric: KL(y ‖ ŷ) ≠ KL(ŷ ‖ y). With one-hot y it "
        "equals the cross-entropy (H(y) = 0).",
        problem="problems/kl_distillation.yaml",
        template=template("""
# KL divergence of a student's next-token distribution from its teacher's.
loss: kl
title: Distilling a teacher's next-token distribution
classes: [the, cat, sat]
y:                                # the target distribution, a row per position
  - [0.7, 0.2, 0.1]
  - [0.1, 0.8, 0.1]
yhat:                             # the prediction (or log_probs:)
  - [0.5, 0.3, 0.2]
  - [0.2, 0.6, 0.2]
reduction: batchmean              # sum (default) | batchmean | mean | none
expected: 0.0883195
"""),
        example="rnnloss kl --y '0.7,0.2,0.1;0.1,0.8,0.1' --yhat '0.5,0.3,0.2;0.2,0.6,0.2' "
        "--reduction batchmean --expected 0.0883195",
    ),
)

# --- the working ------------------------------------------------------------------------


def _kl_rows(solution: Solution) -> Rows:
    import numpy as np

    from rnnloss_cli.core.result import log_divisor

    d, result = solution.result.details, solution.result
    log, tex = log_name(result.log_base), latex_log(result.log_base)
    divisor = log_divisor(result.log_base or "e")
    formula: list[Any] = [
        Formula(
            f"KL(y ‖ ŷ) = Σᵢ Σ_c yᵢ,c·({log} yᵢ,c − {log} ŷᵢ,c)   (0·{log} 0 = 0)",
            r"\mathrm{KL}(y \,\|\, \hat{y}) = \sum_i \sum_c y_{i,c}\,"
            f"({tex} y_{{i,c}} - {tex} \\hat{{y}}_{{i,c}})\\qquad (0 \\cdot {tex} 0 = 0)",
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

    def logs(natural: float) -> tuple[str, float, float]:
        """log_of's arguments: the log's name, ln(base), the natural log (for underflow)."""
        return log, divisor, natural

    def row(i: int) -> list[str]:
        nonzero = [int(c) for c in np.flatnonzero(weights[i])]
        shown = elide(nonzero, 4, 2, 1)
        # y·(ln y − ln ŷ), each log written ln(0.25) (its value where the probability
        # underflows but its log is finite), only the classes the target weighs.
        parts = [
            "…"
            if c is None
            else f"{operand(weights[i, c])}·({log_of(float(weights[i, c]), *logs(log_y[i, c]))}"
            f" − {log_of(float(p[i, c]), *logs(log_p[i, c]))})"
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
    label = "log ŷ, the prediction" if "log_probs" in d else "ŷ, the prediction"
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
        line(
            ("batchmean  ", "bold"),
            f"{total} / {counted(rows, 'row')} = {num(result.sum / rows)}",
        ),
        line(
            ("mean       ", "bold"),
            f"{total} / {counted(rows * count, 'element')} = {num(result.sum / (rows * count))}"
            "   (PyTorch's 'mean')",
        ),
    ]
    return lines


KL_GRADIENT_DIVISORS = {
    "sum": "the sum",
    "batchmean": "batchmean: D = N, the rows",
    "mean": "PyTorch's mean: D = N·C, the elements",
    "none": "reduction none: the gradient of the sum of the row terms",
}


def _gradient_rows(solution: Solution) -> Rows:
    """From log-probabilities −yᵢ,c/D, from probabilities −yᵢ,c/ŷᵢ,c/D (0 where y = 0), a
    row per observation listing the classes the target weighs."""
    import numpy as np

    from rnnloss_cli.workings.gradients import over

    d, result, gradient = solution.result.details, solution.result, solution.gradient
    assert gradient is not None
    divisor, base_name = gradient.parts["divisor"], result.log_base
    by = over(divisor, base_name)
    words = KL_GRADIENT_DIVISORS[result.reduction]
    if divisor != 1:
        words += f" = {num(divisor)}"
    den, den_tex = ("/D", "/D") if divisor != 1 else ("", "")
    if base_name not in (None, "e"):  # in bits or log₁₀: every log divided by ln b
        words += f"; log base {base_name}, so divided by ln {base_name}"
        den = f"/(D·ln {base_name})" if divisor != 1 else f"/ln {base_name}"
        den_tex = rf"/(D \ln {base_name})" if divisor != 1 else rf"/\ln {base_name}"
    if "log_probs" in d:
        name, name_tex = "log ŷᵢ,c", r"\log \hat{y}_{i,c}"
        body, body_tex = f"−yᵢ,c{den}", f"-y_{{i,c}}{den_tex}"
    else:
        name, name_tex = "ŷᵢ,c", r"\hat{y}_{i,c}"
        body, body_tex = f"−yᵢ,c/ŷᵢ,c{den}", rf"-\frac{{y_{{i,c}}}}{{\hat{{y}}_{{i,c}}}}{den_tex}"
    formula: list[Any] = [
        Formula(
            f"∂L/∂{name} = {body}   ({words})",
            rf"\frac{{\partial L}}{{\partial {name_tex}}} = {body_tex}"
            rf"\quad\text{{({words})}}",
        ),
        "(the ln y term does not depend on the prediction; classes with yᵢ,c = 0 have "
        "gradient 0, not listed)",
    ]
    weights, p = d["y"], d["p"]
    values = np.atleast_2d(gradient.values)
    classes = class_names(solution.problem.display)
    headers = ["i", "c (class)", "working", f"∂L/∂{name}"]

    def row(i: int) -> list[str]:
        shown = elide([int(c) for c in np.flatnonzero(weights[i])], 6, 3, 2)

        def cell(c: int) -> str:
            y = operand(weights[i, c])
            return f"−{y}{by}" if "log_probs" in d else f"−{y}/{operand(p[i, c])}{by}"

        names = ["…" if c is None else (f"{c} {classes[c]}" if classes else str(c)) for c in shown]
        works = ["…" if c is None else cell(c) for c in shown]
        numbers = ["…" if c is None else num(values[i, c]) for c in shown]
        if not shown:
            names, works, numbers = ["–"], ["y is all zeros"], ["0"]
        return [str(i + 1), "\n".join(names), "\n".join(works), "\n".join(numbers)]

    return formula, headers, LazyRows(weights.shape[0], row)


LAYOUT = Layout(
    "KL divergence", _kl_rows, _kl_inputs, _kl_totals, mean=False, gradient=_gradient_rows
)


def working(solution: Solution, details: bool = False) -> Document:
    """Return the working of one solved problem."""
    return document(solution, LAYOUT, details)
