"""Regression tests for defects a review of issue 13 (`--grad` on every loss, the `rnn`
loss) found: an output problem's shape error that hid the RNN's part in it, an overflow
at the RNN's output blamed on W_hh, and a loss's option given to `solve` that crashed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import invoke, write_problem


def _rnn(**changes: Any) -> dict[str, Any]:
    return {
        "loss": "rnn",
        "W_xh": [[0.5], [-0.3]],
        "W_hh": [[0.1, 0.2], [0.0, 0.4]],
        "b_h": [0, 0],
        "W_hy": [[1.0, -1.0]],
        "b_y": [0],
        "inputs": [1, 2, 3],
        "output": {"loss": "mse", "y": [2, 3, 4]},
    } | changes


def test_an_output_shape_error_says_what_the_rnn_gives(tmp_path: Path):
    # The user never wrote yhat: the line must say that the RNN's outputs are it.
    path = write_problem(tmp_path, _rnn(output={"loss": "mse", "y": [2, 3]}))
    result = invoke(["rnn", path])
    assert result.exit_code == 2
    assert "(the RNN gives 3 values as yhat)" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_an_overflow_at_the_output_is_not_blamed_on_w_hh(tmp_path: Path):
    # W_hyᵀ·∂L/∂oₜ overflows at the last step itself: nothing was carried back through
    # time, so "make W_hh smaller, or truncate" would send the user the wrong way.
    path = write_problem(tmp_path, _rnn(activation="relu", W_hy=[[1e308, 1e308]]))
    result = invoke(["rnn", path, "--json"])
    assert result.exit_code == 2
    assert "at the output" in result.stderr and "W_hy" in result.stderr
    assert "W_hh" not in result.stderr and "Traceback" not in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize(
    "args",
    [
        ["solve", "problems/", "--grad"],
        ["explain", "mse", "--grad"],
        ["new", "mse", "--margin", "2"],
    ],
)
def test_a_loss_option_on_another_command_is_a_usage_line(args: list[str]):
    result = invoke(args)
    assert result.exit_code == 2
    assert "internal error" not in result.stderr
    assert "No such option" in result.stderr and "it belongs to" in result.stderr


def test_solve_points_grad_to_the_problem_file():
    result = invoke(["solve", "problems/", "--grad"])
    assert "write it as a key in the problem file" in result.stderr


def test_the_rnn_still_solves_after_these_fixes():
    result = invoke(["rnn", "problems/rnn_forecast_mse.yaml", "--json"])
    assert result.exit_code == 0
    assert json.loads(result.stdout)["matches"] is True


def test_a_custom_term_given_as_one_row_keeps_its_gradient_shape(tmp_path):
    # cce with one observation written as a flat row: its grad is a flat row on its own,
    # and stays one (× its weight) as a term of a custom loss
    term = {"loss": "cce", "target": 1, "yhat": [0.2, 0.7, 0.1]}
    alone = tmp_path / "alone.yaml"
    alone.write_text(json.dumps(term | {"grad": True}), encoding="utf-8")
    custom = tmp_path / "custom.yaml"
    terms = [
        term | {"name": "a", "weight": 0.5},
        {"name": "b", "loss": "mse", "y": [1], "yhat": [2]},
    ]
    custom.write_text(
        json.dumps({"loss": "custom", "grad": True, "terms": terms}), encoding="utf-8"
    )
    own = json.loads(invoke(["cce", str(alone), "--json"]).stdout)["grad"]
    weighted = json.loads(invoke(["custom", str(custom), "--json"]).stdout)["components"][0]["grad"]
    assert own == pytest.approx([0.0, -1 / 0.7, 0.0])
    assert weighted == pytest.approx([0.0, -0.5 / 0.7, 0.0])
