"""`grad: true` on the sequence losses (sequence cross-entropy, REINFORCE, CTC) and on a
custom loss's terms: the gradient of the headline value, its reduction and log base
included, with respect to the prediction input as given — checked against PyTorch's
autograd (float64) and against central finite differences, in every output format."""

from __future__ import annotations

import itertools
import json
import math
from typing import Any

import numpy as np
import pytest
from cli_helpers import invoke, write_problem
from hypothesis import given, settings
from hypothesis import strategies as st

from rnnloss_cli.core import sequence_grad
from rnnloss_cli.problems import validate
from rnnloss_cli.solver import solve

torch = pytest.importorskip("torch")
F = torch.nn.functional

REL, ABS = 1e-9, 1e-12
LN = {"e": 1.0, "2": math.log(2.0), "10": math.log(10.0)}
WORST: dict[str, float] = {}  # the largest relative error seen per loss (printed with -s)


def close(ours: np.ndarray, reference: np.ndarray, loss: str) -> None:
    """Assert agreement within 1e-9 relative (1e-12 absolute near 0), and record the worst."""
    ours, reference = np.asarray(ours, dtype=float), np.asarray(reference, dtype=float)
    assert ours.shape == reference.shape
    assert np.isfinite(ours).all()
    scale = np.maximum(np.abs(reference), 1e-300)
    big = np.abs(reference) > 1e-3
    if big.any():
        worst = float(np.max(np.abs(ours - reference)[big] / scale[big]))
        WORST[loss] = max(WORST.get(loss, 0.0), worst)
    np.testing.assert_allclose(ours, reference, rtol=REL, atol=ABS)


def solved(data: dict[str, Any]) -> Any:
    """Return the solution of a problem given as a mapping, with its gradient."""
    return solve(validate({**data, "grad": True}))


# --- sequence cross-entropy -------------------------------------------------------------


def _sequence_case(kind: str, padded: bool, seed: int) -> tuple[dict[str, Any], np.ndarray]:
    rng = np.random.default_rng(seed)
    batch, steps, classes = 2, 4, 5
    logits = rng.normal(scale=2.0, size=(batch, steps, classes))
    target = rng.integers(1, classes, size=(batch, steps))
    if padded:
        target[0, 3] = target[1, 2] = target[1, 3] = 0  # 0 is the padding class
    log_probs = logits - np.log(np.exp(logits).sum(axis=2, keepdims=True))
    given_ = {"logits": logits, "log_probs": log_probs, "yhat": np.exp(log_probs)}[kind]
    data = {"loss": "sequence", "target": target.tolist(), kind: given_.tolist()}
    if padded:
        data["ignore_index"] = 0
    return data, given_


def torch_sequence(
    kind: str, given_: np.ndarray, target: np.ndarray, ignore: int | None, reduction: str, base: str
) -> np.ndarray:
    x = torch.tensor(given_, dtype=torch.float64, requires_grad=True)
    classes = given_.shape[-1]
    flat = x.reshape(-1, classes)
    tgt = torch.tensor(target.reshape(-1))
    ignore_index = -100 if ignore is None else ignore
    torch_reduction = "sum" if reduction == "none" else reduction
    if kind == "logits":
        loss = F.cross_entropy(flat, tgt, ignore_index=ignore_index, reduction=torch_reduction)
    else:
        lp = flat if kind == "log_probs" else torch.log(flat)
        loss = F.nll_loss(lp, tgt, ignore_index=ignore_index, reduction=torch_reduction)
    (loss / LN[base]).backward()
    return x.grad.numpy()


@pytest.mark.parametrize(
    ("kind", "reduction", "base", "padded"),
    list(
        itertools.product(
            ("logits", "log_probs", "yhat"), ("sum", "mean", "none"), ("e", "2", "10"), (0, 1)
        )
    ),
)
def test_sequence_matches_torch(kind: str, reduction: str, base: str, padded: int) -> None:
    data, given_ = _sequence_case(kind, bool(padded), seed=len(kind) + padded)
    solution = solved({**data, "reduction": reduction, "log_base": base})
    gradient = solution.gradient
    assert gradient.wrt == kind
    reference = torch_sequence(
        kind, given_, np.array(data["target"]), 0 if padded else None, reduction, base
    )
    close(gradient.values, reference, "sequence")
    if padded:  # the padded steps have no gradient at all
        assert not gradient.values[0, 3].any() and not gradient.values[1, 2:].any()


def test_sequence_single_sequence_keeps_the_given_shape() -> None:
    data = {"loss": "sequence", "target": [1, 2], "yhat": [[0.1, 0.7, 0.2], [0.2, 0.2, 0.6]]}
    gradient = solved(data).gradient
    assert gradient.values.shape == (2, 3)
    np.testing.assert_allclose(gradient.values, [[0, -1 / 0.7, 0], [0, 0, -1 / 0.6]])


# --- REINFORCE ----------------------------------------------------------------------------

FLOAT32_EPS = float(np.finfo(np.float32).eps)


def torch_reinforce(
    kind: str,
    given_: np.ndarray,
    rewards: np.ndarray,
    *,
    gamma: float,
    returns: str,
    baseline: Any,
    normalize: bool,
    reduction: str,
    base: str,
) -> np.ndarray:
    """The gradient of PyTorch's REINFORCE loss: the advantages built from the rewards
    without a graph (as `.detach()` does), the log-probabilities a leaf or log(probs)."""
    with torch.no_grad():
        r = torch.tensor(rewards, dtype=torch.float64)
        g = r.clone()
        if returns == "reward-to-go":
            running = torch.tensor(0.0, dtype=torch.float64)
            for t in range(len(r) - 1, -1, -1):
                running = r[t] + gamma * running
                g[t] = running
        a = g
        if baseline is not None:
            a = a - (g.mean() if baseline == "mean" else baseline)
        if normalize:
            a = (a - a.mean()) / (a.std() + FLOAT32_EPS)
    x = torch.tensor(given_, dtype=torch.float64, requires_grad=True)
    log_pi = x if kind == "log_probs" else torch.log(x)
    loss = -(a * log_pi).sum() / LN[base]
    if reduction == "mean":
        loss = loss / len(rewards)
    loss.backward()
    return x.grad.numpy()


REINFORCE_VARIANTS = [
    # returns, gamma, baseline, normalize
    ("as-given", 1.0, None, False),
    ("reward-to-go", 0.9, None, False),
    ("reward-to-go", 0.9, 0.5, False),
    ("reward-to-go", 0.8, "mean", False),
    ("as-given", 1.0, "mean", True),
    ("reward-to-go", 0.95, 0.25, True),
]


@pytest.mark.parametrize(
    ("kind", "reduction", "base", "variant"),
    list(
        itertools.product(
            ("probs", "log_probs"),
            ("sum", "mean", "none"),
            ("e", "2", "10"),
            range(len(REINFORCE_VARIANTS)),
        )
    ),
)
def test_reinforce_matches_torch(kind: str, reduction: str, base: str, variant: int) -> None:
    returns, gamma, baseline, normalize = REINFORCE_VARIANTS[variant]
    rng = np.random.default_rng(variant)
    rewards = rng.normal(size=5)
    probs = rng.uniform(0.05, 0.95, size=5)
    given_ = probs if kind == "probs" else np.log(probs)
    data: dict[str, Any] = {
        "loss": "reinforce",
        "rewards": rewards.tolist(),
        kind: given_.tolist(),
        "returns": returns,
        "gamma": gamma,
        "normalize": normalize,
        "reduction": reduction,
        "log_base": base,
    }
    if baseline is not None:
        data["baseline"] = baseline
    gradient = solved(data).gradient
    assert gradient.wrt == kind  # given probs, the gradient is with respect to probs
    reference = torch_reinforce(
        kind,
        given_,
        rewards,
        gamma=gamma,
        returns=returns,
        baseline=baseline,
        normalize=normalize,
        reduction=reduction,
        base=base,
    )
    close(gradient.values, reference, "reinforce")


def test_reinforce_zero_probability_and_zero_advantage_is_zero_not_nan() -> None:
    data = {"loss": "reinforce", "rewards": [0.0, 1.0], "probs": [0.0, 0.5]}
    gradient = solved(data).gradient
    assert gradient.values.tolist() == [0.0, -2.0]
    assert gradient.notes  # the 0·log 0 convention is said


# --- CTC ------------------------------------------------------------------------------------

ALPHABET = ["-", "a", "b", "c"]


def torch_ctc_nll(log_probs: Any, label: list[int], blank: int = 0) -> Any:
    """−ln p(label) by the forward recursion in log space, differentiable (PyTorch's
    `ctc_loss` backward is not the partial derivative with respect to log_probs)."""
    states = [blank]
    for symbol in label:
        states += [symbol, blank]
    size = len(states)
    # A finite stand-in for −∞: logsumexp of −∞ alone has a NaN gradient.
    minus_inf = torch.tensor(-1e30, dtype=torch.float64)
    alpha = [minus_inf] * size
    alpha[0] = log_probs[0, states[0]]
    if size > 1:
        alpha[1] = log_probs[0, states[1]]
    for t in range(1, log_probs.shape[0]):
        new = []
        for s in range(size):
            sources = [alpha[s]]
            if s >= 1:
                sources.append(alpha[s - 1])
            if s >= 2 and states[s] != blank and states[s] != states[s - 2]:
                sources.append(alpha[s - 2])
            new.append(torch.logsumexp(torch.stack(sources), 0) + log_probs[t, states[s]])
        alpha = new
    ends = alpha[-2:] if size > 1 else alpha[-1:]
    return -torch.logsumexp(torch.stack(ends), 0)


def _ctc_case(kind: str, seed: int, frames: int = 5) -> tuple[dict[str, Any], np.ndarray]:
    rng = np.random.default_rng(seed)
    logits = rng.normal(scale=1.5, size=(frames, len(ALPHABET)))
    log_probs = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    given_ = {"logits": logits, "log_probs": log_probs, "probs": np.exp(log_probs)}[kind]
    label = ["a", "b", "b"] if seed % 2 else ["c", "a"]
    data = {"loss": "ctc", "label": label, "alphabet": ALPHABET, kind: given_.tolist()}
    return data, given_


@pytest.mark.parametrize(
    ("kind", "reduction", "base", "seed"),
    list(
        itertools.product(
            ("logits", "log_probs", "probs"), ("sum", "mean"), ("e", "2", "10"), (1, 2)
        )
    ),
)
def test_ctc_matches_torch(kind: str, reduction: str, base: str, seed: int) -> None:
    data, given_ = _ctc_case(kind, seed)
    solution = solved({**data, "reduction": reduction, "log_base": base})
    gradient = solution.gradient
    assert gradient.wrt == kind
    label = [ALPHABET.index(s) for s in data["label"]]
    divisor = LN[base] * (len(label) if reduction == "mean" else 1)
    x = torch.tensor(given_, dtype=torch.float64, requires_grad=True)
    if kind == "logits":
        lp = F.log_softmax(x, dim=1)
        loss = F.ctc_loss(
            lp[:, None, :],
            torch.tensor([label]),
            torch.tensor([len(given_)]),
            torch.tensor([len(label)]),
            reduction="sum",
        )
    else:
        lp = x if kind == "log_probs" else torch.log(x)
        loss = torch_ctc_nll(lp, label)
    (loss / divisor).backward()
    close(gradient.values, x.grad.numpy(), "ctc")
    # The gradient with respect to the logits stays in dp.grad (CTCResult.gradient).
    assert solution.result.gradient is not None
    if kind == "logits":
        np.testing.assert_array_equal(solution.result.gradient, gradient.values)


@pytest.mark.parametrize("reduction", ["sum", "mean"])
def test_ctc_log_probs_torch_backward_is_our_dp_grad(reduction: str) -> None:
    """PyTorch's ctc_loss backward with respect to log_probs is exp(log_probs) −
    occupancy: our dp.grad (the logits' gradient), not the partial derivative −occupancy
    that `grad` holds."""
    data, given_ = _ctc_case("log_probs", 3)
    solution = solved({**data, "reduction": reduction})
    label = [ALPHABET.index(s) for s in data["label"]]
    x = torch.tensor(given_, dtype=torch.float64, requires_grad=True)
    loss = F.ctc_loss(
        x[:, None, :],
        torch.tensor([label]),
        torch.tensor([len(given_)]),
        torch.tensor([len(label)]),
        reduction=reduction,
    )
    loss.backward()
    close(solution.result.gradient, x.grad.numpy(), "ctc")
    occupancy = np.exp(given_) - x.grad.numpy() * (len(label) if reduction == "mean" else 1)
    per = len(label) if reduction == "mean" else 1
    close(solution.gradient.values, -occupancy / per, "ctc")
    assert any("PyTorch" in note for note in solution.gradient.notes)


def test_ctc_unnormalised_log_probs_is_the_partial_derivative() -> None:
    rng = np.random.default_rng(7)
    log_values = -np.abs(rng.normal(size=(4, 4))) - 0.1  # rows that do not sum to 1
    data = {"loss": "ctc", "label": "ab", "alphabet": ALPHABET, "log_probs": log_values.tolist()}
    gradient = solved(data).gradient
    x = torch.tensor(log_values, dtype=torch.float64, requires_grad=True)
    torch_ctc_nll(x, [1, 2]).backward()
    close(gradient.values, x.grad.numpy(), "ctc")


def test_ctc_probability_zero_has_its_true_derivative() -> None:
    """Where p = 0 the occupancy is 0, yet −ln p(label) still changes with p: the
    derivative is found by linearity, and agrees with finite differences."""
    probs = np.array(
        [[0.5, 0.5, 0.0, 0.0], [0.3, 0.0, 0.7, 0.0], [0.5, 0.5, 0.0, 0.0], [0.6, 0.1, 0.3, 0.0]]
    )
    data = {"loss": "ctc", "label": "ab", "alphabet": ALPHABET, "probs": probs.tolist()}
    gradient = solved(data).gradient
    assert np.isfinite(gradient.values).all()
    # b cannot come first (the label is ab): 0; a at frame 2 and b at frame 3 can.
    assert gradient.values[0, 2] == 0
    assert gradient.values[1, 1] < 0 and gradient.values[2, 2] < 0  # not the occupancy's 0
    for t, k in [(0, 2), (1, 1), (2, 2), (1, 2)]:
        h = 1e-6

        def loss_at(value: float, t: int = t, k: int = k) -> float:
            changed = probs.copy()
            changed[t, k] = value
            return solve(validate({**data, "probs": changed.tolist()})).result.value

        numeric = (loss_at(probs[t, k] + h) - loss_at(max(probs[t, k] - h, 0.0))) / (
            h if probs[t, k] == 0 else 2 * h
        )
        assert gradient.values[t, k] == pytest.approx(numeric, rel=1e-4, abs=1e-6)


def test_ctc_impossible_label_has_gradient_zero() -> None:
    data = {"loss": "ctc", "label": "abc", "alphabet": ALPHABET, "log_probs": [[-1.0] * 4] * 2}
    solution = solved(data)
    assert math.isinf(solution.result.value)
    assert not solution.gradient.values.any()


def test_ctc_lecture_mode_refuses_grad_clearly(tmp_path: Any) -> None:
    path = write_problem(
        tmp_path, {"loss": "ctc", "label": "a", "probabilities": {"a": 0.6, "-": 0.4}, "frames": 2}
    )
    result = invoke(["ctc", path, "--grad"])
    assert result.exit_code == 2
    assert "grad: belongs to matrix mode" in result.stderr
    assert "alphabet" in result.stderr and "Traceback" not in result.stderr


# --- through the command line: JSON --------------------------------------------------------


def json_of(tmp_path: Any, data: dict[str, Any], *flags: str) -> dict[str, Any]:
    path = write_problem(tmp_path, data)
    result = invoke([data["loss"], path, "--json", *flags])
    assert result.exit_code in (0, 1), result.stderr

    def refuse(token: str) -> None:
        raise AssertionError(f"not strict JSON: {token}")

    return json.loads(result.stdout, parse_constant=refuse)


@pytest.mark.parametrize(
    ("loss", "kind", "reduction", "base"),
    [
        ("sequence", "logits", "mean", "2"),
        ("sequence", "yhat", "sum", "e"),
        ("reinforce", "probs", "mean", "10"),
        ("reinforce", "log_probs", "sum", "e"),
        ("ctc", "log_probs", "mean", "2"),
        ("ctc", "probs", "sum", "e"),
        ("ctc", "logits", "sum", "10"),
    ],
)
def test_cli_json_grad(tmp_path: Any, loss: str, kind: str, reduction: str, base: str) -> None:
    if loss == "sequence":
        data, given_ = _sequence_case(kind, True, 5)
        data["ignore_index"] = 0
    elif loss == "ctc":
        data, given_ = _ctc_case(kind, 1)
    else:
        rng = np.random.default_rng(4)
        probs = rng.uniform(0.1, 0.9, size=4)
        given_ = probs if kind == "probs" else np.log(probs)
        data = {"loss": loss, "rewards": [0, 1, 0, 2], kind: given_.tolist(), "baseline": "mean"}
    data.update(reduction=reduction, log_base=base)
    without = json_of(tmp_path, data)
    assert "grad" not in without and "grad_wrt" not in without
    out = json_of(tmp_path, data, "--grad")
    assert out["grad_wrt"] == kind
    assert np.shape(out["grad"]) == given_.shape
    assert set(out) - set(without) == {"grad", "grad_wrt"}
    assert all(out[k] == without[k] for k in without if k != "dp")
    # The file's `grad: true` is the flag.
    assert json_of(tmp_path, {**data, "grad": True})["grad"] == out["grad"]
    core = solved(data).gradient.values
    np.testing.assert_allclose(out["grad"], core, rtol=0, atol=0)
    if loss == "ctc":  # dp.grad stays the logits' gradient
        np.testing.assert_allclose(out["dp"]["grad"], solved(data).result.gradient, rtol=0, atol=0)


# --- custom: each term's gradient, weighted -------------------------------------------------


def _custom(grad: bool = True) -> dict[str, Any]:
    seq, _ = _sequence_case("logits", True, 9)
    seq.update(ignore_index=0, reduction="mean")
    ctc, _ = _ctc_case("probs", 2)
    reinforce = {"loss": "reinforce", "rewards": [1, 0, 2], "log_probs": [-0.5, -1.0, -0.2]}
    inner = {"loss": "custom", "terms": [{**reinforce, "weight": -2.0}]}
    data = {
        "loss": "custom",
        "terms": [
            {**seq, "name": "decoder", "weight": 0.5},
            {**ctc, "name": "ctc", "weight": 1.5},
            {**inner, "name": "nested", "weight": 0.25},
            {**reinforce, "name": "zero", "weight": 0.0},
        ],
    }
    if grad:
        data["grad"] = True
    return data


def test_custom_terms_carry_the_weighted_gradient(tmp_path: Any) -> None:
    out = json_of(tmp_path, _custom())
    assert "grad" not in out  # the custom loss has no input of its own
    terms = _custom()["terms"]
    decoder, ctc, nested, zero = out["components"]
    for component, term, weight in [(decoder, terms[0], 0.5), (ctc, terms[1], 1.5)]:
        own = solved({k: v for k, v in term.items() if k not in ("name", "weight")}).gradient
        assert component["grad_wrt"] == own.wrt
        np.testing.assert_allclose(component["grad"], weight * own.values, rtol=1e-15)
    inner = nested["components"][0]
    reinforce = {k: v for k, v in terms[2]["terms"][0].items() if k != "weight"}
    np.testing.assert_allclose(
        inner["grad"], 0.25 * -2.0 * solved(reinforce).gradient.values, rtol=1e-15
    )
    assert zero["grad"] == [0.0, 0.0, 0.0]
    # dp.grad of a CTC term is its own gradient with respect to the logits, unweighted.
    ctc_alone = solved({k: v for k, v in terms[1].items() if k not in ("name", "weight")})
    np.testing.assert_allclose(ctc["dp"]["grad"], ctc_alone.result.gradient, rtol=0, atol=0)
    without = json_of(tmp_path, _custom(grad=False))
    assert all("grad" not in c for c in without["components"])


def test_custom_custom_gradient_is_the_derivative_of_the_weighted_sum() -> None:
    """Finite differences of the custom headline along one input of a term."""
    data = _custom()
    solution = solve(validate(data))
    component = solution.result.details["components"][1]["solution"]  # the CTC term
    values = np.array(data["terms"][1]["probs"])
    h = 1e-6
    for t, k in [(0, 1), (2, 0)]:
        plus, minus = values.copy(), values.copy()
        plus[t, k] += h
        minus[t, k] -= h
        at = []
        for changed in (plus, minus):
            terms = [dict(term) for term in data["terms"]]
            terms[1]["probs"] = changed.tolist()
            at.append(solve(validate({**data, "terms": terms})).result.value)
        numeric = (at[0] - at[1]) / (2 * h)
        assert component.gradient.values[t, k] == pytest.approx(numeric, rel=1e-6)


def test_custom_term_grad_is_refused(tmp_path: Any) -> None:
    data = _custom(grad=False)
    data["terms"][0]["grad"] = True
    path = write_problem(tmp_path, data)
    result = invoke(["custom", path])
    assert result.exit_code == 2
    assert "terms[0].grad" in result.stderr and "custom loss" in result.stderr


def test_custom_working_shows_each_terms_gradient(tmp_path: Any) -> None:
    path = write_problem(tmp_path, _custom(grad=False))
    plain = invoke(["custom", path, "--details"]).stdout
    assert "Gradient" not in plain
    text = invoke(["custom", path, "--grad"]).stdout
    assert "Gradient of L with respect to each term's input" in text
    assert "components[i].grad" in text
    detailed = invoke(["custom", path, "--grad", "--details"]).stdout
    assert "w = 0.5 × this term's" in detailed  # the sequence term's section, scaled
    assert "0.5 × ∂L/∂z[t, ·]" in detailed
    # The CTC term's, scaled and said (its heading may wrap).
    assert "1.5×(−occupancy/p),thecustomloss" in detailed.replace(" ", "").replace("\n", "")


# --- the working in every format -----------------------------------------------------------

FORMAT_CASES = {
    "sequence": (
        {
            "loss": "sequence",
            "target": [[1, 2, 0], [2, 0, 0]],
            "ignore_index": 0,
            "logits": [[[0.1, 0.7, 0.2], [0.2, 0.2, 0.6], [0.5, 0.3, 0.2]]] * 2,
            "reduction": "mean",
        },
        "∂L/∂z[t, c] = (softmax(z)[t, c] − 1[c = targetₜ])/3",
    ),
    "reinforce": (
        {"loss": "reinforce", "rewards": [0, 0, 1], "probs": [0.5, 0.4, 0.9], "reduction": "mean"},
        "∂L/∂πₜ = −Aₜ/πₜ/3",
    ),
    "ctc": (
        {
            "loss": "ctc",
            "label": "at",
            "alphabet": ["-", "a", "c", "t"],
            "log_probs": np.log(
                [[0.2, 0.6, 0.1, 0.1], [0.25, 0.3, 0.1, 0.35], [0.2, 0.1, 0.1, 0.6]]
            ).tolist(),
        },
        "Gradient ∂L/∂log p as given (−occupancy; --json: grad)",
    ),
}


@pytest.mark.parametrize("loss", sorted(FORMAT_CASES))
@pytest.mark.parametrize("width", [80, 60])
def test_terminal_working(tmp_path: Any, loss: str, width: int) -> None:
    data, formula = FORMAT_CASES[loss]
    path = write_problem(tmp_path, data)
    plain = invoke([loss, path], env={"COLUMNS": str(width)}).stdout
    text = invoke([loss, path, "--grad"], env={"COLUMNS": str(width)}).stdout
    assert "--json: grad" not in plain
    assert "--json: grad" in text
    assert formula.replace(" ", "") in text.replace(" ", "").replace("\n", "")
    assert max(len(line) for line in text.splitlines()) <= width
    assert "nan" not in text.lower().replace("nans", "")
    # The working without the gradient is unchanged by it: it is a section more.
    assert text.startswith(plain.split("╭─ Answer")[0].rstrip("\n"))


@pytest.mark.parametrize("loss", sorted(FORMAT_CASES))
@pytest.mark.parametrize("form", ["markdown", "latex"])
def test_markdown_and_latex(tmp_path: Any, loss: str, form: str) -> None:
    data, _ = FORMAT_CASES[loss]
    path = write_problem(tmp_path, data)
    plain = invoke([loss, path, "--format", form])
    out = invoke([loss, path, "--grad", "--format", form])
    assert out.exit_code == 0, out.stderr
    assert "Gradient" in out.stdout and "Gradient" not in plain.stdout
    if form == "markdown":
        assert "∂L/∂" in out.stdout
    else:
        assert "\\partial" in out.stdout or "∂" in out.stdout


# --- finite differences ---------------------------------------------------------------------


def _value(data: dict[str, Any]) -> float:
    return float(solve(validate(data)).result.value)


@settings(max_examples=40, deadline=None)
@given(
    loss=st.sampled_from(["sequence", "reinforce", "ctc"]),
    choice=st.integers(0, 2),
    reduction=st.sampled_from(["sum", "mean"]),
    base=st.sampled_from(["e", "2", "10"]),
    seed=st.integers(0, 2**16),
)
def test_gradient_matches_finite_differences(
    loss: str, choice: int, reduction: str, base: str, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    if loss == "sequence":
        kind = ("logits", "log_probs", "yhat")[choice]
        data, given_ = _sequence_case(kind, bool(seed % 2), seed)
    elif loss == "ctc":
        kind = ("logits", "log_probs", "probs")[choice]
        data, given_ = _ctc_case(kind, seed, frames=4)
    else:
        kind = ("probs", "log_probs", "probs")[choice]
        probs = rng.uniform(0.1, 0.9, size=4)
        given_ = probs if kind == "probs" else np.log(probs)
        data = {
            "loss": "reinforce",
            "rewards": rng.normal(size=4).tolist(),
            kind: given_.tolist(),
            "returns": "reward-to-go",
            "gamma": 0.9,
            "baseline": "mean",
            "normalize": bool(seed % 2),
        }
    data.update(reduction=reduction, log_base=base)
    if "ignore_index" not in data and loss == "sequence" and seed % 2:
        data["ignore_index"] = 0
    gradient = solved(data).gradient
    assert not np.isnan(gradient.values).any()
    flat = given_.ravel()
    h = 1e-6
    for i in rng.choice(flat.size, size=3, replace=False):
        values = []
        for step in (h, -h):
            changed = flat.copy()
            changed[i] += step
            values.append(_value({**data, kind: changed.reshape(given_.shape).tolist()}))
        numeric = (values[0] - values[1]) / (2 * h)
        assert gradient.values.ravel()[i] == pytest.approx(numeric, rel=1e-5, abs=1e-7)


def test_weighted_keeps_zero_weight_finite() -> None:
    from rnnloss_cli.core.result import Gradient

    gradient = Gradient("probs", np.array([-np.inf, -1.0]))
    assert sequence_grad.weighted(gradient, 0.0).values.tolist() == [0.0, 0.0]
    scaled = sequence_grad.weighted(sequence_grad.weighted(gradient, 2.0), 3.0)
    assert scaled.values.tolist() == [-np.inf, -6.0]
    assert scaled.parts["weight"] == 6.0


def test_report_worst_relative_error() -> None:
    """Not a check: prints the worst relative error against PyTorch (run with -s)."""
    print("worst relative error vs torch:", {k: f"{v:.1e}" for k, v in WORST.items()})
