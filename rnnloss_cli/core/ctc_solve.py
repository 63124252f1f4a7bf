"""CTC problems solved both ways: the lecture's listed alignments and the exact forward sum.

The lecture computes a CTC loss by multiplying out a few listed alignments and summing
them. That is not the CTC loss, which sums over *every* alignment of the label; this
module computes both, side by side, and turns every inconsistency of the listed
method into a warning with the numbers that show it (contract section 3, "Lecture checks").
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from rnnloss_cli.core import ctc
from rnnloss_cli.core.elementwise import as_log_probs
from rnnloss_cli.core.result import DISTRIBUTION_TOLERANCE, log_divisor, name_first
from rnnloss_cli.core.text import num


@dataclass(frozen=True)
class ListedAlignment:
    """One listed alignment: its path, what it collapses to, and its probability."""

    path: list[str]
    collapsed: list[str]
    valid: bool
    factors: list[float]  # the stated factors, or the path's symbols' probabilities
    stated: bool  # whether the factors were stated in the problem
    probability: float  # product of `factors` (0.0 where it underflows float64)
    symbols_probability: float  # product of the probabilities of the path's symbols
    log_probability: float = math.nan  # natural log of `probability`, finite where it underflows


@dataclass(frozen=True)
class Listed:
    """The lecture's method: sum the listed alignments' probabilities, take −log."""

    alignments: list[ListedAlignment]
    probability: float  # 0.0 where the sum underflows float64: its log stays exact
    loss: float
    valid_probability: float
    valid_loss: float
    log_probability: float = math.nan  # natural logs of the two sums
    valid_log_probability: float = math.nan


@dataclass(frozen=True)
class CTCResult:
    """A CTC problem solved: the listed sum (lecture mode), the exact DP, and the headline."""

    loss: str
    mode: str  # "lecture" or "matrix"
    method: str  # "listed", "valid" or "exact": which loss is `value`
    value: float
    label: list[str]
    label_is_string: bool
    blank: str
    naive: Listed | None
    dp: ctc.LectureDP | ctc.MatrixDP
    log_base: str
    warnings: tuple[str, ...]
    alphabet: list[str] | None = None
    probabilities: Mapping[str, float] | None = None
    reduction: str = "sum"  # "sum": −log p; "mean": ÷ the label length, as torch's default
    # ln α (natural), T × (2L+1), where the trellis was asked for and some α underflows
    # (or overflows) float64 while its logarithm is finite; else None.
    log_alpha: np.ndarray | None = None
    alignments: Enumerated | None = None  # every alignment listed (enumerate: true)
    steps: Steps | None = None  # the recursion cell by cell (steps: true, small problems)
    decoding: Any = None  # core.ctc_decode.Decoding, where decoding was asked for
    label_given: bool = True  # False: decoding without a label, the label is the decoded one

    @property
    def per_symbol(self) -> float:
        """What the reduction divides a loss by: the label length (at least 1) for `mean`."""
        return float(max(len(self.label), 1)) if self.reduction == "mean" else 1.0

    def reduced(self, loss: float) -> float:
        """Return a −log p (in the problem's log base) under the problem's reduction."""
        return loss / self.per_symbol

    @property
    def value_is_loss(self) -> bool:
        """Whether `value` is a loss: not when it is the −log of an unnormalised exact sum
        (method exact on lecture-mode values that are not a distribution)."""
        return not (self.method == "exact" and getattr(self.dp, "normalized", None) is not None)

    @property
    def is_distribution(self) -> bool:
        """Whether the exact sum is a probability: lecture-mode values that sum to 1 (the
        matrix mode's rows are each frame's distribution, checked row by row)."""
        return getattr(self.dp, "normalized", None) is None

    @property
    def losses(self) -> dict[str, float]:
        """Every loss this problem has, in the problem's log base, before the reduction:
        `listed`, `valid` (lecture mode with alignments), `exact`, `normalized` (lecture
        mode: the exact loss with each frame divided by the values' sum)."""
        out = {}
        if self.naive is not None:
            out["listed"] = self.naive.loss
            out["valid"] = self.naive.valid_loss
        out["exact"] = self.exact_loss
        if self.mode == "lecture":
            normalized = self.normalized_loss
            out["normalized"] = self.exact_loss if normalized is None else normalized
        return out

    @property
    def log_divisor(self) -> float:
        """ln(log base): the DP's natural-log losses divided by it are in the problem's base."""
        return log_divisor(self.log_base)

    @property
    def probabilities_total(self) -> float | None:
        """Lecture mode: the sum of the per-symbol values (1 for a distribution)."""
        return None if self.probabilities is None else math.fsum(self.probabilities.values())

    @property
    def exact_loss(self) -> float:
        """The exact CTC loss in the problem's log base."""
        return self.dp.loss / self.log_divisor

    @property
    def exact_log_probability(self) -> float:
        """log p(label | x) in the problem's log base."""
        return self.dp.log_probability / self.log_divisor

    @property
    def normalized_loss(self) -> float | None:
        """The exact loss with each frame normalised, in the problem's log base (or None)."""
        normalized = getattr(self.dp, "normalized", None)
        return None if normalized is None else normalized.loss / self.log_divisor

    @property
    def gradient(self) -> np.ndarray | None:
        """∂(the headline loss: its log base and reduction included)/∂logits (matrix mode,
        when asked)."""
        grad = getattr(self.dp, "grad", None)
        return None if grad is None else grad / (self.log_divisor * self.per_symbol)

    @property
    def label_indices(self) -> tuple[int, ...]:
        """The label as columns of the alphabet (matrix mode)."""
        assert self.alphabet is not None
        index = {s: i for i, s in enumerate(self.alphabet)}
        return tuple(index[s] for s in self.label)

    def in_log_base(self, log_value: float) -> float:
        """Return a natural log in the problem's log base."""
        return log_value / self.log_divisor

    def word(self, symbols: Sequence[str]) -> str:
        """Return a path or label written as the label was: `H-E-L-L-O`, or `th e` for lists."""
        return _word(symbols, self.label_is_string)


def _neg_log(p: float, divisor: float) -> float:
    return math.inf if p <= 0.0 else -math.log(p) / divisor


def _log(p: float) -> float:
    """Return ln p: −∞ for 0."""
    return -math.inf if p <= 0.0 else math.log(p)


def _log_product(factors: Sequence[float], product: float) -> float:
    """Return ln of a product of factors: from the product where float64 holds it, else
    the sum of the factors' logs (1e−200 × 1e−200 × 1e−200 underflows; its log does not)."""
    if product > 0.0 and math.isfinite(product):
        return math.log(product)
    return math.fsum(_log(f) for f in factors) if all(f > 0.0 for f in factors) else -math.inf


def _log_sum(logs: Sequence[float], total: float) -> float:
    """Return ln Σ e^logs: from `total`, the sum in float64, where it holds it, else
    log-sum-exp."""
    if total > 0.0 and math.isfinite(total):
        return math.log(total)
    top = max(logs, default=-math.inf)
    if top == -math.inf:
        return -math.inf
    return top + math.log(math.fsum(math.exp(x - top) for x in logs))


WORD_SHOWN = 40  # symbols of a label or path written out in a warning


def _word(symbols: Sequence[str], as_string: bool) -> str:
    """Return a label or path as written: `H-E-L-L-O`, `th e` for lists, ∅ for none."""
    if not symbols:
        return "∅"
    return "".join(symbols) if as_string else " ".join(symbols)


def _brief(symbols: Sequence[str], as_string: bool) -> str:
    """Return a label or path for a warning: a long one as its start, end and length."""
    if len(symbols) <= WORD_SHOWN:
        return _word(symbols, as_string)
    elided = " ".join(
        [_word(symbols[: WORD_SHOWN - 10], as_string), "…", _word(symbols[-5:], as_string)]
    )
    return f"{elided} ({len(symbols):,} symbols)"


def _product_text(factors: Sequence[float]) -> str:
    shown = [num(f) for f in factors[:8]]
    if len(factors) > 10:
        return " × ".join([*shown, "…", num(factors[-1])]) + f" ({len(factors):,} factors)"
    return " × ".join(num(f) for f in factors)


def _listed(
    label: list[str],
    label_is_string: bool,
    blank: str,
    probabilities: Mapping[str, float],
    alignments: Sequence[Mapping[str, Any]],
    divisor: float,
    warnings: list[str],
) -> Listed:
    out = []
    for i, alignment in enumerate(alignments):
        path = list(alignment["path"])
        symbol_factors = [probabilities[s] for s in path]
        stated = alignment.get("factors") is not None
        factors = [float(f) for f in alignment["factors"]] if stated else symbol_factors
        probability = math.prod(factors)
        symbols_probability = math.prod(symbol_factors)
        log_probability = _log_product(factors, probability)
        collapsed = ctc.collapse(path, blank)
        valid = collapsed == label
        where = f"alignments[{i}] ({_brief(path, label_is_string)})"
        if not valid:
            warnings.append(
                f"{where} collapses to {_brief(collapsed, label_is_string)}, not "
                f"{_brief(label, label_is_string)}: it is not an alignment of the label, yet the "
                "listed method counts it (method valid leaves it out)"
            )
        if stated and not np.allclose(factors, symbol_factors, rtol=1e-12, atol=0.0):
            first = next(
                j
                for j, (a, b) in enumerate(zip(factors, symbol_factors, strict=True))
                if not math.isclose(a, b, rel_tol=1e-12)
            )
            warnings.append(
                f"{where}: the stated factors {_product_text(factors)} = {num(probability, 3)} are "
                f"not the probabilities of the path's symbols, "
                f"{_product_text(symbol_factors)} = {num(symbols_probability, 3)} (the first to "
                f"differ is factor {first + 1}: {num(factors[first])} stated, but symbol "
                f"'{path[first]}' has P = {num(symbol_factors[first])})"
            )
        out.append(
            ListedAlignment(
                path,
                collapsed,
                valid,
                factors,
                stated,
                probability,
                symbols_probability,
                log_probability,
            )
        )
    total = math.fsum(a.probability for a in out)
    valid_total = math.fsum(a.probability for a in out if a.valid)
    # Products that underflow float64 to 0 still have a finite sum's log: the loss is
    # taken from it, never −log 0 = ∞.
    log_total = _log_sum([a.log_probability for a in out], total)
    log_valid = _log_sum([a.log_probability for a in out if a.valid], valid_total)
    return Listed(
        out,
        total,
        -log_total / divisor,
        valid_total,
        -log_valid / divisor,
        log_probability=log_total,
        valid_log_probability=log_valid,
    )


def _length_warnings(
    alignments: Sequence[Mapping[str, Any]], frames: int | None, label_is_string: bool
) -> list[str]:
    lengths = [len(a["path"]) for a in alignments]
    out = []
    if len(set(lengths)) > 1:
        listing = "; ".join(
            f"{_brief(a['path'], label_is_string)}: {n}"
            for a, n in zip(alignments[:5], lengths, strict=False)
        ) + (f"; … {len(alignments) - 5:,} more" if len(alignments) > 5 else "")
        distinct = sorted(set(lengths), reverse=True)
        out.append(
            f"the listed alignments have {' and '.join(map(str, distinct))} frames ({listing}), "
            f"but one input has one length T: alignments of different lengths cannot all be "
            f"alignments of the same input; the exact computation uses T = "
            f"{frames if frames is not None else max(lengths)}"
        )
    if frames is not None:
        out += name_first(
            [i for i, n in enumerate(lengths) if n != frames],
            lambda i: f"alignments[{i}] has {lengths[i]} frames, not frames = {frames}",
            "alignments of another length",
        )
    return out


def solve_lecture(
    *,
    label: list[str],
    label_is_string: bool,
    blank: str,
    probabilities: Mapping[str, float],
    alignments: Sequence[Mapping[str, Any]] = (),
    frames: int | None = None,
    method: str | None = None,
    trellis: bool = False,
    log_base: str = "e",
    reduction: str = "sum",
    steps: bool = False,
    all_alignments: bool = False,
) -> CTCResult:
    """Return the listed-alignment sum (as the lecture) and the exact CTC sum for one T.

    `method` chooses the headline: `listed` (the default with alignments), `valid`,
    `exact` (the default without) or `normalized` (the exact loss with each value divided
    by the values' sum, the only exact loss when the values are not a distribution).
    `reduction` `mean` divides the headline by the label length, as torch's default.
    """
    if reduction not in ("sum", "mean"):
        raise ValueError(f"reduction must be sum or mean, got {reduction!r}")
    divisor = log_divisor(log_base)
    warnings: list[str] = []
    naive = None
    if alignments:
        naive = _listed(label, label_is_string, blank, probabilities, alignments, divisor, warnings)
        warnings += _length_warnings(alignments, frames, label_is_string)
    if frames is None:
        frames = max(len(a["path"]) for a in alignments)
    total = math.fsum(probabilities.values())
    if abs(total - 1.0) > DISTRIBUTION_TOLERANCE:
        terms = " + ".join(f"P({s}) {num(p)}" for s, p in _first(probabilities.items()))
        if len(probabilities) > WORD_SHOWN:
            terms += f" + … ({len(probabilities):,} symbols)"
        warnings.append(
            f"the probabilities sum to {num(total)}, not 1 ({terms}): they are not one per-frame "
            f"distribution, so no model could emit them, and the exact sum over every "
            f"alignment is not a probability; divided by {num(total)}, each frame is one "
            "(dp.normalized; method normalized makes its loss the answer)"
        )
    dp = ctc.lecture_forward(label, probabilities, blank, frames, trellis=trellis)
    warnings += _impossible(label, label_is_string, dp.min_frames, frames)
    warnings += _zero_probability(dp)
    if dp.probability > 1.0:
        normalized = dp.normalized
        assert normalized is not None  # lecture_forward normalises whenever p exceeds 1
        warnings.append(
            f"the exact sum over all {dp.paths:,} alignments is {num(dp.probability)} > 1, which "
            f"no probability can be, so its −log ({num(dp.loss / divisor)}) is negative and is "
            f"no loss; the normalised loss {num(normalized.loss / divisor)} is the meaningful "
            "exact answer (method normalized)"
        )
    if method is None:
        method = "listed" if naive is not None else "exact"
    if method == "normalized" and dp.normalized is None:
        warnings.append(
            "method normalized: the values already sum to 1, so normalising changes nothing and "
            "the answer is the exact loss"
        )
    log_alpha = None
    if dp.alpha is not None and _beyond_float64(dp.alpha):
        index = {s: i for i, s in enumerate(probabilities)}
        with np.errstate(divide="ignore"):
            row = np.log(np.array([float(p) for p in probabilities.values()]))
        log_alpha = log_trellis(np.tile(row, (frames, 1)), [index[s] for s in dp.states])
    result = CTCResult(
        "ctc",
        "lecture",
        method,
        math.nan,
        label,
        label_is_string,
        blank,
        naive,
        dp,
        log_base,
        tuple(warnings),
        probabilities=probabilities,
        reduction=reduction,
        log_alpha=log_alpha,
    )
    if steps or all_alignments:
        row = [float(probabilities[s]) for s in dp.states]
        emissions = [row] * frames
        listed = [a.path for a in naive.alignments] if naive is not None else []
        result = _extras(result, list(dp.states), emissions, listed, steps, all_alignments)
    return replace(result, value=result.reduced(result.losses[method]))


def _extras(
    result: CTCResult,
    states: list[str],
    emissions: list[list[float]],
    listed: list[list[str]],
    steps: bool,
    all_alignments: bool,
    backward: bool = False,
) -> CTCResult:
    """Return the result with its alignments listed and its recursion written out, as asked."""
    return replace(
        result,
        alignments=(
            enumerate_alignments(
                states,
                emissions,
                listed,
                result.dp.probability,
                total_log=result.dp.log_probability,
            )
            if all_alignments
            else None
        ),
        steps=recursion_steps(states, emissions, backward) if steps else None,
    )


def _beyond_float64(alpha: np.ndarray) -> bool:
    """Whether a trellis has a cell float64 cannot hold: ∞, or 0 where a path reaches it
    (state s after t frames, s ≤ 2t + 1, counting from 0) — an underflow, unless a
    probability of 0 on the way makes it a true 0 (log_trellis tells them apart)."""
    if np.isinf(alpha).any():
        return True
    frames, size = alpha.shape
    reach = np.arange(size)[None, :] <= 2 * np.arange(frames)[:, None] + 1
    return bool(((alpha == 0.0) & reach).any())


def log_trellis(log_probs: np.ndarray, states: Sequence[int]) -> np.ndarray:
    """Return ln α, T × len(states): the forward recursion in log space, for the trellis
    cells whose α underflows float64 to 0 (or overflows it to ∞) while their logarithm is
    finite. `log_probs` is T × V (natural logs), `states` the blank-extended label as
    column indices; a symbol state may be entered from two states back (over a blank)
    when it differs from the symbol there."""
    ext = np.asarray(states, dtype=np.int64)
    frames, size = log_probs.shape[0], ext.size
    emissions = log_probs[:, ext]
    skip = np.zeros(size, dtype=bool)
    skip[2:] = (ext[2:] != ext[:-2]) & (np.arange(2, size) % 2 == 1)
    out = np.full((frames, size), -np.inf)
    out[0, : min(2, size)] = emissions[0, : min(2, size)]
    one, two = np.full(size, -np.inf), np.full(size, -np.inf)
    # A sum of logs below −1.8e308 is −∞ (as the kernels have it): overflow silenced.
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(1, frames):
            previous = out[t - 1]
            one[1:] = previous[:-1]
            two[2:] = np.where(skip[2:], previous[:-2], -np.inf)
            top = np.maximum(np.maximum(previous, one), two)
            top = np.where(np.isfinite(top), top, 0.0)
            total = np.exp(previous - top) + np.exp(one - top) + np.exp(two - top)
            with np.errstate(divide="ignore"):
                out[t] = np.log(total) + top + emissions[t]
    return out


def _first(items: Any, count: int = WORD_SHOWN) -> list[Any]:
    return list(itertools.islice(items, count))


def _zero_probability(dp: ctc.LectureDP | ctc.MatrixDP) -> list[str]:
    """Explain an infinite loss whose label does fit: every alignment meets a 0 somewhere."""
    if math.isfinite(dp.loss) or dp.frames < dp.min_frames:
        return []
    return [
        f"the loss is infinite: each of the {dp.paths:,} alignments of the label passes "
        "through a probability of 0 (a symbol it needs has probability 0 in some frame)"
    ]


def _impossible(label: list[str], label_is_string: bool, needed: int, frames: int) -> list[str]:
    if frames >= needed:
        return []
    repeats = needed - len(label)
    return [
        f"{_brief(label, label_is_string)} cannot fit in T = {frames} frames: it needs at least "
        f"{needed} ({len(label)} symbols + {repeats} blank{'s' if repeats != 1 else ''} between "
        f"adjacent repeats), so its probability is 0 and the loss is infinite"
    ]


def solve_matrix(
    *,
    label: list[str] | None = None,
    label_is_string: bool,
    blank: str,
    alphabet: list[str],
    prediction: np.ndarray,
    kind: str = "log_probs",
    trellis: bool = False,
    grad: bool = False,
    log_base: str = "e",
    reduction: str = "sum",
    steps: bool = False,
    all_alignments: bool = False,
    decode: str | None = None,
    beam_width: int | None = None,
    label_given: bool = True,
    check_label: Any = None,
) -> CTCResult:
    """Return the exact CTC loss of a T × V matrix, with best path, greedy path and extras.

    `prediction` holds per-frame probabilities (`kind` "probs"), log-probabilities or logits.
    `reduction` `mean` divides the loss (and its gradient) by the label length, as torch's
    default; `sum` is −log p. `decode` ("greedy" or "beam", with `beam_width`) decodes the
    matrix too; without a label (`label` None) the label is the decoded output, and
    `check_label` (the validator's limits) is called with it before it is worked on.
    """
    if reduction not in ("sum", "mean"):
        raise ValueError(f"reduction must be sum or mean, got {reduction!r}")
    log_probs = as_log_probs(prediction, kind)
    index = {s: i for i, s in enumerate(alphabet)}
    decoding, decoding_warnings = None, []
    if decode is not None:
        from rnnloss_cli.core import ctc_decode

        check = None
        if label is None and check_label is not None:  # the validator's limits, on the output

            def check(prefix: tuple[int, ...]) -> None:
                check_label([alphabet[i] for i in prefix])

        decoding = ctc_decode.decode(
            log_probs, index[blank], decode, beam_width or ctc_decode.BEAM_WIDTH, check
        )
        if label is None:
            label = [alphabet[i] for i in decoding.best]
        if not decoding.exact_complete:
            left = sum(b.exact_log_probability is None for b in decoding.nbest)
            decoding_warnings.append(
                f"the exact probabilities of {left:,} of the n-best outputs are left out (null "
                f"in JSON): over the {ctc_decode.MAX_EXACT_CELLS:,} cells of the forward "
                "algorithm spent on them"
            )
        if decoding.method == "beam" and not decoding.beam_listed:
            decoding_warnings += [
                f"the beam after every frame holds {decoding.beam_symbols:,} prefix symbols "
                f"over {log_probs.shape[0]:,} frames, over the {ctc_decode.MAX_BEAM_LISTED:,} "
                "listed whole: JSON decode.beam and decode.best_pruned are null (the working "
                "shows the first and last frames; the n-best list is whole)"
            ]
    if label is None:
        raise ValueError("a label is needed unless the matrix is decoded")
    dp = ctc.ctc_matrix(
        [index[s] for s in label], log_probs, index[blank], trellis=trellis, grad=grad
    )
    warnings = _impossible(label, label_is_string, dp.min_frames, dp.frames)
    warnings += _zero_probability(dp)
    warnings += decoding_warnings
    if dp.log_probability > 0.0:
        warnings.append(
            f"the exact sum over all {dp.paths:,} alignments is {num(dp.probability)} > 1, so "
            "its −log is negative: rows that do not sum to 1 are not distributions (give "
            "logits, or rows that sum to 1)"
        )
    result = CTCResult(
        "ctc",
        "matrix",
        "exact",
        math.nan,
        label,
        label_is_string,
        blank,
        None,
        dp,
        log_base,
        tuple(warnings),
        alphabet=alphabet,
        reduction=reduction,
        log_alpha=(
            log_trellis(log_probs, dp.states)
            if dp.alpha is not None and _beyond_float64(dp.alpha)
            else None
        ),
    )
    if steps or all_alignments:
        with np.errstate(under="ignore"):
            emissions = np.exp(log_probs[:, dp.states]).tolist()
        states = [alphabet[i] for i in dp.states]
        result = _extras(result, states, emissions, [], steps, all_alignments, grad)
    return replace(
        result,
        value=result.reduced(result.exact_loss),
        decoding=decoding,
        label_given=label_given,
    )


def solve(mode: str, **inputs: Any) -> CTCResult:
    """Return the `CTCResult` of a validated CTC problem in either mode."""
    return solve_lecture(**inputs) if mode == "lecture" else solve_matrix(**inputs)


def alignment_states(path: Sequence[Any], states: Sequence[Any]) -> list[int] | None:
    """Return the trellis column (state) of each frame of a valid alignment, else None.

    `states` is the blank-extended label (ε l₁ ε l₂ … ε). A valid alignment visits the
    states left to right, each frame staying, moving one state, or skipping a blank
    between two different symbols; that walk is unique, so it can be read off the path.
    """
    walk: list[int] = []
    for t, symbol in enumerate(path):
        if t == 0:
            candidates = [0, 1]
        else:
            s = walk[-1]
            candidates = [s, s + 1]
            # Skipping is only from one symbol over a blank to a different symbol.
            if s % 2 == 1 and s + 2 < len(states) and states[s + 2] != states[s]:
                candidates.append(s + 2)
        found = next((c for c in candidates if c < len(states) and states[c] == symbol), None)
        if found is None:
            return None
        walk.append(found)
    return walk if walk and walk[-1] >= len(states) - 2 else None


# --- every alignment listed, and the recursion cell by cell (issue 14) ------------------

ALIGNMENTS_SHOWN = 2_000  # alignments listed by --alignments all; the count stays exact
# Frames × alignments that --alignments all may walk: generating a path costs a few
# operations a frame, so this keeps the listing within about a second.
MAX_ENUMERATION_WORK = 2_000_000
STEPS_CELLS = 400  # frames × states written out by --steps; beyond it, --trellis


@dataclass(frozen=True)
class Enumerated:
    """Every length-T alignment of the label, most probable first (the first `shown`)."""

    paths: list[tuple[list[str], float, bool]]  # path, product, whether the lecture lists it
    count: int  # every alignment: exact, however many are listed
    listed_sum: float  # Σ of the listed products
    total: float  # the forward algorithm's p (the same sum over every path)
    logs: list[float] | None = None  # ln of each listed product, exact where it underflows
    listed_log: float = math.nan  # ln of listed_sum, exact where the sum underflows
    total_log: float = math.nan  # ln of the forward algorithm's p

    @property
    def capped(self) -> bool:
        """Whether some alignments are left out of `paths`."""
        return len(self.paths) < self.count

    @property
    def agrees(self) -> bool:
        """Whether the sum of every path's product is the forward algorithm's (to 1e−9),
        compared by their logs where float64 holds the sums only as 0."""
        if self.listed_sum == 0.0 and self.total == 0.0 and math.isfinite(self.total_log):
            return math.isclose(self.listed_log, self.total_log, rel_tol=0.0, abs_tol=1e-9)
        return math.isclose(self.listed_sum, self.total, rel_tol=1e-9, abs_tol=1e-300)

    @property
    def rest(self) -> float:
        """What the alignments left out sum to: the forward p − the listed sum."""
        return self.total - self.listed_sum


def _skips(states: Sequence[Any]) -> list[bool]:
    """Return, per extended state s, whether s may be entered from s − 2 (the kernel's own
    rule, ctc.skip_allowed, on the label the states extend)."""
    return ctc.skip_allowed(list(states[1::2])).tolist()


def enumeration_work(label: Sequence[Any], frames: int) -> tuple[int, int]:
    """Return (the number of alignments, frames × that number): what listing them costs."""
    count = ctc.count_alignments(label, frames)
    return count, count * frames


def enumerate_alignments(
    states: Sequence[Any],
    emissions: Sequence[Sequence[float]],
    listed: Sequence[Sequence[Any]] = (),
    total: float = math.nan,
    shown: int = ALIGNMENTS_SHOWN,
    total_log: float = math.nan,
) -> Enumerated:
    """Return every path through the extended-label trellis, most probable first.

    `states` is the blank-extended label (its symbols), `emissions[t][s]` the value of
    state s's symbol at frame t. Paths are generated frame by frame along the trellis's
    transitions only (stay, step, skip a blank between different letters), and a state
    from which the last two states cannot be reached in the frames left is never entered:
    no work is spent on a prefix that does not become an alignment. `listed` are the
    lecture's listed paths (marked), `total` the forward p shown beside the sum.
    """
    size, frames = len(states), len(emissions)
    skip = _skips(states)
    # The fewest frames after this one that state s needs to reach an accepting state.
    need = [0] * size
    for s in range(size - 3, -1, -1):
        onward = [need[s + 1]] + ([need[s + 2]] if s + 2 < size and skip[s + 2] else [])
        need[s] = 1 + min(onward)
    frontier = [((s,), emissions[0][s]) for s in range(min(2, size)) if need[s] <= frames - 1]
    for t in range(1, frames):
        left = frames - 1 - t
        grown = []
        for walk, product in frontier:
            s = walk[-1]
            nexts = [s, s + 1] + ([s + 2] if s + 2 < size and skip[s + 2] else [])
            for n in nexts:
                if n < size and need[n] <= left:
                    grown.append(((*walk, n), product * emissions[t][n]))
        frontier = grown
    marked = {tuple(p) for p in listed}
    paths, logs = [], []
    for walk, product in frontier:
        path = [states[s] for s in walk]
        paths.append((path, product, tuple(path) in marked))
        # A product float64 holds only as 0 (or ∞) is ranked and shown by its log.
        logs.append(_log(product) if 0.0 < product < math.inf else _walk_log(walk, emissions))
    # Most probable first, by the log (the product where it underflows); stable: equal
    # products keep the trellis's order.
    order = sorted(range(len(paths)), key=lambda i: (-paths[i][1], -logs[i]))
    kept = [paths[i] for i in order[:shown]]
    kept_logs = [logs[i] for i in order[:shown]]
    listed_sum = math.fsum(p[1] for p in kept)
    return Enumerated(
        kept, len(paths), listed_sum, total, kept_logs, _log_sum(kept_logs, listed_sum), total_log
    )


def _walk_log(walk: Sequence[int], emissions: Sequence[Sequence[float]]) -> float:
    """Return ln of a path's product from its factors' logs (−∞ if one factor is 0)."""
    factors = [emissions[t][s] for t, s in enumerate(walk)]
    return -math.inf if min(factors) <= 0.0 else math.fsum(math.log(f) for f in factors)


@dataclass(frozen=True)
class Cell:
    """One cell of a recursion written out: the terms added, the factor, the value."""

    s: int
    terms: list[tuple[int, float]]  # (state it comes from or goes to, its α or y·β)
    factor: float  # α: the emission of state s at t; β: 1 (the emissions are in the terms)
    value: float
    skip: str  # "allowed", "repeat" (a letter equal to the one two back), "blank", or ""


@dataclass(frozen=True)
class BetaCell:
    """One cell of the backward recursion: the (state, y_(t+1)(state), β(t+1, state))
    terms whose products it adds, and the value."""

    s: int
    terms: list[tuple[int, float, float]]
    value: float


@dataclass(frozen=True)
class Steps:
    """The forward (and backward) recursion cell by cell: what --steps writes out."""

    states: list[str]  # the blank-extended label
    alpha: list[list[Cell]]  # per frame, the cells a path can reach
    final: list[tuple[int, float]]  # the accepting states and their α at T
    probability: float  # their sum
    beta: list[list[BetaCell]] | None = None  # per frame (with grad), the cells that reach the end
    occupancy: list[list[float]] | None = None  # α·β / p, T × S (with grad)


def _skip_reason(states: Sequence[Any], s: int) -> str:
    if s < 2:
        return ""
    if s % 2 == 0:
        return "blank"
    return "allowed" if states[s] != states[s - 2] else "repeat"


def recursion_steps(
    states: Sequence[Any], emissions: Sequence[Sequence[float]], backward: bool = False
) -> Steps | None:
    """Return the forward recursion cell by cell (and with `backward` β and the
    occupancy α·β/p), or None beyond STEPS_CELLS cells.

    α(1, s) = y₁(s) for the first two states; α(t, s) = (α(t−1, s) + α(t−1, s−1)
    [+ α(t−1, s−2) when s is a letter unlike the one two states back]) × y_t(s).
    β(T, s) = 1 on the last two states; β(t, s) = Σ over s' ∈ {s, s+1, [s+2]} of
    y_{t+1}(s') β(t+1, s'); α(t, s)·β(t, s) sums the paths through the cell.
    """
    size, frames = len(states), len(emissions)
    if size * frames > STEPS_CELLS:
        return None
    skip = _skips(states)
    table = [[0.0] * size for _ in range(frames)]
    rows: list[list[Cell]] = []
    for t in range(frames):
        row = []
        for s in range(min(size, 2 * t + 2)):  # states after t + 1 frames: s ≤ 2t + 1
            if t == 0:
                terms: list[tuple[int, float]] = []
                value = emissions[0][s]
            else:
                sources = [s, s - 1] + ([s - 2] if skip[s] else [])
                terms = [(p, table[t - 1][p]) for p in sources if p >= 0]
                value = math.fsum(a for _, a in terms) * emissions[t][s]
            table[t][s] = value
            row.append(Cell(s, terms, emissions[t][s], value, _skip_reason(states, s)))
        rows.append(row)
    accepting = [s for s in (size - 1, size - 2) if s >= 0]
    final = [(s, table[-1][s]) for s in accepting]
    probability = math.fsum(a for _, a in final)
    beta_rows = occupancy = None
    if backward:
        beta = [[0.0] * size for _ in range(frames)]
        beta_rows: list[list[BetaCell]] = [[] for _ in range(frames)]
        for s in accepting:
            beta[-1][s] = 1.0
        beta_rows[-1] = [BetaCell(s, [], 1.0) for s in sorted(accepting)]
        for t in range(frames - 2, -1, -1):
            for s in range(size):
                # Only states from which the end is reachable in the frames left.
                if size - 1 - s > 2 * (frames - 1 - t) + 1:
                    continue
                targets = [s, s + 1] + ([s + 2] if s + 2 < size and skip[s + 2] else [])
                back = [(n, emissions[t + 1][n], beta[t + 1][n]) for n in targets if n < size]
                beta[t][s] = math.fsum(y * b for _, y, b in back)
                beta_rows[t].append(BetaCell(s, back, beta[t][s]))
        occupancy = [
            [
                table[t][s] * beta[t][s] / probability if probability > 0.0 else 0.0
                for s in range(size)
            ]
            for t in range(frames)
        ]
    return Steps(list(states), rows, final, probability, beta_rows, occupancy)
