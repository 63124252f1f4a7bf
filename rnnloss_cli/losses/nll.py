"""Negative log-likelihood: −log of the probability given to the correct class."""

from __future__ import annotations

from rnnloss_cli.losses import Explanation, Loss
from rnnloss_cli.losses.keys import CLASSIFICATION_EXAMPLE, classification, template

LOSS = Loss(
    name="nll",
    title="Negative log-likelihood",
    aliases=(),
    keys=classification(label_smoothing=False),
    validator="rnnloss_cli.problems.elementwise:validate_nll",
    core="rnnloss_cli.core.elementwise:categorical_cross_entropy",
    help="Negative log-likelihood −Σ y log ŷ over one-hot targets (class indices or names); "
    "default reduction sum, the lecture's formula.",
    short="Negative log-likelihood.",
    example=CLASSIFICATION_EXAMPLE,
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
