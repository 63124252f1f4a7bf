"""Input as a person types or pastes it (issue 10, item 8): spaces around `=`, the minus
sign and infinity that rnnloss itself prints read back, fullwidth forms, a tab used for
YAML indentation named as such, piped input without `-`, and the typing slips that
cannot be read unambiguously (a dash for a minus, a decimal comma, a trailing comma,
spaces between numbers, brackets) refused with a message that says what to write."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from cli_helpers import invoke, write_problem

from rnnloss_cli.errors import ProblemError
from rnnloss_cli.loader import parse_problems
from rnnloss_cli.problems.values import (
    parse_array,
    parse_array3,
    parse_number,
    tolerance_from_text,
)

ROOT = Path(__file__).resolve().parents[1]
LECTURE_HE = ["ctc", "--label", "HE", "--frames", "3", "--json"]


def _json(args: list[str]) -> dict:
    result = invoke(args)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def _error(args: list[str]) -> str:
    """Return the one error line of a run that must end with exit status 2."""
    result = invoke(args)
    assert result.exit_code == 2, (result.stdout, result.stderr)
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("rnnloss: "), result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


# --- `--probabilities` and `--alignment`: spaces, `:`, and `=` as a symbol ---------------


@pytest.mark.parametrize(
    "text",
    [
        "H = 0.6, E = 0.5, - = 0.2",
        "H=0.6 , E=0.5 , -=0.2",
        " H =0.6,E= 0.5 ,\t- = 0.2 ",
        "H: 0.6, E: 0.5, -: 0.2",  # YAML's mapping, typed inline
    ],
)
def test_probabilities_read_with_spaces_around_the_separator(text):
    plain = _json([*LECTURE_HE, "--probabilities", "H=0.6,E=0.5,-=0.2"])
    spaced = _json([*LECTURE_HE, "--probabilities", text])
    assert spaced == plain


def test_the_last_equals_sign_separates_so_a_symbol_may_be_equals():
    # `==0.2` is the symbol `=` with 0.2: a value never holds `=`, a symbol may.
    got = _json(
        [
            "ctc",
            "--label",
            "H",
            "--blank",
            "=",
            "--probabilities",
            "H=0.6, = = 0.4",
            "--frames",
            "2",
            "--json",
        ]
    )
    want = _json(
        ["ctc", "--label", "H", "--probabilities", "H=0.6,-=0.4", "--frames", "2", "--json"]
    )
    assert got["dp"] == want["dp"] and got["blank"] == "="


@pytest.mark.parametrize(
    ("text", "words"),
    [
        (" =0.2,H=0.6", "has no symbol: write a symbol before its"),
        ("H=0,6,-=0,2", "decimal point"),
        ("H 0.6", "SYMBOL=PROBABILITY"),
    ],
)
def test_a_malformed_probability_says_what_to_write(text, words):
    line = _error(["ctc", "--label", "H", "--probabilities", text, "--frames", "2"])
    assert line.startswith("rnnloss: --probabilities") and words in line


def test_an_inline_alignment_reads_with_spaces_around_its_equals_sign():
    args = ["ctc", "--label", "HE", "--probabilities", "H=0.6,E=0.5,-=0.2", "--json"]
    spaced = _json([*args, "--alignment", " H-E = 0.6, 0.2 ,0.5 "])
    plain = _json([*args, "--alignment", "H-E=0.6,0.2,0.5"])
    assert spaced == plain


def test_an_inline_alignment_may_hold_the_symbol_equals():
    # With `=` as the blank, `H=` is a plain path and `=H=0.4,0.6` the path `=H` with two
    # stated factors: the last `=` separates, and a path of known symbols has no factors.
    out = _json(
        [
            "ctc",
            "--label",
            "H",
            "--blank",
            "=",
            "--probabilities",
            "H=0.6,==0.4",
            "--alignment",
            "H=",
            "--alignment",
            "=H=0.4,0.6",
            "--json",
        ]
    )
    paths = [(a["path"], a["factors"]) for a in out["naive"]["alignments"]]
    assert paths == [("H=", [0.6, 0.4]), ("=H", [0.4, 0.6])]


# --- the minus sign, infinity and exponents that rnnloss prints, read back ---------------


@pytest.mark.parametrize(
    ("typed", "plain"),
    [
        (
            ["hinge", "--y", "−1,1", "--yhat", "0.7,−0.2"],
            ["hinge", "--y", "-1,1", "--yhat", "0.7,-0.2"],
        ),
        (
            ["hinge", "--y", "1,−1", "--yhat", "1,1", "--margin", "−0.5"],
            ["hinge", "--y", "1,-1", "--yhat", "1,1", "--margin", "-0.5"],
        ),
        (
            ["cce", "--target", "0,1", "--logits", "1,−1;−2,0.5"],
            ["cce", "--target", "0,1", "--logits", "1,-1;-2,0.5"],
        ),
        (
            ["sequence", "--target", "0,1|1,0", "--logits", "1,−1;−2,0.5|0,1;1.5e−01,−3"],
            ["sequence", "--target", "0,1|1,0", "--logits", "1,-1;-2,0.5|0,1;1.5e-01,-3"],
        ),
        (
            ["mse", "--y", "１，－２，３", "--yhat", "﹣1,２．５,3"],  # fullwidth and small forms
            ["mse", "--y", "1,-2,3", "--yhat", "-1,2.5,3"],
        ),
    ],
)
def test_inline_numbers_read_the_minus_sign_rnnloss_prints(typed, plain):
    assert _json([*typed, "--json"]) == _json([*plain, "--json"])


def test_expected_with_the_minus_sign_keeps_the_tolerance_of_its_text():
    args = ["reinforce", "--rewards", "−1,−2", "--probs", "0.5,0.5", "--json"]  # −2.07944
    loose = invoke([*args, "--expected", "−2.08"])
    assert loose.exit_code == 0 and json.loads(loose.stdout)["tolerance"] == pytest.approx(0.005)
    tight = invoke([*args, "--expected", "−2.080"])  # trailing zero: ± 0.0005, 0.0006 off
    assert tight.exit_code == 1 and json.loads(tight.stdout)["tolerance"] == pytest.approx(5e-4)


@pytest.mark.parametrize(
    ("text", "value", "tolerance"),
    [
        ("−0.467", -0.467, 0.0005),
        ("−0.50", -0.5, 0.005),
        ("1.88e−04", 1.88e-4, 5e-7),
        ("－０．５０", -0.5, 0.005),
        ("−∞", -math.inf, 0.0),
    ],
)
def test_tolerance_from_text_written_with_the_minus_sign(text, value, tolerance):
    assert tolerance_from_text(text, value) == pytest.approx(tolerance)  # `−0.50` was 0.05
    assert parse_number(text, "expected", allow_inf=True) == value


def test_a_problem_file_reads_the_minus_sign_and_infinity(tmp_path):
    path = write_problem(
        tmp_path,
        "problems:\n"
        "  - loss: hinge\n    y: [1, −1, 1]\n    yhat: [0.8, −0.5, 0.3]\n    expected: 0.467\n"
        "  - loss: reinforce\n    rewards: [−1, −2]\n    probs: [0.5, 0.5]\n"
        "    expected: −2.080\n    tolerance: 1e−03\n"
        "  - loss: bce\n    y: [1]\n    yhat: [0]\n    expected: ∞\n"
        "  - loss: nll\n    target: [0]\n    log_probs: [[−0.1, −∞]]\n",
    )
    result = invoke(["solve", path, "--json"])
    assert result.exit_code == 0, result.stderr
    results = [r["result"] for r in json.loads(result.stdout)["results"]]
    assert [r["matches"] for r in results] == [True, True, True, None]
    assert results[1]["tolerance"] == pytest.approx(1e-3)
    assert results[2]["value"] == "inf" and results[3]["value"] == pytest.approx(0.1)


def test_infinity_stays_refused_where_it_is_not_allowed():
    with pytest.raises(ProblemError, match="infinity is not allowed"):
        parse_number("∞", "margin")
    with pytest.raises(ProblemError, match="infinity is not allowed"):
        parse_array("1,−∞", "y")


def test_arrays_of_typed_text_equal_their_ascii_spelling():
    np.testing.assert_array_equal(
        parse_array("−1, 2.5e−01; ３, −∞", "k", allow_neg_inf=True),
        np.array([[-1, 0.25], [3, -np.inf]]),
    )
    np.testing.assert_array_equal(
        parse_array(["−1", 0.5, "﹢2"], "k"),
        np.array([-1, 0.5, 2]),
    )
    np.testing.assert_array_equal(
        parse_array3("1,−1;−2,0|0,1;1,0", "k"), np.array([[[1, -1], [-2, 0]], [[0, 1], [1, 0]]])
    )


@pytest.mark.parametrize(
    ("dash", "name"),
    [("–", "an en dash"), ("—", "an em dash"), ("‐", "a hyphen"), ("‒", "a figure dash")],
)
def test_a_dash_for_a_minus_is_refused_with_what_to_write(dash, name):
    line = _error(["hinge", "--y", f"{dash}1,1", "--yhat", "1,1"])
    assert line.startswith(f"rnnloss: --y[0]: '{dash}1' is not a number")
    assert name in line and "write − or -" in line


def test_a_dash_in_a_file_is_named_too(tmp_path):
    path = write_problem(tmp_path, "loss: mse\ny: [1]\nyhat: [1]\nexpected: –0.5\n")
    line = _error(["mse", path])
    assert line.endswith(
        "p.yaml: expected: '–0.5' is not a number: '–' (U+2013, an en dash) is not a minus "
        "sign; write − or -"
    )


# --- other slips: ambiguous ones refused with a message, clear ones read -----------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--y", "1,-1,", "--yhat", "1,1"],
            "--y: '1,-1,' ends with ',': give the value after it, or drop the ','",
        ),
        (["--y", ",1,-1", "--yhat", "1,1"], "--y: ',1,-1' starts with ','"),
        (["--y", "1,-1", "--yhat", "1,1;"], "--yhat: '1,1;' ends with ';'"),
        (
            ["--y", "1,-1", "--yhat", "1,1", "--margin", "0,5"],
            "--margin: '0,5' is not a number: write a decimal point (0.5); a comma separates the "
            "values of a list",
        ),
        (
            ["--y", "1 -1 1", "--yhat", "1,1,1"],
            "--y: '1 -1 1' has spaces between numbers: separate a list's values with commas "
            "(1,-1,1)",
        ),
        (
            ["--y", "1,-1", "--yhat", "1,1", "--expected", "1\u00a0000"],
            "--expected: '1\u00a0000' has spaces between numbers: separate a list's values with "
            "commas (1,000); a number is written without spaces",
        ),
        (
            ["--y", "[1,-1]", "--yhat", "1,1"],
            "--y[0]: '[1' is not a number: write a list without brackets (1,-1,1; rows split by ;)",
        ),
    ],
)
def test_an_ambiguous_slip_says_what_to_write(args, message):
    line = _error(["hinge", *args])
    assert line.startswith(f"rnnloss: {message}"), line


def test_a_decimal_comma_in_a_file_is_named(tmp_path):
    path = write_problem(tmp_path, "loss: mse\ny: [1]\nyhat: [1]\nexpected: 0,5\n")
    assert "expected: '0,5' is not a number: write a decimal point (0.5)" in _error(["mse", path])


def test_non_breaking_spaces_around_values_are_spaces():
    nbsp = "\u00a0"
    assert _json(["hinge", "--y", f"1,{nbsp}-1", "--yhat", f"0.5{nbsp},1", "--json"]) == _json(
        ["hinge", "--y", "1,-1", "--yhat", "0.5,1", "--json"]
    )


# --- a tab used for YAML indentation ----------------------------------------------------

TAB_INDENTED = [
    ("loss: mse\ny:\n\t- 1\nyhat: [1]\n", 3, 1),  # a sequence under a key
    ("loss: ctc\nprobabilities:\n\tH: 0.6\n", 3, 1),  # a nested mapping
    ("\tloss: mse\n", 1, 1),  # the first line
    ("problems:\n  - loss: mse\n\t  y: [1]\n", 3, 1),  # "a tab that violates indentation"
    ("loss: mse\ny:\n  - 1\n  \t- 2\n", 4, 3),  # spaces, then a tab
    ("y:\n-\t1\n", 2, 2),  # after a sequence's dash
    ("loss: mse\n\t# a comment\n", 2, 1),
    ("title: |\n\tindented text\n", 2, 1),  # a block scalar
    ("loss: mse\r\ny:\r\n\t- 1\r\n", 3, 1),  # Windows line ends
]


@pytest.mark.parametrize(("text", "line", "column"), TAB_INDENTED)
@pytest.mark.parametrize("loader", ["CSafeLoader", "SafeLoader"])
def test_a_tab_used_for_indentation_is_named(monkeypatch, text, line, column, loader):
    if loader == "SafeLoader":  # the pure-Python parser, where libyaml is not installed
        monkeypatch.delattr(yaml, "CSafeLoader", raising=False)
    elif not hasattr(yaml, "CSafeLoader"):
        pytest.skip("PyYAML without libyaml")
    with pytest.raises(ProblemError) as caught:
        parse_problems(text, "p.yaml")
    assert str(caught.value) == (
        f"p.yaml: line {line}, column {column}: a tab is used for indentation; "
        "YAML indents with spaces only"
    )


def test_a_tab_as_a_yaml_indent_through_the_command(tmp_path):
    path = write_problem(tmp_path, "loss: hinge\ny:\n\t- 1\nyhat: [1]\n")
    assert _error(["hinge", path]) == (
        f"rnnloss: {path}: line 3, column 1: a tab is used for indentation; "
        "YAML indents with spaces only"
    )


def test_a_tab_elsewhere_that_the_python_parser_refuses_is_named(monkeypatch):
    monkeypatch.delattr(yaml, "CSafeLoader", raising=False)
    with pytest.raises(ProblemError) as caught:
        parse_problems("loss: mse\ny: [1]\t\n", "p.yaml")
    assert str(caught.value) == (
        "p.yaml: line 2, column 7: a tab where this YAML parser takes only spaces; "
        "write spaces instead"
    )


@pytest.mark.parametrize(
    "text",
    [
        'loss: mse\ntitle: "a\tb"\ny: [1]\nyhat: [1]\n',  # in a quoted string
        "loss: mse\t\ny: [1]\t# a comment\nyhat: [1]\n",  # after a value
        "loss:\tmse\ny: [1,\n\t2]\nyhat: [1, 2]\n",  # after a colon; in a flow list
    ],
)
def test_a_tab_that_libyaml_accepts_keeps_working(text):
    if not hasattr(yaml, "CSafeLoader"):
        pytest.skip("PyYAML without libyaml")
    [problem] = parse_problems(text, "p.yaml")
    assert problem.data["loss"] == "mse"


def test_a_yaml_error_that_is_not_a_tab_keeps_its_message():
    with pytest.raises(ProblemError, match="invalid YAML"):
        parse_problems("loss: mse\ny: [1\n", "p.yaml")


# --- piped input without `-` -------------------------------------------------------------


def _run(*args: str, stdin, **settings) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "rnnloss_cli", *args],
        stdin=stdin,
        **settings,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=ROOT,
    )


def _piped(*args: str) -> subprocess.CompletedProcess[str]:
    """Run `echo PROBLEM | rnnloss ARGS`: standard input is a pipe."""
    return _run(*args, stdin=None, input="loss: hinge\ny: [1]\nyhat: [1]\n")


PIPED = (
    "rnnloss: standard input is not read without -: run `rnnloss hinge -` "
    "(or give a problem FILE or the inputs as flags)\n"
)
NOT_PIPED = "rnnloss: give a problem FILE or the inputs as flags (see `rnnloss hinge --help`)\n"


def test_piped_input_without_dash_says_to_pass_dash(tmp_path):
    path = write_problem(tmp_path, "loss: hinge\ny: [1]\nyhat: [1]\n")
    with open(path, "rb") as handle:  # `rnnloss hinge < p.yaml`
        redirected = _run("hinge", stdin=handle)
    piped = _piped("hinge")
    for done in (redirected, piped):
        assert (done.returncode, done.stdout, done.stderr) == (2, "", PIPED)


def test_solve_with_piped_input_and_no_paths_says_to_pass_dash():
    piped = _piped("solve")
    assert piped.returncode == 2
    assert piped.stderr.endswith("(standard input is not read without -: run `rnnloss solve -`)\n")
    alone = _run("solve", stdin=subprocess.DEVNULL)
    assert alone.returncode == 2
    assert "`rnnloss solve problems/`" in alone.stderr


def test_no_input_from_the_null_device_keeps_the_usual_message():
    done = _run("hinge", "--reduction", "sum", stdin=subprocess.DEVNULL)
    assert (done.returncode, done.stderr) == (2, NOT_PIPED)


def test_a_fullwidth_comma_separates_class_indices_and_names():
    args = ["nll", "--yhat", "0.5,0.5,0;0.2,0.3,0.5", "--json"]
    assert _json([*args, "--target", "０，２"]) == _json([*args, "--target", "0,2"])
    named = ["--classes", "cat，dog，eel", "--target", "cat，eel"]
    assert _json([*args, *named]) == _json(
        [*args, "--classes", "cat,dog,eel", "--target", "cat,eel"]
    )
