"""Tests of the numeric CTC core: brute force, the lecture's numbers, torch, invariants."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rnnloss_cli.core import ctc

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
HELLO = {"H": 0.6, "E": 0.5, "L": 0.7, "O": 0.8, "-": 0.2}


def log_softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def _log(x: float) -> float:
    return math.log(x) if x > 0 else -math.inf


def brute_force(label: list, frame_values, symbols: list, blank) -> dict:
    """Enumerate every path: frame_values[t][symbol] is the value of symbol at frame t.

    Sums in linear space (for `probability`, `best`) and in log space (for `log`,
    `best_log`), so that products below the float64 range are still checked.
    """
    frames = len(frame_values)
    total, count, best, best_path = 0.0, 0, -1.0, None
    logs = []
    for path in itertools.product(symbols, repeat=frames):
        if ctc.collapse(path, blank) != list(label):
            continue
        value = math.prod(frame_values[t][s] for t, s in enumerate(path))
        logs.append(math.fsum(_log(frame_values[t][s]) for t, s in enumerate(path)))
        total += value
        count += 1
        if value > best:
            best, best_path = value, list(path)
    top = max(logs, default=-math.inf)
    log_total = (
        top + math.log(math.fsum(math.exp(v - top) for v in logs)) if top > -math.inf else top
    )
    return {
        "probability": total,
        "paths": count,
        "best": best,
        "best_path": best_path,
        "log": log_total,
        "best_log": top,
    }


def reference_log_alpha(label: list[int], lp: np.ndarray, blank: int) -> float:
    """Return log p(label) by the textbook log-space alpha recursion, in plain Python."""
    ext = [blank]
    for k in label:
        ext += [k, blank]
    size = len(ext)

    def lse(values):
        top = max(values)
        if top == -math.inf:
            return -math.inf
        return top + math.log(sum(math.exp(v - top) for v in values))

    alpha = [-math.inf] * size
    alpha[0] = lp[0, ext[0]]
    if size > 1:
        alpha[1] = lp[0, ext[1]]
    for t in range(1, lp.shape[0]):
        new = []
        for s in range(size):
            terms = [alpha[s]]
            if s >= 1:
                terms.append(alpha[s - 1])
            if s >= 2 and ext[s] != blank and ext[s] != ext[s - 2]:
                terms.append(alpha[s - 2])
            new.append(lse(terms) + lp[t, ext[s]])
        alpha = new
    return lse(alpha[-2:] if size > 1 else alpha)


# ------------------------------------------------------------------------------------------
# Collapse, counting, the lecture's numbers
# ------------------------------------------------------------------------------------------


def test_collapse_rule():
    assert ctc.collapse("H-E-LL-O", "-") == list("HELO")
    assert ctc.collapse("H-E-L-L-O", "-") == list("HELLO")
    assert ctc.collapse("HHEE--LL-LLOO", "-") == list("HELLO")
    assert ctc.collapse("----", "-") == []
    assert ctc.collapse([], "-") == []
    assert ctc.collapse([1, 1, 0, 1, 2, 2], 0) == [1, 1, 2]


def test_lecture_path_product_and_hello():
    product = math.prod(HELLO[s] for s in "H-E-L-L-O")
    assert product == pytest.approx(0.00018816, rel=1e-12)
    assert round(product, 6) == 0.000188
    dp = ctc.lecture_forward("HELLO", HELLO, "-", 7)
    bf = brute_force(list("HELLO"), [HELLO] * 7, list(HELLO), "-")
    assert dp.paths == bf["paths"]
    assert dp.probability == pytest.approx(bf["probability"], rel=1e-12)
    assert dp.loss == pytest.approx(-math.log(bf["probability"]), rel=1e-12)
    assert dp.min_frames == 6
    assert dp.frames == 7
    assert dp.best_path.probability == pytest.approx(bf["best"], rel=1e-12)
    assert ctc.collapse(dp.best_path.path, "-") == list("HELLO")
    # The values sum to 2.8: not a distribution, so the normalised variant is given too.
    norm = [{s: v / 2.8 for s, v in HELLO.items()}] * 7
    bfn = brute_force(list("HELLO"), norm, list(HELLO), "-")
    assert dp.normalized.total == pytest.approx(2.8)
    assert dp.normalized.probability == pytest.approx(bfn["probability"], rel=1e-12)
    assert dp.normalized.loss == pytest.approx(-math.log(bfn["probability"]), rel=1e-12)


def test_lecture_distribution_has_no_normalized_and_empty_label():
    probs = {"a": 0.3, "b": 0.5, "-": 0.2}
    dp = ctc.lecture_forward("ab", probs, "-", 4, trellis=True)
    assert dp.normalized is None
    assert dp.alpha.shape == (4, 5)
    assert dp.alpha[-1, -2:].sum() == pytest.approx(dp.probability, rel=1e-12)
    assert dp.states == ["-", "a", "-", "b", "-"]
    empty = ctc.lecture_forward("", probs, "-", 5)
    assert empty.paths == 1
    assert empty.probability == pytest.approx(0.2**5, rel=1e-12)
    assert empty.best_path.path == ["-"] * 5


def test_impossible_label():
    dp = ctc.lecture_forward("HELLO", HELLO, "-", 5)
    assert dp.min_frames == 6
    assert dp.paths == 0
    assert dp.probability == 0.0
    assert dp.loss == math.inf
    assert dp.best_path is None
    m = ctc.ctc_matrix([1, 1], np.log(np.full((2, 3), 1 / 3)), 0, grad=True, trellis=True)
    assert m.min_frames == 3
    assert (m.paths, m.probability, m.loss, m.best_path) == (0, 0.0, math.inf, None)
    assert not m.grad.any()
    assert not m.alpha[-1, -2:].any()


def test_lecture_validation():
    with pytest.raises(ValueError, match="blank"):
        ctc.lecture_forward("ab", {"a": 0.5, "b": 0.5}, "-", 3)
    with pytest.raises(ValueError, match="no probability"):
        ctc.lecture_forward("abc", {"a": 0.5, "b": 0.3, "-": 0.2}, "-", 3)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        ctc.lecture_forward("ab", {"a": 1.5, "b": 0.3, "-": 0.2}, "-", 3)
    with pytest.raises(ValueError, match="frames"):
        ctc.lecture_forward("ab", {"a": 0.5, "b": 0.3, "-": 0.2}, "-", 0)


@SETTINGS
@given(
    length=st.integers(0, 6),
    frames=st.integers(1, 40),
    data=st.data(),
)
def test_path_count_is_binomial_without_repeats(length, frames, data):
    symbols = "abcd"
    label = []
    for _ in range(length):
        label.append(
            data.draw(st.sampled_from([s for s in symbols if not label or s != label[-1]]))
        )
    assert ctc.count_alignments(label, frames) == math.comb(frames + length, 2 * length)


def test_path_count_is_exact_for_thousands_of_frames():
    n = ctc.count_alignments("abcab", 3000)
    assert n == math.comb(3005, 10)
    dp = ctc.lecture_forward("abcab", {"a": 0.3, "b": 0.3, "c": 0.2, "-": 0.2}, "-", 3000)
    assert dp.paths == n


# ------------------------------------------------------------------------------------------
# Brute force: lecture mode and matrix mode
# ------------------------------------------------------------------------------------------

labels_small = st.lists(st.sampled_from(["a", "b", "c"]), min_size=0, max_size=3)


@SETTINGS
@given(
    label=labels_small,
    frames=st.integers(1, 6),
    values=st.lists(st.floats(0.0, 1.0), min_size=4, max_size=4),
)
def test_lecture_matches_brute_force(label, frames, values):
    symbols = ["-", "a", "b", "c"]
    probs = dict(zip(symbols, values, strict=True))
    if sum(values) == 0.0:
        return
    dp = ctc.lecture_forward(label, probs, "-", frames, trellis=True)
    bf = brute_force(label, [probs] * frames, symbols, "-")
    assert dp.paths == bf["paths"]
    assert dp.probability == pytest.approx(bf["probability"], rel=1e-9, abs=1e-300)
    if bf["log"] > -math.inf:
        assert dp.loss == pytest.approx(-bf["log"], rel=1e-9, abs=1e-12)
        assert dp.best_path.log_probability == pytest.approx(bf["best_log"], rel=1e-9, abs=1e-12)
        assert ctc.collapse(dp.best_path.path, "-") == label
        assert len(dp.best_path.path) == frames
    else:
        assert dp.loss == math.inf
        assert dp.best_path is None
    ends = dp.alpha[-1, -2:] if label else dp.alpha[-1, -1:]
    assert ends.sum() == pytest.approx(bf["probability"], rel=1e-9, abs=1e-300)
    assert dp.min_frames == ctc.min_frames(label)


@SETTINGS
@given(
    label=st.lists(st.integers(1, 3), min_size=0, max_size=3),
    frames=st.integers(1, 6),
    seed=st.integers(0, 2**32 - 1),
    zeros=st.booleans(),
)
def test_matrix_matches_brute_force(label, frames, seed, zeros):
    rng = np.random.default_rng(seed)
    probs = rng.dirichlet(np.ones(4), size=frames)
    if zeros:  # some exact zeros: log-probabilities of -inf must work
        probs[rng.random(probs.shape) < 0.2] = 0.0
    with np.errstate(divide="ignore"):
        lp = np.log(probs)
    dp = ctc.ctc_matrix(label, lp, 0, trellis=True)
    bf = brute_force(label, [dict(enumerate(row)) for row in probs], [0, 1, 2, 3], 0)
    assert dp.paths == bf["paths"] == ctc.count_alignments(label, frames)
    assert dp.probability == pytest.approx(bf["probability"], rel=1e-9, abs=1e-300)
    if bf["log"] > -math.inf:
        assert dp.loss == pytest.approx(-bf["log"], rel=1e-9, abs=1e-12)
        assert dp.best_path.probability == pytest.approx(bf["best"], rel=1e-9)
        assert dp.best_path.log_probability == pytest.approx(bf["best_log"], rel=1e-9, abs=1e-12)
        assert ctc.collapse(dp.best_path.path, 0) == label
    else:
        assert dp.loss == math.inf and dp.best_path is None
    argmax = probs.argmax(axis=1).tolist()
    assert dp.greedy.path == argmax
    assert dp.greedy.collapsed == ctc.collapse(argmax, 0)
    ends = dp.alpha[-1, -2:] if label else dp.alpha[-1, -1:]
    assert ends.sum() == pytest.approx(bf["probability"], rel=1e-9, abs=1e-300)


# ------------------------------------------------------------------------------------------
# Invariants, finite differences, long inputs
# ------------------------------------------------------------------------------------------


@SETTINGS
@given(
    label=st.lists(st.integers(1, 4), min_size=0, max_size=5),
    extra=st.integers(0, 8),
    seed=st.integers(0, 2**32 - 1),
    shift=st.floats(-50, 50),
)
def test_shift_invariance_and_gradient_rows(label, extra, seed, shift):
    rng = np.random.default_rng(seed)
    frames = ctc.min_frames(label) + extra + 1
    logits = rng.normal(size=(frames, 5)) * 2
    dp = ctc.ctc_matrix(label, log_softmax(logits), 0, grad=True)
    moved = logits.copy()
    moved[rng.integers(frames)] += shift
    dp2 = ctc.ctc_matrix(label, log_softmax(moved), 0, grad=True)
    assert dp2.loss == pytest.approx(dp.loss, rel=1e-9)
    np.testing.assert_allclose(dp.grad.sum(axis=1), 0.0, atol=1e-12)
    np.testing.assert_allclose(dp2.grad, dp.grad, rtol=1e-7, atol=1e-10)


@settings(max_examples=15, deadline=None)
@given(
    label=st.lists(st.integers(1, 3), min_size=1, max_size=4),
    extra=st.integers(0, 4),
    seed=st.integers(0, 2**32 - 1),
)
def test_gradient_matches_finite_differences(label, extra, seed):
    rng = np.random.default_rng(seed)
    frames = ctc.min_frames(label) + extra
    logits = rng.normal(size=(frames, 4))
    dp = ctc.ctc_matrix(label, log_softmax(logits), 0, grad=True)
    h = 1e-5
    numeric = np.zeros_like(logits)
    for t in range(frames):
        for k in range(4):
            up, down = logits.copy(), logits.copy()
            up[t, k] += h
            down[t, k] -= h
            numeric[t, k] = (
                ctc.ctc_matrix(label, log_softmax(up), 0).loss
                - ctc.ctc_matrix(label, log_softmax(down), 0).loss
            ) / (2 * h)
    np.testing.assert_allclose(dp.grad, numeric, atol=1e-7)


@settings(max_examples=6, deadline=None)
@given(
    label=st.lists(st.integers(1, 4), min_size=0, max_size=6),
    seed=st.integers(0, 2**32 - 1),
    scale=st.sampled_from([1.0, 4.0]),
)
def test_two_thousand_frames(label, seed, scale):
    rng = np.random.default_rng(seed)
    lp = log_softmax(rng.normal(size=(2000, 5)) * scale)
    dp = ctc.ctc_matrix(label, lp, 0, trellis=True, grad=True)
    assert dp.probability == 0.0  # far below the float64 range
    assert math.isfinite(dp.loss) and dp.loss > 700
    assert dp.loss == pytest.approx(-reference_log_alpha(label, lp, 0), rel=1e-10)
    assert math.isfinite(dp.best_path.log_probability)
    # One path (an empty label) is the whole sum: equal up to rounding, never above it.
    assert dp.best_path.log_probability <= dp.log_probability + 1e-12 * abs(dp.log_probability)
    np.testing.assert_allclose(dp.grad.sum(axis=1), 0.0, atol=1e-10)


def test_peaked_long_input_falls_back_to_log_space_exactly():
    # A model that is sure of blank everywhere, asked for a label it never emits: the
    # alpha mass spans thousands of nats, beyond what rescaled probabilities can hold.
    frames, label = 1500, [1, 2, 3] * 8
    logits = np.full((frames, 4), -60.0)
    logits[:, 0] = 0.0
    logits += np.random.default_rng(1).normal(size=logits.shape)
    lp = log_softmax(logits)
    dp = ctc.ctc_matrix(label, lp, 0, grad=True)
    assert dp.loss == pytest.approx(-reference_log_alpha(label, lp, 0), rel=1e-10)
    out = ctc._ctc_batch(
        lp[:, None, :], np.array([label]), np.array([frames]), np.array([24]), 0, want_grad=True
    )
    assert out.log_kernel.all()
    log_only = ctc._ctc_batch(
        lp[:, None, :],
        np.array([label]),
        np.array([frames]),
        np.array([24]),
        0,
        want_grad=True,
        method="log",
    )
    np.testing.assert_allclose(out.grad, log_only.grad, atol=1e-12)


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), scale=st.sampled_from([0.5, 3.0, 12.0]))
def test_scaled_and_log_kernels_agree(seed, scale):
    rng = np.random.default_rng(seed)
    frames, batch, classes, longest = 30, 5, 6, 8
    lp = log_softmax(rng.normal(size=(frames, batch, classes)) * scale)
    labels = rng.integers(1, classes, size=(batch, longest))
    il = rng.integers(0, frames + 1, size=batch)
    tl = rng.integers(0, longest + 1, size=batch)
    auto = ctc._ctc_batch(lp, labels, il, tl, 0, want_grad=True, want_alpha=True)
    ref = ctc._ctc_batch(lp, labels, il, tl, 0, want_grad=True, want_alpha=True, method="log")
    np.testing.assert_allclose(auto.losses, ref.losses, rtol=1e-10)
    np.testing.assert_allclose(auto.grad, ref.grad, rtol=1e-8, atol=1e-12)
    finite = np.isfinite(ref.log_alpha)
    assert (finite == np.isfinite(auto.log_alpha)).all()
    # Log-alphas near 0 carry absolute, not relative, rounding error.
    np.testing.assert_allclose(
        auto.log_alpha[finite], ref.log_alpha[finite], rtol=1e-10, atol=1e-12
    )


# ------------------------------------------------------------------------------------------
# The torch-compatible API
# ------------------------------------------------------------------------------------------


def test_torch_api_validation():
    lp = log_softmax(np.zeros((5, 2, 4)))
    targets = np.array([[1, 2], [3, 3]])
    good = (lp, targets, [5, 5], [2, 2])
    assert np.isfinite(ctc.ctc_loss(*good))
    with pytest.raises(ValueError, match="reduction"):
        ctc.ctc_loss(*good, reduction="avg")
    with pytest.raises(ValueError, match="log_probs"):
        ctc.ctc_loss(lp[0, 0], targets, [5, 5], [2, 2])
    with pytest.raises(ValueError, match="input_lengths"):
        ctc.ctc_loss(lp, targets, [6, 5], [2, 2])
    with pytest.raises(ValueError, match="input_lengths"):
        ctc.ctc_loss(lp, targets, [5], [2, 2])
    with pytest.raises(ValueError, match="fewer than"):
        ctc.ctc_loss(lp, targets, [5, 5], [3, 2])
    with pytest.raises(ValueError, match="sum"):
        ctc.ctc_loss(lp, np.array([1, 2, 3]), [5, 5], [2, 2])
    with pytest.raises(ValueError, match="blank"):
        ctc.ctc_loss(lp, np.array([[0, 2], [3, 3]]), [5, 5], [2, 2])
    with pytest.raises(ValueError, match="outside"):
        ctc.ctc_loss(lp, np.array([[4, 2], [3, 3]]), [5, 5], [2, 2])
    with pytest.raises(ValueError, match="blank"):
        ctc.ctc_loss(*good, blank=4)
    with pytest.raises(ValueError, match="integers"):
        ctc.ctc_loss(lp, targets + 0.5, [5, 5], [2, 2])
    with pytest.raises(ValueError, match="NaN"):
        ctc.ctc_loss(np.full_like(lp, np.nan), targets, [5, 5], [2, 2])
    with pytest.raises(ValueError, match="scalars"):
        ctc.ctc_loss(lp[:, 0], targets[0], [5, 5], 2)


def _torch_reference(torch, lp, targets, il, tl, blank, reduction, zero_infinity):
    logits = torch.tensor(lp, dtype=torch.float64, requires_grad=True)
    loss = torch.nn.functional.ctc_loss(
        logits.log_softmax(-1),
        torch.as_tensor(targets),
        torch.as_tensor(il),
        torch.as_tensor(tl),
        blank=blank,
        reduction=reduction,
        zero_infinity=zero_infinity,
    )
    return logits, loss


@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
@pytest.mark.parametrize("zero_infinity", [False, True])
@pytest.mark.parametrize("layout", ["padded", "concatenated"])
@pytest.mark.parametrize("seed", range(4))
def test_against_torch(reduction, zero_infinity, layout, seed):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(seed)
    frames = int(rng.integers(1, 40))
    batch = int(rng.integers(1, 6))
    classes = int(rng.integers(2, 8))
    longest = int(rng.integers(0, 12))
    blank = int(rng.integers(0, classes))
    logits = rng.normal(size=(frames, batch, classes)) * rng.choice([0.5, 2.0, 6.0])
    lp = log_softmax(logits)
    others = [k for k in range(classes) if k != blank]
    tl = rng.integers(0, longest + 1, size=batch)
    tl[0] = longest  # one full-length target; may well be impossible (inf)
    il = rng.integers(0, frames + 1, size=batch)
    il[-1] = frames
    padded = rng.choice(others, size=(batch, longest + 2))
    if layout == "padded":
        targets = padded
    else:
        targets = np.concatenate([padded[n, : tl[n]] for n in range(batch)]).astype(np.int64)
    ours = ctc.ctc_loss(lp, targets, il, tl, blank, reduction, zero_infinity)
    logits_t, theirs = _torch_reference(torch, lp, targets, il, tl, blank, reduction, zero_infinity)
    np.testing.assert_allclose(ours, theirs.detach().numpy(), rtol=1e-9, atol=1e-12)

    losses, grad = ctc.ctc_loss_and_grad(lp, targets, il, tl, blank)
    per_seq = torch.nn.functional.ctc_loss(
        torch.tensor(lp),
        torch.as_tensor(targets),
        torch.as_tensor(il),
        torch.as_tensor(tl),
        blank=blank,
        reduction="none",
    ).numpy()
    np.testing.assert_allclose(losses, per_seq, rtol=1e-9, atol=1e-12)
    finite = np.isfinite(per_seq)
    if finite.any():
        # Autograd through log_softmax for the sequences with a finite loss.
        logits_t = torch.tensor(lp, requires_grad=True)
        loss = torch.nn.functional.ctc_loss(
            logits_t.log_softmax(-1),
            torch.as_tensor(targets),
            torch.as_tensor(il),
            torch.as_tensor(tl),
            blank=blank,
            reduction="none",
        )
        loss[torch.as_tensor(finite)].sum().backward()
        # (torch's gradient of an infinite loss is NaN even when it is left out of the sum)
        expected = logits_t.grad.numpy()[:, finite]
        np.testing.assert_allclose(grad[:, finite], expected, rtol=1e-9, atol=1e-12)
    assert not grad[:, ~finite].any()
    beyond = np.arange(frames)[:, None] >= il[None, :]
    assert not grad[beyond].any()


@pytest.mark.parametrize("seed", range(3))
def test_zero_infinity_gradients_against_torch(seed):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(100 + seed)
    frames, batch, classes = 6, 4, 5
    lp = log_softmax(rng.normal(size=(frames, batch, classes)))
    targets = rng.integers(1, classes, size=(batch, 8))
    tl = np.array([8, 2, 0, 5])  # the first cannot fit in 6 frames
    il = np.array([6, 6, 3, 4])
    logits_t, loss = _torch_reference(torch, lp, targets, il, tl, 0, "sum", True)
    loss.backward()
    losses, grad = ctc.ctc_loss_and_grad(lp, targets, il, tl)
    assert losses[0] == math.inf
    assert ctc.ctc_loss(lp, targets, il, tl, reduction="sum", zero_infinity=True) == (
        pytest.approx(loss.item(), rel=1e-12)
    )
    np.testing.assert_allclose(grad, logits_t.grad.numpy(), rtol=1e-9, atol=1e-12)
    assert ctc.ctc_loss(lp, targets, il, tl, reduction="mean") == math.inf


def test_unbatched_and_empty_against_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(7)
    lp = log_softmax(rng.normal(size=(12, 6)))
    target = np.array([1, 2, 2, 5])
    for reduction in ("none", "sum", "mean"):
        ours = ctc.ctc_loss(lp, target, 12, 4, reduction=reduction)
        theirs = torch.nn.functional.ctc_loss(
            torch.tensor(lp),
            torch.tensor(target),
            torch.tensor(12),
            torch.tensor(4),
            reduction=reduction,
        )
        assert ours == pytest.approx(theirs.item(), rel=1e-12)
    losses, grad = ctc.ctc_loss_and_grad(lp, target, 12, 4)
    assert losses.shape == () and grad.shape == (12, 6)
    logits_t = torch.tensor(lp, requires_grad=True)
    torch.nn.functional.ctc_loss(
        logits_t.log_softmax(-1), torch.tensor(target), torch.tensor(12), torch.tensor(4)
    ).backward()
    # reduction "mean" divides by the target length 4.
    np.testing.assert_allclose(grad / 4, logits_t.grad.numpy(), rtol=1e-9, atol=1e-13)
    # Empty targets and empty inputs.
    lpb = log_softmax(rng.normal(size=(5, 3, 4)))
    targets = np.zeros((3, 0), dtype=np.int64)
    il, tl = np.array([5, 2, 0]), np.array([0, 0, 0])
    ours = ctc.ctc_loss(lpb, targets, il, tl, reduction="none")
    theirs = torch.nn.functional.ctc_loss(
        torch.tensor(lpb),
        torch.tensor(targets),
        torch.tensor(il),
        torch.tensor(tl),
        reduction="none",
    )
    np.testing.assert_allclose(ours, theirs.numpy(), rtol=1e-12, atol=1e-15)
    assert ours[2] == 0.0


def test_peaked_batch_against_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    frames, batch, classes = 400, 3, 5
    logits = rng.normal(size=(frames, batch, classes)) * 30  # forces the log kernel
    lp = log_softmax(logits)
    targets = rng.integers(1, classes, size=(batch, 20))
    il, tl = np.array([400, 350, 300]), np.array([20, 10, 15])
    losses, grad = ctc.ctc_loss_and_grad(lp, targets, il, tl)
    logits_t, loss = _torch_reference(torch, lp, targets, il, tl, 0, "none", False)
    loss.sum().backward()
    np.testing.assert_allclose(losses, loss.detach().numpy(), rtol=1e-9)
    # Log alphas of about -1e4 carry absolute rounding errors near 1e-12, and so does
    # the occupancy exp(log alpha + log beta - log p) (in torch as here): compare the
    # gradient with that absolute tolerance.
    np.testing.assert_allclose(grad, logits_t.grad.numpy(), rtol=1e-9, atol=1e-10)
