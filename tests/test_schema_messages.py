"""The schema's errors name what is wrong (issue 10, item 13).

An editor, or `jsonschema`'s `best_match`, reports one error of a file that does not
validate. With an `anyOf` of every loss that error was "… is not valid under any of the
given schemas"; the schema dispatches on `loss` instead, so the error names the unknown
key, the key of the wrong type, or the choices of an enumeration.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from rnnloss_cli.catalog import LOSSES as CATALOG
from rnnloss_cli.problems import LOSSES, ProblemError, validate
from rnnloss_cli.problems.values import parse_number
from rnnloss_cli.schema import NUMBER_TEXT, schema

jsonschema = pytest.importorskip("jsonschema")

ROOT = Path(__file__).resolve().parent.parent
PROBLEMS = sorted((ROOT / "problems").glob("*.yaml"))
UNHELPFUL = "is not valid under any of the given schemas"

HINGE = {"loss": "hinge", "y": [1, -1], "yhat": [0.8, -0.5]}
LECTURE_CTC = {"loss": "ctc", "label": "ab", "probabilities": {"a": 0.6, "b": 0.6, "-": 0.3}}
MATRIX_CTC = {"loss": "ctc", "label": "a", "alphabet": ["-", "a"], "probs": [[0.4, 0.6]]}
REINFORCE = {"loss": "reinforce", "rewards": [0, 1], "probs": [0.5, 0.9]}


def _validator():
    built = schema()
    return jsonschema.validators.validator_for(built)(built)


def _best(instance):
    return jsonschema.exceptions.best_match(_validator().iter_errors(instance))


def _documents(path):
    return [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d is not None]


def test_the_schema_is_a_valid_draft_2020_12_schema():
    built = schema()
    validator = jsonschema.validators.validator_for(built)
    assert validator is jsonschema.Draft202012Validator
    validator.check_schema(built)


@pytest.mark.parametrize("path", PROBLEMS, ids=lambda p: p.stem)
def test_every_bundled_problem_validates(path):
    for document in _documents(path):
        assert _best(document) is None, _best(document).message


@pytest.mark.parametrize("name", list(CATALOG))
def test_every_template_validates(name):
    assert _best(yaml.safe_load(CATALOG[name].explanation.template)) is None


def test_a_problems_list_of_the_bundled_problems_validates():
    problems = [d for path in PROBLEMS for d in _documents(path)]
    assert _best({"problems": problems}) is None


# Each typo, and the key its error must name (in its message or its path).
TYPOS = {
    # an unknown key, one per loss family (aliases included)
    "mse-unknown-key": ({"loss": "mse", "y": [1], "yhat": [1], "yaht": [2]}, "yaht"),
    "bce-unknown-key": ({"loss": "bce", "y": [1], "yhat": [0.5], "logit": [0]}, "logit"),
    "alias-bce-unknown-key": (
        {"loss": "cross-entropy", "y": [1], "yhat": [0.5], "clipp": 0.1},
        "clipp",
    ),
    "nll-unknown-key": ({"loss": "nll", "target": [0], "yhat": [[1.0]], "clases": ["a"]}, "clases"),
    "cce-unknown-key": (
        {"loss": "cce", "target": [0], "yhat": [[1.0]], "smoothing": 0.1},
        "smoothing",
    ),
    "hinge-unknown-key": ({**HINGE, "yaht": [2]}, "yaht"),
    "alias-hinge-unknown-key": ({**HINGE, "loss": "sequence-hinge", "margn": 2}, "margn"),
    "sequence-unknown-key": (
        {"loss": "seq", "target": [0], "yhat": [[1.0]], "ignore": 0},
        "ignore",
    ),
    "reinforce-unknown-key": ({**REINFORCE, "loss": "rl", "gama": 0.9}, "gama"),
    "ctc-unknown-key": ({**LECTURE_CTC, "frame": 3}, "frame"),
    "ctc-matrix-unknown-key": ({**MATRIX_CTC, "trelis": True}, "trelis"),
    "custom-unknown-key": (
        {"loss": "custom", "terms": [HINGE], "weights": [1]},
        "weights",
    ),
    "a-key-of-another-loss": ({"loss": "mse", "y": [1], "yhat": [1], "log_base": 2}, "log_base"),
    # a wrong type
    "margin-type": ({**HINGE, "margin": [1, 2]}, "margin"),
    "y-type": ({"loss": "mse", "y": {"a": 1}, "yhat": [1]}, "y"),
    "frames-type": ({**LECTURE_CTC, "frames": [3]}, "frames"),
    "blank-type": ({**LECTURE_CTC, "blank": 0}, "blank"),
    "squared-type": ({**HINGE, "squared": [True]}, "squared"),
    # a choice that is not one of the choices
    "ctc-reduction": ({**LECTURE_CTC, "reduction": "none"}, "reduction"),
    "mse-reduction": ({"loss": "mse", "y": [1], "yhat": [1], "reduction": "average"}, "reduction"),
    "ctc-method": ({**LECTURE_CTC, "method": "normalised"}, "method"),
    "multiclass": (
        {"loss": "hinge", "target": [0], "scores": [[1, 2]], "multiclass": "crammer"},
        "multiclass",
    ),
    "log-base": ({"loss": "bce", "y": [1], "yhat": [0.5], "log_base": 3}, "log_base"),
    "returns": ({**REINFORCE, "returns": "to-go"}, "returns"),
    "baseline": ({**REINFORCE, "baseline": "meen"}, "baseline"),
    # inside a custom term, and inside a `problems:` list
    "term-unknown-key": (
        {"loss": "custom", "terms": [{"loss": "mse", "y": [1], "yhat": [1], "yaht": [1]}]},
        "yaht",
    ),
    "term-expected": (
        {"loss": "custom", "terms": [{"loss": "mse", "y": [1], "yhat": [1], "expected": 0}]},
        "expected",
    ),
    "term-reduction-none": (
        {"loss": "custom", "terms": [{**HINGE, "reduction": "none"}]},
        "reduction",
    ),
    "term-weight-type": ({"loss": "custom", "terms": [{**HINGE, "weight": [1]}]}, "weight"),
    "term-of-a-nested-custom": (
        {"loss": "custom", "terms": [{"loss": "custom", "terms": [{**HINGE, "margn": 1}]}]},
        "margn",
    ),
    "term-ctc-method": (
        {"loss": "custom", "terms": [{**LECTURE_CTC, "method": "exactly"}]},
        "method",
    ),
    "problems-list-item": (
        {"problems": [HINGE, {**LECTURE_CTC, "methd": "exact"}]},
        "methd",
    ),
    "problems-list-item-type": (
        {"problems": [HINGE, {**MATRIX_CTC, "alphabet": {"a": 1}}]},
        "alphabet",
    ),
    "beside-a-problems-list": ({"problems": [HINGE], "title": "two problems"}, "title"),
    "alignment-key": (
        {**LECTURE_CTC, "alignments": [{"path": "ab", "factor": [0.6, 0.6]}]},
        "factor",
    ),
}


@pytest.mark.parametrize(("problem", "key"), list(TYPOS.values()), ids=list(TYPOS))
def test_the_best_error_names_the_key(problem, key):
    error = _best(problem)
    assert error is not None, "the schema accepts the typo"
    assert UNHELPFUL not in error.message
    assert f"'{key}'" in error.message or key in error.absolute_path, (
        list(error.absolute_path),
        error.message,
    )


@pytest.mark.parametrize(("problem", "key"), list(TYPOS.values()), ids=list(TYPOS))
def test_the_validator_rejects_each_typo_too(problem, key):
    """The schema rejects nothing that the validator accepts (it is no stricter)."""
    data = problem["problems"][1] if "problems" in problem and len(problem) == 1 else problem
    with pytest.raises(ProblemError):
        validate(data)


@pytest.mark.parametrize(
    "problem",
    [{"loss": "softmax", "y": [1]}, {"loss": "custom", "terms": [{"loss": "hing", "y": [1]}]}],
    ids=["problem", "term"],
)
def test_an_unknown_loss_names_the_losses(problem):
    error = _best(problem)
    assert UNHELPFUL not in error.message
    assert error.absolute_path[-1] == "loss"
    for name in (*LOSSES, "cross-entropy", "sequence-hinge", "rl"):
        assert repr(name) in error.message


def test_a_problem_without_its_loss_is_asked_for_it():
    """As before, the schema asks for `loss` (a file solved by `rnnloss solve` needs it)."""
    error = _best({"y": [1], "yhat": [1]})
    assert error.message == "'loss' is a required property"


@pytest.mark.parametrize(
    "problem",
    [
        {**LECTURE_CTC, "reduction": "mean", "method": "normalized", "frames": 3},
        {**LECTURE_CTC, "alignments": ["a-b", {"path": ["a", "b"], "factors": [0.6, 0.6]}]},
        {
            **MATRIX_CTC,
            "grad": True,
            "trellis": True,
            "log_base": "2",
            "expected": 1,
            "tolerance": 9,
        },
        {**REINFORCE, "baseline": "0.5"},
        {**REINFORCE, "baseline": "mean", "reduction": None},
        {"loss": "custom", "terms": [{**MATRIX_CTC, "weight": 0.5, "name": "ctc"}, HINGE]},
        # numbers written as text, every way the validator reads them
        {**HINGE, "margin": "−1.5", "expected": "１．５", "tolerance": " 1e-3 "},
        {**HINGE, "yhat": "0.8, −0.5", "margin": "1_000", "expected": "+inf"},
        {"loss": "nll", "target": [0], "logits": "1,−∞,-Infinity,-INF", "expected": "∞"},
        {"loss": "mse", "y": [[1, "2"], "3,4"], "yhat": "1,2;3,4", "expected": ".5"},
        {"loss": "mse", "y": ["1", 2.5, "５."], "yhat": "1\u00a0,\u00a02, 3"},
        {"loss": "bce", "y": "1，0", "yhat": "0.5，0.25", "clip": "1e−7"},
        {"loss": "sequence", "target": "0,1|1,0", "yhat": "0.5,0.5;0.2,0.8|0.1,0.9;0.6,0.4"},
        {"loss": "sequence", "target": [[0, 1]], "yhat": [["0.5,0.5", [0.2, "0.8"]]]},
        {**REINFORCE, "gamma": "０.９", "baseline": " Mean ", "rewards": "1，−2"},
        {**LECTURE_CTC, "probabilities": "a = 0.6, b: 0.6, -=0.3", "frames": "3"},
        {**LECTURE_CTC, "probabilities": {"a": "0.6", "b": "６e-1", "-": 0.3}, "frames": 3},
        {"loss": "hinge", "target": [0], "scores": "1,2", "margin": "2E+0"},
        {"loss": "custom", "terms": [{**HINGE, "weight": "−0.5"}]},
    ],
    ids=[
        "ctc-reduction-mean",
        "alignments",
        "ctc-matrix",
        "baseline-text",
        "null",
        "custom",
        "unicode-minus-fullwidth",
        "list-text-underscore-inf",
        "infinity-forms",
        "mixed-rows",
        "nbsp",
        "fullwidth-separators",
        "batch-text",
        "batch-rows-as-text",
        "reinforce-text",
        "probabilities-text",
        "probabilities-values-text",
        "scores-text",
        "weight-text",
    ],
)
def test_what_the_validator_accepts_validates(problem):
    validate(problem)
    error = _best(problem)
    assert error is None, (list(error.absolute_path), error.message)


# Text with no number in it, where a number (or numbers) is wanted: both reject it.
NOT_NUMBERS = {
    "margin-word": ({**HINGE, "margin": "big"}, "margin"),
    "weight-word": ({"loss": "custom", "terms": [{**HINGE, "weight": "x"}]}, "weight"),
    "y-word": ({"loss": "mse", "y": "abc", "yhat": [1]}, "y"),
    "a-word-in-a-row": ({"loss": "cce", "target": [0], "yhat": [[0.5, "a"]]}, "yhat"),
    "a-word-in-a-list": ({"loss": "mse", "y": [1, "one"], "yhat": [1, 1]}, "y"),
    "a-word-in-row-text": ({"loss": "mse", "y": [[1, 2]], "yhat": ["1,two"]}, "yhat"),
    "expected-word": ({**HINGE, "expected": "half"}, "expected"),
    "tolerance-nan": ({**HINGE, "expected": 1, "tolerance": "nan"}, "tolerance"),
    "clip-word": ({"loss": "bce", "y": [1], "yhat": [0.5], "clip": "tiny"}, "clip"),
    "gamma-word": ({**REINFORCE, "gamma": "most"}, "gamma"),
    "baseline-word": ({**REINFORCE, "baseline": "median"}, "baseline"),
    "frames-word": ({**LECTURE_CTC, "frames": "nine"}, "frames"),
    "ignore-index-word": (
        {"loss": "sequence", "target": [0], "yhat": [[1.0]], "ignore_index": "pad"},
        "ignore_index",
    ),
    "probability-word": ({**LECTURE_CTC, "probabilities": {"a": "most", "b": 0.5}}, "a"),
    "probabilities-text-word": ({**LECTURE_CTC, "probabilities": "a=high,b=0.5"}, "probabilities"),
    "rewards-trailing-comma": ({**REINFORCE, "rewards": "1,2,"}, "rewards"),
    "spaces-between-numbers": ({"loss": "mse", "y": "1 2", "yhat": [1, 1]}, "y"),
    "factors-word": (
        {**LECTURE_CTC, "alignments": [{"path": "ab", "factors": "0.6,x"}]},
        "factors",
    ),
}


@pytest.mark.parametrize(("problem", "key"), list(NOT_NUMBERS.values()), ids=list(NOT_NUMBERS))
def test_text_with_no_number_is_rejected_by_the_schema_at_its_key(problem, key):
    error = _best(problem)
    assert error is not None, "the schema accepts text that is no number"
    assert key in error.absolute_path or f"'{key}'" in error.message, (
        list(error.absolute_path),
        error.message,
    )


@pytest.mark.parametrize(("problem", "key"), list(NOT_NUMBERS.values()), ids=list(NOT_NUMBERS))
def test_text_with_no_number_is_rejected_by_the_validator_too(problem, key):
    with pytest.raises(ProblemError):
        validate(problem)


@settings(max_examples=3000, deadline=None)
@given(st.text(alphabet="0123456789.eE+-_ −﹣－＋１９．ｅ∞infINFtyaAn\u00a0,", max_size=12))
def test_the_schema_reads_number_text_exactly_as_the_validator_does(text):
    """One number as text: the schema's pattern matches it exactly when the validator
    reads it as a number (infinity included, which some keys take)."""
    try:
        parse_number(text, "x", allow_inf=True)
        accepted = True
    except ProblemError:
        accepted = False
    assert bool(re.search(NUMBER_TEXT, text)) == accepted, text
