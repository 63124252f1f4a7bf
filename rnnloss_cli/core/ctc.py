"""Connectionist Temporal Classification (CTC), in pure numpy and float64.

What is here:

* `collapse`: the CTC collapse rule (merge repeats, then drop blanks).
* `count_alignments`, `min_frames`: exact combinatorics of the alignments.
* `lecture_forward`: the lecture's setting, where every frame emits every symbol with the
  same given value; the exact sum over all alignments of length T.
* `ctc_matrix`: one sequence with a T × V matrix of log-probabilities: loss, alpha trellis,
  Viterbi best path, greedy decoding and the gradient with respect to the logits.
* `ctc_loss`, `ctc_loss_and_grad`: a numpy twin of `torch.nn.functional.ctc_loss`.

All of them share one batched kernel, `_ctc_batch`.

Numerics. The forward variable alpha_t(s) is the total probability of the path prefixes
of length t+1 that end in state s of the blank-extended label (blank, l1, blank, l2, ...,
blank); the backward variable beta_t(s) is the total probability of the suffixes that
complete them, without the emission at t. Both are products of up to T probabilities, so
they underflow float64 after a few hundred frames. Two kernels avoid that:

* The scaled kernel works with probabilities but divides each sequence's alpha (and beta)
  row by its maximum every few frames, keeping the logarithms of those factors; the loss
  is -(their sum + log of the final rescaled alpha). A frame costs a handful of adds and
  multiplies per cell and no exp or log. Cells far below their row's maximum may still
  underflow, so every result comes with a bound on what underflow can have changed
  (see "The scaled kernel and its error bound" below), and is accepted only when that
  bound is below 1e-15 of p(label).
* The log kernel does the same recursions with log-sum-exp. It never underflows, is a
  few times slower, and computes the sequences whose bound is too large (a label whose
  only completions run through cells far below their frame's maximum), those with
  values above e (not probabilities), and the trellis shown to students.

Every result is therefore within 1e-15 (relative, on p(label)) of the exact one, on top of
the ordinary rounding of any float64 computation, or computed in log space.

Log-probabilities of -inf (probability exactly 0) are legal in both kernels.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from rnnloss_cli.core.result import DISTRIBUTION_TOLERANCE

__all__ = [
    "BestPath",
    "Greedy",
    "LectureDP",
    "MatrixDP",
    "NormalizedDP",
    "collapse",
    "count_alignments",
    "ctc_loss",
    "ctc_loss_and_grad",
    "ctc_matrix",
    "extended_label",
    "lecture_forward",
    "min_frames",
]

REDUCTIONS = ("none", "sum", "mean")

# Tolerance for "the per-symbol values sum to 1" in lecture mode.
_SUM_TOLERANCE = DISTRIBUTION_TOLERANCE


# ---------------------------------------------------------------------------------------
# Combinatorics
# ---------------------------------------------------------------------------------------


def collapse(path: Sequence[Hashable], blank: Hashable) -> list:
    """Return the label a path collapses to: consecutive repeats merged, then blanks dropped."""
    out = []
    previous = object()  # a sentinel equal to no symbol
    for symbol in path:
        if symbol != previous and symbol != blank:
            out.append(symbol)
        previous = symbol
    return out


def min_frames(label: Sequence[Hashable]) -> int:
    """Return the fewest frames an alignment of `label` needs: L + adjacent repeated symbols.

    A repeated symbol needs a blank between its copies, otherwise the copies would merge.
    """
    repeats = sum(1 for a, b in itertools.pairwise(label) if a == b)
    return len(label) + repeats


def extended_label(label: Sequence[Hashable], blank: Hashable) -> list:
    """Return the blank-extended label (blank, l1, blank, l2, ..., lL, blank): 2L+1 states."""
    out = [blank]
    for symbol in label:
        out.extend((symbol, blank))
    return out


def skip_allowed(label: Sequence[Hashable]) -> np.ndarray:
    """Return, per extended state s, whether the transition s-2 -> s is allowed.

    Only label states (odd s) can be reached by skipping the blank before them, and only
    when the label symbol differs from the previous one (else the two would merge).
    """
    size = 2 * len(label) + 1
    skip = np.zeros(size, dtype=bool)
    for j in range(1, len(label)):
        skip[2 * j + 1] = label[j] != label[j - 1]
    return skip


def count_alignments(label: Sequence[Hashable], frames: int) -> int:
    """Return the exact number of length-`frames` paths that collapse to `label` (a Python int).

    An alignment is L runs of the label's symbols (each at least one frame) and L + 1 runs
    of blanks around them (each at least zero frames, but at least one between two equal
    adjacent symbols, r of them). Counting the compositions of T into those 2L + 1 runs
    gives C(T − r + L, 2L): C(T + L, 2L) for a label without adjacent repeats, and 0 when
    T < L + r. Python integers never overflow.
    """
    frames = int(frames)
    length = len(label)
    repeats = sum(1 for a, b in itertools.pairwise(label) if a == b)
    top = frames - repeats + length
    if frames < 0 or top < 2 * length:
        return 0
    return math.comb(top, 2 * length)


# ---------------------------------------------------------------------------------------
# The batched kernel
# ---------------------------------------------------------------------------------------


@dataclass
class _KernelOut:
    losses: np.ndarray  # (N,) negative log-likelihoods, +inf when impossible
    grad: np.ndarray | None  # (T, N, C) d(sum of losses)/d(logits), or None
    log_alpha: np.ndarray | None  # (T, N, S) log alpha, -inf beyond each input length
    log_kernel: np.ndarray  # (N,) bool: which sequences the log-space kernel computed


def _extend_batch(
    labels: np.ndarray, target_lengths: np.ndarray, blank: int, classes: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (ext, valid, skip) for a padded batch of labels, each (N, 2·Lmax+1).

    `ext` holds the class of each extended state (padding states beyond 2·L_n get `classes`,
    a class that does not exist), `valid` marks the real states, `skip` the states that
    may be entered from s-2.
    """
    n, lmax = labels.shape
    size = 2 * lmax + 1
    states = np.arange(size)
    valid = states[None, :] <= 2 * target_lengths[:, None]
    ext = np.full((n, size), blank, dtype=np.int64)
    ext[:, 1::2] = labels
    ext[~valid] = classes
    skip = np.zeros((n, size), dtype=bool)
    if lmax > 1:
        skip[:, 3::2] = (labels[:, 1:] != labels[:, :-1]) & valid[:, 3::2]
    return ext, valid, skip


def _end_groups(input_lengths: np.ndarray) -> dict[int, np.ndarray]:
    """Return {t: sequences whose last frame is t}, for sequences with at least one frame."""
    if input_lengths.size == 1:
        length = int(input_lengths[0])
        return {length - 1: np.zeros(1, dtype=np.intp)} if length > 0 else {}
    order = np.argsort(input_lengths, kind="stable")
    lengths, starts = np.unique(input_lengths[order], return_index=True)
    stops = [*starts[1:].tolist(), order.size]
    return {
        length - 1: order[start:stop]
        for length, start, stop in zip(lengths.tolist(), starts.tolist(), stops, strict=True)
        if length > 0
    }


def _final_states(target_lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (last, second, has_second): the two accepting states of each sequence.

    A path ends on the last blank (state 2L) or on the last label symbol (state 2L-1); an
    empty label has only the one state 0.
    """
    last = 2 * target_lengths
    has_second = target_lengths > 0
    second = np.where(has_second, last - 1, 0)
    return last, second, has_second


def _min_frames_batch(skip: np.ndarray, target_lengths: np.ndarray) -> np.ndarray:
    """Return (N,) the fewest frames each label needs: L + its adjacent repeated symbols."""
    lmax = (skip.shape[1] - 1) // 2
    if lmax < 2:
        return target_lengths.copy()
    inside = np.arange(1, lmax)[None, :] < target_lengths[:, None]
    return target_lengths + (inside & ~skip[:, 3::2]).sum(axis=1)


# ---------------------------------------------------------------------------------------
# The scaled kernel and its error bound
#
# The recursions run on probabilities, each sequence's row divided by its maximum every
# few frames (the logarithms of those units are kept), so a frame costs a handful of adds
# and multiplies and no exp or log. A row can hold values 1e308 apart, but not more: a
# cell far below its row's maximum underflows, into the subnormal range (where it keeps
# only some of its digits) or to 0. Whether that matters is decided after the fact, with
# a bound on what it can have changed:
#
# * An underflow changes a cell by a tiny amount in the units of its frame (at most a few
#   halves of the smallest subnormal, times the sum it multiplies: `_log_cell_error`). The
#   recursions are linear in every cell, so an error δ in alpha_t(s) changes p(label) by
#   exactly δ · beta_t(s), and an error in beta_t(s) by δ · alpha_t(s) (to first order,
#   which is all that matters when the bound is 1e-15).
# * For the loss alone, beta is not computed but bounded: the paths from a state emit
#   distinct strings of the label's classes, so beta_t(s) is at most the product over the
#   later frames of the sum of those classes' probabilities (1 for a distribution). Then
#   the flushed probability at frame t is at most W · (a cell's error) · (units at t) · that
#   product, against p(label) = (units at T) · (final alpha). This settles a trained
#   model's output at once: there the rest of the label is likely from every frame on.
# * Otherwise (and always with the gradient) beta is computed, in a backward pass with its
#   own units, and weighs alpha's errors exactly as above; alpha weighs beta's. Both are
#   relative to Σ_s alpha_t(s) beta_t(s), which is p(label) at every frame: in rescaled
#   units, p(label) divided by the frame's alpha and beta units.
#
# A sequence whose bound exceeds `_UNDERFLOW_TOLERANCE` relative to p(label) is computed
# in log space (`_log_kernel`), which never underflows.
# ---------------------------------------------------------------------------------------

# One cell update rounds at most four times below the normal range (the emission's exp,
# the sum, the product, the rescaling), each by at most half the smallest subnormal
# (2^-1075): 2^-1072 bounds the absolute error of a cell in the units of its frame.
_CELL_ERROR = 2.0**-1072
# The relative change of p(label) that underflow may have made, at most: the loss is
# within this of the exact one, far below the rounding error of any float64 CTC
# computation (about T · 1e-16).
_UNDERFLOW_TOLERANCE = 1e-15
_LOG_TOLERANCE = math.log(_UNDERFLOW_TOLERANCE)
# Rows are rescaled every this many frames. In between they grow by at most a factor 3e
# a frame (three predecessors, emissions at most e): (3e)^16 ≈ 1e14, far from overflow; a
# row that shrinks towards underflow meanwhile shows up in the bound.
_RESCALE_EVERY = 16
# Frames whose emissions are gathered into one table at a time (bounds the memory).
_CHUNK = 32
# With the gradient, a batch of at most this many cells in all (T × cells, 16 MB) keeps
# every frame of alpha; a larger one keeps a frame a chunk and recomputes the rest, as a
# fresh 50 MB buffer costs more in page faults than the recomputation.
_KEEP_CELLS = 1 << 21
# A batch of at most this many states is compact: its transition one matrix product a
# frame (`_Layout.dense`) instead of four shifted vector operations.
_DENSE_CELLS = 32
# Log-probabilities above this (probabilities above e) go to the log kernel: they are not
# probabilities, and exp could overflow.
_LOG_EM_HIGH = 1.0
# Floor for a row maximum before taking its reciprocal: only a row that is all 0 or
# subnormal reaches it (its unit then records what was really divided out).
_FLOOR = 1e-300


@dataclass
class _Layout:
    """The layout of the scaled kernel: a frame of the batch is one contiguous vector.

    A large batch is flat: each sequence's row holds two padding cells (standing for the
    states s-1 and s-2 before state 0) and then its states, and a spare row at the end
    keeps every shifted index in range. Padding cells read an emission of 0, so they stay
    0 through the recursions without any masking, and every operation runs on contiguous
    1-D memory. A small batch is compact (its states only) and applies the transition as
    a matrix (`dense`).
    """

    n: int  # sequences
    rows_count: int  # rows: n, and a spare one when flat
    pad: int  # padding cells in front of each row's states (2 flat, 0 compact)
    width: int  # cells per row
    gather: np.ndarray  # (cells,) the column of a frame of `probs` each cell reads
    skip_in: np.ndarray | None  # flat: (cells - 2,) 1.0 where cell k + 2 is entered from k
    skip_out: np.ndarray | None  # flat: (cells - 2,) 1.0 where cell k may be left for k + 2
    last_cell: np.ndarray  # (N,) each sequence's last state
    second_cell: np.ndarray  # (N,) its other accepting state (the last one if it has none)
    has_second: np.ndarray  # (N,) whether it has one (an empty label has not)
    groups: dict[int, np.ndarray]  # {t: the sequences whose last frame is t}
    ends: np.ndarray  # (N,) each sequence's last frame (0 without frames)
    # Compact: the transition as a matrix A, A[j, k] = 1 when state k is entered from j:
    # alpha_t = (alpha_{t-1} @ A) · y_t and beta_t = A @ (y_{t+1} · beta_{t+1}).
    dense: np.ndarray | None
    first: np.ndarray  # (cells,) 1.0 on the states a path starts in: 0 and 1 of each row

    @property
    def cells(self) -> int:
        return self.rows_count * self.width

    def rows(self, frame: np.ndarray) -> np.ndarray:
        return frame.reshape(self.rows_count, self.width)


def _layout(
    state_column: np.ndarray,
    skip: np.ndarray,
    input_lengths: np.ndarray,
    target_lengths: np.ndarray,
    pad_column: int,
) -> _Layout:
    """Return the layout of a batch whose states read the columns `state_column` (N, S)."""
    n, size = state_column.shape
    compact = n * size <= _DENSE_CELLS
    pad, spare = (0, 0) if compact else (2, 1)
    width, rows_count = size + pad, n + spare
    gather = np.full((rows_count, width), pad_column, dtype=np.intp)
    gather[:n, pad:] = state_column
    first = np.zeros((rows_count, width))
    first[:n, pad] = 1.0
    if size > 1:
        first[:n, pad + 1] = target_lengths > 0  # an empty label has only state 0
    dense = skip_in = skip_out = None
    if compact:
        cell = np.arange(n * size).reshape(n, size)
        dense = np.zeros((n * size, n * size))
        dense[cell, cell] = 1.0
        dense[cell[:, :-1], cell[:, 1:]] = 1.0
        dense[cell[:, :-2], cell[:, 2:]] = skip[:, 2:]
    else:
        into = np.zeros((rows_count, width))
        into[:n, 2:] = skip
        out = np.zeros((rows_count, width))
        out[:n, 2:-2] = skip[:, 2:]
        skip_in, skip_out = into.reshape(-1)[2:], out.reshape(-1)[:-2]
    last, second, has_second = _final_states(target_lengths)
    first_cell = np.arange(n) * width + pad
    return _Layout(
        n=n,
        rows_count=rows_count,
        pad=pad,
        width=width,
        gather=gather.reshape(-1),
        skip_in=skip_in,
        skip_out=skip_out,
        last_cell=first_cell + last,
        second_cell=first_cell + second,
        has_second=has_second,
        groups=_end_groups(input_lengths),
        ends=np.maximum(input_lengths - 1, 0),
        dense=dense,
        first=first.reshape(-1),
    )


def _checked_max(values: np.ndarray) -> float:
    """Return the largest of `values` (log-probabilities), refusing NaN and +inf.

    One read: the maximum is NaN when any value is, and +inf when any value is.
    """
    top = float(values.max()) if values.size else -math.inf
    if math.isnan(top):
        raise ValueError("log_probs contains NaN")
    if top == math.inf:
        raise ValueError("log_probs contains +inf (a log-probability is at most finite)")
    return top


@dataclass
class _Emissions:
    """The probabilities the recursions read: U (sequence, class) columns of each frame."""

    probs: np.ndarray  # (T, U + 1): e^log_probs of the columns, then a column of zeros
    state_column: np.ndarray  # (N, S) the column each extended state reads (U: padding)
    flat_column: np.ndarray  # (U,) each column's index in a (N·C) frame of log_probs
    column_start: np.ndarray  # (N,) each sequence's first column (its columns are adjacent)
    gathered: bool  # whether only the label's classes were taken
    top: float  # the largest log-probability read


def _within_lengths(lp: np.ndarray, input_lengths: np.ndarray) -> np.ndarray:
    """Return lp (T, N, C) with every frame at or past its sequence's length set to -inf.

    Those frames are not part of the input (torch never reads them): whatever they hold —
    NaN, huge values — must neither raise nor reach another sequence. A copy is made only
    when some sequence is shorter than the longest.
    """
    tmax = lp.shape[0]
    if (input_lengths >= tmax).all():
        return lp
    inside = np.arange(tmax)[:, None, None] < input_lengths[None, :, None]
    return np.where(inside, lp, -np.inf).astype(lp.dtype, copy=False)


def _emissions(lp: np.ndarray, ext: np.ndarray, input_lengths: np.ndarray) -> _Emissions:
    """Return the emission columns of a batch.

    A sequence reads only its blank and its label's classes. With a large vocabulary only
    those columns are gathered and exponentiated (as torch does, which never reads the
    others); with a small one every column is, which costs no more than finding them.
    """
    tmax, n, c = lp.shape
    rows = np.arange(n)[:, None]
    # A sequence uses at most its L symbols and the blank.
    if c <= 2 * ((ext.shape[1] + 1) // 2) + 16:
        values = _within_lengths(lp, input_lengths).reshape(tmax, n * c)
        top = _checked_max(values)
        probs = np.empty((tmax, n * c + 1))
        # dtype: a float32 input is exponentiated in float64, not rounded first.
        np.exp(values, out=probs[:, :-1], dtype=np.float64)
        probs[:, -1] = 0.0
        return _Emissions(
            probs=probs,
            state_column=np.where(ext < c, rows * c + ext, n * c),
            flat_column=np.arange(n * c),
            column_start=np.arange(n) * c,
            gathered=False,
            top=top,
        )
    used = np.zeros((n, c + 1), dtype=bool)
    used[rows, ext] = True  # padding states mark the nonexistent class c
    used = used[:, :c]
    count = used.sum(axis=1)
    which, column = np.nonzero(used)  # sorted by sequence, then class
    total = which.size
    values = lp.reshape(tmax, n * c).take(which * c + column, axis=1)
    if (input_lengths < tmax).any():  # frames past a sequence's end are not read
        inside = np.arange(tmax)[:, None] < input_lengths[which][None, :]
        values = np.where(inside, values, -np.inf)
    top = _checked_max(values)
    probs = np.empty((tmax, total + 1))
    np.exp(values, out=probs[:, :-1], dtype=np.float64)
    probs[:, -1] = 0.0
    position = np.full((n, c + 1), total, dtype=np.intp)
    position[which, column] = np.arange(total)
    return _Emissions(
        probs=probs,
        state_column=position[rows, ext],
        flat_column=which * c + column,
        column_start=np.cumsum(count) - count,
        gathered=True,
        top=top,
    )


def _alpha_frames(
    probs: np.ndarray,
    layout: _Layout,
    start: int,
    stop: int,
    previous: np.ndarray | None,
    out: np.ndarray,
    units: np.ndarray | None,
    final: np.ndarray | None,
    emissions: np.ndarray | None = None,
) -> None:
    """Run the forward recursion over frames start..stop-1 into out[: stop - start].

    `previous` is the alpha of frame start - 1 as rescaled then (None when start is 0).
    Rows are divided by their maximum on the frames t ≡ -1 (mod _RESCALE_EVERY), the factor
    going into units[t] (None: known already); `final`, when given, receives each
    sequence's alpha summed over its accepting states at its last frame. From the same
    `previous` it gives the same numbers again: that is how the backward pass recomputes
    a chunk of alphas instead of keeping every frame. `emissions` may hold the frames'
    emissions already (gathered, rows start..stop-1).
    """
    n, cells = layout.n, layout.cells
    tmp = np.empty(max(cells - 2, 0))
    unit = np.empty(layout.rows_count)
    if emissions is None:
        emissions = probs[start:stop].take(layout.gather, axis=1)
    dense = layout.dense
    # The frames where more happens than the recursion: rescaling, a sequence's end.
    rescale = set(range(start + (-start - 1) % _RESCALE_EVERY, stop, _RESCALE_EVERY))
    ends = set(layout.groups).intersection(range(start, stop)) if final is not None else set()
    events = rescale | ends
    prev = previous
    for i, new in enumerate(out[: stop - start]):
        if prev is None:
            # A path starts in the first blank or the first label symbol.
            np.multiply(emissions[i], layout.first, out=new)
        else:
            # alpha_t(s) = (alpha(s) + alpha(s-1) + [skip] alpha(s-2)) · y_t(ext[s]); the
            # product with y = 0 keeps the padding cells at 0.
            if dense is not None:
                np.dot(prev, dense, out=new)
            else:
                body = new[2:]
                np.add(prev[2:], prev[1:-1], out=body)
                np.multiply(prev[:-2], layout.skip_in, out=tmp)
                np.add(body, tmp, out=body)
            np.multiply(new, emissions[i], out=new)
        prev = new
        t = start + i
        if t not in events:
            continue
        if t in rescale:
            rows = layout.rows(new)
            np.maximum.reduce(rows, axis=1, out=unit)
            np.maximum(unit, _FLOOR, out=unit)
            if units is not None:
                units[t] = unit[:n]
            np.divide(1.0, unit, out=unit)
            np.multiply(rows, unit[:, None], out=rows)
        if t in ends:
            group = layout.groups[t]
            final[group] = new[layout.last_cell[group]] + np.where(
                layout.has_second[group], new[layout.second_cell[group]], 0.0
            )


def _alpha_pass(
    probs: np.ndarray, layout: _Layout, tmax: int, store: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Return (log_like, log_unit, saved): the forward recursion, chunk by chunk.

    `log_like` (N,) is log p(label) of each sequence; `log_unit` (T, N) the log of the
    factor each frame's row was divided by (0 where it was not rescaled). `store` says what
    `saved` holds for the backward pass: "frames", every frame (T, cells); "checkpoints",
    the last frame of every chunk, from which `_alpha_frames` recomputes the next one, so
    that only a chunk of frames is ever in memory; "none", nothing.
    """
    n, cells = layout.n, layout.cells
    chunks = range(0, tmax, _CHUNK)
    frames = np.zeros((tmax, cells)) if store == "frames" else None  # padding stays 0
    buffer = np.zeros((min(_CHUNK, tmax), cells)) if frames is None else None
    saved = np.empty((len(chunks), cells)) if store == "checkpoints" else frames
    units = np.ones((tmax, n))
    final = np.zeros(n)
    previous = np.empty(cells)
    for k, start in enumerate(chunks):
        stop = min(start + _CHUNK, tmax)
        out = buffer if frames is None else frames[start:stop]
        _alpha_frames(probs, layout, start, stop, previous if start else None, out, units, final)
        previous[:] = out[stop - start - 1]
        if store == "checkpoints":
            saved[k] = previous
    log_unit = np.log(units)
    log_like = np.cumsum(log_unit, axis=0)[layout.ends, np.arange(n)] + np.log(final)
    return log_like, log_unit, saved


def _beta_pass(
    probs: np.ndarray,
    layout: _Layout,
    tmax: int,
    each_chunk: Callable[[int, int, np.ndarray, np.ndarray, np.ndarray], None] | None = None,
) -> np.ndarray:
    """Return log_unit (T, N) of the backward recursion, run chunk by chunk from the end.

    `log_unit` is the log of the factor each frame's beta row was divided by (0 where it
    was not rescaled, and from each sequence's last frame on, where its beta restarts at
    1). After each chunk, `each_chunk(start, stop, betas, log_unit, emissions)` receives
    its betas (rows 0 .. stop - start - 1), their log units, and the gathered emissions of
    frames start .. stop (the last one when there is one).
    """
    n, cells = layout.n, layout.cells
    buffer = np.zeros((min(_CHUNK, tmax), cells))  # the last two cells stay 0
    carried = np.zeros(cells)  # y_{t+1}(ext[s]) · beta_{t+1}(s)
    following = np.zeros(cells)  # beta of the frame after the chunk
    tmp = np.empty(max(cells - 2, 0))
    unit = np.empty(layout.rows_count)
    units = np.ones((tmax, n))
    log_unit = np.zeros((tmax, n))
    for start in reversed(range(0, tmax, _CHUNK)):
        stop = min(start + _CHUNK, tmax)
        # The emissions of frames start .. stop: beta_t reads those of frame t + 1 (and the
        # occupancy's recomputed alphas those of start .. stop - 1).
        emissions = probs[start : stop + 1].take(layout.gather, axis=1)
        after = following
        for t in range(stop - 1, start - 1, -1):
            beta = buffer[t - start]
            if t < tmax - 1:
                # beta_t(s) = c(s) + c(s+1) + [skip into s+2] c(s+2) with
                # c = y_{t+1} · beta_{t+1}. Padding cells of beta pick up a copy of part of
                # the next state's value: never read (their emission is 0).
                np.multiply(emissions[t + 1 - start], after, out=carried)
                if layout.dense is not None:
                    np.dot(layout.dense, carried, out=beta)
                else:
                    body = beta[:-2]
                    np.add(carried[:-2], carried[1:-1], out=body)
                    np.multiply(carried[2:], layout.skip_out, out=tmp)
                    np.add(body, tmp, out=body)
                if (tmax - 1 - t) % _RESCALE_EVERY == 0:
                    rows = layout.rows(beta)
                    np.maximum.reduce(rows, axis=1, out=unit)
                    np.maximum(unit, _FLOOR, out=unit)
                    units[t] = unit[:n]
                    np.divide(1.0, unit, out=unit)
                    np.multiply(rows, unit[:, None], out=rows)
            else:
                beta.fill(0.0)
            group = layout.groups.get(t)
            if group is not None:
                # The last frame of these sequences: beta is 1 on the accepting states.
                layout.rows(beta)[group] = 0.0
                beta[layout.last_cell[group]] = 1.0
                with_second = group[layout.has_second[group]]
                beta[layout.second_cell[with_second]] = 1.0
            after = beta
        following[:] = buffer[0]
        # A sequence's beta restarts at 1 on its last frame: later frames' units are not
        # its own.
        logs = np.log(units[start:stop])
        logs[np.arange(start, stop)[:, None] >= layout.ends[None, :]] = 0.0
        log_unit[start:stop] = logs
        if each_chunk is not None:
            each_chunk(start, stop, buffer, logs, emissions)
    return log_unit


def _log_growth(top: float) -> float:
    """Return log of how far a rescaled row's values can grow before the next rescaling.

    A cell sums at most three cells of the frame before and multiplies by an emission of
    at most e^top (top <= 1: probabilities at most e): a factor 3 e^top a frame, over at
    most `_RESCALE_EVERY` frames (3^16 ≈ 4e7 for log-probabilities, (3e)^16 ≈ 1e14 at
    worst, far from overflow).
    """
    return _RESCALE_EVERY * (math.log(3.0) + max(top, 0.0))


def _log_cell_error(top: float) -> float:
    """Return log of a bound on the underflow error of one cell, in its frame's units.

    A cell is a sum of at most three earlier cells (each at most e^growth) times an
    emission: each of the emission's exp, the sum and the product rounds by at most half
    the smallest subnormal when it falls below the normal range, and the emission's
    rounding is multiplied by the sum. Hence `_CELL_ERROR` (four such roundings) times
    1 + 3 e^growth.
    """
    return math.log(_CELL_ERROR) + np.logaddexp(0.0, math.log(3.0) + _log_growth(top))


def _log_sum_over_frames(terms: np.ndarray, frames: np.ndarray) -> np.ndarray:
    """Return log of a bound on Σ_t e^terms[t, n] over t < frames[n]: the largest term
    times the number of terms (-inf when there are none)."""
    inside = np.arange(terms.shape[0])[:, None] < frames[None, :]
    largest = np.where(inside, terms, -np.inf).max(axis=0, initial=-np.inf)
    return largest + np.log(np.maximum(frames, 1))


def _log_one_plus_inverse(log_unit: np.ndarray) -> np.ndarray:
    """Return a bound on log(1 + 1/u) from log u: log 2 + max(0, -log u)."""
    return np.maximum(-log_unit, 0.0) + math.log(2.0)


def _log_row_sums(
    log_like: np.ndarray, alpha_unit: np.ndarray, beta_unit: np.ndarray
) -> np.ndarray:
    """Return (T, N) log Σ_s alpha_t(s) beta_t(s) in rescaled units at every frame.

    Σ_s alpha_t(s) beta_t(s) = p(label) at every t, so in rescaled units it is p(label)
    divided by the frame's alpha units (the factors divided out up to t) and beta units
    (those divided out from the last frame down to t).
    """
    alpha_scale = np.cumsum(alpha_unit, axis=0)
    beta_scale = np.cumsum(beta_unit[::-1], axis=0)[::-1]
    with np.errstate(invalid="ignore"):
        return log_like[None, :] - alpha_scale - beta_scale


def _bound_with_beta(
    log_like: np.ndarray,
    alpha_unit: np.ndarray,
    beta_unit: np.ndarray,
    layout: _Layout,
    input_lengths: np.ndarray,
    top: float,
) -> np.ndarray:
    """Return (N,) log of a bound on the relative change of p(label) from underflow.

    At every frame t: an error of one cell's (`_log_cell_error`) per alpha cell (before
    and after the rescaling, in the units of the previous and of this frame) weighted by
    beta; one per beta cell weighted by alpha; one per product alpha · beta. A rescaled
    row's values are at most e^growth (`_log_growth`), so each weighted sum is at most W
    cells times that; all relative to Σ_s alpha beta in the same units.
    """
    alpha_errors = _log_one_plus_inverse(alpha_unit)
    beta_errors = _log_one_plus_inverse(beta_unit)
    per_frame = (
        np.logaddexp(np.logaddexp(alpha_errors, beta_errors), 0.0)
        + _log_cell_error(top)
        + math.log(layout.width)
        + _log_growth(top)
        - _log_row_sums(log_like, alpha_unit, beta_unit)
    )
    bound = _log_sum_over_frames(per_frame, input_lengths)
    return np.where(np.isfinite(log_like), bound, np.inf)


def _bound_without_beta(
    log_like: np.ndarray,
    log_unit: np.ndarray,
    emissions: _Emissions,
    layout: _Layout,
    input_lengths: np.ndarray,
    top: float,
) -> np.ndarray:
    """Return (N,) log of a bound on the relative change of p(label) from underflow.

    At every frame every cell may be off by a cell's error (`_log_cell_error`) in the
    units before and after rescaling, and beta_t(s) is at most the product over the later
    frames of Z, the sum of the probabilities of the sequence's classes: the paths from a
    state emit distinct strings of those classes. This is enough when the rest of the
    label is likely from every frame on (a trained model's output): p(label) is then not
    far below the alpha units.
    """
    tmax, n = log_unit.shape
    sums = np.add.reduceat(emissions.probs[:tmax, :-1], emissions.column_start, axis=1)
    log_z = np.cumsum(np.log(sums), axis=0)
    log_beta_bound = log_z[layout.ends, np.arange(n)][None, :] - log_z
    per_frame = (
        _log_cell_error(top)
        + math.log(layout.width)
        + _log_one_plus_inverse(log_unit)
        + np.cumsum(log_unit, axis=0)
        + log_beta_bound
        - log_like[None, :]
    )
    bound = _log_sum_over_frames(per_frame, input_lengths)
    return np.where(np.isfinite(log_like), bound, np.inf)


def _gradient(
    emissions: _Emissions,
    layout: _Layout,
    lp: np.ndarray,
    input_lengths: np.ndarray,
    log_like: np.ndarray,
    alpha_unit: np.ndarray,
    saved: np.ndarray,
    every_frame: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """Return (grad (T, N, C), beta_unit (T, N)): softmax - posterior occupancy of each
    class, d loss / d logits, from the backward pass.

    Chunk by chunk from the end: the chunk's alphas (`saved`: every frame, or the
    checkpoints they are recomputed from, `every_frame` says which) are multiplied by its
    betas, giving the occupancy of each state in rescaled units, and divided by
    Σ_s alpha beta (`_log_row_sums`, from the units). The states that emit the same class
    (every blank, a class that repeats in the label) are summed by one matrix product per
    sequence, (frames × states) @ (states × its columns), which BLAS does at full speed.
    """
    tmax, n, c = lp.shape
    starts = emissions.column_start
    counts = np.diff(np.r_[starts, emissions.flat_column.size])
    width = int(counts.max())
    # one_hot[n, cell, k]: the cell (a state; padding cells none) reads the sequence's
    # k-th column.
    rows = np.arange(n)[:, None]
    column = layout.rows(layout.gather)[:n] - starts[:, None]
    real = column < counts[:, None]
    one_hot = np.zeros((n, layout.width, width))
    cell = np.broadcast_to(np.arange(layout.width), column.shape)
    one_hot[np.broadcast_to(rows, column.shape)[real], cell[real], column[real]] = 1.0
    if emissions.gathered:
        # The gradient covers every class: read them all (once, and checked).
        lp = _within_lengths(lp, input_lengths)
        _checked_max(lp)
        grad = np.exp(lp, dtype=np.float64)
        used = np.arange(width)[None, :] < counts[:, None]  # (N, K)
        target = emissions.flat_column[(starts[:, None] + np.arange(width)[None, :])[used]]
    else:
        grad = emissions.probs[:, :-1].reshape(tmax, n, c).copy()
    flat = grad.reshape(tmax, n * c)
    alpha_scale = np.cumsum(alpha_unit, axis=0)
    alphas = np.zeros((min(_CHUNK, tmax), layout.cells))
    later = np.zeros(n)  # Σ of the beta log units of the frames after the chunk

    def occupancy(
        start: int, stop: int, betas: np.ndarray, beta_unit: np.ndarray, gathered: np.ndarray
    ) -> None:
        nonlocal later
        size = stop - start
        if every_frame:
            gamma = saved[start:stop]
        else:
            k = start // _CHUNK
            previous = saved[k - 1] if k else None
            _alpha_frames(
                emissions.probs, layout, start, stop, previous, alphas, None, None, gathered
            )
            gamma = alphas[:size]
        np.multiply(gamma, betas[:size], out=gamma)
        states = gamma.reshape(size, layout.rows_count, layout.width).transpose(1, 0, 2)[:n]
        sums = np.matmul(states, one_hot)  # (N, frames, K)
        # Σ_s alpha_t(s) beta_t(s) in rescaled units (`_log_row_sums`), frame by frame.
        beta_scale = np.cumsum(beta_unit[::-1], axis=0)[::-1] + later
        later = beta_scale[0]
        log_row_sum = log_like[None, :] - alpha_scale[start:stop] - beta_scale
        inside = np.arange(start, stop)[:, None] < input_lengths[None, :]
        inverse = np.where(np.isfinite(log_row_sum) & inside, np.exp(-log_row_sum), 0.0)
        sums *= inverse.T[:, :, None]
        if emissions.gathered:
            flat[start:stop, target] -= sums.transpose(1, 0, 2)[:, used]
        else:
            np.subtract(grad[start:stop], sums.transpose(1, 0, 2), out=grad[start:stop])

    beta_unit = _beta_pass(emissions.probs, layout, tmax, occupancy)
    return grad, beta_unit


def _accept(
    bound: np.ndarray,
    log_like: np.ndarray,
    skip: np.ndarray,
    input_lengths: np.ndarray,
    target_lengths: np.ndarray,
) -> np.ndarray:
    """Return (N,) which results stand: a bound within tolerance, or a label that cannot fit
    in its frames (probability exactly 0: `log_like` is set to -inf there)."""
    exact = bound <= _LOG_TOLERANCE
    if not exact.all():
        impossible = input_lengths < _min_frames_batch(skip, target_lengths)
        log_like[impossible] = -np.inf  # whatever the rows made of the frames they have
        exact |= impossible
    return exact


def _scaled_kernel(
    lp: np.ndarray,
    ext: np.ndarray,
    skip: np.ndarray,
    input_lengths: np.ndarray,
    target_lengths: np.ndarray,
    want_grad: bool,
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    """Return (losses, grad, exact) from the scaled kernel.

    `exact` marks the sequences whose result the error bound certifies; the others must
    be computed again in log space (their outputs here are meaningless).
    """
    tmax = lp.shape[0]
    emissions = _emissions(lp, ext, input_lengths)
    layout = _layout(
        emissions.state_column,
        skip,
        input_lengths,
        target_lengths,
        emissions.probs.shape[1] - 1,
    )
    # Values the scaled kernel is not built for (probabilities above e): log space.
    too_high = np.zeros(layout.n, dtype=bool)
    if emissions.top > _LOG_EM_HIGH:
        per_sequence = np.maximum.reduceat(
            emissions.probs[:, :-1], emissions.column_start, axis=1
        )  # (T, N)
        inside = np.arange(tmax)[:, None] < input_lengths[None, :]
        too_high = ((per_sequence > math.e) & inside).any(axis=0)
        # Their values could overflow, and an inf in a row would reach the next row through
        # the padding cells (0 · inf): they emit 0 here instead.
        starts = emissions.column_start
        stops = np.r_[starts[1:], emissions.flat_column.size]
        for i in np.nonzero(too_high)[0]:
            emissions.probs[:, starts[i] : stops[i]] = 0.0
    # What the other sequences read is at most e^top, top <= 1 (what the bounds assume).
    top = min(emissions.top, _LOG_EM_HIGH)
    if want_grad:
        # Every frame is kept when that is small; else chunk checkpoints (see `_gradient`).
        every_frame = tmax * layout.cells <= _KEEP_CELLS
        log_like, alpha_unit, saved = _alpha_pass(
            emissions.probs, layout, tmax, "frames" if every_frame else "checkpoints"
        )
        grad, beta_unit = _gradient(
            emissions, layout, lp, input_lengths, log_like, alpha_unit, saved, every_frame
        )
        bound = _bound_with_beta(log_like, alpha_unit, beta_unit, layout, input_lengths, top)
        exact = _accept(bound, log_like, skip, input_lengths, target_lengths) & ~too_high
        return -log_like, grad, exact
    log_like, alpha_unit, _ = _alpha_pass(emissions.probs, layout, tmax, "none")
    bound = _bound_without_beta(log_like, alpha_unit, emissions, layout, input_lengths, top)
    exact = _accept(bound, log_like, skip, input_lengths, target_lengths) & ~too_high
    unsure = np.nonzero(~(exact | too_high))[0]
    if unsure.size:
        # Bound those again with beta itself: one backward pass, without the gradient.
        if unsure.size < layout.n:
            emissions = _emissions(lp[:, unsure], ext[unsure], input_lengths[unsure])
            layout = _layout(
                emissions.state_column,
                skip[unsure],
                input_lengths[unsure],
                target_lengths[unsure],
                emissions.probs.shape[1] - 1,
            )
        beta_unit = _beta_pass(emissions.probs, layout, tmax)
        bound = _bound_with_beta(
            log_like[unsure],
            alpha_unit[:, unsure],
            beta_unit,
            layout,
            input_lengths[unsure],
            top,
        )
        exact[unsure] = bound <= _LOG_TOLERANCE
    return -log_like, None, exact


# ---------------------------------------------------------------------------------------
# The log-space kernel
# ---------------------------------------------------------------------------------------


def _lse3(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Return log(e^a + e^b + e^c), elementwise, shifted by the maximum; -inf when all are."""
    top = np.maximum(np.maximum(a, b), c)
    # An all -inf cell would give -inf - (-inf) = nan: shift it by 0 instead.
    shift = np.where(np.isneginf(top), 0.0, top)
    total = np.exp(a - shift) + np.exp(b - shift) + np.exp(c - shift)
    return np.log(total) + shift


def _log_kernel(
    lp: np.ndarray,
    ext: np.ndarray,
    skip: np.ndarray,
    input_lengths: np.ndarray,
    target_lengths: np.ndarray,
    want_grad: bool,
    want_alpha: bool,
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """Return (losses, grad, log_alpha) from the alpha-beta recursions in log space.

    Slower than the scaled kernel (three exp and one log per cell) but never underflows:
    log alpha of a product of a million tiny probabilities is just a large negative number.
    """
    tmax, n, c = lp.shape
    size = ext.shape[1]
    nc = n * c
    logp = np.empty((tmax, nc + 1))
    logp[:, :nc] = lp.reshape(tmax, nc)
    logp[:, nc] = -np.inf  # padding states emit nothing
    flat = np.where(ext < c, np.arange(n)[:, None] * c + ext, nc).ravel()
    skip_log = np.where(skip, 0.0, -np.inf)
    last, second, has_second = _final_states(target_lengths)
    groups = _end_groups(input_lengths)
    np.arange(n)

    # Every frame is kept only for the gradient or the trellis.
    log_alpha = np.full((tmax, n, size), -np.inf) if want_grad or want_alpha else None
    log_like = np.full(n, -np.inf)
    prev = np.full((n, size + 2), -np.inf)
    for t in range(tmax):
        em = logp[t].take(flat).reshape(n, size)
        if t == 0:
            new = np.full((n, size), -np.inf)
            new[:, :2] = em[:, :2] if size > 1 else em[:, :1]
        else:
            new = _lse3(prev[:, 2:], prev[:, 1:-1], prev[:, :-2] + skip_log) + em
        if log_alpha is not None:
            log_alpha[t] = new
        prev[:, 2:] = new
        group = groups.get(t)
        if group is not None:
            log_like[group] = np.logaddexp(
                new[group, last[group]],
                np.where(has_second[group], new[group, second[group]], -np.inf),
            )
    losses = -log_like

    grad = None
    if want_grad:
        skip2 = np.full((n, size), -np.inf)
        skip2[:, :-2] = skip_log[:, 2:]
        grad = np.empty((tmax, nc))
        beta = np.full((n, size), -np.inf)
        carried = np.full((n, size + 2), -np.inf)
        for t in range(tmax - 1, -1, -1):
            if t < tmax - 1:
                em = logp[t + 1].take(flat).reshape(n, size)
                carried[:, :size] = beta + em
                beta = _lse3(carried[:, :size], carried[:, 1 : size + 1], carried[:, 2:] + skip2)
            group = groups.get(t)
            if group is not None:
                beta[group] = -np.inf
                beta[group, last[group]] = 0.0
                with_second = group[has_second[group]]
                beta[with_second, second[with_second]] = 0.0
            # log gamma = log alpha + log beta - log P; -inf (not nan) for dead sequences.
            log_gamma = log_alpha[t] + beta - np.where(np.isinf(log_like), 0.0, log_like)[:, None]
            occupancy = np.bincount(flat, weights=np.exp(log_gamma).reshape(-1), minlength=nc + 1)
            grad[t] = np.exp(logp[t, :nc]) - occupancy[:nc]
        grad = grad.reshape(tmax, n, c)
    if not want_alpha:
        return losses, grad, None
    # Beyond each sequence's last frame alpha is not defined.
    beyond = np.arange(tmax)[:, None] >= input_lengths[None, :]
    log_alpha[beyond] = -np.inf
    return losses, grad, log_alpha


def _ctc_batch(
    lp: np.ndarray,
    labels: np.ndarray,
    input_lengths: np.ndarray,
    target_lengths: np.ndarray,
    blank: int,
    *,
    want_grad: bool = False,
    want_alpha: bool = False,
    method: str = "auto",
) -> _KernelOut:
    """Return the per-sequence CTC losses (and optionally gradients, log alphas) of a batch.

    Inputs are validated already: `lp` (T, N, C) float64, `labels` (N, Lmax) padded int64,
    lengths (N,) int64 with 0 <= input_lengths <= T. `lp` may be float32 (read into
    float64); NaN or +inf in what is read is a ValueError.
    `method` is "auto" (the scaled kernel, and the log kernel for the sequences whose
    result it cannot certify) or "log" (the log kernel for everything). The trellis
    (`want_alpha`) always comes from the log kernel: it shows every cell, not only those
    the bound covers. The gradient is d(sum of losses)/d(logits) for log_probs =
    log_softmax(logits): zero beyond each input length and for sequences whose loss is
    infinite.
    """
    total_frames, n, c = lp.shape
    tmax = int(input_lengths.max()) if n else 0
    ext, _, skip = _extend_batch(labels, target_lengths, blank, c)
    size = ext.shape[1]
    lp_used = lp[:tmax] if lp.flags.c_contiguous else np.ascontiguousarray(lp[:tmax])
    losses = np.zeros(n)
    grad = None
    log_alpha = np.full((total_frames, n, size), -np.inf) if want_alpha else None
    use_log = np.zeros(n, dtype=bool)
    if tmax > 0:
        with np.errstate(all="ignore"):
            if method == "log" or want_alpha:
                use_log[:] = True
                _checked_max(_within_lengths(lp_used, input_lengths))
            else:
                s_loss, s_grad, exact = _scaled_kernel(
                    lp_used, ext, skip, input_lengths, target_lengths, want_grad
                )
                use_log |= ~exact
                losses[:] = s_loss
                if want_grad:
                    grad = _pad_frames(s_grad, total_frames)
            if use_log.any():
                idx = np.nonzero(use_log)[0]
                l_loss, l_grad, l_alpha = _log_kernel(
                    np.ascontiguousarray(
                        _within_lengths(lp_used[:, idx], input_lengths[idx]), dtype=np.float64
                    ),
                    ext[idx],
                    skip[idx],
                    input_lengths[idx],
                    target_lengths[idx],
                    want_grad,
                    want_alpha,
                )
                losses[idx] = l_loss
                if want_grad:
                    if grad is None:
                        grad = np.zeros((total_frames, n, c))
                    grad[:tmax, idx] = l_grad
                if want_alpha:
                    log_alpha[:tmax, idx] = l_alpha
    if want_grad and grad is None:
        grad = np.zeros((total_frames, n, c))
    # No frames at all: only the empty label has an alignment (the empty path).
    empty_input = input_lengths == 0
    losses[empty_input] = np.where(target_lengths[empty_input] == 0, 0.0, np.inf)
    short = input_lengths < total_frames
    if want_grad:
        if short.any():
            grad[np.arange(total_frames)[:, None] >= input_lengths[None, :]] = 0.0
        infinite = np.isinf(losses)
        if infinite.any():
            grad[:, infinite] = 0.0
    if want_alpha and short.any():
        log_alpha[np.arange(total_frames)[:, None] >= input_lengths[None, :]] = -np.inf
    return _KernelOut(losses=losses, grad=grad, log_alpha=log_alpha, log_kernel=use_log)


def _pad_frames(values: np.ndarray, frames: int) -> np.ndarray:
    """Return (frames, ...) `values` followed by zeros (itself when it has them all)."""
    if values.shape[0] == frames:
        return values
    out = np.zeros((frames, *values.shape[1:]))
    out[: values.shape[0]] = values
    return out


# ---------------------------------------------------------------------------------------
# Single sequences: matrix mode and lecture mode
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BestPath:
    """The most probable single alignment that collapses to the label (Viterbi)."""

    path: list  # length T: class indices (matrix mode) or symbols (lecture mode)
    probability: float  # may underflow to 0.0; log_probability stays exact
    log_probability: float


@dataclass(frozen=True)
class Greedy:
    """The arg-max class of every frame, and what that path collapses to."""

    path: list[int]
    collapsed: list[int]


@dataclass(frozen=True)
class NormalizedDP:
    """The exact computation again with each value divided by their sum."""

    total: float  # the sum of the given values that every value was divided by
    probability: float
    log_probability: float
    loss: float


@dataclass(frozen=True)
class MatrixDP:
    """The exact CTC computation for one sequence and a T × V matrix of log-probabilities."""

    frames: int  # T
    states: list[int]  # blank-extended label as class indices (the trellis columns)
    paths: int  # exact number of length-T alignments collapsing to the label
    probability: float  # p(label | x); 0.0 when it underflows (the loss stays exact)
    log_probability: float  # natural log; -inf when impossible
    loss: float  # -log_probability, +inf when impossible
    min_frames: int  # L + number of adjacent repeated label symbols
    best_path: BestPath | None  # None when no alignment has non-zero probability
    greedy: Greedy
    alpha: np.ndarray | None  # T × (2L+1) alpha as probabilities (trellis=True)
    grad: np.ndarray | None  # T × V d loss / d logits (grad=True); zeros if loss is inf


@dataclass(frozen=True)
class LectureDP:
    """The exact CTC computation when every frame emits every symbol with the same value."""

    frames: int  # T
    states: list  # blank-extended label as symbols (the trellis columns)
    paths: int  # exact number of length-T paths collapsing to the label
    probability: float  # sum over those paths of the products of their values
    log_probability: float
    loss: float  # -log probability (natural log), +inf when the probability is 0
    min_frames: int
    normalized: NormalizedDP | None  # None when the values sum to 1 within 1e-6
    best_path: BestPath | None  # symbols of one most probable path, None if impossible
    alpha: np.ndarray | None  # T × (2L+1) alpha as probabilities (trellis=True)


def _exp_table(log_alpha: np.ndarray) -> np.ndarray:
    """Return e^log_alpha: lecture-mode values that overflow float64 are inf, silently."""
    with np.errstate(over="ignore"):
        return np.exp(log_alpha)


def _exp(log_value: float) -> float:
    """Return e^log_value as a float: 0.0 when it underflows, inf when it overflows.

    In lecture mode values need not sum to 1, so a sum over many paths can exceed 1 and,
    for thousands of frames, even the float64 range.
    """
    if log_value < 709.0:
        return math.exp(log_value)
    with np.errstate(over="ignore"):
        return float(np.exp(np.float64(log_value)))


def _check_log_probs_2d(log_probs: Any) -> np.ndarray:
    lp = np.asarray(_as_numpy(log_probs), dtype=np.float64)
    if lp.ndim != 2:
        raise ValueError(f"log_probs must be a T × V matrix, got shape {lp.shape}")
    if lp.shape[0] < 1 or lp.shape[1] < 1:
        raise ValueError(f"log_probs must have at least one frame and one class, got {lp.shape}")
    if np.isnan(lp).any():
        raise ValueError("log_probs contains NaN")
    if np.isposinf(lp).any():
        raise ValueError("log_probs contains +inf (a log-probability is at most finite)")
    return lp


def _viterbi(lp: np.ndarray, states: np.ndarray, skip: np.ndarray) -> BestPath | None:
    """Return the most probable alignment (max-product alpha recursion, in log space)."""
    frames = lp.shape[0]
    size = states.size
    em = lp[:, states]  # (T, S) log emissions of every state
    delta = np.full(size, -np.inf)
    delta[: min(size, 2)] = em[0, : min(size, 2)]
    back = np.zeros((frames, size), dtype=np.int8)  # 0 stay, 1 from s-1, 2 from s-2
    candidates = np.full((3, size), -np.inf)
    columns = np.arange(size)
    skip_from = np.nonzero(skip)[0]
    # A sum of log-probabilities below −1.8e308 (two emissions of −1e308) is −∞: a path
    # whose product is below every float64, as the forward algorithm's log kernel has it.
    with np.errstate(over="ignore"):
        for t in range(1, frames):
            candidates[0] = delta
            candidates[1, 1:] = delta[:-1]
            candidates[2, skip_from] = delta[skip_from - 2]
            choice = np.argmax(candidates, axis=0)  # first maximum: prefer staying on ties
            back[t] = choice
            delta = candidates[choice, columns] + em[t]
    ends = [size - 1] + ([size - 2] if size > 1 else [])
    end = max(ends, key=lambda s: delta[s])
    best = float(delta[end])
    if best == -np.inf:
        return None
    walk = np.empty(frames, dtype=np.int64)
    s = end
    for t in range(frames - 1, -1, -1):
        walk[t] = s
        s -= int(back[t, s])
    return BestPath(path=states[walk].tolist(), probability=_exp(best), log_probability=best)


def _single(
    label_indices: Sequence[int],
    lp: np.ndarray,
    blank: int,
    trellis: bool,
    grad: bool,
) -> tuple[_KernelOut, np.ndarray, np.ndarray]:
    """Run the batched kernel on one sequence; return (output, states, skip)."""
    frames, classes = lp.shape
    label = np.asarray(list(label_indices), dtype=np.int64).reshape(-1)
    if not 0 <= blank < classes:
        raise ValueError(f"blank index {blank} is outside the {classes} classes")
    bad = (label < 0) | (label >= classes)
    if bad.any():
        raise ValueError(f"label index {int(label[bad][0])} is outside the {classes} classes")
    if (label == blank).any():
        raise ValueError(f"the label contains the blank index {blank}")
    out = _ctc_batch(
        np.ascontiguousarray(lp[:, None, :]),
        label[None, :],
        np.array([frames], dtype=np.int64),
        np.array([label.size], dtype=np.int64),
        blank,
        want_grad=grad,
        want_alpha=trellis,
    )
    states = np.asarray(extended_label(label.tolist(), blank), dtype=np.int64)
    return out, states, skip_allowed(label.tolist())


def ctc_matrix(
    label_indices: Sequence[int],
    log_probs: np.ndarray,
    blank: int,
    trellis: bool = False,
    grad: bool = False,
) -> MatrixDP:
    """Return the exact CTC result (MatrixDP) for one label and a T × V log-probability matrix.

    `log_probs` rows are natural-log probabilities (-inf allowed); rows that do not sum to
    1 are used as given. `grad` is the gradient of the loss with respect to logits whose
    log-softmax is `log_probs`: softmax - posterior occupancy of each class.
    """
    lp = _check_log_probs_2d(log_probs)
    label = [int(i) for i in label_indices]
    out, states, skip = _single(label, lp, int(blank), trellis, grad)
    loss = float(out.losses[0])
    log_probability = -loss
    argmax = np.argmax(lp, axis=1).tolist()
    return MatrixDP(
        frames=lp.shape[0],
        states=states.tolist(),
        paths=count_alignments(label, lp.shape[0]),
        probability=_exp(log_probability),
        log_probability=log_probability,
        loss=loss,
        min_frames=min_frames(label),
        best_path=_viterbi(lp, states, skip),
        greedy=Greedy(path=argmax, collapsed=collapse(argmax, int(blank))),
        alpha=_exp_table(out.log_alpha[:, 0, :]) if trellis else None,
        grad=out.grad[:, 0, :] if grad else None,
    )


def lecture_forward(
    label: Sequence[Hashable],
    probabilities: Mapping[Hashable, float],
    blank: Hashable,
    frames: int,
    trellis: bool = False,
) -> LectureDP:
    """Return the exact CTC result (LectureDP) when every frame emits each symbol with its value.

    The alphabet is the keys of `probabilities` (it must contain `blank` and every label
    symbol); values lie in [0, 1] and need not sum to 1. When they do not (within 1e-6),
    `normalized` repeats the computation with each value divided by their sum.
    """
    symbols = list(probabilities)
    if blank not in probabilities:
        raise ValueError(f"the blank {blank!r} has no probability")
    values = np.array([float(probabilities[s]) for s in symbols], dtype=np.float64)
    if np.isnan(values).any() or (values < 0).any() or (values > 1).any():
        raise ValueError("every probability must lie in [0, 1]")
    missing = [s for s in label if s not in probabilities]
    if missing:
        raise ValueError(f"label symbol {missing[0]!r} has no probability")
    if blank in label:
        raise ValueError(f"the label contains the blank {blank!r}")
    frames = int(frames)
    if frames < 1:
        raise ValueError(f"frames must be at least 1, got {frames}")
    total = float(values.sum())
    if total <= 0.0:
        raise ValueError("the probabilities are all 0")
    index = {s: i for i, s in enumerate(symbols)}
    label_indices = [index[s] for s in label]
    blank_index = index[blank]

    with np.errstate(divide="ignore"):
        row = np.log(values)
    # Every frame is the same row: tile it into the T × V matrix the kernel reads.
    lp = np.tile(row, (frames, 1))
    out, states, skip = _single(label_indices, lp, blank_index, trellis, False)
    loss = float(out.losses[0])

    normalized = None
    # Values within 1e-6 of a distribution can still sum, over thousands of frames, to a
    # "probability" above 1 (a negative loss): normalise those too.
    if abs(total - 1.0) > _SUM_TOLERANCE or loss < 0.0:
        norm_out, _, _ = _single(label_indices, lp - math.log(total), blank_index, False, False)
        norm_loss = float(norm_out.losses[0])
        normalized = NormalizedDP(
            total=total,
            probability=_exp(-norm_loss),
            log_probability=-norm_loss,
            loss=norm_loss,
        )
    best = _viterbi(lp, states, skip)
    if best is not None:
        best = BestPath(
            path=[symbols[i] for i in best.path],
            probability=best.probability,
            log_probability=best.log_probability,
        )
    return LectureDP(
        frames=frames,
        states=[symbols[i] for i in states.tolist()],
        paths=count_alignments(list(label), frames),
        probability=_exp(-loss),
        log_probability=-loss,
        loss=loss,
        min_frames=min_frames(list(label)),
        normalized=normalized,
        best_path=best,
        alpha=_exp_table(out.log_alpha[:, 0, :]) if trellis else None,
    )


# ---------------------------------------------------------------------------------------
# The torch-compatible API
# ---------------------------------------------------------------------------------------


def _as_numpy(x: Any) -> Any:
    """Return `x` with a torch tensor (or anything with .detach/.numpy) made a numpy array."""
    if hasattr(x, "detach") and hasattr(x, "cpu"):
        return x.detach().cpu().numpy()
    return x


def _integers(x: Any, name: str) -> np.ndarray:
    """Return `x` as an int64 array, refusing non-integral or non-numeric values."""
    arr = np.asarray(_as_numpy(x))
    kind = arr.dtype.kind
    if kind == "i" or (kind == "u" and arr.dtype.itemsize < 8):
        return arr.astype(np.int64, copy=False)
    if kind not in "uf":
        raise ValueError(f"{name} must hold integers, got dtype {arr.dtype}")
    if kind == "f" and (not np.isfinite(arr).all() or (arr != np.round(arr)).any()):
        raise ValueError(f"{name} must hold integers")
    # uint64 and floats may hold values no int64 can: refuse them before the cast.
    if arr.size and (float(arr.min()) < -(2.0**62) or float(arr.max()) > 2.0**62):
        raise ValueError(f"{name} holds a value too large for an index or a length")
    return arr.astype(np.int64)


def _blank_index(blank: Any) -> int:
    """Return the blank index as an int, refusing 4.7 or True rather than truncating."""
    value = _integers(blank, "blank")
    if value.ndim != 0:
        raise ValueError(f"blank must be one index, got shape {value.shape}")
    return int(value)


def _prepare(
    log_probs: Any,
    targets: Any,
    input_lengths: Any,
    target_lengths: Any,
    blank: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, bool]:
    """Return (lp (T,N,C), padded labels (N,Lmax), input_lengths, target_lengths, unbatched).

    `lp` keeps a float32 input's dtype (the kernels compute in float64 from what they
    read of it); any other dtype becomes float64.
    """
    lp = np.asarray(_as_numpy(log_probs))
    if lp.dtype.kind not in "fiub":
        raise ValueError(f"log_probs must hold real numbers, got dtype {lp.dtype}")
    if lp.dtype not in (np.float64, np.float32):
        lp = lp.astype(np.float64)
    if lp.ndim not in (2, 3):
        raise ValueError(
            f"log_probs must be (T, N, C) or unbatched (T, C), got shape {tuple(lp.shape)}"
        )
    unbatched = lp.ndim == 2
    tg = _integers(targets, "targets")
    il = _integers(input_lengths, "input_lengths")
    tl = _integers(target_lengths, "target_lengths")
    if not unbatched and lp.shape[1] == 1:
        # A batch of one takes 0-d lengths (a plain int, np.int64, a 0-d tensor), as
        # torch.nn.functional.ctc_loss does.
        il, tl = np.atleast_1d(il), np.atleast_1d(tl)
    if unbatched:
        lp = lp[:, None, :]
        if il.size != 1 or tl.size != 1:
            raise ValueError(
                "unbatched input: input_lengths and target_lengths must be scalars, got "
                f"shapes {tuple(il.shape)} and {tuple(tl.shape)}"
            )
        if tg.ndim == 2 and tg.shape[0] == 1:  # (1, S), which torch takes too
            tg = tg[0]
        if tg.ndim != 1:
            raise ValueError(f"unbatched input: targets must be 1-D (S,), got {tuple(tg.shape)}")
        il, tl, tg = il.reshape(1), tl.reshape(1), tg.reshape(1, -1)
    frames, batch, classes = lp.shape
    if classes < 1:
        raise ValueError("log_probs must have at least one class")
    if not 0 <= blank < classes:
        raise ValueError(f"blank must be in [0, {classes}), got {blank}")
    if il.shape != (batch,):
        raise ValueError(f"input_lengths must have shape ({batch},), got {tuple(il.shape)}")
    if tl.shape != (batch,):
        raise ValueError(f"target_lengths must have shape ({batch},), got {tuple(tl.shape)}")
    if batch and (il.min() < 0 or il.max() > frames):
        raise ValueError(f"input_lengths must lie in [0, T={frames}], got {il.tolist()}")
    lmax = int(tl.max()) if batch else 0
    if batch and tl.min() < 0:
        raise ValueError(f"target_lengths must be >= 0, got {tl.tolist()}")
    if tg.ndim == 2:
        if tg.shape[0] != batch:
            raise ValueError(f"padded targets must have {batch} rows, got shape {tuple(tg.shape)}")
        if tg.shape[1] < lmax:
            raise ValueError(
                f"padded targets have {tg.shape[1]} columns, fewer than the longest target "
                f"length {lmax}"
            )
        labels = np.ascontiguousarray(tg[:, :lmax])
    elif tg.ndim == 1:
        if tg.size != int(tl.sum()):
            raise ValueError(
                f"concatenated targets must have sum(target_lengths) = {int(tl.sum())} "
                f"entries, got {tg.size}"
            )
        labels = np.zeros((batch, lmax), dtype=np.int64)
        inside = np.arange(lmax)[None, :] < tl[:, None]
        labels[inside] = tg  # row-major order matches the concatenation order
    else:
        raise ValueError(f"targets must be (N, S) padded or 1-D concatenated, got {tg.shape}")
    inside = np.arange(lmax)[None, :] < tl[:, None]
    labels = np.where(inside, labels, 0)  # padding is never read; keep it in range
    used = labels[inside]
    if used.size:
        if used.min() < 0 or used.max() >= classes:
            bad = int(used[(used < 0) | (used >= classes)][0])
            raise ValueError(f"target {bad} is outside the {classes} classes")
        if (used == blank).any():
            raise ValueError(f"targets must not contain the blank index {blank}")
    # The values are checked where they are read (`_checked_max`).
    return lp, labels.astype(np.int64), il, tl, unbatched


def ctc_loss(
    log_probs: Any,
    targets: Any,
    input_lengths: Any,
    target_lengths: Any,
    blank: int = 0,
    reduction: str = "mean",
    zero_infinity: bool = False,
) -> float | np.ndarray:
    """Return the CTC loss with the semantics of torch.nn.functional.ctc_loss (float64).

    `log_probs` is (T, N, C) or unbatched (T, C); `targets` is padded (N, S) or the
    concatenation of all targets (sum(target_lengths),) (unbatched: (S,)). `reduction`
    "none" gives the (N,) losses (a float when unbatched), "sum" their sum, "mean" the
    batch mean of each loss divided by its target length clamped to >= 1. `zero_infinity`
    replaces infinite losses (impossible alignments) by 0.
    """
    if reduction not in REDUCTIONS:
        raise ValueError(f"reduction must be one of {', '.join(REDUCTIONS)}, got {reduction!r}")
    blank = _blank_index(blank)
    lp, labels, il, tl, unbatched = _prepare(
        log_probs, targets, input_lengths, target_lengths, blank
    )
    losses = _ctc_batch(lp, labels, il, tl, blank).losses
    if zero_infinity:
        losses = np.where(np.isinf(losses), 0.0, losses)
    if reduction == "none":
        return float(losses[0]) if unbatched else losses
    if reduction == "sum":
        return float(losses.sum())
    if losses.size == 0:
        raise ValueError("reduction 'mean' of an empty batch is undefined (use 'sum' or 'none')")
    return float(np.mean(losses / np.maximum(tl, 1)))


def ctc_loss_and_grad(
    log_probs: Any,
    targets: Any,
    input_lengths: Any,
    target_lengths: Any,
    blank: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Return (losses (N,), grad (T, N, C)): CTC losses and d(sum of losses)/d(logits).

    The gradient is what autograd gives through log_probs = log_softmax(logits):
    exp(log_probs) - posterior occupancy. It is zero beyond each input length and for
    sequences whose loss is infinite. Unbatched input gives a 0-d losses array and (T, C).
    """
    blank = _blank_index(blank)
    lp, labels, il, tl, unbatched = _prepare(
        log_probs, targets, input_lengths, target_lengths, blank
    )
    out = _ctc_batch(lp, labels, il, tl, blank, want_grad=True)
    if unbatched:
        return out.losses.reshape(()), out.grad[:, 0, :]
    return out.losses, out.grad
