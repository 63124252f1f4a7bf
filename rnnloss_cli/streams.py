"""The standard streams of a command-line process: what rnnloss prints goes through here.

Light on purpose (only `os` and `sys`): the console script uses it before anything else is
imported. A reader that has gone (`| head`) or a stream closed from the start (`>&-`) is not
an error: writing stops quietly and the run keeps the exit status it would have had.
"""

from __future__ import annotations

import os
import sys
from typing import Any

STATUS_CANNOT_WRITE = 2  # output that cannot be written (a full disk): one line, status 2


def write(text: str) -> None:
    """Write to standard output; if the reader has gone (`| head`), write nothing more."""
    if sys.stdout is None:
        return
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:
        _silence(sys.stdout)


def complain(message: str) -> None:
    """Write one `rnnloss: …` line to standard error, if anyone reads it."""
    if sys.stderr is None:
        return
    try:
        sys.stderr.write(f"rnnloss: {message}\n")
        sys.stderr.flush()
    except BrokenPipeError:
        _silence(sys.stderr)
    except (OSError, ValueError):
        pass


def cannot_write(exc: OSError) -> int:
    """Say that standard output cannot be written; return the exit status for it."""
    complain(f"cannot write the output: {exc.strerror or exc}")
    return STATUS_CANNOT_WRITE


def is_terminal(stream: Any) -> bool:
    return stream is not None and stream.isatty()


def _silence(stream: Any) -> None:
    """Point a stream whose reader has gone at the null device: later writes vanish."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, stream.fileno())
    os.close(devnull)
