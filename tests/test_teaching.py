"""explain, new, schema, Markdown and SVG output, progress, and widths."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from rnnloss_cli.catalog import LOSSES
from rnnloss_cli.cli import app
from rnnloss_cli.problems import ALL_KEYS
from rnnloss_cli.schema import key_schemas, schema

ROOT = Path(__file__).resolve().parent.parent
PROBLEMS = sorted((ROOT / "problems").glob("*.yaml"))


def _run(args, width=80, **kw):
    env = {"COLUMNS": str(width), "NO_COLOR": "1", **kw.pop("env", {})}
    return CliRunner().invoke(app, args, env=env, **kw)


def test_explain_lists_every_loss():
    result = _run(["explain"])
    assert result.exit_code == 0
    for name in LOSSES:
        assert name in result.stdout


@pytest.mark.parametrize("name", [*LOSSES, "rl", "seq", "cross-entropy"])
def test_explain_one_loss(name):
    result = _run(["explain", name])
    assert result.exit_code == 0
    for heading in ("Formula", "This tool's conventions", "Pitfalls", "problems/"):
        assert heading in result.stdout


def test_explain_ctc_names_the_collapse_rule_and_the_listed_sum():
    out = " ".join(_run(["explain", "ctc"]).stdout.split())
    assert "merge repeats, then remove blanks" in out and "Listing a few paths is not CTC" in out


def test_explain_unknown_loss_lists_the_choices():
    result = _run(["explain", "softmax"])
    assert result.exit_code == 2 and "mse" in result.stderr and "ctc" in result.stderr
    assert len(result.stderr.splitlines()) == 1


@pytest.mark.parametrize("name", LOSSES)
def test_each_template_solves_as_it_stands(name, tmp_path):
    template = _run(["new", name]).stdout
    assert template.startswith("# yaml-language-server: $schema=rnnloss.schema.json\n")
    path = tmp_path / "p.yaml"
    path.write_text(template, encoding="utf-8")
    result = _run([name, str(path), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["matches"] is True and data["warnings"] == []


def test_the_schema_knows_every_key_the_validator_knows():
    assert set(ALL_KEYS) <= set(key_schemas())


def test_the_schema_command_prints_the_schema():
    printed = json.loads(_run(["schema"]).stdout)
    assert printed == json.loads(json.dumps(schema()))
    assert printed["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def _validator():
    jsonschema = pytest.importorskip("jsonschema")
    return jsonschema.Draft202012Validator(schema())


@pytest.mark.parametrize("path", PROBLEMS, ids=lambda p: p.stem)
def test_every_bundled_problem_validates_against_the_schema(path):
    errors = list(_validator().iter_errors(yaml.safe_load(path.read_text(encoding="utf-8"))))
    assert not errors, [e.message for e in errors]


@pytest.mark.parametrize("name", LOSSES)
def test_every_template_validates_against_the_schema(name):
    data = yaml.safe_load(LOSSES[name].explanation.template)
    assert not list(_validator().iter_errors(data))


@pytest.mark.parametrize(
    "problem",
    [
        {"loss": "mse", "y": [1], "yhat": [1], "yaht": [2]},
        {"loss": "mse", "y": [1], "yhat": [1], "log_base": 2},
        {"loss": "hinge", "y": [1], "yhat": [1], "reduction": "average"},
        {"loss": "custom", "terms": [{"loss": "mse", "y": [1], "yhat": [1], "expected": 0}]},
        {"loss": "softmax"},
    ],
)
def test_the_schema_rejects_what_the_validator_rejects(problem):
    assert list(_validator().iter_errors(problem))


# --- Markdown, SVG, progress, widths ---------------------------------------------------


@pytest.mark.parametrize("path", PROBLEMS, ids=lambda p: p.stem)
def test_markdown_matches_golden_file(path, monkeypatch, golden):
    monkeypatch.chdir(ROOT)
    result = _run(["solve", f"problems/{path.name}", "--format", "markdown", "--details"])
    assert result.exit_code == 0
    assert result.stdout.startswith("## ") and "**Answer:**" in result.stdout
    assert "\x1b[" not in result.stdout
    golden(f"{path.stem}.md", result.stdout)


@pytest.mark.parametrize("path", PROBLEMS, ids=lambda p: p.stem)
def test_plain_working_at_60_columns_matches_golden_file(path, monkeypatch, golden):
    monkeypatch.chdir(ROOT)
    result = _run(["solve", f"problems/{path.name}", "--details"], width=60)
    assert result.exit_code == 0
    assert max(len(line) for line in result.stdout.splitlines()) <= 60
    golden(f"{path.stem}.60.txt", result.stdout)


@pytest.mark.parametrize("width", [60, 80, 120])
def test_nothing_is_wider_than_the_terminal(width, monkeypatch):
    monkeypatch.chdir(ROOT)
    for args in (
        ["solve", "problems/", "--details"],
        ["explain"],
        ["explain", "ctc"],
        ["ctc", "problems/hello.yaml", "--trellis"],
        ["ctc", "problems/ctc_matrix_at.yaml", "--grad"],
    ):
        result = _run(args, width=width)
        assert result.exit_code == 0, args
        assert max(len(line) for line in result.stdout.splitlines()) <= width, args


def test_svg_saves_the_working(tmp_path):
    target = tmp_path / "hello.svg"
    result = _run(["ctc", str(ROOT / "problems/hello.yaml"), "--svg", str(target)])
    assert result.exit_code == 0
    svg = target.read_text(encoding="utf-8")
    assert svg.startswith("<svg") and "HELLO" in svg


def test_svg_needs_the_rich_format(tmp_path):
    result = _run(["hinge", "--y", "1", "--yhat", "2", "--json", "--svg", str(tmp_path / "x")])
    assert result.exit_code == 2 and len(result.stderr.splitlines()) == 1


def test_json_and_format_must_agree():
    result = _run(["hinge", "--y", "1", "--yhat", "2", "--json", "--format", "markdown"])
    assert result.exit_code == 2
    assert _run(["hinge", "--y", "1", "--yhat", "2", "--format", "json"]).stdout.startswith("{")


def test_no_progress_bar_in_pipes(tmp_path):
    for i in range(25):
        (tmp_path / f"p{i:02}.yaml").write_text("loss: mse\ny: [1]\nyhat: [2]\n")
    result = _run(["solve", str(tmp_path)])
    assert result.exit_code == 0 and result.stderr == ""
    assert "25 problems: 25 solved" in result.stdout
