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
  vector by its maximum after every frame, keeping the logarithms of the scale factors.
  The loss is then -(sum of the log scales + log of the final rescaled alpha). This needs
  only adds and multiplies per cell (no exp/log in the loop), which makes it fast. It is
  exact as long as nothing that matters leaves the normal float64 range, and it checks
  that: every *live* cell (one that some complete alignment passes through) must hold at
  least 1e-300 before rescaling. Cells that are not live may underflow: they never feed a
  live cell, so they cannot change the result.
* The log kernel does the same recursions with log-sum-exp. It is slower and is used for
  the sequences that fail that check (very peaked distributions over long inputs,
  emissions of exactly 0 or below about e^-690, a label whose alpha mass is spread over
  more than 690 nats), so every result is exact, never silently truncated.

Log-probabilities of -inf (probability exactly 0) are legal in both kernels.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Hashable, Mapping, Sequence
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

# The scaled kernel's exactness threshold: every live alpha or beta value must be at least
# this before rescaling (float64 normal numbers start at 2.2e-308).
_SMALLEST = 1e-300
# ... and every live frame's sum_s alpha·beta (rescaled) at least this, so that products
# of two live values lost to underflow (< 2.2e-308 each) are negligible next to it.
_ROW_SUM_MIN = 1e-280
# Log-probabilities above this (probabilities above e) go to the log kernel: they are not
# probabilities, and exp could overflow.
_LOG_EM_HIGH = 1.0
# Floor for a row maximum or row sum before taking its reciprocal. Only an all-zero row (a
# dead sequence, whose loss is infinite anyway) ever reaches it.
_FLOOR = 1e-300
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


def _skip_allowed(label: Sequence[Hashable]) -> np.ndarray:
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
    groups: dict[int, list[int]] = {}
    for i, length in enumerate(input_lengths.tolist()):
        if length > 0:
            groups.setdefault(length - 1, []).append(i)
    return {t: np.asarray(v, dtype=np.int64) for t, v in groups.items()}


def _final_states(target_lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (last, second, has_second): the two accepting states of each sequence.

    A path ends on the last blank (state 2L) or on the last label symbol (state 2L-1); an
    empty label has only the one state 0.
    """
    last = 2 * target_lengths
    has_second = target_lengths > 0
    second = np.where(has_second, last - 1, 0)
    return last, second, has_second


def _live_band(
    skip: np.ndarray, input_lengths: np.ndarray, target_lengths: np.ndarray, tmax: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (lo, hi, live), each (T, N): the live states of every frame of every sequence.

    A cell (t, s) is live when some complete alignment passes through it: s is reachable
    from the start by frame t and the accepting states are still reachable from
    s by the last frame. Only live cells contribute to the loss and the gradient, and they
    form one contiguous run of states lo..hi per frame (`live` is False when it is empty).
    """
    n, size = skip.shape
    # need[n, s]: frames still needed after the current one to reach an accepting state:
    # 0 for the two accepting states, else 1 + the cheaper of the next state and (when
    # allowed) the skip to s+2. It never increases with s, so the live run is contiguous.
    need = np.full((n, size), -1, dtype=np.int64)  # -1 on padding states (never live)
    last = 2 * target_lengths
    rows = np.arange(n)
    need[rows, last] = 0
    has_second = target_lengths > 0
    need[rows[has_second], last[has_second] - 1] = 0
    for s in range(size - 3, -1, -1):
        todo = s <= last - 2  # valid states before the two accepting ones
        if not todo.any():
            continue
        step = need[:, s + 1]
        step = np.where(skip[:, s + 2], np.minimum(step, need[:, s + 2]), step)
        need[todo, s] = 1 + step[todo]
    # first[n, s]: the earliest frame at which state s can be occupied (the mirror image:
    # one frame per step, skips where allowed). It never decreases with s.
    first = np.zeros((n, size), dtype=np.int64)
    for s in range(1, size):
        step = first[:, s - 1]
        if s >= 2:
            step = np.where(skip[:, s], np.minimum(step, first[:, s - 2]), step)
        first[:, s] = step + (1 if s >= 2 else 0)
    t = np.arange(tmax)
    remaining = input_lengths[None, :] - 1 - t[:, None]  # frames left after frame t
    lo = np.empty((tmax, n), dtype=np.int64)
    hi = np.empty((tmax, n), dtype=np.int64)
    for i in range(n):
        # First state whose need fits in the remaining frames (-need is non-decreasing),
        # last state reachable by frame t (capped at the last real state).
        lo[:, i] = np.searchsorted(-need[i], -remaining[:, i], side="left")
        hi[:, i] = np.searchsorted(first[i], t, side="right") - 1
    hi = np.minimum(hi, last[None, :])
    live = (lo <= hi) & (remaining >= 0)
    return lo, hi, live


def _band_index(lo: np.ndarray, hi: np.ndarray, live: np.ndarray, width: int, offset: int):
    """Return (T, 2N) start/stop indices of the live runs in a flattened (N+1, width) buffer.

    For `np.minimum.reduceat`: entry 2n starts sequence n's run, entry 2n+1 ends it, so the
    even-numbered results are the minima over the live cells. Empty runs point anywhere
    valid (their results are ignored through `live`).
    """
    tmax, n = lo.shape
    base = np.arange(n)[None, :] * width + offset
    start = np.where(live, base + lo, base)
    stop = np.where(live, base + hi + 1, base + 1)
    index = np.empty((tmax, 2 * n), dtype=np.intp)
    index[:, 0::2] = start
    index[:, 1::2] = stop
    return index


def _scaled_kernel(
    lp: np.ndarray,
    ext: np.ndarray,
    skip: np.ndarray,
    input_lengths: np.ndarray,
    target_lengths: np.ndarray,
    want_grad: bool,
    want_alpha: bool,
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None, np.ndarray]:
    """Return (losses, grad, log_alpha, suspect) from the rescaled probability-space kernel.

    Exactness check: every live cell must hold a positive normal number. Products and sums
    of positive normal numbers are correctly rounded, so if every live alpha (and beta)
    value is at least `_SMALLEST` before rescaling, nothing that matters was flushed to zero
    or lost to subnormal rounding. Cells that are not live may underflow freely: they never
    feed a live cell. `suspect` marks the sequences that failed the check (an emission of
    exactly 0 also fails it); the caller recomputes them in log space. Other outputs for
    suspect sequences are meaningless.

    Layout: a frame of the batch is one flat vector of (N+1)·W cells, W = S+2: each
    sequence's row starts with two padding cells (standing for the states s-1 and s-2
    before state 0), and a spare row at the end keeps every shifted or reduceat index in
    range. Padding cells emit probability 0, so they stay 0 through the recursion without
    any masking, and every operation in the loop runs on contiguous 1-D memory.
    """
    tmax, n, c = lp.shape
    size = ext.shape[1]
    width = size + 2
    cells = (n + 1) * width
    nc = n * c
    suspect = np.zeros(n, dtype=bool)
    # Probabilities of every frame, flattened per frame, with one extra 0 at the end that
    # padding cells read. Computed once: the loop never calls exp.
    probs = np.empty((tmax, nc + 1))
    np.exp(lp.reshape(tmax, nc), out=probs[:, :nc])
    probs[:, nc] = 0.0
    # gather[k]: where in a frame's flattened probabilities cell k reads its emission.
    gather = np.full((n + 1, width), nc, dtype=np.intp)
    gather[:n, 2:] = np.where(ext < c, np.arange(n)[:, None] * c + ext, nc)
    gather = gather.reshape(-1)
    skip_cells = np.zeros((n + 1, width))
    skip_cells[:n, 2:] = skip
    skip_cells = skip_cells.reshape(-1)[2:]
    last, second, has_second = _final_states(target_lengths)
    last_cell = np.arange(n) * width + 2 + last
    second_cell = np.arange(n) * width + 2 + second
    groups = _end_groups(input_lengths)
    lo, hi, live = _live_band(skip, input_lengths, target_lengths, tmax)
    check_rows = live.any(axis=1)
    band = _band_index(lo, hi, live, width, 2)

    # Without a gradient or trellis two frames, swapped every frame, are enough; otherwise
    # every frame is kept for the backward pass.
    keep = want_grad or want_alpha
    frames_buf = np.empty((tmax if keep else 2, cells))
    frames_buf[:, :2] = 0.0  # the first row's padding is never written
    em = np.empty(cells)
    tmp = np.empty(cells - 2)
    row_max = np.empty(n + 1)
    inv_scale = np.empty((tmax, n + 1))  # reciprocal of the factor each frame was divided by
    final = np.zeros(n)  # rescaled alpha summed over the accepting states at t = len - 1

    for t in range(tmax):
        new = frames_buf[t] if keep else frames_buf[t & 1]
        probs[t].take(gather, out=em, mode="clip")
        if t == 0:
            # A path starts in the first blank or the first label symbol (states 0 and 1,
            # cells 2 and 3 of each row; for an empty label cell 3 is padding, emitting 0).
            start = np.zeros(cells)
            start[(np.arange(n + 1)[:, None] * width + np.array([2, 3])).ravel() % cells] = 1.0
            np.multiply(em, start, out=new)
        else:
            prev = frames_buf[t - 1] if keep else frames_buf[(t & 1) ^ 1]
            body = new[2:]
            # alpha_t(s) = (alpha(s) + alpha(s-1) + [skip] alpha(s-2)) · y_t(ext[s]); the
            # product with y = 0 re-zeroes the padding cells, which read the previous row.
            np.add(prev[2:], prev[1:-1], out=body)
            np.multiply(prev[:-2], skip_cells, out=tmp)
            np.add(body, tmp, out=body)
            np.multiply(body, em[2:], out=body)
        # Exactness check on the live cells, before rescaling (see the docstring).
        if check_rows[t]:
            smallest = np.minimum.reduceat(new, band[t])[0::2]
            suspect |= (smallest < _SMALLEST) & live[t]
        # Rescale each row to maximum 1. Multiplying by the rounded reciprocal is exact
        # bookkeeping because that same reciprocal goes into the log of the scales.
        rows2d = new.reshape(n + 1, width)
        np.maximum.reduce(rows2d, axis=1, out=row_max)
        np.maximum(row_max, _FLOOR, out=row_max)
        np.divide(1.0, row_max, out=inv_scale[t])
        np.multiply(rows2d, inv_scale[t][:, None], out=rows2d)
        group = groups.get(t)
        if group is not None:
            final[group] = new[last_cell[group]] + np.where(
                has_second[group], new[second_cell[group]], 0.0
            )

    # log alpha_t = log(rescaled alpha_t) + sum_{tau <= t} log(scale_tau).
    with np.errstate(divide="ignore"):
        log_scale = -np.cumsum(np.log(inv_scale[:, :n]), axis=0)
        read = np.maximum(input_lengths - 1, 0)
        log_like = log_scale[read, np.arange(n)] + np.log(final)
    losses = -log_like

    log_alpha = None
    if want_alpha:
        with np.errstate(divide="ignore"):
            kept = frames_buf.reshape(tmax, n + 1, width)[:, :n, 2:]
            log_alpha = np.log(kept) + log_scale[:, :, None]

    grad = None
    if want_grad:
        beta_live = live & (np.arange(tmax)[:, None] < input_lengths[None, :] - 1)
        skip2 = np.zeros((n + 1, width))
        skip2[:n, 2:-2] = skip[:, 2:]
        grad = _scaled_backward(
            probs,
            gather,
            frames_buf,
            skip2.reshape(-1)[:-2],
            (n, width),
            last_cell,
            second_cell,
            has_second,
            groups,
            band,
            beta_live,
            suspect,
        )
        grad = grad.reshape(tmax, n, c)
    return losses, grad, log_alpha, suspect


def _scaled_backward(
    probs: np.ndarray,
    gather: np.ndarray,
    alphas: np.ndarray,
    skip2: np.ndarray,
    shape: tuple[int, int],
    last_cell: np.ndarray,
    second_cell: np.ndarray,
    has_second: np.ndarray,
    groups: dict[int, np.ndarray],
    band: np.ndarray,
    live: np.ndarray,
    suspect: np.ndarray,
) -> np.ndarray:
    """Return softmax - occupancy, (T, N·C), from the beta recursion in rescaled space.

    `alphas` holds the rescaled alpha frames in the flat layout of `_scaled_kernel`
    (`shape` = (N, W)); beta uses the same layout. `band` and `live` locate the live cells
    whose beta is computed (not set) at each frame; `suspect` is updated in place by the
    same exactness check as the forward pass, and by a check that sum_s alpha·beta of every
    live frame is far above the underflow threshold.
    """
    tmax, cells = alphas.shape
    n, width = shape
    nc = probs.shape[1] - 1
    c = nc // n
    check_rows = live.any(axis=1)
    buffers = (np.zeros(cells), np.zeros(cells))
    carried = np.zeros(cells)  # y_{t+1}(ext[s]) · beta_{t+1}(s)
    em = np.empty(cells)
    tmp = np.empty(cells - 2)
    gamma = np.empty(cells)
    row = np.empty(n + 1)
    grad = np.empty((tmax, nc))
    for t in range(tmax - 1, -1, -1):
        beta = buffers[t & 1]
        if t < tmax - 1:
            following = buffers[(t & 1) ^ 1]
            probs[t + 1].take(gather, out=em, mode="clip")
            np.multiply(em, following, out=carried)
            # beta_t(s) = c(s) + c(s+1) + [skip into s+2] c(s+2), c = y_{t+1} · beta_{t+1}.
            # Padding cells of beta pick up a copy of part of the next state's value: it is
            # never read (their emission is 0) and never larger than a real beta.
            body = beta[:-2]
            np.add(carried[:-2], carried[1:-1], out=body)
            np.multiply(carried[2:], skip2, out=tmp)
            np.add(body, tmp, out=body)
            if check_rows[t]:
                smallest = np.minimum.reduceat(beta, band[t])[0::2]
                suspect |= (smallest < _SMALLEST) & live[t]
            rows2d = beta.reshape(n + 1, width)
            np.maximum.reduce(rows2d, axis=1, out=row)
            np.maximum(row, _FLOOR, out=row)
            np.divide(1.0, row, out=row)
            np.multiply(rows2d, row[:, None], out=rows2d)
        else:
            beta.fill(0.0)
        group = groups.get(t)
        if group is not None:
            # The last frame of these sequences: beta is 1 on the accepting states.
            beta.reshape(n + 1, width)[group] = 0.0
            beta[last_cell[group]] = 1.0
            with_second = has_second[group]
            beta[second_cell[group[with_second]]] = 1.0
        # Occupancy gamma_t(s) = alpha_t(s) beta_t(s) / P. As sum_s alpha_t beta_t = P at
        # every t, dividing by each row's sum removes both sets of scale factors. A product
        # of two live values may still underflow; it is negligible as long as the row sum
        # is far above the underflow threshold, which is checked.
        np.multiply(alphas[t], beta, out=gamma)
        np.add.reduce(gamma.reshape(n + 1, width), axis=1, out=row)
        if check_rows[t]:
            suspect |= (row[:n] < _ROW_SUM_MIN) & live[t]
        np.maximum(row, _FLOOR, out=row)
        np.divide(1.0, row, out=row)
        # Sum the occupancy of the cells that emit each class (a label may repeat), then
        # normalise the (N, C) sums rather than the (N, W) occupancies.
        occupancy = np.bincount(gather, weights=gamma, minlength=nc + 1)[:nc].reshape(n, c)
        occupancy *= row[:n, None]
        # d loss / d logits = softmax - occupancy (the log-softmax Jacobian folded in).
        np.subtract(probs[t, :nc], occupancy.reshape(-1), out=grad[t])
    return grad


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

    log_alpha = np.full((tmax, n, size), -np.inf)
    log_like = np.full(n, -np.inf)
    prev = np.full((n, size + 2), -np.inf)
    for t in range(tmax):
        em = logp[t].take(flat).reshape(n, size)
        if t == 0:
            new = np.full((n, size), -np.inf)
            new[:, :2] = em[:, :2] if size > 1 else em[:, :1]
        else:
            new = _lse3(prev[:, 2:], prev[:, 1:-1], prev[:, :-2] + skip_log) + em
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
    # Beyond each sequence's last frame alpha is not defined.
    beyond = np.arange(tmax)[:, None] >= input_lengths[None, :]
    log_alpha[beyond] = -np.inf
    return losses, grad, (log_alpha if want_alpha else None)


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
    lengths (N,) int64 with 0 <= input_lengths <= T. `method` is "auto" (scaled kernel, log
    kernel for the sequences it cannot do exactly) or "log" (log kernel for everything).
    The gradient is d(sum of losses)/d(logits) for log_probs = log_softmax(logits): zero
    beyond each input length and for sequences whose loss is infinite.
    """
    total_frames, n, c = lp.shape
    tmax = int(input_lengths.max()) if n else 0
    ext, _, skip = _extend_batch(labels, target_lengths, blank, c)
    size = ext.shape[1]
    lp_used = lp[:tmax] if lp.flags.c_contiguous else np.ascontiguousarray(lp[:tmax])
    losses = np.zeros(n)
    grad = np.zeros((total_frames, n, c)) if want_grad else None
    log_alpha = np.full((total_frames, n, size), -np.inf) if want_alpha else None
    use_log = np.zeros(n, dtype=bool)
    if tmax > 0:
        with np.errstate(all="ignore"):
            if method == "log":
                use_log[:] = True
            else:
                # Values the scaled kernel is not built for (probabilities above e).
                if lp_used.max() > _LOG_EM_HIGH:
                    per_frame = (lp_used > _LOG_EM_HIGH).any(axis=2)
                    inside = np.arange(tmax)[:, None] < input_lengths[None, :]
                    use_log = (per_frame & inside).any(axis=0)
                s_loss, s_grad, s_alpha, suspect = _scaled_kernel(
                    lp_used, ext, skip, input_lengths, target_lengths, want_grad, want_alpha
                )
                use_log |= suspect
                losses[:] = s_loss
                if want_grad:
                    grad[:tmax] = s_grad
                if want_alpha:
                    log_alpha[:tmax] = s_alpha
            if use_log.any():
                idx = np.nonzero(use_log)[0]
                l_loss, l_grad, l_alpha = _log_kernel(
                    np.ascontiguousarray(lp_used[:, idx]),
                    ext[idx],
                    skip[idx],
                    input_lengths[idx],
                    target_lengths[idx],
                    want_grad,
                    want_alpha,
                )
                losses[idx] = l_loss
                if want_grad:
                    grad[:tmax, idx] = l_grad
                if want_alpha:
                    log_alpha[:tmax, idx] = l_alpha
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
    return out, states, _skip_allowed(label.tolist())


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
    if arr.dtype == bool or not (
        np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)
    ):
        raise ValueError(f"{name} must hold integers, got dtype {arr.dtype}")
    if np.issubdtype(arr.dtype, np.floating) and (
        not np.isfinite(arr).all() or (arr != np.round(arr)).any()
    ):
        raise ValueError(f"{name} must hold integers")
    return arr.astype(np.int64)


def _prepare(
    log_probs: Any,
    targets: Any,
    input_lengths: Any,
    target_lengths: Any,
    blank: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, bool]:
    """Return (lp (T,N,C), padded labels (N,Lmax), input_lengths, target_lengths, unbatched)."""
    lp = np.asarray(_as_numpy(log_probs), dtype=np.float64)
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
    if (il < 0).any() or (il > frames).any():
        raise ValueError(f"input_lengths must lie in [0, T={frames}], got {il.tolist()}")
    if (tl < 0).any():
        raise ValueError(f"target_lengths must be >= 0, got {tl.tolist()}")
    lmax = int(tl.max()) if batch else 0
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
        if (used < 0).any() or (used >= classes).any():
            bad = int(used[(used < 0) | (used >= classes)][0])
            raise ValueError(f"target {bad} is outside the {classes} classes")
        if (used == blank).any():
            raise ValueError(f"targets must not contain the blank index {blank}")
    if np.isnan(lp).any():
        raise ValueError("log_probs contains NaN")
    if np.isposinf(lp).any():
        raise ValueError("log_probs contains +inf")
    return np.ascontiguousarray(lp), labels.astype(np.int64), il, tl, unbatched


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
    lp, labels, il, tl, unbatched = _prepare(
        log_probs, targets, input_lengths, target_lengths, int(blank)
    )
    losses = _ctc_batch(lp, labels, il, tl, int(blank)).losses
    if zero_infinity:
        losses = np.where(np.isinf(losses), 0.0, losses)
    if reduction == "none":
        return float(losses[0]) if unbatched else losses
    if reduction == "sum":
        return float(losses.sum())
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
    lp, labels, il, tl, unbatched = _prepare(
        log_probs, targets, input_lengths, target_lengths, int(blank)
    )
    out = _ctc_batch(lp, labels, il, tl, int(blank), want_grad=True)
    if unbatched:
        return out.losses.reshape(()), out.grad[:, 0, :]
    return out.losses, out.grad
