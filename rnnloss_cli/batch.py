"""Paths → files → problems → solutions, with every failure kept as an entry of its own.

A batch never stops at the first bad file: each file and each problem ends as an
`Entry`, solved or with its one-line error, so `solve` can account for all of them.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from rnnloss_cli.errors import ProblemError
from rnnloss_cli.problems import FILE_LIMITS, ctc_work, validate
from rnnloss_cli.solver import Solution, solve

EXTENSIONS = (".yaml", ".yml")


@dataclass(frozen=True)
class Entry:
    """One problem's outcome: a solution, or the error that stopped it."""

    file: str
    index: int | None
    solution: Solution | None = None
    error: ProblemError | None = None

    @property
    def ok(self) -> bool:
        return self.solution is not None


NOT_REGULAR = "is not a regular file (a named pipe or a device?): not read"


def find_files(paths: Iterable[str]) -> list[tuple[str, ProblemError | None]]:
    """Return each problem file under `paths` (folders recursively, sorted), or its error.

    Every folder given is accounted for: one that cannot be read (permission denied, a
    path over the system's length limit) is an error of its own, never skipped.
    """
    found: list[tuple[str, ProblemError | None]] = []
    stdin_seen = False
    for path in paths:
        if path == "-":
            if stdin_seen:
                continue  # standard input can be read once
            stdin_seen = True
            found.append((path, None))
            continue
        if not path:
            found.append(
                ("''", ProblemError("is an empty path: name a file or folder", source="''"))
            )
            continue
        try:
            info = os.stat(path)
        except FileNotFoundError:
            found.append((path, ProblemError("no such file or folder", source=path)))
            continue
        except OSError as exc:  # too long a name, a loop of links, a folder not searchable
            found.append((path, _unreadable(path, exc)))
            continue
        if not stat.S_ISDIR(info.st_mode):
            found.append((path, None))
            continue
        inside = _walk(path, info)
        if not inside:
            found.append(
                (path, ProblemError("holds no problem files (*.yaml, *.yml)", source=path))
            )
        found.extend(inside)
    return found


def _walk(root: str, info: os.stat_result) -> list[tuple[str, ProblemError | None]]:
    """Return the problem files under the folder `root`, sorted, and each subfolder that
    cannot be read as an error; iteratively, so a tree of any depth is walked.

    Links to folders are followed, each folder once: a link back up the tree (a loop) is
    not walked again. In a folder only regular files are read: a named pipe would wait
    for a writer.
    """
    found: list[tuple[str, ProblemError | None]] = []
    seen = {(info.st_dev, info.st_ino)}
    stack = [root]
    while stack:
        folder = stack.pop()
        try:
            with os.scandir(folder) as listing:
                items = list(listing)
        except OSError as exc:
            found.append((folder, _unreadable(folder, exc)))
            continue
        for item in items:
            try:
                is_dir = item.is_dir()
                if is_dir:
                    key = item.stat()
            except OSError as exc:  # a path too long to reach, say: a folder or not
                found.append((item.path, _unreadable(item.path, exc)))
                continue
            if is_dir:
                if (key.st_dev, key.st_ino) not in seen:
                    seen.add((key.st_dev, key.st_ino))
                    stack.append(item.path)
            elif item.name.lower().endswith(EXTENSIONS):
                found.append((item.path, _not_regular(item)))
    found.sort(key=lambda pair: pair[0])
    return found


def _not_regular(item: os.DirEntry[str]) -> ProblemError | None:
    """Return None for a regular file (or a link to one), else why it is not read."""
    try:
        if item.is_file():
            return None
        if item.is_symlink() and not os.path.exists(item.path):
            return ProblemError("is a symbolic link to nothing: not read", source=item.path)
    except OSError as exc:
        return _unreadable(item.path, exc)
    return ProblemError(NOT_REGULAR, source=item.path)


def _unreadable(path: str, exc: OSError) -> ProblemError:
    """Return why a folder (or a link in it) cannot be read, in words."""
    if exc.errno == errno.ENAMETOOLONG:
        why = "the path is longer than the system allows: not read"
    elif isinstance(exc, PermissionError):
        why = "permission denied: this folder cannot be read"
    elif exc.errno == errno.ELOOP:
        why = "a loop of symbolic links: not read"
    else:
        why = f"cannot be read: {exc.strerror or exc}"
    return ProblemError(why, source=path)


def default_title(path: str, index: int, count: int) -> str:
    name = "stdin" if path == "-" else os.path.basename(path.rstrip("/")) or path
    return f"{name}#{index}" if count > 1 else name


def solve_file(
    path: str,
    *,
    loss: str | None = None,
    overrides: Mapping[str, Any] | None = None,
    defaults: Mapping[str, Any] | None = None,
) -> list[Entry]:
    """Return an entry for every problem in the file at `path` (one entry if it is
    unreadable); `overrides` (flags) replace its keys, `defaults` fill those it lacks."""
    from rnnloss_cli.loader import load_file

    try:
        raws = load_file(path)
    except ProblemError as exc:
        return [Entry(path, None, error=exc.with_source(path))]
    entries = []
    used = [0] * len(FILE_LIMITS)  # the CTC work of the problems so far, as ctc_work counts
    for raw in raws:
        data = raw.data
        expected_text = raw.expected_text
        if defaults and isinstance(data, dict):
            data = {**defaults, **data}
        if overrides and isinstance(data, dict):
            data = {**data, **overrides}
            if "expected" in overrides:
                expected_text = None
        try:
            problem = validate(
                data,
                source=path,
                index=raw.index,
                expected_text=expected_text,
                default_title=default_title(path, raw.index, raw.count),
                loss=loss,
            )
            need = ctc_work(problem)
            for (what, limit), so_far, more in zip(FILE_LIMITS, used, need, strict=True):
                if so_far + more > limit:
                    raise ProblemError(
                        f"the file's CTC problems up to this one need {so_far + more:,} {what} "
                        f"in all, over the limit of {limit:,} for a problem file; split it"
                    )
            used = [so_far + more for so_far, more in zip(used, need, strict=True)]
            entries.append(Entry(path, raw.index, solution=solve(problem)))
        except Exception as caught:
            # A batch accounts for every problem: an unexpected failure is that problem's
            # error (and says it is ours), never a traceback that loses the others.
            exc = (
                caught
                if isinstance(caught, ProblemError)
                else ProblemError(
                    f"internal error ({type(caught).__name__}: {caught}); please report it"
                )
            )
            # Name the problem within a file of several, as its default title does.
            exc.source = f"{path}#{raw.index}" if raw.count > 1 else path
            entries.append(Entry(path, raw.index, error=exc))
    return entries


def solve_paths(
    paths: Iterable[str],
    *,
    loss: str | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> list[Entry]:
    """Return the entries of every problem in every file under `paths`.

    `on_progress(done, total)` is called after each file when there are more than 20.
    """
    entries: list[Entry] = []
    files = find_files(paths)
    report = on_progress if on_progress is not None and len(files) > 20 else None
    if report is not None:
        report(0, len(files))
    for done, (path, error) in enumerate(files, start=1):
        if error is not None:
            entries.append(Entry(path, None, error=error))
        else:
            entries.extend(solve_file(path, loss=loss))
        if report is not None:
            report(done, len(files))
    return entries


def summary(entries: list[Entry]) -> dict[str, int]:
    solved = [e for e in entries if e.ok]
    return {
        "problems": len(entries),
        "solved": len(solved),
        "matched": sum(1 for e in solved if e.solution and e.solution.matches is True),
        "mismatched": sum(1 for e in solved if e.solution and e.solution.matches is False),
        "errors": len(entries) - len(solved),
    }


def exit_status(entries: list[Entry]) -> int:
    """Return 2 if any problem had an error, else 1 if any answer missed its key, else 0."""
    counts = summary(entries)
    if counts["errors"]:
        return 2
    return 1 if counts["mismatched"] else 0
