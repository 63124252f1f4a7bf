"""Connectionist temporal classification: listed alignments and the exact forward sum."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from rnnloss_cli.document import (
    Document,
    Line,
    Matrix,
    Paragraph,
    Section,
    Table,
    line,
    paragraph,
)
from rnnloss_cli.errors import printable
from rnnloss_cli.losses import Command, Explanation, Key, Loss
from rnnloss_cli.losses.keys import GRAD, LOG_BASE, LOG_PROBS, LOGITS, PROBS, reduction, template
from rnnloss_cli.render.numbers import (
    listing,
    log_name,
    num,
    operand,
    probability,
)
from rnnloss_cli.workings.common import (
    answer,
    base,
    headline,
)

if TYPE_CHECKING:
    import numpy as np

    from rnnloss_cli.core.ctc_solve import CTCResult
    from rnnloss_cli.solver import Solution

METHODS = ("listed", "valid", "exact", "normalized")
DECODERS = ("beam", "greedy")  # decode: prefix beam search (the default), or arg-max
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
            "the label: a string of symbols, or a list (optional when decoding)",
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
            "steps",
            "flag",
            "true: write out the forward recursion cell by cell (β and occupancy too with grad)",
            help="Write out the forward recursion cell by cell with the numbers substituted "
            "(β and the occupancy α·β/p too with --grad); up to "
            "400 cells (frames × states), beyond which --trellis shows the table.",
            default=False,
        ),
        Key(
            "enumerate",
            "flag",
            "true (or all): list every length-T alignment of the label, most probable first",
            help="all: list every length-T alignment that collapses to the label, most "
            "probable first, their sum beside the forward algorithm's (2,000 listed at most; "
            "the count is exact).",
            default=False,
            flag="--alignments",
            choices=("all",),
        ),
        Key(
            "decode",
            "flag",
            "matrix mode: decode the matrix, beam (prefix beam search; or true) or greedy "
            "(arg-max per frame); the label is then optional",
            help="Matrix mode: decode the matrix: beam (prefix beam search, the beam after "
            "every frame; --decode alone) or greedy (arg-max per frame). The label is then "
            "optional.",
            choices=DECODERS,
        ),
        Key(
            "beam_width",
            "integer",
            "prefixes kept after every frame by beam search (default 100)",
            help="Prefixes kept after every frame by beam search (default 100, as "
            "TensorFlow's decoder); implies --decode beam.",
            bounds={"minimum": 1, "maximum": 10_000},
        ),
        GRAD.with_help(
            "Show the gradient of the answer with respect to the matrix as given (matrix "
            "mode); dp.grad keeps the one with respect to the logits."
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
    working="rnnloss_cli.losses.ctc:working",
    json="rnnloss_cli.losses.ctc:json_object",
    gradient="rnnloss_cli.core.sequence_grad:ctc",
    commands=(
        Command(
            "decode",
            {"decode": "beam"},
            help="Decode per-frame CTC distributions (matrix mode): prefix beam search with "
            "the beam after every frame (--decode greedy: arg-max per frame), the n-best with "
            "their probabilities beside the exact ones (the forward algorithm); the label is "
            "optional. The ctc command's keys and flags, with decode: beam by default.",
            short="CTC decoding: prefix beam search, frame by frame.",
            example="--alphabet '-,a,b' --probs '0.6,0.3,0.1; 0.5,0.3,0.2; 0.6,0.1,0.3' "
            "--beam-width 2",
            # matrix mode's keys: lecture mode (probabilities, alignments, frames, method)
            # has nothing to decode
            keys=(
                "label",
                "blank",
                "alphabet",
                "probs",
                "log_probs",
                "logits",
                "decode",
                "beam_width",
                "reduction",
                "trellis",
                "steps",
                "enumerate",
                "grad",
                "log_base",
            ),
            template=template("""
# Decoding per-frame distributions by prefix beam search (no label needed).
loss: ctc
title: Decoding three frames
alphabet: ["-", a, b]            # the columns; the blank is "-" (or set blank:)
probs:                           # T rows, each frame's distribution over the alphabet
  - [0.6, 0.3, 0.1]
  - [0.5, 0.3, 0.2]
  - [0.6, 0.1, 0.3]
decode: beam                     # beam (prefix beam search) | greedy (arg-max per frame)
beam_width: 2                    # prefixes kept after every frame (default 100)
# label: a                       # optional: the loss is then the label's, checked against
#                                # the decoding; without it, the decoded output's
expected: 1.1744                 # −ln 0.309: the CTC loss of the decoded output "a"
"""),
        ),
    ),
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
        "F.ctc_loss does by default — its number is the sum ÷ L. From the inside (either mode): "
        "--alignments all lists every length-T alignment with its product, most probable "
        "first, their sum beside the forward algorithm's (2,000 listed at most, the count "
        "exact); --steps writes the forward recursion α cell by cell with the numbers "
        "substituted (β and the occupancy α·β/p too with --grad; up to 400 cells, beyond "
        "which --trellis shows the table). Decoding (matrix mode; rnnloss decode, or "
        "--decode): greedy takes the arg-max of every frame — the best single path, not the "
        "best output; prefix beam search keeps the beam-width most probable prefixes after "
        "every frame, each with P_b (its paths ending in a blank) and P_nb (ending in its "
        "last symbol), and gives the n-best with the beam's probability beside the exact one "
        "(a lower bound: the paths through pruned prefixes are lost). Without a label the "
        "answer is the CTC loss of the decoded output.",
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


# --- the working ------------------------------------------------------------------------
# Built from the solved problem as a format-neutral Document (rnnloss_cli.document); the
# writers in rnnloss_cli.render set it in the terminal, Markdown or LaTeX.


MAX_FACTORS = 12  # factors written out in a product before the middle is elided


def _product(factors: Sequence[float]) -> str:
    items = [num(f) for f in factors]
    if len(items) > MAX_FACTORS:
        items = [*items[:5], "…", *items[-3:]]
    return " × ".join(items)


MAX_PATH_SHOWN = 60  # symbols of a path written out before the middle is elided


def _word(result: CTCResult, symbols: Sequence[str]) -> str:
    """Return a path or label as the label was written, eliding the middle of long paths
    (user text, shown as `printable` shows it)."""
    if len(symbols) > MAX_PATH_SHOWN:
        head, tail = list(symbols[:40]), list(symbols[-15:])
        return printable(f"{result.word(head)} … {result.word(tail)} ({len(symbols)} symbols)")
    return printable(result.word(symbols))


def symbols_shown(symbols: Sequence[str]) -> list[str]:
    """Return symbols as the working shows them: as written, a control character marked."""
    return [printable(symbol) for symbol in symbols]


LABEL_COLUMNS = "the blank's and the label's symbols'"  # what label_columns keeps
REPEAT_STATES = "each repeated letter with the blank between"  # what repeat_states keeps


def label_columns(result: CTCResult) -> list[int]:
    """Return the alphabet columns of the blank and of the label's symbols (matrix mode):
    those a matrix too wide to show whole keeps."""
    if result.alphabet is None:
        return []
    wanted = {result.blank, *result.label}
    return [i for i, symbol in enumerate(result.alphabet) if symbol in wanted]


def repeat_states(result: CTCResult) -> list[int]:
    """Return the trellis columns of each adjacent repeat in the label — the two letters
    and the blank between them, which no path may skip — for a trellis too wide to show
    whole to keep."""
    out = []
    for i in range(1, len(result.label)):
        if result.label[i] == result.label[i - 1]:
            out += [2 * i - 1, 2 * i, 2 * i + 1]  # states of l_i, the blank, l_(i+1)
    return out


def inputs_lines(result: CTCResult, solution: Solution) -> list[str]:
    """Return the inputs as lines: the label and blank, the values or the alphabet."""
    if result.label_given:
        count = f"{len(result.label)} symbol{'' if len(result.label) == 1 else 's'}"
        first = f"label = {_word(result, result.label)}   ({count})   blank = "
    else:  # the question gives none: the answer must not be in its inputs
        first = "no label (decoding finds the output)   blank = "
    lines: list[str] = [first + printable(result.blank)]
    if result.probabilities is not None:
        values = "   ".join(
            f"P({printable(s)}) = {operand(p)}" for s, p in result.probabilities.items()
        )
        lines.append(f"{values}   (sum {operand(result.probabilities_total)})")
    else:
        assert result.alphabet is not None
        key = solution.problem.display.get("matrix_key", "log_probs")
        lines.append(f"alphabet = {listing(symbols_shown(result.alphabet), 40)}")
        lines.append(f"{key} (T × V = {result.dp.frames} × {len(result.alphabet)}):")
    return lines


def log_note(result: CTCResult, value: float, log_value: float, name: str = "p") -> str:
    """Return `  (ln p = −800)` after a probability or sum that float64 holds only as 0 (or
    ∞) while its natural logarithm `log_value` is finite (in the problem's log base, as
    the loss beside it), else ''."""
    if (value == 0.0 or math.isinf(value)) and math.isfinite(log_value):
        log = log_name(result.log_base)
        return f"  ({log} {name} = {num(result.in_log_base(log_value))})"
    return ""


LISTED_HEADERS = ["#", "path", "collapses to", "valid", "product of its factors = probability"]


def listed_rows(result: CTCResult) -> list[list[str | Line]]:
    """Return one row per listed alignment: number, path, collapse, ✓/✗, product = p."""
    naive = result.naive
    assert naive is not None
    rows = []
    for i, a in enumerate(naive.alignments):
        mark = "stated: " if a.stated else ""
        rows.append(
            [
                str(i + 1),
                _word(result, a.path),
                _word(result, a.collapsed),
                line(("✓", "good") if a.valid else ("✗", "bad")),
                line(
                    f"{mark}{_product(a.factors)} = ",
                    (num(a.probability, 6), "bold"),
                    log_note(result, a.probability, a.log_probability).rstrip(),
                ),
            ]
        )
    return rows


def listed_totals(result: CTCResult) -> list[Line]:
    """Return the listed method's sum, −log, and the valid-only variant."""
    naive = result.naive
    assert naive is not None
    log = log_name(result.log_base)
    probabilities = [a.probability for a in naive.alignments]
    sum_text = (
        " + ".join(num(p) for p in probabilities)
        if len(probabilities) <= 6
        else f"the {len(probabilities)} products above"
    )
    # A sum that underflows float64 to 0 is given with its log, and the loss is taken
    # from that log: never −ln 0 beside a finite loss.
    total_note = log_note(result, naive.probability, naive.log_probability, "P")
    taken = "P" if total_note else operand(naive.probability)
    lines = [
        line(("Sum   ", "bold"), f"P = {sum_text} = {operand(naive.probability)}{total_note}"),
        line(("Loss  ", "bold"), f"−{log} {taken} = {num(naive.loss)}"),
    ]
    if result.reduction == "mean" and result.method == "listed":
        lines.append(mean_line(result, naive.loss, explain=True))
    valid = (
        f"valid alignments only: P = {operand(naive.valid_probability)}"
        f"{log_note(result, naive.valid_probability, naive.valid_log_probability, 'P')}, "
        f"−{log} P = {num(naive.valid_loss)}"
    )
    lines.append(line((valid, "dim" if result.method != "valid" else "")))
    if result.reduction == "mean" and result.method == "valid":
        lines.append(mean_line(result, naive.valid_loss, explain=True))
    return lines


LISTED_HEADING = "Listed alignments (the lecture's method: multiply each, then add)"


EXACT_HEADING = "Exact CTC (the forward algorithm sums every alignment)"


def collapse_rule(result: CTCResult) -> str:
    return (
        f"collapse rule: merge repeated symbols, then remove the blank ({printable(result.blank)})"
    )


def per_symbol_words(result: CTCResult) -> str:
    """Return what reduction mean divides by, in words: `5 label symbols`, `1 label
    symbol`, or for an empty label `max(L, 1) = 1` (torch divides by at least 1)."""
    length = len(result.label)
    if length == 0:
        return "max(L, 1) = 1"
    return f"{length} label symbol{'' if length == 1 else 's'}"


def mean_words(result: CTCResult) -> str:
    """Return the Answer box's words for reduction mean (nothing for sum)."""
    if result.reduction != "mean":
        return ""
    if not result.label:
        return ", mean: ÷ max(L, 1) = 1 for the empty label"
    return f", mean over {per_symbol_words(result)}"


def mean_line(result: CTCResult, loss: float, explain: bool = False) -> Line:
    """Return the reduction-mean line: the loss divided by the label length (`explain`:
    and what reduction mean is, said once in a working). An empty label's L = 0 is
    divided by max(L, 1) = 1, and the line says so, explained or not."""
    reduced = num(result.reduced(loss))
    torch = "reduction mean, as torch's ctc_loss"
    if result.label:
        text = f"{num(loss)} / {per_symbol_words(result)} = {reduced}"
        if explain:
            text += f"   ({torch}: ÷ the label length)"
    else:
        text = f"{num(loss)} / 1 = {reduced}   (÷ max(L, 1) = 1: the label is empty, L = 0"
        text += f"; {torch})" if explain else ")"
    return line(("Mean  ", "bold"), text)


def exact_lines(result: CTCResult) -> list[Line]:
    """Return the exact section: T, the path count, p, the loss, normalised, best, greedy.

    When lecture-mode values are not a distribution, the sum over the paths is not a
    probability: it is shown for what it is, and the normalised computation is the loss.
    """
    dp = result.dp
    log = log_name(result.log_base)
    label = _word(result, result.label)
    frames = f"{dp.frames} frame{'' if dp.frames == 1 else 's'}"
    paths = f"{dp.paths:,} path{'' if dp.paths == 1 else 's'}"
    body = [
        line(
            f"T = {frames}; {paths} of length {dp.frames} collapse{'s' if dp.paths == 1 else ''} "
            f"to {label} (at least {dp.min_frames} frame{'' if dp.min_frames == 1 else 's'} "
            f"{'is' if dp.min_frames == 1 else 'are'} needed)"
        ),
    ]

    normalized = getattr(dp, "normalized", None)
    mean = result.reduction == "mean"
    # Every loss the Answer box shows has its ÷ label length here: the method's own, and
    # the exact loss (normalised, when the values are not a distribution) it always shows.
    explain = result.naive is None or result.method not in ("listed", "valid")
    if normalized is None:
        body += [
            line(
                f"p({label} | x) = Σ over those paths of their products = "
                f"{operand(dp.probability)}" + log_note(result, dp.probability, dp.log_probability)
            ),
            line(("Loss  ", "bold"), f"−{log} p = {num(result.exact_loss)}"),
        ]
        if mean:
            body.append(mean_line(result, result.exact_loss, explain))
    else:
        total = num(normalized.total)
        unnormalised = num(dp.probability) + log_note(
            result, dp.probability, dp.log_probability, "Σ"
        ).replace("  (", " (")
        verdict = "more than 1: " if dp.probability > 1.0 else ""
        body.append(
            line(
                f"as given (the values sum to {total}, not 1): Σ over those paths of their "
                f"products = {unnormalised}, {verdict}not a probability, so its −{log}, "
                f"{num(result.exact_loss)}, is not a loss"
            )
        )
        if mean and result.method == "exact":
            body.append(mean_line(result, result.exact_loss, explain))
            explain = False
        body += [
            line(f"normalised (each value ÷ {total}, so that every frame is a distribution):"),
            line(
                f"  p({label} | x) = {operand(normalized.probability)}"
                + log_note(result, normalized.probability, normalized.log_probability)
            ),
            line(("  Loss  ", "bold"), f"−{log} p = {num(result.normalized_loss)}"),
        ]
        if mean:
            assert result.normalized_loss is not None
            body.append(line("  ", *mean_line(result, result.normalized_loss, explain)))
    if dp.best_path is not None:
        path = dp.best_path.path
        symbols = [result.alphabet[i] for i in path] if result.alphabet else path
        what = "p" if normalized is None else "product of its values as given"
        best = dp.best_path
        body.append(
            line(
                f"best path (Viterbi): {_word(result, symbols)}   {what} = "
                f"{num(best.probability)}"
                + log_note(result, best.probability, best.log_probability, what.split()[0])
            )
        )
    greedy = getattr(dp, "greedy", None)
    if greedy is not None and result.alphabet is not None and result.decoding is None:
        path = [result.alphabet[i] for i in greedy.path]
        collapsed = [result.alphabet[i] for i in greedy.collapsed]
        body.append(
            line(f"greedy (arg-max per frame): {_word(result, path)} → {_word(result, collapsed)}")
        )
    return body


ALIGNMENTS_HEADERS = ["#", "path", "product of its values", "listed by the lecture"]


def alignments_section(result: CTCResult) -> Section:
    """Return every alignment of the label, most probable first, and their sum beside the
    forward algorithm's (`--alignments all`)."""
    every = result.alignments
    assert every is not None
    dp = result.dp
    label = _word(result, result.label)
    what = "p" if result.is_distribution else "Σ"
    listed_column = result.naive is not None
    logs = every.logs or [None] * len(every.paths)
    rows: list[list[str | Line]] = [
        # a product float64 holds only as 0 is written by its log, e^(−800), never 0
        [str(i + 1), _word(result, path), probability(product, log)]
        + ([line(("✓ listed", "good")) if marked else ""] if listed_column else [])
        for i, ((path, product, marked), log) in enumerate(zip(every.paths, logs, strict=True))
    ]
    shown = len(every.paths)
    lines = []
    if every.capped:
        lines.append(
            line(
                f"the {shown:,} most probable of {every.count:,} listed (the count is exact); "
                f"their sum {operand(every.listed_sum)}; the other {every.count - shown:,} sum "
                f"to the forward algorithm's {what} − that = {operand(every.rest)}"
            )
        )
    else:
        verdict = "they agree" if every.agrees else "they DIFFER"
        lines.append(
            line(
                ("Sum   ", "bold"),
                f"Σ of the {every.count:,} products = "
                f"{probability(every.listed_sum, every.listed_log)}   forward algorithm: {what} "
                f"= {probability(every.total, every.total_log)}   ({verdict})",
            )
        )
    if result.naive is not None:
        listed = sum(1 for _, _, marked in every.paths if marked)
        lines.append(
            line(
                (
                    f"the lecture lists {len(result.naive.alignments)} alignment"
                    f"{'' if len(result.naive.alignments) == 1 else 's'}; {listed} of them "
                    f"{'is' if listed == 1 else 'are'} among these (✓): listing a few paths "
                    "is not CTC",
                    "dim",
                )
            )
        )
    frames = dp.frames
    heading = (
        f"Every alignment (all {every.count:,} length-{frames} paths that collapse to {label}, "
        "most probable first)"
    )
    headers = ALIGNMENTS_HEADERS if listed_column else ALIGNMENTS_HEADERS[:3]
    table = Table(tuple(headers), rows, left=frozenset({1, 3}), wide=1, whole=True)
    return Section(heading, (table, Paragraph(tuple(lines))), "alignments")


def _state_names(result: CTCResult, states: Sequence[str]) -> list[str]:
    """Return the trellis states' names: the blank as ε, unless ε is a symbol of the label."""
    epsilon = "ε" if "ε" not in result.label else result.blank
    return symbols_shown([epsilon if x == result.blank else x for x in states])


def _emission(result: CTCResult, symbol: str, t: int) -> str:
    """Return how a frame's value of a symbol is written: P(a) (lecture), y(t, a) (matrix)."""
    symbol = printable(symbol)
    return f"P({symbol})" if result.alphabet is None else f"y({t}, {symbol})"


SKIP_NOTES = {
    "allowed": "+ s−2: a skip over the blank, {before} ≠ {here}",
    "repeat": "no s−2: {here} repeats {before}, so the blank between is needed",
}


def steps_sections(result: CTCResult) -> list[Section]:
    """Return the forward recursion cell by cell (and β and the occupancy with grad), or a
    note that the problem is over the cap, pointing to --trellis (`--steps`)."""
    import numpy as np

    from rnnloss_cli.core.ctc_solve import STEPS_CELLS

    steps = result.steps
    dp = result.dp
    if steps is None:
        cells = dp.frames * len(dp.states)
        note = (
            f"T × states = {dp.frames:,} × {len(dp.states):,} = {cells:,} cells, over the "
            f"{STEPS_CELLS} written out cell by cell: --trellis (trellis: true) shows the α table"
        )
        return [Section("Forward recursion, cell by cell", (paragraph(note),), "steps")]
    names = _state_names(result, steps.states)
    legend = "states s: " + "   ".join(f"{i} {n}" for i, n in enumerate(names))
    if names[0] != printable(result.blank):
        legend += f"   ({names[0]}: the blank, {printable(result.blank)})"
    rule = (
        "α(1, s) = the first frame's value for s = 0, 1 (a path starts in the first blank or "
        "the first letter); α(t, s) = (α(t−1, s) + α(t−1, s−1) [+ α(t−1, s−2)]) × the "
        "frame's value of s's symbol, where the skip from s−2 is allowed only into a letter "
        "unlike the one two states back (never into a blank, not across a repeated letter)"
    )
    lines: list[Line] = [line(legend), line((rule, "dim"))]
    for t, row in enumerate(steps.alpha, start=1):
        lines.append(line((f"t = {t}", "bold")))
        for cell in row:
            symbol = names[cell.s]
            factor = _emission(result, steps.states[cell.s], t)
            if t == 1:
                lines.append(line(f"  α(1, {cell.s}) = {factor} = {num(cell.value)}"))
                continue
            sources = " + ".join(f"α({t - 1}, {p})" for p, _ in cell.terms)
            values = " + ".join(num(v) for _, v in cell.terms)
            if len(cell.terms) > 1:
                sources, values = f"({sources})", f"({values})"
            note = ""
            if cell.skip in SKIP_NOTES:
                before = names[cell.s - 2]
                note = "   (" + SKIP_NOTES[cell.skip].format(before=before, here=symbol) + ")"
            lines.append(
                line(
                    f"  α({t}, {cell.s}) = {sources} × {factor} = {values} × {num(cell.factor)} = ",
                    (num(cell.value), "bold"),
                    (note, "dim"),
                )
            )
    what = "p" if result.is_distribution else "Σ"
    frames = dp.frames
    ends = " + ".join(f"α({frames}, {s})" for s, _ in steps.final)
    values = " + ".join(num(v) for _, v in steps.final)
    lines.append(
        line(
            ("End   ", "bold"),
            f"{what} = {ends} = {values} = {operand(steps.probability)}   (an alignment ends "
            "in the last letter or the blank after it)",
        )
    )
    sections = [Section("Forward recursion, cell by cell", (Paragraph(tuple(lines)),), "steps")]
    if steps.beta is not None and steps.occupancy is not None:
        back: list[Line] = [
            line(legend),
            line(
                (
                    "β(T, s) = 1 for the last two states; β(t, s) = Σ over s' = s, s+1 [, s+2 "
                    "by the same skip rule] of y(t+1, s')·β(t+1, s'): the probability of the "
                    "frames after t, from state s",
                    "dim",
                )
            ),
        ]
        for t in range(frames, 0, -1):
            back.append(line((f"t = {t}", "bold")))
            for cell in steps.beta[t - 1]:
                if t == frames:
                    back.append(line(f"  β({t}, {cell.s}) = 1"))
                    continue
                terms = " + ".join(
                    f"{_emission(result, steps.states[n], t + 1)}·β({t + 1}, {n})"
                    for n, _, _ in cell.terms
                )
                values = " + ".join(f"{num(y)} × {num(b)}" for _, y, b in cell.terms)
                back.append(
                    line(f"  β({t}, {cell.s}) = {terms} = {values} = ", (num(cell.value), "bold"))
                )
        occupancy = Matrix(
            np.array(steps.occupancy),
            tuple(names),
            "t",
            "trellis",
            note=(
                "γ(t, s) = α(t, s)·β(t, s) / p: the probability that the alignment is in state "
                "s at frame t (each row sums to 1); the occupancy of a symbol at t sums γ over "
                "its states, and ∂loss/∂logits = softmax − occupancy"
            ),
        )
        sections += [
            Section("Backward recursion β, cell by cell", (Paragraph(tuple(back)),), "steps"),
            Section("Occupancy α·β/p, frames down", (occupancy,), "steps"),
        ]
    return sections


def trellis_heading(result: CTCResult) -> str:
    """The trellis's heading: its cells are probabilities only when the values are a
    distribution."""
    what = "probabilities" if result.is_distribution else "sums"
    return f"Trellis (forward {what} α, frames down, extended label across)"


def _divisors(result: CTCResult) -> list[str]:
    """Return what a gradient is divided by, as the loss is: ln b, the label length."""
    divisors = []
    if result.log_base != "e":
        divisors.append(f"ln {result.log_base}")
    if result.reduction == "mean":
        divisors.append(per_symbol_words(result) if result.label else "1 (max(L, 1), L = 0)")
    return divisors


def gradient_heading(result: CTCResult) -> str:
    """The gradient's heading: its formula, over ln b when the loss is in log base b."""
    formula = "softmax − occupancy"
    divisors = _divisors(result)
    if divisors:
        formula = f"(softmax − occupancy) / {' / '.join(divisors)}"
    return f"Gradient ∂loss/∂logits ({formula}), frames down"


def trellis_data(result: CTCResult) -> tuple[np.ndarray, list[str], Any, str] | None:
    """Return the α table, its column names (ε for the blank), best-path marks and a note."""
    from rnnloss_cli.core.ctc_solve import alignment_states

    dp = result.dp
    if dp.alpha is None:
        return None
    states = [result.alphabet[i] for i in dp.states] if result.alphabet else list(dp.states)
    columns = _state_names(result, states)  # the blank's columns headed ε
    marks: list[int | None] | None = None
    if dp.best_path is not None:
        best = dp.best_path.path
        symbols = [result.alphabet[i] for i in best] if result.alphabet else best
        marks = alignment_states(symbols, states)  # type: ignore[assignment]
    if result.is_distribution:
        note = "α(t, s): probability of the label prefix up to state s after t frames"
    else:
        note = (
            "α(t, s): the sum, over the paths that reach state s after t frames, of the "
            "products of their values as given — not a probability: the values sum to "
            f"{num(result.probabilities_total)}, not 1"
        )
    if "ε" not in result.label and result.blank != "ε":  # _state_names heads them ε
        note += f"; ε stands for the blank ({printable(result.blank)})"
    beyond = beyond_words(result)
    if beyond:
        note += f"; {beyond}"
    return dp.alpha, columns, marks, note


def beyond_words(result: CTCResult) -> str:
    """Return what an e^x cell of the trellis is, when it has one, else ''."""
    import numpy as np

    alpha, logs = result.dp.alpha, result.log_alpha
    if alpha is None or logs is None:
        return ""
    with np.errstate(invalid="ignore"):
        finite = np.isfinite(logs)
    where = []
    if ((alpha == 0.0) & finite).any():
        where.append("below float64's smallest number (about 1e−308)")
    if (np.isinf(alpha) & finite).any():
        where.append("above its largest (about 1.8e308)")
    if not where:
        return ""
    what = "probability" if result.is_distribution else "sum"
    return f"e^x: a {what} {' or '.join(where)}, written by its natural logarithm x"


def gradient_note(result: CTCResult) -> str | None:
    """Return why the gradient is all zeros when the loss is infinite, else None."""
    if math.isfinite(result.dp.loss):
        return None
    return (
        "no alignment has a non-zero probability, so the loss is infinite and its gradient "
        "is taken as 0, as PyTorch's ctc_loss does with zero_infinity=True"
    )


def unnormalised_value(result: CTCResult) -> bool:
    """Whether the contract's `value` is the −log of an unnormalised exact sum, which is
    no loss: method exact on lecture-mode values that are not a distribution."""
    return not result.value_is_loss


def value_words(result: CTCResult, method: bool = True) -> str:
    """Return what `value` is when it is the −log of an unnormalised sum (see
    `unnormalised_value`): `−ln of the unnormalised exact sum (method exact)`, with the
    reduction and log base (`method` False: without the method)."""
    settings = f"{mean_words(result)}{base(result.log_base)}"
    what = f"−{log_name(result.log_base)} of the unnormalised exact sum"
    if method:
        return f"{what} (method exact{settings})"
    return f"{what}{settings}"


def compared_words(solution: Solution) -> str | None:
    """Return the value the ✓/✗ line compares with the answer key, named — `the −ln of
    the unnormalised exact sum (method exact), −1.29336,` — where the Answer box's lines
    hold more than one value and the compared one is not a loss; else None."""
    result = solution.result
    if not unnormalised_value(result):
        return None
    return f"the {value_words(result)}, {num(result.value)},"


def answer_lines(solution: Solution) -> list[Line]:
    """Return the Answer box's lines: the headline under its method, then the exact loss
    (normalised, when the values are not a distribution) when the headline is another.

    Lecture-mode values that are not a distribution, without alignments, make the
    contract's `value` the −log of the unnormalised exact sum, which is no loss: the
    normalised exact loss is the answer shown first, and `value` is named for what it is.
    Asked for by name (`method: exact`), that value leads, named so, with the loss after.
    """
    result = solution.result
    frames = result.dp.frames
    normalized = getattr(result.dp, "normalized", None)
    divided = f"each frame ÷ {num(normalized.total)}" if normalized is not None else ""
    mean = mean_words(result)
    settings = f"{mean}{base(result.log_base)}"
    exact_loss = result.reduced(result.losses["normalized" if normalized is not None else "exact"])
    if unnormalised_value(result):
        assert normalized is not None
        loss_title = f"CTC loss (exact, {divided}: method normalized{settings})"
        not_a_loss = f", not a loss (the values sum to {num(normalized.total)}, not 1)"
        if solution.problem.inputs.get("method") == "exact":  # asked for: it leads
            total = num(normalized.total)
            title = f"{value_words(result)[:-1]}; not a loss: the values sum to {total}, not 1)"
            return [headline(title, result.value), line(f"{loss_title}: {num(exact_loss)}")]
        value = (
            f"value of method exact (--json's value): {value_words(result, method=False)} = "
            f"{num(result.value)}{not_a_loss}"
        )
        return [headline(loss_title, exact_loss), line(value)]
    what = {
        "listed": "listed alignments, as the lecture",
        "valid": "valid listed alignments",
        "exact": "exact",
        "normalized": f"exact, {divided}" if divided else "exact",
    }[result.method]
    title = f"CTC loss ({what}{settings})"
    if not result.label_given:
        title = f"CTC loss of the decoded output {_word(result, result.label)} ({what}{settings})"
    lines = [headline(title, result.value)]
    if result.decoding is not None:
        from rnnloss_cli.losses import ctc_decoding

        lines.append(ctc_decoding.answer_line(result))
    if result.method in ("listed", "valid"):
        what = f"exact CTC loss for T = {frames}"
        if normalized is not None:
            what += f", {divided} (method normalized)"
        lines.append(line(f"{what}{settings}: {num(exact_loss)}"))
    return lines


def _sections(result: CTCResult, solution: Solution) -> list[Section]:
    inputs: list[Paragraph | Matrix] = [paragraph(*inputs_lines(result, solution))]
    if result.alphabet is not None:
        inputs.append(
            Matrix(
                solution.problem.display["matrix"],
                tuple(symbols_shown(result.alphabet)),
                "t",
                "input",
                important=tuple(label_columns(result)),
                important_note=LABEL_COLUMNS,
            )
        )
    sections = [Section("Inputs", tuple(inputs), "inputs")]
    if result.naive is not None:
        table = Table(
            tuple(LISTED_HEADERS), listed_rows(result), left=frozenset({1, 2, 3, 4}), wide=4
        )
        blocks = (paragraph(collapse_rule(result)), table, Paragraph(tuple(listed_totals(result))))
        sections.append(Section(LISTED_HEADING, blocks, "listed"))
    sections.append(Section(EXACT_HEADING, (Paragraph(tuple(exact_lines(result))),), "exact"))
    if result.decoding is not None:
        from rnnloss_cli.losses import ctc_decoding

        sections += ctc_decoding.sections(result)
    if result.alignments is not None:
        sections.append(alignments_section(result))
    if getattr(solution.problem, "inputs", {}).get("steps"):
        sections += steps_sections(result)
    trellis = trellis_data(result)
    if trellis is not None:
        alpha, columns, marks, note = trellis
        matrix = Matrix(
            alpha,
            tuple(columns),
            "t",
            "trellis",
            marks=marks,
            important=tuple(repeat_states(result)),
            important_note=REPEAT_STATES,
            logs=result.log_alpha,
            shade=True,
            note=note,
            marks_note=None if marks is None else "the best path",
        )
        sections.append(Section(trellis_heading(result), (matrix,), "trellis"))
    grad = result.gradient
    if grad is not None and result.alphabet is not None:
        matrix = Matrix(
            grad,
            tuple(symbols_shown(result.alphabet)),
            "t",
            "number",
            important=tuple(label_columns(result)),
            important_note=LABEL_COLUMNS,
            note=gradient_note(result),
        )
        sections.append(Section(gradient_heading(result), (matrix,), "gradient"))
    given = solution.gradient
    if given is not None and result.alphabet is not None:
        weight = given.parts.get("weight")
        if given.wrt != "logits" or weight is not None:
            notes = [n for n in (gradient_note(result), *given.notes) if n]
            matrix = Matrix(
                given.values,
                tuple(symbols_shown(result.alphabet)),
                "t",
                "number",
                important=tuple(label_columns(result)),
                important_note=LABEL_COLUMNS,
                note="; ".join(notes) or None,
            )
            heading = given_gradient_heading(result, given.wrt, weight)
            sections.append(Section(heading, (matrix,), "gradient"))
    return sections


GIVEN_FORMULAS = {
    "logits": ("z", "softmax − occupancy"),
    "log_probs": ("log p", "−occupancy"),
    "probs": ("p", "−occupancy / p"),
}


def given_gradient_heading(result: CTCResult, wrt: str, weight: float | None) -> str:
    """The heading of the gradient with respect to the matrix as given: its formula, over
    ln b and the label length as the loss is, times the custom loss's weight."""
    name, formula = GIVEN_FORMULAS[wrt]
    divisors = _divisors(result)
    if divisors:
        formula = f"({formula}) / {' / '.join(divisors)}"
    if weight is not None:
        formula = f"{num(weight)} × ({formula}), the custom loss's weight × this term's"
    return f"Gradient ∂L/∂{name} as given ({formula}; --json: grad), frames down"


def question(result: CTCResult) -> str:
    """Return what a CTC problem asks, in a sentence."""
    if result.decoding is not None:
        from rnnloss_cli.losses import ctc_decoding

        return ctc_decoding.question(result)
    if result.naive is not None:
        return (
            "Compute the CTC loss from the listed alignments, as the lecture does, and "
            f"compare it with the exact CTC loss over all {result.dp.frames}-frame alignments."
        )
    label = _word(result, result.label)
    frames = f"over T = {result.dp.frames} frames"
    if result.alphabet is not None:
        given = f"from these per-frame distributions ({frames})"
    else:  # lecture-mode values: each symbol's value at every frame
        given = f"from these values, each symbol's at every frame, {frames}"
    settings = f"{mean_words(result)}{base(result.log_base)}".lstrip(", ")
    if result.method == "normalized":  # the values are divided by their sum first
        given += ", each frame's values first divided by their sum (method normalized)"
    return f"Compute the exact CTC loss of the label {label} {given}" + (
        f" ({settings})." if settings else "."
    )


def working(solution: Solution, details: bool = False) -> Document:
    """Return the whole CTC working of one solved problem."""
    result = solution.result
    return Document(
        title=printable(solution.problem.title or "CTC loss"),
        question=question(result),
        sections=tuple(_sections(result, solution)),
        answer=answer(solution, answer_lines(solution), compared_words(solution) or ""),
        warnings=tuple(printable(w) for w in result.warnings),
        warnings_title="Lecture checks and warnings",
        loss="ctc",
        given=_given(result),
    )


def _given(result: CTCResult) -> tuple[Paragraph, ...]:
    """Return the alignments the problem lists, as a question gives them: each path, and the
    factors the lecture states for it where it states them (the answer key is worked from
    those, not from the symbols' probabilities) — never their products."""
    if result.naive is None:
        return ()
    paths = []
    for i, a in enumerate(result.naive.alignments):
        text = f"{i + 1}. {_word(result, a.path)}"
        if a.stated:
            text += f"   stated factors: {', '.join(num(f) for f in a.factors)}"
        paths.append(text)
    return (paragraph(f"alignments (T = {result.dp.frames}):", *paths),)


# --- the JSON object (the contract's section 3) ---------------------------------------


def json_object(solution: Solution) -> dict[str, Any]:
    """Return the contract's CTC object (section 3): `naive`, `dp`, `method`."""
    result = solution.result
    word = "".join if result.label_is_string else list  # as data: whole, "" when empty

    def symbols(indices: list[int]) -> Any:
        return word([result.alphabet[i] for i in indices])

    out: dict[str, Any] = {
        "loss": "ctc",
        "title": solution.problem.title,
        "value": result.value,
        "method": result.method,
        "reduction": result.reduction,
        "log_base": result.log_base,
        "label": word(result.label),
        "blank": result.blank,
    }
    if result.naive is not None:
        naive = result.naive
        out["naive"] = {
            "alignments": [
                {
                    "path": word(a.path),
                    "collapsed": word(a.collapsed),
                    "valid": a.valid,
                    "factors": a.factors,
                    "probability": a.probability,
                    "stated": a.stated,
                    "symbols_probability": a.symbols_probability,
                    "log_probability": result.in_log_base(a.log_probability),
                }
                for a in naive.alignments
            ],
            "probability": naive.probability,
            "loss": naive.loss,
            "valid_probability": naive.valid_probability,
            "valid_loss": naive.valid_loss,
            # Added: the logs of the sums, exact where the sums underflow float64 to 0.
            "log_probability": result.in_log_base(naive.log_probability),
            "valid_log_probability": result.in_log_base(naive.valid_log_probability),
        }
    dp = result.dp
    dp_out: dict[str, Any] = {
        "frames": dp.frames,
        "paths": dp.paths,
        "probability": dp.probability,
        "log_probability": result.exact_log_probability,
        "loss": result.exact_loss,
        "min_frames": dp.min_frames,
    }
    normalized = getattr(dp, "normalized", None)
    if normalized is not None:
        dp_out["normalized"] = {
            "probability": normalized.probability,
            "loss": result.normalized_loss,
            "divided_by": normalized.total,
        }
    dp_out["best_path"] = None
    if dp.best_path is not None:
        path = dp.best_path.path
        dp_out["best_path"] = {
            "path": symbols(path) if result.alphabet else word(path),
            "probability": dp.best_path.probability,
            "log_probability": result.in_log_base(dp.best_path.log_probability),
        }
    greedy = getattr(dp, "greedy", None)
    if greedy is not None and result.alphabet is not None:
        dp_out["greedy"] = {"path": symbols(greedy.path), "collapsed": symbols(greedy.collapsed)}
    if dp.alpha is not None:
        dp_out["alpha"] = dp.alpha
    if result.alignments is not None:  # the first ALIGNMENTS_SHOWN; dp.paths counts them all
        every = result.alignments
        logs = every.logs or [math.nan] * len(every.paths)
        dp_out["alignments"] = [
            # added: the product's log (in the log base), exact where the product underflows
            {
                "path": word(path),
                "probability": product,
                "log_probability": result.in_log_base(log),
            }
            for (path, product, _), log in zip(every.paths, logs, strict=True)
        ]
    if result.gradient is not None:
        dp_out["grad"] = result.gradient
    out["dp"] = dp_out
    if result.decoding is not None:
        out["decode"] = decode_object(result, symbols)
    return out


def decode_object(result: CTCResult, symbols: Any) -> dict[str, Any]:
    """Return the contract's `decode` object: `greedy`, `beam` (the prefixes kept after each
    frame, most probable first; null for greedy decoding) and `nbest`; logs in the
    problem's log base, a probability that underflows float64 is 0 beside its exact log."""
    decoding = result.decoding

    def log(value: float | None) -> float | None:  # None: an exact p not computed
        return None if value is None else result.in_log_base(value)

    def prefix(entry: Any) -> dict[str, Any]:
        return {
            "prefix": symbols(entry.prefix),
            "blank": entry.blank,
            "non_blank": entry.non_blank,
            "probability": entry.probability,
            "log_probability": log(entry.log_probability),
        }

    greedy = decoding.greedy
    beam = None
    if decoding.beam_listed:  # else too large to list: null, and a warning says so
        beam = [[prefix(p) for p in frame.kept] for frame in decoding.frames]
    return {
        "method": decoding.method,
        "beam_width": decoding.beam_width,
        "output": symbols(decoding.best),
        "label_given": result.label_given,
        "greedy": {
            "path": symbols(greedy.path),
            "collapsed": symbols(greedy.collapsed),
            "probability": greedy.probability,
            "log_probability": log(greedy.log_probability),
            "exact_probability": greedy.exact_probability,
            "exact_log_probability": log(greedy.exact_log_probability),
        },
        "beam": beam,
        "candidates": [f.candidates for f in decoding.frames] if decoding.frames else None,
        "best_pruned": (
            [None if f.best_pruned is None else prefix(f.best_pruned) for f in decoding.frames]
            if beam is not None
            else None
        ),
        "nbest": [
            {
                "prefix": symbols(b.prefix),
                "probability": b.probability,
                "log_probability": log(b.log_probability),
                "exact_probability": b.exact_probability,
                "exact_log_probability": log(b.exact_log_probability),
            }
            for b in decoding.nbest
        ],
    }
