"""Large inputs within the limits: the working formats only what it shows, warnings name
the first few and count the rest, and odd values found by trying to break the tool stay
fixed."""

from __future__ import annotations

import json

import numpy as np
import pytest
from cli_helpers import invoke as _run
from cli_helpers import write_problem as _write

from rnnloss_cli.problems import validate
from rnnloss_cli.render import numbers
from rnnloss_cli.render.markdown import document
from rnnloss_cli.render.working import working
from rnnloss_cli.solver import MAX_WARNINGS, solve


def _text(renderable, width=100):
    from rich.console import Console

    console = Console(width=width, color_system=None, highlight=False)
    with console.capture() as capture:
        console.print(renderable)
    return capture.get()


# --- only what is shown is formatted -------------------------------------------------------


@pytest.fixture
def counted_num(monkeypatch):
    """Count the numbers the renderers format (render.numbers.num, wherever imported)."""
    calls = {"n": 0}
    original = numbers.num

    def num(x, digits=6):
        calls["n"] += 1
        return original(x, digits)

    import importlib

    import rnnloss_cli.render.markdown as markdown_module
    import rnnloss_cli.workings.common as common_module

    # Each loss's working formats with num (nll's comes from cce's module).
    losses = [importlib.import_module(f"rnnloss_cli.losses.{name}") for name in PROBLEMS]
    losses = [module for module in losses if hasattr(module, "num")]
    for module in (numbers, common_module, markdown_module, *losses):
        monkeypatch.setattr(module, "num", num)
    return calls


PROBLEMS = {
    "mse": {
        "loss": "mse",
        "y": np.zeros((300, 300)).tolist(),
        "yhat": np.ones((300, 300)).tolist(),
    },
    "bce": {"loss": "bce", "y": [1, 0] * 40_000, "yhat": [0.5] * 80_000},
    "hinge": {"loss": "hinge", "y": [1, -1] * 40_000, "yhat": [0.3] * 80_000},
    "nll": {"loss": "nll", "target": [0] * 20_000, "yhat": [[0.5, 0.5]] * 20_000},
    "sequence": {
        "loss": "sequence",
        "target": [[1, 0] * 200] * 100,
        "yhat": [[[0.5, 0.5]] * 400] * 100,
    },
    "reinforce": {"loss": "reinforce", "rewards": [1.0] * 80_000, "probs": [0.5] * 80_000},
}


@pytest.mark.parametrize("loss", sorted(PROBLEMS))
def test_the_working_of_many_terms_formats_a_few(loss, counted_num):
    solution = solve(validate(PROBLEMS[loss]))
    terms = np.size(solution.result.terms)
    assert terms >= 20_000
    text = _text(working(solution))
    markdown = document(solution)
    assert "⋮" in text and "⋮" in markdown
    # A screenful of numbers, not one per term.
    assert counted_num["n"] < 2_000


def test_an_elided_table_keeps_the_terms_numbers():
    solution = solve(validate(PROBLEMS["mse"]))
    text = _text(working(solution))
    assert "(300, 299)" in text and "(300, 300)" in text and "(1, 1)" in text


def test_long_lists_of_names_are_elided(tmp_path):
    classes = [f"c{i}" for i in range(300)]
    problem = {"loss": "nll", "classes": classes, "target": classes, "yhat": np.eye(300).tolist()}
    result = _run(["nll", _write(tmp_path, json.dumps(problem))])
    assert result.exit_code == 0
    text = " ".join(result.stdout.split())  # the line may wrap
    assert "target = [" + ", ".join(classes[:17]) + ", …, c298, c299]" in text


# --- warnings --------------------------------------------------------------------------------


def test_infinite_terms_are_named_ten_at_a_time():
    problem = {"loss": "mse", "y": [1e300] * 1000, "yhat": [0.0] * 1000}
    warnings = solve(validate(problem)).result.warnings
    assert len(warnings) == 12
    assert warnings[0].startswith("term 1 (at [0]) is infinite")
    assert warnings[10] == "… and 990 more infinite terms"
    # Then the sum and mean taken from their exact values, the terms named ten at a time.
    assert warnings[11].startswith("float64 cannot hold every term (term 1 = 1e+600, ")
    assert "term 10 = 1e+600 and 990 more: shown as ±∞" in warnings[11]


def test_rows_not_summing_to_one_are_named_ten_at_a_time():
    problem = {"loss": "nll", "target": [0] * 50, "yhat": [[0.2, 0.2]] * 50}
    warnings = solve(validate(problem)).result.warnings
    assert warnings[0].startswith("yhat[0]: the probabilities sum to 0.4, not 1")
    assert warnings[10] == "… and 40 more rows of yhat not summing to 1"


def test_a_sequence_batch_names_rows_by_sequence_and_step():
    problem = {"loss": "sequence", "target": [[0, 0]] * 3, "yhat": [[[0.2, 0.2]] * 2] * 3}
    warnings = solve(validate(problem)).result.warnings
    assert list(warnings[:3]) == [
        f"yhat[{b}][{t}]: the probabilities sum to 0.4, not 1; the loss uses them as given"
        for b, t in ((0, 0), (0, 1), (1, 0))
    ]


def test_every_result_has_at_most_a_page_of_warnings():
    # A custom loss gathers its terms' warnings: 100 terms of 11 warnings each.
    term = {"loss": "mse", "y": [1e300] * 20, "yhat": [0.0] * 20}
    problem = {"loss": "custom", "terms": [term] * 100}
    warnings = solve(validate(problem)).result.warnings
    assert len(warnings) == MAX_WARNINGS
    assert warnings[-1].startswith("… and 1,") and warnings[-1].endswith(" more warnings")


def test_a_long_label_is_elided_in_ctc_warnings(tmp_path):
    label = "ab" * 500
    problem = {
        "loss": "ctc",
        "label": label,
        "probabilities": {"a": 0.4, "b": 0.4, "-": 0.2},
        "alignments": ["a" * 1000] * 30,
    }
    result = _run(["ctc", _write(tmp_path, json.dumps(problem)), "--json"])
    data = json.loads(result.stdout)
    assert len(data["warnings"]) <= MAX_WARNINGS
    assert all(len(w) < 600 for w in data["warnings"])
    assert "(1,000 symbols)" in data["warnings"][0]


# --- odd values found by trying to break the tool -------------------------------------------


def test_a_negative_true_class_score_in_multiclass_hinge():
    for rule in ("crammer-singer", "weston-watkins"):
        result = _run(["hinge", "--target", "0", "--scores=-0.5,0.2", "--multiclass", rule])
        assert result.exit_code == 0, result.output
        assert "max(0, 1 − (−0.5) + 0.2)" in result.stdout


def test_a_trellis_beyond_float64_is_drawn(tmp_path):
    text = (
        "loss: ctc\nlabel: " + "ab" * 50 + "\nprobabilities: {a: 1, b: 1, '-': 1}\n"
        "frames: 3000\ntrellis: true\n"
    )
    path = _write(tmp_path, text)
    for args in ([], ["--json"], ["--format", "markdown"]):
        result = _run(["ctc", path, *args])
        assert result.exit_code == 0, result.output
        assert result.stderr == ""


def test_an_enormous_exponent_in_the_answer_key():
    result = _run(["mse", "--y", "1", "--yhat", "2", "--expected", "0e99999999999", "--json"])
    assert result.exit_code == 0
    assert json.loads(result.stdout)["tolerance"] == "inf"


def test_an_ignore_index_beyond_64_bits():
    result = _run(
        ["sequence", "--target", "1,1", "--yhat", "0.5,0.5;0.5,0.5", "--ignore-index", "1e300"]
    )
    assert result.exit_code == 2
    assert result.stderr == (
        "rnnloss: --ignore-index: 1e+300 is outside the 64-bit range of an index\n"
    )


@pytest.mark.parametrize(
    ("problem", "key"),
    [
        (
            {"loss": "nll", "classes": ["x" * 51, "b"], "target": [1], "yhat": [[0.5, 0.5]]},
            "classes[0]",
        ),
        (
            {
                "loss": "ctc",
                "label": "a",
                "frames": 2,
                "probabilities": {"a": 0.5, "y" * 51: 0.3, "-": 0.2},
            },
            "probabilities",
        ),
    ],
)
def test_names_and_symbols_are_at_most_50_characters(tmp_path, problem, key):
    path = _write(tmp_path, json.dumps(problem))
    result = _run([problem["loss"], path])
    assert result.exit_code == 2
    assert f"{path}: {key}: a " in result.stderr and "51 characters" in result.stderr


def test_json_gives_whole_labels_and_paths(tmp_path):
    label = "ab" * 25
    result = _run(
        [
            "ctc",
            "--label",
            label,
            "--probabilities",
            "a=0.5,b=0.3,-=0.2",
            "--alignment",
            label,
            "--frames",
            "60",
            "--json",
        ]
    )
    data = json.loads(result.stdout)
    assert data["label"] == label
    assert data["naive"]["alignments"][0]["path"] == label
    assert len(data["dp"]["best_path"]["path"]) == 60


def test_json_writes_an_empty_collapse_as_empty():
    result = _run(
        ["ctc", "--label", "a", "--alphabet", "-,a", "--probs", "0.9,0.1;0.9,0.1", "--json"]
    )
    assert json.loads(result.stdout)["dp"]["greedy"] == {"path": "--", "collapsed": ""}


def test_the_gradient_is_of_the_loss_in_its_log_base():
    args = ["ctc", "--label", "a", "--alphabet", "-,a", "--logits", "1,2;3,4", "--grad", "--json"]
    natural = json.loads(_run(args).stdout)
    bits = json.loads(_run([*args, "--log-base", "2"]).stdout)
    assert bits["value"] == pytest.approx(natural["value"] / np.log(2))
    np.testing.assert_allclose(
        np.array(bits["dp"]["grad"]), np.array(natural["dp"]["grad"]) / np.log(2), rtol=1e-12
    )


def test_a_whole_number_answer_key_not_written_in_decimal_is_exact_to_units(tmp_path):
    path = _write(tmp_path, "loss: mse\ny: [1]\nyhat: [2]\nexpected: 0x1\n")
    assert json.loads(_run(["mse", path, "--json"]).stdout)["tolerance"] == 0.5


def test_an_empty_path_is_named():
    result = _run(["solve", ""])
    assert result.exit_code == 2
    assert result.stderr == "rnnloss: '': is an empty path: name a file or folder\n"


@pytest.mark.parametrize(
    ("problem", "line"),
    [
        (
            {
                "loss": "hinge",
                "target": [0],
                "scores": [[1.0, 0.5]],
                "multiclass": "weston-watkins",
            },
            "margin = 1, multi-class rule: weston-watkins",
        ),
        (
            {"loss": "cce", "target": [0], "yhat": [[0.7, 0.3]], "label_smoothing": 0.1},
            "label smoothing ε = 0.1: y ← (1 − ε)·y + ε/C",
        ),
    ],
)
def test_markdown_states_the_inputs_the_terminal_states(problem, line):
    solution = solve(validate(problem))
    assert line in _text(working(solution))
    assert line in document(solution)
