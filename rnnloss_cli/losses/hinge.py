"""Hinge loss: max(0, margin − y·ŷ), binary or multi-class."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rnnloss_cli.losses import Explanation, Key, Loss
from rnnloss_cli.losses.keys import CLASSES, TARGET, YHAT, Y, reduction, template

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
    ),
    validator="rnnloss_cli.problems.elementwise:validate_hinge",
    core="rnnloss_cli.core.elementwise:hinge",
    choose_core=choose_core,
    help="Hinge loss max(0, margin − y·ŷ) per element or time step; default reduction mean.",
    short="Hinge loss per element or time step (alias: sequence-hinge).",
    example="--y 1,-1,1 --yhat 0.8,-0.5,0.3",
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
