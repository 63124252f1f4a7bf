"""Each loss's working as a format-neutral Document (rnnloss_cli.document): built from a
solved problem, written by any of the writers in rnnloss_cli.render."""

from __future__ import annotations

import importlib

from rnnloss_cli.document import Document
from rnnloss_cli.solver import Solution

# The module that builds each loss's working, imported only when one is built.
WORKINGS = {
    "mse": "elementwise",
    "bce": "elementwise",
    "nll": "elementwise",
    "cce": "elementwise",
    "hinge": "elementwise",
    "huber": "elementwise",
    "kl": "elementwise",
    "sequence": "sequence",
    "reinforce": "sequence",
    "custom": "sequence",
    "ctc": "ctc",
}


def build(solution: Solution, details: bool = False) -> Document:
    """Return the working of a solved problem (with `details`, a custom loss's components'
    workings as its parts)."""
    module = importlib.import_module(f"rnnloss_cli.workings.{WORKINGS[solution.result.loss]}")
    return module.working(solution, details)
