"""Huber and KL divergence through the command line: random problem files against PyTorch
for every reduction and input form, the contract's JSON keys, bad input as one line naming
its key, answer keys worked under another reduction, templates, explain, the schema, a
custom problem of both, and the hostile inputs of the breaking session."""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

import numpy as np
import pytest
import yaml
from cli_helpers import invoke, write_problem

ROOT = Path(__file__).resolve().parent.parent
RTOL = 1e-9
# The contract (docs/problem-format.md §5): huber's JSON is as mse's, kl's as cce's.
CONTRACT_KEYS = [
    "loss",
    "title",
    "value",
    "reduction",
    "terms",
    "sum",
    "mean",
    "expected",
    "tolerance",
    "matches",
    "warnings",
]
KL_ALIASES = ("kl-divergence", "kldiv")


def _solve(args: list[str]) -> dict:
    """Run a command with --json; return the JSON of a solved problem (exit 0 or 1)."""
    result = invoke([*args, "--json"])
    assert result.exit_code in (0, 1), (result.exit_code, result.stdout, result.stderr)
    return json.loads(result.stdout)


def _float(value) -> float:
    return math.inf if value == "inf" else float(value)


def _floats(value) -> np.ndarray:
    """The JSON of a value or nested list of values as floats ("inf" as ∞)."""
    if isinstance(value, list):
        return np.array([_floats(v) for v in value], dtype=float)
    return np.array(_float(value))


def _relative_error(got: np.ndarray, want: np.ndarray) -> float:
    got, want = np.asarray(got, dtype=float), np.asarray(want, dtype=float)
    assert got.shape == want.shape, (got.shape, want.shape)
    scale = np.maximum(np.abs(want), np.finfo(float).tiny)
    return float(np.max(np.abs(got - want) / scale))


def _problem_file(folder: Path, name: str, problem: dict) -> str:
    # JSON is YAML, and Python's float repr round-trips: the file holds the exact doubles.
    return write_problem(folder, problem, name)


def _inline(values: np.ndarray) -> str:
    return ",".join(repr(float(v)) for v in values)  # repr round-trips a double


def _one_error_line(args: list[str], *needles: str) -> str:
    """Exit 2 and exactly one line on stderr, holding every needle; return the line."""
    result = invoke(args)
    assert result.exit_code == 2, (result.exit_code, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert "Traceback" not in result.stderr
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]


# --- against PyTorch, from problem files ------------------------------------------------


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_huber_files_agree_with_torch(seed, reduction, tmp_path):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(seed)
    shape = (int(rng.integers(1, 9)),) if seed % 2 else tuple(rng.integers(1, 5, size=2))
    y = rng.normal(scale=3, size=shape)
    yhat = y + rng.standard_cauchy(size=shape)  # some errors near 0, some far beyond δ
    delta = float(rng.choice([0.05, 0.5, 1.0, 2.5, 10.0]))
    path = _problem_file(
        tmp_path,
        "h.yaml",
        {
            "loss": "huber",
            "y": y.tolist(),
            "yhat": yhat.tolist(),
            "delta": delta,
            "reduction": reduction,
        },
    )
    data = _solve(["huber", path])
    reference = torch.nn.functional.huber_loss(
        torch.from_numpy(yhat), torch.from_numpy(y), reduction=reduction, delta=delta
    ).numpy()
    assert data["reduction"] == reduction
    assert _relative_error(_floats(data["value"]), reference) <= RTOL
    # The terms are torch's elementwise values, nested as the input is, whatever the reduction.
    elementwise = torch.nn.functional.huber_loss(
        torch.from_numpy(yhat), torch.from_numpy(y), reduction="none", delta=delta
    ).numpy()
    assert _relative_error(_floats(data["terms"]), elementwise) <= RTOL
    assert _float(data["sum"]) == pytest.approx(elementwise.sum(), rel=RTOL)
    assert _float(data["mean"]) == pytest.approx(elementwise.mean(), rel=RTOL)


def _distributions(rng: np.random.Generator, rows: int, classes: int) -> np.ndarray:
    """Probability rows, a few exact zeros among them (0·log 0 = 0 in the target)."""
    rows_ = rng.dirichlet(np.full(classes, 0.7), size=rows)
    zeros = rng.uniform(size=rows_.shape) < 0.15
    zeros[:, 0] = False  # every row keeps some weight
    rows_[zeros] = 0.0
    return rows_ / rows_.sum(axis=1, keepdims=True)


def _log_softmax(z: np.ndarray) -> np.ndarray:
    shifted = z - z.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


# PyTorch warns that its 'mean' is not the KL per observation: the tool says so too.
@pytest.mark.filterwarnings("ignore:reduction. 'mean' divides:UserWarning")
@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("reduction", ["sum", "mean", "batchmean", "none"])
@pytest.mark.parametrize("prediction", ["yhat", "log_probs"])
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_files_agree_with_torch(seed, reduction, prediction, log_target, tmp_path):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    rng = np.random.default_rng(1000 + seed)
    rows, classes = int(rng.integers(1, 7)), int(rng.integers(2, 6))
    predicted = rng.dirichlet(np.ones(classes), size=rows)
    log_predicted = _log_softmax(rng.normal(scale=2, size=(rows, classes)))
    if log_target:
        # Finite log-probabilities: PyTorch gives NaN for a target of exactly −∞.
        y = _log_softmax(rng.normal(scale=2, size=(rows, classes)))
    else:
        y = _distributions(rng, rows, classes)
    problem = {"loss": "kl", "y": y.tolist(), "reduction": reduction, "log_target": log_target}
    if prediction == "yhat":
        problem["yhat"] = predicted.tolist()
        torch_input = torch.log(torch.from_numpy(predicted))
    else:
        problem["log_probs"] = log_predicted.tolist()
        torch_input = torch.from_numpy(log_predicted)
    data = _solve(["kl", _problem_file(tmp_path, "k.yaml", problem)])

    assert data["reduction"] == reduction
    target = torch.from_numpy(y)
    elementwise = F.kl_div(torch_input, target, reduction="none", log_target=log_target)
    per_row = elementwise.sum(dim=1).numpy()
    # terms: one per row, PyTorch's elementwise terms summed over the classes.
    assert _relative_error(_floats(data["terms"]), per_row) <= RTOL
    if reduction == "none":
        assert _relative_error(_floats(data["value"]), per_row) <= RTOL
    else:
        reference = F.kl_div(torch_input, target, reduction=reduction, log_target=log_target)
        assert _float(data["value"]) == pytest.approx(reference.item(), rel=RTOL)
    assert _float(data["sum"]) == pytest.approx(per_row.sum(), rel=RTOL)
    assert _float(data["mean"]) == pytest.approx(per_row.mean(), rel=RTOL)  # per row, always


def test_kl_single_row_batchmean_is_its_sum_where_torch_divides_by_classes(tmp_path):
    # A 1-D y is one observation: batchmean = sum / 1. F.kl_div divides a 1-D input by its
    # first dimension, the class count; the tool matches torch on the row as a 1 × C batch.
    torch = pytest.importorskip("torch")
    y, yhat = np.array([0.7, 0.2, 0.1]), np.array([0.5, 0.3, 0.2])
    path = _problem_file(
        tmp_path, "k.yaml", {"loss": "kl", "y": y.tolist(), "yhat": yhat.tolist(),
                             "reduction": "batchmean"}
    )  # fmt: skip
    data = _solve(["kl", path])
    as_batch = torch.nn.functional.kl_div(
        torch.log(torch.from_numpy(yhat))[None], torch.from_numpy(y)[None], reduction="batchmean"
    )
    assert data["value"] == pytest.approx(as_batch.item(), rel=RTOL)
    assert data["value"] == pytest.approx(data["sum"], rel=RTOL)
    assert len(data["terms"]) == 1


def test_inline_flags_and_aliases_agree_with_files(tmp_path):
    inline = _solve(["huber", "--y", "1,2", "--yhat", "1.5,4", "--delta", "1"])
    # d = 0.5, 2 with δ = 1: ½·0.25 = 0.125 and 1·(2 − 0.5) = 1.5; mean 0.8125
    assert inline["terms"] == [0.125, 1.5] and inline["value"] == 0.8125
    assert _solve(["smooth-l1", "--y", "1,2", "--yhat", "1.5,4"])["value"] == 0.8125
    log_y = np.log([0.7, 0.2, 0.1])
    log_p = np.log([0.5, 0.3, 0.2])
    args = ["--y", _inline(log_y), "--log-probs", _inline(log_p)]
    by_hand = 0.7 * math.log(0.7 / 0.5) + 0.2 * math.log(0.2 / 0.3) + 0.1 * math.log(0.1 / 0.2)
    for command in ("kl", *KL_ALIASES):
        data = _solve([command, *args, "--log-target"])
        assert data["loss"] == "kl"
        assert data["value"] == pytest.approx(by_hand, rel=RTOL)
    path = write_problem(tmp_path, {"loss": "kldiv", "y": [0.7, 0.2, 0.1], "yhat": [0.5, 0.3, 0.2]})
    assert _solve(["solve", path])["results"][0]["result"]["value"] == pytest.approx(
        by_hand, rel=RTOL
    )


# --- the JSON keys ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "path"),
    [("huber", "problems/huber_delivery.yaml"), ("kl", "problems/kl_distillation.yaml")],
)
def test_json_keys_are_the_contracts(command, path):
    data = _solve([command, str(ROOT / path)])
    # kl, as cce, takes a logarithm and says its base (contract §1: log_base for every
    # loss that takes a logarithm); huber, as mse, has none.
    expected = (
        CONTRACT_KEYS
        if command == "huber"
        else [*CONTRACT_KEYS[:4], "log_base", *CONTRACT_KEYS[4:]]
    )
    assert list(data) == expected
    assert data["loss"] == command and data["matches"] is True
    assert data["expected"] is not None and data["tolerance"] is not None


def test_bundled_problems_give_their_hand_worked_values():
    huber = _solve(["huber", str(ROOT / "problems/huber_delivery.yaml")])
    assert huber["terms"] == [2.0, 0.5, 0.5, 62.5]
    assert huber["sum"] == 65.5 and huber["value"] == 16.375
    kl = _solve(["kl", str(ROOT / "problems/kl_distillation.yaml")])
    assert kl["reduction"] == "batchmean"
    assert kl["value"] == pytest.approx(0.0883195, abs=5e-8)
    assert kl["terms"] == pytest.approx([0.0851228, 0.0915162], abs=5e-8)


# --- bad input: exit 2, one line naming the key ------------------------------------------

HUBER = {"loss": "huber", "y": [1.0, 2.0], "yhat": [1.5, 4.0]}
KL = {"loss": "kl", "y": [[0.7, 0.2, 0.1]], "yhat": [[0.5, 0.3, 0.2]]}


@pytest.mark.parametrize(
    ("problem", "needles"),
    [
        ({**HUBER, "delta": 0}, ["delta", "> 0", "got 0"]),
        ({**HUBER, "delta": -1.5}, ["delta", "> 0", "1.5"]),
        ("loss: huber\ny: [1]\nyhat: [2]\ndelta: .inf\n", ["delta", "infinity"]),
        ({**HUBER, "delta": "wide"}, ["delta", "'wide'", "not a number"]),
        ({**HUBER, "yhat": [1.0, 2.0, 3.0]}, ["yhat", "y has 2 values", "yhat has 3"]),
        ({**HUBER, "reduction": "batchmean"}, ["reduction", "mean, sum, none", "batchmean"]),
        ({**HUBER, "deltta": 2}, ["deltta", "unknown key", "'delta'"]),
        ({**HUBER, "reduction": "none", "expected": 1}, ["expected", "reduction none"]),
        ({"loss": "kl", "y": [[0.5, 0.5]]}, ["yhat", "log_probs", "missing"]),
        ({**KL, "log_probs": [[-1.0, -1.0, -1.0]]}, ["log_probs", "not both"]),
        ({**KL, "y": [[1.2, -0.1, -0.1]]}, ["y[0][0]", "1.2", "[0, 1]"]),
        ({**KL, "y": [[0.7, 0.2, -0.1]]}, ["y[0][2]", "[0, 1]"]),
        (
            {**KL, "y": [[-0.5, 0.25, -2.0]], "log_target": True},
            ["y[0][1]", "log_target", "0.25"],
        ),
        ({**KL, "classes": ["a", "b"]}, ["classes", "2 classes", "3 values"]),
        ({**KL, "yhat": [[0.5, 0.5]]}, ["yhat", "shapes disagree"]),
        ({**KL, "reduction": "average"}, ["reduction", "batchmean", "'average'"]),
        ({**KL, "reduction": "none", "expected": 0.1}, ["expected", "reduction none"]),
        ({**KL, "log_base": 3}, ["log_base", "e, 2, 10", "got 3"]),
        ({**KL, "y": [[[0.5, 0.5]]], "yhat": [[[0.5, 0.5]]]}, ["y[0][0]", "nested"]),
    ],
)
@pytest.mark.parametrize("route", ["command", "solve"])
def test_bad_input_is_exit_2_and_one_line_naming_the_key(problem, needles, route, tmp_path):
    path = write_problem(tmp_path, problem)
    loss = "huber" if "huber" in str(problem) else "kl"
    args = [loss, path] if route == "command" else ["solve", path]
    _one_error_line(args, path, *needles)


@pytest.mark.parametrize(
    ("args", "flag"),
    [
        (["huber", "--y", "1,2", "--yhat", "1,2", "--delta", "0"], "--delta"),
        (["huber", "--y", "1,2", "--yhat", "1,2", "--reduction", "batchmean"], "--reduction"),
        (["kl", "--y", "0.5,0.5", "--log-probs", "0.5,-1"], "--log-probs[0]"),
        (["kl", "--y", "0.7,0.2,0.1", "--log-probs", "-1,-1,-1", "--log-target"], "--y[0]"),
    ],
)
def test_bad_inline_flags_are_one_line_naming_the_flag(args, flag):
    _one_error_line(args, flag)


# --- an answer key worked under another reduction ---------------------------------------


def test_a_kl_key_equal_to_the_batchmean_says_so_under_sum(tmp_path):
    path = write_problem(tmp_path, {**KL_TWO_ROWS, "reduction": "sum", "expected": 0.0883195})
    result = invoke(["kl", path, "--json"])
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["matches"] is False
    assert [r["settings"] for r in data["matches_instead"]] == [{"reduction": "batchmean"}]
    assert data["matches_instead"][0]["value"] == pytest.approx(0.0883195, abs=5e-8)
    text = invoke(["kl", path]).stdout
    assert "reduction: batchmean" in text and "the sum ÷ 2 rows" in text


def test_a_kl_key_equal_to_torchs_mean_says_so_under_batchmean(tmp_path):
    path = write_problem(tmp_path, {**KL_TWO_ROWS, "reduction": "batchmean", "expected": 0.02944})
    data = json.loads(invoke(["kl", path, "--json"]).stdout)
    assert [r["settings"] for r in data["matches_instead"]] == [{"reduction": "mean"}]
    assert "6 elements" in data["matches_instead"][0]["what"]


def test_a_huber_key_equal_to_the_sum_says_so_under_mean(tmp_path):
    problem = yaml.safe_load((ROOT / "problems/huber_delivery.yaml").read_text(encoding="utf-8"))
    path = write_problem(tmp_path, {**problem, "expected": 65.5})
    result = invoke(["huber", path, "--json"])
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["value"] == 16.375 and data["matches"] is False
    assert [r["settings"] for r in data["matches_instead"]] == [{"reduction": "sum"}]
    assert "reduction: sum" in invoke(["huber", path]).stdout


def test_a_single_kl_row_names_an_equal_reading_once(tmp_path):
    # One row: the batchmean is the sum. A key equal to both is told one setting, once.
    problem = {"loss": "kl", "y": [0.7, 0.2, 0.1], "yhat": [0.5, 0.3, 0.2]}
    path = write_problem(tmp_path, {**problem, "reduction": "mean", "expected": 0.0851228})
    data = json.loads(invoke(["kl", path, "--json"]).stdout)
    assert [r["settings"] for r in data["matches_instead"]] == [{"reduction": "sum"}]
    assert "but it matches" in invoke(["kl", path]).stdout
    assert invoke(["kl", path]).stdout.count("but it matches") == 1


def test_kl_totals_say_one_row_not_one_rows():
    text = invoke(["kl", "--y", "1", "--yhat", "1"]).stdout
    assert "/ 1 row =" in text and "/ 1 element =" in text
    assert "1 rows" not in text and "1 elements" not in text


KL_TWO_ROWS = {
    "loss": "kl",
    "y": [[0.7, 0.2, 0.1], [0.1, 0.8, 0.1]],
    "yhat": [[0.5, 0.3, 0.2], [0.2, 0.6, 0.2]],
}


# --- templates, explain, schema -----------------------------------------------------------


@pytest.mark.parametrize("loss", ["huber", "kl"])
def test_the_template_solves_as_it_stands_and_matches(loss, tmp_path):
    template = invoke(["new", loss])
    assert template.exit_code == 0
    assert f"loss: {loss}" in template.stdout and "expected:" in template.stdout
    path = write_problem(tmp_path, template.stdout, f"{loss}.yaml")
    data = _solve([loss, path])
    assert data["matches"] is True, data
    assert data["expected"] is not None


def test_explain_huber_names_its_limits():
    result = invoke(["explain", "huber"])
    assert result.exit_code == 0
    text = " ".join(result.stdout.split())  # the terminal wraps lines
    assert "MSE/2" in text and "δ × MAE" in text
    assert "smooth-l1" in text and "huber_loss" in text


def test_explain_kl_says_kl_is_cross_entropy_minus_entropy():
    result = invoke(["explain", "kl-divergence"])
    assert result.exit_code == 0
    text = " ".join(result.stdout.split())
    assert "H(y, ŷ) − H(y)" in text
    assert "cross-entropy minus the target's entropy" in text
    assert "batchmean" in text


def test_the_workings_say_the_same():
    huber = " ".join(invoke(["huber", str(ROOT / "problems/huber_delivery.yaml")]).stdout.split())
    assert "MSE/2" in huber and "δ × MAE" in huber
    kl = " ".join(invoke(["kl", str(ROOT / "problems/kl_distillation.yaml")]).stdout.split())
    assert "H(y, ŷ) − H(y): the cross-entropy minus the target's own entropy" in kl


def _schema_validator():
    jsonschema = pytest.importorskip("jsonschema")
    result = invoke(["schema"])
    assert result.exit_code == 0
    return jsonschema.Draft202012Validator(json.loads(result.stdout))


@pytest.mark.parametrize(
    ("path", "bad_reduction"),
    [("problems/huber_delivery.yaml", "batchmean"), ("problems/kl_distillation.yaml", "average")],
)
def test_the_schema_takes_the_bundled_problem_and_refuses_a_bad_reduction(path, bad_reduction):
    validator = _schema_validator()
    problem = yaml.safe_load((ROOT / path).read_text(encoding="utf-8"))
    assert not [e.message for e in validator.iter_errors(problem)]
    errors = [e.message for e in validator.iter_errors({**problem, "reduction": bad_reduction})]
    assert any(repr(bad_reduction) in message for message in errors), errors


def test_the_schema_refuses_delta_zero_and_takes_kl_batchmean():
    validator = _schema_validator()
    assert list(validator.iter_errors({**HUBER, "delta": 0}))
    assert not list(validator.iter_errors({**KL, "reduction": "batchmean", "log_target": False}))


# --- custom problems of huber and kl terms -------------------------------------------------


def test_a_custom_problem_of_a_huber_and_a_kl_term(tmp_path):
    log_p = np.log([[0.5, 0.3, 0.2], [0.2, 0.6, 0.2]]).tolist()
    problem = {
        "loss": "custom",
        "terms": [
            {
                "loss": "smooth-l1",
                "name": "regression",
                "y": [30, 25, 40, 35],
                "yhat": [28, 26, 41, 50],
                "delta": 5,
                "weight": 0.5,
            },
            {
                "loss": "kl",
                "name": "distill",
                "y": KL_TWO_ROWS["y"],
                "log_probs": log_p,
                "reduction": "batchmean",
                "weight": 2,
            },
        ],
        "expected": 8.364139,
    }
    data = _solve(["custom", write_problem(tmp_path, problem)])
    huber, kl = data["components"]
    assert huber["loss"] == "huber" and huber["value"] == 16.375 and huber["weight"] == 0.5
    assert huber["contribution"] == pytest.approx(8.1875, rel=RTOL)
    assert kl["loss"] == "kl" and kl["reduction"] == "batchmean" and kl["weight"] == 2.0
    assert kl["value"] == pytest.approx(0.0883195239, rel=1e-9)
    assert kl["contribution"] == pytest.approx(2 * kl["value"], rel=RTOL)
    assert data["terms"] == pytest.approx([8.1875, 2 * kl["value"]], rel=RTOL)
    assert data["value"] == pytest.approx(8.1875 + 2 * kl["value"], rel=RTOL)
    assert data["matches"] is True


# --- hostile input -------------------------------------------------------------------------


def test_kl_zero_prediction_under_weight_is_infinite_with_a_warning_never_nan():
    for args in (["--yhat", "0,1"], ["--log-probs=-inf,0"]):
        result = invoke(["kl", "--y", "0.5,0.5", *args, "--json"])
        assert result.exit_code == 0 and "NaN" not in result.stdout
        data = json.loads(result.stdout)
        assert data["value"] == "inf" and data["terms"] == ["inf"]
        assert any("class 0" in w and "probability 0" in w for w in data["warnings"])


@pytest.mark.parametrize(
    "args",
    [
        ["--y", "0,1", "--yhat", "0,1"],
        ["--y", "0,1", "--log-probs=-inf,0"],
        ["--y=-inf,0", "--log-probs=-inf,0", "--log-target"],  # PyTorch: NaN
    ],
)
def test_kl_zero_target_where_the_prediction_is_zero_is_zero(args):
    data = _solve(["kl", *args])
    assert data["value"] == 0.0 and not data["warnings"]


def test_huber_beyond_float64_is_inf_with_the_exact_sum_named():
    data = _solve(["huber", "--y=1e308,-1e308", "--yhat=-1e308,1e308"])
    assert data["value"] == "inf" and data["terms"] == ["inf", "inf"]
    assert any("4e+308" in w for w in data["warnings"])  # the exact sum, said in words


def test_huber_subnormal_and_tiny_delta_are_exact():
    # d = 1e−320 (subnormal): ½·d² underflows to 0, as in float64 arithmetic anywhere.
    assert _solve(["huber", "--y=5e-324,0", "--yhat=0,1e-320"])["terms"] == [0.0, 0.0]
    # δ = 1e−300, d = 1e308: δ·(|d| − δ/2) = 1e8.
    assert _solve(["huber", "--y", "1e308", "--yhat", "0", "--delta", "1e-300"])["value"] == 1e8


def test_a_10000_row_kl_problem_is_quick_and_one_screenful(tmp_path):
    rng = np.random.default_rng(7)
    y = np.round(rng.dirichlet(np.ones(4), size=10_000), 3)
    yhat = np.round(rng.dirichlet(np.ones(4), size=10_000), 3)
    y[:, -1] = np.clip(1 - y[:, :-1].sum(axis=1), 0, 1)
    yhat = np.clip(yhat, 1e-3, 1)
    path = write_problem(tmp_path, {"loss": "kl", "y": y.tolist(), "yhat": yhat.tolist()})
    start = time.perf_counter()
    data = _solve(["kl", path])
    elapsed = time.perf_counter() - start
    assert len(data["terms"]) == 10_000
    assert elapsed < 5.0  # mostly reading 10,000 rows of YAML; the KL itself takes ms
    text = invoke(["kl", path]).stdout
    assert len(text.splitlines()) < 130  # rows elided, warnings capped
    assert "10,000 rows" in text and "⋮" in text


@pytest.mark.parametrize("width", [40, 60])
@pytest.mark.parametrize("path", ["problems/huber_delivery.yaml", "problems/kl_distillation.yaml"])
def test_narrow_terminals_keep_every_line_within_the_width(path, width):
    result = invoke(["solve", str(ROOT / path)], env={"COLUMNS": str(width)})
    assert result.exit_code == 0
    assert max(len(line) for line in result.stdout.splitlines()) <= width


@pytest.mark.filterwarnings("ignore:reduction. 'mean' divides:UserWarning")  # torch's own
@pytest.mark.parametrize("base", ["2", "10"])
@pytest.mark.parametrize("reduction", ["sum", "mean", "batchmean"])
def test_kl_in_another_log_base_is_torchs_divided_by_its_log(tmp_path, base, reduction):
    torch = pytest.importorskip("torch")
    import math

    rng = np.random.default_rng(int(base) + len(reduction))
    y = rng.dirichlet(np.ones(4), size=3)
    p = rng.dirichlet(np.ones(4), size=3)
    problem = {"loss": "kl", "y": y.tolist(), "yhat": p.tolist(), "reduction": reduction}
    path = write_problem(tmp_path, {**problem, "log_base": base})
    data = _solve(["kl", str(path), "--grad"])
    yt = torch.tensor(y, dtype=torch.float64)
    pt = torch.tensor(p, dtype=torch.float64, requires_grad=True)
    loss = torch.nn.functional.kl_div(pt.log(), yt, reduction=reduction) / math.log(float(base))
    loss.backward()
    assert data["log_base"] == base
    assert data["value"] == pytest.approx(loss.item(), rel=1e-9)
    np.testing.assert_allclose(np.array(data["grad"]), pt.grad.numpy(), rtol=1e-9, atol=1e-12)
