"""The registry of losses: each loss is declared once, in a module of this package.

A loss's module defines `LOSS = Loss(...)`: its name and aliases, its keys (the single
source for validation, the JSON Schema, the command's inline flags and their help), its
validator and core function, and its `explain` entry and `new` template. The command line,
`solve`, the schema, `new` and `explain` are generic over this registry.

Importing a loss module is cheap: it holds data and small functions, and names its
validator and core function as "module:function" text, imported when a problem of that
loss is validated or solved (an inline hinge never imports the CTC kernels). Only the
modules asked for are imported: `get("hinge")` imports `losses/hinge.py` alone.

Adding a loss: a module here, its name in MODULES, and its core function in `core/`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

# Each loss and the module that declares it, in the order losses are listed everywhere
# (the contract's table, `rnnloss --help`, `explain`, the schema).
MODULES: dict[str, str] = {
    "mse": "rnnloss_cli.losses.mse",
    "bce": "rnnloss_cli.losses.bce",
    "nll": "rnnloss_cli.losses.nll",
    "cce": "rnnloss_cli.losses.cce",
    "hinge": "rnnloss_cli.losses.hinge",
    "sequence": "rnnloss_cli.losses.sequence",
    "reinforce": "rnnloss_cli.losses.reinforce",
    "ctc": "rnnloss_cli.losses.ctc",
    "custom": "rnnloss_cli.losses.custom",
}

# A function named as "package.module:function" (imported when called), or the function.
Ref = str | Callable[..., Any]


@dataclass(frozen=True)
class Key:
    """One key of a problem file, and the inline flag that sets it.

    `kind` names what the value is, for the JSON Schema: number, vector (a list of
    numbers), matrix (rows), array (numbers, rows, or a batch of matrices), indices
    (class indices or names), names (class names), symbols (a string or list of
    symbols), symbol, label, integer, flag (true/false), choice (one of `choices`),
    number-or-mean, pairs (symbol = value), alignments, problems (custom terms).
    """

    name: str  # as written in a problem file: "log_probs"
    kind: str
    description: str  # what the key is, for the schema (one wording per key name)
    help: str | None = None  # the inline flag's --help line; None: no inline flag
    default: Any = None  # the value when the key is absent (None: no default, or required)
    choices: tuple[str, ...] = ()  # kind choice: the values, canonical spelling first
    bounds: Mapping[str, float] = field(default_factory=dict)  # schema: minimum, …
    flag: str | None = None  # the flag when it is not --name-with-dashes ("--alignment")
    repeated: bool = False  # the flag may be given again and again (a list)
    taken: bool = True  # False: the command has the flag, the loss refuses the key
    # (nll shares cce's flags; `--label-smoothing` to nll says it belongs to cce)

    @property
    def option(self) -> str:
        """Return the inline flag that sets this key: `--log-probs`."""
        return self.flag or "--" + self.name.replace("_", "-")

    def with_help(self, help: str, **changes: Any) -> Key:
        """Return this key with another --help line (a loss's own wording of a shared key)."""
        from dataclasses import replace

        return replace(self, help=help, **changes)


@dataclass(frozen=True)
class Explanation:
    """What `rnnloss explain` says of a loss, and the template `rnnloss new` prints."""

    summary: str  # one line: what it is
    use: str  # typical use
    formula: str
    when: str
    conventions: str
    pitfalls: str
    problem: str  # the bundled problem that shows it (in the source repository)
    template: str  # a problem file that solves as it stands
    example: str = ""  # the worked example as a command that runs in any install


@dataclass(frozen=True)
class Loss:
    """Everything about one loss: its keys, validator, core function, command and entry."""

    name: str
    title: str  # "Hinge loss"
    aliases: tuple[str, ...]
    keys: tuple[Key, ...]  # in the order of the command's flags
    validator: Ref  # Reader -> (inputs, warnings, display); see problems/__init__.py
    core: Ref  # (**inputs) -> result; or `choose_core`
    explanation: Explanation
    help: str  # the command's --help text
    short: str  # its line in `rnnloss --help`
    example: str  # the flags of the command's example
    # (inputs) -> the core function's Ref, when the inputs choose it (multi-class hinge)
    choose_core: Callable[[Mapping[str, Any]], str] | None = None
    file_help: str | None = None  # the command takes a file only: its argument's help
    details_help: str | None = None  # the command has --details: its help
    # (problem, result) -> the other readings of the answer (solver.Reading); default:
    # the sum and the mean, in every log base
    readings: Ref | None = None
    work: Ref | None = None  # (inputs) -> (forward cells, frames), bounded per file
    # (key, owners, written, flag) -> what to say of another loss's key given to this one,
    # or None for "it belongs to …"
    misplaced: Callable[..., str | None] | None = None
    working: str | None = None  # "module:function" that builds its working (rendering)

    def key(self, name: str) -> Key | None:
        """Return this loss's key `name`, or None."""
        return next((k for k in self.keys if k.name == name), None)

    @property
    def key_names(self) -> tuple[str, ...]:
        """Return the keys this loss takes (not `taken=False` flags)."""
        return tuple(k.name for k in self.keys if k.taken)

    def core_function(self, inputs: Mapping[str, Any]) -> Callable[..., Any]:
        """Return the function that computes this loss from validated inputs."""
        return resolve(self.choose_core(inputs) if self.choose_core else self.core)


def resolve(ref: Ref) -> Callable[..., Any]:
    """Return the function a Ref names, importing its module."""
    if callable(ref):
        return ref
    module, _, name = ref.partition(":")
    return getattr(importlib.import_module(module), name)


def names() -> tuple[str, ...]:
    """Return every loss's canonical name, in order; imports nothing."""
    return tuple(MODULES)


_LOADED: dict[str, Loss] = {}


def get(name: str) -> Loss:
    """Return the loss with this canonical name (KeyError if there is none)."""
    loss = _LOADED.get(name)
    if loss is None:
        loss = _LOADED[name] = importlib.import_module(MODULES[name]).LOSS
    return loss


def every() -> list[Loss]:
    """Return every loss, in order."""
    return [get(name) for name in MODULES]


def aliases() -> dict[str, str]:
    """Return each alias and the loss it names."""
    return {alias: loss.name for loss in every() for alias in loss.aliases}


def canonical(name: str) -> str | None:
    """Return the canonical name of a loss or alias (any case, spaces around), or None."""
    key = name.strip().lower()
    if key in MODULES:
        return key
    return aliases().get(key)
