"""What the commands print: the working, the summary table or JSON, and the error lines.

Solving happens in `batch`; this module only decides what goes to standard output
(working or JSON, nothing else) and standard error (one line per bad problem).
"""

from __future__ import annotations

import contextlib
import io
import math
import os
import stat
import sys
from dataclasses import dataclass
from typing import Any

from rnnloss_cli.batch import Entry, exit_status, solve_file, solve_paths, summary
from rnnloss_cli.core.text import count
from rnnloss_cli.errors import ProblemError, printable
from rnnloss_cli.solver import Solution
from rnnloss_cli.streams import complain, is_terminal, write

MAX_WORKINGS = 100  # a single-loss command prints at most this many workings
# The kinds of key that carry a problem's numbers (not a setting): a command given none of
# them as flags has nothing to solve.
INPUT_KINDS = ("array", "matrix", "vector", "indices", "label", "pairs")


MIN_WIDTH, MAX_WIDTH, DEFAULT_WIDTH = 40, 500, 80  # columns the working is laid out in
HEIGHT = 25  # lines: nothing printed here pages or fills the screen


def width(stream: Any) -> int:
    """Return the columns to lay out in: `COLUMNS` if it is a whole number, else the
    terminal's, else 80; kept within 40 to 500.

    Rich would take `COLUMNS=0` for a width of nothing and print nothing at all, and a
    width of a million would lay out a table a million columns wide.
    """
    text = os.environ.get("COLUMNS", "").strip()
    columns = min(int(text[:9]), MAX_WIDTH) if text.isascii() and text.isdigit() else 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(stream.fileno()).columns
        except (AttributeError, OSError, ValueError):
            columns = 0
    if columns <= 0:
        columns = DEFAULT_WIDTH
    return min(max(columns, MIN_WIDTH), MAX_WIDTH)


def _console() -> Any:
    from rich.console import Console

    # NO_COLOR asks for plain text: no colour, and no bold or underline codes either.
    plain = bool(os.environ.get("NO_COLOR"))
    return Console(
        highlight=False,
        color_system=None if plain else "auto",
        width=width(sys.stdout),
        height=HEIGHT,  # given, so that Rich reads neither COLUMNS nor LINES itself
    )


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
            complain(str(entry.error))


def _solve_object(entries: list[Entry]) -> dict[str, Any]:
    from rnnloss_cli.render.json_out import result_object

    results = []
    for e in entries:
        if e.solution is not None:
            results.append(
                {"file": e.file, "index": e.index, "ok": True, "result": result_object(e.solution)}
            )
        else:
            # The user's text as written: JSON escapes what needs escaping itself.
            error = e.error.raw() if e.error is not None else ""
            results.append({"file": e.file, "index": e.index, "ok": False, "error": error})
    return {"results": results, "summary": summary(entries)}


def _print_json(data: Any) -> None:
    from rnnloss_cli.render.json_out import dumps

    write(dumps(data) + "\n")


@dataclass(frozen=True)
class OutputOptions:
    """How to print: `rich` working, `markdown`, `json`, or one of the DOCUMENTS; an SVG
    copy; terms' details; a LaTeX document's body only (to \\input into notes)."""

    format: str = "rich"
    svg: str | None = None
    details: bool = False
    latex_body: bool = False


# Formats written as one document for all the problems of a run (one preamble, questions
# numbered across it): gathered, then written whole at the end.
DOCUMENTS = ("latex", "questions", "questions-latex")


def whole_document(solutions: list[Solution], options: OutputOptions, end: str = "") -> str:
    """Return the LaTeX solutions (`end`, the summary, after them) or the question sheet
    of a run's solved problems, as one text."""
    from rnnloss_cli.workings import build

    if options.format == "latex":
        from rnnloss_cli.render.latex import solutions as latex_solutions

        documents = [build(solution, options.details) for solution in solutions]
        return latex_solutions(documents, end, options.latex_body)
    from rnnloss_cli.render import questions

    # Built with details: a custom loss's components are the question's sub-parts.
    documents = [build(solution, True) for solution in solutions]
    if options.format == "questions":
        return questions.markdown(documents)
    return questions.latex(documents, options.latex_body)


class Printer:
    """Sends renderables to standard output as the options ask, and keeps an SVG copy."""

    def __init__(self, options: OutputOptions):
        self.options = options
        self.console = _console()
        self.recorder = None
        if options.svg:
            from rich.console import Console

            self.recorder = Console(
                record=True,
                file=io.StringIO(),
                width=self.console.width,
                height=HEIGHT,
                force_terminal=True,
                color_system="truecolor",
            )

    def print(self, renderable: Any) -> None:
        if self.options.svg != SVG_STDOUT:  # `--svg -`: the picture is the output
            emit(self.console, renderable)
        if self.recorder is not None:
            self.recorder.print(renderable)

    def working(self, solution: Solution, first: bool) -> None:
        if self.options.format == "markdown":
            from rnnloss_cli.render.markdown import document

            write(("" if first else "\n") + document(solution, self.options.details))
            return
        from rich.rule import Rule

        from rnnloss_cli.render.working import working

        if not first:
            self.print(Rule(style="dim"))
        self.print(working(solution, self.console.width, details=self.options.details))

    def finish(self) -> None:
        """Write the SVG, if asked; a failure is one line and exit status 2."""
        if self.recorder is None or self.options.svg is None:
            return
        picture = self.recorder.export_svg(title="rnnloss")
        if self.options.svg == SVG_STDOUT:
            write(picture)
            return
        try:
            replace_file(self.options.svg, picture)
        except OSError as exc:
            reason = exc.strerror or str(exc)
            with contextlib.suppress(OSError):
                if stat.S_ISSOCK(os.stat(self.options.svg).st_mode):
                    reason = "it is a socket, which cannot be opened as a file; name a file"
            raise ProblemError(f"cannot write the SVG: {reason}", source=self.options.svg) from None


SVG_STDOUT = "-"  # `--svg -`: the SVG goes to standard output, instead of the working


def replace_file(path: str, text: str) -> None:
    """Write `text` to the file at `path` whole or not at all.

    A regular file is written to a new file beside it, then renamed over it: a full disk
    or a file-size limit leaves the previous file as it was, never half of the new one. A
    file that is there keeps its permissions; a new one gets those `umask` allows. A
    symbolic link is written through, as `open` would. Anything else that is there — a
    character device, a FIFO, a socket — is opened and written in place, as a shell's `>`
    does: renaming over it would put a regular file where the device or pipe was.
    """
    import tempfile

    target = os.path.realpath(path) if os.path.islink(path) else path
    try:
        mode = os.stat(target).st_mode
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        mode = stat.S_IFREG | (0o666 & ~umask)
    if not stat.S_ISREG(mode) and _write_in_place(target, text):
        return
    folder = os.path.dirname(target) or "."
    handle, temporary = tempfile.mkstemp(
        dir=folder, prefix=f".{os.path.basename(target)}.", suffix=".tmp"
    )
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, stat.S_IMODE(mode))
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def _write_in_place(target: str, text: str) -> bool:
    """Write `text` into the device, FIFO or socket at `target`, never creating, truncating,
    renaming or deleting it; return False if what was opened is a regular file after all
    (it was replaced since it was looked at), to be replaced as one."""
    from rnnloss_cli.streams import WholeWrites

    fd = os.open(target, os.O_WRONLY | os.O_NOCTTY | getattr(os, "O_CLOEXEC", 0))
    try:
        if stat.S_ISREG(os.fstat(fd).st_mode):
            return False
        WholeWrites(fd).write(text.encode("utf-8"))
    finally:
        os.close(fd)
    return True


STANDARD_STREAMS = ((1, "standard output"), (2, "standard error"))


def svg_clash(svg: str | None, files: list[str]) -> ProblemError | None:
    """Return the error if the `--svg` file is one of the input files (the same file by
    any name or link, or standard input redirected from it), or standard output or error
    (`--svg /dev/stdout`, or the file they are redirected to), else None."""
    if svg is None or svg == SVG_STDOUT:
        return None
    try:
        picture = os.stat(svg)
    except OSError:  # not there yet (or not reachable): it cannot be an input
        return None
    same = (picture.st_dev, picture.st_ino)
    for fd, stream in STANDARD_STREAMS:
        try:
            info = os.fstat(fd)
        except OSError:  # closed
            continue
        if (info.st_dev, info.st_ino) == same:
            return ProblemError(
                f"is {stream}: the SVG would replace what is printed there; "
                "use `--svg -` to print the SVG",
                source=f"--svg {svg}",
            )
    for name in dict.fromkeys(files):
        try:
            info = os.fstat(sys.stdin.fileno()) if name == "-" else os.stat(name)
        except (AttributeError, OSError, ValueError):
            continue
        if (info.st_dev, info.st_ino) == same:
            shown = "standard input" if name == "-" else printable(name)
            return ProblemError(
                f"is an input file ({shown}): the SVG would overwrite it; name another file",
                source=f"--svg {svg}",
            )
    return None


def run_command(
    loss: str,
    file: str | None,
    flags: dict[str, Any],
    options: OutputOptions,
    defaults: dict[str, Any] | None = None,
    command: str | None = None,
) -> int:
    """Solve a single-loss command's file (or its flags) and print it; return the exit
    status. `defaults` are keys beneath the file's and the flags' (`rnnloss decode`)."""
    clash = svg_clash(options.svg, [] if file is None else [file])
    if clash is not None:
        complain(str(clash))
        return 2
    if file is None:
        from rnnloss_cli import losses
        from rnnloss_cli.problems import validate
        from rnnloss_cli.solver import solve

        inputs = {k.name for k in losses.get(loss).keys if k.kind in INPUT_KINDS}
        if not inputs & set(flags):
            from rnnloss_cli.loader import stdin_holds_input

            if stdin_holds_input():  # `cat p.yaml | rnnloss hinge`: `-` was left out
                complain(
                    f"standard input is not read without -: run `rnnloss {command or loss} -` "
                    "(or give a problem FILE or the inputs as flags)"
                )
            else:
                complain(
                    "give a problem FILE or the inputs as flags (see "
                    f"`rnnloss {command or loss} --help`)"
                )
            return 2
        try:
            data = {**(defaults or {}), **flags}
            solution = solve(validate(data, loss=loss, expected_text=flags.get("expected")))
        except ProblemError as exc:
            complain(str(exc))
            return 2
        entries = [Entry("<inline>", 0, solution=solution)]
    else:
        entries = solve_file(file, loss=loss, overrides=flags, defaults=defaults)

    solved = [e.solution for e in entries if e.solution is not None]
    if options.format == "json":
        if len(entries) == 1 and solved:
            from rnnloss_cli.render.json_out import result_object

            _print_json(result_object(solved[0]))
        elif len(entries) > 1:
            _print_json(_solve_object(entries))
    elif options.format in DOCUMENTS:
        if solved:
            write(whole_document(solved, options))
    elif len(solved) > MAX_WORKINGS and options.format == "rich":
        # Thousands of workings are unreadable and slow to lay out: the summary instead.
        from rich.text import Text

        from rnnloss_cli.render.summary import SummaryTable

        printer = Printer(options)
        printer.print(
            Text(
                f"{len(entries)} problems: the summary follows (`rnnloss solve "
                f"FILE --details` prints every working)",
                style="dim",
            )
        )
        printer.print(SummaryTable(_summary_rows(entries), printer.console.width))
        for note in _summary_notes(entries):
            printer.print(Text(note, style="dim"))
        printer.print(Text(_totals_line(summary(entries)), style="bold"))
        if _finish(printer):
            return 2
    elif solved:
        printer = Printer(options)
        for i, solution in enumerate(solved):
            printer.working(solution, first=i == 0)
        if _finish(printer):
            return 2
    _error_lines(entries)
    return exit_status(entries)


def _finish(printer: Printer) -> bool:
    try:
        printer.finish()
    except ProblemError as exc:
        complain(str(exc))
        return True
    return False


def _summary_rows(entries: list[Entry]) -> list[dict[str, str]]:
    from rnnloss_cli.render.numbers import beyond, num

    rows = []
    for e in entries:
        s = e.solution
        if s is None:
            rows.append(
                {
                    "file": printable(e.file),
                    "title": printable(_message(e.error)),
                    "loss": "—",
                    "answer": "—",
                    "expected": "—",
                    "check": "error",
                }
            )
            continue
        value = s.result.value
        answer = num(value) if isinstance(value, float) else "(terms)"
        exact = getattr(s.result, "exact_value", None)
        if exact is not None and isinstance(value, float) and not math.isfinite(value):
            answer = beyond(exact)  # as the working writes it: 2e+308 (float64: ∞)
        if _unnormalised(s):
            answer += f" {UNNORMALISED_MARK}"  # not a loss: the footnote says what it is
        expected = "—" if s.problem.expected is None else num(s.problem.expected, 10)
        off = f"✗ off by {num(abs(s.difference or 0.0), 3)}"
        check = {True: "✓", False: off, None: "—"}[s.matches]
        rows.append(
            {
                "file": printable(e.file),
                "title": printable(s.problem.title or ""),
                "loss": s.result.loss,
                "answer": answer,
                "expected": expected,
                "check": check,
            }
        )
    return rows


UNNORMALISED_MARK = "†"
MAX_NOTES = 10  # footnoted problems named under the table, then how many more


def _unnormalised(solution: Solution) -> bool:
    """Whether a problem's answer is a value but not a loss (a CTC −log of an unnormalised
    sum: lecture-mode values that are not a distribution, method exact)."""
    return not getattr(solution.result, "value_is_loss", True)


def _summary_notes(entries: list[Entry]) -> list[str]:
    """Return the footnote under the summary table for answers marked †: what they are,
    and the normalised exact loss of each (how to ask for it)."""
    from rnnloss_cli.render.numbers import num

    marked = [e for e in entries if e.solution is not None and _unnormalised(e.solution)]
    if not marked:
        return []

    def normalised(entry: Entry) -> str:
        result = entry.solution.result  # type: ignore[union-attr]
        return num(result.reduced(result.losses["normalized"]))  # type: ignore[union-attr]

    first = marked[0]
    what = (
        f"{UNNORMALISED_MARK} the −log of an unnormalised CTC sum (values that are not a "
        "distribution, method exact), not a loss"
    )
    if len(marked) == 1:
        return [f"{what}: the normalised exact loss (method normalized) is {normalised(first)}"]
    lines = [f"{what}; the normalised exact loss (method normalized) of each:"]
    for entry in marked[:MAX_NOTES]:
        name = printable(entry.file) + (f"#{entry.index}" if _several(entries, entry) else "")
        lines.append(f"  {name}: {normalised(entry)}")
    if len(marked) > MAX_NOTES:
        lines.append(f"  … and {len(marked) - MAX_NOTES:,} more")
    return lines


def _several(entries: list[Entry], entry: Entry) -> bool:
    """Whether the entry's file holds several problems (named `file#index`)."""
    return sum(1 for e in entries if e.file == entry.file) > 1


def _totals_line(counts: dict[str, int]) -> str:
    return (
        f"{count(counts['problems'], 'problem')}: {counts['solved']} solved, "
        f"{counts['matched']} matched, {counts['mismatched']} mismatched, "
        f"{count(counts['errors'], 'error')}"
    )


def _solve_with_progress(paths: list[str], show: bool) -> list[Entry]:
    """Solve everything; with `show`, a progress bar on standard error (a terminal only)."""
    if not show:
        return solve_paths(paths)
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    columns = (TextColumn("solving"), BarColumn(), MofNCompleteColumn())
    with Progress(
        *columns,
        console=Console(stderr=True, width=width(sys.stderr), height=HEIGHT),
        transient=True,
    ) as progress:
        task = progress.add_task("solve", total=None)

        def advance(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        return solve_paths(paths, on_progress=advance)


def run_solve(paths: list[str], options: OutputOptions) -> int:
    """Solve every problem under `paths`; print the table (or JSON); return the exit status."""
    # Never over a pipe: `rnnloss solve … | less` must not have a bar drawn across it.
    show_progress = options.format != "json" and is_terminal(sys.stderr) and is_terminal(sys.stdout)
    entries = _solve_with_progress(paths, show_progress)
    clash = svg_clash(options.svg, [e.file for e in entries])
    if clash is not None:  # before anything is printed: as a usage error
        complain(str(clash))
        return 2
    counts = summary(entries)
    if options.format == "json":
        _print_json(_solve_object(entries))
    elif options.format == "markdown":
        from rnnloss_cli.render.markdown import document
        from rnnloss_cli.render.markdown import summary as md_summary

        # A solutions document: every problem's working, then the summary.
        for entry in entries:
            if entry.solution is not None:
                write(document(entry.solution, details=options.details) + "\n")
        write(md_summary(_summary_rows(entries), _totals_line(counts), _summary_notes(entries)))
    elif options.format in DOCUMENTS:
        solved = [e.solution for e in entries if e.solution is not None]
        if options.format == "latex":  # the solutions, then the summary, as Markdown
            from rnnloss_cli.render.latex import summary as latex_summary

            rows, notes = _summary_rows(entries), _summary_notes(entries)
            write(whole_document(solved, options, latex_summary(rows, _totals_line(counts), notes)))
        elif solved:  # a question sheet has no summary: it would give the answers
            write(whole_document(solved, options))
    else:
        from rich.text import Text

        from rnnloss_cli.render.summary import SummaryTable

        printer = Printer(options)
        if options.details:
            for i, entry in enumerate(e for e in entries if e.solution is not None):
                printer.working(entry.solution, first=i == 0)
            if any(e.solution for e in entries):
                from rich.rule import Rule

                printer.print(Rule(style="dim"))
        printer.print(SummaryTable(_summary_rows(entries), printer.console.width))
        for note in _summary_notes(entries):
            printer.print(Text(note, style="dim"))
        printer.print(Text(_totals_line(counts), style="bold"))
        if _finish(printer):
            return 2
    _error_lines(entries)
    return exit_status(entries)


def _message(error: ProblemError | None) -> str:
    """Return an error without its file name (the table's first column already shows it)."""
    if error is None:
        return ""
    return ": ".join(p for p in (error.key, error.message) if p)
