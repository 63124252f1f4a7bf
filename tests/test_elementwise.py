"""The elementwise losses against hand-worked values, PyTorch, scikit-learn and properties."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from rnnloss_cli.core import elementwise as ew

RTOL = 1e-9


# --- hand-worked values (the lecture's and the bundled problems') -------------------------


def test_lecture_hinge_example():
    result = ew.hinge(np.array([1.0, -1.0, 1.0]), np.array([0.8, -0.5, 0.3]))
    assert result.terms == pytest.approx([0.2, 0.5, 0.7])
    assert result.sum == pytest.approx(1.4)
    assert result.value == pytest.approx(1.4 / 3)
    assert round(result.value, 3) == 0.467


def test_hinge_sum_and_none_reductions():
    y, yhat = np.array([1.0, -1.0, 1.0]), np.array([0.8, -0.5, 0.3])
    assert ew.hinge(y, yhat, reduction="sum").value == pytest.approx(1.4)
    assert list(ew.hinge(y, yhat, reduction="none").value) == pytest.approx([0.2, 0.5, 0.7])


def test_hinge_margin_and_squared():
    result = ew.hinge(np.array([1.0, -1.0]), np.array([0.5, 0.5]), margin=2.0, squared=True)
    # max(0, 2 − 0.5)² = 2.25, max(0, 2 + 0.5)² = 6.25
    assert result.terms == pytest.approx([2.25, 6.25])


def test_mse_forecast_by_hand():
    result = ew.mse(np.array([22.0, 24.5, 23.0, 25.5]), np.array([21.5, 25.0, 23.5, 24.0]))
    assert result.terms == pytest.approx([0.25, 0.25, 0.25, 2.25])
    assert result.value == pytest.approx(0.75)


def test_mse_keeps_matrix_shape():
    result = ew.mse(np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([[1.5, 2.0], [3.0, 3.0]]))
    assert result.terms.shape == (2, 2)
    assert result.value == pytest.approx(1.25 / 4)


def test_bce_by_hand():
    result = ew.bce(np.array([1.0, 0.0, 1.0, 0.0]), np.array([0.9, 0.2, 0.6, 0.1]))
    hand = [-math.log(0.9), -math.log(0.8), -math.log(0.6), -math.log(0.9)]
    assert result.terms == pytest.approx(hand, rel=RTOL)
    assert result.value == pytest.approx(sum(hand) / 4, rel=RTOL)


def test_bce_zero_log_zero_is_zero_and_log_of_zero_is_infinite():
    result = ew.bce(np.array([1.0, 0.0, 1.0]), np.array([1.0, 0.0, 0.0]))
    assert result.terms[0] == 0.0 and result.terms[1] == 0.0
    assert math.isinf(result.terms[2]) and math.isinf(result.value)
    assert len(result.warnings) == 1 and "term 3" in result.warnings[0]
    assert not np.isnan(result.terms).any()


def test_bce_log_bases():
    y, p = np.array([1.0]), np.array([0.25])
    assert ew.bce(y, p, log_base="2").value == pytest.approx(2.0, rel=RTOL)
    assert ew.bce(y, np.array([0.1]), log_base="10").value == pytest.approx(1.0, rel=RTOL)


def test_bce_clip_as_keras():
    result = ew.bce(np.array([1.0]), np.array([0.0]), clip=1e-7)
    assert result.value == pytest.approx(-math.log(1e-7), rel=RTOL)
    assert not result.warnings


def test_bce_large_logits_stay_finite():
    result = ew.bce(np.array([0.0, 1.0]), logits=np.array([800.0, -800.0]))
    assert result.terms == pytest.approx([800.0, 800.0], rel=RTOL)


def test_nll_next_word_by_hand():
    y = np.eye(4)[[1, 2, 3]]
    p = np.array([[0.1, 0.6, 0.2, 0.1], [0.05, 0.15, 0.7, 0.1], [0.2, 0.1, 0.2, 0.5]])
    result = ew.categorical_cross_entropy(y, p, loss="nll")
    assert result.value == pytest.approx(-math.log(0.6 * 0.7 * 0.5), rel=RTOL)
    assert result.reduction == "sum"


def test_cce_soft_labels_and_label_smoothing_by_hand():
    y = np.array([[1.0, 0.0, 0.0]])
    p = np.array([[0.5, 0.3, 0.2]])
    eps = 0.3
    smoothed = [0.8, 0.1, 0.1]  # (1 − 0.3)·y + 0.3/3
    hand = -sum(w * math.log(q) for w, q in zip(smoothed, p[0], strict=True))
    result = ew.categorical_cross_entropy(y, p, label_smoothing=eps)
    assert result.value == pytest.approx(hand, rel=RTOL)


# --- references: PyTorch and scikit-learn on random inputs ---------------------------------


def _rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_against_torch(seed, reduction):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    rng = _rng(seed)
    n, c = int(rng.integers(1, 9)), int(rng.integers(2, 7))
    t = torch.from_numpy

    def same(ours, theirs):
        np.testing.assert_allclose(np.asarray(ours.value), theirs.numpy(), rtol=RTOL, atol=0)

    # MSE, 1-D and 2-D
    y, yhat = rng.normal(size=(n, c)), rng.normal(size=(n, c))
    same(ew.mse(y, yhat, reduction=reduction), F.mse_loss(t(yhat), t(y), reduction=reduction))

    # BCE from probabilities (away from 0 and 1: torch clamps its logs at −100) and logits
    y01 = rng.uniform(size=n)
    p = rng.uniform(1e-3, 1 - 1e-3, size=n)
    logits = rng.normal(scale=5, size=n)
    same(
        ew.bce(y01, p, reduction=reduction),
        F.binary_cross_entropy(t(p), t(y01), reduction=reduction),
    )
    same(
        ew.bce(y01, logits=logits, reduction=reduction),
        F.binary_cross_entropy_with_logits(t(logits), t(y01), reduction=reduction),
    )

    # NLL / CCE from indices, log-probabilities, logits, soft labels, label smoothing
    targets = rng.integers(0, c, size=n)
    one_hot = np.eye(c)[targets]
    z = rng.normal(scale=3, size=(n, c))
    log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    same(
        ew.categorical_cross_entropy(one_hot, log_probs=log_p, reduction=reduction, loss="nll"),
        F.nll_loss(t(log_p), t(targets), reduction=reduction),
    )
    same(
        ew.categorical_cross_entropy(one_hot, np.exp(log_p), reduction=reduction),
        F.nll_loss(t(log_p), t(targets), reduction=reduction),
    )
    soft = rng.dirichlet(np.ones(c), size=n)
    same(
        ew.categorical_cross_entropy(soft, logits=z, reduction=reduction),
        F.cross_entropy(t(z), t(soft), reduction=reduction),
    )
    eps = float(rng.uniform(0, 0.9))
    same(
        ew.categorical_cross_entropy(one_hot, logits=z, reduction=reduction, label_smoothing=eps),
        F.cross_entropy(t(z), t(targets), reduction=reduction, label_smoothing=eps),
    )

    # Binary hinge through MultiMarginLoss on the scores [0, f]: C = 2 classes, so
    # Σ_{j≠y} max(0, m − x_y + x_j) / C is half of max(0, m − y·f).
    labels = rng.choice([-1.0, 1.0], size=n)
    scores = rng.normal(size=n)
    margin = float(rng.uniform(0.1, 2.0))
    pairs = t(np.stack([np.zeros(n), scores], axis=1))
    classes = t(((labels + 1) / 2).astype(np.int64))
    for squared, power in ((False, 1), (True, 2)):
        reference = 2 * F.multi_margin_loss(
            pairs, classes, p=power, margin=margin, reduction=reduction
        )
        same(
            ew.hinge(labels, scores, margin=margin, squared=squared, reduction=reduction), reference
        )


@pytest.mark.parametrize("seed", range(5))
def test_against_sklearn(seed):
    metrics = pytest.importorskip("sklearn.metrics")
    rng = _rng(seed)
    n, c = int(rng.integers(2, 12)), int(rng.integers(2, 6))
    y, yhat = rng.normal(size=n), rng.normal(size=n)
    assert ew.mse(y, yhat).value == pytest.approx(metrics.mean_squared_error(y, yhat), rel=RTOL)

    labels = np.array([0, 1, *list(rng.integers(0, 2, size=n - 2))], dtype=float)
    p = rng.uniform(1e-3, 1 - 1e-3, size=n)
    assert ew.bce(labels, p).value == pytest.approx(metrics.log_loss(labels, p), rel=RTOL)

    targets = np.array(list(range(c)) + list(rng.integers(0, c, size=n)))
    probs = rng.dirichlet(np.ones(c), size=targets.size)
    cce = ew.categorical_cross_entropy(np.eye(c)[targets], probs, reduction="mean")
    assert cce.value == pytest.approx(
        metrics.log_loss(targets, probs, labels=list(range(c))), rel=RTOL
    )

    signs = np.where(labels > 0, 1.0, -1.0)
    assert ew.hinge(signs, yhat).value == pytest.approx(metrics.hinge_loss(signs, yhat), rel=RTOL)


# --- properties ----------------------------------------------------------------------------

finite = st.floats(-1e3, 1e3, allow_nan=False)
unit = st.floats(0.0, 1.0, allow_nan=False)


def vectors(elements, n):
    return hnp.arrays(np.float64, n, elements=elements)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 8).flatmap(lambda n: st.tuples(vectors(unit, n), vectors(unit, n))))
def test_bce_is_non_negative_and_never_nan(pair):
    y, p = pair
    terms = ew.bce(y, p).terms
    assert not np.isnan(terms).any()
    assert (terms >= -1e-12).all()


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 8).flatmap(lambda n: st.tuples(vectors(unit, n), vectors(finite, n))))
def test_bce_from_logits_finite_and_non_negative(pair):
    y, logits = pair
    terms = ew.bce(y, logits=logits).terms
    assert np.isfinite(terms).all() and (terms >= -1e-12).all()


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 6), st.integers(2, 6), st.data())
def test_cross_entropy_invariant_to_a_constant_added_to_logits(n, c, data):
    logits = data.draw(hnp.arrays(np.float64, (n, c), elements=finite))
    shift = data.draw(st.floats(-1e3, 1e3))
    y = data.draw(hnp.arrays(np.float64, (n, c), elements=unit))
    a = ew.categorical_cross_entropy(y, logits=logits).terms
    b = ew.categorical_cross_entropy(y, logits=logits + shift).terms
    assert not np.isnan(a).any()
    np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-9 * (1 + np.abs(logits).max()))


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 6), st.integers(2, 6), st.data())
def test_cross_entropy_zero_at_a_perfect_prediction_and_never_nan(n, c, data):
    targets = data.draw(hnp.arrays(np.int64, n, elements=st.integers(0, c - 1)))
    y = np.eye(c)[targets]
    assert ew.categorical_cross_entropy(y, y.copy()).value == 0.0
    p = data.draw(hnp.arrays(np.float64, (n, c), elements=unit))
    terms = ew.categorical_cross_entropy(y, p).terms
    assert not np.isnan(terms).any() and (terms >= 0).all()


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 8).flatmap(lambda n: st.tuples(vectors(finite, n), vectors(finite, n))))
def test_mse_and_hinge_properties(pair):
    y, yhat = pair
    assert ew.mse(y, y).value == 0.0
    assert ew.mse(y, yhat).value >= 0.0
    signs = np.where(y >= 0, 1.0, -1.0)
    assert ew.hinge(signs, signs * (1.0 + np.abs(yhat))).value == 0.0  # beyond the margin
    terms = ew.hinge(signs, yhat).terms
    assert (terms >= 0).all() and not np.isnan(terms).any()


def test_bce_zero_at_a_perfect_prediction():
    y = np.array([0.0, 1.0, 1.0])
    assert ew.bce(y, y.copy()).value == 0.0
