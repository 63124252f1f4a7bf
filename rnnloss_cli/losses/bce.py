"""Binary cross-entropy: −[y log ŷ + (1 − y) log(1 − ŷ)]."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rnnloss_cli.document import (
    Document,
)
from rnnloss_cli.losses import Explanation, Loss
from rnnloss_cli.losses.keys import CLIP, GRAD, LOG_BASE, LOGITS, YHAT, Y, reduction, template
from rnnloss_cli.render.numbers import (
    LazyRows,
    log_name,
    num,
    operand,
    paren,
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
    position,
    position_label,
)
from rnnloss_cli.workings.gradients import gradient_formula, over

if TYPE_CHECKING:
    from rnnloss_cli.solver import Solution

# What the keys of categorical cross-entropy are, for a bce problem given one: `loss:
# cross-entropy` names binary cross-entropy, and one with class indices meant `cce`.
CLASS_KEYS = {
    "target": "class indices are",
    "classes": "class names are",
    "label_smoothing": "label smoothing is",
    "log_probs": "log-probabilities of classes are",
}


def misplaced(key: str, owners: list[str], written: str | None, flag: bool) -> str | None:
    """Return what to say of a key of categorical cross-entropy given to bce: point to
    `cce` itself, whatever else takes it (None: another loss's key, said as usual)."""
    if "cce" not in owners:
        return None
    name = key.lstrip("-").replace("-", "_")
    what = CLASS_KEYS.get(name, "it is")
    use = f"`rnnloss cce --{name.replace('_', '-')} …`" if flag else "write loss: cce"
    alias = f"`{written}` is binary cross-entropy (bce); " if written not in (None, "bce") else ""
    extra = ""
    if name == "target":
        extra = "; bce takes 0/1 targets with --y" if flag else "; bce takes 0/1 targets in y"
    losses = "cce (categorical cross-entropy)"
    if "nll" in owners:  # only where nll really takes the key (not label_smoothing)
        losses = f"nll and {losses}"
    return f"{alias}{what} for {losses}: {use}{extra}"


LOSS = Loss(
    name="bce",
    title="Binary cross-entropy",
    aliases=("cross-entropy",),
    keys=(
        Y.with_help("Targets in [0, 1] (0/1 labels), e.g. 1,0,1."),
        YHAT.with_help("Predicted probabilities, e.g. 0.9,0.2,0.6."),
        LOGITS.with_help("Logits instead of --yhat (sigmoid applied)."),
        reduction("mean"),
        LOG_BASE,
        CLIP,
        GRAD,
    ),
    validator="rnnloss_cli.problems.elementwise:validate_bce",
    core="rnnloss_cli.core.elementwise:bce",
    help="Binary cross-entropy −[y log ŷ + (1 − y) log(1 − ŷ)]; default reduction mean.",
    short="Binary cross-entropy (alias: cross-entropy).",
    example="--y 1,0,1 --yhat 0.9,0.2,0.6",
    misplaced=misplaced,
    working="rnnloss_cli.losses.bce:working",
    gradient="rnnloss_cli.core.elementwise_grad:bce",
    explanation=Explanation(
        summary="−[y log ŷ + (1 − y) log(1 − ŷ)] averaged over binary predictions",
        use="binary classification: sentiment, spam, a yes/no per time step",
        formula="BCE = −(1/n) Σᵢ [yᵢ·log ŷᵢ + (1 − yᵢ)·log(1 − ŷᵢ)]",
        when="Each output is one probability (a sigmoid); targets are 0/1 or soft in [0, 1].",
        conventions="Default reduction mean, as the lecture's −1/n. yhat are probabilities, or "
        "give logits (sigmoid applied, logs taken from the logits so nothing rounds to log 0). "
        "0·log 0 = 0; a 0 where the target puts weight is an infinite term with a warning, never "
        "clamped (PyTorch clamps its logs at −100); clip: EPS clips as Keras does. log_base e, 2 "
        "or 10.",
        pitfalls="Probabilities of exactly 0 or 1 make a term infinite; a rounded σ(40) = 1 is "
        "not 1.",
        problem="problems/bce_sentiment.yaml",
        template=template("""
# Binary cross-entropy of four predictions (1 = positive).
loss: bce
title: Sentiment of four reviews
y: [1, 0, 1, 0]                   # targets in [0, 1]
yhat: [0.9, 0.2, 0.6, 0.1]        # probabilities (or logits: [2.2, -1.4, 0.4, -2.2])
reduction: mean                   # mean (default) | sum | none
log_base: e                       # e (default) | 2 | 10
expected: 0.2362
"""),
        example="rnnloss bce --y 1,0,1,0 --yhat 0.9,0.2,0.6,0.1 --expected 0.2362",
    ),
)


# --- the working ------------------------------------------------------------------------
# Built from the solved problem as a format-neutral Document (rnnloss_cli.document); the
# writers in rnnloss_cli.render set it in the terminal, Markdown or LaTeX.


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


def _gradient_rows(solution: Solution) -> Rows:
    """From logits (σ(zᵢ) − yᵢ)/n; from probabilities (ŷᵢ − yᵢ)/(ŷᵢ(1 − ŷᵢ))/n (0 where
    clipping moved ŷ); divided by ln b for log base b. Reduction none: of the sum."""
    d, result, gradient = solution.result.details, solution.result, solution.gradient
    assert gradient is not None
    scale, base = gradient.parts["scale"], result.log_base
    by = over(scale, base)
    logits = "logits" in d
    if logits:
        wrt, body = ("zᵢ", "z_i"), ("σ(zᵢ) − yᵢ", r"\sigma(z_i) - y_i")
    else:
        wrt = ("ŷᵢ", r"\hat{y}_i")
        body = ("(ŷᵢ − yᵢ)/(ŷᵢ(1 − ŷᵢ))", r"\frac{\hat{y}_i - y_i}{\hat{y}_i (1 - \hat{y}_i)}")
    formula: list[object] = [gradient_formula(wrt, body, result.reduction, scale, base)]
    if logits:
        formula.append("the sigmoid's derivative σ(1 − σ) cancels the log's 1/ŷ: no division")
    clip = solution.problem.inputs.get("clip")
    headers = ["i", "y", "z" if logits else "ŷ", "working", "∂L/∂zᵢ" if logits else "∂L/∂ŷᵢ"]

    def row(k: int) -> list[str]:
        pos = position(d["y"].shape, k)
        y, p = float(d["y"][pos]), float(d["p"][pos])
        value = num(gradient.values[pos])
        if logits:
            work = f"({operand(p)} − {paren(y)}){by}" if by else f"{operand(p)} − {paren(y)}"
            return [position_label(pos), num(y), num(d["logits"][pos]), work, value]
        shown = clipped(float(d["yhat"][pos]), clip)
        if "passes" in gradient.parts and not gradient.parts["passes"][pos]:
            work = "0: clipped (the clip is flat here)"
        elif p == 0 or p == 1:  # one log is weighted 0: the other alone
            work = f"{num(1 - y)}/(1 − {operand(p)}){by}" if p == 0 else f"−{num(y)}/1{by}"
        else:
            q = operand(p)
            work = f"({q} − {paren(y)})/({q}·(1 − {q})){by}"
        return [position_label(pos), num(y), shown, work, value]

    return formula, headers, LazyRows(d["y"].size, row)


LAYOUT = Layout("Binary cross-entropy", _bce_rows, gradient=_gradient_rows)


def working(solution: Solution, details: bool = False) -> Document:
    """Return the working of one solved problem."""
    return document(solution, LAYOUT, details)
