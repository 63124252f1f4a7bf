"""Connectionist temporal classification: listed alignments and the exact forward sum."""

from __future__ import annotations

from typing import Any

from rnnloss_cli.losses import Explanation, Key, Loss
from rnnloss_cli.losses.keys import LOG_BASE, LOG_PROBS, LOGITS, PROBS, reduction, template

METHODS = ("listed", "valid", "exact", "normalized")
# sum: −log p, the lecture's; mean: divided by the label length (at least 1), as
# torch.nn.functional.ctc_loss's default reduction does.
REDUCTIONS = ("sum", "mean")
METHOD_WORDS = {
    "listed": "the listed alignments' loss (the lecture's method)",
    "valid": "the valid listed alignments' loss",
    "exact": "the exact loss",
    "normalized": "the exact loss with each frame normalised",
}


def readings(problem: Any, result: Any) -> list[Any]:
    """Return the answer under every other method, reduction and log base."""
    from rnnloss_cli.core.text import num
    from rnnloss_cli.solver import other_readings

    values = {
        (method, reduction): loss / (max(len(result.label), 1) if reduction == "mean" else 1)
        for method, loss in result.losses.items()
        for reduction in REDUCTIONS
    }
    words = dict(METHOD_WORDS)
    notes = {}  # what else to know of a method's value
    if not result.is_distribution:  # as the working calls it: −log of a sum, no loss
        words["exact"] = "the −log of the unnormalised exact sum (method exact)"
        words["normalized"] = "the normalised exact loss (each frame ÷ the values' sum)"
        notes["exact"] = (
            f"it is not a loss: the values sum to {num(result.probabilities_total)}, "
            "not 1 (method normalized gives the exact loss)"
        )
    return other_readings(result, values, (result.method, result.reduction), words, notes)


LOSS = Loss(
    name="ctc",
    title="Connectionist temporal classification",
    aliases=(),
    keys=(
        Key(
            "label",
            "label",
            "the label: a string of symbols, or a list",
            help="The label, e.g. HELLO (or 'th e' for multi-character symbols).",
        ),
        Key(
            "blank",
            "symbol",
            "the blank symbol (default -)",
            help="The blank symbol (default -).",
            default="-",
        ),
        Key(
            "probabilities",
            "pairs",
            "lecture mode: each symbol's value, every frame",
            help="Lecture mode: per-symbol values, e.g. 'H=0.6,E=0.5,L=0.7,O=0.8,-=0.2'.",
        ),
        Key(
            "alignments",
            "alignments",
            "lecture mode: the listed paths",
            help="A listed alignment (repeat the flag), e.g. H-E-L-L-O, or PATH=f1,f2,… with "
            "stated factors.",
            flag="--alignment",
            repeated=True,
        ),
        Key(
            "frames",
            "integer",
            "T for the exact sum",
            help="T for the exact computation.",
            bounds={"minimum": 1},
        ),
        Key(
            "alphabet",
            "symbols",
            "matrix mode: the symbols of the columns",
            help="Matrix mode: the symbols of the matrix columns, e.g. '-,a,c,t'.",
        ),
        PROBS.with_help("Matrix mode: T × V probabilities, rows split by ;."),
        LOG_PROBS.with_help("Matrix mode: T × V log-probabilities instead of --probs."),
        LOGITS.with_help("Matrix mode: T × V logits (log-softmax applied)."),
        Key(
            "method",
            "choice",
            "which CTC loss is the answer",
            help="Which loss is the answer: listed (the lecture's sum of the listed "
            "alignments), valid, exact, or normalized (lecture mode: the exact loss with each "
            "value divided by their sum).",
            choices=METHODS,
        ),
        reduction(
            "sum",
            REDUCTIONS,
            help="sum (−log p, the lecture's; default) or mean (÷ the label length, as "
            "torch's ctc_loss).",
        ),
        Key("trellis", "flag", "true or false", help="Show the alpha table.", default=False),
        Key(
            "grad",
            "flag",
            "true or false",
            help="Matrix mode: the gradient with respect to the logits.",
            default=False,
        ),
        LOG_BASE,
    ),
    validator="rnnloss_cli.problems.ctc:validate_ctc",
    core="rnnloss_cli.core.ctc_solve:solve",
    readings=readings,
    work="rnnloss_cli.problems.ctc:work",
    help="Connectionist temporal classification: the lecture's listed alignments beside the "
    "exact forward-algorithm sum over every alignment.",
    short="CTC loss: listed alignments and the exact sum.",
    example="--label HELLO --probabilities 'H=0.6,E=0.5,L=0.7,O=0.8,-=0.2' "
    "--alignment H-E-L-L-O --alignment HE-L-L-O",
    explanation=Explanation(
        summary="−log of the total probability of every alignment that collapses to the label",
        use="speech and handwriting recognition: unsegmented input, shorter label",
        formula="CTC = −log Σ_(π: B(π) = label) Πₜ P(πₜ)   (B: merge repeats, then remove blanks)",
        when="Input frames outnumber the label's symbols and no alignment is given.",
        conventions="Lecture mode (per-symbol values, listed alignments): the listed sum as the "
        "lecture does it, beside the exact forward sum over every length-T path; when the values "
        "do not sum to 1 that sum is no probability, and the exact loss is the one with each "
        "frame normalised (method normalized). Matrix mode (a T × V distribution per frame): "
        "exact loss, best and greedy paths, trellis, gradient. Reduction sum (default) is the "
        "lecture's −log p; reduction mean divides it by the label length, as PyTorch's "
        "F.ctc_loss does by default — its number is the sum ÷ L.",
        pitfalls="Listing a few paths is not CTC; a path must collapse to the label (H-E-LL-O is "
        "HELO: a repeat needs a blank between); one input has one length T; per-frame values "
        "must sum to 1.",
        problem="problems/hello.yaml",
        template=template("""
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
        example="rnnloss ctc --label HELLO --probabilities 'H=0.6,E=0.5,L=0.7,O=0.8,-=0.2' "
        "--alignment H-E-L-L-O=0.6,0.2,0.5,0.7,0.7,0.8,0.5,0.7,0.8 "
        "--alignment H-E-LL-O=0.6,0.5,0.2,0.7,0.7,0.8,0.5,0.8 "
        "--alignment HE-L-L-O=0.6,0.2,0.5,0.7,0.5,0.7,0.8,0.8 --expected 3.673",
    ),
)
