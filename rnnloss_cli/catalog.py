"""What each loss is, for `rnnloss explain` and `rnnloss new`: definitions, formulas, this
tool's conventions, the lecture's pitfalls, and a template problem that solves as it is.

Each loss's text sits in its own module (rnnloss_cli/losses/, its `explanation`); this
module gathers them into the entries the explain renderer reads."""

from __future__ import annotations

from dataclasses import dataclass

from rnnloss_cli import losses
from rnnloss_cli.losses.keys import SCHEMA_FILE

__all__ = ["LOSSES", "SCHEMA_FILE", "Entry", "find"]


@dataclass(frozen=True)
class Entry:
    name: str
    title: str
    aliases: tuple[str, ...]
    summary: str  # one line: what it is
    use: str  # typical use
    formula: str
    when: str
    conventions: str
    pitfalls: str
    problem: str  # the bundled problem that shows it (in the source repository)
    template: str  # a problem file that solves as it stands
    example: str = ""  # the worked example as a command that runs in any install


def entry(loss: losses.Loss) -> Entry:
    """Return the catalog entry of a loss: its names and its explanation."""
    return Entry(loss.name, loss.title, loss.aliases, **loss.explanation._asdict())


LOSSES: dict[str, Entry] = {loss.name: entry(loss) for loss in losses.every()}


def find(name: str) -> Entry | None:
    """Return the entry of a loss or an alias, or None."""
    canonical = losses.canonical(name)
    return LOSSES[canonical] if canonical is not None else None
