"""LaTeX solutions (--format latex) and question sheets (--format questions and
questions-latex): well-formed for every bundled problem, user text escaped so it shows as
written and never acts, no answer on a question sheet, and — where pdflatex is installed —
documents that compile without a table running off the page."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from cli_helpers import invoke, write_problem

from rnnloss_cli.render.latex import escape
from rnnloss_cli.render.numbers import num

ROOT = Path(__file__).resolve().parent.parent
PROBLEMS = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "problems").glob("*.yaml"))
LATEX_FORMATS = ("latex", "questions-latex")

HOSTILE = "T\\it{x} $1 & #2 ^3 _4 %5 ~6 <pad> \x1b[31m \u202e 你好 😀 -- '' !` [x] *y (z)"
HOSTILE_PROBLEMS = [
    {
        "loss": "cce",
        "title": HOSTILE,
        "classes": ["a_b", "50%", "#x&y", "$z{w}", "\\v~u^t", "<pad>", "你", "😀", "\x1b"],
        "target": ["a_b", "<pad>", "你"],
        "yhat": [[1 / 9] * 9] * 3,
    },
    {
        "loss": "ctc",
        "title": HOSTILE,
        "label": ["_", "%", "#", "&"],
        "alphabet": ["<pad>", "_", "%", "#", "&", "$", "{", "\\", "~", "^", "你", "😀", "\x1b"],
        "blank": "<pad>",
        "probs": [[1 / 13] * 13] * 6,
        "trellis": True,
        "grad": True,
    },
    {
        "loss": "ctc",
        "title": "lecture " + HOSTILE,
        "label": ["$", "{"],
        "blank": "\\",
        "probabilities": {"$": 0.5, "{": 0.3, "\\": 0.2},
        "alignments": ["$\\{", "${\\"],
    },
    {
        "loss": "custom",
        "title": HOSTILE,
        "terms": [
            {"name": "a&b_%", "loss": "mse", "y": [1, 2], "yhat": [1.5, 2.5]},
            {"name": "你 #", "loss": "hinge", "y": [1, -1], "yhat": [0.5, 0.5]},
        ],
    },
]


@pytest.fixture
def hostile(tmp_path: Path) -> str:
    text = "\n---\n".join(json.dumps(p, ensure_ascii=False) for p in HOSTILE_PROBLEMS)
    return write_problem(tmp_path, text, "hostile.yaml")


def _stdout(args: list[str], status: int = 0) -> str:
    result = invoke(args, env={"COLUMNS": "100", "NO_COLOR": "1"})
    assert result.exit_code == status, (args, result.stdout, result.stderr)
    return result.stdout


# --- well-formed LaTeX ------------------------------------------------------------------


def _group_end(text: str, start: int) -> int:
    """Return the index just past the group opened at text[start] == '{'."""
    depth, i = 0, start
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        depth += {"{": 1, "}": -1}.get(text[i], 0)
        i += 1
        if depth == 0:
            return i
    raise AssertionError(f"unclosed group at {text[start : start + 60]!r}")


def _outside_math(text: str) -> str:
    """Return the text with its math (\\ensuremath{…}, \\[…\\], gather*) left out."""
    text = re.sub(r"\\\[.*?\\\]", " ", text, flags=re.S)
    text = re.sub(r"\\begin\{gather\*\}.*?\\end\{gather\*\}", " ", text, flags=re.S)
    while (start := text.find("\\ensuremath{")) >= 0:
        end = _group_end(text, start + len("\\ensuremath"))
        text = text[:start] + " " + text[end:]
    return text


def check_latex(text: str) -> None:
    """Assert that LaTeX is well-formed: only characters pdflatex sets, environments
    closed in order, braces balanced outside escapes, no LaTeX special character
    outside math but as an escape (& only between table cells, the same count a row)."""
    assert all(c == "\n" or (c >= " " and c != "\x7f") for c in text), "a control character"
    odd = {c for c in text if not c.isascii() and not ("\u00c0" <= c <= "\u00ff")}
    assert not odd, f"characters pdflatex may not set: {odd}"
    text = "\n".join(line for line in text.split("\n") if not line.startswith("%"))
    stack: list[str] = []
    for kind, name in re.findall(r"\\(begin|end)\{([a-zA-Z*]+)\}", text):
        if kind == "begin":
            stack.append(name)
        else:
            assert stack and stack.pop() == name, f"\\end{{{name}}} closes nothing open"
    assert not stack, f"unclosed environments {stack}"
    assert text.count("\\[") == text.count("\\]")
    bare = re.sub(r"\\[^a-zA-Z]", "", text)  # escapes: \{ \} \$ \& \\ …
    depth = 0
    for char in bare:
        depth += {"{": 1, "}": -1}.get(char, 0)
        assert depth >= 0, "a } closes nothing"
    assert depth == 0, "unbalanced braces"
    words = re.sub(r"\\[^a-zA-Z]", "", _outside_math(text))
    for char in "_^$#%~":
        assert char not in words.replace("\\textasciitilde{}", ""), f"raw {char!r} in text"
    for table in re.findall(r"\\begin\{longtable\}.*?\\end\{longtable\}", text, flags=re.S):
        # A cell of several lines is a tabular inside the cell: one cell, whatever it holds.
        table = re.sub(r"\\begin\{tabular\}.*?\\end\{tabular\}", "x", table, flags=re.S)
        rows = [re.sub(r"\\[^a-zA-Z]", "", line) for line in table.split("\n")]
        rows = [line for line in rows if line.rstrip().endswith("\\") or "&" in line]
        counts = {row.count("&") for row in rows}
        assert len(counts) == 1, f"rows with different numbers of cells: {table[:200]}"
    outside = re.sub(r"\\begin\{longtable\}.*?\\end\{longtable\}", "", words, flags=re.S)
    assert "&" not in outside, "a raw & outside a table"


@pytest.mark.parametrize("path", PROBLEMS)
@pytest.mark.parametrize("fmt", LATEX_FORMATS)
def test_every_bundled_problem_is_well_formed_latex(path: str, fmt: str):
    text = _stdout(["solve", path, "--format", fmt, "--details"])
    check_latex(text)
    assert text.startswith("\\documentclass{article}")
    assert text.count("\\begin{document}") == 1 and text.rstrip().endswith("\\end{document}")


@pytest.mark.parametrize("fmt", LATEX_FORMATS)
def test_a_whole_solve_is_one_document(fmt: str):
    text = _stdout(["solve", "problems", "--format", fmt])
    check_latex(text)
    assert text.count("\\documentclass") == 1 and text.count("\\begin{document}") == 1
    if fmt == "latex":  # every working, then the summary and the totals
        assert text.count("\\section*{") == len(PROBLEMS) + 1
        summary = text.index("\\section*{Summary}")
        assert "\\toprule" in text[summary:] and "\\bottomrule" in text[summary:]
        assert f"{len(PROBLEMS)} problems: {len(PROBLEMS)} solved" in text[summary:]


def test_a_command_writes_one_document_for_a_file_of_several_problems(hostile: str):
    text = _stdout(["ctc", "problems/hello.yaml", "--format", "latex"])
    assert text.count("\\documentclass") == 1
    check_latex(text)


def test_the_formula_is_real_math_and_the_terms_a_booktabs_table():
    text = _stdout(["hinge", "problems/hinge_sequence.yaml", "--format", "latex"])
    assert "\\max(0,\\ 1 - y_i \\hat{y}_i)" in text
    terms = text[text.index("\\textbf{Terms}") :]
    assert terms.index("\\toprule") < terms.index("\\midrule") < terms.index("\\bottomrule")
    assert "\\fbox{" in text and "\\textbf{Answer:}" in text
    assert "\\ensuremath{\\checkmark} matches the answer key" in text


def test_warnings_are_an_itemize():
    text = _stdout(["ctc", "problems/hello.yaml", "--format", "latex"])
    check_latex(text)
    warnings = text[text.index("Lecture checks and warnings") :]
    assert "\\begin{itemize}" in warnings and warnings.count("\\item ") == 6


def test_a_custom_loss_with_details_has_its_components_as_parts():
    path = "problems/custom_ctc_sequence.yaml"
    text = _stdout(["custom", path, "--format", "latex", "--details"])
    assert "\\subsection*{Term 1 of CTC plus an auxiliary sequence loss: CTC loss}" in text
    assert "\\subsection*{Term 2 of" in text
    assert "\\subsection*" not in _stdout(["custom", path, "--format", "latex"])


def test_long_tables_are_elided_as_markdown_elides_them(tmp_path: Path):
    path = write_problem(tmp_path, {"loss": "mse", "y": list(range(500)), "yhat": [0] * 500})
    text = _stdout(["mse", path, "--format", "latex"])
    check_latex(text)
    table = text[text.index("\\begin{longtable}") : text.index("\\end{longtable}")]
    rows = [line for line in table.split("\n") if line.endswith(("\\\\", "\\\\*"))]
    assert len(rows) == 1 + 35 + 1 + 4  # the head, 35 first rows, ⋮, the last 4
    assert "\\vdots" in table and "\n500 & " in table


def test_a_wide_trellis_keeps_markdowns_columns_in_parts_that_fit(tmp_path: Path):
    path = write_problem(tmp_path, _wide_ctc())
    text = _stdout(["ctc", path, "--format", "latex"])
    check_latex(text)
    assert "part 1 of " in text and "\\dots{}" in text
    for table in re.findall(r"\\begin\{longtable\}\[l\]\{@\{\}(r+)@\{\}\}", text):
        assert len(table) <= 14  # the row label and at most 13 columns of cells


def _wide_ctc() -> dict:
    rng = np.random.default_rng(0)
    alphabet = ["-", *"abcdefghijklmnopqrstuvwxyz"]
    probs = rng.random((60, len(alphabet))) + 0.1
    probs /= probs.sum(axis=1, keepdims=True)
    return {
        "loss": "ctc",
        "title": "A wide trellis",
        "label": "helloworldabcdefgghij",
        "alphabet": alphabet,
        "probs": probs.round(6).tolist(),
        "trellis": True,
        "grad": True,
    }


# --- user text ------------------------------------------------------------------------


def test_escape_shows_special_characters_as_written():
    assert escape("a_b") == "a\\_b"
    assert escape("50% #1 & $2") == "50\\% \\#1 \\& \\$2"
    assert escape("{\\x}") == "\\{\\textbackslash{}x\\}"
    assert escape("^~") == "\\textasciicircum{}\\textasciitilde{}"
    assert escape("<pad>") == "\\textless{}pad\\textgreater{}"
    assert escape("--") == "-{}-"
    assert escape("−0.5 × 2") == "\\ensuremath{-}0.5 \\ensuremath{\\times} 2"
    assert escape("yᵢ") == "\\ensuremath{y_{i}}"
    assert escape("log₁₀") == "log\\ensuremath{_{10}}"
    assert escape("ŷ²") == "\\ensuremath{\\hat{y}^{2}}"
    assert escape("你") == "\\ensuremath{\\langle}U+4F60\\ensuremath{\\rangle}"
    assert escape("😀") == "\\ensuremath{\\langle}U+1F600\\ensuremath{\\rangle}"
    assert "ESC" in escape("␛") and "ESC" in escape("\x1b")
    assert escape("café") == "café"


@pytest.mark.parametrize("fmt", LATEX_FORMATS)
def test_hostile_user_text_is_escaped(hostile: str, fmt: str):
    text = _stdout(["solve", hostile, "--format", fmt, "--details"])
    check_latex(text)
    title = (
        "T\\textbackslash{}it\\{x\\} \\$1 \\& \\#2 \\textasciicircum{}3 \\_4 \\%5 "
        "\\textasciitilde{}6 \\textless{}pad\\textgreater{} "
    )
    assert title in text
    assert "\\texttt{ESC}" in text  # ESC, shown by printable as ␛
    for code in ("U+202E", "U+4F60", "U+597D", "U+1F600"):
        assert f"\\ensuremath{{\\langle}}{code}\\ensuremath{{\\rangle}}" in text
    assert "\\textless{}pad\\textgreater{}" in text  # the blank and a class name
    assert "a\\_b" in text and "\\#x\\&y" in text and "\\$z\\{w\\}" in text


def test_hostile_user_text_in_a_markdown_question_sheet(hostile: str):
    text = _stdout(["solve", hostile, "--format", "questions"])
    assert "\x1b" not in text and "\u202e" not in text
    assert "␛" in text and "⟨U+202E⟩" in text and "&lt;pad&gt;" in text


# --- question sheets ----------------------------------------------------------------------


def _answers(path: str) -> list[str]:
    """Return the strings that would give a problem's answer away: its value as the
    working writes it and the answer key as the file writes it."""
    data = json.loads(_stdout(["solve", path, "--json"]))
    found = []
    for item in data["results"]:
        result = item["result"]
        if isinstance(result["value"], float):
            found.append(num(result["value"]))
        if result["expected"] is not None:
            found += [num(result["expected"], 10), repr(result["expected"])]
    return found


@pytest.mark.parametrize("path", PROBLEMS)
@pytest.mark.parametrize("fmt", ("questions", "questions-latex"))
def test_a_question_gives_no_answer(path: str, fmt: str):
    text = _stdout(["solve", path, "--format", fmt])
    assert "Question 1: " in text
    for answer in _answers(path):
        assert not re.search(rf"(?<![\d.]){re.escape(answer)}(?!\d)", text), answer
    for word in ("Answer", "answer key", "Formula", "Terms", "Sum", "Loss", "✓", "✗"):
        assert word not in text, word
    for word in ("checkmark", "gather", "Trellis", "Gradient", "itemize", "fbox"):
        assert word not in text, word
    if fmt == "questions-latex":
        assert "\\[" not in text  # no display math: no formula


@pytest.mark.parametrize("fmt", ("questions", "questions-latex"))
def test_questions_are_numbered_across_a_solve(fmt: str):
    text = _stdout(["solve", "problems", "--format", fmt])
    numbers = [int(n) for n in re.findall(r"Question (\d+): ", text)]
    assert numbers == list(range(1, len(PROBLEMS) + 1))
    assert "Summary" not in text and "solved" not in text
    custom = text[text.index("CTC plus an auxiliary") :]
    assert "(a) CTC loss" in custom and "(b) Sequence cross-entropy" in custom


def test_a_question_shows_the_inputs_and_what_the_problem_gives():
    text = _stdout(["ctc", "problems/hello.yaml", "--format", "questions"])
    assert text.startswith("## Question 1: Speech recognition")
    assert "P(H) = 0.6" in text and "H-E-LL-O" in text  # the inputs and the listed paths
    assert "0.0065856" not in text  # but not their products


def test_a_bad_problem_is_an_error_line_after_the_sheet(tmp_path: Path):
    write_problem(tmp_path, {"loss": "mse", "y": [1, 2], "yhat": [1, 3]}, "a.yaml")
    write_problem(tmp_path, {"loss": "mse", "y": [1, 2]}, "b.yaml")
    for fmt in ("questions", "questions-latex", "latex"):
        result = invoke(["solve", str(tmp_path), "--format", fmt])
        assert result.exit_code == 2
        assert "Question 1: " in result.stdout or "\\section*{a.yaml}" in result.stdout
        assert "b.yaml" in result.stderr and len(result.stderr.strip().splitlines()) == 1
        if fmt != "questions":
            check_latex(result.stdout)


# --- options ------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", LATEX_FORMATS)
def test_latex_body_is_the_body_only(fmt: str):
    text = _stdout(["solve", "problems/hello.yaml", "--format", fmt, "--latex-body"])
    assert "\\documentclass" not in text and "\\begin{document}" not in text
    assert text.startswith("% rnnloss LaTeX body")
    check_latex(text)
    text = _stdout(["ctc", "problems/hello.yaml", "--format", fmt, "--latex-body"])
    assert "\\documentclass" not in text


def test_latex_body_and_svg_go_with_their_formats():
    result = invoke(["ctc", "problems/hello.yaml", "--format", "markdown", "--latex-body"])
    assert result.exit_code == 2 and "--latex-body" in result.stderr
    result = invoke(["solve", "problems", "--format", "questions", "--latex-body"])
    assert result.exit_code == 2
    result = invoke(["ctc", "problems/hello.yaml", "--format", "latex", "--svg", "x.svg"])
    assert result.exit_code == 2 and "--svg" in result.stderr


def test_the_other_formats_do_not_import_the_latex_writers():
    code = (
        "import sys; from rnnloss_cli import cli, output; "
        "assert 'rnnloss_cli.render.latex' not in sys.modules; "
        "assert 'rnnloss_cli.render.questions' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


# --- pdflatex -------------------------------------------------------------------------------

PDFLATEX = shutil.which("pdflatex")
needs_tex = pytest.mark.skipif(PDFLATEX is None, reason="pdflatex is not installed")


def _compile(tmp_path: Path, text: str, name: str = "doc") -> str:
    """Compile with pdflatex; return its log (a failure shows the log's errors)."""
    (tmp_path / f"{name}.tex").write_text(text, encoding="utf-8")
    run = subprocess.run(
        [PDFLATEX, "-halt-on-error", "-interaction=nonstopmode", f"{name}.tex"],
        cwd=tmp_path,
        capture_output=True,
        timeout=120,
    )
    log = (tmp_path / f"{name}.log").read_text(encoding="latin-1")
    errors = [line for line in log.splitlines() if line.startswith("!")]
    assert run.returncode == 0 and (tmp_path / f"{name}.pdf").exists(), errors
    return log


def _overfull(log: str) -> list[str]:
    return [line for line in log.splitlines() if line.startswith("Overfull \\hbox")]


@needs_tex
@pytest.mark.parametrize("path", PROBLEMS)
def test_every_bundled_solution_compiles_and_fits(tmp_path: Path, path: str):
    log = _compile(tmp_path, _stdout(["solve", path, "--format", "latex", "--details"]))
    assert not _overfull(log)


@needs_tex
def test_a_whole_solve_and_its_question_sheet_compile(tmp_path: Path):
    for fmt in LATEX_FORMATS:
        # Absolute paths: the summary's file column wraps after a / to fit.
        args = ["solve", str(ROOT / "problems"), "--format", fmt, "--details"]
        log = _compile(tmp_path, _stdout(args))
        assert not _overfull(log), fmt


@needs_tex
def test_hostile_text_compiles(tmp_path: Path, hostile: str):
    for fmt in LATEX_FORMATS:
        _compile(tmp_path, _stdout(["solve", hostile, "--format", fmt, "--details"]))


@needs_tex
def test_a_wide_trellis_compiles_and_fits(tmp_path: Path):
    path = write_problem(tmp_path, _wide_ctc())
    log = _compile(tmp_path, _stdout(["ctc", path, "--format", "latex"]))
    assert not _overfull(log)


@needs_tex
def test_a_body_compiles_in_a_document_with_the_packages_it_names(tmp_path: Path):
    body = _stdout(["solve", "problems", "--format", "latex", "--latex-body", "--details"])
    (tmp_path / "body.tex").write_text(body, encoding="utf-8")
    packages = [line[1:].strip() for line in body.splitlines() if line.startswith("%   ")]
    preamble = "\\documentclass{article}\n" + "\n".join(packages)
    _compile(tmp_path, f"{preamble}\n\\begin{{document}}\n\\input{{body}}\n\\end{{document}}\n")


@pytest.mark.parametrize("fmt", ["questions", "questions-latex"])
def test_a_sheet_says_when_it_abridges_the_inputs(tmp_path, fmt):
    long = tmp_path / "long.yaml"
    long.write_text(
        json.dumps({"loss": "mse", "y": list(range(300)), "yhat": [x + 0.5 for x in range(300)]}),
        encoding="utf-8",
    )
    tall = tmp_path / "tall.yaml"
    rows = [[0.5, 0.5]] * 60
    tall.write_text(
        json.dumps({"loss": "ctc", "label": "a", "alphabet": ["-", "a"], "probs": rows}),
        encoding="utf-8",
    )
    short = tmp_path / "short.yaml"
    short.write_text(json.dumps({"loss": "mse", "y": [1, 2], "yhat": [1, 3]}), encoding="utf-8")
    dots = tmp_path / "dots.yaml"  # a class named with an ellipsis abridges nothing
    cce = {"loss": "cce", "classes": ["weather", "wait…", "alarm"], "target": [1]}
    dots.write_text(json.dumps(cce | {"yhat": [[0.2, 0.7, 0.1]]}), encoding="utf-8")
    for command, path, abridged in (
        ("mse", long, True),
        ("ctc", tall, True),
        ("mse", short, False),
        ("cce", dots, False),
    ):
        text = invoke([command, str(path), "--format", fmt]).stdout
        assert ("abridged" in text) is abridged, (path.name, text[-400:])
