"""Black-box tests of the command line against the public contract
(/work/shared/problem-format.md, sections 1, 2 and 4) and issue 2: exit statuses, one-line
errors, strict JSON, answer-key tolerance, several problems per file, `solve`, help, aliases,
standard input and colour-free output."""

from __future__ import annotations

import json
import math
import os
from importlib.metadata import version
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rnnloss_cli.cli import app

runner = CliRunner()

REPO = Path(__file__).resolve().parent.parent
LN2, LN10 = math.log(2), math.log(10)
HINGE_LECTURE = "loss: hinge\ny: [1, -1, 1]\nyhat: [0.8, -0.5, 0.3]\n"
JSON_KEYS = {
    "loss",
    "title",
    "value",
    "reduction",
    "terms",
    "sum",
    "mean",
    "expected",
    "matches",
    "warnings",
}


# --- helpers ---------------------------------------------------------------------------------


def run(*args: str, input: str | bytes | None = None, env: dict[str, str] | None = None):
    return runner.invoke(app, list(args), input=input, env=env)


def _reject_constant(token: str):
    raise ValueError(f"non-strict JSON token {token}")


def strict_json(text: str):
    """Parse stdout as exactly one strict JSON value (no NaN/Infinity tokens)."""
    return json.loads(text, parse_constant=_reject_constant)


def write(directory: Path, name: str, text: str | bytes) -> Path:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def no_crash(result) -> None:
    assert "Traceback" not in result.stdout
    assert "Traceback" not in result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )


def assert_one_line_error(result, *needles: str, stdout_empty: bool = True) -> str:
    """Exit 2, exactly one line on stderr containing every needle, no traceback."""
    no_crash(result)
    assert result.exit_code == 2, (result.exit_code, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got {len(lines)}: {result.stderr!r}"
    line = lines[0]
    for needle in needles:
        assert needle in line, f"{needle!r} not in {line!r}"
    if stdout_empty:
        assert result.stdout == "", f"stdout should be empty: {result.stdout!r}"
    return line


def solve_json(*args: str, **kwargs):
    result = run(*args, "--json", **kwargs)
    no_crash(result)
    return result, strict_json(result.stdout)


# --- bad inputs: exit 2, one line naming file and key ---------------------------------------

BAD_FILES = [
    # (id, command, file text, needles besides the file name)
    ("invalid-yaml", "mse", "loss: mse\ny: [1, 2\nyhat: [1, 2]\n", ()),
    ("invalid-utf8", "mse", b"loss: mse\ny: [1, 2]\nyhat: [1, 2]\ntitle: \xff\xfe\xfa\n", ()),
    ("python-tag", "mse", "loss: mse\ny: !!python/object:os.system [1]\nyhat: [1]\n", ()),
    ("local-tag", "mse", "loss: mse\ny: !foo [1, 2]\nyhat: [1, 2]\n", ()),
    ("list-document", "mse", "- 1\n- 2\n", ()),
    ("scalar-document", "mse", "just a string\n", ()),
    ("unknown-loss", "solve", "loss: hubber\ny: [1]\nyhat: [1]\n", ("loss", "hubber")),
    ("typo-key-yaht", "mse", "loss: mse\ny: [1, 2]\nyaht: [1, 2]\n", ("yaht", "yhat")),
    (
        "extra-key-yaht",
        "mse",
        "loss: mse\ny: [1, 2]\nyhat: [1, 2]\nyaht: [1, 2]\n",
        ("yaht", "yhat"),
    ),
    ("log_base-on-mse", "mse", "loss: mse\ny: [1, 2]\nyhat: [1, 2]\nlog_base: 2\n", ("log_base",)),
    ("margin-on-bce", "bce", "loss: bce\ny: [1, 0]\nyhat: [0.5, 0.5]\nmargin: 1\n", ("margin",)),
    ("length-mismatch", "mse", "loss: mse\ny: [1, 2, 3]\nyhat: [1, 2]\n", ("y",)),
    ("shape-mismatch-2d", "mse", "loss: mse\ny: [[1, 2], [3, 4]]\nyhat: [[1, 2, 3]]\n", ("y",)),
    ("ragged-matrix", "mse", "loss: mse\ny: [[1, 2], [3]]\nyhat: [[1, 2], [3, 4]]\n", ("y",)),
    (
        "rows-vs-targets",
        "nll",
        "loss: nll\ntarget: [0, 1, 1]\nyhat: [[0.5, 0.5], [0.5, 0.5]]\n",
        (),
    ),
    ("non-number", "mse", "loss: mse\ny: [1, 2]\nyhat: [1, abc]\n", ("yhat[1]",)),
    ("boolean", "mse", "loss: mse\ny: [1, 2]\nyhat: [1, true]\n", ("yhat[1]",)),
    ("null", "mse", "loss: mse\ny: [1, 2]\nyhat: [1, null]\n", ("yhat[1]",)),
    ("nan", "mse", "loss: mse\ny: [1, 2]\nyhat: [1, .nan]\n", ("yhat[1]",)),
    ("prob-above-1", "bce", "loss: bce\ny: [1, 0]\nyhat: [0.5, 1.2]\n", ("yhat[1]", "1.2")),
    ("prob-below-0", "bce", "loss: bce\ny: [1, 0]\nyhat: [-0.1, 0.5]\n", ("yhat[0]",)),
    ("bce-target-outside", "bce", "loss: bce\ny: [1, 2]\nyhat: [0.5, 0.5]\n", ("y[1]",)),
    ("hinge-label-2", "hinge", "loss: hinge\ny: [1, 2, 1]\nyhat: [0.1, 0.2, 0.3]\n", ("y[1]",)),
    (
        "nll-target-out-of-range",
        "nll",
        "loss: nll\ntarget: [0, 3]\nyhat: [[0.2, 0.3, 0.5], [0.2, 0.3, 0.5]]\n",
        ("target[1]",),
    ),
    (
        "cce-negative-target",
        "cce",
        "loss: cce\ntarget: [-1]\nyhat: [[0.2, 0.3, 0.5]]\n",
        ("target[0]",),
    ),
    (
        "yhat-and-logits",
        "bce",
        "loss: bce\ny: [1, 0]\nyhat: [0.5, 0.5]\nlogits: [0.1, 0.2]\n",
        ("yhat", "logits"),
    ),
    (
        "unknown-reduction",
        "mse",
        "loss: mse\ny: [1, 2]\nyhat: [1, 2]\nreduction: median\n",
        ("reduction", "median"),
    ),
    (
        "unknown-log_base",
        "bce",
        "loss: bce\ny: [1, 0]\nyhat: [0.5, 0.5]\nlog_base: 3\n",
        ("log_base",),
    ),
    ("empty-inputs", "mse", "loss: mse\ny: []\nyhat: []\n", ("y",)),
    (
        "expected-with-reduction-none",
        "mse",
        "loss: mse\ny: [1, 2]\nyhat: [1, 3]\nreduction: none\nexpected: 0.5\n",
        ("expected",),
    ),
    (
        "soft-labels-to-nll",
        "nll",
        "loss: nll\ny: [[0.3, 0.7], [0, 1]]\nyhat: [[0.4, 0.6], [0.5, 0.5]]\n",
        ("cce",),
    ),
    ("missing-yhat", "mse", "loss: mse\ny: [1, 2]\n", ("yhat",)),
    ("empty-file", "mse", "", ()),
    ("problems-not-a-list", "solve", "problems: 5\n", ("problems",)),
    (
        "expected-not-a-number",
        "mse",
        "loss: mse\ny: [1]\nyhat: [2]\nexpected: abc\n",
        ("expected",),
    ),
    (
        "label-smoothing-1",
        "cce",
        "loss: cce\ntarget: [0]\nyhat: [[0.5, 0.5]]\nlabel_smoothing: 1\n",
        ("label_smoothing",),
    ),
    ("cce-soft-label-outside", "cce", "loss: cce\ny: [[1.5, -0.5]]\nyhat: [[0.5, 0.5]]\n", ("y",)),
    (
        "class-name-without-classes",
        "nll",
        "loss: nll\ntarget: [cat]\nyhat: [[0.5, 0.5]]\n",
        ("target[0]",),
    ),
    (
        "unknown-class-name",
        "nll",
        "loss: nll\nclasses: [cat, dog]\ntarget: [cat, cow]\nyhat: [[0.5, 0.5], [0.5, 0.5]]\n",
        ("target[1]", "cow"),
    ),
    ("loss-differs-from-command", "bce", HINGE_LECTURE, ("loss",)),
]


@pytest.mark.parametrize(
    ("command", "text", "needles"),
    [pytest.param(c, t, n, id=i) for i, c, t, n in BAD_FILES],
)
def test_bad_input_is_one_clean_line(command, text, needles, tmp_path):
    path = write(tmp_path, "p.yaml", text)
    result = run(command, str(path))
    # solve may print its table; a single-loss command prints nothing on stdout
    assert_one_line_error(result, "p.yaml", *needles, stdout_empty=command != "solve")


def test_hinge_zero_one_labels_say_minus_one(tmp_path):
    path = write(tmp_path, "p.yaml", "loss: hinge\ny: [1, 0, 1]\nyhat: [0.8, -0.5, 0.3]\n")
    line = assert_one_line_error(run("hinge", str(path)), "p.yaml", "y[1]")
    assert "-1" in line or "−1" in line, line


def test_bad_problem_in_a_list_names_its_position(tmp_path):
    text = "problems:\n  - loss: hinge\n    y: [1]\n    yhat: [0.5]\n  - 7\n"
    result = run("hinge", str(write(tmp_path, "p.yaml", text)))
    line = assert_one_line_error(result, "p.yaml", stdout_empty=False)
    assert "problems[1]" in line or "#1" in line, line


def test_missing_loss_in_solve(tmp_path):
    path = write(tmp_path, "p.yaml", "y: [1, -1]\nyhat: [0.5, 0.5]\n")
    result = run("solve", str(path))
    assert_one_line_error(result, "p.yaml", "loss", stdout_empty=False)


def test_missing_file(tmp_path):
    result = run("hinge", str(tmp_path / "nope.yaml"))
    assert_one_line_error(result, "nope.yaml")


def test_directory_where_file_expected(tmp_path):
    folder = tmp_path / "somedir"
    folder.mkdir()
    result = run("hinge", str(folder))
    assert_one_line_error(result, "somedir")


@pytest.mark.skipif(
    hasattr(os, "geteuid") and os.geteuid() == 0, reason="root can read a chmod 000 file"
)
def test_unreadable_file(tmp_path):
    path = write(tmp_path, "locked.yaml", HINGE_LECTURE)
    path.chmod(0)
    try:
        assert_one_line_error(run("hinge", str(path)), "locked.yaml")
    finally:
        path.chmod(0o644)


def test_inline_flag_error_names_the_flag():
    result = run("bce", "--y", "1,0", "--yhat", "0.5,1.2")
    assert_one_line_error(result, "--yhat[1]")


def test_inline_flag_non_number_names_the_flag():
    result = run("hinge", "--y", "1,-1", "--yhat", "0.5,abc")
    assert_one_line_error(result, "--yhat[1]")


def test_inline_hinge_zero_label_names_the_flag():
    result = run("hinge", "--y", "1,0", "--yhat", "0.5,0.5")
    line = assert_one_line_error(result, "--y[1]")
    assert "-1" in line or "−1" in line, line


@pytest.mark.parametrize(
    ("args", "flag"),
    [
        pytest.param(("cce", "--target", "0,1", "--yhat", "0.7,0.3;0.5"), "--yhat", id="ragged"),
        pytest.param(
            ("bce", "--y", "1,0", "--yhat", "0.5,0.5", "--logits", "1,2"), "--", id="both"
        ),
        pytest.param(
            ("mse", "--y", "1,2", "--yhat", "1,3", "--reduction", "none", "--expected", "0.5"),
            "--expected",
            id="expected-with-none",
        ),
        pytest.param(
            ("mse", "--y", "1,2", "--yhat", "1,2", "--reduction", "avg"),
            "--reduction",
            id="reduction",
        ),
        pytest.param(
            ("bce", "--y", "1", "--yhat", "0.5", "--log-base", "3"), "--log-base", id="log-base"
        ),
        pytest.param(
            ("nll", "--target", "0,5", "--yhat", "0.5,0.5;0.5,0.5"),
            "--target[1]",
            id="target-range",
        ),
    ],
)
def test_inline_errors_are_one_line_naming_the_flag(args, flag):
    assert_one_line_error(run(*args), flag)


def test_error_line_is_not_wrapped_for_long_paths(tmp_path):
    deep = tmp_path / ("a_rather_long_folder_name_for_wrapping_" * 3) / "nested"
    path = write(
        deep, "a_problem_file_with_a_long_name.yaml", "loss: bce\ny: [1, 0]\nyhat: [0.5, 1.2]\n"
    )
    assert_one_line_error(run("bce", str(path)), "a_problem_file_with_a_long_name.yaml", "yhat[1]")


def test_no_inputs_at_all_is_usage_error():
    result = run("hinge")
    no_crash(result)
    assert result.exit_code == 2
    assert result.stdout == ""


def test_unknown_option_is_usage_error():
    result = run("hinge", "--bogus", "1")
    no_crash(result)
    assert result.exit_code == 2


def test_error_from_standard_input_is_one_line():
    result = run("bce", "-", input="loss: bce\ny: [1, 0]\nyhat: [0.5, 1.2]\n")
    assert_one_line_error(result, "yhat[1]")


# --- inline flags -----------------------------------------------------------------------------


def test_inline_hinge_lecture_example():
    result, out = solve_json("hinge", "--y", "1,-1,1", "--yhat", "0.8,-0.5,0.3")
    assert result.exit_code == 0
    assert out["loss"] == "hinge"
    assert out["reduction"] == "mean"
    assert out["value"] == pytest.approx(1.4 / 3, abs=1e-9)
    assert out["terms"] == pytest.approx([0.2, 0.5, 0.7], abs=1e-9)
    assert out["sum"] == pytest.approx(1.4, abs=1e-9)
    assert out["mean"] == pytest.approx(1.4 / 3, abs=1e-9)
    assert out["expected"] is None
    assert out["matches"] is None
    assert out["warnings"] == []


def test_inline_values_starting_with_minus():
    result, out = solve_json("hinge", "--y", "-1,1", "--yhat", "-0.5,2")
    assert result.exit_code == 0
    assert out["terms"] == pytest.approx([0.5, 0.0], abs=1e-12)
    assert out["value"] == pytest.approx(0.25, abs=1e-12)


def test_inline_matrix_rows_with_semicolons():
    result, out = solve_json("cce", "--target", "0,2", "--yhat", "0.7,0.2,0.1;0.1,0.3,0.6")
    assert result.exit_code == 0
    assert out["loss"] == "cce"
    assert out["reduction"] == "sum"
    assert out["terms"] == pytest.approx([-math.log(0.7), -math.log(0.6)], rel=1e-9)
    assert out["value"] == pytest.approx(-math.log(0.7) - math.log(0.6), rel=1e-9)


def test_inline_log_base_and_tolerance():
    _, out = solve_json("bce", "--y", "1", "--yhat", "0.5", "--log-base", "2")
    assert out["value"] == pytest.approx(1.0, rel=1e-9)
    args = ("hinge", "--y", "1,-1,1", "--yhat", "0.8,-0.5,0.3", "--expected", "0.466")
    result = run(*args, "--tolerance", "0.001")
    no_crash(result)
    assert result.exit_code == 0


def test_inline_expected_uses_its_written_precision():
    args = ("hinge", "--y", "1,-1,1", "--yhat", "0.8,-0.5,0.3")
    ok = run(*args, "--expected", "0.467")
    no_crash(ok)
    assert ok.exit_code == 0
    bad = run(*args, "--expected", "0.466")
    no_crash(bad)
    assert bad.exit_code == 1


# --- JSON output ------------------------------------------------------------------------------


def test_json_has_the_contract_keys(tmp_path):
    path = write(tmp_path, "p.yaml", HINGE_LECTURE + "expected: 0.467\n")
    result, out = solve_json("hinge", str(path))
    assert result.exit_code == 0
    assert isinstance(out, dict)
    assert set(out) >= JSON_KEYS
    assert out["expected"] == pytest.approx(0.467)
    assert out["matches"] is True
    assert isinstance(out["warnings"], list)


def test_json_is_the_only_thing_on_stdout(tmp_path):
    path = write(tmp_path, "p.yaml", "loss: nll\ntarget: [0]\nyhat: [[0.5, 0.3]]\n")
    result = run("nll", str(path), "--json")
    no_crash(result)
    out = strict_json(result.stdout)  # raises on any extra text
    assert isinstance(out, dict)
    assert result.stdout.strip().startswith("{")


def test_infinite_loss_is_the_string_inf_with_a_warning():
    result = run("bce", "--y", "1", "--yhat", "0", "--json")
    no_crash(result)
    assert result.exit_code == 0
    out = strict_json(result.stdout)
    assert out["value"] == "inf"
    assert out["warnings"], "an infinite loss needs a warning naming the term"
    assert "Infinity" not in result.stdout
    assert "NaN" not in result.stdout


def test_zero_log_zero_is_zero():
    result, out = solve_json("bce", "--y", "0,1", "--yhat", "0,1")
    assert result.exit_code == 0
    assert out["terms"] == pytest.approx([0.0, 0.0], abs=1e-12)
    assert out["value"] == pytest.approx(0.0, abs=1e-12)


def test_reduction_none_value_is_terms(tmp_path):
    path = write(tmp_path, "p.yaml", HINGE_LECTURE + "reduction: none\n")
    result, out = solve_json("hinge", str(path))
    assert result.exit_code == 0
    assert out["reduction"] == "none"
    assert isinstance(out["value"], list)
    assert out["value"] == out["terms"]
    assert out["sum"] == pytest.approx(1.4, abs=1e-9)
    assert out["mean"] == pytest.approx(1.4 / 3, abs=1e-9)


def test_mse_2d_gives_nested_term_rows(tmp_path):
    path = write(tmp_path, "p.yaml", "loss: mse\ny: [[1, 2], [3, 4]]\nyhat: [[1, 3], [5, 4]]\n")
    result, out = solve_json("mse", str(path))
    assert result.exit_code == 0
    assert out["terms"] == [pytest.approx([0.0, 1.0]), pytest.approx([4.0, 0.0])]
    assert out["sum"] == pytest.approx(5.0)
    assert out["mean"] == pytest.approx(1.25)
    assert out["value"] == pytest.approx(1.25)


def test_json_on_mismatch_still_prints_the_result(tmp_path):
    path = write(tmp_path, "p.yaml", HINGE_LECTURE + "expected: 0.466\n")
    result, out = solve_json("hinge", str(path))
    assert result.exit_code == 1
    assert out["matches"] is False
    assert out["expected"] == pytest.approx(0.466)


# --- section 1: number formats ----------------------------------------------------------------


def test_comma_separated_strings_in_a_file(tmp_path):
    text = 'loss: hinge\ny: "1,-1,1"\nyhat: "0.8,-0.5,0.3"\n'
    result, out = solve_json("hinge", str(write(tmp_path, "p.yaml", text)))
    assert result.exit_code == 0
    assert out["value"] == pytest.approx(1.4 / 3, abs=1e-9)


def test_semicolon_matrix_string_in_a_file(tmp_path):
    text = 'loss: cce\ntarget: "0,2"\nyhat: "0.7,0.2,0.1;0.1,0.3,0.6"\n'
    result, out = solve_json("cce", str(write(tmp_path, "p.yaml", text)))
    assert result.exit_code == 0
    assert out["value"] == pytest.approx(-math.log(0.7) - math.log(0.6), rel=1e-9)


# --- section 2: the losses --------------------------------------------------------------------

DEFAULT_REDUCTIONS = [
    ("mse", "loss: mse\ny: [3, 5, 2.5]\nyhat: [2.5, 5, 4]\n", "mean", 2.5 / 3),
    (
        "bce",
        "loss: bce\ny: [1, 0, 1]\nyhat: [0.9, 0.2, 0.6]\n",
        "mean",
        -(math.log(0.9) + math.log(0.8) + math.log(0.6)) / 3,
    ),
    (
        "nll",
        "loss: nll\ntarget: [1, 2]\nyhat: [[0.1, 0.6, 0.3], [0.2, 0.2, 0.6]]\n",
        "sum",
        -2 * math.log(0.6),
    ),
    (
        "cce",
        "loss: cce\ny: [[0, 1], [1, 0]]\nyhat: [[0.4, 0.6], [0.7, 0.3]]\n",
        "sum",
        -(math.log(0.6) + math.log(0.7)),
    ),
    ("hinge", HINGE_LECTURE, "mean", 1.4 / 3),
]


@pytest.mark.parametrize(("loss", "text", "reduction", "value"), DEFAULT_REDUCTIONS)
def test_default_reductions(loss, text, reduction, value, tmp_path):
    result, out = solve_json(loss, str(write(tmp_path, "p.yaml", text)))
    assert result.exit_code == 0
    assert out["loss"] == loss
    assert out["reduction"] == reduction
    assert out["value"] == pytest.approx(value, rel=1e-9)
    assert out["value"] == pytest.approx(out[reduction], rel=1e-12)
    assert out["mean"] == pytest.approx(out["sum"] / len(out["terms"]), rel=1e-12)


@pytest.mark.parametrize(("base", "divisor"), [("e", 1.0), ("2", LN2), ("10", LN10)])
@pytest.mark.parametrize("loss", ["bce", "nll", "cce"])
def test_log_base_divides_by_ln_base(loss, base, divisor, tmp_path):
    if loss == "bce":
        text = "loss: bce\ny: [1, 0]\nyhat: [0.9, 0.2]\n"
        natural = -(math.log(0.9) + math.log(0.8)) / 2
    else:
        text = f"loss: {loss}\ntarget: [1, 0]\nyhat: [[0.4, 0.6], [0.7, 0.3]]\n"
        natural = -(math.log(0.6) + math.log(0.7))
    text += f"log_base: {base}\n"
    result, out = solve_json(loss, str(write(tmp_path, "p.yaml", text)))
    assert result.exit_code == 0
    assert out["value"] == pytest.approx(natural / divisor, rel=1e-9)


def test_nll_single_1d_pair_is_one_observation(tmp_path):
    text = "loss: nll\ny: [0, 1, 0]\nyhat: [0.2, 0.7, 0.1]\n"
    result, out = solve_json("nll", str(write(tmp_path, "p.yaml", text)))
    assert result.exit_code == 0
    assert len(out["terms"]) == 1
    assert out["value"] == pytest.approx(-math.log(0.7), rel=1e-9)


def test_nll_log_probs_and_logits(tmp_path):
    lp = [math.log(0.2), math.log(0.3), math.log(0.5)]
    text = f"loss: nll\ntarget: [2]\nlog_probs: [{lp}]\n".replace("'", "")
    _, out = solve_json("nll", str(write(tmp_path, "a.yaml", text)))
    assert out["value"] == pytest.approx(-math.log(0.5), rel=1e-9)
    z = [1.0, 2.0, 3.0]
    softmax_2 = math.exp(3) / sum(math.exp(v) for v in z)
    text = "loss: nll\ntarget: [2]\nlogits: [[1.0, 2.0, 3.0]]\n"
    _, out = solve_json("nll", str(write(tmp_path, "b.yaml", text)))
    assert out["value"] == pytest.approx(-math.log(softmax_2), rel=1e-9)


def test_bce_logits_apply_the_sigmoid():
    result, out = solve_json("bce", "--y", "1,0", "--logits", "2,-1", "--reduction", "sum")
    assert result.exit_code == 0
    sig = lambda x: 1 / (1 + math.exp(-x))  # noqa: E731
    assert out["value"] == pytest.approx(-math.log(sig(2)) - math.log(1 - sig(-1)), rel=1e-9)


def test_cce_label_smoothing(tmp_path):
    text = "loss: cce\ntarget: [0]\nyhat: [[0.7, 0.2, 0.1]]\nlabel_smoothing: 0.3\n"
    result, out = solve_json("cce", str(write(tmp_path, "p.yaml", text)))
    assert result.exit_code == 0
    want = -(0.8 * math.log(0.7) + 0.1 * math.log(0.2) + 0.1 * math.log(0.1))
    assert out["value"] == pytest.approx(want, rel=1e-9)


def test_cce_soft_labels(tmp_path):
    text = "loss: cce\ny: [[0.3, 0.7]]\nyhat: [[0.4, 0.6]]\n"
    result, out = solve_json("cce", str(write(tmp_path, "p.yaml", text)))
    assert result.exit_code == 0
    assert out["value"] == pytest.approx(-(0.3 * math.log(0.4) + 0.7 * math.log(0.6)), rel=1e-9)


def test_rows_not_summing_to_one_warn_and_are_not_renormalised(tmp_path):
    text = "loss: nll\ntarget: [0]\nyhat: [[0.5, 0.3]]\n"
    result, out = solve_json("nll", str(write(tmp_path, "p.yaml", text)))
    assert result.exit_code == 0
    assert out["value"] == pytest.approx(-math.log(0.5), rel=1e-9)
    assert any("0.8" in w for w in out["warnings"]), out["warnings"]


def test_bce_clip(tmp_path):
    text = "loss: bce\ny: [1]\nyhat: [0]\nclip: 1.0e-7\n"
    result, out = solve_json("bce", str(write(tmp_path, "p.yaml", text)))
    assert result.exit_code == 0
    assert out["value"] == pytest.approx(-math.log(1e-7), rel=1e-6)


def test_hinge_margin_and_squared():
    _, out = solve_json("hinge", "--y", "1,-1,1", "--yhat", "0.8,-0.5,0.3", "--margin", "2")
    assert out["terms"] == pytest.approx([1.2, 1.5, 1.7], abs=1e-9)
    _, out = solve_json("hinge", "--y", "1,-1,1", "--yhat", "0.8,-0.5,0.3", "--squared")
    assert out["terms"] == pytest.approx([0.04, 0.25, 0.49], abs=1e-9)


MULTICLASS = "loss: hinge\ntarget: [0, 2]\nscores: [[1.0, 0.5, 0.2], [0.1, 0.9, 0.3]]\n"


@pytest.mark.parametrize(
    ("extra", "terms"),
    [
        pytest.param("", [0.5, 1.6], id="default-crammer-singer"),
        pytest.param("multiclass: crammer-singer\n", [0.5, 1.6], id="crammer-singer"),
        pytest.param("multiclass: weston-watkins\n", [0.7 / 3, 2.4 / 3], id="weston-watkins"),
    ],
)
def test_multiclass_hinge(extra, terms, tmp_path):
    # crammer-singer as sklearn.metrics.hinge_loss (1.05 here), weston-watkins as
    # torch.nn.functional.multi_margin_loss (0.516667 here)
    result = run("hinge", str(write(tmp_path, "p.yaml", MULTICLASS + extra)), "--json")
    no_crash(result)
    assert result.exit_code == 0, result.stderr
    out = strict_json(result.stdout)
    assert out["terms"] == pytest.approx(terms, abs=1e-9)
    assert out["value"] == pytest.approx(sum(terms) / 2, abs=1e-9)


# --- tolerance --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "status"),
    [
        pytest.param("expected: 0.467\n", 0, id="0.467"),
        pytest.param("expected: 0.4667\n", 0, id="0.4667"),
        pytest.param("expected: 0.47\n", 0, id="0.47"),
        pytest.param("expected: 0.466\n", 1, id="0.466-off-by-0.00067"),
        pytest.param("expected: 0.4670\n", 1, id="0.4670-trailing-zero-counts"),
        pytest.param("expected: 0.466\ntolerance: 0.001\n", 0, id="tolerance-widens"),
        pytest.param("expected: 0.467\ntolerance: 0.0001\n", 1, id="tolerance-narrows"),
    ],
)
def test_tolerance_of_expected(extra, status, tmp_path):
    path = write(tmp_path, "p.yaml", HINGE_LECTURE + extra)
    result, out = solve_json("hinge", str(path))
    assert result.exit_code == status, out
    assert out["matches"] is (status == 0)


@pytest.mark.parametrize(("written", "status"), [("0.50", 0), ("0.500", 1)])
def test_trailing_zeros_set_the_tolerance(written, status, tmp_path):
    # true value 1 - 0.5033 = 0.4967: within 0.005 of 0.50, not within 0.0005 of 0.500
    text = f"loss: hinge\ny: [1]\nyhat: [0.5033]\nexpected: {written}\n"
    result = run("hinge", str(write(tmp_path, "p.yaml", text)))
    no_crash(result)
    assert result.exit_code == status


# --- several problems per file ----------------------------------------------------------------

TWO_DOCS = HINGE_LECTURE + "expected: 0.467\n---\nloss: hinge\ny: [-1, 1]\nyhat: [-0.5, 2]\n"
TWO_LISTED = """\
problems:
  - loss: hinge
    y: [1, -1, 1]
    yhat: [0.8, -0.5, 0.3]
    expected: 0.467
  - loss: hinge
    y: [-1, 1]
    yhat: [-0.5, 2]
"""


@pytest.mark.parametrize("text", [TWO_DOCS, TWO_LISTED], ids=["documents", "problems-list"])
def test_single_loss_command_solves_each_problem(text, tmp_path):
    path = write(tmp_path, "two.yaml", text)
    result, out = solve_json("hinge", str(path))
    assert result.exit_code == 0
    assert set(out) == {"results", "summary"}
    assert [r["index"] for r in out["results"]] == [0, 1]
    assert all(r["ok"] for r in out["results"])
    first, second = (r["result"] for r in out["results"])
    assert first["value"] == pytest.approx(1.4 / 3, abs=1e-9)
    assert first["matches"] is True
    assert second["value"] == pytest.approx(0.25, abs=1e-12)
    assert first["title"] == "two.yaml#0"
    assert second["title"] == "two.yaml#1"
    summary = out["summary"]
    assert summary["problems"] == 2
    assert summary["solved"] == 2
    assert summary["matched"] == 1
    assert summary["mismatched"] == 0
    assert summary["errors"] == 0


def test_several_problems_one_mismatch_exits_1(tmp_path):
    text = HINGE_LECTURE + "expected: 0.466\n---\n" + HINGE_LECTURE + "expected: 0.467\n"
    result = run("hinge", str(write(tmp_path, "two.yaml", text)))
    no_crash(result)
    assert result.exit_code == 1


def test_several_problems_of_another_loss_is_an_error(tmp_path):
    text = HINGE_LECTURE + "---\nloss: mse\ny: [1]\nyhat: [2]\n"
    result = run("hinge", str(write(tmp_path, "two.yaml", text)))
    no_crash(result)
    assert result.exit_code == 2
    assert "two.yaml" in result.stderr


# --- default title ----------------------------------------------------------------------------


def test_default_title_is_the_file_name(tmp_path):
    result, out = solve_json("hinge", str(write(tmp_path, "lecture.yaml", HINGE_LECTURE)))
    assert result.exit_code == 0
    assert out["title"] == "lecture.yaml"


def test_explicit_title_wins(tmp_path):
    text = HINGE_LECTURE + "title: My example\n"
    _, out = solve_json("hinge", str(write(tmp_path, "lecture.yaml", text)))
    assert out["title"] == "My example"


# --- solve ------------------------------------------------------------------------------------


def test_solve_recurses_filters_and_sorts_by_full_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "probs/b.yaml", HINGE_LECTURE)
    write(tmp_path, "probs/a/z.yaml", "loss: mse\ny: [1, 2]\nyhat: [1, 3]\n")
    write(tmp_path, "probs/c.yml", "loss: bce\ny: [1]\nyhat: [0.5]\n")
    write(tmp_path, "probs/notes.txt", "not a problem")
    write(tmp_path, "probs/README.md", "# not a problem")
    result, out = solve_json("solve", "probs")
    assert result.exit_code == 0
    files = [r["file"] for r in out["results"]]
    assert [Path(f).name for f in files] == ["z.yaml", "b.yaml", "c.yml"]
    assert files[0].replace("\\", "/").endswith("a/z.yaml")
    assert [r["index"] for r in out["results"]] == [0, 0, 0]
    assert [r["result"]["loss"] for r in out["results"]] == ["mse", "hinge", "bce"]
    assert out["summary"] == {
        "problems": 3,
        "solved": 3,
        "matched": 0,
        "mismatched": 0,
        "errors": 0,
    }


def test_solve_files_and_folders_together(tmp_path):
    single = write(tmp_path, "one.yaml", HINGE_LECTURE)
    write(tmp_path, "dir/two.yaml", HINGE_LECTURE)
    result, out = solve_json("solve", str(single), str(tmp_path / "dir"))
    assert result.exit_code == 0
    assert out["summary"]["problems"] == 2
    assert out["summary"]["solved"] == 2


def test_solve_bad_file_among_good_ones(tmp_path):
    write(tmp_path, "a_good.yaml", HINGE_LECTURE + "expected: 0.467\n")
    write(tmp_path, "b_bad.yaml", "loss: bce\ny: [1, 0]\nyhat: [0.5, 1.2]\n")
    write(tmp_path, "c_good.yaml", "loss: mse\ny: [1]\nyhat: [3]\nexpected: 4\n")
    result, out = solve_json("solve", str(tmp_path))
    assert result.exit_code == 2
    by_name = {Path(r["file"]).name: r for r in out["results"]}
    assert set(by_name) == {"a_good.yaml", "b_bad.yaml", "c_good.yaml"}
    assert by_name["a_good.yaml"]["ok"] is True
    assert by_name["c_good.yaml"]["ok"] is True
    assert by_name["c_good.yaml"]["result"]["matches"] is True
    bad = by_name["b_bad.yaml"]
    assert bad["ok"] is False
    assert isinstance(bad["error"], str)
    assert "yhat[1]" in bad["error"]
    summary = out["summary"]
    assert summary["problems"] == 3
    assert summary["solved"] == 2
    assert summary["matched"] == 2
    assert summary["errors"] == 1
    assert "Traceback" not in result.stderr


def test_solve_unreadable_yaml_counts_as_one_error(tmp_path):
    write(tmp_path, "good.yaml", HINGE_LECTURE)
    write(tmp_path, "broken.yaml", "loss: mse\ny: [1, 2\n")
    result, out = solve_json("solve", str(tmp_path))
    assert result.exit_code == 2
    assert out["summary"]["problems"] == 2
    assert out["summary"]["errors"] == 1
    assert out["summary"]["solved"] == 1


def test_solve_missing_path_is_an_error_but_others_solve(tmp_path):
    good = write(tmp_path, "good.yaml", HINGE_LECTURE)
    result, out = solve_json("solve", str(good), str(tmp_path / "missing.yaml"))
    assert result.exit_code == 2
    assert out["summary"]["solved"] == 1
    assert out["summary"]["errors"] == 1


def test_solve_mismatch_alone_exits_1(tmp_path):
    write(tmp_path, "a.yaml", HINGE_LECTURE + "expected: 0.467\n")
    write(tmp_path, "b.yaml", HINGE_LECTURE + "expected: 0.400\n")
    result, out = solve_json("solve", str(tmp_path))
    assert result.exit_code == 1
    assert out["summary"]["matched"] == 1
    assert out["summary"]["mismatched"] == 1
    assert out["summary"]["errors"] == 0


def test_solve_several_problems_file_has_indices(tmp_path):
    write(tmp_path, "many.yaml", TWO_LISTED)
    _, out = solve_json("solve", str(tmp_path))
    assert [(Path(r["file"]).name, r["index"]) for r in out["results"]] == [
        ("many.yaml", 0),
        ("many.yaml", 1),
    ]
    assert [r["result"]["title"] for r in out["results"]] == ["many.yaml#0", "many.yaml#1"]


def test_solve_bundled_problems_all_match():
    result, out = solve_json("solve", str(REPO / "problems"))
    assert result.exit_code == 0, result.stderr
    assert out["results"], "no bundled problems found"
    assert all(r["ok"] for r in out["results"])
    assert all(r["result"]["matches"] is True for r in out["results"])
    summary = out["summary"]
    assert summary["problems"] == summary["solved"] == summary["matched"] >= 5
    assert summary["errors"] == summary["mismatched"] == 0


def test_solve_bundled_problems_plain_text():
    result = run("solve", str(REPO / "problems"))
    no_crash(result)
    assert result.exit_code == 0
    assert "\x1b[" not in result.stdout


# --- help, version, aliases -------------------------------------------------------------------


def test_version():
    result = run("--version")
    no_crash(result)
    assert result.exit_code == 0
    assert version("rnnloss") in result.stdout


@pytest.mark.parametrize("flag", ["-h", "--help"])
def test_app_help(flag):
    result = run(flag)
    no_crash(result)
    assert result.exit_code == 0
    for command in ("mse", "bce", "nll", "cce", "hinge", "solve"):
        assert command in result.stdout


@pytest.mark.parametrize("flag", ["-h", "--help"])
@pytest.mark.parametrize("command", ["mse", "bce", "nll", "cce", "hinge", "solve"])
def test_command_help_shows_an_example(command, flag):
    result = run(command, flag)
    no_crash(result)
    assert result.exit_code == 0
    assert "example" in result.stdout.lower()
    # an example invocation beyond the usage line
    assert result.stdout.count(f"rnnloss {command}") >= 2


@pytest.mark.parametrize(
    ("alias", "canonical", "args"),
    [
        ("cross-entropy", "bce", ("--y", "1,0", "--yhat", "0.9,0.2")),
        ("categorical-cross-entropy", "cce", ("--target", "0", "--yhat", "0.7,0.3")),
        ("sequence-hinge", "hinge", ("--y", "1,-1,1", "--yhat", "0.8,-0.5,0.3")),
    ],
)
def test_command_aliases(alias, canonical, args):
    result, out = solve_json(alias, *args)
    assert result.exit_code == 0
    assert out["loss"] == canonical


@pytest.mark.parametrize(
    ("alias", "canonical"),
    [("cross-entropy", "bce"), ("categorical-cross-entropy", "cce"), ("sequence-hinge", "hinge")],
)
def test_loss_aliases_in_files(alias, canonical, tmp_path):
    bodies = {
        "bce": "y: [1, 0]\nyhat: [0.9, 0.2]\n",
        "cce": "target: [0]\nyhat: [[0.7, 0.3]]\n",
        "hinge": "y: [1, -1]\nyhat: [0.8, -0.5]\n",
    }
    path = write(tmp_path, "p.yaml", f"loss: {alias}\n" + bodies[canonical])
    result, out = solve_json("solve", str(path))
    assert result.exit_code == 0
    assert out["results"][0]["result"]["loss"] == canonical
    result, out = solve_json(canonical, str(path))
    assert result.exit_code == 0
    assert out["loss"] == canonical


# --- standard input ---------------------------------------------------------------------------


def test_dash_reads_standard_input():
    result, out = solve_json("hinge", "-", input=HINGE_LECTURE + "expected: 0.467\n")
    assert result.exit_code == 0
    assert out["value"] == pytest.approx(1.4 / 3, abs=1e-9)
    assert out["matches"] is True


def test_solve_dash_reads_standard_input():
    result, out = solve_json("solve", "-", input=HINGE_LECTURE)
    assert result.exit_code == 0
    assert out["summary"]["solved"] == 1
    assert out["results"][0]["result"]["loss"] == "hinge"


# --- no colour codes --------------------------------------------------------------------------


@pytest.mark.parametrize("env", [None, {"NO_COLOR": "1"}], ids=["piped", "NO_COLOR"])
def test_plain_output_has_no_ansi_codes(env, tmp_path):
    path = write(tmp_path, "p.yaml", HINGE_LECTURE + "expected: 0.467\n")
    result = run("hinge", str(path), env=env)
    no_crash(result)
    assert result.exit_code == 0
    assert "\x1b[" not in result.stdout
    assert "\x1b[" not in result.stderr
    assert "0.4667" in result.stdout or "0.466667" in result.stdout


def test_error_output_has_no_ansi_codes(tmp_path):
    path = write(tmp_path, "p.yaml", "loss: bce\ny: [1, 0]\nyhat: [0.5, 1.2]\n")
    result = run("bce", str(path), env={"NO_COLOR": "1"})
    assert result.exit_code == 2
    assert "\x1b[" not in result.stderr
