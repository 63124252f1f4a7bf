"""The rnn loss: forward against torch.nn.RNN, BPTT against autograd for every output loss,
truncation against a hand-rolled per-output reference, clipping against clip_grad_norm_,
one learning-rate step; bad input as one line naming the weight and both shapes; overflow
reported, never NaN; every format."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from rnnloss_cli import losses
from rnnloss_cli.cli import app
from rnnloss_cli.problems import validate
from rnnloss_cli.solver import solve

torch = pytest.importorskip("torch")
F = torch.nn.functional

ROOT = Path(__file__).resolve().parent.parent
TOLERANCE = 1e-9
WEIGHTS = ("W_xh", "W_hh", "b_h", "W_hy", "b_y")


def _needs_gradient(loss: str) -> None:
    if losses.get(loss).gradient is None:
        pytest.skip(f"{loss} has no gradient yet (issue 13 item 1 in progress)")


def _random(rng, steps=5, width=3, size=4, count=3, scale=0.7):
    return {
        "W_xh": rng.normal(size=(size, width)) * scale,
        "W_hh": rng.normal(size=(size, size)) * scale,
        "b_h": rng.normal(size=size) * 0.3,
        "W_hy": rng.normal(size=(count, size)) * scale,
        "b_y": rng.normal(size=count) * 0.3,
        "h0": rng.normal(size=size) * 0.3,
        "inputs": rng.normal(size=(steps, width)),
    }


def _problem(weights, output, activation="tanh", **options):
    data = {"loss": "rnn", "activation": activation, "output": output, **options}
    data.update({k: np.asarray(v).tolist() for k, v in weights.items()})
    return data


def _solve(data):
    return solve(validate(data))


def _torch_outputs(weights, activation, *, split_bias=True):
    """Run torch.nn.RNN (batch_first, float64) with these weights; return the outputs (T × K)
    as a tensor whose graph reaches the five parameters, and the parameters by name."""
    size, width = np.shape(weights["W_xh"])
    cell = torch.nn.RNN(width, size, nonlinearity=activation, batch_first=True).double()
    b_h = torch.tensor(weights["b_h"])
    with torch.no_grad():
        cell.weight_ih_l0.copy_(torch.tensor(weights["W_xh"]))
        cell.weight_hh_l0.copy_(torch.tensor(weights["W_hh"]))
        # b_h = b_ih + b_hh: split it unevenly, so a mix-up of the two would show
        cell.bias_ih_l0.copy_(0.25 * b_h if split_bias else b_h)
        cell.bias_hh_l0.copy_(0.75 * b_h if split_bias else torch.zeros_like(b_h))
    w_hy = torch.tensor(weights["W_hy"], requires_grad=True)
    b_y = torch.tensor(weights["b_y"], requires_grad=True)
    x = torch.tensor(weights["inputs"])[None]  # batch of 1, batch_first
    h0 = torch.tensor(weights["h0"])[None, None]  # layers × batch × H
    hidden, _ = cell(x, h0)
    outputs = hidden[0] @ w_hy.T + b_y
    params = {
        "W_xh": cell.weight_ih_l0,
        "W_hh": cell.weight_hh_l0,
        "b_h": cell.bias_ih_l0,
        "W_hy": w_hy,
        "b_y": b_y,
    }
    return outputs, hidden[0], params


def _grads(params):
    return {k: p.grad.detach().numpy() for k, p in params.items()}


def _max_error(ours, theirs):
    return max(float(np.max(np.abs(np.asarray(ours[k]) - theirs[k]))) for k in WEIGHTS)


# --- the output losses, each with torch's own loss of the outputs --------------------------

T, K = 5, 3


def _outputs_cases(rng):
    y_real = rng.normal(size=(T, K))
    y_sign = rng.choice([-1.0, 1.0], size=(T, K))
    y_prob = rng.uniform(size=(T, K))
    target = rng.integers(0, K, size=T)
    target_list = [int(t) for t in target]
    return {
        "mse": (
            {"loss": "mse", "y": y_real.tolist()},
            lambda o: F.mse_loss(o, torch.tensor(y_real)),
        ),
        "hinge": (
            {"loss": "hinge", "y": y_sign.tolist()},
            lambda o: torch.clamp(1 - torch.tensor(y_sign) * o, min=0).mean(),
        ),
        "bce": (
            {"loss": "bce", "y": y_prob.tolist()},
            lambda o: F.binary_cross_entropy_with_logits(o, torch.tensor(y_prob)),
        ),
        "nll": (
            {"loss": "nll", "target": target_list},
            lambda o: F.cross_entropy(o, torch.tensor(target), reduction="sum"),
        ),
        "cce": (
            {"loss": "cce", "target": target_list, "reduction": "mean"},
            lambda o: F.cross_entropy(o, torch.tensor(target)),
        ),
        "sequence": (
            {"loss": "sequence", "target": target_list},
            lambda o: F.cross_entropy(o, torch.tensor(target), reduction="sum"),
        ),
        "ctc": (
            {"loss": "ctc", "alphabet": ["-", "a", "b"], "label": "ab"},
            lambda o: F.ctc_loss(
                F.log_softmax(o, dim=-1)[:, None, :],
                torch.tensor([[1, 2]]),
                torch.tensor([T]),
                torch.tensor([2]),
                reduction="sum",
            ),
        ),
    }


@pytest.mark.parametrize("activation", ["tanh", "relu"])
@pytest.mark.parametrize("loss", ["mse", "hinge", "bce", "nll", "cce", "sequence", "ctc"])
def test_every_output_loss_against_torch_rnn_and_autograd(loss, activation):
    _needs_gradient(loss)
    rng = np.random.default_rng(abs(hash((loss, activation))) % 2**32)
    weights = _random(rng, steps=T, count=K)
    output, reference = _outputs_cases(rng)[loss]
    solution = _solve(_problem(weights, output, activation))
    outputs, hidden, params = _torch_outputs(weights, activation)
    value = reference(outputs)
    value.backward()
    d = solution.result.details
    assert abs(solution.result.value - value.item()) <= TOLERANCE * max(1, abs(value.item()))
    assert np.max(np.abs(d["run"].outputs - outputs.detach().numpy())) <= TOLERANCE
    assert np.max(np.abs(d["run"].hidden - hidden.detach().numpy())) <= TOLERANCE
    assert _max_error(d["back"].grads, _grads(params)) <= TOLERANCE


def test_one_number_a_step_mse_against_torch():
    rng = np.random.default_rng(3)
    weights = _random(rng, steps=6, width=1, size=2, count=1)
    y = rng.normal(size=6)
    solution = _solve(_problem(weights, {"loss": "mse", "y": y.tolist(), "reduction": "sum"}))
    outputs, _, params = _torch_outputs(weights, "tanh")
    value = F.mse_loss(outputs[:, 0], torch.tensor(y), reduction="sum")
    value.backward()
    assert abs(solution.result.value - value.item()) <= TOLERANCE
    assert _max_error(solution.result.details["back"].grads, _grads(params)) <= TOLERANCE


def _hand_truncated(weights, activation, y, k):
    """The contract's truncation, in torch: each step's output gradient goes back through the
    cells of steps t, t − 1, …, t − k and stops there. Every output gets its own graph: the
    cells t − k … t rerun from h_{t−k−1} detached (h0 when t − k ≤ 0)."""
    w = {n: torch.tensor(weights[n], requires_grad=True) for n in WEIGHTS}
    act = torch.tanh if activation == "tanh" else torch.relu
    x = torch.tensor(weights["inputs"])
    with torch.no_grad():  # the forward values hₜ, hs[0] = h0
        hs = [torch.tensor(weights["h0"])]
        for t in range(x.shape[0]):
            hs.append(act(w["W_xh"] @ x[t] + w["W_hh"] @ hs[-1] + w["b_h"]))
    total = torch.zeros((), dtype=torch.float64)
    for t in range(x.shape[0]):
        start = max(0, t - k)
        h = hs[start].detach()
        for s in range(start, t + 1):
            h = act(w["W_xh"] @ x[s] + w["W_hh"] @ h + w["b_h"])
        o = w["W_hy"] @ h + w["b_y"]
        total = total + ((o - torch.tensor(y[t])) ** 2).sum() / y.size
    total.backward()
    return {n: w[n].grad.numpy() for n in WEIGHTS}


@pytest.mark.parametrize("activation", ["tanh", "relu"])
@pytest.mark.parametrize("k", [0, 1, 2, 4, 7, 50])
def test_truncation_is_per_output_as_the_contract_says(k, activation):
    rng = np.random.default_rng(k + 10)
    weights = _random(rng, steps=8, count=2, scale=0.9)
    y = rng.normal(size=(8, 2))
    solution = _solve(_problem(weights, {"loss": "mse", "y": y.tolist()}, activation, truncate=k))
    expected = _hand_truncated(weights, activation, y, k)
    assert _max_error(solution.result.details["back"].grads, expected) <= TOLERANCE
    full = _solve(_problem(weights, {"loss": "mse", "y": y.tolist()}, activation))
    differs = _max_error(full.result.details["back"].grads, expected) > 1e-6
    assert differs == (k < 7)  # k ≥ T − 1 is full BPTT; anything shorter cuts something


def test_truncation_is_not_detaching_every_k_steps():
    rng = np.random.default_rng(5)
    weights = _random(rng, steps=8, count=2, scale=0.9)
    y = rng.normal(size=(8, 2))
    ours = _solve(_problem(weights, {"loss": "mse", "y": y.tolist()}, truncate=2))
    w = {n: torch.tensor(weights[n], requires_grad=True) for n in WEIGHTS}
    h = torch.tensor(weights["h0"])
    total = torch.zeros((), dtype=torch.float64)
    for t, x in enumerate(torch.tensor(weights["inputs"])):
        if t % 3 == 0:
            h = h.detach()
        h = torch.tanh(w["W_xh"] @ x + w["W_hh"] @ h + w["b_h"])
        total = total + ((w["W_hy"] @ h + w["b_y"] - torch.tensor(y[t])) ** 2).sum() / y.size
    total.backward()
    detached = {n: w[n].grad.numpy() for n in WEIGHTS}
    assert _max_error(ours.result.details["back"].grads, detached) > 1e-6


@pytest.mark.parametrize("max_norm", [0.05, 0.5, 1e6])
def test_clipping_and_the_step_against_clip_grad_norm(max_norm):
    rng = np.random.default_rng(7)
    weights = _random(rng, steps=6, count=2)
    y = rng.normal(size=(6, 2))
    output = {"loss": "mse", "y": y.tolist()}
    rate = 0.3
    solution = _solve(_problem(weights, output, clip=max_norm, learning_rate=rate))
    outputs, _, params = _torch_outputs(weights, "tanh", split_bias=False)
    F.mse_loss(outputs, torch.tensor(y)).backward()
    before = float(torch.linalg.vector_norm(torch.stack([p.grad.norm() for p in params.values()])))
    norm = torch.nn.utils.clip_grad_norm_(list(params.values()), max_norm)
    d = solution.result.details
    assert abs(d["clipping"].norm - float(norm)) <= TOLERANCE
    assert abs(d["clipping"].norm - before) <= TOLERANCE
    assert d["clipping"].clipped == (max_norm < before)
    updated = {k: p.detach().numpy() - rate * p.grad.numpy() for k, p in params.items()}
    assert _max_error(d["updated"], updated) <= TOLERANCE
    # the new loss is the loss of the updated network, recomputed
    new_weights = {**weights, **updated}
    new_outputs, _, _ = _torch_outputs(new_weights, "tanh", split_bias=False)
    new_value = F.mse_loss(new_outputs, torch.tensor(y)).item()
    assert abs(d["updated_value"] - new_value) <= TOLERANCE


def test_the_bundled_forecast_step_lowers_the_loss_and_matches_the_hand_work():
    text = (ROOT / "problems/rnn_forecast_mse.yaml").read_text(encoding="utf-8")
    solution = _solve(yaml.safe_load(text))
    d = solution.result.details
    assert solution.matches is True
    assert abs(solution.result.value - 3.146308) < 1e-6
    assert abs(d["back"].grads["b_y"][0] - (-3.441810)) < 5e-7
    assert abs(d["back"].grads["W_hy"][0, 0] - (-2.572138)) < 1e-6
    assert d["updated_value"] < solution.result.value
    assert abs(d["updated_value"] - 0.529582) < 5e-7


# --- the command line --------------------------------------------------------------------


def _run(args, width=80):
    return CliRunner().invoke(app, args, env={"COLUMNS": str(width), "NO_COLOR": "1"})


def test_done_when_the_forecast_with_a_learning_rate_shows_every_part():
    path = str(ROOT / "problems/rnn_forecast_mse.yaml")
    result = _run(["rnn", path, "--learning-rate", "0.1"], 200)
    assert result.exit_code == 0, result.output
    for part in (
        "Forward, step by step",
        "0.5·1 + 0.1·0 + 0.2·0 + 0 = 0.5",
        "Backward through time",
        "‖∂L/∂hₜ‖",
        "∂L/∂W_xh",
        "∂L/∂W_hh",
        "∂L/∂b_h",
        "∂L/∂W_hy",
        "∂L/∂b_y",
        "One step of gradient descent",
        "L = 0.529582 (was 3.14631: lower by",
    ):
        assert part in result.stdout, part


def _write(tmp_path, data, name="p.yaml"):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return str(path)


def _base():
    return yaml.safe_load((ROOT / "problems/rnn_forecast_mse.yaml").read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("W_hh", [[0.1, 0.2, 0.3], [0.0, 0.4, 0.5]], "W_hh is 2 × 3 but must be H × H = 2 × 2"),
        ("W_hy", [[1.0, -1.0, 2.0]], "W_hy is 1 × 3 but must be K × H = 1 × 2"),
        ("b_h", [0, 0, 0], "b_h is 3 values but must be H = 2 values"),
        ("b_y", [0, 0], "b_y is 2 values but must be K = 1 value"),
        ("h0", [0], "h0 is 1 value but must be H = 2 values"),
        ("inputs", [[1, 2], [3, 4]], "inputs is 2 × 2 but must be T × D = 2 × 1"),
    ],
)
def test_every_shape_mismatch_names_the_weight_and_both_shapes(tmp_path, key, value, message):
    data = _base() | {key: value}
    result = _run(["rnn", _write(tmp_path, data)])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and key in lines[0], result.stderr


@pytest.mark.parametrize(
    ("output", "key"),
    [
        ({"loss": "mse", "y": [1, 2]}, "output"),  # 2 targets for 3 outputs
        ({"loss": "mse", "y": [1, 2, 3], "yhat": [1, 2, 3]}, "output.yhat"),
        ({"loss": "custom", "terms": []}, "output.loss"),
        ({"loss": "mse", "y": [1, 2, 3], "reduction": "none"}, "output.reduction"),
        ({"loss": "mse", "y": [1, 2, 3], "expected": 1}, "output.expected"),
        ({"y": [1, 2, 3]}, "output.loss"),
        ("mse", "output"),
    ],
)
def test_a_bad_output_problem_is_one_line_naming_its_key(tmp_path, output, key):
    result = _run(["rnn", _write(tmp_path, _base() | {"output": output})])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and key in lines[0], result.stderr


def test_flags_alone_say_the_output_problem_needs_a_file():
    result = _run(["rnn", "--w-xh", "0.5;-0.3", "--w-hh", "0,0;0,0", "--inputs", "1,2,3"])
    assert result.exit_code == 2
    assert "output" in result.stderr and "file" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_flags_change_a_files_keys(tmp_path):
    path = _write(tmp_path, _base())
    result = _run(["rnn", path, "--truncate", "0", "--clip", "1", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["clipped"] is True and data["clip_norm"] > 1


@pytest.mark.parametrize(
    ("key", "value"),
    [("truncate", -1), ("truncate", 1.5), ("clip", 0), ("learning_rate", -0.1)],
)
def test_bad_options_are_one_line(tmp_path, key, value):
    result = _run(["rnn", _write(tmp_path, _base() | {key: value})])
    assert result.exit_code == 2 and key in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_size_limits_are_enforced(tmp_path):
    data = _base() | {"inputs": [0.0] * 5001}
    data["output"] = {"loss": "mse", "y": [0.0] * 5001}
    result = _run(["rnn", _write(tmp_path, data)])
    assert result.exit_code == 2 and "5,001 steps T is over the limit" in result.stderr


def test_a_diverging_update_is_a_warning_never_nan(tmp_path):
    result = _run(["rnn", _write(tmp_path, _base() | {"learning_rate": 1e308}), "--json"])
    assert result.exit_code == 0, result.output
    assert "NaN" not in result.stdout
    data = json.loads(result.stdout)
    assert data["updated_value"] is None
    assert any("diverges" in w for w in data["warnings"])
    text = _run(["rnn", _write(tmp_path, _base() | {"learning_rate": 1e308})])
    assert "diverges" in text.stdout and "nan" not in text.stdout.lower()


def test_an_exploding_relu_is_one_line_never_nan(tmp_path):
    data = _base() | {
        "activation": "relu",
        "W_hh": [[1e200, 0], [0, 1e200]],
        "W_xh": [[1.0], [1.0]],
    }
    result = _run(["rnn", _write(tmp_path, data)])
    assert result.exit_code == 2
    assert "overflows float64 at step" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_exploding_gradients_in_the_backward_pass_are_one_line(tmp_path):
    steps = 400
    data = _base() | {
        "activation": "relu",
        "W_xh": [[1e-300], [1e-300]],
        "W_hh": [[10.0, 0], [0, 10.0]],
        "inputs": [1.0] * steps,
        "W_hy": [[1.0, 1.0]],
    }
    data["output"] = {"loss": "mse", "y": [0.0] * steps}
    result = _run(["rnn", _write(tmp_path, data)])
    assert result.exit_code == 2
    assert "backward pass overflows" in result.stderr or "forward pass overflows" in result.stderr
    assert "nan" not in result.stderr.lower()


def test_json_keys_are_the_contracts():
    result = _run(["rnn", str(ROOT / "problems/rnn_forecast_mse.yaml"), "--json"])
    data = json.loads(result.stdout)
    for key in ("value", "steps", "grads", "grad_norms", "clip_norm", "clipped", "output"):
        assert key in data
    assert set(data["grads"]) == set(WEIGHTS)
    assert set(data["updated"]) == set(WEIGHTS) and data["updated_value"] < data["value"]
    assert len(data["steps"]) == 3 and set(data["steps"][0]) == {"h", "output", "loss"}
    assert len(data["grad_norms"]) == 3
    assert data["output"]["loss"] == "mse" and data["output"]["value"] == data["value"]
    assert abs(sum(s["loss"] for s in data["steps"]) / 3 - data["value"]) < 1e-12
    without = _run(
        ["rnn", str(ROOT / "problems/rnn_forecast_mse.yaml"), "--json"], 80
    )  # the file's own learning rate: updated is there
    assert "updated" in json.loads(without.stdout)


@pytest.mark.parametrize("width", [60, 80])
def test_terminal_fits(width):
    result = _run(["rnn", str(ROOT / "problems/rnn_forecast_mse.yaml")], width)
    assert result.exit_code == 0
    assert all(len(line) <= width for line in result.stdout.splitlines())


def test_markdown_latex_and_questions(tmp_path):
    path = str(ROOT / "problems/rnn_forecast_mse.yaml")
    markdown = _run(["rnn", path, "--format", "markdown"]).stdout
    assert "Backward through time" in markdown and "| t |" in markdown.replace("  ", " ")
    questions = _run(["rnn", path, "--format", "questions"]).stdout
    assert "input → hidden" in questions and "y: \\[2, 3, 4\\]" in questions
    assert "3.14631" not in questions and "Backward" not in questions
    latex = _run(["rnn", path, "--format", "latex"]).stdout
    assert "\\begin{document}" in latex
    if shutil.which("pdflatex") is None:
        pytest.skip("pdflatex is not installed")
    (tmp_path / "w.tex").write_text(latex, encoding="utf-8")
    done = subprocess.run(
        ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "w.tex"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout[-2000:]


def test_a_thousand_steps_is_instant_and_a_screenful(tmp_path):
    rng = np.random.default_rng(11)
    weights = _random(rng, steps=1000, width=4, size=16, count=4, scale=0.3)
    target = rng.integers(0, 4, size=1000).tolist()
    data = _problem(weights, {"loss": "cce", "target": target}, learning_rate=0.01, clip=1.0)
    path = _write(tmp_path, data)
    _needs_gradient("cce")
    started = time.perf_counter()
    result = _run(["rnn", path], 80)
    elapsed = time.perf_counter() - started
    assert result.exit_code == 0, result.output
    assert elapsed < 3.0
    assert len(result.stdout.splitlines()) < 400
    assert "…" in result.stdout


def test_vanishing_gradients_are_named(tmp_path):
    rng = np.random.default_rng(2)
    weights = _random(rng, steps=30, width=1, size=2, count=1, scale=0.2)
    output = {"loss": "mse", "y": [0.0] * 29 + [1.0]}
    document = _run(["rnn", _write(tmp_path, _problem(weights, output))]).stdout
    assert "vanishing gradients" in document


def test_huge_but_finite_gradients_have_norms_and_no_nan(tmp_path):
    # Found by the fuzz test: finite entries whose squares overflow (‖·‖ of 1e300 rows), and
    # a loss that is ∞ before and after the step ("higher by nan" once).
    data = _base() | {
        "W_hh": [[0.1, 0.2], [0.0, 1e30]],
        "W_hy": [[1.0, -1.0]],
        "b_y": [1e300],
        "learning_rate": 0.1,
    }
    data.pop("expected", None)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for args in ([], ["--json"], ["--format", "markdown"]):
            result = _run(["rnn", _write(tmp_path, data), *args])
            assert result.exit_code == 0, result.output
            assert "nan" not in result.stdout.lower()
    from rnnloss_cli.core.rnn import row_norms

    rows = [[3e300, 4e300], [0.0, 0.0], [3.0, 4.0]]
    assert row_norms(rows).tolist() == pytest.approx([5e300, 0.0, 5.0])
    assert row_norms([[1.7e308, 1.7e308]])[0] == float("inf")


def test_an_rnn_term_of_a_custom_loss_has_its_weights_gradient_weighted(tmp_path):
    rnn = _base()
    for key in ("expected", "title", "learning_rate"):
        rnn.pop(key, None)
    mse = {"name": "m", "weight": 2.0, "loss": "mse", "y": [1, 2], "yhat": [1.5, 2.5]}
    data = {"loss": "custom", "grad": True, "terms": [rnn | {"name": "rnn", "weight": 0.5}, mse]}
    result = _run(["custom", _write(tmp_path, data), "--json"])
    assert result.exit_code == 0, result.output
    component = json.loads(result.stdout)["components"][0]
    own = json.loads(_run(["rnn", _write(tmp_path, rnn, "alone.yaml"), "--json"]).stdout)["grads"]
    flat = [v for k in ("W_xh", "W_hh", "b_h", "W_hy", "b_y") for v in np.ravel(own[k])]
    assert component["grad_wrt"] == "weights"
    assert component["grad"] == pytest.approx([0.5 * v for v in flat], rel=1e-12)
    assert component["grads"] == own  # its own, unweighted: grad is L's
    text = _run(["custom", _write(tmp_path, data)]).stdout
    assert "weights (11)" in text and "no gradient" not in text
