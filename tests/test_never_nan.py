"""Never NaN, never a stray warning (issue 10, item 10, and the −∞ logits and 0-d CTC
lengths of item 8): extreme but valid input gives the exact value where float64 holds it,
±∞ honestly where it does not, never NaN, and nothing from numpy on standard error.

Every test here turns warnings into errors: a numpy RuntimeWarning inside the command is
an internal error (exit 2), so a stray warning fails the test that provoked it.
"""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pytest
from cli_helpers import invoke
from cli_helpers import write_problem as write

from rnnloss_cli.core.ctc import ctc_loss, ctc_loss_and_grad
from rnnloss_cli.core.sequence import reinforce
from rnnloss_cli.render.terminal import _shade

pytestmark = pytest.mark.filterwarnings("error")

LN2 = math.log(2.0)
WW = ["--multiclass", "weston-watkins"]
NAN = re.compile(r"\bnan\b", re.IGNORECASE)


def _run(args: list[str], status: int = 0):
    result = invoke(args, env={"COLUMNS": "120", "NO_COLOR": "1"})
    assert result.exit_code == status, (args, result.output)
    if status == 0:
        assert result.stderr == "", (args, result.stderr)  # no numpy warning, no traceback
    return result


def _json(args: list[str]) -> dict:
    return json.loads(_run([*args, "--json"]).stdout)


def _number(value) -> float:
    """A JSON number as rnnloss writes it: infinities are the strings "inf" and "-inf"."""
    assert value not in ("nan", "NaN") and not (isinstance(value, float) and math.isnan(value))
    return float(value)


def _no_nan_anywhere(args: list[str]) -> None:
    """Neither the working (every number in it), the Markdown nor the JSON shows NaN."""
    for extra in ([], ["--format", "markdown"], ["--json"]):
        out = _run([*args, *extra]).stdout
        assert not NAN.search(out), (args, extra, out)


# --- 1. REINFORCE: advantages, returns and baselines beyond float64 ------------------------


def test_an_advantage_beyond_float64_times_log_1_is_0_not_nan():
    args = ["reinforce", "--rewards", "1e308", "--probs", "1", "--baseline", "-1e308"]
    data = _json(args)
    # A = 1e308 − (−1e308) = 2e308 overflows, but log π = log 1 = 0: the term is exactly 0.
    assert _number(data["value"]) == 0.0 and data["terms"] == [0.0]
    assert any("overflows" in w for w in data["warnings"])
    _no_nan_anywhere(args)


def test_reward_to_go_standardised_on_huge_rewards_is_finite():
    args = ["reinforce", "--rewards", "1e308,1e308", "--probs", "0.5,0.5"]
    args += ["--returns", "reward-to-go", "--normalize"]
    data = _json(args)
    # G = (2e308, 1e308): standardised, (G − mean) / std = (1/√2, −1/√2) as for G = (2, 1).
    a = 1 / math.sqrt(2)
    assert data["returns"] == [pytest.approx(a, rel=1e-12), pytest.approx(-a, rel=1e-12)]
    assert data["terms"] == [pytest.approx(a * LN2, rel=1e-12), pytest.approx(-a * LN2, rel=1e-12)]
    assert _number(data["value"]) == pytest.approx(0.0, abs=1e-12)
    small = _json(["reinforce", "--rewards", "1,1", "--probs", "0.5,0.5", *args[5:]])
    assert data["terms"] == pytest.approx(small["terms"], rel=1e-6)  # (+ eps: 1.2e−7 / 0.7)
    _no_nan_anywhere(args)


def test_a_mean_baseline_of_huge_returns_is_finite():
    args = ["reinforce", "--rewards", "1e308,1e308", "--probs", "0.5,0.5"]
    args += ["--returns", "reward-to-go", "--baseline", "mean"]
    data = _json(args)
    # G = (2e308, 1e308), b = 1.5e308, A = (5e307, −5e307).
    assert _number(data["baseline"]) == pytest.approx(1.5e308, rel=1e-12)
    assert data["returns"] == [pytest.approx(5e307, rel=1e-12), pytest.approx(-5e307, rel=1e-12)]
    assert data["terms"] == [
        pytest.approx(5e307 * LN2, rel=1e-12),
        pytest.approx(-5e307 * LN2, rel=1e-12),
    ]
    assert _number(data["value"]) == 0.0
    _no_nan_anywhere(args)


def test_a_term_of_an_overflowing_advantage_is_exact_where_float64_holds_it():
    args = ["reinforce", "--rewards", "1e308,1e308", "--probs", "0.5,0.9", "--baseline", "-1e308"]
    data = _json(args)
    # A = 2e308 twice: −A·ln 0.5 = 1.386e308 and −A·ln 0.9 = 2.107e307, both in range.
    assert data["terms"] == [
        pytest.approx(2 * (1e308 * LN2), rel=1e-12),
        pytest.approx(-2 * (1e308 * math.log(0.9)), rel=1e-12),
    ]
    _no_nan_anywhere(args)


def test_a_term_beyond_float64_is_infinite_honestly_never_nan():
    args = ["reinforce", "--rewards", "1e308", "--probs", "0.1", "--baseline", "-1e308"]
    data = _json(args)  # −2e308·ln 0.1 = 4.6e308: beyond float64
    assert data["value"] == "inf" and data["terms"] == ["inf"]
    assert any("term 1 (at [0]) is infinite" in w for w in data["warnings"])
    args = ["reinforce", "--rewards", "-1e308,0,-710", "--probs", "1,0.25,1"]
    data = _json([*args, "--baseline", "1e308"])  # A[0] = −2e308, times ln 1 = 0
    assert data["terms"][0] == 0.0
    assert _number(data["terms"][1]) == pytest.approx(-1e308 * math.log(4), rel=1e-12)
    _no_nan_anywhere([*args, "--baseline", "1e308"])


def test_equal_advantages_beyond_float64_standardise_to_0_not_nan():
    # A = G − 1.7e308 ≈ −2.7e308 at every step (the 1 is below float64's resolution there):
    # the standardised advantages are (A − mean) / (std + ε) = 0 / ε = 0, and std is 0.
    args = ["reinforce", "--rewards", "0,1,-1e308", "--probs", "0.25,1,1e-300"]
    args += ["--returns", "reward-to-go", "--baseline", "1.7e308", "--normalize"]
    data = _json(args)
    assert data["returns"] == [0.0, 0.0, 0.0] and data["terms"] == [0.0, 0.0, 0.0]
    _no_nan_anywhere(args)


def test_a_sum_with_an_infinite_term_is_that_infinity_not_nan():
    # Terms 1.18e308, 1.18e308 and −∞: numpy's sum overflows to ∞ first, then ∞ − ∞.
    args = ["reinforce", "--rewards", "1.7e308,1.7e308,-1", "--probs", "0.5,0.5,0"]
    data = _json(args)
    assert data["value"] == "-inf" and data["sum"] == "-inf" and data["mean"] == "-inf"
    assert data["objective"] == "inf"
    _no_nan_anywhere(args)


def test_a_sum_that_overflows_only_on_the_way_is_exact():
    # 1.7e308 + 1.7e308 − 1.7e308 = 1.7e308: in range, though the first addition is not.
    args = ["reinforce", "--rewards", "1.7e308,1.7e308,-1.7e308", "--log-probs", "-1,-1,-1"]
    data = _json(args)
    assert _number(data["value"]) == 1.7e308 and _number(data["objective"]) == -1.7e308
    assert data["warnings"] == []


def test_reinforce_core_never_gives_nan_on_extreme_rewards():
    rng = np.random.default_rng(10)
    extreme = np.array([1e308, -1e308, 1.7e308, -1.7e308, 0.0, 1.0, 5e-324, -710.0])
    for _ in range(2000):
        size = int(rng.integers(1, 5))
        rewards = rng.choice(extreme, size=size)
        probs = rng.choice(np.array([1.0, 0.5, 0.9, 1e-300, 0.25]), size=size)
        baseline = rng.choice(np.array([None, "mean", 1e308, -1e308, 0.0], dtype=object))
        options = {
            "returns": str(rng.choice(["as-given", "reward-to-go"])),
            "gamma": float(rng.choice([1.0, 0.5])),
            "baseline": baseline,
            "normalize": bool(size >= 2 and rng.integers(2)),
        }
        try:
            result = reinforce(rewards, probs, kind="probs", **options)
        except ValueError as exc:  # +∞ and −∞ terms at once: refused, not NaN
            assert "undefined" in str(exc)
            continue
        d = result.details
        for name, values in (
            ("terms", result.terms),
            ("advantages", d["advantages"]),
            ("returns", d["returns_before_baseline"]),
            ("sum", result.sum),
            ("baseline", 0.0 if d["baseline"] is None else d["baseline"]),
            ("std", 0.0 if d["std"] is None else d["std"]),
            ("objective", d["objective"]),
        ):
            assert not np.isnan(values).any(), (rewards, probs, options, name, values)


# --- 2. label smoothing beside logits ±1e308 --------------------------------------------------


def test_label_smoothing_beside_logits_a_float64_apart_is_the_exact_finite_value():
    data = _json(["cce", "--logits", "1e308,-1e308", "--target", "0", "--label-smoothing", "0.1"])
    # q = (0.95, 0.05), log p = (0, −2e308): −Σ q log p = 0.05 · 2e308 = 1e307 (by hand;
    # torch overflows log p to −∞ and gives ∞ here).
    assert _number(data["value"]) == pytest.approx(1e307, rel=1e-12)
    assert data["warnings"] == []
    data = _json(["cce", "--logits", "1e308,-1e308,-1e308", "--target", "2"])
    assert data["value"] == "inf"  # −log p = 2e308: beyond float64, honestly
    assert "beyond float64" in data["warnings"][0]


@pytest.mark.parametrize("scale", [1e300, 1e307, 5e307])  # torch sums every log p: < 6e307
def test_label_smoothing_of_huge_logits_matches_torch_where_torch_has_a_value(scale):
    torch = pytest.importorskip("torch")
    logits = f"{scale!r},{-scale!r},0"
    ours = _json(["cce", "--logits", logits, "--target", "0", "--label-smoothing", "0.1"])
    theirs = torch.nn.functional.cross_entropy(
        torch.tensor([[scale, -scale, 0.0]], dtype=torch.float64),
        torch.tensor([0]),
        label_smoothing=0.1,
    )
    assert math.isfinite(theirs.item())
    assert _number(ours["value"]) == pytest.approx(theirs.item(), rel=1e-12)


def test_a_log_beyond_float64_is_finite_in_another_log_base():
    # −log₁₀ p = 2e308 / ln 10 = 8.7e307: in range, though 2e308 nats are not.
    expected = 2 * (1e308 / math.log(10))
    data = _json(["nll", "--logits", "1e308,-1e308", "--target", "1", "--log-base", "10"])
    assert _number(data["value"]) == pytest.approx(expected, rel=1e-12)
    data = _json(["seq", "--logits", "1e308,-1e308;0,0", "--target", "1,0", "--log-base", "10"])
    assert _number(data["terms"][0]) == pytest.approx(expected, rel=1e-12)
    assert data["terms"][1] == pytest.approx(math.log10(2), rel=1e-12)


def test_the_working_shows_the_logarithm_that_the_term_used():
    text = _run(
        ["cce", "--logits", "1e308,-1e308", "--target", "0", "--label-smoothing", "0.1"]
    ).stdout
    assert "0.05·2·(−1e+308)" in text and "1e+307" in text  # not 0.05·ln(0) = 1e307
    text = _run(["cce", "--logits", "0,-800", "--target", "1"]).stdout
    assert "−(−800)" in text and "ln(0)" not in text


# --- 3. no stray numpy warnings ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "value"),
    [
        (["hinge", "--target", "0", "--scores", "1e308,-1e308"], 0.0),
        (["hinge", "--target", "1", "--scores", "1e308,-1e308"], math.inf),  # 1 + 2e308
        (["hinge", "--target", "0", "--scores", "1e308,-1e308", "--squared"], 0.0),
        (["hinge", "--target", "1", "--scores", "1e308,1,-1", "--squared"], math.inf),
        # (1 + 1e308 + 1e308) / C, C = 2: torch's multi_margin_loss divides by C.
        (["hinge", "--target", "1", "--scores", "1e308,-1e308", *WW], 1e308),
        # A sum beyond float64 whose mean over C = 3 is not.
        (["hinge", "--target", "1", "--scores", "1e308,-1e308,1e308", *WW], 4 * (1e308 / 3)),
        (["hinge", "--target", "2", "--scores", "0.5,-710,-1e308", *WW], None),
        (["hinge", "--target", "2", "--scores", "1e308,1,-1e308", *WW, "--squared"], math.inf),
    ],
)
def test_multi_class_hinge_of_scores_a_float64_apart_warns_nothing(args, value):
    data = _json(args)
    if value is not None:
        got = _number(data["value"])
        assert got == value if math.isinf(value) else got == pytest.approx(value, rel=1e-12)
    _no_nan_anywhere(args)


def test_multi_class_hinge_matches_torch_on_large_scores():
    torch = pytest.importorskip("torch")
    scores = [[1e307, -1e307, 3.0], [-5e306, 2.0, 5e306]]
    inline = ";".join(",".join(map(repr, row)) for row in scores)
    ours = _json(["hinge", "--target", "1,0", "--scores", inline, *WW, "--reduction", "none"])
    theirs = torch.nn.functional.multi_margin_loss(
        torch.tensor(scores, dtype=torch.float64), torch.tensor([1, 0]), reduction="none"
    )
    assert [_number(v) for v in ours["terms"]] == pytest.approx(theirs.tolist(), rel=1e-12)


@pytest.mark.parametrize(
    "args",
    [
        ["sequence", "--logits", "1e308,-1e308;0,0", "--target", "1,0"],
        ["sequence", "--logits", "0,-1e308;0,-1e308", "--target", "1,1", "--reduction", "mean"],
        ["sequence", "--logits", "1e308,1e308,1e-300;-1e308,-1,1", "--target", "2,0"],
        ["sequence", "--logits", "0,-1.7e308;0,-1.7e308", "--target", "1,1", "--log-base", "2"],
        ["cce", "--logits", "0,-1.7e308;0,0", "--target", "1,1", "--log-base", "2"],
        ["bce", "--logits", "-1.7e308,1.7e308", "--y", "1,0", "--log-base", "2"],
    ],
)
def test_cross_entropy_beyond_float64_warns_nothing(args):
    data = _json(args)
    assert all(not isinstance(t, float) or not math.isnan(t) for t in np.ravel(data["terms"]))
    _no_nan_anywhere(args)


def test_a_sum_of_finite_huge_tokens_keeps_its_mean():
    data = _json(["sequence", "--logits", "0,-1e308;0,-1e308", "--target", "1,1"])
    assert data["terms"] == [pytest.approx(1e308, rel=1e-12)] * 2
    assert data["value"] == "inf" and _number(data["mean"]) == pytest.approx(1e308, rel=1e-12)
    assert any("sum of the terms overflows" in w for w in data["warnings"])


@pytest.mark.parametrize(
    "args",
    [
        # The best path (Viterbi) adds log-probabilities of −1e308: −∞, a product below
        # every float64, and no overflow warning.
        ["ctc", "--label", "ba", "--alphabet", "-,a,b", "--logits", "-1e308,-710,1;1,1e308,1e308"],
        [
            "ctc",
            "--label",
            "ba",
            "--alphabet",
            "-,a,b",
            "--log-probs",
            "-inf,-1,-0.5;-1e308,-1,-1e308;-inf,-0.5,-1e308;-1,-1e308,-0.5",
        ],
        ["ctc", "--label", "ab", "--alphabet", "-,a,b", "--probs", "0,1,0;0,0,1", "--trellis"],
        ["ctc", "--label", "ab", "--alphabet", "-,a,b", "--probs", "1,0,0;0,1,0;0,0,1", "--grad"],
        ["ctc", "--label", "AB", "--probabilities", "A=0,B=0.5,-=0.5", "--frames", "4"],
    ],
)
def test_ctc_best_path_with_zeros_and_huge_logarithms_warns_nothing(args):
    _no_nan_anywhere(args)


# --- 4. the trellis shading of a subnormal beside values above 1 ------------------------------


def test_a_subnormal_cell_beside_values_above_1_is_shaded_not_a_crash():
    # Lecture values that sum to 2 make α reach 2 while the blank's cells hold 5e−324:
    # 5e−324 / 2 underflows to 0, and log10(0) was "math domain error".
    args = ["ctc", "--label", "AB", "--probabilities", "A=1,B=1,-=5e-324", "--frames", "3"]
    text = _run([*args, "--trellis"]).stdout
    assert "4.94e−324" in text and "Trellis" in text
    _run(["ctc", "--label", "AB", "--probabilities", "A=1,B=1,-=5e-324", "--alignment", "AAB"])
    assert _shade(5e-324, 2.0) == "grey42"
    assert _shade(0.0, 2.0) == "grey37"
    assert _shade(2.0, 2.0) == "bold yellow"
    assert _shade(math.inf, math.inf) == "bold yellow"


# --- 5. −∞ logits mask a class ------------------------------------------------------------------


def test_minus_infinity_logits_match_torch_cross_entropy(tmp_path):
    torch = pytest.importorskip("torch")
    logits = [[0.0, -math.inf, 1.0], [2.0, -math.inf, -math.inf], [-math.inf, 0.5, 0.25]]
    target = [0, 0, 2]
    theirs = torch.nn.functional.cross_entropy(
        torch.tensor(logits, dtype=torch.float64), torch.tensor(target), reduction="none"
    )
    inline = "0,-inf,1;2,−∞,-inf;-inf,0.5,0.25"
    for loss in ("cce", "nll"):
        ours = _json([loss, "--logits", inline, "--target", "0,0,2", "--reduction", "none"])
        assert ours["terms"] == pytest.approx(theirs.tolist(), rel=1e-12, abs=1e-15)
    path = write(
        tmp_path,
        "loss: cce\ntarget: [0, 0, 2]\nreduction: none\nlogits:\n"
        "  - [0, -.inf, 1]\n  - [2, -.inf, -.inf]\n  - [-.inf, 0.5, 0.25]\n",
    )
    assert _json(["cce", path])["terms"] == pytest.approx(theirs.tolist(), rel=1e-12, abs=1e-15)
    smoothed = torch.nn.functional.cross_entropy(
        torch.tensor([[0.0, 1.0, 2.0]], dtype=torch.float64),
        torch.tensor([1]),
        label_smoothing=0.2,
    )
    ours = _json(["cce", "--logits", "0,1,2", "--target", "1", "--label-smoothing", "0.2"])
    assert _number(ours["value"]) == pytest.approx(smoothed.item(), rel=1e-12)


def test_a_target_on_a_masked_class_is_infinite_with_a_warning():
    torch = pytest.importorskip("torch")
    data = _json(["cce", "--logits", "0,-inf,1", "--target", "1"])
    assert data["value"] == "inf"
    assert "probability 0" in data["warnings"][0]
    theirs = torch.nn.functional.cross_entropy(
        torch.tensor([[0.0, -math.inf, 1.0]], dtype=torch.float64), torch.tensor([1])
    )
    assert theirs.item() == math.inf
    # Label smoothing puts ε/C on the masked class: ∞ too, as torch has it.
    data = _json(["cce", "--logits", "0,-inf,1", "--target", "0", "--label-smoothing", "0.1"])
    assert data["value"] == "inf"
    _no_nan_anywhere(["cce", "--logits", "0,-inf,1", "--target", "1"])


@pytest.mark.parametrize(
    ("args", "key"),
    [
        (["cce", "--logits", "0,-inf,1;-inf,-inf,-inf", "--target", "0,1"], "--logits[1]"),
        (["nll", "--logits", "-inf,-inf", "--target", "0"], "--logits"),
        (["seq", "--logits", "0,-inf;-inf,-inf", "--target", "0,0"], "--logits[1]"),
        (["seq", "--logits", "0,1;1,2|0,0;-inf,-inf", "--target", "0,0;0,1"], "--logits[1][1]"),
        (["ctc", "--label", "a", "--alphabet", "-,a", "--logits", "0,0;-inf,-inf"], "--logits[1]"),
    ],
)
def test_a_row_of_logits_that_is_minus_infinity_everywhere_is_refused(args, key):
    result = _run(args, status=2)
    line = result.stderr.strip()
    assert line.startswith(f"rnnloss: {key}: ") and "−∞ everywhere" in line
    assert "softmax is undefined" in line and len(line.splitlines()) == 1


def test_a_row_of_logits_minus_infinity_everywhere_names_the_file_key(tmp_path):
    path = write(tmp_path, "loss: cce\ntarget: [0, 1]\nlogits: [[0, 1], [-.inf, -.inf]]\n")
    result = _run(["cce", path], status=2)
    assert f"{path}: logits[1]: is −∞ everywhere: softmax is undefined" in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["cce", "--logits", "0,inf", "--target", "0"],
        ["seq", "--logits", "0,1;inf,0", "--target", "0,0"],
        ["ctc", "--label", "a", "--alphabet", "-,a", "--logits", "0,0;0,inf"],
    ],
)
def test_plus_infinity_logits_are_refused_with_the_reason(args):
    line = _run(args, status=2).stderr.strip()
    assert "+∞ is not a logit softmax can take" in line and "mask a class with −∞" in line


def test_bce_infinite_logits_are_probabilities_0_and_1():
    torch = pytest.importorskip("torch")
    data = _json(["bce", "--logits", "-inf,-inf,inf,inf", "--y", "0,1,0,1", "--reduction", "none"])
    assert data["terms"] == [0.0, "inf", "inf", 0.0]
    same = _json(["bce", "--yhat", "0,0,1,1", "--y", "0,1,0,1", "--reduction", "none"])
    assert data["terms"] == same["terms"]
    # torch's binary_cross_entropy_with_logits gives nan for most infinite logits; its
    # limit, at logits of ∓1e300, agrees.
    theirs = torch.nn.functional.binary_cross_entropy_with_logits(
        torch.tensor([-1e300, 1e300], dtype=torch.float64),
        torch.tensor([0.0, 1.0], dtype=torch.float64),
        reduction="none",
    )
    assert theirs.tolist() == [0.0, 0.0]
    _no_nan_anywhere(["bce", "--logits", "-inf,-inf,inf,inf", "--y", "0,1,0.5,1"])


def test_minus_infinity_logits_in_a_sequence_match_torch():
    torch = pytest.importorskip("torch")
    logits = [[0.0, -math.inf, 1.0], [-math.inf, 2.0, 0.0], [0.5, 0.5, -math.inf]]
    theirs = torch.nn.functional.cross_entropy(
        torch.tensor(logits, dtype=torch.float64), torch.tensor([0, 1, 1]), reduction="none"
    )
    inline = "0,-inf,1;-inf,2,0;0.5,0.5,-inf"
    ours = _json(["seq", "--logits", inline, "--target", "0,1,1", "--reduction", "none"])
    assert ours["terms"] == pytest.approx(theirs.tolist(), rel=1e-12)


def test_minus_infinity_logits_in_ctc_match_torch():
    torch = pytest.importorskip("torch")
    logits = np.array([[0.0, -np.inf, 1.0], [2.0, 0.5, -np.inf], [-np.inf, -np.inf, 0.0]])
    log_probs = torch.log_softmax(torch.tensor(logits), dim=-1)
    theirs = torch.nn.functional.ctc_loss(
        log_probs, torch.tensor([1, 2]), torch.tensor(3), torch.tensor(2), reduction="sum"
    )
    inline = "0,-inf,1;2,0.5,-inf;-inf,-inf,0"
    data = _json(["ctc", "--label", "ab", "--alphabet", "-,a,b", "--logits", inline, "--grad"])
    assert _number(data["value"]) == pytest.approx(theirs.item(), rel=1e-12)
    _no_nan_anywhere(["ctc", "--label", "ab", "--alphabet", "-,a,b", "--logits", inline])


# --- 6. ctc_loss with the 0-d lengths of a batch of one -----------------------------------------


@pytest.mark.parametrize(
    "lengths",
    [(9, 3), (np.int64(9), np.int64(3)), (np.array(9), np.array(3))],
    ids=["int", "np.int64", "0-d array"],
)
@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
def test_ctc_loss_takes_0_d_lengths_for_a_batch_of_one_as_torch(lengths, reduction):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(6)
    log_probs = torch.log_softmax(torch.tensor(rng.normal(size=(9, 1, 5))), dim=-1)
    targets = np.array([[1, 2, 2]])
    theirs = torch.nn.functional.ctc_loss(
        log_probs, torch.tensor(targets), torch.tensor(9), torch.tensor(3), reduction=reduction
    )
    ours = ctc_loss(log_probs.numpy(), targets, *lengths, reduction=reduction)
    assert np.shape(ours) == tuple(theirs.shape)
    np.testing.assert_allclose(ours, theirs.numpy(), rtol=1e-12)
    losses, grad = ctc_loss_and_grad(log_probs.numpy(), targets, *lengths)
    assert losses.shape == (1,) and grad.shape == (9, 1, 5)
    # The unbatched (T, C) input takes 0-d lengths and, as torch, a (1, S) target.
    flat = ctc_loss(log_probs.numpy()[:, 0], targets, *lengths, reduction=reduction)
    np.testing.assert_allclose(flat, theirs.numpy().reshape(()), rtol=1e-12)


def test_0_d_lengths_stay_refused_for_a_batch_of_two():
    log_probs = np.log(np.full((4, 2, 3), 1 / 3))
    with pytest.raises(ValueError, match=r"input_lengths must have shape \(2,\)"):
        ctc_loss(log_probs, np.array([[1], [2]]), 4, 1)


# --- 6. sums of terms beyond float64 decided from their exact values (audit of issue 10) ----


def test_reinforce_terms_beyond_float64_of_opposite_signs_have_a_sum():
    # −1e308·(−1e308) = +1e616 and −(−1e308)·(−2) = −2e308: both overflow, their sum is
    # +1e616, beyond float64: a loss of +∞, not "undefined".
    args = ["reinforce", "--rewards", "1e308,-1e308", "--log-probs", "-1e308,-2"]
    data = _json(args)
    assert data["value"] == "inf" and data["sum"] == "inf" and data["objective"] == "-inf"
    assert data["terms"] == ["inf", "-inf"]
    assert any("term 1 = 1e+616, term 2 = −2e+308" in w for w in data["warnings"])
    text = _run(args).stdout
    assert "Σ = 1e+616 + (−2e+308) = 1e+616 (float64: ∞)" in text
    assert "−1e+308·(−1e+308)" in text  # log π written as the given −1e308, not ln(0)
    _no_nan_anywhere(args)


def test_reinforce_terms_beyond_float64_can_sum_to_a_finite_loss_exactly():
    # 2e308 − 1.5e308 − 1.5e308 = −1e308; and +2e308 − 2e308 + 5 = 5, exactly.
    args = ["reinforce", "--rewards", "1e308,-1e308,-1e308", "--log-probs", "-2,-1.5,-1.5"]
    data = _json(args)
    assert _number(data["value"]) == -1e308 and _number(data["objective"]) == 1e308
    data = _json(["reinforce", "--rewards", "1e308,-1e308,5", "--log-probs", "-2,-2,-1"])
    assert data["terms"] == ["inf", "-inf", 5.0] and data["value"] == 5.0
    mean = _json([*args, "--reduction", "mean"])
    assert _number(mean["value"]) == pytest.approx(-1e308 / 3, rel=1e-15)


@pytest.mark.parametrize(
    ("args", "key"),
    [
        (["reinforce", "--rewards", "1,-1", "--probs", "0,0"], "--probs"),
        (["reinforce", "--rewards", "1,-1", "--log-probs", "-inf,-inf"], "--log-probs"),
    ],
)
def test_truly_infinite_terms_of_both_signs_are_refused_naming_the_key(args, key):
    result = _run(args, status=2)
    [line] = result.stderr.splitlines()
    assert line.startswith(f"rnnloss: {key}: the actions at [0] and [1] have ")
    assert line.endswith("their terms are +∞ and −∞, and the sum is undefined")


def test_reinforce_sums_match_an_exact_oracle_on_extreme_values():
    from fractions import Fraction

    from rnnloss_cli.core.result import to_float

    rng = np.random.default_rng(6)
    extreme = np.array([1e308, -1e308, 1.7e308, -1.7e308, 1.0, -3.0, 5e-324, 0.0])
    logs = np.array([-1e308, -1.7e308, -2.0, -0.5, -1e-300, 0.0, -np.inf])
    for _ in range(3000):
        size = int(rng.integers(1, 6))
        rewards, log_probs = rng.choice(extreme, size=size), rng.choice(logs, size=size)
        true_infinite = {
            math.copysign(1.0, r)
            for r, lp in zip(rewards, log_probs, strict=True)
            if r and math.isinf(lp)
        }
        try:
            result = reinforce(rewards, log_probs, kind="log_probs")
        except ValueError as exc:
            assert len(true_infinite) == 2, (rewards, log_probs)
            assert "undefined" in str(exc)
            continue
        assert len(true_infinite) < 2
        if true_infinite:
            oracle = math.inf * true_infinite.pop()
        else:
            oracle = to_float(
                sum(
                    (
                        Fraction(float(term))
                        if math.isfinite(term)
                        else -Fraction(r) * Fraction(lp)
                        for term, r, lp in zip(result.terms, rewards, log_probs, strict=True)
                    ),
                    Fraction(0),
                )
            )
        assert result.sum == oracle, (rewards, log_probs, result.sum, oracle)
        assert result.details["objective"] == 0.0 - oracle


def test_mse_and_hinge_means_of_terms_beyond_float64_are_exact():
    data = _json(["mse", "--y", "2e154,0,0,0", "--yhat", "0,0,0,0"])
    assert data["sum"] == "inf" and _number(data["value"]) == pytest.approx(1e308, rel=1e-15)
    hinge = ["hinge", "--y", "1,1,1,1", "--yhat", "-1e308,0,0,0", "--margin", "1e308"]
    data = _json(hinge)  # (2e308 + 3e308) / 4 = 1.25e308
    assert data["sum"] == "inf" and _number(data["value"]) == pytest.approx(1.25e308, rel=1e-15)


def test_custom_weights_beyond_float64_of_opposite_signs_have_a_sum(tmp_path):
    def component(reward: float, weight: float, name: str) -> dict:
        return {
            "loss": "reinforce",
            "rewards": [reward],
            "log_probs": [-1e308],
            "weight": weight,
            "name": name,
        }

    path = write(
        tmp_path,
        {
            "loss": "custom",
            "terms": [
                component(1e308, 1e-310, "a"),  # 1e616 · 1e−310 = 1e306: finite once weighted
                component(-1e308, 0.5, "b"),  # −5e615
                component(1e308, 1.0, "c"),  # 1e616
            ],
        },
    )
    data = _json(["custom", path])
    assert data["value"] == "inf"  # 1e306 − 5e615 + 1e616 = 5e615: beyond float64, +∞
    assert _number(data["terms"][0]) == pytest.approx(1e306, rel=1e-13)  # 1e−310: subnormal
    text = _run(["custom", path]).stdout
    assert "Σ = 1e+306 + (−5e+615) + 1e+616 = 5e+615 (float64: ∞)" in text
    undefined = write(
        tmp_path,
        {
            "loss": "custom",
            "terms": [
                {"loss": "reinforce", "rewards": [1], "probs": [0], "weight": 1},
                {"loss": "reinforce", "rewards": [1], "probs": [0], "weight": -1},
            ],
        },
        "undefined.yaml",
    )
    result = _run(["custom", undefined], status=2)
    assert result.stderr.startswith(f"rnnloss: {undefined}: terms: the losses of [0] and [1]")
