"""Issue 14: `--alignments all` (every alignment of the label, most probable first) and
`--steps` (the forward recursion cell by cell, β and the occupancy with `--grad`).

The oracle is brute force: every string of T symbols over the alphabet, kept where it
collapses to the label. Its set and its sum must be the listing's; the α cells written
out must be the trellis's; the occupancy must give the gradient."""

from __future__ import annotations

import itertools
import json
import math
import re
from pathlib import Path

import numpy as np
import pytest
from cli_helpers import compile_latex, invoke
from cli_helpers import write_problem as _write

from rnnloss_cli.core import ctc_solve

ROOT = Path(__file__).resolve().parent.parent
RTOL = 1e-9


def _collapse(path, blank):
    out, previous = [], None
    for symbol in path:
        if symbol != previous and symbol != blank:
            out.append(symbol)
        previous = symbol
    return out


def _brute_lecture(label, probabilities, blank, frames):
    """Every length-T path over the alphabet that collapses to the label, with its product."""
    out = {}
    for path in itertools.product(list(probabilities), repeat=frames):
        if _collapse(path, blank) == list(label):
            out[path] = math.prod(probabilities[s] for s in path)
    return out


def _brute_matrix(label, alphabet, probs, blank):
    out = {}
    for columns in itertools.product(range(len(alphabet)), repeat=len(probs)):
        path = tuple(alphabet[c] for c in columns)
        if _collapse(path, blank) == list(label):
            out[path] = math.prod(probs[t][c] for t, c in enumerate(columns))
    return out


def _json(args):
    result = invoke([*args, "--json"])
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.stdout)


# --- the listing against brute force ---------------------------------------------------

LECTURE_CASES = [
    ("123", {"1": 0.9, "2": 0.7, "3": 0.8, "-": 0.2}, 5),  # the README's: 28 paths
    ("AAB", {"A": 0.5, "B": 0.3, "-": 0.2}, 6),  # a repeated letter
    ("AA", {"A": 0.5, "B": 0.3, "-": 0.2}, 3),  # T = minimal length (A-A)
    ("", {"A": 0.5, "-": 0.5}, 4),  # the empty label: the all-blank path
    ("AB", {"A": 0.4, "B": 0.3, "C": 0.1, "-": 0.2}, 5),  # C: a symbol no alignment uses
]


@pytest.mark.parametrize(("label", "probabilities", "frames"), LECTURE_CASES)
def test_lecture_listing_is_every_path_brute_force_finds(label, probabilities, frames):
    brute = _brute_lecture(label, probabilities, "-", frames)
    result = ctc_solve.solve_lecture(
        label=list(label),
        label_is_string=True,
        blank="-",
        probabilities=probabilities,
        frames=frames,
        all_alignments=True,
    )
    every = result.alignments
    assert every is not None and not every.capped
    listed = {tuple(path): product for path, product, _ in every.paths}
    assert listed.keys() == brute.keys()
    for path, product in listed.items():
        assert product == pytest.approx(brute[path], rel=RTOL)
    assert every.count == len(brute) == result.dp.paths
    assert every.listed_sum == pytest.approx(math.fsum(brute.values()), rel=RTOL)
    assert every.listed_sum == pytest.approx(result.dp.probability, rel=RTOL)
    assert every.agrees
    products = [product for _, product, _ in every.paths]
    assert products == sorted(products, reverse=True)


def test_the_readme_problem_lists_28_paths_and_marks_the_lecture_s():
    data = _json(["ctc", str(ROOT / "problems/numbers_123.yaml"), "--alignments", "all"])
    alignments = data["dp"]["alignments"]
    assert len(alignments) == data["dp"]["paths"] == 28
    assert all(isinstance(a["path"], str) and len(a["path"]) == 5 for a in alignments)
    product = 0.9**3 * 0.7 * 0.8
    assert alignments[0] == {
        "path": "11123",
        "probability": pytest.approx(product),
        "log_probability": pytest.approx(math.log(product)),
    }
    total = math.fsum(a["probability"] for a in alignments)
    assert total == pytest.approx(data["dp"]["probability"], rel=RTOL)
    text = invoke(
        ["ctc", str(ROOT / "problems/numbers_123.yaml"), "--alignments", "all"],
        env={"COLUMNS": "80"},
    ).stdout
    # every row, none elided; the one listed path of length 5 marked, and only it
    assert all(re.search(rf"\b{i}\s+\S{{5}}\s", text) for i in range(1, 29))
    assert "⋮" not in text.split("Every alignment")[1].split("Answer")[0]
    assert re.search(r"24\s+1-2-3\s+0\.02016\s+✓ listed", text)
    assert text.count("✓ listed") == 1
    flat = " ".join(text.split())
    assert "Σ of the 28 products = 3.10968 forward algorithm: Σ = 3.10968 (they agree)" in flat


MATRIX = [[0.5, 0.2, 0.1, 0.2], [0.3, 0.4, 0.2, 0.1], [0.2, 0.3, 0.4, 0.1], [0.4, 0.1, 0.2, 0.3]]


@pytest.mark.parametrize("label", [["a", "b"], ["a", "a"], ["b"], []])
def test_matrix_listing_is_every_path_brute_force_finds(label):
    alphabet = ["-", "a", "b", "c"]
    brute = _brute_matrix(label, alphabet, MATRIX, "-")
    result = ctc_solve.solve_matrix(
        label=label,
        label_is_string=False,
        blank="-",
        alphabet=alphabet,
        prediction=np.log(np.array(MATRIX)),
        all_alignments=True,
    )
    every = result.alignments
    listed = {tuple(path): product for path, product, _ in every.paths}
    assert listed.keys() == brute.keys()
    for path, product in listed.items():
        assert product == pytest.approx(brute[path], rel=RTOL)
    assert every.listed_sum == pytest.approx(math.fsum(brute.values()), rel=RTOL)
    assert every.listed_sum == pytest.approx(result.dp.probability, rel=RTOL)


def test_matrix_json_paths_are_lists_for_a_list_label(tmp_path):
    problem = {
        "loss": "ctc",
        "label": ["th", "e"],
        "alphabet": ["-", "th", "e"],
        "probs": [[0.2, 0.5, 0.3], [0.3, 0.3, 0.4], [0.5, 0.2, 0.3]],
        "enumerate": True,
    }
    data = _json(["ctc", _write(tmp_path, problem)])
    alignments = data["dp"]["alignments"]
    assert len(alignments) == data["dp"]["paths"] == 5
    assert all(isinstance(a["path"], list) for a in alignments)
    assert alignments[0]["path"] == ["th", "e", "-"] or alignments[0]["probability"] >= max(
        a["probability"] for a in alignments
    )


def test_without_the_keys_nothing_is_added():
    data = _json(["ctc", str(ROOT / "problems/numbers_123.yaml")])
    assert "alignments" not in data["dp"]
    text = invoke(["ctc", str(ROOT / "problems/numbers_123.yaml")]).stdout
    assert "Every alignment" not in text and "cell by cell" not in text
    # --steps adds nothing to the JSON
    with_steps = _json(["ctc", str(ROOT / "problems/numbers_123.yaml"), "--steps"])
    assert with_steps == data


# --- the cap and the refusal --------------------------------------------------------------


def test_the_listing_is_capped_and_says_what_the_rest_sums_to():
    args = ["ctc", "--label", "abc", "--probabilities", "a=0.3,b=0.3,c=0.2,-=0.2"]
    args += ["--frames", "11", "--alignments", "all"]
    data = _json(args)
    assert data["dp"]["paths"] == math.comb(14, 6) == 3003
    listed = data["dp"]["alignments"]
    assert len(listed) == ctc_solve.ALIGNMENTS_SHOWN == 2000
    brute = sorted(
        _brute_lecture("abc", {"a": 0.3, "b": 0.3, "c": 0.2, "-": 0.2}, "-", 11).values()
    )
    top = brute[::-1][:2000]
    assert [a["probability"] for a in listed] == pytest.approx(top, rel=RTOL)
    rest = data["dp"]["probability"] - math.fsum(top)
    assert rest == pytest.approx(math.fsum(brute[:1003]), rel=1e-7)
    text = invoke(args, env={"COLUMNS": "80"}).stdout
    flat = " ".join(text.split())
    assert "the 2,000 most probable of 3,003 listed (the count is exact)" in flat
    assert "the other 1,003 sum to" in flat
    assert re.search(r"\b2000\s+\S+", text) and not re.search(r"\n\s*2001\s", text)


def test_too_many_alignments_are_refused_before_any_is_made():
    args = ["ctc", "--label", "HELLOHELLO", "--probabilities", "H=0.6,E=0.5,L=0.7,O=0.8,-=0.2"]
    result = invoke([*args, "--frames", "40", "--alignments", "all"])
    assert result.exit_code == 2
    assert result.stderr.startswith("rnnloss: --alignments: 16,735,679,449,896 alignments")
    assert "Traceback" not in result.output
    assert invoke([*args, "--frames", "40"]).exit_code == 0  # the count alone is fine


def test_a_bad_alignments_value_is_refused(tmp_path):
    result = invoke(["ctc", str(ROOT / "problems/numbers_123.yaml"), "--alignments", "some"])
    assert result.exit_code == 2 and "expected true, false or all" in result.stderr
    path = _write(tmp_path, {**_hello_frames(), "enumerate": 3})
    assert invoke(["ctc", path]).exit_code == 2


def _hello_frames():
    return {
        "loss": "ctc",
        "label": "HI",
        "probabilities": {"H": 0.5, "I": 0.3, "-": 0.2},
        "frames": 4,
    }


# --- the recursion written out ---------------------------------------------------------


def _alpha_lines(text):
    """Return {(t, s): value} of every `α(t, s) = … = value` line."""
    out = {}
    for t, s, value in re.findall(r"^\s*α\((\d+), (\d+)\) = .*= ([0-9][0-9.e−]*)", text, re.M):
        out[int(t), int(s)] = float(value.replace("−", "-"))
    return out


def test_the_steps_numbers_are_the_trellis_s():
    result = ctc_solve.solve_lecture(
        label=list("123"),
        label_is_string=True,
        blank="-",
        probabilities={"1": 0.9, "2": 0.7, "3": 0.8, "-": 0.2},
        frames=5,
        trellis=True,
        steps=True,
    )
    steps = result.steps
    for t, row in enumerate(steps.alpha):
        for cell in row:
            assert cell.value == pytest.approx(result.dp.alpha[t, cell.s], rel=RTOL)
        # every cell not written out is 0 in the trellis (no path reaches it yet)
        written = {cell.s for cell in row}
        assert all(result.dp.alpha[t, s] == 0 for s in range(7) if s not in written)
    assert steps.probability == pytest.approx(result.dp.probability, rel=RTOL)
    # …and as printed
    text = invoke(
        ["ctc", str(ROOT / "problems/numbers_123.yaml"), "--steps", "--trellis"],
        env={"COLUMNS": "200"},
    ).stdout
    cells = _alpha_lines(text)
    assert len(cells) == sum(len(row) for row in steps.alpha)
    for (t, s), value in cells.items():
        assert value == pytest.approx(result.dp.alpha[t - 1, s], rel=1e-5)


STEPS = ["--steps"]


def test_the_skip_rule_is_said_where_it_applies():
    text = invoke(
        ["ctc", "--label", "ALL", "--probabilities", "A=0.4,L=0.4,-=0.2", "--frames", "5", *STEPS],
        env={"COLUMNS": "200"},
    ).stdout
    # states: 0 ε 1 A 2 ε 3 L 4 ε 5 L 6 ε
    assert re.search(r"α\(3, 3\) = \(α\(2, 3\) \+ α\(2, 2\) \+ α\(2, 1\)\).*A ≠ L", text)
    assert re.search(r"α\(4, 5\) = \(α\(3, 5\) \+ α\(3, 4\)\) × P\(L\).*L repeats L", text)
    assert not re.search(r"α\(\d, [0246]\) = \([^)]*\+[^)]*\+", text)  # no blank has 3 terms
    assert "End   p = α(5, 6) + α(5, 5)" in text


def test_the_empty_label_ends_in_its_one_state():
    text = invoke(
        ["ctc", "--label", "", "--probabilities", "A=0.5,-=0.5", "--frames", "3", "--steps"],
        env={"COLUMNS": "120"},
    ).stdout
    assert "End   p = α(3, 0) = 0.125 = 0.125" in text


def test_beyond_the_cap_the_steps_point_to_the_trellis():
    args = ["ctc", "--label", "HELLO", "--probabilities", "H=0.2,E=0.2,L=0.2,O=0.2,-=0.2"]
    text = invoke([*args, "--frames", "40", "--steps"], env={"COLUMNS": "80"}).stdout
    flat = " ".join(text.split())
    assert "40 × 11 = 440 cells, over the 400 written out cell by cell" in flat
    assert "--trellis" in flat and "α(2, 1)" not in flat
    small = invoke([*args, "--frames", "36", "--steps"], env={"COLUMNS": "80"}).stdout
    assert "α(36, 10)" in small  # 36 × 11 = 396 cells: written out


def test_beta_and_occupancy_give_the_gradient():
    alphabet = ["-", "a", "b", "c"]
    logits = np.log(np.array(MATRIX)) + 0.3  # not normalised: log-softmax is applied
    for label in (["a", "b"], ["a", "a"], []):
        result = ctc_solve.solve_matrix(
            label=label,
            label_is_string=False,
            blank="-",
            alphabet=alphabet,
            prediction=logits,
            kind="logits",
            grad=True,
            trellis=True,
            steps=True,
        )
        steps = result.steps
        occupancy = np.array(steps.occupancy)
        assert occupancy.sum(axis=1) == pytest.approx(np.ones(4), rel=1e-12)
        by_symbol = np.zeros((4, len(alphabet)))
        for s, symbol in enumerate(steps.states):
            by_symbol[:, alphabet.index(symbol)] += occupancy[:, s]
        softmax = np.array(MATRIX)
        assert result.dp.grad == pytest.approx(softmax - by_symbol, abs=1e-12)
        # α·β summed over the states is p at every frame
        beta = np.zeros_like(occupancy)
        for t, row in enumerate(steps.beta):
            for cell in row:
                beta[t, cell.s] = cell.value
        totals = (result.dp.alpha * beta).sum(axis=1)
        assert totals == pytest.approx(np.full(4, result.dp.probability), rel=1e-12)


def test_beta_and_occupancy_are_written_with_grad_only():
    path = str(ROOT / "problems/ctc_matrix_at.yaml")
    text = invoke(["ctc", path, "--steps", "--grad"], env={"COLUMNS": "80"}).stdout
    assert "Backward recursion β, cell by cell" in text and "Occupancy α·β/p" in text
    assert re.search(r"β\(2, 3\) = y\(3, t\)·β\(3, 3\) \+ y\(3, -\)·β\(3, 4\) = 0\.6 × 1", text)
    plain = invoke(["ctc", path, "--steps"], env={"COLUMNS": "80"}).stdout
    assert "Forward recursion" in plain and "β(" not in plain


# --- every format ------------------------------------------------------------------------

ARGS = ["ctc", str(ROOT / "problems/numbers_123.yaml"), "--alignments", "all", "--steps"]


@pytest.mark.parametrize("columns", ["60", "80"])
def test_terminal_fits_its_width(columns):
    result = invoke(ARGS, env={"COLUMNS": columns})
    assert result.exit_code == 0
    assert max(len(line) for line in result.stdout.splitlines()) <= int(columns)
    assert "Every alignment" in result.stdout and "Forward recursion" in result.stdout
    assert "α(5, 5) = " in " ".join(result.stdout.split())


def test_markdown_lists_every_path_and_the_recursion():
    text = invoke([*ARGS, "--format", "markdown"]).stdout
    every = text.split("Every alignment")[1].split("Forward recursion")[0]
    assert len(re.findall(r"^\| \d+ \| [-123]{5} \|", every, re.M)) == 28
    assert "| 24 | 1-2-3 | 0.02016 | ✓ listed |" in text
    assert "α(5, 6) = (α(4, 6) + α(4, 5)) × P(-)" in text
    # a listing longer than the writers' usual rows is not elided either
    capped = ["ctc", "--label", "abc", "--probabilities", "a=0.3,b=0.3,c=0.2,-=0.2"]
    capped += ["--frames", "11", "--alignments", "all"]
    for fmt, row in (
        ("markdown", r"^\| (\d+) \| [-abc]{11} \|"),
        ("latex", r"^(\d+) & \S+ & "),
    ):
        text = invoke([*capped, "--format", fmt]).stdout
        numbers = [int(n) for n in re.findall(row, text, re.M)]
        assert numbers == list(range(1, 2001)), fmt


def test_latex_compiles(tmp_path):
    text = invoke([*ARGS, "--format", "latex"]).stdout
    assert "1-2-3" in text and "Forward recursion" in text
    compile_latex(text, tmp_path)


@pytest.mark.parametrize("fmt", ["questions", "questions-latex"])
def test_question_sheets_show_none_of_it(fmt):
    text = invoke([*ARGS, "--format", fmt]).stdout
    assert text.strip()
    for needle in ("11123", "α(", "Every alignment", "cell by cell", "3.10968"):
        assert needle not in text


def test_explain_and_help_mention_the_flags():
    explain = invoke(["explain", "ctc"]).stdout
    assert "--alignments all" in explain and "--steps" in explain
    helped = " ".join(invoke(["ctc", "--help"], env={"COLUMNS": "200"}).stdout.split())
    assert "--alignments" in helped and "--steps" in helped


def test_products_that_underflow_are_ranked_and_shown_by_their_logs(tmp_path):
    # Every value e^−200 a frame, except that a at frame 1 is e^−190: every product
    # underflows float64 (e^−1190 for the paths that begin with a, e^−1200 for the others)
    # but not its log, which ranks them and is what the working writes.
    log_probs = np.full((6, 3), -200.0)
    log_probs[0, 1] = -190.0
    data = {"loss": "ctc", "label": "ab", "alphabet": ["-", "a", "b"]}
    data |= {"log_probs": log_probs.tolist(), "enumerate": True}
    path = _write(tmp_path, data)
    result = _json(["ctc", path])
    listed = result["dp"]["alignments"]
    assert len(listed) == 70 and all(a["probability"] == 0.0 for a in listed)
    logs = [a["log_probability"] for a in listed]
    assert logs == sorted(logs, reverse=True)
    for a in listed:
        expected = sum(log_probs[t, "-ab".index(c)] for t, c in enumerate(a["path"]))
        assert a["log_probability"] == pytest.approx(expected, rel=1e-15)
    first = sum(1 for a in listed if a["path"].startswith("a"))
    assert 0 < first < 70 and all(a["path"].startswith("a") for a in listed[:first])
    text = invoke(["ctc", path]).stdout
    assert "e^(−1190)" in text and "e^(−1200)" in text
    rows = re.findall(r"^\s+\d+\s+[-ab]{6}\s+(\S+)$", text, re.M)
    assert len(rows) == 70 and "0" not in rows
