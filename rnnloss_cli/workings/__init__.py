"""Each loss's working as a format-neutral Document (rnnloss_cli.document): built by the
loss's own module (its `working`, see rnnloss_cli.losses) from a solved problem, and
written by any of the writers in rnnloss_cli.render. `common` holds the parts every
working shares."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rnnloss_cli.document import Document
    from rnnloss_cli.solver import Solution


def build(solution: Solution, details: bool = False) -> Document:
    """Return the working of a solved problem (with `details`, a custom loss's components'
    workings as its parts)."""
    from rnnloss_cli import losses

    loss = losses.get(solution.result.loss)
    if loss.working is None:
        raise ValueError(f"the loss {loss.name!r} declares no working")
    return losses.resolve(loss.working)(solution, details)
