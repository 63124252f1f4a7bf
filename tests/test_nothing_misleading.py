"""Words and numbers that agree with the working (audit of issue 10, "Nothing lost, nothing
misleading"): a key matched by the unnormalised CTC sum is named as the working names it,
every value of the Answer box under reduction mean is in the working with its ÷ L, the
Answer box never presents a −log of a sum that is not a probability as the loss, the
trellis says what its cells are, warnings write numbers as the working does, and an
infinite loss's zero gradient is explained."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import pytest
from cli_helpers import invoke

from rnnloss_cli.render.numbers import num

ROOT = Path(__file__).resolve().parent.parent
HELLO = str(ROOT / "problems/hello.yaml")
DEEP = str(ROOT / "problems/deep.yaml")
HE = ["ctc", "--label", "HE", "--probabilities", "H=1,E=1,-=1", "--frames", "100"]
MATRIX = ["ctc", "--label", "at", "--alphabet", "-,a,t", "--probs", "0.5,0.3,0.2;0.2,0.5,0.3"]


def _run(args: list[str], width: int = 100) -> str:
    result = invoke(args, env={"COLUMNS": str(width), "NO_COLOR": "1"})
    assert result.exit_code in (0, 1), result.output
    return result.stdout


def _json(args: list[str]) -> dict:
    return json.loads(_run([*args, "--json"]))


def _flat(text: str) -> str:
    """Return text with the boxes' borders and line breaks gone: one line of words."""
    return " ".join(text.replace("│", " ").split())


def _answer(text: str) -> str:
    start = text.index("╮", text.index("─ Answer")) + 1
    return _flat(text[start : text.index("╰", start)])


# --- 3. a key matched by the unnormalised exact sum ---------------------------------------


def test_a_key_matching_the_unnormalised_sum_is_named_as_the_working_names_it():
    text = _run(["ctc", HELLO, "--expected", "0.6924"])
    flat = _flat(text)
    assert "its −ln, 0.692418, is not a loss" in flat  # the working's words
    answer = _answer(text)
    assert "the exact loss, 0.692418" not in answer
    assert "but it matches the −log of the unnormalised exact sum (method exact), 0.692418" in (
        answer
    )
    assert "it is not a loss: the values sum to 2.8, not 1" in answer
    [reading] = _json(["ctc", HELLO, "--expected", "0.6924"])["matches_instead"]
    assert reading["settings"] == {"method": "exact"}
    assert reading["what"] == "the −log of the unnormalised exact sum (method exact)"
    assert "not a loss" in reading["note"]
    markdown = _run(["ctc", HELLO, "--expected", "0.6924", "--format", "markdown"])
    assert "the −log of the unnormalised exact sum (method exact), 0.692418" in markdown


def test_a_key_matching_the_exact_loss_of_a_distribution_still_says_the_exact_loss():
    args = ["ctc", "--label", "ab", "--probabilities", "a=0.5,b=0.3,-=0.2", "--frames", "3"]
    args += ["--alignment", "ab-", "--expected"]
    exact = _json([*args, "1"])["dp"]["loss"]
    reading = _json([*args, num(exact, 4)])["matches_instead"][0]
    assert reading["what"] == "the exact loss" and reading["note"] == ""


# --- 4. reduction mean: every value of the Answer box is in the working -----------------


MEAN_CASES = [
    ["ctc", HELLO],
    ["ctc", HELLO, "--method", "valid"],
    ["ctc", HELLO, "--method", "exact"],
    ["ctc", HELLO, "--method", "normalized"],
    ["ctc", DEEP],
    ["ctc", "--label", "ab", "--probabilities", "a=0.5,b=0.3,-=0.2", "--alignment", "ab-"],
    HE,
    MATRIX,
]


@pytest.mark.parametrize("args", MEAN_CASES)
@pytest.mark.parametrize("markdown", [False, True])
def test_reduction_mean_shows_every_answer_value_divided_in_the_working(args, markdown):
    args = [*args, "--reduction", "mean"]
    if markdown:
        text = _run([*args, "--format", "markdown"])
        working, answer = text.split("**Answer:**")
        answer = answer.split("> **")[0]
    else:
        text = _run(args)
        working, answer = text[: text.index("─ Answer")], _answer(text)
    data = _json(args)
    symbols = len(data["label"])
    answer_lines = [line for line in answer.split("\n") if line.strip()]
    losses = [data["dp"]["loss"], (data["dp"].get("normalized") or {}).get("loss")]
    if data.get("naive"):
        losses += [data["naive"]["loss"], data["naive"]["valid_loss"]]
    means = {num(loss / symbols) for loss in losses if isinstance(loss, float)}
    shown = {m for m in means if re.search(rf"(?<![\d.]){re.escape(m)}(?![\d])", answer)}
    assert num(data["value"]) in shown
    for value in shown:
        assert f"/ {symbols} label symbols = {value}" in _flat(working), value
    # Each answer line that gives a loss says it is the mean over the label's symbols.
    for line in answer_lines if markdown else [answer]:
        if "CTC loss" in line or "value of method" in line:
            assert f"mean over {symbols} label symbols" in line


def test_reduction_mean_of_the_lecture_problem_shows_the_normalised_mean_in_the_working():
    text = _run(["ctc", HELLO, "--reduction", "mean"])
    answer = _answer(text)
    assert "(method normalized), mean over 5 label symbols: 1.9918" in answer
    assert "9.95899 / 5 label symbols = 1.9918" in _flat(text[: text.index("─ Answer")])


@pytest.mark.parametrize(
    "args",
    [
        ["ctc", "--label", "a", "--probabilities", "a=0.5,-=0.5", "--frames", "2"],
        ["ctc", "--label", "a", "--alphabet", "-,a", "--probs", "0.5,0.5;0.5,0.5", "--grad"],
    ],
)
def test_reduction_mean_over_one_symbol_is_in_the_singular(args):
    text = _flat(_run([*args, "--reduction", "mean"]))
    assert "label symbols" not in text
    assert "/ 1 label symbol = " in text and "mean over 1 label symbol)" in text


@pytest.mark.parametrize(
    "args",
    [
        ["ctc", "--label", "", "--probabilities", "a=0.5,-=0.5", "--frames", "2"],
        ["ctc", "--label", "", "--probabilities", "a=0.5,-=0.25", "--frames", "2"],
        ["ctc", "--label", "", "--alphabet", "-,a", "--probs", "0.5,0.5;0.5,0.5", "--grad"],
    ],
)
@pytest.mark.parametrize("markdown", [False, True])
def test_reduction_mean_of_an_empty_label_says_it_divides_by_max_l_1(args, markdown):
    # L = 0: torch divides by max(L, 1) = 1; "1 label symbols" would count a symbol that
    # is not there.
    args = [*args, "--reduction", "mean"]
    text = _flat(_run([*args, "--format", "markdown"] if markdown else args))
    assert "label symbol" not in text
    assert "÷ max(L, 1) = 1: the label is empty, L = 0" in text
    assert "mean: ÷ max(L, 1) = 1 for the empty label" in text
    if "--grad" in args and not markdown:
        assert "(softmax − occupancy) / 1 (max(L, 1), L = 0)" in text


# --- 10a. the Answer box never presents the −log of a non-probability as the loss --------


def test_without_alignments_the_answer_is_the_normalised_loss_and_value_is_named():
    data = _json(HE)
    assert data["method"] == "exact" and data["value"] == data["dp"]["loss"]  # the contract
    normalized = data["dp"]["normalized"]["loss"]
    for text in (_answer(_run(HE)), _run([*HE, "--format", "markdown"]).split("**Answer:**")[1]):
        flat = _flat(text)
        assert flat.startswith(
            f"CTC loss (exact, each frame ÷ 3: method normalized) = {num(normalized)}"
        )
        assert (
            f"value of method exact (--json's value): −ln of the unnormalised exact sum = "
            f"{num(data['value'])}, not a loss" in flat
        )
        assert f"CTC loss (exact) = {num(data['value'])}" not in flat


# --- 10b, d. the trellis says what its cells are and what ε stands for -------------------


def test_the_trellis_of_values_that_are_not_a_distribution_says_they_are_sums():
    for text in (_run([*HE, "--trellis"]), _run([*HE, "--trellis", "--format", "markdown"])):
        section = _flat(text[text.index("Trellis") :])
        assert "forward sums α" in section
        assert "products of their values as given — not a probability" in section
        assert "α(t, s): probability" not in section


def test_the_trellis_of_a_distribution_says_probability():
    text = _flat(_run([*MATRIX, "--trellis"]))
    assert "forward probabilities α" in text
    assert "α(t, s): probability of the label prefix" in text


@pytest.mark.parametrize("blank", ["-", "_", "<b>"])
def test_the_trellis_legend_says_which_symbol_epsilon_stands_for(blank):
    args = ["ctc", "--label", "ab", "--blank", blank, "--frames", "3", "--trellis"]
    args += ["--probabilities", f"a=0.5,b=0.3,{blank}=0.2"]
    assert f"ε stands for the blank ({blank})" in _flat(_run(args))
    markdown = _run([*args, "--format", "markdown"])
    assert "ε stands for the blank (" in markdown


# --- 10c. warnings write numbers as the working does ---------------------------------------


@pytest.mark.parametrize("args", [HE, ["ctc", DEEP], ["ctc", HELLO]])
def test_warnings_write_minus_signs_as_the_working_does(args):
    warnings = _json(args)["warnings"]
    assert warnings
    for warning in warnings:
        assert not re.search(r"(?<![\w-])-\d", warning), warning
    assert any("−15.2623" in w for w in _json(HE)["warnings"])


def test_a_message_about_a_number_writes_it_as_the_working_does():
    result = invoke(["hinge", "--y", "1,-2", "--yhat", "0.5,0.5"])
    assert result.exit_code == 2
    assert "got −2" in result.stderr


# --- 10e. an infinite loss's gradient of zeros is explained --------------------------------


def test_the_zero_gradient_of_an_infinite_loss_has_a_note():
    args = ["ctc", "--label", "aa", "--alphabet", "-,a", "--probs", "0.5,0.5", "--grad"]
    data = _json(args)
    assert data["value"] == "inf" and data["dp"]["grad"] == [[0.0, 0.0]]
    for text in (_run(args), _run([*args, "--format", "markdown"])):
        gradient = _flat(text[text.index("Gradient") :].replace("\\_", "_"))
        assert "no alignment has a non-zero probability, so the loss is infinite" in gradient
        assert "zero_infinity" in gradient
    finite = _run(["ctc", "--label", "a", "--alphabet", "-,a", "--probs", "0.5,0.5", "--grad"])
    assert "zero_infinity" not in finite


# --- 5. a value a hair from 1 is never written as 1 where the difference matters ----------


CLIPPED = [
    (
        ["bce", "--y", "0,0.5", "--yhat", "1,1"],
        ["clip(1) = 0.9999999", "−ln(1 − 0.9999999)", "0.5·ln(0.9999999)"],
    ),
    (["bce", "--y", "1,0,1", "--yhat", "1,0.2,0"], ["−ln(0.9999999)", "clip(0) = 1e−07"]),
    (["cce", "--target", "0,1", "--yhat", "1,0;0.5,0.5"], ["clip(1) = 0.9999999"]),
    (["nll", "--target", "0,1", "--yhat", "1,0;0.5,0.5"], ["−ln(0.9999999)"]),
]


@pytest.mark.parametrize(("args", "shown"), CLIPPED)
@pytest.mark.parametrize("markdown", [False, True])
def test_keras_epsilon_never_turns_a_clipped_value_into_1(args, shown, markdown):
    args = [*args, "--clip", "1e-7", *(["--format", "markdown"] if markdown else [])]
    text = _run(args, width=200).replace("\\[", "[").replace("\\]", "]")
    assert "[1e−07, 0.9999999]" in text  # the bounds, in Inputs and Formula
    assert "1e−07, 1]" not in text
    for item in shown:
        assert item in text
    assert not re.search(r"ln\(1( − 1)?\)|= 1 ", text)  # no ln(1), ln(1 − 1), clip(…) = 1


@pytest.mark.parametrize(
    ("args", "shown"),
    [
        (["bce", "--y", "0", "--yhat", "0.9999999"], "−ln(1 − 0.9999999)"),
        (["bce", "--y", "1", "--logits", "17"], "σ(17) = 0.99999996"),
        (["sequence", "--target", "0,1", "--yhat", "0.9999999,1e-7;0.5,0.5"], "−ln(0.9999999)"),
        (["reinforce", "--rewards", "1", "--probs", "0.9999999"], "−1·ln(0.9999999)"),
        (
            ["ctc", "--label", "a", "--probabilities", "a=0.99999999,-=1e-8", "--frames", "1"],
            "= 0.99999999",
        ),
    ],
)
def test_a_probability_a_hair_from_1_is_written_with_the_digits_that_matter(args, shown):
    text = _run(args, width=200)
    assert shown in text
    assert "ln(1)" not in text and "ln(1 − 1)" not in text


def test_operand_writes_as_many_digits_as_tell_a_number_from_a_whole_one():
    from rnnloss_cli.render.numbers import operand

    assert operand(1 - 1e-7) == "0.9999999"
    assert operand(1 - 1e-15) == "0.999999999999999"
    assert operand(1e-7) == "1e−07"
    assert operand(2.0000001) == "2.0000001"
    assert operand(-0.99999999) == "−0.99999999"
    assert operand(1.0) == "1" and operand(0.5) == "0.5" and operand(0.25) == "0.25"


NEAR_WHOLE = [
    (["bce", "--y", "1,0", "--yhat", "0.99999999,0.5"], "ŷ = [0.99999999, 0.5]", "ŷ = [1,"),
    (
        ["bce", "--y", "1,0", "--yhat", "0.99999999,0.5", "--clip", "1e-9"],
        "ŷ = [0.99999999, 0.5]",
        "ŷ = [1,",
    ),
    (["nll", "--target", "0", "--yhat", "0.99999999,1e-8"], "0.99999999", r"(?<![\d.])1[ |]+1e"),
    (["cce", "--target", "0", "--yhat", "0.99999999,1e-8"], "0.99999999", r"(?<![\d.])1[ |]+1e"),
    (["mse", "--y", "3", "--yhat", "2.99999999"], "ŷ = [2.99999999]", "ŷ = [3]"),
    (["hinge", "--y", "1", "--yhat", "0.99999999"], "ŷ = [0.99999999]", "ŷ = [1]"),
    (["reinforce", "--rewards", "2", "--probs", "0.99999999"], "= [0.99999999]", "= [1]"),
    (
        ["ctc", "--label", "a", "--probabilities", "a=0.9999999,-=0.00000005", "--frames", "2"],
        "P(a) = 0.9999999",
        "P(a) = 1 ",
    ),
    (
        ["ctc", "--label", "a", "--alphabet", "-,a", "--probs", "0.99999999,1e-8;0.5,0.5"],
        "0.99999999",
        r"(?<![\d.])1[ |]+1e",
    ),
]


def _unescaped(text: str) -> str:
    """Return Markdown's escapes of brackets, parentheses and underscores undone."""
    for char in "[]()_":
        text = text.replace("\\" + char, char)
    return text


@pytest.mark.parametrize(("args", "shown", "wrong"), NEAR_WHOLE)
@pytest.mark.parametrize("markdown", [False, True])
def test_inputs_never_write_a_value_as_the_whole_number_it_is_not(args, shown, wrong, markdown):
    # The Inputs lines (and input tables) use the term rows' rule: 0.99999999 is not 1.
    text = _unescaped(_run([*args, *(["--format", "markdown"] if markdown else [])], width=200))
    inputs = text[: text.index("Exact CTC" if args[0] == "ctc" else "Formula")]
    assert shown in inputs
    assert not re.search(wrong if wrong.startswith("(") else re.escape(wrong), inputs)


UNDERFLOWED = [
    (["nll", "--target", "0", "--log-probs", "-800,0"], "e^(−800)", "−(−800)"),
    (["cce", "--target", "0", "--log-probs", "-800,0"], "e^(−800)", "−(−800)"),
    (["sequence", "--target", "0,1", "--log-probs", "-800,0;-1,-0.5"], "e^(−800)", "−(−800)"),
    (["cce", "--target", "0", "--logits", "-1e308,1e308"], "e^(2·(−1e+308))", "−2·(−1e+308)"),
    (
        ["reinforce", "--rewards", "2,1", "--log-probs=-1e308,-0.5"],
        "e^(−1e+308)",
        "−2·(−1e+308)",
    ),
]


@pytest.mark.parametrize(("args", "shown", "working"), UNDERFLOWED)
@pytest.mark.parametrize("markdown", [False, True])
def test_a_probability_that_underflows_is_never_written_0_beside_its_finite_log(
    args, shown, working, markdown
):
    text = _unescaped(_run([*args, *(["--format", "markdown"] if markdown else [])], width=200))
    [row] = [line for line in text.splitlines() if working in line]
    assert shown in row  # the probability beside the working that takes its log
    assert not re.search(rf"[│| ]0[│| ]+{re.escape(working)}", row), row


def test_reinforce_beyond_float64_writes_the_objective_and_the_answer_as_the_sum():
    args = ["reinforce", "--rewards", "2,1", "--log-probs=-1e308,-0.5"]
    for markdown in (False, True):
        text = _flat(_run([*args, *(["--format", "markdown"] if markdown else [])]))
        assert "π(yₜ | sₜ) = [e^(−1e+308), 0.606531]" in text.replace("\\", "")
        assert "Σ = 2e+308 + 0.5 = 2e+308 (float64: ∞)" in text
        assert "= −(sum) = −2e+308 (float64: −∞)" in text
        assert "REINFORCE loss (sum) = 2e+308 (float64: ∞)" in text
    data = _json(args)
    assert data["value"] == "inf" and data["objective"] == "-inf"  # JSON as it was


# --- 7. user text kept as written, escaped only where it is shown --------------------------


ESC = "d\x1b[1mog"


def test_a_class_name_with_a_control_character_is_matched_and_shown_marked():
    args = ["nll", "--classes", f"cat,{ESC}", "--target", ESC, "--yhat", "0.4,0.6"]
    result = invoke(args, env={"NO_COLOR": "1"})
    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.stdout and "d␛[1mog" in result.stdout
    markdown = invoke([*args, "--format", "markdown"]).stdout
    assert "\x1b" not in markdown and "d␛\\[1mog" in markdown  # Markdown-escaped once
    assert json.loads(invoke([*args, "--json"]).stdout)["value"] == pytest.approx(0.510826, 1e-5)


def test_a_near_miss_of_such_a_class_name_suggests_it_marked_once():
    args = ["nll", "--classes", f"cat,{ESC}", "--target", "d\x1b[1mXg", "--yhat", "0.4,0.6"]
    result = invoke(args)
    assert result.exit_code == 2
    assert result.stderr == (
        "rnnloss: --target: 'd␛[1mXg' is not one of the classes (cat, d␛[1mog) "
        "(did you mean 'd␛[1mog'?)\n"
    )


@pytest.mark.parametrize(("typed", "control"), [(r"d\x1b[1mog", ESC), ("d␛[1mog", ESC)])
def test_a_typed_escape_and_a_control_character_are_never_shown_alike(typed, control):
    # A class named with the four characters \x1b (or a typed ␛) and a target with the
    # ESC character itself: the message shows them differently, so the reader sees why
    # they do not match.
    args = ["nll", "--classes", f"cat,{typed},bird", "--target", control, "--yhat", "0.2,0.7,0.1"]
    [line] = invoke(args).stderr.splitlines()
    quoted = re.findall(r"'([^']*)'", line)
    assert quoted[0] == "d␛[1mog" and quoted[1] != quoted[0]
    assert f"(cat, {quoted[1]}, bird)" in line
    swapped = [
        "nll",
        "--classes",
        f"cat,{control},bird",
        "--target",
        typed,
        "--yhat",
        "0.2,0.7,0.1",
    ]
    [line] = invoke(swapped).stderr.splitlines()
    assert "(cat, d␛[1mog, bird)" in line and "'d␛[1mog' is not" not in line


@pytest.mark.parametrize(
    ("blank", "terminal", "markdown"), [("\\", "(\\)", "(\\\\)"), ("'", "(')", "(')")]
)
def test_the_collapse_rule_shows_the_blank_as_written(blank, terminal, markdown):
    args = ["ctc", "--label", "ab", "--blank", blank, "--frames", "3"]
    args += ["--probabilities", f"a=0.5,b=0.3,{blank}=0.2", "--alignment", f"a{blank}b"]
    text = _flat(_run(args))
    assert f"collapse rule: merge repeated symbols, then remove the blank {terminal}" in text
    assert f"a{blank}b" in text and "\\\\" not in text
    md = _run([*args, "--format", "markdown"])
    assert f"then remove the blank {markdown}" in md


def test_json_carries_the_users_strings_as_written(tmp_path):
    from cli_helpers import write_problem

    data = _json(["hinge", "--y", "1", "--yhat", "1", "--title", "t\x1b[1m"])
    assert data["title"] == "t\x1b[1m"
    data = _json(
        ["ctc", "--label", "a\x01", "--probabilities", "a=0.5,\x01=0.3,-=0.2", "--frames", "3"]
    )
    assert data["label"] == "a\x01"  # two one-character symbols, the second a control
    text = _run(
        ["ctc", "--label", "a\x01", "--probabilities", "a=0.5,\x01=0.3,-=0.2", "--frames", "3"]
    )
    assert "\x01" not in text and "label = a␁" in text
    bad = write_problem(
        tmp_path, {"loss": "nll", "classes": ["a", "b"], "target": ["\x1bz"], "yhat": [[0.5, 0.5]]}
    )
    solved = json.loads(invoke(["solve", bad, "--json"]).stdout)
    assert "'\x1bz' is not one of the classes" in solved["results"][0]["error"]
    # A character that acts on a terminal is a JSON escape: the same string once read.
    raw = invoke(["hinge", "--y", "1", "--yhat", "1", "--title", "a\u202eb\x9b", "--json"]).stdout
    assert "\u202e" not in raw and "\x9b" not in raw and "\\u202e" in raw
    assert json.loads(raw)["title"] == "a\u202eb\x9b"


ACTING = "\x1b[31m\x07\x9b\u202e"  # an escape code, a bell, a C1 CSI, a right-to-left override
ACTING_YAML = "\\e[31m\\a\\x9b\\u202e"  # the same, as YAML's double-quoted escapes
SWEEP = """\
loss: custom
title: "TACT"
terms:
  - name: "nACT"
    loss: nll
    classes: ["cACT", b]
    target: ["cACT"]
    yhat: [[0.5, 0.5]]
  - name: seq
    loss: sequence
    classes: ["sACT", b]
    target: ["sACT", b]
    yhat: [[0.5, 0.5], [0.5, 0.5]]
  - name: lecture
    loss: ctc
    label: ["xACT", y]
    blank: "ACT"
    probabilities: {"xACT": 0.3, y: 0.3, "ACT": 0.3}
    alignments: ["xACT y ACT"]
    trellis: true
  - name: matrix
    loss: ctc
    label: ["mACT"]
    alphabet: ["-", "mACT"]
    probs: [[0.5, 0.5], [0.5, 0.5]]
    trellis: true
"""


def test_acting_characters_in_every_kind_of_user_text_are_matched_and_shown_marked(tmp_path):
    from cli_helpers import write_problem

    path = write_problem(tmp_path, SWEEP.replace("ACT", ACTING_YAML))
    outputs = [
        _run(["custom", path, "--details"]),
        _run(["custom", path, "--details", "--format", "markdown"]),
    ]
    svg = tmp_path / "out.svg"
    assert invoke(["custom", path, "--details", "--svg", str(svg)]).exit_code == 0
    outputs.append(svg.read_text(encoding="utf-8"))
    for text in outputs:
        for char in ("\x1b", "\x07", "\x9b", "\u202e"):
            assert char not in text
    assert "T␛[31m␇⟨U+009B⟩⟨U+202E⟩" in outputs[0]  # the title, marked once
    data = _json(["custom", path])
    assert data["title"] == f"T{ACTING}"
    assert data["components"][0]["name"] == f"n{ACTING}"
    lecture = data["components"][2]
    assert lecture["blank"] == ACTING and lecture["label"] == [f"x{ACTING}", "y"]


# --- 8. words a reader does not need to decode; keys of cce given to bce point to cce ------


def test_the_readme_speaks_of_the_file_format_not_the_contract():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "the contract" not in readme and "contract's" not in readme


def test_a_cross_entropy_file_with_class_indices_points_to_cce(tmp_path):
    from cli_helpers import write_problem

    path = write_problem(tmp_path, "loss: cross-entropy\ntarget: [0]\nyhat: [0.5]\n")
    result = invoke(["solve", path])
    assert result.exit_code == 2
    assert result.stderr == (
        f"rnnloss: {path}: target: `bce` does not take this key: `cross-entropy` is binary "
        "cross-entropy (bce); class indices are for nll and cce (categorical cross-entropy): "
        "write loss: cce; bce takes 0/1 targets in y\n"
    )
    assert "hinge" not in result.stderr and "sequence" not in result.stderr


@pytest.mark.parametrize(
    ("args", "hint"),
    [
        (["cross-entropy", "--classes", "a,b"], "`rnnloss cce --classes …`"),
        (["bce", "--classes", "a,b"], "`rnnloss cce --classes …`"),
        (["bce", "--label-smoothing", "0.1"], "`rnnloss cce --label-smoothing …`"),
        (["cross-entropy", "--target", "0"], "`rnnloss cce --target …`; bce takes 0/1"),
    ],
)
def test_a_class_option_given_to_bce_points_to_cce_not_to_a_near_option(args, hint):
    result = invoke(args)
    assert result.exit_code == 2
    [line] = result.stderr.splitlines()
    assert line.startswith(f"rnnloss: No such option: {args[1]} (")
    assert hint in line
    # nll takes class indices and names, but refuses label smoothing: named only where taken.
    takers = "for cce (" if args[1] == "--label-smoothing" else "for nll and cce ("
    assert takers in line
    assert "Possible options" not in line and "hinge" not in line
    if args[0] == "cross-entropy":
        assert "`cross-entropy` is binary cross-entropy (bce)" in line


@pytest.mark.parametrize("command", ["cross-entropy", "bce", "mse", "hinge", "ctc"])
def test_an_option_points_only_to_the_losses_that_take_its_key(command):
    # The nll command shares cce's signature, --label-smoothing included, but its loss
    # refuses the key ("it belongs to cce"): a pointer must not send the user there.
    result = invoke([command, "--label-smoothing", "0.1"])
    assert result.exit_code == 2
    [line] = result.stderr.splitlines()
    assert "cce" in line and "nll" not in line
    if command in ("cross-entropy", "bce"):
        assert "label smoothing is for cce (categorical cross-entropy): `rnnloss cce" in line
    else:
        assert line == "rnnloss: No such option: --label-smoothing (it belongs to cce)"
    refused = invoke(["nll", "--label-smoothing", "0.1", "--target", "0", "--yhat", "0.5,0.5"])
    assert refused.exit_code == 2 and refused.stderr.endswith("it belongs to cce\n")


def test_an_option_of_another_loss_still_names_its_owners():
    result = invoke(["mse", "--margin", "1"])
    assert result.stderr == "rnnloss: No such option: --margin (it belongs to hinge)\n"


# --- second audit, F: lecture-mode sums that underflow float64 are never shown as a bare 0 --


TINY = ["ctc", "--label", "ab", "--probabilities", "a=1e-200,b=1e-200,-=1e-200", "--frames", "3"]


@pytest.mark.parametrize("markdown", [False, True])
def test_an_exact_sum_that_underflows_is_given_with_its_log(markdown):
    text = _flat(_run([*TINY, *(["--format", "markdown"] if markdown else [])]))
    assert "products = 0 (ln Σ = −1379.94), not a probability, so its −ln, 1379.94" in text
    assert "product of its values as given = 0 (ln product = −1381.55)" in text


@pytest.mark.parametrize("markdown", [False, True])
def test_listed_products_that_underflow_keep_their_log_and_a_finite_loss(markdown):
    args = [*TINY, "--alignment", "ab-", "--alignment", "a-b"]
    data = _json(args)
    # Each product underflows to 0, but the sum of the listed paths is 2e−600: its −ln
    # is finite (it was −ln 0 = ∞).
    expected = -math.log(2) + 600 * math.log(10)
    assert data["value"] == pytest.approx(expected, rel=1e-12)
    assert data["naive"]["loss"] == data["naive"]["valid_loss"] == data["value"]
    assert data["naive"]["probability"] == 0.0  # the contract's key, as float64 holds it
    assert data["naive"]["log_probability"] == pytest.approx(-expected, rel=1e-12)
    assert data["naive"]["alignments"][0]["log_probability"] == pytest.approx(-1381.551, 1e-6)
    assert data["dp"]["best_path"]["log_probability"] == pytest.approx(-1381.551, 1e-6)
    text = _flat(_run([*args, *(["--format", "markdown"] if markdown else [])]))
    assert "∞" not in text
    assert "= 0 (ln p = −1381.55)" in text
    assert "P = 0 + 0 = 0 (ln P = −1380.86)" in text and "−ln P = 1380.86" in text
    assert "valid alignments only: P = 0 (ln P = −1380.86), −ln P = 1380.86" in text


TINY_ROWS = "-800,-800,-800;-800,-800,-800;-800,-800,-800"
TRELLIS_CASES = [
    [*TINY, "--trellis"],
    ["ctc", "--label", "ab", "--alphabet", "-,a,b", "--trellis", "--log-probs", TINY_ROWS],
]


@pytest.mark.parametrize("args", TRELLIS_CASES)
@pytest.mark.parametrize("markdown", [False, True])
def test_trellis_cells_that_underflow_are_written_by_their_log(args, markdown):
    text = _run([*args, *(["--format", "markdown"] if markdown else [])], width=120)
    trellis = text[text.index("Trellis") : text.index("Answer")]
    assert "written by its natural logarithm x" in _flat(trellis)
    rows = [
        re.split(r"[\s|*]+", line.strip(" |"))
        for line in trellis.splitlines()
        if re.match(r"\s*\|?\s*[123]\s", line)
    ]
    assert len(rows) == 3
    for t, row in enumerate(rows):
        cells = row[1:6]
        # A cell a path reaches (state s ≤ 2t + 1) is never a bare 0; the others are 0.
        assert all(c != "0" for c in cells[: 2 * t + 2]), row
        assert all(c == "0" for c in cells[2 * t + 2 :]), row
    assert "e^−1380.2" in trellis or "e^−2398.6" in trellis


def test_the_log_trellis_is_the_log_of_alpha_where_float64_holds_it():
    from rnnloss_cli.core.ctc_solve import log_trellis, solve_matrix

    rng = np.random.default_rng(3)
    for label, frames in (("ab", 5), ("aba", 7), ("aa", 6), ("", 3), ("abc", 6)):
        logits = rng.normal(size=(frames, 4)) * 3
        result = solve_matrix(
            label=list(label),
            label_is_string=True,
            blank="-",
            alphabet=["-", "a", "b", "c"],
            prediction=logits,
            kind="logits",
            trellis=True,
        )
        log_probs = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
        logs = log_trellis(log_probs, result.dp.states)
        alpha = result.dp.alpha
        assert np.allclose(np.exp(logs), alpha, rtol=1e-12, atol=0), label
        # Nothing beyond float64: no cell is written e^x (a 0 that no path reaches is 0).
        zeros = alpha == 0.0
        assert result.log_alpha is None or not np.isfinite(result.log_alpha[zeros]).any()


# --- second audit, A: the check names the value it compares; method exact leads with it ----


NOT_A_DISTRIBUTION = ["ctc", "--label", "ab", "--probabilities", "a=0.9,b=0.9,-=0.9", "--frames"]
NOT_A_DISTRIBUTION += ["3"]


def _answers(args: list[str]) -> list[str]:
    """Return the Answer box's text, terminal and Markdown, each as one line of words."""
    markdown = _run([*args, "--format", "markdown"]).split("**Answer:**")[1].split("> **")[0]
    return [_answer(_run(args)), _flat(markdown.replace("\\(", "(").replace("\\)", ")"))]


def test_a_key_equal_to_the_normalised_loss_is_told_which_value_was_compared():
    args = [*NOT_A_DISTRIBUTION, "--expected", "1.6864"]
    result = invoke(args, env={"NO_COLOR": "1", "COLUMNS": "100"})
    assert result.exit_code == 1  # the contract compares `value`, dp.loss here
    data = _json(args)
    assert data["value"] == data["dp"]["loss"] == pytest.approx(-1.29336, abs=1e-5)
    assert data["matches"] is False
    assert data["matches_instead"][0]["settings"] == {"method": "normalized"}
    for answer in _answers(args):
        assert answer.startswith("CTC loss (exact, each frame ÷ 2.7: method normalized) = 1.6864")
        assert (
            "✗ the −ln of the unnormalised exact sum (method exact), −1.29336, does not match "
            "the answer key 1.6864"
        ) in answer
        assert (
            "but it matches the normalised exact loss (each frame ÷ the values' sum), 1.6864: "
            "ask for it with method: normalized (--method normalized)"
        ) in answer
    assert invoke([*args, "--method", "normalized"]).exit_code == 0


def test_a_key_equal_to_the_unnormalised_value_names_it_when_it_matches():
    args = [*NOT_A_DISTRIBUTION, "--expected", "-1.29336"]
    for answer in _answers(args):
        assert (
            "✓ the −ln of the unnormalised exact sum (method exact), −1.29336, matches the "
            "answer key −1.29336"
        ) in answer


@pytest.mark.parametrize("settings", [[], ["--reduction", "mean", "--log-base", "2"]])
def test_method_exact_asked_for_leads_with_that_value_named_as_no_loss(settings):
    args = [*NOT_A_DISTRIBUTION, "--method", "exact", *settings]
    data = _json(args)
    assert data["method"] == "exact"
    assert data["value"] == data["dp"]["loss"] / (2 if settings else 1)  # the contract's value
    value = num(data["value"])
    for answer in _answers(args):
        first = answer.split(" = ")[0]
        assert first.startswith("−l") and "of the unnormalised exact sum (method exact" in first
        assert "not a loss: the values sum to 2.7, not 1)" in first
        assert answer.split(" = ")[1].startswith(value)
        assert "CTC loss (exact, each frame ÷ 2.7: method normalized" in answer
        assert answer.index("unnormalised") < answer.index("CTC loss")
    # Not asked for by name, the normalised loss leads (and value is named after it).
    implicit = _answers(NOT_A_DISTRIBUTION)[0]
    assert implicit.startswith("CTC loss (exact, each frame ÷ 2.7: method normalized) = 1.6864")


@pytest.mark.parametrize(
    "args", [["ctc", HELLO], ["hinge", "--y", "1,-1,1", "--yhat", "0.8,-0.5,0.3", "--expected"]]
)
def test_a_check_of_a_loss_needs_no_name(args):
    args = [*args, "0.467"] if args[0] == "hinge" else args
    answer = _answer(_run(args))
    assert "✓ matches the answer key" in answer


# --- second audit, E: the solve table marks a −log of an unnormalised sum -------------------


UNNORMALISED_FILE = 'loss: ctc\nlabel: ab\nprobabilities: {a: 0.9, b: 0.9, "-": 0.9}\nframes: 3\n'
LOSS_FILE = 'loss: ctc\nlabel: ab\nprobabilities: {a: 0.5, b: 0.3, "-": 0.2}\nframes: 3\n'


def _folder(tmp_path: Path) -> str:
    (tmp_path / "a_unnormalised.yaml").write_text(UNNORMALISED_FILE, encoding="utf-8")
    (tmp_path / "b_loss.yaml").write_text(LOSS_FILE, encoding="utf-8")
    both = UNNORMALISED_FILE + "reduction: mean\n---\n" + UNNORMALISED_FILE.replace("0.9", "0.2")
    (tmp_path / "c_two.yaml").write_text(both, encoding="utf-8")
    return str(tmp_path)


@pytest.mark.parametrize("markdown", [False, True])
def test_the_summary_marks_an_unnormalised_sum_and_names_the_normalised_loss(tmp_path, markdown):
    folder = _folder(tmp_path)
    args = ["solve", folder, *(["--format", "markdown"] if markdown else [])]
    text = _run(args, width=120)
    summary = text[text.index("## Summary") :] if markdown else text
    rows = [line for line in summary.splitlines() if "ctc" in line]
    marked = [line for line in rows if "−1.29336 †" in line or "†" in line]
    assert len(rows) == 4 and len(marked) == 3
    assert not any("†" in line for line in rows if "b_loss" in line)
    notes = _flat(summary[summary.index("† the") : summary.index("4 problems")])
    assert notes.startswith(
        "† the −log of an unnormalised CTC sum (values that are not a distribution, method "
        "exact), not a loss; the normalised exact loss (method normalized) of each:"
    )
    assert f"{folder}/a_unnormalised.yaml: 1.6864" in notes.replace("\\_", "_")
    assert f"{folder}/c_two.yaml#0: {num(1.6863989535702288 / 2)}" in notes.replace("\\_", "_")
    data = json.loads(invoke(["solve", folder, "--json"]).stdout)  # JSON as it was
    assert data["results"][0]["result"]["value"] == pytest.approx(-1.2933563654606215)
    assert "†" not in json.dumps(data)


def test_a_single_unnormalised_answer_gets_a_one_line_note(tmp_path):
    (tmp_path / "p.yaml").write_text(UNNORMALISED_FILE, encoding="utf-8")
    text = _flat(_run(["solve", str(tmp_path)], width=200))
    assert "−1.29336 †" in text
    assert (
        "† the −log of an unnormalised CTC sum (values that are not a distribution, method "
        "exact), not a loss: the normalised exact loss (method normalized) is 1.6864"
    ) in text
    plain = tmp_path / "q"
    plain.mkdir()
    (plain / "p.yaml").write_text(LOSS_FILE, encoding="utf-8")
    assert "†" not in _run(["solve", str(plain)])


def test_a_command_of_many_problems_marks_them_in_its_summary(tmp_path):
    path = tmp_path / "many.yaml"
    path.write_text("---\n".join([UNNORMALISED_FILE] * 101), encoding="utf-8")
    text = _run(["ctc", str(path)], width=120)
    assert text.count("−1.29336 †") == 101
    assert "many.yaml#9: 1.6864" in text and "… and 91 more" in text


def test_the_summary_writes_an_answer_beyond_float64_as_the_working_does(tmp_path):
    (tmp_path / "r.yaml").write_text(
        "loss: reinforce\nrewards: [2, 1]\nlog_probs: [-1e308, -0.5]\n", encoding="utf-8"
    )
    text = _run(["solve", str(tmp_path)], width=120)
    assert "2e+308 (float64: ∞)" in text
