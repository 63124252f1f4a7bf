"""The documented limits (README, Limits): each is enforced with exit 2 and the limit named,
and nothing under them is refused. Aliases are where a small file stands for a huge one."""

from __future__ import annotations

import json
import os

import pytest
import yaml
from cli_helpers import billion_laughs
from cli_helpers import invoke as _run
from cli_helpers import write_problem as _write
from hypothesis import given, settings
from hypothesis import strategies as st

from rnnloss_cli import loader
from rnnloss_cli.errors import ProblemError
from rnnloss_cli.problems import FILE_LIMITS, MAX_TITLE
from rnnloss_cli.problems.ctc import MAX_FRAMES, MAX_LISTED_FRAMES, MAX_MATRIX, MAX_TRELLIS

HINGE = "{loss: hinge, y: [1, -1], yhat: [0.5, 0.5]}"


def _refused(text: str) -> str:
    with pytest.raises(ProblemError) as caught:
        loader.parse_problems(text, "p.yaml")
    return str(caught.value)


# --- problems a file -----------------------------------------------------------------------


def test_ten_thousand_documents_are_read():
    text = f"---\n{HINGE}\n" * loader.MAX_PROBLEMS
    assert len(loader.parse_problems(text, "p.yaml")) == loader.MAX_PROBLEMS


def test_one_document_more_is_refused_with_the_limit_named():
    message = _refused(f"---\n{HINGE}\n" * (loader.MAX_PROBLEMS + 1))
    assert "10,000 problems" in message and message.startswith("p.yaml: ")


def test_a_problems_list_without_loss_keys_counts_each_item():
    # A file for a single-loss command need not name its loss in each problem.
    message = _refused("problems:\n" + "  - {y: [1], yhat: [1]}\n" * (loader.MAX_PROBLEMS + 1))
    assert "10,000 problems" in message


def test_custom_terms_count_as_problems_with_aliases_expanded():
    inner = "{loss: custom, terms: [" + ", ".join(["*h"] * 100) + "]}"
    text = (
        "loss: custom\nterms:\n"
        f"  - &h {HINGE}\n"
        f"  - &c {inner}\n" + "  - *c\n" * 100  # 101 customs of 100 terms each
    )
    message = _refused(text)
    assert "10,000 problems" in message and "custom" in message


def test_custom_terms_under_the_limit_are_read():
    inner = "{loss: custom, terms: [" + ", ".join(["*h"] * 99) + "]}"
    text = f"loss: custom\nterms:\n  - &h {HINGE}\n  - &c {inner}\n" + "  - *c\n" * 98
    assert len(loader.parse_problems(text, "p.yaml")) == 1


# --- aliases -------------------------------------------------------------------------------


def test_an_alias_bomb_is_refused_before_anything_is_built(tmp_path):
    # 9**9 values a list: the walk sizes it without expanding, and stops at the limit.
    path = _write(tmp_path, billion_laughs(9))
    result = _run(["mse", path])
    assert result.exit_code == 2
    assert result.stderr == (
        f"rnnloss: {path}: holds more than 8 MiB of values once its YAML aliases (*name) "
        "are expanded: the limit for a problem file\n"
    )


def test_a_small_alias_expansion_is_allowed():
    raws = loader.parse_problems(billion_laughs(3, 3), "p.yaml")
    assert len(raws[0].data["y"]) == 3


def test_a_repeated_long_path_is_refused(tmp_path):
    path_text = "-" * (MAX_FRAMES - 5) + "HELLO"
    text = (
        "loss: ctc\nlabel: HELLO\nprobabilities: {H: 0.6, E: 0.5, L: 0.7, O: 0.8, '-': 0.2}\n"
        f'alignments:\n  - &a "{path_text}"\n' + "  - *a\n" * 999
    )
    result = _run(["ctc", _write(tmp_path, text)])
    assert result.exit_code == 2 and "8 MiB of values" in result.stderr


@pytest.mark.parametrize(
    "text",
    ["loss: mse\ny: &a [1, *a]\nyhat: [1]\n", "loss: mse\ny: [1]\nyhat: [1]\ntitle: &t {k: *t}\n"],
)
def test_an_alias_inside_its_own_anchor_is_refused(text):
    assert "sits inside its own anchor" in _refused(text)


@settings(max_examples=60, deadline=None)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
        lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(), inner, max_size=5),
        max_leaves=40,
    )
)
def test_without_aliases_the_expanded_size_never_exceeds_the_text(value):
    # So no file within the size limit is ever refused for its expansion.
    for style in (None, True, False):
        text = yaml.safe_dump({"loss": "mse", "data": value}, default_flow_style=style)
        walk = loader._NodeWalk("p.yaml")
        for node in yaml.compose_all(text, Loader=yaml.SafeLoader):
            walk.document(node)
        assert walk.text <= len(text)


# --- CTC listed alignments, titles -----------------------------------------------------------


def test_listed_alignments_are_limited_in_frames_all_together(tmp_path):
    count = MAX_LISTED_FRAMES // MAX_FRAMES + 1
    paths = [("-" * (MAX_FRAMES - 5) + "HELLO")] * count
    problem = {
        "loss": "ctc",
        "label": "HELLO",
        "probabilities": {"H": 0.6, "E": 0.5, "L": 0.7, "O": 0.8, "-": 0.2},
        "alignments": paths,
    }
    path = _write(tmp_path, json.dumps(problem))
    result = _run(["ctc", path])
    assert result.exit_code == 2
    assert f"alignments[{count - 1}].path:" in result.stderr
    assert "60,000 frames in all, over the limit of 40,000" in result.stderr


def test_a_title_is_one_line_of_at_most_200_characters(tmp_path):
    ok = _run(["hinge", "--y", "1", "--yhat", "2", "--title", "T" * MAX_TITLE])
    assert ok.exit_code == 0
    long = _run(["hinge", "--y", "1", "--yhat", "2", "--title", "T" * (MAX_TITLE + 1)])
    assert long.exit_code == 2
    assert long.stderr == (
        "rnnloss: --title: 201 characters is over the limit of 200 for a title (a line of text)\n"
    )


# --- the forward algorithm's table ---------------------------------------------------------


def _matrix_problem(frames: int, label: int) -> str:
    alphabet = ["-", "a", "b"]
    return json.dumps(
        {
            "loss": "ctc",
            "alphabet": alphabet,
            "label": "ab" * (label // 2) + "a" * (label % 2),
            "logits": [[1.0, 2.0, 3.0]] * frames,
        }
    )


def test_the_trellis_is_limited_in_matrix_mode(tmp_path):
    # 20,000 frames × (2·100 + 1) states = 4,020,000 cells; 99 symbols fit (3,980,000).
    assert 20_000 * 199 <= MAX_TRELLIS < 20_000 * 201
    ok = _run(["ctc", _write(tmp_path, _matrix_problem(20_000, 99), "ok.yaml"), "--json"])
    assert ok.exit_code == 0, ok.stderr
    over = _run(["ctc", _write(tmp_path, _matrix_problem(20_000, 100), "over.yaml")])
    assert over.exit_code == 2
    assert "logits: 20,000 frames × 201 states (2 × 100 label symbols + 1) is 4,020,000 cells" in (
        over.stderr
    )
    assert "over the limit of 4,000,000" in over.stderr


LECTURE = "loss: ctc\nprobabilities: {a: 0.4, b: 0.4, '-': 0.2}\n"


def test_the_trellis_is_limited_in_lecture_mode(tmp_path):
    path = _write(tmp_path, LECTURE + "label: " + "ab" * 50 + "\nframes: 20000\n")
    result = _run(["ctc", path])
    assert result.exit_code == 2 and f"{path}: frames: 20,000 frames × 201 states" in result.stderr


def test_the_trellis_of_listed_alignments_is_their_longest(tmp_path):
    # Without frames, the exact sum runs over as many frames as the longest alignment.
    label = "ab" * 50
    long_path = label + "-" * (MAX_FRAMES - len(label))
    text = LECTURE + f"label: {label}\nalignments: [{label}, {long_path}]\n"
    result = _run(["ctc", _write(tmp_path, text)])
    assert result.exit_code == 2 and "alignments[1]: 20,000 frames × 201 states" in result.stderr


def test_the_matrix_is_limited_in_values(tmp_path):
    alphabet = ", ".join(["-", *[f"s{i}" for i in range(199)]])
    rows = MAX_MATRIX // 200 + 1  # one row written out, the others aliases of it
    text = (
        f"loss: ctc\nalphabet: [{alphabet}]\nlabel: s1\nlogits:\n"
        f"  - &r [{', '.join(['0'] * 200)}]\n" + "  - *r\n" * (rows - 1)
    )
    result = _run(["ctc", _write(tmp_path, text)])
    assert result.exit_code == 2
    assert "10,001 × 200 is over the limit of 2,000,000 values" in result.stderr


# --- work a file may ask for ---------------------------------------------------------------

# 20,000 frames × (2 × 49 + 1) states = 1,980,000 cells: three fit in a file, four do not.
BIG_CTC = (
    "{loss: ctc, label: " + "ab" * 24 + "a, frames: 20000, "
    "probabilities: {a: 0.4, b: 0.4, '-': 0.2}}"
)
# 20,000 frames of a one-symbol label: few cells, but five fit in a file and six do not.
LONG_CTC = "{loss: ctc, label: a, frames: 20000, probabilities: {a: 0.5, '-': 0.5}}"


@pytest.mark.parametrize(
    ("problem", "fit", "message"),
    [
        (
            BIG_CTC,
            3,
            "7,920,000 cells of the forward algorithm in all, over the limit of 6,000,000",
        ),
        (LONG_CTC, 5, "120,000 frames in all, over the limit of 100,000"),
    ],
)
def test_a_file_of_tiny_texts_cannot_multiply_the_work(tmp_path, problem, fit, message):
    text = f"problems:\n  - &p {problem}\n" + "  - *p\n" * fit
    path = _write(tmp_path, text)
    result = _run(["solve", path, "--json"])
    assert result.exit_code == 2
    data = json.loads(result.stdout)
    assert [r["ok"] for r in data["results"]] == [True] * fit + [False]
    assert data["results"][fit]["error"] == (
        f"{path}#{fit}: the file's CTC problems up to this one need {message} for a problem "
        "file; split it"
    )


def test_the_terms_of_a_custom_loss_count_together(tmp_path):
    text = (
        f"loss: custom\nterms:\n  - &p {BIG_CTC}\n" + "  - *p\n" * 5  # one problem of six CTC terms
    )
    result = _run(["custom", _write(tmp_path, text)])
    assert result.exit_code == 2 and "11,880,000 cells" in result.stderr
    assert FILE_LIMITS[0] == ("cells of the forward algorithm", 6_000_000)


def test_the_file_size_limit(tmp_path):
    text = "loss: mse\ny: [1]\nyhat: [1]\n"
    path = _write(tmp_path, text + "#" * (loader.MAX_FILE_BYTES - len(text)))
    assert _run(["mse", path]).exit_code == 0
    over = _write(tmp_path, text + "#" * (loader.MAX_FILE_BYTES - len(text) + 1), "over.yaml")
    result = _run(["mse", over])
    assert result.exit_code == 2
    assert result.stderr == (
        f"rnnloss: {over}: is larger than the limit of 2 MiB for a problem file\n"
    )


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
def test_a_named_pipe_in_a_folder_is_not_waited_for(tmp_path):
    os.mkfifo(tmp_path / "pipe.yaml")
    (tmp_path / "ok.yaml").write_text("loss: mse\ny: [1]\nyhat: [1]\n")
    result = _run(["solve", str(tmp_path), "--json"])
    assert result.exit_code == 2
    data = json.loads(result.stdout)
    assert [r["ok"] for r in data["results"]] == [True, False]
    assert data["results"][1]["error"] == (
        f"{tmp_path / 'pipe.yaml'}: is not a regular file (a named pipe or a device?): not read"
    )


def test_yaml_nesting_beyond_libyaml_limit_is_one_line(tmp_path):
    deep = "[" * 5000 + "1" + "]" * 5000
    result = _run(["mse", _write(tmp_path, f"loss: mse\ny: {deep}\nyhat: [1]\n")])
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and "exceeded maximum nesting depth" in result.stderr
    within = "[" * 200 + "1" + "]" * 200  # read, then refused by the value's own shape
    result = _run(["mse", _write(tmp_path, f"loss: mse\ny: {within}\nyhat: [1]\n", "b.yaml")])
    assert result.exit_code == 2 and "nested too deeply" in result.stderr
