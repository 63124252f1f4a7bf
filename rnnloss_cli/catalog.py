"""What each loss is, for `rnnloss explain` and `rnnloss new`: definitions, formulas, this
tool's conventions, the lecture's pitfalls, and a template problem that solves as it is."""

from __future__ import annotations

from dataclasses import dataclass

SCHEMA_FILE = "rnnloss.schema.json"


@dataclass(frozen=True)
class Entry:
    name: str
    title: str
    aliases: tuple[str, ...]
    summary: str  # one line: what it is
    use: str  # typical use
    formula: str
    when: str
    conventions: str
    pitfalls: str
    problem: str  # the bundled problem that shows it (in the source repository)
    template: str  # a problem file that solves as it stands
    example: str = ""  # the worked example as a command that runs in any install


def _template(body: str) -> str:
    return f"# yaml-language-server: $schema={SCHEMA_FILE}\n{body.lstrip()}"


LOSSES: dict[str, Entry] = {
    "mse": Entry(
        "mse",
        "Mean squared error",
        (),
        "the average of the squared differences between targets and predictions",
        "regression: time-series forecasting",
        "MSE = (1/n) Σᵢ (yᵢ − ŷᵢ)²",
        "Real-valued targets; large errors cost quadratically, so outliers dominate.",
        "Default reduction mean, as the lecture's 1/n (PyTorch's default too); a 2-D y/ŷ "
        "averages over every element. No logarithm, so no log_base.",
        "A sum and a mean differ by the factor n: check which the question wants (the working "
        "shows both).",
        "problems/mse_forecast.yaml",
        _template("""
# Mean squared error of a four-day forecast. Change y and yhat to your numbers.
loss: mse
title: Forecasting four days of temperature
y: [22.0, 24.5, 23.0, 25.5]       # targets
yhat: [21.5, 25.0, 23.5, 24.0]    # predictions
reduction: mean                   # mean (default) | sum | none
expected: 0.75                    # the answer key (optional)
"""),
        "rnnloss mse --y 22,24.5,23,25.5 --yhat 21.5,25,23.5,24 --expected 0.75",
    ),
    "bce": Entry(
        "bce",
        "Binary cross-entropy",
        ("cross-entropy",),
        "−[y log ŷ + (1 − y) log(1 − ŷ)] averaged over binary predictions",
        "binary classification: sentiment, spam, a yes/no per time step",
        "BCE = −(1/n) Σᵢ [yᵢ·log ŷᵢ + (1 − yᵢ)·log(1 − ŷᵢ)]",
        "Each output is one probability (a sigmoid); targets are 0/1 or soft in [0, 1].",
        "Default reduction mean, as the lecture's −1/n. yhat are probabilities, or give logits "
        "(sigmoid applied, logs taken from the logits so nothing rounds to log 0). 0·log 0 = 0; "
        "a 0 where the target puts weight is an infinite term with a warning, never clamped "
        "(PyTorch clamps its logs at −100); clip: EPS clips as Keras does. log_base e, 2 or 10.",
        "Probabilities of exactly 0 or 1 make a term infinite; a rounded σ(40) = 1 is not 1.",
        "problems/bce_sentiment.yaml",
        _template("""
# Binary cross-entropy of four predictions (1 = positive).
loss: bce
title: Sentiment of four reviews
y: [1, 0, 1, 0]                   # targets in [0, 1]
yhat: [0.9, 0.2, 0.6, 0.1]        # probabilities (or logits: [2.2, -1.4, 0.4, -2.2])
reduction: mean                   # mean (default) | sum | none
log_base: e                       # e (default) | 2 | 10
expected: 0.2362
"""),
        "rnnloss bce --y 1,0,1,0 --yhat 0.9,0.2,0.6,0.1 --expected 0.2362",
    ),
    "nll": Entry(
        "nll",
        "Negative log-likelihood",
        (),
        "−log of the probability the model gave the correct class, summed over observations",
        "multi-class outputs with a softmax: next-word prediction, tagging",
        "NLL = −Σᵢ log ŷᵢ[targetᵢ]   (= −Σᵢ Σ_c yᵢ,c log ŷᵢ,c with one-hot y)",
        "One correct class per observation.",
        "Default reduction sum, the lecture's formula (PyTorch's nll_loss averages: pass "
        "reduction: mean to compare). Targets as 0-based indices, class names (classes), or "
        "one-hot rows; predictions as probabilities, log_probs (as nll_loss takes them) or logits.",
        "Soft labels are not NLL: they belong to cce. PyTorch's NLLLoss expects log-probabilities, "
        "not probabilities.",
        "problems/nll_next_word.yaml",
        _template("""
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
        "rnnloss nll --classes the,cat,sat,on --target cat,sat,on --yhat "
        "'0.1,0.6,0.2,0.1; 0.05,0.15,0.7,0.1; 0.2,0.1,0.2,0.5' --expected 1.5606",
    ),
    "cce": Entry(
        "cce",
        "Categorical cross-entropy",
        ("categorical-cross-entropy",),
        "−Σ_c y_c log ŷ_c per observation, summed; y may be soft",
        "multi-class classification with one-hot or soft targets, label smoothing",
        "CCE = −Σᵢ Σ_c yᵢ,c·log ŷᵢ,c",
        "Targets are distributions over the classes (one-hot, soft, or smoothed).",
        "Default reduction sum, the lecture's formula. label_smoothing ε replaces y by "
        "(1 − ε)·y + ε/C, as PyTorch and Keras do. Rows that do not sum to 1 give a warning and "
        "are used as given.",
        "Keras' categorical_crossentropy averages over the batch, the lecture's formula sums.",
        "problems/cce_intent.yaml",
        _template("""
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
        "rnnloss cce --classes weather,music,alarm --target alarm,weather,music --yhat "
        "'0.1,0.2,0.7; 0.5,0.3,0.2; 0.25,0.5,0.25' --expected 1.743",
    ),
    "hinge": Entry(
        "hinge",
        "Hinge loss",
        ("sequence-hinge",),
        "max(0, margin − y·ŷ) per element or time step; multi-class with a rival class",
        "margin classifiers (SVM-style), ranking, per-time-step binary decisions",
        "L = (1/n) Σₜ max(0, 1 − yₜ·ŷₜ)   multi-class: max(0, 1 − s[y] + max_(j≠y) s[j])",
        "Labels are −1/+1 and predictions are scores, not probabilities.",
        "Default reduction mean: the lecture writes a sum but its worked example averages "
        "(1.4 / 3 ≈ 0.467); the working shows both. margin (1), squared (false). Multi-class: "
        "target and scores, multiclass crammer-singer (scikit-learn) or weston-watkins (PyTorch's "
        "multi_margin_loss, divided by C).",
        "Labels 0/1 must be written −1/+1. Sum versus mean: the lecture uses both.",
        "problems/hinge_sequence.yaml",
        _template("""
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
        "rnnloss hinge --y 1,-1,1 --yhat 0.8,-0.5,0.3 --expected 0.467",
    ),
    "sequence": Entry(
        "sequence",
        "Sequence cross-entropy",
        ("seq",),
        "per-time-step cross-entropy of a target sequence, padding left out, with perplexity",
        "machine translation, language models, any decoder trained with teacher forcing",
        "L = −Σₜ log ŷ[t, targetₜ]   perplexity = exp(mean per-token loss in nats)",
        "A target token at every step; batches padded to one length.",
        "Default reduction sum, the lecture's formula; mean is over the real (unpadded) tokens, "
        "as PyTorch's cross_entropy with ignore_index. Perplexity is always reported.",
        "Padding must be left out (ignore_index), or it is scored as if it were a word; sum and "
        "mean differ by the token count, not the sequence count.",
        "problems/translation_sequence.yaml",
        _template("""
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
        "rnnloss sequence --classes '<pad>,ich,bin,</s>' --ignore-index 0 --target "
        "'ich,bin,</s>,<pad>' --yhat '0,0.8,0.1,0.1; 0,0.1,0.5,0.4; 0,0.1,0.3,0.6; "
        "0.25,0.25,0.25,0.25' --expected 1.4271",
    ),
    "reinforce": Entry(
        "reinforce",
        "REINFORCE loss",
        ("rl",),
        "−Σₜ Aₜ log π(yₜ | sₜ): the policy-gradient loss, the negative of the lecture's objective",
        "sequence decisions with delayed reward: games, decoding with a sequence-level reward",
        "L = −Σₜ Aₜ·log π(yₜ | sₜ),   Gₜ = rₜ + γ·Gₜ₊₁",
        "Only the log-probabilities of the actions taken, and the rewards.",
        "Default reduction sum. returns as-given (the lecture's Rₜ) or reward-to-go; baseline "
        "(a number or mean); normalize as PyTorch's REINFORCE example.",
        "The lecture's Σ Rₜ log π is maximised; a loss is minimised, so the sign flips. With "
        "delayed reward, as-given returns give early moves no credit: use reward-to-go.",
        "problems/reinforce_game.yaml",
        _template("""
# REINFORCE with a reward only at the end, discounted back to each move.
loss: reinforce
title: Delayed reward in a four-move game
rewards: [0, 0, 0, 1]
probs: [0.5, 0.8, 0.6, 0.9]       # π of each action taken (or log_probs)
returns: reward-to-go             # as-given (default) | reward-to-go
gamma: 0.9
expected: 1.2512
"""),
        "rnnloss reinforce --rewards 0,0,0,1 --probs 0.5,0.8,0.6,0.9 --returns "
        "reward-to-go --gamma 0.9 --expected 1.2512",
    ),
    "ctc": Entry(
        "ctc",
        "Connectionist temporal classification",
        (),
        "−log of the total probability of every alignment that collapses to the label",
        "speech and handwriting recognition: unsegmented input, shorter label",
        "CTC = −log Σ_(π: B(π) = label) Πₜ P(πₜ)   (B: merge repeats, then remove blanks)",
        "Input frames outnumber the label's symbols and no alignment is given.",
        "Lecture mode (per-symbol values, listed alignments): the listed sum as the lecture "
        "does it, beside the exact forward sum over every length-T path; when the values do not "
        "sum to 1 that sum is no probability, and the exact loss is the one with each frame "
        "normalised (method normalized). Matrix mode (a T × V distribution per frame): exact "
        "loss, best and greedy paths, trellis, gradient. Reduction sum (default) is the "
        "lecture's −log p; reduction mean divides it by the label length, as PyTorch's "
        "F.ctc_loss does by default — its number is the sum ÷ L.",
        "Listing a few paths is not CTC; a path must collapse to the label (H-E-LL-O is HELO: "
        "a repeat needs a blank between); one input has one length T; per-frame values must "
        "sum to 1.",
        "problems/hello.yaml",
        _template("""
# CTC the lecture's way (listed alignments) with the exact answer beside it.
loss: ctc
title: Recognising "HI"
label: HI
blank: "-"
probabilities: {H: 0.5, I: 0.3, "-": 0.2}   # one value per symbol, every frame
alignments:                       # paths of one length T; each symbol one frame
  - H-I
  - HHI
  - HI-
method: listed                    # listed (as the lecture) | valid | exact | normalized
reduction: sum                    # sum (−log p) | mean (÷ the label length, as PyTorch)
expected: 2.0025
"""),
        "rnnloss ctc --label HELLO --probabilities 'H=0.6,E=0.5,L=0.7,O=0.8,-=0.2' "
        "--alignment H-E-L-L-O=0.6,0.2,0.5,0.7,0.7,0.8,0.5,0.7,0.8 "
        "--alignment H-E-LL-O=0.6,0.5,0.2,0.7,0.7,0.8,0.5,0.8 "
        "--alignment HE-L-L-O=0.6,0.2,0.5,0.7,0.5,0.7,0.8,0.8 --expected 3.673",
    ),
    "custom": Entry(
        "custom",
        "Custom (weighted) loss",
        (),
        "Σᵢ wᵢ·Lᵢ over terms that are complete problems of any loss",
        "multi-task models: CTC plus an attention decoder, auxiliary losses",
        "L = Σᵢ wᵢ·Lᵢ",
        "Several objectives trained together.",
        "Each term is its own problem (no expected of its own); weight defaults to 1; terms "
        "nest up to 3 deep. --details shows each term's working.",
        "A weight multiplies the term's value under its own reduction: a mean and a sum of the "
        "same terms weigh differently.",
        "problems/custom_ctc_sequence.yaml",
        _template("""
# Half a hinge loss plus a mean squared error.
loss: custom
title: Two objectives at once
terms:
  - name: margin
    weight: 0.5
    loss: hinge
    y: [1, -1, 1]
    yhat: [0.8, -0.5, 0.3]
  - name: regression
    loss: mse
    y: [1.0, 2.0]
    yhat: [1.5, 2.0]
expected: 0.3583
"""),
        "rnnloss new custom > p.yaml && rnnloss custom p.yaml --details",
    ),
}


def find(name: str) -> Entry | None:
    """Return the entry of a loss or an alias, or None."""
    key = name.strip().lower()
    if key in LOSSES:
        return LOSSES[key]
    return next((e for e in LOSSES.values() if key in e.aliases), None)
