"""The standard streams of a command-line process: what rnnloss prints goes through here.

Light on purpose (only `os` and `sys`): the console script uses it before anything else is
imported. A reader that has gone (`| head`) is not an error: writing stops quietly and the
run keeps the exit status it would have had. Standard output closed from the start (`>&-`)
is: everything printed would be lost, so the run ends with one line and status 2, as for
a full disk. (Standard error closed from the start only silences the error lines.)
"""

from __future__ import annotations

import errno
import io
import os
import sys
from typing import Any

STATUS_CANNOT_WRITE = 2  # output that cannot be written (a full disk): one line, status 2


class WholeWrites(io.RawIOBase):
    """A file descriptor that takes every byte it is given, or raises.

    `os.write` may write only part of what it is given: the rest of a disk that is nearly
    full, up to a file-size limit (`ulimit -f`), a pipe that is non-blocking. CPython's
    buffered writer then keeps the remainder and, at exit, can lose it without an error,
    which left a truncated `out.json` and exit status 0. Here a short write is followed
    by another for the rest, so the error that stops it (ENOSPC, EFBIG) is raised, and
    reported as one line and status 2.
    """

    def __init__(self, fd: int):
        super().__init__()
        self.fd = fd

    def fileno(self) -> int:
        return self.fd

    def isatty(self) -> bool:
        return os.isatty(self.fd)

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        view = memoryview(data).cast("B")
        done = 0
        while done < len(view):
            try:
                done += os.write(self.fd, view[done:])
            except BlockingIOError:  # a non-blocking descriptor: wait until it takes more
                import select

                select.select([], [self.fd], [])
        return done

    def close(self) -> None:  # the descriptor is the process's, not ours to close
        super().close()


CLOSED = "standard output is closed"


class Closed(io.RawIOBase):
    """Standard output closed from the start (`rnnloss … >&-`): writing to it raises, so
    that what would be printed is reported as lost rather than dropped without a word."""

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        raise OSError(errno.EBADF, CLOSED)


def install() -> None:
    """Put standard output and error on `WholeWrites`, keeping their encoding and errors;
    standard output closed from the start on `Closed`."""
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        try:
            fd = stream.fileno()
            stream.flush()
        except (AttributeError, OSError, ValueError):  # closed from the start, or not a file
            if name == "stdout" and stream is None:
                sys.stdout = io.TextIOWrapper(io.BufferedWriter(Closed()), encoding="utf-8")
            continue
        wrapped = io.TextIOWrapper(
            io.BufferedWriter(WholeWrites(fd)),
            encoding=stream.encoding,
            errors=stream.errors,
            line_buffering=stream.line_buffering,
            write_through=name == "stderr",
        )
        setattr(sys, name, wrapped)


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
    if sys.stdout is not None:  # what is still buffered would fail, and be told, again
        try:
            _silence(sys.stdout)
        except (AttributeError, OSError, ValueError):  # no descriptor to point elsewhere
            sys.stdout = None
    return STATUS_CANNOT_WRITE


def is_terminal(stream: Any) -> bool:
    return stream is not None and stream.isatty()


def _silence(stream: Any) -> None:
    """Point a stream whose reader has gone at the null device: later writes vanish."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, stream.fileno())
    os.close(devnull)
