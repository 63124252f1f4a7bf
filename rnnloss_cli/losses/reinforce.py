"""REINFORCE: −Σₜ Aₜ log π(yₜ | sₜ), the negative of the lecture's objective."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rnnloss_cli.document import (
    Block,
    Document,
    Line,
    line,
    paragraph,
)
from rnnloss_cli.losses import Explanation, Key, Loss
from rnnloss_cli.losses.keys import GRAD, LOG_BASE, LOG_PROBS, PROBS, reduction, template
from rnnloss_cli.render.numbers import (
    LazyRows,
    beyond,
    log_name,
    log_of,
    num,
    paren,
    probability,
    vector,
)
from rnnloss_cli.workings.common import (
    Formula,
    Layout,
    Rows,
    document,
    latex_log,
    latex_number,
)

if TYPE_CHECKING:
    from rnnloss_cli.solver import Solution

RETURNS = ("as-given", "reward-to-go")


def readings(problem: Any, result: Any) -> list[Any]:
    """Return the sum and the mean in every log base, and the objective J (= −sum), the
    lecture's formula: an answer key may hold any of them."""
    from rnnloss_cli.solver import Reading, term_readings

    objective = Reading(
        (),
        float(result.details["objective"]),
        "the objective J = Σₜ Aₜ·log πₜ",
        "the lecture's formula, to maximise; the loss is its negative",
    )
    return [*term_readings(result), objective]


LOSS = Loss(
    name="reinforce",
    title="REINFORCE loss",
    aliases=("rl",),
    keys=(
        Key("rewards", "vector", "the rewards R_t", help="Rewards per step."),
        PROBS.with_help("π of each action taken, per step."),
        LOG_PROBS.with_help("log π of each action, instead of --probs."),
        Key(
            "gamma",
            "number",
            "discount in [0, 1] for reward-to-go",
            help="Discount (default 1).",
            default=1.0,
            bounds={"minimum": 0, "maximum": 1},
        ),
        Key(
            "returns",
            "choice",
            "the returns A_t start from",
            help="as-given (default) or reward-to-go.",
            default="as-given",
            choices=RETURNS,
        ),
        Key("baseline", "number-or-mean", "a number or mean", help="A number, or mean."),
        Key(
            "normalize",
            "flag",
            "true or false",
            help="Standardise the returns as PyTorch's example.",
            default=False,
        ),
        reduction("sum"),
        LOG_BASE,
        GRAD,
    ),
    validator="rnnloss_cli.problems.sequence:validate_reinforce",
    core="rnnloss_cli.core.sequence:reinforce",
    readings=readings,
    help="REINFORCE loss −Σₜ Aₜ log π(yₜ | sₜ): the negative of the lecture's objective "
    "Σₜ Rₜ log π, to minimise; default reduction sum.",
    short="REINFORCE policy-gradient loss (alias: rl).",
    example="--rewards 0,0,1 --probs 0.5,0.4,0.9 --returns reward-to-go --gamma 0.9",
    working="rnnloss_cli.losses.reinforce:working",
    json="rnnloss_cli.losses.reinforce:json_object",
    gradient="rnnloss_cli.core.sequence_grad:reinforce",
    explanation=Explanation(
        summary="−Σₜ Aₜ log π(yₜ | sₜ): the policy-gradient loss, the negative of the lecture's "
        "objective",
        use="sequence decisions with delayed reward: games, decoding with a sequence-level reward",
        formula="L = −Σₜ Aₜ·log π(yₜ | sₜ),   Gₜ = rₜ + γ·Gₜ₊₁",
        when="Only the log-probabilities of the actions taken, and the rewards.",
        conventions="Default reduction sum. returns as-given (the lecture's Rₜ) or reward-to-go; "
        "baseline (a number or mean); normalize as PyTorch's REINFORCE example.",
        pitfalls="The lecture's Σ Rₜ log π is maximised; a loss is minimised, so the sign flips. "
        "With delayed reward, as-given returns give early moves no credit: use reward-to-go.",
        problem="problems/reinforce_game.yaml",
        template=template("""
# REINFORCE with a reward only at the end, discounted back to each move.
loss: reinforce
title: Delayed reward in a four-move game
rewards: [0, 0, 0, 1]
probs: [0.5, 0.8, 0.6, 0.9]       # π of each action taken (or log_probs)
returns: reward-to-go             # as-given (default) | reward-to-go
gamma: 0.9
expected: 1.2512
"""),
        example="rnnloss reinforce --rewards 0,0,0,1 --probs 0.5,0.8,0.6,0.9 --returns "
        "reward-to-go --gamma 0.9 --expected 1.2512",
    ),
)


# --- the working ------------------------------------------------------------------------
# Built from the solved problem as a format-neutral Document (rnnloss_cli.document); the
# writers in rnnloss_cli.render set it in the terminal, Markdown or LaTeX.


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
    from rnnloss_cli.core.result import log_divisor

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


def reinforce_gradient_rows(solution: Solution) -> Rows:
    """Return the gradient's formula and a row per step: −Aₜ/πₜ (or −Aₜ) over T and ln b."""
    from rnnloss_cli.losses.sequence import divided, divisor_words

    result, gradient = solution.result, solution.gradient
    assert gradient is not None
    d = result.details
    n = gradient.parts["divisor"]
    over, tex_over = divided(n, result.log_base)
    words = divisor_words(n, "T", result.log_base)
    if gradient.wrt == "probs":
        formula = [
            Formula(
                f"∂L/∂πₜ = −Aₜ/πₜ{over}{words}",
                f"\\frac{{\\partial L}}{{\\partial \\pi_t}} = -\\frac{{A_t}}{{\\pi_t}}{tex_over}",
            )
        ]
        headers = ["t", "A", "π", "working", "∂L/∂πₜ"]
    else:
        formula = [
            Formula(
                f"∂L/∂log πₜ = −Aₜ{over}{words}",
                f"\\frac{{\\partial L}}{{\\partial \\log \\pi_t}} = -A_t{tex_over}",
            )
        ]
        headers = ["t", "A", "log π", "working", "∂L/∂log πₜ"]
    formula.append(
        "Aₜ comes from the rewards alone (baseline and normalisation too): a constant here"
    )

    def row(t: int) -> list[str]:
        a, p, log_p = d["advantages"][t], d["p"][t], d["log_probs"][t]
        if gradient.wrt == "probs":
            shown, work = probability(float(p), float(log_p)), f"−{paren(a)}/{paren(p)}{over}"
        else:
            shown, work = num(log_p), f"−{paren(a)}{over}"
        return [str(t + 1), num(a), shown, work, num(gradient.values[t])]

    return formula, headers, LazyRows(d["rewards"].size, row)


LAYOUT = Layout(
    "REINFORCE loss",
    reinforce_rows,
    reinforce_inputs,
    reinforce_totals,
    gradient=reinforce_gradient_rows,
)


def working(solution: Solution, details: bool = False) -> Document:
    """Return the working of one solved problem."""
    return document(solution, LAYOUT, details)


def json_object(solution: Solution) -> dict[str, Any]:
    """Return the result object with the objective, the advantages (`returns`) and the
    settings that made them."""
    from rnnloss_cli.render.json_out import common_object

    out = common_object(solution)
    details = solution.result.details
    out["objective"] = details["objective"]
    out["returns"] = details["advantages"]
    out["gamma"] = details["gamma"]
    out["returns_rule"] = details["returns"]
    out["baseline"] = details["baseline"]
    out["normalize"] = details["normalize"]
    return out
