"""The working of the sequence-level losses: sequence cross-entropy, REINFORCE, custom.

Each function returns what the common working layout needs: the inputs, the formula
lines, the term table (headers and rows) and extra lines under the sum and mean.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from rnnloss_cli.core.result import log_divisor
from rnnloss_cli.document import Block, Document, Line, line, paragraph
from rnnloss_cli.errors import printable
from rnnloss_cli.render.numbers import (
    LazyRows,
    beyond,
    class_names,
    elide,
    listing,
    log_name,
    log_of,
    num,
    paren,
    probability,
    vector,
)
from rnnloss_cli.solver import Solution
from rnnloss_cli.workings.common import Formula, Layout, Rows, document, latex_log, latex_number


def _token(index: int, classes: Sequence[str] | None) -> str:
    return classes[index] if classes else str(index)


# --- sequence cross-entropy --------------------------------------------------------------


def sequence_inputs(solution: Solution) -> list[Block]:
    d, display = solution.result.details, solution.problem.display
    classes = class_names(display)
    ignore = display.get("ignore_index")
    lines: list[str] = []
    target, mask = d["target"], d["mask"]
    batch = target.shape[0]
    shown = elide(range(batch), 8, 5, 2)
    for b in shown:
        if b is None:
            lines.append(f"… {batch - (len(shown) - 1):,} more sequences")
            continue
        words = [
            _token(int(t), classes) if m else "·" for t, m in zip(target[b], mask[b], strict=True)
        ]
        label = "target" if batch == 1 else f"target, sequence {b + 1}"
        lines.append(f"{label} = {listing(words)}")
    batch, steps = target.shape
    c = d["classes"]
    shape = f"{steps} × {c}" if batch == 1 else f"{batch} × {steps} × {c}"
    lines.append(
        f"{display['pred_key']}: {shape} (each step's row; the target's entry "
        "is in the table below)"
    )
    if ignore is not None:
        padded = int((~mask).sum())
        lines.append(
            f"ignore_index = {ignore}: {padded} padded position"
            f"{'s' if padded != 1 else ''} (·) left out"
        )
    if classes:
        lines.append(f"classes = {listing(classes)}")
    return [paragraph(*lines)]


def sequence_rows(solution: Solution) -> Rows:
    result, display = solution.result, solution.problem.display
    d = result.details
    log = log_name(result.log_base)
    classes = class_names(display)
    mean = result.reduction == "mean"
    tex_mean = r"\frac{1}{N} " if mean else ""
    formula = [
        Formula(
            f"L = −{'(1/N) ' if mean else ''}Σₜ {log} ŷ[t, targetₜ]"
            "   over the real (unpadded) steps",
            f"L = -{tex_mean}\\sum_t {latex_log(result.log_base)} "
            r"\hat{y}_{t,\,\mathrm{target}_t}\quad\text{over the real (unpadded) steps}",
        ),
        f"(the lecture's −Σₜ Σ_c yₜ,c·{log} ŷₜ,c with one-hot y keeps one term per step)",
        Formula(
            "perplexity = exp(mean loss per token, in nats)",
            r"\text{perplexity} = \exp(\text{mean loss per token, in nats})",
        ),
    ]
    batch = d["target"].shape[0]
    headers = ["t" if batch == 1 else "(seq, t)", "token", "ŷ[token]", "working", "term"]
    steps = d["target"].shape[1]
    real = np.flatnonzero(d["mask"])  # the k-th term is the k-th unpadded position

    divisor = log_divisor(result.log_base or "e")

    def row(k: int) -> list[str]:
        b, t = divmod(int(real[k]), steps)
        p = d["p"][b, t]
        position = str(t + 1) if batch == 1 else f"({b + 1}, {t + 1})"
        token = _token(int(d["target"][b, t]), classes)
        half = d["half_log_p"][b, t] if "overflowed" in d and d["overflowed"][b, t] else None
        logarithm = log_of(float(p), log, divisor, float(d["log_p"][b, t]), half)
        shown = probability(float(p), float(d["log_p"][b, t]), half)
        return [position, token, shown, f"−{logarithm}", num(result.terms[k])]

    return formula, headers, LazyRows(real.size, row)


def sequence_totals(solution: Solution) -> list[Line]:
    d = solution.result.details
    lines: list[Line] = []
    if len(d["subtotals"]) > 1:
        for b, (subtotal, terms) in enumerate(zip(d["subtotals"], d["per_sequence"], strict=True)):
            lines.append(
                line(
                    f"      sequence {b + 1}: Σ = {num(subtotal)} over {terms.size} "
                    f"token{'s' if terms.size != 1 else ''}"
                )
            )
    lines.append(line(("Perplexity  ", "bold"), f"exp(mean in nats) = {num(d['perplexity'])}"))
    return lines


# --- REINFORCE ------------------------------------------------------------------------------


def reinforce_inputs(solution: Solution) -> list[Block]:
    d = solution.result.details
    lines: list[str] = [
        (f"rewards R = {vector(d['rewards'])}"),
        (
            f"π(yₜ | sₜ) = {vector(d['p'], logs=d['log_probs'])}   (the probability of each "
            "action taken)"
        ),
    ]
    options = [f"returns: {d['returns']}"]
    if d["returns"] == "reward-to-go":
        options.append(f"γ = {num(d['gamma'])}")
    if d["baseline"] is not None:
        rule = "mean of the returns" if d["baseline_rule"] == "mean" else "given"
        options.append(f"baseline b = {num(d['baseline'])} ({rule})")
    if d["normalize"]:
        options.append("normalize: (A − mean) / (std + ε)")
    lines.append(", ".join(options))
    return [paragraph(*lines)]


def reinforce_rows(solution: Solution) -> Rows:
    result = solution.result
    d = result.details
    log = log_name(result.log_base)
    divisor = log_divisor(result.log_base or "e")
    mean = "(1/T) " if result.reduction == "mean" else ""
    tex_log = latex_log(result.log_base)
    tex_mean = r"\frac{1}{T} " if mean else ""
    formula: list[Any] = [
        Formula(
            f"the lecture: J = Σₜ Rₜ·{log} π(yₜ | sₜ), an objective to MAXIMISE;",
            f"\\text{{the lecture: }} J = \\sum_t R_t {tex_log} \\pi(y_t \\mid s_t)"
            r"\text{, an objective to MAXIMISE;}",
        ),
        Formula(
            f"the loss minimised is its negative: L = −{mean}Σₜ Aₜ·{log} π(yₜ | sₜ)",
            f"\\text{{the loss minimised is its negative: }} L = -{tex_mean}\\sum_t A_t "
            f"{tex_log} \\pi(y_t \\mid s_t)",
        ),
    ]
    if d["returns"] == "reward-to-go":
        formula.append(
            Formula(
                "Gₜ = Σ_(k≥t) γ^(k−t)·r_k, computed backwards: Gₜ = rₜ + γ·Gₜ₊₁",
                r"G_t = \sum_{k \ge t} \gamma^{k-t} r_k\text{, computed backwards: }"
                r"G_t = r_t + \gamma G_{t+1}",
            )
        )
    source = "Gₜ" if d["returns"] == "reward-to-go" else "Rₜ"
    advantage, tex = source, "G_t" if d["returns"] == "reward-to-go" else "R_t"
    if d["baseline"] is not None:
        advantage += f" − {paren(d['baseline'])}"
        tex += f" - {latex_number(paren(d['baseline']))}"
    if d["normalize"]:
        advantage = (
            f"({advantage} − mean) / (std + ε), std with Bessel's correction = {num(d['std'])}"
        )
        tex = (
            f"\\frac{{{tex} - \\text{{mean}}}}{{\\text{{std}} + \\varepsilon}}"
            f"\\text{{, std with Bessel's correction }} = {latex_number(num(d['std']))}"
        )
    formula.append(Formula(f"Aₜ = {advantage}", f"A_t = {tex}"))
    headers = [
        "t",
        "r",
        "G" if d["returns"] == "reward-to-go" else "R",
        "A",
        "π",
        "−A·log π",
        "term",
    ]

    def row(t: int) -> list[str]:
        a, p = d["advantages"][t], d["p"][t]
        return [
            str(t + 1),
            num(d["rewards"][t]),
            num(d["returns_before_baseline"][t]),
            num(a),
            probability(float(p), float(d["log_probs"][t])),
            f"−{paren(a)}·{log_of(float(p), log, divisor, float(d['log_probs'][t]))}",
            num(result.terms[t]),
        ]

    return formula, headers, LazyRows(d["rewards"].size, row)


def reinforce_totals(solution: Solution) -> list[Line]:
    result = solution.result
    # Beyond float64 the objective is written as the Sum line writes the sum: exactly,
    # with what float64 holds after it (−2e+308 (float64: −∞)), never a bare −∞.
    exact = getattr(result, "exact_sum", None)
    objective = beyond(-exact) if exact is not None else num(result.details["objective"])
    return [
        line(("Objective  ", "bold"), f"J = Σₜ Aₜ·log πₜ = −(sum) = {objective}  (to maximise)")
    ]


# --- custom ---------------------------------------------------------------------------------


def custom_given(solution: Solution) -> list[Block]:
    """Return a custom loss's weighted terms as a question gives them (each term's own
    problem is a part of the question)."""
    lines = []
    for i, c in enumerate(solution.result.details["components"]):
        sub = c["solution"].result
        lines.append(
            f"term {i + 1}: {printable(c['name'])} ({sub.loss}), weight {num(c['weight'])}"
        )
    return [paragraph("L = Σᵢ wᵢ·Lᵢ over these terms:", *lines)]


def custom_inputs(solution: Solution) -> list[Block]:
    count = len(solution.result.details["components"])
    return [
        paragraph(
            f"{count} weighted term{'s' if count != 1 else ''}, each a complete problem "
            "(its working: --details)"
        )
    ]


def custom_rows(solution: Solution) -> Rows:
    result = solution.result
    formula = [
        Formula(
            "L = Σᵢ wᵢ·Lᵢ   (each Lᵢ is its own problem's answer)",
            r"L = \sum_i w_i L_i\qquad\text{(each } L_i \text{ is its own problem's answer)}",
        )
    ]
    headers = ["i", "name", "loss", "Lᵢ", "wᵢ", "wᵢ·Lᵢ", "term"]
    rows = []
    for i, c in enumerate(result.details["components"]):
        sub = c["solution"].result
        # A component beyond float64 (a sum of 1e+616) is written as what it is.
        exact = getattr(sub, "exact_value", None)
        value = exact if exact is not None else float(sub.value)
        rows.append(
            [
                str(i + 1),
                printable(c["name"]),
                sub.loss,
                num(value),
                num(c["weight"]),
                f"{paren(c['weight'])} × {paren(value)}",
                num(result.terms[i]),
            ]
        )
    return formula, headers, rows


LAYOUTS = {
    "sequence": Layout("Sequence cross-entropy", sequence_rows, sequence_inputs, sequence_totals),
    "reinforce": Layout("REINFORCE loss", reinforce_rows, reinforce_inputs, reinforce_totals),
    # A custom loss is a weighted sum: no mean to speak of.
    "custom": Layout(
        "Custom loss",
        custom_rows,
        custom_inputs,
        mean=False,
        question="Compute the weighted sum of the terms below, each its own problem.",
        given=custom_given,
    ),
}


def working(solution: Solution, details: bool = False) -> Document:
    """Return the working of a sequence cross-entropy, REINFORCE or custom problem."""
    return document(solution, LAYOUTS[solution.result.loss], details)
