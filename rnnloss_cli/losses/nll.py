"""Negative log-likelihood: −log of the probability given to the correct class."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rnnloss_cli.document import (
    Document,
)
from rnnloss_cli.losses import Explanation, Loss
from rnnloss_cli.losses.keys import CLASSIFICATION_EXAMPLE, GRAD, classification, template
from rnnloss_cli.workings.common import (
    Layout,
    Rows,
    document,
)

if TYPE_CHECKING:
    from rnnloss_cli.solver import Solution

LOSS = Loss(
    name="nll",
    title="Negative log-likelihood",
    aliases=(),
    keys=(*classification(label_smoothing=False), GRAD),
    validator="rnnloss_cli.problems.elementwise:validate_nll",
    core="rnnloss_cli.core.elementwise:categorical_cross_entropy",
    help="Negative log-likelihood −Σ y log ŷ over one-hot targets (class indices or names); "
    "default reduction sum, the lecture's formula.",
    short="Negative log-likelihood.",
    example=CLASSIFICATION_EXAMPLE,
    working="rnnloss_cli.losses.nll:working",
    gradient="rnnloss_cli.core.elementwise_grad:cross_entropy",
    explanation=Explanation(
        summary="−log of the probability the model gave the correct class, summed over "
        "observations",
        use="multi-class outputs with a softmax: next-word prediction, tagging",
        formula="NLL = −Σᵢ log ŷᵢ[targetᵢ]   (= −Σᵢ Σ_c yᵢ,c log ŷᵢ,c with one-hot y)",
        when="One correct class per observation.",
        conventions="Default reduction sum, the lecture's formula (PyTorch's nll_loss averages: "
        "pass reduction: mean to compare). Targets as 0-based indices, class names (classes), or "
        "one-hot rows; predictions as probabilities, log_probs (as nll_loss takes them) or "
        "logits.",
        pitfalls="Soft labels are not NLL: they belong to cce. PyTorch's NLLLoss expects "
        "log-probabilities, not probabilities.",
        problem="problems/nll_next_word.yaml",
        template=template("""
# Negative log-likelihood of three next-word predictions.
loss: nll
title: Next-word prediction
classes: [the, cat, sat, "on"]    # quote names YAML reads as booleans (on, yes, no)
target: [cat, sat, "on"]          # class names, or 0-based indices [1, 2, 3]
yhat:                             # one probability row per observation
  - [0.10, 0.60, 0.20, 0.10]
  - [0.05, 0.15, 0.70, 0.10]
  - [0.20, 0.10, 0.20, 0.50]
reduction: sum                    # sum (default, the lecture's formula) | mean | none
expected: 1.5606
"""),
        example="rnnloss nll --classes the,cat,sat,on --target cat,sat,on --yhat "
        "'0.1,0.6,0.2,0.1; 0.05,0.15,0.7,0.1; 0.2,0.1,0.2,0.5' --expected 1.5606",
    ),
)


# --- the working ------------------------------------------------------------------------
# Built from the solved problem as a format-neutral Document (rnnloss_cli.document); the
# writers in rnnloss_cli.render set it in the terminal, Markdown or LaTeX.


def _rows(solution: Solution) -> Rows:
    from rnnloss_cli.losses.cce import cross_entropy_rows

    return cross_entropy_rows(solution, "NLL")


def _gradient_rows(solution: Solution) -> Rows:
    from rnnloss_cli.losses.cce import cross_entropy_gradient_rows

    return cross_entropy_gradient_rows(solution)


LAYOUT = Layout("Negative log-likelihood", _rows, target_line=True, gradient=_gradient_rows)


def working(solution: Solution, details: bool = False) -> Document:
    """Return the working of one solved problem."""
    return document(solution, LAYOUT, details)
