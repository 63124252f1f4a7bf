"""What the commands print: the working, the summary table or JSON, and the error lines.

Solving happens in `batch`; this module only decides what goes to standard output
(working or JSON, nothing else) and standard error (one line per bad problem).
"""

from __future__ import annotations

import os
import sys
from typing import Any

from rnnloss_cli.batch import Entry, exit_status, solve_file, solve_paths, summary
from rnnloss_cli.errors import ProblemError

INPUT_FLAGS = (
    "y",
    "yhat",
    "logits",
    "log_probs",
    "target",
    "label",
    "probs",
    "probabilities",
    "rewards",
    "scores",
)


def _console() -> Any:
    from rich.console import Console

    # NO_COLOR asks for plain text: no colour, and no bold or underline codes either.
    plain = bool(os.environ.get("NO_COLOR"))
    return Console(highlight=False, color_system=None if plain else "auto")


def write(text: str) -> None:
    """Write to standard output; if the reader has gone (`| head`), write nothing more.

    A closed pipe is not the user's error nor an answer-key mismatch: the rest of the run
    goes on silently and ends with the exit status it would have had.
    """
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


def emit(console: Any, renderable: Any) -> None:
    """Print to a terminal as Rich does; to a pipe or file, without trailing blanks."""
    if console.is_terminal:
        try:
            console.print(renderable)
        except BrokenPipeError:
            write("")
        return
    with console.capture() as capture:
        console.print(renderable)
    text = capture.get()
    write("".join(line.rstrip() + "\n" for line in text.splitlines()))


def _error_lines(entries: list[Entry]) -> None:
    for entry in entries:
        if entry.error is not None:
            sys.stderr.write(f"rnnloss: {entry.error}\n")


def _solve_object(entries: list[Entry]) -> dict[str, Any]:
    from rnnloss_cli.render.json_out import result_object

    results = []
    for e in entries:
        if e.solution is not None:
            results.append(
                {"file": e.file, "index": e.index, "ok": True, "result": result_object(e.solution)}
            )
        else:
            results.append({"file": e.file, "index": e.index, "ok": False, "error": str(e.error)})
    return {"results": results, "summary": summary(entries)}


def _print_json(data: Any) -> None:
    from rnnloss_cli.render.json_out import dumps

    write(dumps(data) + "\n")


def run_command(
    loss: str, file: str | None, flags: dict[str, Any], *, as_json: bool, details: bool = False
) -> int:
    """Solve a single-loss command's file (or its flags) and print it; return the exit status."""
    if file is None:
        from rnnloss_cli.problems import validate
        from rnnloss_cli.solver import solve

        if not any(k in flags for k in INPUT_FLAGS):
            sys.stderr.write(
                f"rnnloss: give a problem FILE or the inputs as flags "
                f"(see `rnnloss {loss} --help`)\n"
            )
            return 2
        try:
            solution = solve(validate(flags, loss=loss, expected_text=flags.get("expected")))
        except ProblemError as exc:
            sys.stderr.write(f"rnnloss: {exc}\n")
            return 2
        entries = [Entry("<inline>", 0, solution=solution)]
    else:
        entries = solve_file(file, loss=loss, overrides=flags)

    solved = [e.solution for e in entries if e.solution is not None]
    if as_json:
        if len(entries) == 1 and solved:
            from rnnloss_cli.render.json_out import result_object

            _print_json(result_object(solved[0]))
        elif len(entries) > 1:
            _print_json(_solve_object(entries))
    elif solved:
        from rich.rule import Rule

        from rnnloss_cli.render.working import working

        console = _console()
        for i, solution in enumerate(solved):
            if i:
                emit(console, Rule(style="dim"))
            emit(console, working(solution, console.width, details=details))
    _error_lines(entries)
    return exit_status(entries)


def run_solve(paths: list[str], *, details: bool, as_json: bool) -> int:
    """Solve every problem under `paths`; print the table (or JSON); return the exit status."""
    entries = solve_paths(paths)
    if as_json:
        _print_json(_solve_object(entries))
    else:
        from rich.rule import Rule
        from rich.text import Text

        from rnnloss_cli.render.numbers import num
        from rnnloss_cli.render.working import summary_table, working

        console = _console()
        if details:
            for entry in entries:
                if entry.solution is not None:
                    emit(console, working(entry.solution, console.width, details=True))
                    emit(console, Rule(style="dim"))
        rows = []
        for e in entries:
            s = e.solution
            if s is None:
                rows.append(
                    {
                        "file": e.file,
                        "title": _message(e.error),
                        "loss": "—",
                        "answer": "—",
                        "expected": "—",
                        "check": "error",
                    }
                )
                continue
            value = s.result.value
            answer = num(value) if isinstance(value, float) else "(terms)"
            expected = "—" if s.problem.expected is None else num(s.problem.expected, 10)
            check = {True: "✓", False: f"✗ off by {num(abs(s.difference or 0.0), 3)}", None: "—"}[
                s.matches
            ]
            rows.append(
                {
                    "file": e.file,
                    "title": s.problem.title or "",
                    "loss": s.result.loss,
                    "answer": answer,
                    "expected": expected,
                    "check": check,
                }
            )
        emit(console, summary_table(rows, console.width))
        counts = summary(entries)
        emit(
            console,
            Text(
                f"{_count(counts['problems'], 'problem')}: {counts['solved']} solved, "
                f"{counts['matched']} matched, {counts['mismatched']} mismatched, "
                f"{_count(counts['errors'], 'error')}",
                style="bold",
            ),
        )
    _error_lines(entries)
    return exit_status(entries)


def _message(error: ProblemError | None) -> str:
    """Return an error without its file name (the table's first column already shows it)."""
    if error is None:
        return ""
    return ": ".join(p for p in (error.key, error.message) if p)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"
