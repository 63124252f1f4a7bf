"""Categorical cross-entropy: −Σ_c y_c log ŷ_c, with soft labels and label smoothing."""

from __future__ import annotations

from rnnloss_cli.losses import Explanation, Loss
from rnnloss_cli.losses.keys import CLASSIFICATION_EXAMPLE, classification, template

LOSS = Loss(
    name="cce",
    title="Categorical cross-entropy",
    aliases=("categorical-cross-entropy",),
    keys=classification(label_smoothing=True),
    validator="rnnloss_cli.problems.elementwise:validate_cce",
    core="rnnloss_cli.core.elementwise:categorical_cross_entropy",
    help="Categorical cross-entropy −Σᵢ Σ_c yᵢ,c log ŷᵢ,c, with soft labels and label "
    "smoothing; default reduction sum, the lecture's formula.",
    short="Categorical cross-entropy (alias: categorical-cross-entropy).",
    example=CLASSIFICATION_EXAMPLE,
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
