"""The console script: run the command line as a short-lived process.

Two start-up costs are not ours to pay in a calculator that answers and exits
(measured by `benchmarks/run_all.py`, see the README's Speed section):

- the cyclic garbage collector, which walks again and again every object that importing
  numpy, Typer and Rich creates, although none of them is garbage (about 13 ms). It stays
  off for the whole run: solving makes no reference cycles worth collecting (a batch of
  5,000 files, 2,000 of them broken, peaks at 114 MB of memory with it on or off);
- the interpreter's teardown, which frees those objects one by one (about 35 ms): once
  the command has finished and its output is flushed, the process ends with `os._exit`.

`rnnloss_cli.cli.main` stays an ordinary function for use in-process (tests call it).
"""

import contextlib
import gc
import os
import sys

from rnnloss_cli.streams import cannot_write, complain, install, write


def main() -> None:
    install()
    if sys.argv[1:] == ["--version"]:  # answered before Typer is imported
        from rnnloss_cli import __version__

        status = 0
        try:
            write(f"rnnloss {__version__}\n")
        except OSError as exc:
            status = cannot_write(exc)
        _flush_and_exit(status)
    gc.disable()
    try:
        from rnnloss_cli.cli import main as run

        run()
        status = 0
    except SystemExit as done:
        status = _exit_status(done.code)
    except KeyboardInterrupt:  # before Typer took over (while importing, say)
        complain("interrupted")
        status = 130
    except BrokenPipeError:  # the reader went away while a usage message was printed
        status = 0
    except OSError as exc:  # standard output cannot take a usage message (closed, full)
        status = cannot_write(exc)
    except Exception as exc:
        if os.environ.get("RNNLOSS_DEBUG"):
            raise
        # A fault of ours: one line, as a batch reports it, not a traceback.
        detail = (str(exc).splitlines() or [""])[0]
        complain(
            f"internal error ({type(exc).__name__}: {detail}); please report it "
            "(RNNLOSS_DEBUG=1 shows where)"
        )
        status = 2
    _flush_and_exit(status)


def _exit_status(code: object) -> int:
    """As the interpreter reads `SystemExit.code`: None is 0, text is printed and 1."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    if sys.stderr is not None:
        print(code, file=sys.stderr)
    return 1


def _flush_and_exit(status: int) -> None:
    """Deliver what is buffered, then end the process at once with `status`.

    A reader that has gone (a closed pipe) or a stream closed from the start changes
    nothing; output that cannot be written (a full disk) is one line and status 2.
    """
    try:
        if sys.stdout is not None:
            sys.stdout.flush()
    except (BrokenPipeError, ValueError):
        pass
    except OSError as exc:
        status = cannot_write(exc)
    with contextlib.suppress(AttributeError, OSError, ValueError):
        sys.stderr.flush()
    os._exit(status)
