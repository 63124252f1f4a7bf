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

from rnnloss_cli.errors import ProblemError, quoted
from rnnloss_cli.problems.elementwise import VALIDATORS
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
    "ALIASES",
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
# The vocabulary of the format

LOSSES = ("mse", "bce", "nll", "cce", "hinge", "sequence", "reinforce", "ctc", "custom")
ALIASES = {
    "cross-entropy": "bce",
    "categorical-cross-entropy": "cce",
    "seq": "sequence",
    "sequence-hinge": "hinge",
    "rl": "reinforce",
}

COMMON_KEYS = ("loss", "title", "expected", "tolerance")
_CLASSIFICATION_KEYS = (
    "target",
    "y",
    "yhat",
    "log_probs",
    "logits",
    "classes",
    "reduction",
    "log_base",
    "clip",
)
LOSS_KEYS: dict[str, tuple[str, ...]] = {
    "mse": ("y", "yhat", "reduction"),
    "bce": ("y", "yhat", "logits", "reduction", "log_base", "clip"),
    "nll": _CLASSIFICATION_KEYS,
    "cce": (*_CLASSIFICATION_KEYS, "label_smoothing"),
    "hinge": (
        "y",
        "yhat",
        "margin",
        "squared",
        "reduction",
        "target",
        "scores",
        "multiclass",
        "classes",
    ),
    # Keys of the losses still to come, known so that a misspelling is still caught.
    "sequence": (
        "target",
        "yhat",
        "log_probs",
        "logits",
        "classes",
        "ignore_index",
        "reduction",
        "log_base",
    ),
    "reinforce": (
        "rewards",
        "probs",
        "log_probs",
        "gamma",
        "returns",
        "baseline",
        "normalize",
        "reduction",
        "log_base",
    ),
    "ctc": (
        "label",
        "blank",
        "probabilities",
        "alignments",
        "frames",
        "alphabet",
        "probs",
        "log_probs",
        "logits",
        "method",
        "trellis",
        "grad",
        "log_base",
        "reduction",
    ),
    "custom": ("terms",),
}
ALL_KEYS = sorted({*COMMON_KEYS, *(k for keys in LOSS_KEYS.values() for k in keys)})

DEFAULT_REDUCTION = {
    "mse": "mean",
    "bce": "mean",
    "nll": "sum",
    "cce": "sum",
    "hinge": "mean",
    "sequence": "sum",
    "reinforce": "sum",
}
LOG_BASE_LOSSES = ("bce", "nll", "cce", "sequence", "reinforce", "ctc")
MAX_CUSTOM_DEPTH = 3  # custom inside custom inside custom, and no deeper
MAX_CUSTOM_TERMS = 100
# The CTC work a file may ask for in all, as ctc_work counts it: a file of tiny texts
# (`frames: 20000`, aliases) must not multiply what one problem may ask for (4,000,000
# cells and 20,000 + 40,000 frames, problems/ctc.py). 6,000,000 cells are about 3 s with
# the trellis and gradient written as JSON; 100,000 frames about 3 s of frame-by-frame loops.
FILE_LIMITS = (("cells of the forward algorithm", 6_000_000), ("frames", 100_000))
MAX_TITLE = 200  # characters: a title is a line above the working and a cell of a table
REDUCTIONS = ("mean", "sum", "none")


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


def ctc_work(problem: Problem) -> tuple[int, int]:
    """Return the CTC work a problem asks for, its custom terms' included: the cells of
    forward-algorithm tables and the frames walked one by one. They bound its time and
    memory; FILE_LIMITS bounds their sums over a file."""
    if problem.loss == "custom":
        parts = [ctc_work(c["problem"]) for c in problem.inputs["components"]]
        return sum(p[0] for p in parts), sum(p[1] for p in parts)
    if problem.loss == "ctc":
        from rnnloss_cli.problems import ctc

        return ctc.work(problem.inputs)
    return 0, 0


def canonical_loss(name: Any, key: str = "loss") -> str:
    """Return the canonical loss name for `name` or an alias; an error lists the choices."""
    if not isinstance(name, str):
        raise ProblemError(f"must be a loss name, got {shown(name)}", key=key)
    lowered = name.strip().lower()
    if lowered in LOSSES:
        return lowered
    if lowered in ALIASES:
        return ALIASES[lowered]
    names = [*LOSSES, *ALIASES]
    hint = did_you_mean(lowered, names)
    raise ProblemError(
        f"unknown loss {quoted(name)}{hint}; choose one of {', '.join(LOSSES)}", key=key
    )


# What the keys of categorical cross-entropy are, for a bce problem given one: `loss:
# cross-entropy` names binary cross-entropy, and one with class indices meant `cce`.
CLASS_KEYS = {
    "target": "class indices are",
    "classes": "class names are",
    "label_smoothing": "label smoothing is",
    "log_probs": "log-probabilities of classes are",
}


def key_takers(option: str, commands: list[str]) -> list[str]:
    """Return the commands among `commands` whose loss really takes the key that `option`
    sets. The classification commands share one signature, so `nll` has a
    `--label-smoothing` option that its loss refuses (it belongs to cce): a pointer to
    where an option belongs names only the losses that take its key. An option that sets
    no key of a problem (`--json`, `--svg`) belongs to every command that has it."""
    key = option.lstrip("-").replace("-", "_")
    key = {"alignment": "alignments"}.get(key, key)  # the one flag named in the singular
    if key not in ALL_KEYS:
        return list(commands)
    return [
        command
        for command in commands
        if ALIASES.get(command, command) not in LOSS_KEYS
        or key in (*COMMON_KEYS, *LOSS_KEYS[ALIASES.get(command, command)])
    ]


def belongs_elsewhere(
    loss: str, key: str, owners: list[str], *, written: str | None = None, flag: bool = False
) -> str:
    """Return what to say of a key (`flag`: a command-line option, `--classes`) that `loss`
    (as the user `written` it, an alias perhaps) does not take, but `owners` do. A key of
    categorical cross-entropy given to bce points to `cce` itself, whatever else takes it."""
    name = key.lstrip("-").replace("-", "_")
    if loss != "bce" or "cce" not in owners:
        return f"it belongs to {', '.join(owners)}"
    what = CLASS_KEYS.get(name, "it is")
    use = f"`rnnloss cce --{name.replace('_', '-')} …`" if flag else "write loss: cce"
    alias = f"`{written}` is binary cross-entropy (bce); " if written not in (None, "bce") else ""
    extra = ""
    if name == "target":
        extra = "; bce takes 0/1 targets with --y" if flag else "; bce takes 0/1 targets in y"
    losses = "cce (categorical cross-entropy)"
    if "nll" in owners:  # only where nll really takes the key (not label_smoothing)
        losses = f"nll and {losses}"
    return f"{alias}{what} for {losses}: {use}{extra}"


def _check_keys(data: Mapping[str, Any], loss: str) -> None:
    allowed = (*COMMON_KEYS, *LOSS_KEYS[loss])
    written = str(data.get("loss", loss)).strip().lower()
    for key in data:
        if not isinstance(key, str):
            raise ProblemError(f"keys are names, got {shown(key)}", key=shown(key))
        if key in allowed:
            continue
        owners = [name for name, keys in LOSS_KEYS.items() if key in keys]
        if owners:
            where = belongs_elsewhere(loss, key, owners, written=written)
            raise ProblemError(f"`{loss}` does not take this key: {where}", key=key)
        raise ProblemError(
            f"unknown key{did_you_mean(key, allowed) or did_you_mean(key, ALL_KEYS)}", key=key
        )


def _sequence_level_validator(loss: str) -> Any:
    """Return the validator of ctc, sequence or reinforce, imported when first needed."""
    if loss == "ctc":
        from rnnloss_cli.problems.ctc import validate_ctc

        return validate_ctc
    from rnnloss_cli.problems import sequence

    return sequence.validate_sequence if loss == "sequence" else sequence.validate_reinforce


def _validate_custom(
    r: Reader, source: str | None, depth: int
) -> tuple[dict[str, Any], list[str], dict[str, Any]]:
    """Return the validated components of a custom loss: each a problem with a weight."""
    r.require("custom", "terms")
    terms = r.bounded_list("terms", "terms (problems, each with its loss)", MAX_CUSTOM_TERMS)
    components = []
    for i, term in enumerate(terms):
        prefix = f"terms[{i}]"
        if not isinstance(term, dict):
            raise ProblemError(
                f"a term is a problem (a mapping with its loss), got {shown(term)}", key=prefix
            )
        for key in ("expected", "tolerance"):
            if key in term:
                raise ProblemError(
                    "a term has no answer key of its own: put expected on the custom loss",
                    key=f"{prefix}.{key}",
                )
        weight = parse_number(term.get("weight", 1.0), f"{prefix}.weight")
        name = term.get("name")
        if name is not None and not isinstance(name, str | int | float):
            raise ProblemError(f"expected a short name, got {shown(name)}", key=f"{prefix}.name")
        if "loss" not in term:
            raise ProblemError("missing: each term names its loss", key=f"{prefix}.loss")
        if canonical_loss(term["loss"], f"{prefix}.loss") == "custom" and (
            depth + 1 >= MAX_CUSTOM_DEPTH
        ):
            raise ProblemError(
                f"custom losses nest at most {MAX_CUSTOM_DEPTH} deep", key=f"{prefix}.loss"
            )
        sub = {k: v for k, v in term.items() if k not in ("weight", "name")}
        try:
            problem = _validate(sub, i, None, None, None, source, depth + 1)
        except ProblemError as exc:
            exc.key = f"{prefix}.{exc.key}" if exc.key else prefix
            raise
        if problem.inputs.get("reduction") == "none":
            raise ProblemError(
                "a term needs a single value: choose mean or sum", key=f"{prefix}.reduction"
            )
        label = str(name) if name is not None else f"{problem.loss} #{i + 1}"
        components.append({"name": label, "weight": weight, "problem": problem})
    return {"components": components}, [], {}


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
    r = Reader(data)
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

    if loss == "custom":
        inputs, warnings, display = _validate_custom(r, source, depth)
    else:
        validator = VALIDATORS.get(loss) or _sequence_level_validator(loss)
        inputs, warnings, display = validator(r)
    inputs = {k: v for k, v in inputs.items() if v is not None}
    reduction = None
    if loss in DEFAULT_REDUCTION:
        reduction = r.choice("reduction", REDUCTIONS, DEFAULT_REDUCTION[loss])
        inputs["reduction"] = reduction
    if loss in LOG_BASE_LOSSES:
        inputs["log_base"] = r.choice("log_base", ("e", "2", "10"), "e")

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
            raise ProblemError(
                "there is no single answer to check with reduction none: drop expected "
                "or choose mean or sum",
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
    )
