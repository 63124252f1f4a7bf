"""What each loss is, for `rnnloss explain` and `rnnloss new`: definitions, formulas, this
tool's conventions, the lecture's pitfalls, and a template problem that solves as it is.

Each loss's text sits in its own module (rnnloss_cli/losses/, its `explanation`); this
module gathers them for the explain renderer."""

from __future__ import annotations

from rnnloss_cli import losses
from rnnloss_cli.losses.keys import SCHEMA_FILE

__all__ = ["LOSSES", "SCHEMA_FILE", "find"]

# Every loss by name, in the registry's order: its names, and what `explain` and `new`
# print in its `explanation`.
LOSSES: dict[str, losses.Loss] = {loss.name: loss for loss in losses.every()}


def find(name: str) -> losses.Loss | None:
    """Return the loss of a name or an alias, or of a command it declares (decode: ctc), or
    None."""
    canonical = losses.canonical(name) or losses.EXTRA_COMMANDS.get(name.strip().lower())
    return LOSSES[canonical] if canonical is not None else None
