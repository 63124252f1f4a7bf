"""Sequence cross-entropy, REINFORCE and custom losses: hand-worked values, PyTorch,
properties, the command line and bad input."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from cli_helpers import write_problem as _write
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from rnnloss_cli.cli import app
from rnnloss_cli.core import sequence as sq

ROOT = Path(__file__).resolve().parent.parent
RTOL = 1e-9


def _json(args):
    result = CliRunner().invoke(app, [*args, "--json"])
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.stdout)


def _log_softmax(x):
    shifted = x - x.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


# --- sequence cross-entropy --------------------------------------------------------------


def test_translation_problem_by_hand():
    data = _json(["sequence", str(ROOT / "problems/translation_sequence.yaml")])
    first = -math.log(0.7 * 0.6 * 0.5 * 0.4 * 0.8)
    second = -math.log(0.8 * 0.5 * 0.6)
    assert data["value"] == pytest.approx(first + second, rel=RTOL)
    assert data["subtotals"] == pytest.approx([first, second], rel=RTOL)
    assert [len(row) for row in data["terms"]] == [5, 3]  # padding left out
    assert data["perplexity"] == pytest.approx(math.exp((first + second) / 8), rel=RTOL)


@pytest.mark.parametrize("seed", range(6))
def test_sequence_against_torch_cross_entropy(seed, tmp_path):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(seed)
    batch, steps, classes = int(rng.integers(1, 4)), int(rng.integers(1, 7)), 5
    logits = rng.normal(scale=2, size=(batch, steps, classes))
    target = rng.integers(0, classes, size=(batch, steps))
    target[rng.uniform(size=target.shape) < 0.3] = -100
    target[0, 0] = 1  # at least one real token
    for reduction in ("sum", "mean"):
        reference = torch.nn.functional.cross_entropy(
            torch.from_numpy(logits.reshape(-1, classes)),
            torch.from_numpy(target.reshape(-1)),
            ignore_index=-100,
            reduction=reduction,
        ).item()
        problem = {
            "loss": "sequence",
            "target": target.tolist(),
            "logits": logits.tolist(),
            "ignore_index": -100,
            "reduction": reduction,
        }
        data = _json(["sequence", _write(tmp_path, problem)])
        assert data["value"] == pytest.approx(reference, rel=RTOL)
        # The same problem from probabilities and from log-probabilities.
        log_p = _log_softmax(logits)
        for key, values in (("log_probs", log_p), ("yhat", np.exp(log_p))):
            problem = {
                "loss": "sequence",
                "target": target.tolist(),
                key: values.tolist(),
                "ignore_index": -100,
                "reduction": reduction,
            }
            assert _json(["seq", _write(tmp_path, problem)])["value"] == pytest.approx(
                reference, rel=RTOL
            )


def test_sequence_inline_with_class_names_and_log_base():
    data = _json(
        [
            "sequence",
            "--target",
            "cat,sat",
            "--classes",
            "the,cat,sat",
            "--yhat",
            "0.25,0.5,0.25;0.125,0.125,0.75",
            "--log-base",
            "2",
        ]
    )
    assert data["value"] == pytest.approx(1 + math.log2(4 / 3), rel=RTOL)
    assert data["perplexity"] == pytest.approx(
        math.exp((math.log(2) + math.log(4 / 3)) / 2), rel=RTOL
    )


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 6), st.integers(0, 4), st.integers(0, 2**32 - 1))
def test_padding_never_changes_the_loss_of_the_real_tokens(steps, pad, seed):
    rng = np.random.default_rng(seed)
    classes = 4
    log_p = _log_softmax(rng.normal(size=(1, steps + pad, classes)))
    target = rng.integers(1, classes, size=(1, steps + pad))
    mask = np.arange(steps + pad)[None] < steps
    padded = sq.sequence_cross_entropy(target, log_p, mask)
    plain = sq.sequence_cross_entropy(target[:, :steps], log_p[:, :steps], mask[:, :steps])
    assert padded.value == pytest.approx(plain.value, rel=1e-12)
    assert padded.details["perplexity"] == pytest.approx(plain.details["perplexity"], rel=1e-12)


# --- REINFORCE -----------------------------------------------------------------------------


def test_reinforce_game_by_hand():
    data = _json(["reinforce", str(ROOT / "problems/reinforce_game.yaml")])
    returns = [0.729, 0.81, 0.9, 1.0]
    hand = -sum(g * math.log(p) for g, p in zip(returns, [0.5, 0.8, 0.6, 0.9], strict=True))
    assert data["value"] == pytest.approx(hand, rel=RTOL)
    assert data["returns"] == pytest.approx(returns, rel=RTOL)
    assert data["objective"] == pytest.approx(-hand, rel=RTOL)


def test_lecture_formula_as_given():
    data = _json(["rl", "--rewards", "1,-2,3", "--probs", "0.5,0.25,0.8"])
    objective = 1 * math.log(0.5) - 2 * math.log(0.25) + 3 * math.log(0.8)
    assert data["objective"] == pytest.approx(objective, rel=RTOL)
    assert data["value"] == pytest.approx(-objective, rel=RTOL)


@pytest.mark.parametrize("seed", range(5))
def test_reinforce_normalised_as_pytorch_example(seed):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 9))
    rewards, probs = rng.normal(size=n), rng.uniform(0.05, 1.0, size=n)
    gamma = float(rng.uniform(0.5, 1.0))
    # PyTorch's examples/reinforcement_learning/reinforce.py, in float64:
    g, returns = 0.0, []
    for r in rewards[::-1]:
        g = r + gamma * g
        returns.insert(0, g)
    returns = torch.tensor(returns, dtype=torch.float64)
    eps = np.finfo(np.float32).eps.item()
    returns = (returns - returns.mean()) / (returns.std() + eps)
    reference = (-torch.log(torch.from_numpy(probs)) * returns).sum().item()
    data = _json(
        [
            "reinforce",
            "--rewards",
            ",".join(repr(float(v)) for v in rewards),
            "--probs",
            ",".join(repr(float(v)) for v in probs),
            "--gamma",
            repr(gamma),
            "--returns",
            "reward-to-go",
            "--normalize",
        ]
    )
    assert data["value"] == pytest.approx(reference, rel=RTOL, abs=1e-12)


def test_reinforce_baseline_mean_and_number():
    rewards, probs = np.array([1.0, 2.0, 6.0]), np.array([0.5, 0.5, 0.25])
    mean = sq.reinforce(rewards, np.log(probs), baseline="mean")
    assert list(mean.details["advantages"]) == pytest.approx([-2.0, -1.0, 3.0])
    fixed = sq.reinforce(rewards, np.log(probs), baseline=1.0)
    assert list(fixed.details["advantages"]) == pytest.approx([0.0, 1.0, 5.0])


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(-100, 100), min_size=1, max_size=8))
def test_reward_to_go_with_gamma_zero_equals_the_rewards(rewards):
    assert list(sq.reward_to_go(np.array(rewards), 0.0)) == rewards


# --- custom --------------------------------------------------------------------------------


def test_custom_problem_by_hand():
    data = _json(["custom", str(ROOT / "problems/custom_ctc_sequence.yaml")])
    ctc = -math.log(0.402)
    seq = -math.log(0.8 * 0.6)
    assert data["value"] == pytest.approx(ctc + 0.5 * seq, rel=RTOL)
    names = [c["name"] for c in data["components"]]
    assert names == ["ctc", "decoder"]
    assert data["components"][1]["weight"] == 0.5
    assert data["components"][1]["contribution"] == pytest.approx(0.5 * seq, rel=RTOL)
    assert data["components"][0]["dp"]["paths"] == 5


def test_custom_details_show_each_working():
    result = CliRunner().invoke(
        app, ["custom", str(ROOT / "problems/custom_ctc_sequence.yaml"), "--details"]
    )
    assert result.exit_code == 0
    assert "term 1 of" in result.stdout and "Exact CTC" in result.stdout
    assert "Perplexity" in result.stdout


@pytest.mark.parametrize(
    "term",
    [
        {"loss": "hinge", "y": [1, -1, 1], "yhat": [0.8, -0.5, 0.3]},
        {"loss": "bce", "y": [1, 0], "yhat": [0.7, 0.4], "log_base": 2},
        {"loss": "reinforce", "rewards": [1, 2], "probs": [0.5, 0.9]},
        {
            "loss": "ctc",
            "label": "ab",
            "probabilities": {"a": 0.3, "b": 0.3, "-": 0.4},
            "frames": 4,
        },
    ],
)
def test_custom_of_one_term_with_weight_one_equals_that_loss(term, tmp_path):
    alone = _json(["solve", _write(tmp_path, term, "alone.yaml")])["results"][0]["result"]
    custom = _json(["custom", _write(tmp_path, {"loss": "custom", "terms": [term]})])
    assert custom["value"] == pytest.approx(alone["value"], rel=1e-15)


def test_custom_nests_to_a_documented_depth(tmp_path):
    leaf = {"loss": "mse", "y": [1], "yhat": [3]}
    two = {"loss": "custom", "terms": [{"loss": "custom", "weight": 2, "terms": [leaf]}]}
    assert _json(["custom", _write(tmp_path, two)])["value"] == 8.0
    three = {"loss": "custom", "terms": [{"loss": "custom", "terms": [two]}]}
    result = CliRunner().invoke(app, ["custom", _write(tmp_path, three)])
    assert result.exit_code == 2 and "nest at most 3 deep" in result.stderr


# --- bad input -----------------------------------------------------------------------------

SEQ = {"loss": "sequence", "target": [1, 2], "yhat": [[0.2, 0.8, 0.0], [0.1, 0.3, 0.6]]}
RL = {"loss": "reinforce", "rewards": [1, 2], "probs": [0.5, 0.9]}


@pytest.mark.parametrize(
    ("problem", "key"),
    [
        ({**SEQ, "target": [1, 5]}, "target[1]"),
        ({**SEQ, "target": [1, 2, 0]}, "target"),
        ({**SEQ, "target": [0, 0], "ignore_index": 0}, "target"),
        ({**SEQ, "yhat": [[0.2, 1.8, 0.0], [0.1, 0.3, 0.6]]}, "yhat[0][1]"),
        ({**SEQ, "target": [[1, 2], [1]], "yhat": [SEQ["yhat"], SEQ["yhat"]]}, "target[1]"),
        ({**SEQ, "logits": [[1, 2, 3], [1, 2, 3]]}, "logits"),
        ({**RL, "probs": [0.5]}, "probs"),
        ({**RL, "probs": [0.5, 1.5]}, "probs[1]"),
        ({**RL, "returns": "discounted"}, "returns"),
        ({**RL, "gamma": 1.5}, "gamma"),
        ({**RL, "baseline": "median"}, "baseline"),
        ({**RL, "rewards": [1], "probs": [0.5], "normalize": True}, "normalize"),
        ({"loss": "custom", "terms": [{**RL, "expected": 1}]}, "terms[0].expected"),
        ({"loss": "custom", "terms": [{**RL, "probs": [0.5, 2]}]}, "terms[0].probs[1]"),
        ({"loss": "custom", "terms": [{"y": [1], "yhat": [1]}]}, "terms[0].loss"),
        ({"loss": "custom", "terms": [{**SEQ, "reduction": "none"}]}, "terms[0].reduction"),
        ({"loss": "custom", "terms": []}, "terms"),
        ({"loss": "custom", "terms": [{**RL, "weight": "heavy"}]}, "terms[0].weight"),
    ],
)
def test_bad_sequence_level_input(problem, key, tmp_path):
    path = _write(tmp_path, problem)
    result = CliRunner().invoke(app, ["solve", path])
    assert result.exit_code == 2, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr
    assert f"{path}: {key}:" in lines[0]


def test_rows_that_do_not_sum_to_one_warn(tmp_path):
    data = _json(
        ["sequence", _write(tmp_path, {**SEQ, "yhat": [[0.2, 0.7, 0.0], [0.1, 0.3, 0.6]]})]
    )
    assert any("yhat[0]" in w and "0.9" in w for w in data["warnings"])
