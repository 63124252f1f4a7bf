"""Huber and KL divergence in the core: hand-worked values, PyTorch, and properties.

RuntimeWarnings are errors for every test (pyproject's filterwarnings); the property tests
also turn them into errors themselves, so they mean the same when run on their own.
"""

from __future__ import annotations

import math
import warnings
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from rnnloss_cli.core import elementwise as ew

RTOL = 1e-9
KL_REDUCTIONS = ("sum", "mean", "batchmean", "none")


# --- Huber by hand ------------------------------------------------------------------------


def test_huber_by_hand():
    # d = ŷ − y = 0.5, 2, −3 with δ = 1:
    #   |0.5| ≤ 1 → 0.5·0.25 = 0.125;  |2| > 1 → 1·(2 − 0.5) = 1.5;  |−3| > 1 → 1·(3 − 0.5) = 2.5
    #   sum 4.125, mean 4.125 / 3 = 1.375
    result = ew.huber(np.zeros(3), np.array([0.5, 2.0, -3.0]), delta=1.0)
    np.testing.assert_allclose(result.terms, [0.125, 1.5, 2.5], rtol=RTOL, atol=0)
    assert result.loss == "huber" and result.reduction == "mean"
    assert result.value == pytest.approx(1.375, rel=RTOL)
    assert result.sum == pytest.approx(4.125, rel=RTOL)
    assert result.details["quadratic"].tolist() == [True, False, False]
    np.testing.assert_array_equal(result.details["diff"], [0.5, 2.0, -3.0])
    np.testing.assert_array_equal(result.details["abs_diff"], [0.5, 2.0, 3.0])
    assert result.details["delta"] == 1.0
    assert not result.warnings


def test_huber_other_delta_reductions_and_matrix_shape():
    # δ = 2: d = [[1, −3], [2, 0]] → 0.5·1 = 0.5, 2·(3 − 1) = 4, |2| ≤ 2 → 0.5·4 = 2, 0
    y = np.array([[1.0, 4.0], [0.0, 7.0]])
    yhat = np.array([[2.0, 1.0], [2.0, 7.0]])
    none = ew.huber(y, yhat, delta=2.0, reduction="none")
    assert none.terms.shape == (2, 2)
    np.testing.assert_allclose(none.value, [[0.5, 4.0], [2.0, 0.0]], rtol=RTOL, atol=0)
    assert ew.huber(y, yhat, delta=2.0, reduction="sum").value == pytest.approx(6.5, rel=RTOL)
    assert ew.huber(y, yhat, delta=2.0).value == pytest.approx(6.5 / 4, rel=RTOL)


@pytest.mark.parametrize("delta", [0.0, -1.0, math.inf, math.nan])
def test_huber_refuses_a_delta_that_is_not_positive_and_finite(delta):
    with pytest.raises(ValueError, match=rf"delta.*{delta!r}"):
        ew.huber(np.zeros(2), np.ones(2), delta=delta)


def test_huber_refuses_shape_mismatch_and_unknown_reduction():
    with pytest.raises(ValueError, match=r"\(3,\).*\(2,\)"):
        ew.huber(np.zeros(3), np.zeros(2))
    with pytest.raises(ValueError, match="reduction"):
        ew.huber(np.zeros(2), np.zeros(2), reduction="batchmean")


def test_huber_overflow_is_infinite_named_and_exact():
    # d = 1e308 − (−1e308) = 2e308 > δ: the term is 1·(2e308 − 0.5), beyond float64.
    result = ew.huber(np.array([-1e308, 0.0]), np.array([1e308, 1.0]), reduction="sum")
    assert math.isinf(result.terms[0]) and result.terms[1] == 0.5
    assert not np.isnan(result.terms).any()
    assert any("term 1 (at [0]) is infinite" in w for w in result.warnings)
    # The exact sum (2e308 − 0.5) + 0.5 = 2e308 is beyond float64; the mean 1e308 is not.
    assert result.exact_sum == 2 * Fraction(1e308)
    assert result.exact_terms[0] == 2 * Fraction(1e308) - Fraction(1, 2)
    assert result.mean == pytest.approx(1e308, rel=RTOL)


def test_huber_quadratic_branch_beyond_float64_is_exact():
    # With δ = 1e300 both are quadratic. d = 1.5e154: d·d = 2.25e308 alone overflows, but
    # 0.5·d² = 1.125e308 is a float64 number; d = 2e154: 0.5·d² = 2e308 is beyond float64.
    finite = ew.huber(np.array([0.0]), np.array([1.5e154]), delta=1e300)
    assert finite.terms[0] == pytest.approx(1.125e308, rel=RTOL)
    assert not finite.warnings
    beyond = ew.huber(np.array([0.0]), np.array([2e154]), delta=1e300)
    assert math.isinf(beyond.terms[0]) and beyond.warnings
    assert float(beyond.exact_terms[0] / 10**308) == pytest.approx(2.0, rel=RTOL)


# --- KL by hand ---------------------------------------------------------------------------

KL_Y = np.array([[0.5, 0.5, 0.0], [0.2, 0.3, 0.5]])
KL_P = np.array([[0.25, 0.25, 0.5], [0.5, 0.25, 0.25]])
# Row 0: 0.5·ln(0.5/0.25) + 0.5·ln(0.5/0.25) + 0·(…) = ln 2 = 0.6931471805599453
# Row 1: 0.2·ln(0.2/0.5) + 0.3·ln(0.3/0.25) + 0.5·ln(0.5/0.25)
#      = 0.2·ln 0.4 + 0.3·ln 1.2 + 0.5·ln 2 = −0.1832581 + 0.0546965 + 0.3465736 = 0.2180120
KL_ROWS = [math.log(2), 0.2 * math.log(0.4) + 0.3 * math.log(1.2) + 0.5 * math.log(2)]


def test_kl_by_hand_every_reduction():
    total = sum(KL_ROWS)  # 0.9111591
    expected = {"sum": total, "mean": total / 6, "batchmean": total / 2}
    divisors = {"sum": 1, "mean": 6, "batchmean": 2, "none": None}
    for reduction in KL_REDUCTIONS:
        result = ew.kl_divergence(KL_Y, KL_P, reduction=reduction)
        assert result.loss == "kl" and result.reduction == reduction
        np.testing.assert_allclose(result.terms, KL_ROWS, rtol=RTOL, atol=0)
        assert result.sum == pytest.approx(total, rel=RTOL)
        assert result.mean == pytest.approx(total / 2, rel=RTOL)  # per row, always
        assert result.details["divisor"] == divisors[reduction]
        assert isinstance(result.details["reduction_words"], str)
        if reduction == "none":
            np.testing.assert_allclose(result.value, KL_ROWS, rtol=RTOL, atol=0)
        else:
            assert result.value == pytest.approx(expected[reduction], rel=RTOL)
    assert round(total / 6, 4) == 0.1519  # the hand value of `mean`: 0.9111591 / 6


def test_kl_details_by_hand():
    d = ew.kl_divergence(KL_Y, KL_P).details
    np.testing.assert_array_equal(d["y"], KL_Y)
    np.testing.assert_array_equal(d["p"], KL_P)
    np.testing.assert_array_equal(d["yhat"], KL_P)
    assert d["log_y"][0, 2] == -math.inf and d["contributions"][0, 2] == 0.0
    np.testing.assert_allclose(
        d["contributions"][1],
        [0.2 * math.log(0.4), 0.3 * math.log(1.2), 0.5 * math.log(2)],
        rtol=RTOL,
        atol=0,
    )
    # H(y, ŷ) row 0 = −(0.5 ln 0.25 + 0.5 ln 0.25) = ln 4; H(y) row 0 = ln 2.
    assert d["cross_entropy"][0] == pytest.approx(math.log(4), rel=RTOL)
    assert d["entropy"][0] == pytest.approx(math.log(2), rel=RTOL)
    np.testing.assert_allclose(d["cross_entropy"] - d["entropy"], KL_ROWS, rtol=1e-12)
    assert d["log_target"] is False and d["single_row"] is False


def test_kl_log_probs_and_log_target_agree_with_probabilities():
    base = ew.kl_divergence(KL_Y, KL_P)
    with np.errstate(divide="ignore"):
        log_y, log_p = np.log(KL_Y), np.log(KL_P)
    from_logs = ew.kl_divergence(log_y, log_probs=log_p, log_target=True)
    np.testing.assert_allclose(from_logs.terms, base.terms, rtol=1e-12, atol=0)
    assert "log_probs" in from_logs.details and "yhat" not in from_logs.details
    np.testing.assert_allclose(from_logs.details["y"], KL_Y, rtol=1e-15)
    # PyTorch's log_target=True gives NaN for a target of log 0 = −∞; ours is 0·log 0 = 0.
    assert from_logs.terms[0] == pytest.approx(math.log(2), rel=RTOL)


def test_kl_single_row_is_one_observation():
    # 0.2 ln 0.4 + 0.3 ln 1.2 + 0.5 ln 2 = 0.2180120, one row: batchmean = sum, mean = sum / 3
    result = ew.kl_divergence(KL_Y[1], KL_P[1], reduction="batchmean")
    assert result.terms.shape == (1,) and result.details["single_row"] is True
    assert result.value == pytest.approx(KL_ROWS[1], rel=RTOL)
    mean = ew.kl_divergence(KL_Y[1], KL_P[1], reduction="mean")
    assert mean.value == pytest.approx(KL_ROWS[1] / 3, rel=RTOL)


def test_kl_zero_prediction_where_target_has_weight_is_infinite_and_named():
    y = np.array([[0.5, 0.5, 0.0], [0.0, 0.5, 0.5]])
    p = np.array([[0.5, 0.5, 0.0], [0.5, 0.5, 0.0]])  # row 0: y = 0 where ŷ = 0, fine
    result = ew.kl_divergence(y, p)
    assert result.terms[0] == 0.0 and math.isinf(result.terms[1])
    assert math.isinf(result.value) and not np.isnan(result.details["contributions"]).any()
    assert len(result.warnings) == 1
    assert "term 2 (at [1])" in result.warnings[0] and "class 2 (at [1][2])" in result.warnings[0]


def test_kl_log_target_underflowing_weight_keeps_its_product():
    # y = (1, e^−800): e^−800 is 0 in float64, but e^−800 · (−800 − (−1e308)) ≈ 3.67e−40
    # is a number; and the same weight against ŷ = 0 makes the row infinite.
    y = np.array([[0.0, -800.0]])
    result = ew.kl_divergence(y, log_probs=np.array([[0.0, -1e308]]), log_target=True)
    expected = math.exp(-800 + math.log(1e308 - 800))
    assert result.terms[0] == pytest.approx(expected, rel=1e-12)
    zero = ew.kl_divergence(y, log_probs=np.array([[0.0, -math.inf]]), log_target=True)
    assert math.isinf(zero.terms[0]) and "class 1 (at [0][1])" in zero.warnings[0]


def test_kl_row_sum_that_overflows_only_on_the_way_is_a_number():
    # Not distributions (the validator refuses those), but the core must still add right:
    # 1·(0 + 1.7e308) + 1·(0 + 1.7e308) + 1·(0 − 1.7e308) = 1.7e308, though 1.7e308 + 1.7e308
    # overflows float64 on the way.
    log_p = np.array([[-1.7e308, -1.7e308, 1.7e308]])
    result = ew.kl_divergence(np.ones((1, 3)), log_probs=log_p)
    assert result.terms[0] == pytest.approx(1.7e308, rel=RTOL)
    assert not result.warnings


def test_kl_refuses_bad_shapes_inputs_and_reductions():
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(2, 2\)"):
        ew.kl_divergence(KL_Y, KL_P[:, :2])
    with pytest.raises(ValueError, match=r"\(3,\).*\(1, 3\)"):
        ew.kl_divergence(KL_Y[0], KL_P[:1])
    with pytest.raises(ValueError, match=r"shape \(1, 2, 3\)"):
        ew.kl_divergence(KL_Y[None], KL_P[None])
    with pytest.raises(ValueError, match="exactly one"):
        ew.kl_divergence(KL_Y, KL_P, log_probs=np.log(KL_P))
    with pytest.raises(ValueError, match="exactly one"):
        ew.kl_divergence(KL_Y)
    with pytest.raises(ValueError, match=r"batchmean.*'average'"):
        ew.kl_divergence(KL_Y, KL_P, reduction="average")


# --- against PyTorch ----------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_huber_against_torch(seed, reduction):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(seed)
    y = rng.normal(size=(5, 4)) * 3
    yhat = rng.normal(size=(5, 4)) * 3
    delta = [1.0, 0.3, 2.5, 10.0][seed]
    ours = ew.huber(y, yhat, delta=delta, reduction=reduction).value
    theirs = torch.nn.functional.huber_loss(
        input=torch.from_numpy(yhat), target=torch.from_numpy(y), delta=delta, reduction=reduction
    ).numpy()
    np.testing.assert_allclose(ours, theirs, rtol=RTOL, atol=0)


def _random_distributions(rng: np.random.Generator, n: int, c: int) -> np.ndarray:
    return rng.dirichlet(np.ones(c), size=n)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("reduction", KL_REDUCTIONS)
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_against_torch(seed, reduction, log_target):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(seed)
    n, c = 3 + seed, 4
    y, p = _random_distributions(rng, n, c), _random_distributions(rng, n, c)
    target = np.log(y) if log_target else y
    ours = ew.kl_divergence(target, log_probs=np.log(p), log_target=log_target, reduction=reduction)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # PyTorch's note that 'mean' is not KL's
        theirs = torch.nn.functional.kl_div(
            input=torch.from_numpy(np.log(p)),
            target=torch.from_numpy(target),
            reduction=reduction,
            log_target=log_target,
        ).numpy()
    if reduction == "none":  # PyTorch's is per element: its rows summed are our terms
        assert theirs.shape == (n, c)
        np.testing.assert_allclose(ours.details["contributions"], theirs, rtol=1e-9, atol=1e-15)
        theirs = theirs.sum(axis=1)
    np.testing.assert_allclose(ours.value, theirs, rtol=RTOL, atol=0)
    # Probabilities in, rather than their logs: the same answer.
    from_probs = ew.kl_divergence(y, p, reduction=reduction)
    np.testing.assert_allclose(from_probs.value, theirs, rtol=RTOL, atol=0)


# --- properties ---------------------------------------------------------------------------

finite = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)
wide = st.floats(allow_nan=False, allow_infinity=False)  # ±1.8e308: overflow must be handled
deltas = st.floats(1e-3, 1e3, allow_nan=False)


@st.composite
def pairs(draw, elements=finite):
    shape = draw(hnp.array_shapes(max_dims=2, max_side=6))
    y = draw(hnp.arrays(np.float64, shape, elements=elements))
    yhat = draw(hnp.arrays(np.float64, shape, elements=elements))
    return y, yhat


@settings(max_examples=200, deadline=None)
@given(pairs(), deltas)
def test_huber_is_non_negative_piecewise_and_zero_at_a_perfect_prediction(pair, delta):
    y, yhat = pair
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = ew.huber(y, yhat, delta=delta, reduction="none")
        perfect = ew.huber(y, y.copy(), delta=delta, reduction="sum")
    assert (result.terms >= 0).all() and not np.isnan(result.terms).any()
    assert perfect.value == 0.0
    d = np.abs(yhat - y)
    quadratic = d <= delta
    assert (result.details["quadratic"] == quadratic).all()
    np.testing.assert_allclose(result.terms[quadratic], 0.5 * d[quadratic] ** 2, rtol=1e-12)
    # Never above either limit: 0.5·d² (δ → ∞) and δ·|d| (δ → 0).
    assert (result.terms <= 0.5 * d**2 * (1 + 1e-12)).all()
    assert (result.terms <= delta * d * (1 + 1e-12)).all()


@settings(max_examples=100, deadline=None)
@given(pairs())
def test_huber_limits_mse_over_two_and_delta_times_mae(pair):
    y, yhat = pair
    d = yhat - y
    big = ew.huber(y, yhat, delta=1e7)  # every |d| ≤ 2e6 < δ: all quadratic
    np.testing.assert_allclose(big.value, np.mean(0.5 * d**2), rtol=1e-9, atol=1e-300)
    mse = ew.mse(y, yhat).value
    assert big.value == pytest.approx(mse / 2, rel=1e-9, abs=1e-300)
    small_delta = 1e-9
    small = ew.huber(y, yhat, delta=small_delta)
    mae = float(np.mean(np.abs(d)))
    # δ·MAE − δ²/2 ≤ Huber ≤ δ·MAE (each term δ|d| − δ²/2 or, for |d| ≤ δ, ≤ δ|d|)
    assert small.value <= small_delta * mae * (1 + 1e-12)
    assert small.value >= small_delta * mae - small_delta**2 / 2 - 1e-12 * small_delta * mae


@settings(max_examples=200, deadline=None)
@given(pairs(wide), st.floats(1e-300, 1e300))
def test_huber_never_nan_and_no_runtime_warning_on_any_finite_input(pair, delta):
    y, yhat = pair
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = ew.huber(y, yhat, delta=delta)
    assert not np.isnan(result.terms).any() and not math.isnan(result.value)
    assert (result.terms >= 0).all()
    # Each infinite term is named, and has its exact value.
    for flat in np.flatnonzero(np.isinf(result.terms)):
        assert flat in result.exact_terms
    assert sum("is infinite" in w for w in result.warnings) == min(
        int(np.isinf(result.terms).sum()), 10
    )


@st.composite
def distributions(draw):
    n = draw(st.integers(1, 5))
    c = draw(st.integers(1, 6))
    weights = st.floats(0.0, 1.0, allow_nan=False)

    def rows():
        raw = draw(hnp.arrays(np.float64, (n, c), elements=weights))
        raw[:, 0] += 1e-3  # every row has some weight
        return raw / raw.sum(axis=1, keepdims=True)

    return rows(), rows()


@settings(max_examples=200, deadline=None)
@given(distributions(), st.sampled_from(KL_REDUCTIONS))
def test_kl_non_negative_zero_at_perfect_and_ce_minus_entropy(pair, reduction):
    y, p = pair
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = ew.kl_divergence(y, p, reduction=reduction)
        perfect = ew.kl_divergence(y, y.copy(), reduction=reduction)
    terms = result.terms
    assert not np.isnan(terms).any()
    # Gibbs' inequality, up to rounding of the logs (a few ε per class).
    assert (terms >= -1e-12).all()
    np.testing.assert_allclose(perfect.terms, 0.0, atol=1e-12)
    finite_rows = np.isfinite(terms)
    ce, h = result.details["cross_entropy"], result.details["entropy"]
    ce_f, h_f = ce[finite_rows], h[finite_rows]
    gap = np.abs(terms[finite_rows] - (ce_f - h_f))
    assert (gap <= 1e-12 * (np.abs(ce_f) + np.abs(h_f) + 1.0)).all()
    assert np.isposinf(ce[~finite_rows]).all()  # an infinite KL is an infinite cross-entropy


@settings(max_examples=200, deadline=None)
@given(distributions(), st.floats(-1e308, -1.0))
def test_kl_never_nan_nor_warning_with_zero_and_huge_negative_log_probs(pair, very_negative):
    y, p = pair
    with np.errstate(divide="ignore"):
        log_p = np.log(p)
    # −1e308: finite, but its product must not overflow to NaN (ŷ is then no distribution,
    # so the KL may be negative: only NaN, warnings and their naming are checked).
    log_p[:, -1] = very_negative
    log_y = np.log(np.where(y == 0, 1.0, y))
    log_y = np.where(y == 0, -np.inf, log_y)
    for target, log_target in ((y, False), (log_y, True)):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            result = ew.kl_divergence(target, log_probs=log_p, log_target=log_target)
        assert not np.isnan(result.terms).any() and not math.isnan(result.value)
        assert not np.isnan(result.details["contributions"]).any()
        # Each infinite row is named (a sum over rows beyond float64 is warned of apart).
        named = [w for w in result.warnings if "is infinite" in w]
        assert len(named) == min(int(np.isinf(result.terms).sum()), 10)
