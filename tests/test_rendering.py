"""The rendered working, whole, against golden files; and the installed console script.

Regenerate the golden files after a deliberate change of the working with
`RNNLOSS_UPDATE_GOLDEN=1 pytest tests/test_rendering.py`, then read the diff.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rnnloss_cli.cli import app

ROOT = Path(__file__).resolve().parent.parent
PROBLEMS = sorted((ROOT / "problems").glob("*.yaml"))


def _loss_of(path: Path) -> str:
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("loss:"):
            return line.split(":", 1)[1].strip()
    raise AssertionError(f"{path} names no loss")


def _render(args: list[str], width: int) -> str:
    result = CliRunner().invoke(app, args, env={"COLUMNS": str(width), "NO_COLOR": "1"})
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.mark.parametrize("width", [80, 100])
@pytest.mark.parametrize("path", PROBLEMS, ids=lambda p: p.stem)
def test_working_matches_golden_file(path, width, monkeypatch, golden):
    monkeypatch.chdir(ROOT)
    text = _render([_loss_of(path), f"problems/{path.name}"], width)
    assert "\x1b[" not in text
    assert all(len(line) <= width for line in text.splitlines())
    golden(f"{path.stem}.{width}.txt", text)


@pytest.mark.parametrize("width", [60, 80])
def test_solve_table_matches_golden_file(width, monkeypatch, golden):
    monkeypatch.chdir(ROOT)
    text = _render(["solve", "problems/"], width)
    assert all(len(line) <= width for line in text.splitlines())
    golden(f"solve.{width}.txt", text)


def test_lecture_hinge_working_shows_each_step():
    text = _render(["hinge", "--y", "1,-1,1", "--yhat", "0.8,-0.5,0.3"], 80)
    for step in (
        "max(0, 1 − (1)(0.8)) = max(0, 0.2)",
        "max(0, 1 − (−1)(−0.5)) = max(0, 0.5)",
        "0.2 + 0.5 + 0.7 = 1.4",
        "1.4 / 3 = 0.466667",
    ):
        assert step in text


def _console_script() -> list[str]:
    found = shutil.which("rnnloss", path=os.path.dirname(sys.executable)) or shutil.which("rnnloss")
    if found is None:
        pytest.skip("the rnnloss console script is not installed")
    return [found]


def test_installed_console_script_runs():
    command = _console_script()
    done = subprocess.run(
        [*command, "hinge", "--y", "1,-1,1", "--yhat", "0.8,-0.5,0.3", "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["value"] == pytest.approx(1.4 / 3)
    bad = subprocess.run(
        [*command, "hinge", "--y", "1,0", "--yhat", "1,2"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert bad.returncode == 2 and bad.stdout == ""
    assert bad.stderr.count("\n") == 1 and "Traceback" not in bad.stderr


def test_python_dash_m_runs():
    done = subprocess.run(
        [sys.executable, "-m", "rnnloss_cli", "--version"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0 and done.stdout.startswith("rnnloss ")


IMPORTS_AFTER = """
import sys
from rnnloss_cli.cli import main
sys.argv = ["rnnloss", *sys.argv[1:]]
try:
    main()
except SystemExit:
    pass
print("MODULES", " ".join(sorted(m for m in ("yaml", "numpy", "rich") if m in sys.modules)),
      file=sys.stderr)
"""


def _modules_after(*args: str) -> set[str]:
    done = subprocess.run(
        [sys.executable, "-c", IMPORTS_AFTER, *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    line = next(x for x in done.stderr.splitlines() if x.startswith("MODULES"))
    return set(line.split()[1:])


def test_inline_calculation_does_not_import_yaml():
    assert "yaml" not in _modules_after("hinge", "--y", "1,-1,1", "--yhat", "0.8,-0.5,0.3")


def test_inline_json_imports_neither_yaml_nor_rich():
    loaded = _modules_after("hinge", "--y", "1,-1,1", "--yhat", "0.8,-0.5,0.3", "--json")
    assert "yaml" not in loaded and "rich" not in loaded


def test_version_imports_no_numeric_or_rendering_library():
    assert _modules_after("--version") == set()
