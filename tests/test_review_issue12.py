"""Regression tests for defects a review of issue 12 (one document model, LaTeX solutions,
question sheets) found in the writers: user text that acted as Markdown math, and long
words that ran off a LaTeX page."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from cli_helpers import invoke, write_problem

from rnnloss_cli.render import markdown
from rnnloss_cli.render.latex import escape, heading

LONG = "B" * 50  # the longest class name a problem may have


def _stdout(args: list[str]) -> str:
    result = invoke(args)
    assert result.exit_code == 0, result.output
    return result.stdout


def test_markdown_escapes_dollar_and_tilde():
    # The working's formulas are `$…$` math: two class names `$5` and `$10` on one line
    # must not open math between them, nor `~x~` strike through on GitHub.
    assert markdown.escape("$5, $10") == "\\$5, \\$10"
    assert markdown.escape("~x~") == "\\~x\\~"


@pytest.mark.parametrize("fmt", ["markdown", "questions"])
def test_markdown_user_dollars_are_text(tmp_path: Path, fmt: str):
    path = write_problem(
        tmp_path,
        {
            "loss": "nll",
            "title": "Prices $5 and $10 ~cheap~",
            "classes": ["$5", "$10", "~x~"],
            "target": ["$5", "$10"],
            "yhat": [[0.5, 0.25, 0.25], [0.25, 0.5, 0.25]],
        },
    )
    out = _stdout(["solve", path, "--format", fmt])
    # Every `$` the user wrote is escaped; the only bare `$` are the working's formulas.
    for line in out.splitlines():
        if "5" in line and "$" in line and not line.startswith("$"):
            assert "$5" not in line.replace("\\$5", ""), line
            assert "$10" not in line.replace("\\$10", ""), line
    assert "~x~" not in out and "\\~x\\~" in out


def test_latex_long_words_may_break():
    assert "\\allowbreak" in escape(LONG)
    assert escape(LONG).replace("\\allowbreak{}", "") == LONG
    assert "\\allowbreak" in escape("你" * 4)  # code points, eight characters wide each
    # Ordinary words and the working's lines are left as they were.
    assert escape("Speech recognition, HELLO") == "Speech recognition, HELLO"
    assert "allowbreak" not in escape("max(0, 1 − (1)(2.1)) = max(0, −1.1)")


def test_latex_heading_with_a_long_word_is_ragged():
    assert heading(0, escape(LONG)).startswith("\\section*{\\raggedright ")
    assert heading(0, escape("Summary")) == "\\section*{Summary}"


HOSTILE = (
    "\\input{/etc/passwd}\\write18{touch /tmp/x} <script>alert(1)</script>|`t` "
    "a\u200db 你好😀 " + "A" * 60
)[:200]


def _hostile(tmp_path: Path) -> list[str]:
    # As text, not ASCII JSON: PyYAML cannot read JSON's surrogate pairs (an emoji's \ud83d).
    title = json.dumps({"loss": "mse", "title": HOSTILE, "y": [1], "yhat": [2]}, ensure_ascii=False)
    return [
        write_problem(tmp_path, title, "a.yaml"),
        write_problem(
            tmp_path,
            {
                "loss": "cce",
                "title": "names",
                "classes": [LONG, "C" * 50, "a"],
                "target": [LONG, "a"],
                "yhat": [[0.5, 0.25, 0.25], [0.25, 0.25, 0.5]],
            },
            "b.yaml",
        ),
        write_problem(
            tmp_path,
            {
                "loss": "custom",
                "title": "nested " + "D" * 40,
                "terms": [
                    {"name": "E" * 50, "loss": "mse", "y": [1], "yhat": [2]},
                    {
                        "name": "F" * 50,
                        "loss": "custom",
                        "terms": [{"name": "G" * 50, "loss": "hinge", "y": [1], "yhat": [0.2]}],
                    },
                ],
            },
            "c.yaml",
        ),
    ]


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex is not installed")
@pytest.mark.parametrize("fmt", ["latex", "questions-latex"])
def test_long_names_stay_on_the_page(tmp_path: Path, fmt: str):
    paths = _hostile(tmp_path)
    text = _stdout(["solve", *paths, "--details", "--format", fmt])
    (tmp_path / "doc.tex").write_text(text, encoding="utf-8")
    done = subprocess.run(
        ["pdflatex", "-halt-on-error", "-interaction=nonstopmode", "-no-shell-escape", "doc.tex"],
        cwd=tmp_path,
        capture_output=True,
        timeout=120,
    )
    log = (tmp_path / "doc.log").read_text(encoding="latin-1")
    assert done.returncode == 0, log[-2000:]
    overfull = [line for line in log.splitlines() if line.startswith("Overfull \\hbox")]
    # A point or two is TeX's rounding; a long name used to run 300–580pt off the page.
    assert all(float(line.split("(")[1].split("pt")[0]) < 20 for line in overfull), overfull


NESTED = {
    "loss": "custom",
    "title": "nested three deep",
    "terms": [
        {
            "loss": "custom",
            "terms": [
                {
                    "loss": "custom",
                    "terms": [
                        {"loss": "mse", "y": [1, 2], "yhat": [2, 2]},
                        {"loss": "hinge", "y": [1], "yhat": [0.3]},
                    ],
                },
                {"loss": "bce", "y": [1], "yhat": [0.7]},
            ],
        },
        {"loss": "huber", "y": [1], "yhat": [3]},
    ],
}


@pytest.mark.parametrize("fmt", ["questions", "questions-latex"])
def test_nested_sub_parts_are_labelled_apart(tmp_path: Path, fmt: str):
    # Parts of a part of a part used to be (i), (ii) again, under a part labelled (i).
    out = _stdout(["solve", write_problem(tmp_path, NESTED), "--format", fmt])
    labels = ["(a) Custom", "(i) Custom", "(A) Mean squared", "(B) Hinge", "(ii) Binary"]
    positions = [out.index(label) for label in labels]
    assert positions == sorted(positions)
    assert out.count("(i) ") == 1 and "(b) Huber" in out
