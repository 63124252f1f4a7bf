"""Sequence cross-entropy: −Σₜ log ŷ[t, targetₜ] over the unpadded steps, with perplexity."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from rnnloss_cli.document import (
    Block,
    Document,
    Line,
    Matrix,
    line,
    paragraph,
)
from rnnloss_cli.losses import Explanation, Key, Loss
from rnnloss_cli.losses.keys import (
    CLASSES,
    GRAD,
    LOG_BASE,
    LOG_PROBS,
    LOGITS,
    TARGET,
    YHAT,
    reduction,
    template,
)
from rnnloss_cli.render.numbers import (
    LazyRows,
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
from rnnloss_cli.workings.common import (
    Formula,
    Layout,
    Rows,
    document,
    latex_log,
)

if TYPE_CHECKING:
    from rnnloss_cli.solver import Solution

LOSS = Loss(
    name="sequence",
    title="Sequence cross-entropy",
    aliases=("seq",),
    keys=(
        TARGET.with_help("Target class per time step (indices or names); sequences split by ;."),
        YHAT.with_help("Probability rows per step, split by ; (sequences by |)."),
        LOG_PROBS,
        LOGITS,
        CLASSES,
        Key("ignore_index", "integer", "the padding class", help="The padding index, left out."),
        reduction("sum"),
        LOG_BASE,
        GRAD,
    ),
    validator="rnnloss_cli.problems.sequence:validate_sequence",
    core="rnnloss_cli.core.sequence:sequence_cross_entropy",
    help="Sequence cross-entropy −Σₜ log ŷ[t, targetₜ] over the unpadded steps, with "
    "perplexity; default reduction sum (the lecture's formula).",
    short="Sequence cross-entropy with padding and perplexity (alias: seq).",
    example="--target 1,2,0 --yhat '0.1,0.7,0.2;0.2,0.2,0.6;0.5,0.3,0.2'",
    working="rnnloss_cli.losses.sequence:working",
    json="rnnloss_cli.losses.sequence:json_object",
    gradient="rnnloss_cli.core.sequence_grad:sequence_cross_entropy",
    explanation=Explanation(
        summary="per-time-step cross-entropy of a target sequence, padding left out, with "
        "perplexity",
        use="machine translation, language models, any decoder trained with teacher forcing",
        formula="L = −Σₜ log ŷ[t, targetₜ]   perplexity = exp(mean per-token loss in nats)",
        when="A target token at every step; batches padded to one length.",
        conventions="Default reduction sum, the lecture's formula; mean is over the real "
        "(unpadded) tokens, as PyTorch's cross_entropy with ignore_index. Perplexity is always "
        "reported.",
        pitfalls="Padding must be left out (ignore_index), or it is scored as if it were a word; "
        "sum and mean differ by the token count, not the sequence count.",
        problem="problems/translation_sequence.yaml",
        template=template("""
# Sequence cross-entropy of one target sentence (add rows for a padded batch).
loss: sequence
title: Translating "ich bin"
classes: [<pad>, ich, bin, </s>]
ignore_index: 0                   # the padding class, left out of the loss
target: [ich, bin, </s>]
yhat:                             # one probability row per time step
  - [0.0, 0.7, 0.2, 0.1]
  - [0.0, 0.1, 0.6, 0.3]
  - [0.0, 0.1, 0.1, 0.8]
expected: 1.0906
"""),
        example="rnnloss sequence --classes '<pad>,ich,bin,</s>' --ignore-index 0 --target "
        "'ich,bin,</s>,<pad>' --yhat '0,0.8,0.1,0.1; 0,0.1,0.5,0.4; 0,0.1,0.3,0.6; "
        "0.25,0.25,0.25,0.25' --expected 1.4271",
    ),
)


# --- the working ------------------------------------------------------------------------
# Built from the solved problem as a format-neutral Document (rnnloss_cli.document); the
# writers in rnnloss_cli.render set it in the terminal, Markdown or LaTeX.


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
        f"{display['pred_key']}: {shape} (a row over the classes at each step; the "
        "working needs only the target's entry)"
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
    import numpy as np

    from rnnloss_cli.core.result import log_divisor

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


def divided(divisor: float, log_base: str | None) -> tuple[str, str]:
    """Return what a gradient is divided by, as text and LaTeX: `` (nothing), `/3`,
    `/ln 2`, `/(3·ln 2)`."""
    parts = [num(divisor)] if divisor != 1 else []
    tex = [num(divisor)] if divisor != 1 else []
    if log_base not in (None, "e"):
        parts.append(f"ln {log_base}")
        tex.append(f"\\ln {log_base}")
    if not parts:
        return "", ""
    if len(parts) == 1:
        return f"/{parts[0]}", f"/{tex[0]}"
    return f"/({'·'.join(parts)})", "/(" + r" \cdot ".join(tex) + ")"


def divisor_words(divisor: float, count: str, log_base: str | None) -> str:
    """Return what the divisor of a gradient is, in words: `(N = 3, the mean's; ln 2: the
    loss in log base 2)`, or '' when there is none."""
    words = []
    if divisor != 1:
        words.append(f"{count} = {num(divisor)}, the mean's")
    if log_base not in (None, "e"):
        words.append(f"ln {log_base}: the loss in log base {log_base}")
    return f"   ({'; '.join(words)})" if words else ""


SEQUENCE_GRADIENTS = {
    # input: its derivative at class c of step t, as text and LaTeX, before the divisor
    "logits": (
        "(softmax(z)[t, c] − 1[c = targetₜ])",
        r"(\mathrm{softmax}(z)_{t,c} - [c = \mathrm{target}_t])",
    ),
    "log_probs": ("−1[c = targetₜ]", r"-[c = \mathrm{target}_t]"),
    "yhat": ("−1[c = targetₜ] / ŷ[t, c]", r"-[c = \mathrm{target}_t] / \hat{y}_{t,c}"),
}
SEQUENCE_WRT = {
    "logits": ("z", "z"),
    "log_probs": ("log ŷ", r"\log \hat{y}"),
    "yhat": ("ŷ", r"\hat{y}"),
}


def sequence_gradient_rows(solution: Solution) -> Rows:
    """Return the gradient's formula and a row per real step: the target entry worked, and
    the step's whole row of the gradient (its classes elided when there are many)."""
    import numpy as np

    result, display = solution.result, solution.problem.display
    gradient = solution.gradient
    assert gradient is not None
    d = result.details
    kind, classes = gradient.wrt, class_names(display)
    n = gradient.parts["divisor"]
    over, tex_over = divided(n, result.log_base)
    name, tex_name = SEQUENCE_WRT[kind]
    body, tex_body = SEQUENCE_GRADIENTS[kind]
    formula = [
        Formula(
            f"∂L/∂{name}[t, c] = {body}{over}{divisor_words(n, 'N', result.log_base)}",
            f"\\frac{{\\partial L}}{{\\partial {tex_name}_{{t,c}}}} = {tex_body}{tex_over}",
        ),
        "0 at the padded steps (left out of the loss); with reduction none, of the sum",
    ]
    batch, steps = d["target"].shape
    headers = [
        "t" if batch == 1 else "(seq, t)",
        "token",
        "working (the token)",
        f"∂L/∂{name}[t, ·]",
    ]
    real = np.flatnonzero(d["mask"])
    values = gradient.values.reshape(batch, steps, -1)
    # A custom loss's term: the working is the term's own gradient, the row w × it.
    own = gradient.parts.get("own", gradient.values).reshape(batch, steps, -1)

    def row(k: int) -> list[str]:
        b, t = divmod(int(real[k]), steps)
        token = int(d["target"][b, t])
        if kind == "logits":
            work = f"({num(gradient.parts['softmax'][b, t, token])} − 1){over}"
        elif kind == "log_probs":
            work = f"−1{over}"
        else:
            work = f"−1/{paren(d['p'][b, t])}{over}"
        work += f" = {num(own[b, t, token])}"
        position = str(t + 1) if batch == 1 else f"({b + 1}, {t + 1})"
        return [position, _token(token, classes), work, vector(values[b, t], limit=6)]

    return formula, headers, LazyRows(real.size, row)


# --- REINFORCE ------------------------------------------------------------------------------


MAX_GIVEN = 4  # sequences whose prediction matrix a question sheet writes out


def sequence_given(solution: Solution) -> list[Block]:
    """Return each sequence's prediction matrix, steps down, as a question gives it (the
    working shows only the target's entry of each step)."""
    problem = solution.problem
    values, key = problem.inputs["log_probs"], problem.display["pred_key"]
    if values.ndim == 2:  # one sequence, given as T × C
        values = values[None]
    classes = class_names(problem.display)
    batch, steps, count = values.shape
    columns = tuple(classes or [str(c) for c in range(count)])
    blocks: list[Block] = []
    for b in range(min(batch, MAX_GIVEN)):
        which = "" if batch == 1 else f", sequence {b + 1}"
        caption = f"{key}{which} ({steps} × {count}, a row per step):"
        blocks.append(Matrix(values[b], columns, "t", "operand", caption=caption))
    if batch > MAX_GIVEN:
        blocks.append(paragraph(f"… and {batch - MAX_GIVEN:,} more sequences (in the file)"))
    return blocks


LAYOUT = Layout(
    "Sequence cross-entropy",
    sequence_rows,
    sequence_inputs,
    sequence_totals,
    given=sequence_given,
    gradient=sequence_gradient_rows,
)


def working(solution: Solution, details: bool = False) -> Document:
    """Return the working of one solved problem."""
    return document(solution, LAYOUT, details)


def json_object(solution: Solution) -> dict[str, Any]:
    """Return the result object: a batch's terms one list per sequence (padding left
    out), the perplexity and each sequence's subtotal."""
    from rnnloss_cli.render.json_out import common_object

    out = common_object(solution)
    details = solution.result.details
    if not solution.problem.display.get("single"):
        out["terms"] = details["per_sequence"]
    out.update(perplexity=details["perplexity"], subtotals=details["subtotals"])
    return out
