"""Scaffolding the test modules share: run the app in-process, write a problem file, and
build a YAML alias bomb."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

from typer.testing import CliRunner, Result

from rnnloss_cli.cli import app


def invoke(args: list[str], **kwargs: Any) -> Result:
    """Run `rnnloss ARGS` in this process (Typer's runner; stderr kept apart)."""
    return CliRunner().invoke(app, args, **kwargs)


def write_problem(folder: Path, content: Any, name: str = "p.yaml") -> str:
    """Write a problem file (text as it is, anything else as JSON, which is YAML too)."""
    path = folder / name
    path.write_text(content if isinstance(content, str) else json.dumps(content), encoding="utf-8")
    return str(path)


def billion_laughs(levels: int, width: int = 9) -> str:
    """An mse problem whose y and yhat expand to width**levels values through aliases."""
    lines = ["loss: mse", f"a0: &a0 [{', '.join(['1'] * width)}]"]
    for i in range(1, levels):
        lines.append(f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * width)}]")
    lines += [f"y: *a{levels - 1}", f"yhat: *a{levels - 1}"]
    return "\n".join(lines) + "\n"


def compile_latex(text: str, folder: Path) -> str:
    """Compile a LaTeX document with pdflatex in `folder` (skip the test where pdflatex is
    not installed); fail with the log's error lines if it does not compile, or if a
    character is missing from the font. Return the log."""
    import pytest

    pdflatex = shutil.which("pdflatex")
    if pdflatex is None:
        pytest.skip("pdflatex is not installed")
    (folder / "doc.tex").write_text(text, encoding="utf-8")
    run = subprocess.run(
        [pdflatex, "-halt-on-error", "-interaction=nonstopmode", "doc.tex"],
        cwd=folder,
        capture_output=True,
        timeout=120,
    )
    log = (folder / "doc.log").read_text(encoding="latin-1")
    assert run.returncode == 0, [line for line in log.splitlines() if line.startswith("!")]
    assert "Missing character" not in log
    return log
