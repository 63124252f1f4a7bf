"""The shortcuts taken for large inputs give exactly what the value-by-value code gives:
numpy's conversion of plain number lists, JSON written a row per line, only the shown
rows of a long matrix formatted."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rnnloss_cli.errors import ProblemError
from rnnloss_cli.problems.values import parse_array, parse_number
from rnnloss_cli.render import markdown
from rnnloss_cli.render.json_out import dumps, plain
from rnnloss_cli.render.numbers import num

NUMBERS = st.one_of(
    st.integers(-(10**20), 10**20),
    st.floats(allow_nan=False, allow_infinity=False),
)


def _one_by_one(value, allow_neg_inf=False):
    """The reference: every value through parse_number, as the slow path reads them."""
    if value and isinstance(value[0], list):
        return np.array(
            [[parse_number(v, "k", allow_neg_inf=allow_neg_inf) for v in row] for row in value]
        )
    return np.array([parse_number(v, "k", allow_neg_inf=allow_neg_inf) for v in value])


@settings(max_examples=200, deadline=None)
@given(st.lists(NUMBERS, min_size=1, max_size=30))
def test_a_vector_reads_as_value_by_value(values):
    np.testing.assert_array_equal(parse_array(values, "k"), _one_by_one(values))


@settings(max_examples=200, deadline=None)
@given(
    st.integers(1, 6).flatmap(
        lambda width: st.lists(st.lists(NUMBERS, min_size=width, max_size=width), min_size=1)
    )
)
def test_a_matrix_reads_as_value_by_value(rows):
    np.testing.assert_array_equal(parse_array(rows, "k"), _one_by_one(rows))


def test_an_aliased_row_is_read_once_and_well():
    row = [0.1, 0.2, 0.7]
    array = parse_array([row] * 1000, "k")
    assert array.shape == (1000, 3) and (array == row).all()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ([1, True], "k[1]: expected a number, got true"),
        ([1.0, math.nan], "k[1]: NaN is not a number this tool accepts"),
        ([1.0, math.inf], "k[1]: infinity is not allowed here"),
        ([[1.0, 2.0], [3.0, math.nan]], "k[1][1]: NaN is not a number this tool accepts"),
        ([[1.0, 2.0], [3.0]], "k: ragged matrix: row 0 has 2 values but row 1 has 1"),
        ([10**400], "k[0]: an integer of 401 digits is too large for a float"),
        ([[1.0], 2.0], "k[1]: expected a row (a list of numbers), got 2.0"),
    ],
)
def test_unusual_values_are_still_named_by_position(value, message):
    with pytest.raises(ProblemError) as caught:
        parse_array(value, "k")
    assert str(caught.value).startswith("--" + message)  # no file: the key shown as a flag


def test_minus_infinity_where_log_probabilities_allow_it():
    array = parse_array([[-math.inf, 0.0]], "log_probs", allow_neg_inf=True)
    assert array[0, 0] == -math.inf


# --- JSON ----------------------------------------------------------------------------------

JSONABLE = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=3), inner),
    max_leaves=25,
)


@settings(max_examples=300, deadline=None)
@given(JSONABLE)
def test_json_is_the_standard_encoding_reflowed(value):
    text = dumps(value)

    def no_bare_constants(token: str) -> None:
        raise AssertionError(f"{token} is not strict JSON")

    reference = json.dumps(plain(value), allow_nan=False)
    assert json.loads(text, parse_constant=no_bare_constants) == json.loads(reference)


def test_plain_turns_numpy_and_odd_floats_into_strict_json():
    data = {
        "a": np.array([[1.0, -0.0], [np.inf, -np.inf]]),
        "b": np.array([-0.0, 2.5]),
        "c": [-0.0, 1.5],
        "d": [math.nan, 1.0],
        "e": np.float64(-0.0),
        "f": np.array(3.0),
    }
    assert plain(data) == {
        "a": [[1.0, 0.0], ["inf", "-inf"]],
        "b": [0.0, 2.5],
        "c": [0.0, 1.5],
        "d": [None, 1.0],
        "e": 0.0,
        "f": 3.0,
    }
    assert "-0.0" not in dumps(data)


def test_json_puts_a_vector_on_a_line_and_a_matrix_a_row_per_line():
    text = dumps({"terms": [0.5, 0.25], "grad": np.array([[1.0, 2.0], [3.0, 4.0]]), "w": []})
    assert text == (
        "{\n"
        '  "terms": [0.5, 0.25],\n'
        '  "grad": [\n'
        "    [1.0, 2.0],\n"
        "    [3.0, 4.0]\n"
        "  ],\n"
        '  "w": []\n'
        "}"
    )


# --- Markdown matrices ---------------------------------------------------------------------


@pytest.mark.parametrize("frames", [1, 5, markdown.MAX_ROWS, markdown.MAX_ROWS + 1, 500])
def test_a_markdown_matrix_formats_only_the_rows_it_shows(frames):
    rng = np.random.default_rng(frames)
    matrix = rng.random((frames, 3))
    marks = [int(i) for i in rng.integers(0, 3, frames)]
    shown = markdown._matrix(matrix, ["-", "a", "b"], "t", marks)
    # The reference: every row formatted, then the table elides the middle.
    rows = []
    for t in range(frames):
        cells = [num(v, 3) for v in matrix[t]]
        cells[marks[t]] = markdown.Raw(f"**{cells[marks[t]]}**")
        rows.append([str(t + 1), *cells])
    assert shown == markdown.table(["t", "-", "a", "b"], rows)
