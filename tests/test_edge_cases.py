"""Edge cases found by trying to break the tool: each must stay fixed."""

from __future__ import annotations

import json
import math
import subprocess
import sys
import time

import numpy as np
import pytest
from cli_helpers import invoke as _run
from cli_helpers import write_problem as _write


def test_a_label_of_digits_keeps_its_leading_zero(tmp_path):
    path = _write(
        tmp_path,
        "loss: ctc\nlabel: 0123\nframes: 4\n"
        "probabilities: {'0': 0.2, '1': 0.2, '2': 0.2, '3': 0.2, '-': 0.2}\n",
    )
    result = _run(["ctc", path, "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["label"] == "0123"


def test_a_string_label_splits_into_known_symbols_beside_a_long_blank(tmp_path):
    path = _write(
        tmp_path,
        "loss: ctc\nlabel: HI\nblank: <b>\nframes: 3\nprobabilities: {H: 0.4, I: 0.4, <b>: 0.2}\n",
    )
    data = json.loads(_run(["ctc", path, "--json"]).stdout)
    assert data["label"] == "HI" and data["dp"]["paths"] == math.comb(3 + 2, 4)


def test_all_zero_probabilities_name_the_key(tmp_path):
    path = _write(tmp_path, "loss: ctc\nlabel: a\nframes: 2\nprobabilities: {a: 0, '-': 0}\n")
    result = _run(["ctc", path])
    assert result.exit_code == 2 and f"{path}: probabilities:" in result.stderr


def test_inline_errors_name_the_flag_as_typed():
    result = _run(
        ["ctc", "--label", "ab", "--probabilities", "a=0.5,b=0.3,-=0.2", "--alignment", "ab=0.5"]
    )
    assert result.exit_code == 2 and "--alignment[0].factors" in result.stderr


def test_no_negative_zero_in_json():
    result = _run(["bce", "--y", "1,0", "--yhat", "1,0", "--json"])
    assert '"terms": [0.0, 0.0]' in result.stdout and "-0.0" not in result.stdout


def test_a_zero_probability_on_every_alignment_is_explained(tmp_path):
    problem = {
        "loss": "ctc",
        "label": "a",
        "alphabet": ["-", "a"],
        "probs": [[1.0, 0.0], [1.0, 0.0]],
    }
    data = json.loads(_run(["ctc", _write(tmp_path, problem), "--json"]).stdout)
    assert data["value"] == "inf"
    assert any("passes through a probability of 0" in w for w in data["warnings"])


def test_a_sum_that_overflows_keeps_its_mean():
    data = json.loads(_run(["mse", "--y", "1.3e154,1.3e154", "--yhat", "0,0", "--json"]).stdout)
    assert data["sum"] == "inf" and data["mean"] == pytest.approx(1.69e308, rel=1e-3)
    assert any("overflows" in w for w in data["warnings"])


def test_numpy_never_prints_warnings():
    for args in (
        ["mse", "--y", "1e308,-1e308", "--yhat", "-1e308,1e308"],
        ["hinge", "--y", "-1", "--yhat", "1e308", "--margin", "1e308"],
        ["nll", "--target", "0", "--logits", "1e308,-1e308"],
    ):
        result = _run(args)
        assert result.exit_code == 0 and result.stderr == "", (args, result.stderr)


def test_a_wide_ctc_problem_renders_quickly_and_within_the_width(tmp_path):
    rng = np.random.default_rng(0)
    symbols = [f"s{i}" for i in range(100)]
    problem = {
        "loss": "ctc",
        "label": ["s1", "s2"] * 10,
        "alphabet": ["-", *symbols],
        "logits": rng.normal(size=(60, 101)).tolist(),
        "grad": True,
        "trellis": True,
    }
    path = _write(tmp_path, problem)
    for width in (60, 80, 120):
        start = time.perf_counter()
        result = _run(["ctc", path], env={"COLUMNS": str(width)})
        assert time.perf_counter() - start < 5
        assert result.exit_code == 0
        assert max(len(line) for line in result.stdout.splitlines()) <= width
        assert "left out to fit" in result.stdout


def test_a_closed_pipe_is_not_an_answer_mismatch(tmp_path):
    for i in range(40):
        _write(tmp_path, "loss: hinge\ny: [1, -1, 1]\nyhat: [0.8, -0.5, 0.3]\n", f"p{i}.yaml")
    script = (
        "import subprocess, sys\n"
        f"p = subprocess.Popen([sys.executable, '-m', 'rnnloss_cli', 'solve', {str(tmp_path)!r},"
        " '--details'], stdout=subprocess.PIPE, stderr=subprocess.PIPE)\n"
        "p.stdout.readline(); p.stdout.close(); err = p.stderr.read(); code = p.wait()\n"
        "print(code); print(err.decode())\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False
    )
    code, _, err = done.stdout.partition("\n")
    assert code == "0" and "Traceback" not in err


def test_control_characters_in_a_title_are_shown_as_control_pictures(tmp_path):
    path = _write(tmp_path, 'loss: hinge\ntitle: "\\e[31mred"\ny: [1]\nyhat: [2]\n')
    result = _run(["hinge", path])
    assert "\x1b" not in result.stdout and "␛[31mred" in result.stdout


def test_upper_case_extensions_are_found(tmp_path):
    _write(tmp_path, "loss: hinge\ny: [1]\nyhat: [2]\n", "P.YAML")
    data = json.loads(_run(["solve", str(tmp_path), "--json"]).stdout)
    assert data["summary"]["solved"] == 1


def test_a_bar_always_separates_sequences_inline():
    wrong = _run(["seq", "--target", "0,1", "--yhat", "0.5,0.5|0.3,0.7"])
    assert wrong.exit_code == 2 and "--target" in wrong.stderr
    data = json.loads(
        _run(["seq", "--target", "0;1", "--yhat", "0.5,0.5|0.3,0.7", "--json"]).stdout
    )
    assert data["value"] == pytest.approx(-math.log(0.5) - math.log(0.7), rel=1e-12)
    assert data["terms"] == [[pytest.approx(-math.log(0.5))], [pytest.approx(-math.log(0.7))]]


def test_reinforce_at_the_edge_of_float64():
    data = json.loads(
        _run(
            ["rl", "--rewards", "1e308,1e308", "--probs", "0.5,0.5", "--baseline", "mean", "--json"]
        ).stdout
    )
    assert data["value"] == 0.0 and data["warnings"] == []
    data = json.loads(
        _run(
            [
                "rl",
                "--rewards",
                "1e308,1e308",
                "--probs",
                "0.5,0.5",
                "--returns",
                "reward-to-go",
                "--json",
            ]
        ).stdout
    )
    assert data["value"] == "inf" and "overflows" in data["warnings"][0]
    clash = _run(["rl", "--rewards", "1,-1", "--probs", "0,0"])
    assert clash.exit_code == 2 and len(clash.stderr.splitlines()) == 1


def test_svg_to_a_missing_folder_fails_before_any_output():
    result = _run(["mse", "--y", "1", "--yhat", "0.5", "--svg", "/nonexistent/x.svg"])
    assert result.exit_code == 2 and result.stdout == ""


def test_markdown_escapes_what_the_user_wrote(tmp_path):
    path = _write(
        tmp_path,
        "loss: nll\ntitle: '*bold* <b>x</b>'\nclasses: [<pad>, a_b]\n"
        "target: [a_b]\nyhat: [0.5, 0.5]\n",
    )
    out = _run(["nll", path, "--format", "markdown"]).stdout
    assert out.startswith("## \\*bold\\* &lt;b&gt;x&lt;/b&gt;")
    assert "&lt;pad&gt;" in out and "a\\_b" in out and "<pad>" not in out
