"""The console script (`rnnloss_cli.entry`): a process that ends with `os._exit` after its
output is flushed, with the cyclic collector off. Everything it prints must still arrive,
with the exit status of the contract, whatever state the standard streams are in."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rnnloss_cli import entry
from rnnloss_cli.cli import app

ROOT = Path(__file__).resolve().parents[1]
PROBLEMS = ROOT / "problems"
HINGE = ["hinge", "--y", "1,-1,1", "--yhat", "0.8,-0.5,0.3"]


def _run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "rnnloss_cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=ROOT,
    )


def _shell(command: str) -> subprocess.CompletedProcess[str]:
    """Run `python -m rnnloss_cli …` under sh, so that a test can close a stream (`>&-`)."""
    python = shlex.quote(sys.executable)
    return subprocess.run(
        ["sh", "-c", f"{python} -m rnnloss_cli {command}"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=ROOT,
    )


@pytest.mark.parametrize(
    ("args", "status"),
    [
        (HINGE, 0),
        ([*HINGE, "--expected", "0.4667"], 0),
        ([*HINGE, "--expected", "0.6"], 1),
        (["hinge", "--y", "1,0", "--yhat", "1,2"], 2),
        (["hinge"], 2),
        (["no-such-command"], 2),
        (["hinge", "--no-such-flag"], 2),
        (["--help"], 0),
        (["hinge", "--help"], 0),
        ([], 0),  # bare `rnnloss` prints the help, as pip, cargo and kubectl do
    ],
)
def test_exit_status_of_the_process(args, status):
    done = _run(*args)
    assert done.returncode == status, done.stderr
    assert "Traceback" not in done.stderr


def test_a_long_output_arrives_whole_through_a_pipe():
    # os._exit skips the interpreter's own flush: every byte must have been written before.
    done = _run("solve", "problems", "--details")
    in_process = CliRunner().invoke(app, ["solve", "problems", "--details"])
    assert done.returncode == in_process.exit_code == 0
    assert len(done.stdout) > 20_000
    assert done.stdout == in_process.stdout


def test_json_of_a_batch_arrives_whole():
    done = _run("solve", "problems", "--json")
    data = json.loads(done.stdout)
    assert data["summary"]["problems"] == len(data["results"]) >= len(list(PROBLEMS.glob("*.yaml")))


def test_standard_input_is_read_and_answered():
    done = _run("hinge", "-", stdin="y: [1, -1, 1]\nyhat: [0.8, -0.5, 0.3]\n")
    assert done.returncode == 0 and "0.466667" in done.stdout


def test_closed_standard_output_is_status_2_not_a_crash():
    # Unlike a reader that has gone: the whole working would be lost without a word.
    for args in (HINGE, [*HINGE, "--expected", "9"]):
        done = _shell(shlex.join(args) + " >&-")
        assert done.returncode == 2
        assert done.stderr == "rnnloss: cannot write the output: standard output is closed\n"


def test_closed_standard_error_keeps_the_status():
    assert _shell("hinge --y 1,0 --yhat 1,2 2>&-").returncode == 2
    done = _shell("solve problems 2>&-")
    assert done.returncode == 0 and " solved, " in done.stdout.splitlines()[-1]


def test_closed_standard_input_is_a_one_line_error():
    done = _shell("hinge - <&-")
    assert done.returncode == 2
    assert done.stderr == "rnnloss: -: cannot be read: standard input is closed\n"


def test_version_does_not_import_typer():
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "rnnloss_cli", "--version"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0 and done.stdout.startswith("rnnloss ")
    imported = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines()}
    assert "rnnloss_cli" in imported
    assert not {"typer", "numpy", "rich", "yaml"} & imported


@pytest.mark.parametrize(
    ("code", "status", "printed"),
    [(None, 0, ""), (0, 0, ""), (1, 1, ""), (2, 2, ""), (130, 130, ""), ("boom", 1, "boom\n")],
)
def test_exit_status_reads_system_exit_as_the_interpreter_does(code, status, printed, capsys):
    assert entry._exit_status(code) == status
    assert capsys.readouterr().err == printed


def test_the_console_script_points_at_the_entry():
    text = (ROOT / "pyproject.toml").read_text()
    assert 'rnnloss = "rnnloss_cli.entry:main"' in text


needs_dev_full = pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full to fill")


@needs_dev_full
@pytest.mark.parametrize(
    "args", [["solve", "problems"], ["solve", "problems", "--json"], ["--version"], HINGE]
)
def test_a_full_disk_is_one_line_and_status_2(args):
    done = subprocess.run(
        [sys.executable, "-m", "rnnloss_cli", *args],
        stdout=open("/dev/full", "w"),  # noqa: SIM115 - closed with the process
        stderr=subprocess.PIPE,
        text=True,
        timeout=120,
        check=False,
        cwd=ROOT,
    )
    assert done.returncode == 2
    assert done.stderr == "rnnloss: cannot write the output: No space left on device\n"


def test_a_reader_of_standard_error_that_goes_keeps_the_status(tmp_path):
    # Two bad files: the reader takes the first error line and leaves; still status 2.
    for name in ("a.yaml", "b.yaml"):
        (tmp_path / name).write_text("loss: hinge\ny: [0]\nyhat: [1]\n")
    script = (
        "import subprocess, sys\n"
        f"p = subprocess.Popen([sys.executable, '-m', 'rnnloss_cli', 'solve', {str(tmp_path)!r}],"
        " stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)\n"
        "p.stderr.readline(); p.stderr.close(); print(p.wait())\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.stdout.strip() == "2", done.stderr


def test_control_characters_in_keys_and_file_names_stay_on_one_line(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "dup.yaml").write_text('loss: mse\ny: [1]\nyhat: [1]\n"a\\nb": 1\n"a\\nb": 2\n')
    (folder / "tab\tname.yaml").write_text('loss: mse\ny: [1]\nyhat: [1]\n"bad\\tkey": 1\n')
    done = _run("solve", str(folder))
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        f"rnnloss: {folder}/dup.yaml: a␊b: line 5: the key appears twice in one mapping",
        f"rnnloss: {folder}/tab␉name.yaml: bad␉key: unknown key",
    ]
    assert "\t" not in done.stdout and "tab␉name.yaml" in done.stdout


BROKEN = """
import sys
sys.argv = ["rnnloss", "hinge", "--y", "1", "--yhat", "1"]
import rnnloss_cli.output as output

def broken(*args, **kwargs):
    raise RuntimeError("a bug of ours\\nwith a second line")

output.run_command = broken
from rnnloss_cli.entry import main
main()
"""


def test_a_fault_of_ours_is_one_line_unless_debugging():
    done = subprocess.run(
        [sys.executable, "-c", BROKEN], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 2
    assert done.stderr == (
        "rnnloss: internal error (RuntimeError: a bug of ours); please report it "
        "(RNNLOSS_DEBUG=1 shows where)\n"
    )
    debug = subprocess.run(
        [sys.executable, "-c", BROKEN],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "RNNLOSS_DEBUG": "1"},
    )
    assert debug.returncode == 1 and "Traceback" in debug.stderr
