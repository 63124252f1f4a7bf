"""The scaled CTC kernel is certified, never assumed exact (issue 11).

The scaled kernel runs on rescaled probabilities and accepts a sequence only when a bound
on what underflow can have changed is below 1e-15 of p(label); every other sequence is
computed in log space. These tests check both halves: inputs where flushing a small cell
really changes the scaled answer are caught (and end up exact), and on the inputs users
have (a trained model's peaked output, an untrained model's uniform one, long inputs,
masked classes) the scaled kernel is used and agrees with log space.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rnnloss_cli.core import ctc


def log_softmax(x: np.ndarray) -> np.ndarray:
    shifted = x - x.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def peaked(rng, frames, batch, classes, length, scale, errors=0.0):
    """Return (log_probs, labels): a trained model's output (see benchmarks/ctc_vs_torch.py)."""
    labels = rng.integers(1, classes, size=(batch, length))
    logits = rng.normal(size=(frames, batch, classes))
    for i in range(batch):
        slots = np.sort(rng.choice(frames - 2 * length + 2, size=length, replace=True))
        logits[slots + 2 * np.arange(length), i, labels[i]] += scale
        logits[:, i, 0] += scale * 0.5  # blank dominant between the symbols
    targets = labels.copy()
    wrong = rng.random(size=labels.shape) < errors
    targets[wrong] = (labels[wrong] % (classes - 1)) + 1
    return log_softmax(logits), targets


def both(lp, labels, il, tl, grad):
    auto = ctc._ctc_batch(lp, labels, il, tl, 0, want_grad=grad)
    ref = ctc._ctc_batch(lp, labels, il, tl, 0, want_grad=grad, method="log")
    return auto, ref


def assert_agree(auto, ref):
    finite = np.isfinite(ref.losses)
    assert (finite == np.isfinite(auto.losses)).all()
    np.testing.assert_allclose(auto.losses[finite], ref.losses[finite], rtol=1e-9, atol=1e-12)
    if ref.grad is not None:
        np.testing.assert_allclose(auto.grad, ref.grad, rtol=0, atol=1e-9)


def raw_scaled(lp, labels, il, tl, grad):
    """The scaled kernel's own answer and verdict, before any sequence is redone."""
    ext, _, skip = ctc._extend_batch(labels, tl, 0, lp.shape[2])
    with np.errstate(all="ignore"):  # as `_ctc_batch` runs it
        losses, _, exact = ctc._scaled_kernel(lp, ext, skip, il, tl, grad)
    return losses, exact


# ------------------------------------------------------------------------------------------
# Flushing that changes the answer is caught
# ------------------------------------------------------------------------------------------


def subnormal_route(frames=20):
    """Return (lp, labels, il, tl): every alignment runs through cells near 5e-324.

    The label is "a". For ten frames blank is certain and "a" has probability e^-744 (two
    units of the smallest subnormal); after that "a" is impossible. Every alignment emits
    its "a" in the first ten frames, so all of p(label) flows through cells about 1e-323
    while their row's maximum (the all-blank prefix) is 1: rescaling cannot save them, and
    the scaled kernel rounds them to a whole number of subnormal units.
    """
    lp = np.zeros((frames, 1, 2))
    lp[:10, 0, 1] = -744.0
    lp[10:, 0, 1] = -np.inf
    return lp, np.array([[1]]), np.array([frames]), np.array([1])


@pytest.mark.parametrize("grad", [False, True])
def test_subnormal_cells_change_the_scaled_answer_and_are_redone(grad):
    lp, labels, il, tl = subnormal_route()
    raw, exact = raw_scaled(lp, labels, il, tl, grad)
    auto, ref = both(lp, labels, il, tl, grad)
    # The exact loss: 10 ways to place "a" among the first ten frames, each e^-744.
    assert ref.losses[0] == pytest.approx(744.0 - math.log(10.0), rel=1e-12)
    # Rounding to subnormal units changed the scaled answer far beyond 1e-9 ...
    assert abs(raw[0] - ref.losses[0]) > 1e-6
    # ... the bound saw it, and the sequence was computed in log space.
    assert not exact[0]
    assert auto.log_kernel[0]
    assert_agree(auto, ref)


@pytest.mark.parametrize("grad", [False, True])
def test_a_label_reachable_only_far_below_the_frame_maximum(grad):
    """A model sure of blank everywhere, asked for a label it never emits."""
    rng = np.random.default_rng(1)
    frames, label = 1500, [1, 2, 3] * 8
    logits = np.full((frames, 1, 4), -60.0)
    logits[:, :, 0] = 0.0
    lp = log_softmax(logits + rng.normal(size=logits.shape))
    labels, il, tl = np.array([label]), np.array([frames]), np.array([len(label)])
    raw, exact = raw_scaled(lp, labels, il, tl, grad)
    auto, ref = both(lp, labels, il, tl, grad)
    assert not np.isclose(raw[0], ref.losses[0], rtol=1e-9)  # flushed to a wrong value
    assert not exact[0] and auto.log_kernel[0]
    assert_agree(auto, ref)


def test_the_bound_without_beta_defers_to_beta_and_beta_certifies():
    """An untrained model over 2,000 frames: alpha's row spans more than 1e308 (cells at
    its edges underflow), the bound without beta cannot certify it, the one with beta can:
    the scaled result stands and equals log space."""
    rng = np.random.default_rng(3)
    lp = log_softmax(rng.normal(size=(2000, 2, 5)))
    labels = rng.integers(1, 5, size=(2, 150))
    il, tl = np.array([2000, 1700]), np.array([150, 120])
    ext, _, skip = ctc._extend_batch(labels, tl, 0, 5)
    emissions = ctc._emissions(lp, ext, il)
    layout = ctc._layout(emissions.state_column, skip, il, tl, emissions.probs.shape[1] - 1)
    with np.errstate(all="ignore"):
        log_like, units, _ = ctc._alpha_pass(emissions.probs, layout, 2000, "none")
        first = ctc._bound_without_beta(log_like, units, emissions, layout, il, emissions.top)
    assert (first > ctc._LOG_TOLERANCE).all()
    for grad in (False, True):
        auto, ref = both(lp, labels, il, tl, grad)
        assert not auto.log_kernel.any()
        assert_agree(auto, ref)


# ------------------------------------------------------------------------------------------
# On the inputs users have, the scaled kernel is used, and it is exact
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("scale", [7.0, 10.0, 20.0, 30.0])
@pytest.mark.parametrize("errors", [0.0, 0.05])
def test_peaked_outputs_stay_in_the_scaled_kernel(scale, errors):
    rng = np.random.default_rng(int(scale * 10 + errors * 100))
    lp, labels = peaked(rng, 400, 4, 12, 60, scale, errors)
    il = np.array([400, 400, 350, 300])
    tl = np.array([60, 55, 60, 40])
    for grad in (False, True):
        auto, ref = both(lp, labels, il, tl, grad)
        assert not auto.log_kernel.any(), "a trained model's output fell back to log space"
        assert_agree(auto, ref)


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    kind=st.sampled_from(["uniform", "peaked", "masked", "sharp", "tiny"]),
    frames=st.integers(1, 300),
    batch=st.integers(1, 5),
    classes=st.integers(2, 9),
    grad=st.booleans(),
)
def test_every_result_equals_log_space(seed, kind, frames, batch, classes, grad):
    """Whatever the kernel decides, its result is the log-space one (1e-9)."""
    rng = np.random.default_rng(seed)
    longest = int(rng.integers(0, max(frames // 2, 1) + 1))
    labels = rng.integers(1, classes, size=(batch, longest))
    il = rng.integers(0, frames + 1, size=batch)
    tl = rng.integers(0, longest + 1, size=batch)
    logits = rng.normal(size=(frames, batch, classes))
    if kind == "peaked":
        logits *= 1.0
        logits[..., 0] += 15.0
    elif kind == "masked":
        logits[rng.random(size=logits.shape) < 0.2] = -np.inf
        logits[..., 0] = np.maximum(logits[..., 0], 0.0)  # a row is never all -inf
    elif kind == "sharp":
        logits *= 40.0
    elif kind == "tiny":
        logits[..., 1:] -= 700.0  # label symbols near e^-700: alpha rows span 1e300+
    with np.errstate(invalid="ignore"):
        lp = log_softmax(logits)
    auto, ref = both(lp, labels, il, tl, grad)
    assert_agree(auto, ref)


def test_minus_infinity_log_probabilities():
    """-inf (probability exactly 0) blocks paths; both kernels agree, none is NaN."""
    rng = np.random.default_rng(5)
    lp = log_softmax(rng.normal(size=(40, 3, 4)))
    lp[::3, :, 2] = -np.inf
    lp[:, 2, 3] = -np.inf  # sequence 2's label needs class 3: impossible
    labels = np.array([[1, 2, 1], [2, 2, 1], [3, 1, 2]])
    il, tl = np.array([40, 35, 40]), np.array([3, 3, 3])
    for grad in (False, True):
        auto, ref = both(lp, labels, il, tl, grad)
        assert_agree(auto, ref)
        assert np.isinf(auto.losses[2]) and np.isfinite(auto.losses[:2]).all()
        if grad:
            assert not np.isnan(auto.grad).any()
            assert (auto.grad[:, 2] == 0).all()


def test_huge_values_in_one_sequence_leave_its_neighbours_alone():
    """Logits passed by mistake for log-probabilities (values in the hundreds) would
    overflow the scaled kernel; that sequence goes to log space and, in the flat layout
    the batch shares, the sequences beside it are untouched."""
    rng = np.random.default_rng(11)
    lp = log_softmax(rng.normal(size=(40, 3, 5)))
    lp[:, 1] = rng.normal(size=(40, 5)) * 50 + 300
    labels, il, tl = np.array([[1, 2], [2, 3], [4, 4]]), np.array([40, 40, 40]), np.array([2, 2, 2])
    alone = ctc._ctc_batch(lp[:, [0, 2]], labels[[0, 2]], il[:2], tl[:2], 0, want_grad=True)
    for grad in (False, True):
        auto, ref = both(lp, labels, il, tl, grad)
        assert auto.log_kernel.tolist() == [False, True, False]
        assert_agree(auto, ref)
        np.testing.assert_array_equal(auto.losses[[0, 2]], alone.losses)


def test_values_above_e_go_to_log_space():
    """Log-probabilities above 1 are not probabilities: those sequences go to log space."""
    rng = np.random.default_rng(6)
    lp = log_softmax(rng.normal(size=(30, 2, 4)))
    lp[:, 1] += 3.0
    labels, il, tl = np.array([[1, 2], [2, 3]]), np.array([30, 30]), np.array([2, 2])
    for grad in (False, True):
        auto, ref = both(lp, labels, il, tl, grad)
        assert auto.log_kernel.tolist() == [False, True]
        assert_agree(auto, ref)


# ------------------------------------------------------------------------------------------
# What the torch-compatible API reads, and float32
# ------------------------------------------------------------------------------------------


def test_float32_is_computed_in_float64_and_returned_as_float64():
    rng = np.random.default_rng(7)
    lp32 = log_softmax(rng.normal(size=(60, 3, 6)) * 5).astype(np.float32)
    labels, il, tl = rng.integers(1, 6, size=(3, 10)), np.array([60, 50, 60]), np.array([10, 8, 9])
    as64 = lp32.astype(np.float64)
    losses = ctc.ctc_loss(lp32, labels, il, tl, reduction="none")
    assert losses.dtype == np.float64
    np.testing.assert_allclose(
        losses, ctc.ctc_loss(as64, labels, il, tl, reduction="none"), rtol=1e-15
    )
    assert isinstance(ctc.ctc_loss(lp32, labels, il, tl), float)
    grad_losses, grad = ctc.ctc_loss_and_grad(lp32, labels, il, tl)
    ref_losses, ref_grad = ctc.ctc_loss_and_grad(as64, labels, il, tl)
    assert grad.dtype == np.float64 and grad_losses.dtype == np.float64
    np.testing.assert_allclose(grad, ref_grad, rtol=0, atol=1e-15)
    np.testing.assert_allclose(grad_losses, ref_losses, rtol=1e-15)


def test_columns_no_label_uses_are_not_read_by_the_loss_but_are_by_the_gradient():
    """Like torch, the loss reads only the blank's and the labels' columns (so a large
    vocabulary costs one gather, not a read of every class); the gradient covers every
    class, so there NaN anywhere is an error."""
    rng = np.random.default_rng(8)
    lp = log_softmax(rng.normal(size=(20, 2, 300)))
    labels, il, tl = np.array([[1, 2], [3, 3]]), np.array([20, 20]), np.array([2, 2])
    clean = ctc.ctc_loss(lp, labels, il, tl, reduction="none")
    dirty = lp.copy()
    dirty[:, :, 200] = np.nan
    np.testing.assert_array_equal(ctc.ctc_loss(dirty, labels, il, tl, reduction="none"), clean)
    with pytest.raises(ValueError, match="NaN"):
        ctc.ctc_loss_and_grad(dirty, labels, il, tl)
    dirty[3, 1, 3] = np.inf
    with pytest.raises(ValueError, match=r"\+inf"):
        ctc.ctc_loss(dirty, labels, il, tl)
    dirty[3, 1, 3] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        ctc.ctc_loss(dirty, labels, il, tl)


def test_large_vocabulary_gathers_only_the_label_columns():
    rng = np.random.default_rng(9)
    lp = log_softmax(rng.normal(size=(50, 3, 2000)) * 3)
    labels = rng.integers(1, 2000, size=(3, 12))
    il, tl = np.array([50, 44, 50]), np.array([12, 12, 7])
    ext, _, _ = ctc._extend_batch(labels, tl, 0, 2000)
    assert ctc._emissions(lp, ext, il).gathered
    for grad in (False, True):
        auto, ref = both(lp, labels, il, tl, grad)
        assert_agree(auto, ref)


# ------------------------------------------------------------------------------------------
# Frames past a sequence's end, and a bound that covers emissions up to e (review findings)
# ------------------------------------------------------------------------------------------


def test_values_past_a_sequence_end_are_not_read():
    """Frames at or past a sequence's length are not part of its input: huge values or NaN
    there change nothing, raise nothing, and never reach another sequence."""
    lp = np.log(np.full((3, 2, 3), 1 / 3))
    lp[1:, 0, :] = 800.0  # past sequence 0's single frame
    targets, il, tl = np.array([[1, 0, 0], [1, 1, 1]]), np.array([1, 3]), np.array([1, 3])
    losses = ctc.ctc_loss(lp, targets, il, tl, reduction="none")
    assert losses[0] == pytest.approx(math.log(3.0), rel=1e-12)
    assert losses[1] == math.inf  # "111" needs 5 frames
    assert ctc.ctc_loss(lp, targets, il, tl, reduction="mean", zero_infinity=True) == pytest.approx(
        math.log(3.0) / 2, rel=1e-12
    )
    grad_losses, grad = ctc.ctc_loss_and_grad(lp, targets, il, tl)
    assert not np.isnan(grad).any() and not np.isnan(grad_losses).any()
    lp[1:, 0, :] = np.nan
    again = ctc.ctc_loss(lp, targets[:, :1], il, np.array([1, 1]), reduction="none")
    alone = ctc.ctc_loss(lp[:1, :1], targets[:1, :1], il[:1], tl[:1], reduction="none")
    assert again[0] == alone[0]


@pytest.mark.parametrize("grad", [False, True])
def test_a_batch_with_garbage_past_the_ends_equals_each_sequence_alone(grad):
    rng = np.random.default_rng(12)
    lp = log_softmax(rng.normal(size=(16, 8, 5)))
    il = np.array([16, 3, 9, 16, 1, 12, 5, 16])
    for i, length in enumerate(il):
        lp[length:, i] = rng.choice([800.0, np.nan, -np.inf, 1e300])
    labels = np.ones((8, 9), dtype=np.int64)  # "111111111": mostly impossible in time
    labels[::2, 1::2] = 2
    tl = np.array([9, 2, 4, 9, 1, 5, 2, 3])
    together = ctc._ctc_batch(lp, labels, il, tl, 0, want_grad=grad)
    assert not np.isnan(together.losses).any()
    for i in range(8):
        alone = ctc._ctc_batch(
            np.ascontiguousarray(lp[: il[i], i : i + 1]),
            labels[i : i + 1],
            il[i : i + 1],
            tl[i : i + 1],
            0,
            want_grad=grad,
        )
        if np.isinf(alone.losses[0]):
            assert np.isinf(together.losses[i])
        else:
            assert together.losses[i] == pytest.approx(alone.losses[0], rel=1e-12)
        if grad:
            np.testing.assert_allclose(together.grad[: il[i], i], alone.grad[:, 0], atol=1e-12)
            assert (together.grad[il[i] :, i] == 0).all()


def test_the_bound_covers_emissions_up_to_e_and_a_subnormal_frame():
    """Values of e (not a distribution) let a row grow 3e a frame between rescalings, so an
    emission's subnormal rounding weighs that much: the bound must count it."""
    frames, classes = 713, 7
    lp = np.full((frames, 1, classes), 1.0)
    lp[14] = -724.9812030075188
    lp[15:] = -np.inf
    lp[15:, :, 0] = 1.0
    labels, il, tl = np.array([[1, 2, 3, 4, 5, 6]]), np.array([frames]), np.array([6])
    for grad in (False, True):
        auto, ref = both(lp, labels, il, tl, grad)
        assert_agree(auto, ref)
    short = lp[:15].copy()
    short[14] = -728.93
    auto, ref = both(short, labels, np.array([15]), tl, False)
    assert_agree(auto, ref)


def test_inputs_refused_rather_than_truncated():
    lp = log_softmax(np.zeros((5, 2, 4)))
    good = (lp, np.array([[1, 2], [3, 3]]), [5, 5], [2, 2])
    with pytest.raises(ValueError, match="blank"):
        ctc.ctc_loss(*good, blank=0.7)
    with pytest.raises(ValueError, match="real numbers"):
        ctc.ctc_loss(lp.astype(complex), *good[1:])
    with pytest.raises(ValueError, match="too large"):
        ctc.ctc_loss(lp, good[1], [5, 1e30], [2, 2])
    with pytest.raises(ValueError, match="too large"):
        ctc.ctc_loss(lp, good[1], np.array([5, 2**63 + 1], dtype=np.uint64), [2, 2])
    empty = (np.zeros((5, 0, 4)), np.zeros((0, 2), dtype=int), np.zeros(0, int), np.zeros(0, int))
    assert ctc.ctc_loss(*empty, reduction="sum") == 0.0
    assert ctc.ctc_loss(*empty, reduction="none").shape == (0,)
    with pytest.raises(ValueError, match="empty batch"):
        ctc.ctc_loss(*empty, reduction="mean")
