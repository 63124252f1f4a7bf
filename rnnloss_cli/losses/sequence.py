"""Sequence cross-entropy: −Σₜ log ŷ[t, targetₜ] over the unpadded steps, with perplexity."""

from __future__ import annotations

from rnnloss_cli.losses import Explanation, Key, Loss
from rnnloss_cli.losses.keys import (
    CLASSES,
    LOG_BASE,
    LOG_PROBS,
    LOGITS,
    TARGET,
    YHAT,
    reduction,
    template,
)

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
    ),
    validator="rnnloss_cli.problems.sequence:validate_sequence",
    core="rnnloss_cli.core.sequence:sequence_cross_entropy",
    help="Sequence cross-entropy −Σₜ log ŷ[t, targetₜ] over the unpadded steps, with "
    "perplexity; default reduction sum (the lecture's formula).",
    short="Sequence cross-entropy with padding and perplexity (alias: seq).",
    example="--target 1,2,0 --yhat '0.1,0.7,0.2;0.2,0.2,0.6;0.5,0.3,0.2'",
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
