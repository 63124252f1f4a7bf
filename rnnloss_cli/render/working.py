"""The working in the terminal, for one solved problem: its Document, written by Rich."""

from __future__ import annotations

from rich.console import RenderableType

from rnnloss_cli.render import terminal
from rnnloss_cli.solver import Solution
from rnnloss_cli.workings import build


def working(solution: Solution, width: int = 80, details: bool = False) -> RenderableType:
    """Return the whole working of one solved problem as one Rich renderable `width` wide.

    With `details`, a custom loss is followed by the working of each of its terms.
    """
    return terminal.write(build(solution, details), width)
