"""Raw problem mappings → validated `Problem`s, as the contract (problem-format.md) says.

Everything a user can get wrong is caught here, before any number is computed, and
reported as one `ProblemError` naming the key (`yhat[1]`) and what is wrong with it. The
validated problem holds float64 arrays ready for the core, plus the warnings that
validation found (rows that do not sum to 1, …).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from rnnloss_cli import losses
from rnnloss_cli.errors import ProblemError, quoted
from rnnloss_cli.problems.values import (
    Reader,
    did_you_mean,
    fmt,
    parse_array,
    parse_number,
    shown,
    tolerance_from_text,
)

__all__ = [
    "LOSSES",
    "Problem",
    "ProblemError",
    "canonical_loss",
    "parse_array",
    "parse_number",
    "tolerance_from_text",
    "validate",
]


# ---------------------------------------------------------------------------------------
# The vocabulary of the format: the losses and their keys come from the registry
# (rnnloss_cli/losses/), each loss's from its own module.

LOSSES = losses.names()
COMMON_KEYS = ("loss", "title", "expected", "tolerance")

# The vocabulary of every loss at once, computed on first use (module __getattr__):
# validating one problem imports that loss's module alone.
#   LOSS_KEYS: the keys each loss takes; ALL_KEYS: every key of any loss.


def _vocabulary() -> dict[str, Any]:
    loss_keys = {loss.name: loss.key_names for loss in losses.every()}
    return {
        "LOSS_KEYS": loss_keys,
        "ALL_KEYS": sorted({*COMMON_KEYS, *(k for keys in loss_keys.values() for k in keys)}),
    }


VOCABULARY = ("LOSS_KEYS", "ALL_KEYS")


def vocabulary(name: str) -> Any:
    """Return one of VOCABULARY, computed (all of them) on first use."""
    if name not in globals():
        globals().update(_vocabulary())
    return globals()[name]


def __getattr__(name: str) -> Any:
    if name in VOCABULARY:
        return vocabulary(name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# The CTC work a file may ask for in all, as ctc_work counts it: a file of tiny texts
# (`frames: 20000`, aliases) must not multiply what one problem may ask for (4,000,000
# cells and 20,000 + 40,000 frames, problems/ctc.py). 6,000,000 cells are about 3 s with
# the trellis and gradient written as JSON; 100,000 frames about 3 s of frame-by-frame loops.
# Beam search scores frames × width × alphabet candidates: 60,000,000 is about 5 s.
FILE_LIMITS = (
    ("cells of the forward algorithm", 6_000_000),
    ("frames", 100_000),
    ("candidates scored by beam search", 60_000_000),
)
MAX_TITLE = 200  # characters: a title is a line above the working and a cell of a table


@dataclass(frozen=True)
class Problem:
    """A validated problem: the core's keyword arguments and what the working shows."""

    loss: str
    inputs: dict[str, Any]
    title: str | None = None
    source: str | None = None
    index: int = 0
    expected: float | None = None
    tolerance: float | None = None
    warnings: tuple[str, ...] = ()
    display: dict[str, Any] = field(default_factory=dict)
    grad: bool = False  # `grad: true`: the gradient of the headline value is asked for


def ctc_work(problem: Problem) -> tuple[int, ...]:
    """Return the CTC work a problem asks for, its custom terms' included: the cells of
    forward-algorithm tables, the frames walked one by one, and the candidates beam search
    scores. They bound its time and memory; FILE_LIMITS bounds their sums over a file."""
    work = losses.get(problem.loss).work
    return (0,) * len(FILE_LIMITS) if work is None else losses.resolve(work)(problem.inputs)


def canonical_loss(name: Any, key: str = "loss") -> str:
    """Return the canonical loss name for `name` or an alias; an error lists the choices."""
    if not isinstance(name, str):
        raise ProblemError(f"must be a loss name, got {shown(name)}", key=key)
    found = losses.canonical(name)
    if found is not None:
        return found
    hint = did_you_mean(name.strip().lower(), [*LOSSES, *losses.aliases()])
    raise ProblemError(
        f"unknown loss {quoted(name)}{hint}; choose one of {', '.join(LOSSES)}", key=key
    )


def key_takers(option: str, commands: list[str]) -> list[str]:
    """Return the commands among `commands` whose loss really takes the key that `option`
    sets. The classification commands share one signature, so `nll` has a
    `--label-smoothing` option that its loss refuses (it belongs to cce): a pointer to
    where an option belongs names only the losses that take its key. An option that sets
    no key of a problem (`--json`, `--svg`) belongs to every command that has it."""
    flags = {k.option: k.name for loss in losses.every() for k in loss.keys}
    key = flags.get(option, option.lstrip("-").replace("-", "_"))
    if key not in vocabulary("ALL_KEYS"):
        return list(commands)
    out = []
    for command in commands:
        loss = losses.canonical(command)
        if loss is None or key in (*COMMON_KEYS, *losses.get(loss).key_names):
            out.append(command)
    return out


def belongs_elsewhere(
    loss: str, key: str, owners: list[str], *, written: str | None = None, flag: bool = False
) -> str:
    """Return what to say of a key (`flag`: a command-line option, `--classes`) that `loss`
    (as the user `written` it, an alias perhaps) does not take, but `owners` do: where it
    belongs, unless the loss has more to say (a key of cce given to bce points to cce)."""
    misplaced = losses.get(loss).misplaced
    said = misplaced(key, owners, written, flag) if misplaced is not None else None
    return said or f"it belongs to {', '.join(owners)}"


def _check_keys(data: Mapping[str, Any], loss: str) -> None:
    allowed = (*COMMON_KEYS, *losses.get(loss).key_names)
    written = str(data.get("loss", loss)).strip().lower()
    for key in data:
        if not isinstance(key, str):
            raise ProblemError(f"keys are names, got {shown(key)}", key=shown(key))
        if key in allowed:
            continue
        owners = [name for name, keys in vocabulary("LOSS_KEYS").items() if key in keys]
        if owners:
            where = belongs_elsewhere(loss, key, owners, written=written)
            raise ProblemError(f"`{loss}` does not take this key: {where}", key=key)
        raise ProblemError(
            f"unknown key{did_you_mean(key, allowed) or did_you_mean(key, vocabulary('ALL_KEYS'))}",
            key=key,
        )


def validate(
    data: Any,
    *,
    source: str | None = None,
    index: int = 0,
    expected_text: str | None = None,
    default_title: str | None = None,
    loss: str | None = None,
) -> Problem:
    """Return the validated `Problem` for one raw mapping, or raise `ProblemError`.

    `loss` is the command's loss: it fills a missing `loss` key, and a file that names a
    different loss is an error. `expected_text` is `expected` as written in the file, from
    which the default tolerance is read.
    """
    try:
        return _validate(data, index, expected_text, default_title, loss, source, 0)
    except ProblemError as exc:
        raise exc.with_source(source) from None


def _validate(
    data: Any,
    index: int,
    expected_text: str | None,
    default_title: str | None,
    command_loss: str | None,
    source: str | None,
    depth: int,
) -> Problem:
    if not isinstance(data, dict):
        kind = {
            list: "a list",
            str: "a string",
            int: "a number",
            float: "a number",
            bool: "true or false",
            type(None): "nothing (null)",
        }.get(type(data), type(data).__name__)
        raise ProblemError(f"a problem is a mapping of keys (loss: …, y: …), got {kind}")
    r = Reader(data, source=source, depth=depth)
    if "loss" in data:
        loss = canonical_loss(data["loss"])
        if command_loss is not None and loss != command_loss:
            raise ProblemError(
                f"this is a `{loss}` problem; solve it with `rnnloss {loss}` or `rnnloss solve`",
                key="loss",
            )
    elif command_loss is not None:
        loss = command_loss
    else:
        raise ProblemError(
            f"missing: every problem names its loss ({', '.join(LOSSES)})", key="loss"
        )
    _check_keys(data, loss)

    declared = losses.get(loss)
    inputs, warnings, display = losses.resolve(declared.validator)(r)
    inputs = {k: v for k, v in inputs.items() if v is not None}
    reduction = None
    # The keys every loss that has them reads alike (CTC checks its reduction first too).
    reduction_key = declared.key("reduction")
    if reduction_key is not None:
        reduction = r.choice("reduction", reduction_key.choices, reduction_key.default)
        inputs["reduction"] = reduction
    grad = declared.key("grad") is not None and r.flag("grad")
    log_base_key = declared.key("log_base")
    if log_base_key is not None:
        inputs["log_base"] = r.choice("log_base", log_base_key.choices, log_base_key.default)

    title = r.get("title")
    if title is not None and not isinstance(title, str | int | float):
        raise ProblemError(f"expected a line of text, got {shown(title)}", key="title")
    if title is not None and len(str(title)) > MAX_TITLE:
        raise ProblemError(
            f"{len(str(title)):,} characters is over the limit of {MAX_TITLE} for a title "
            "(a line of text)",
            key="title",
        )
    expected = tolerance = None
    if r.has("expected"):
        if reduction == "none":
            assert reduction_key is not None
            others = [c for c in reduction_key.choices if c != "none"]
            raise ProblemError(
                "there is no single answer to check with reduction none: drop expected "
                f"or choose {' or '.join(others) if len(others) < 3 else ', '.join(others)}",
                key="expected",
            )
        expected = parse_number(data["expected"], "expected", allow_inf=True)
        text = expected_text
        if text is None and isinstance(data["expected"], str):
            text = data["expected"]
        tolerance = tolerance_from_text(text, expected)
    if r.has("tolerance"):
        if expected is None:
            raise ProblemError(
                "is given without expected: there is nothing to check", key="tolerance"
            )
        tolerance = parse_number(data["tolerance"], "tolerance")
        if tolerance < 0:
            raise ProblemError(f"must not be negative, got {fmt(tolerance)}", key="tolerance")

    return Problem(
        loss=loss,
        inputs=inputs,
        title=str(title) if title is not None else default_title,
        source=source,
        index=index,
        expected=expected,
        tolerance=tolerance,
        warnings=tuple(warnings),
        display=display,
        grad=grad,
    )
