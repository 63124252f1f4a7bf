"""The problem-file format as a JSON Schema (draft 2020-12), for editors and linters.

It is generated from the validator's own vocabulary — which keys each loss takes, the
reductions, log bases, methods and rules — so it cannot drift from what `rnnloss` accepts
(a test checks that every key the validator knows has a schema here). The validator stays
the authority on everything a schema cannot say (shapes that must agree, ranges of
probabilities); the schema gives an editor completion, types and enumerations.

It is shaped so that a validator's best error names what is wrong. A problem is
dispatched on its `loss` with `if`/`then` (one branch per loss, its aliases included), not
an `anyOf` of every loss, whose only message is "is not valid under any of the given
schemas"; each loss's sub-schema lists its keys with `additionalProperties: false`, so an
unknown key is reported as such; and each key's alternatives are a list of types, not an
`anyOf`, so a wrong type or choice is reported at that key.
"""

from __future__ import annotations

from typing import Any

from rnnloss_cli.core.result import LOG_BASES
from rnnloss_cli.problems import (
    ALIASES,
    COMMON_KEYS,
    DEFAULT_REDUCTION,
    LOG_BASE_LOSSES,
    LOSS_KEYS,
    LOSSES,
    MAX_CUSTOM_DEPTH,
    MAX_TITLE,
    REDUCTIONS,
)
from rnnloss_cli.problems.ctc import ALIGNMENT_KEYS, CTC_REDUCTIONS, METHODS
from rnnloss_cli.problems.elementwise import MULTICLASS
from rnnloss_cli.problems.sequence import RETURNS
from rnnloss_cli.problems.values import MAX_NAME

# Numbers written as text, as the validator reads them (values.parse_number: Python's
# float() after TYPED_FORMS): spaces around, a sign (the minus sign − and the small and
# fullwidth forms too), digits (fullwidth ones, `_` between digits), a decimal point (or
# ．), an exponent, or inf/infinity/∞ in any case. `\d` is every script's digits to
# Python's `re`, as to float(), and ASCII to an editor's ECMA-262 regex, hence ０-９ too.
# Lists separate numbers by `,`, a matrix's rows by `;` and a batch's matrices by `|`,
# each also in its fullwidth form. Text with no number in it matches none of these.
_DIGITS = "[\\d０-９](?:_?[\\d０-９])*"
_SIGN = "[-+−﹣－﹢＋]?"
_MANTISSA = f"(?:{_DIGITS}(?:[.．](?:{_DIGITS})?)?|[.．]{_DIGITS})"
_INFINITY = "(?:[iI][nN][fF](?:[iI][nN][iI][tT][yY])?|∞)"
_NUMBER = f"\\s*{_SIGN}(?:{_MANTISSA}(?:[eEｅＥ]{_SIGN}{_DIGITS})?|{_INFINITY})\\s*"
_LIST = f"{_NUMBER}(?:[,，]{_NUMBER})*"
_ROWS = f"{_LIST}(?:[;；]{_LIST})*"
_BATCH = f"{_ROWS}(?:[|｜]{_ROWS})*"
NUMBER_TEXT, LIST_TEXT, ROWS_TEXT, BATCH_TEXT = (f"^{p}$" for p in (_NUMBER, _LIST, _ROWS, _BATCH))
# `probabilities` inline: SYMBOL=VALUE (or SYMBOL: VALUE) pairs separated by commas; the
# last `=` separates, so a symbol may be `=` itself.
PAIRS_TEXT = f"^[^,，]*[=:]{_NUMBER}(?:[,，][^,，]*[=:]{_NUMBER})*$"

# Each value schema is one `type` list (its keywords such as `items` or `minimum` apply
# only to values of their type), never an `anyOf`: a wrong value is then reported as
# "… is not of type 'array', 'string', 'number'" at its key.
NUMBER: dict[str, Any] = {
    "type": ["number", "string"],
    "pattern": NUMBER_TEXT,
    "description": "a number",
}
VECTOR: dict[str, Any] = {
    "description": 'numbers: a list, or text such as "1,-1,1"',
    "type": ["array", "string", "number"],
    "pattern": LIST_TEXT,
    "items": NUMBER,
    "minItems": 1,
}
ROW: dict[str, Any] = {"type": ["array", "string", "number"], "pattern": LIST_TEXT, "items": NUMBER}
MATRIX: dict[str, Any] = {
    "description": 'rows of numbers: a list of lists, or text such as "0.7,0.3; 0.2,0.8"',
    "type": ["array", "string"],
    "pattern": ROWS_TEXT,
    "items": ROW,
    "minItems": 1,
}
ARRAY: dict[str, Any] = {
    "description": "numbers, rows of numbers, or (sequence) a batch of matrices",
    "type": ["array", "string", "number"],
    "pattern": BATCH_TEXT,
    "items": {"type": ["array", "string", "number"], "pattern": ROWS_TEXT, "items": ROW},
    "minItems": 1,
}
SYMBOLS: dict[str, Any] = {"type": ["string", "array"], "items": {"type": ["string", "integer"]}}
FLAG: dict[str, Any] = {"type": ["boolean", "string"], "description": "true or false"}
INDICES: dict[str, Any] = {
    "description": "class indices (0-based) or class names; a row per sequence for a batch",
    "type": ["array", "string", "integer"],
}
ALIGNMENT: dict[str, Any] = {
    "description": "a path (a string of symbols, or a list), or a mapping with path and factors",
    "type": ["string", "array", "object"],
    "items": SYMBOLS["items"],
    "properties": {"path": SYMBOLS, "factors": VECTOR},
    "required": ["path"],
    "additionalProperties": False,
}


def _ranged(description: str, **bounds: Any) -> dict[str, Any]:
    """A number within bounds (or text the validator reads as a number)."""
    return {
        "type": ["number", "string"],
        "pattern": NUMBER_TEXT,
        **bounds,
        "description": description,
    }


def _enum(values: tuple[Any, ...], description: str) -> dict[str, Any]:
    return {"enum": list(values), "description": description}


def _nullable(value: dict[str, Any]) -> dict[str, Any]:
    """Return `value` that also allows null, which the validator reads as "not given"."""
    if "enum" in value:
        return {**value, "enum": [*value["enum"], None]}
    if "type" in value:
        types = value["type"] if isinstance(value["type"], list) else [value["type"]]
        return {**value, "type": [*types, "null"]}
    return {"anyOf": [value, {"type": "null"}]}


def _names(loss: str) -> list[str]:
    """Return the loss's name and its aliases."""
    return [loss, *(alias for alias, target in ALIASES.items() if target == loss)]


def _reductions(loss: str, *, term: bool) -> tuple[str, ...]:
    """Return the reductions `loss` takes: CTC's own; a term's give a single value."""
    choices = CTC_REDUCTIONS if loss == "ctc" else REDUCTIONS
    return tuple(c for c in choices if not (term and c == "none"))


def key_schemas() -> dict[str, dict[str, Any]]:
    """Return a schema for every key any loss takes (the drift test compares the two)."""
    return {
        "loss": {"description": "the loss", "type": "string"},
        "title": {
            "type": ["string", "number"],
            "maxLength": MAX_TITLE,
            "description": "a line shown above the working",
        },
        "expected": {**NUMBER, "description": "the answer key: compared with the value"},
        "tolerance": {
            **NUMBER,
            "description": "absolute tolerance for expected (default: half "
            "a unit in its last decimal place)",
        },
        "reduction": _enum(REDUCTIONS, "how the terms are reduced"),
        "log_base": _enum((*LOG_BASES, 2, 10), "the logarithm's base"),
        "y": {**ARRAY, "description": "targets"},
        "yhat": {**ARRAY, "description": "predictions (probabilities, or scores for hinge)"},
        "logits": {**ARRAY, "description": "logits instead of yhat (sigmoid/softmax applied)"},
        "log_probs": {**ARRAY, "description": "log-probabilities instead of yhat"},
        "probs": {
            **ARRAY,
            "description": "probabilities (ctc matrix mode; reinforce: the actions taken)",
        },
        "target": INDICES,
        "classes": {
            "description": "class names, in column order",
            "type": ["array", "string"],
            "items": {"type": ["string", "number"], "maxLength": MAX_NAME},
        },
        "clip": _ranged(
            "clip probabilities into [clip, 1 − clip]", exclusiveMinimum=0, exclusiveMaximum=0.5
        ),
        "label_smoothing": _ranged("ε in [0, 1)", minimum=0, exclusiveMaximum=1),
        "margin": {**NUMBER, "description": "the hinge margin (default 1)"},
        "squared": FLAG,
        "scores": {**MATRIX, "description": "multi-class hinge: one row of scores per target"},
        "multiclass": _enum(MULTICLASS, "the multi-class hinge rule"),
        "ignore_index": {
            "type": ["integer", "string"],
            "pattern": NUMBER_TEXT,
            "description": "the padding class",
        },
        "rewards": {**VECTOR, "description": "the rewards R_t"},
        "gamma": _ranged("discount in [0, 1] for reward-to-go", minimum=0, maximum=1),
        "returns": _enum(RETURNS, "the returns A_t start from"),
        "baseline": {
            "type": ["number", "string"],
            # text is mean (in any case), or a number written as text
            "pattern": f"^(?:\\s*[mM][eE][aA][nN]\\s*|{_NUMBER})$",
            "description": "a number or mean",
        },
        "normalize": FLAG,
        "label": {
            "type": ["string", "array", "integer"],
            "items": SYMBOLS["items"],
            "description": "the label: a string of symbols, or a list",
        },
        "blank": {
            "type": "string",
            "minLength": 1,
            "maxLength": MAX_NAME,
            "description": "the blank symbol (default -)",
        },
        "probabilities": {
            "description": "lecture mode: each symbol's value, every frame",
            "type": ["object", "string"],
            "pattern": PAIRS_TEXT,
            "additionalProperties": NUMBER,
        },
        "alignments": {
            "description": "lecture mode: the listed paths",
            "type": "array",
            "items": ALIGNMENT,
        },
        "frames": {
            "type": ["integer", "string"],
            "pattern": NUMBER_TEXT,
            "minimum": 1,
            "description": "T for the exact sum",
        },
        "alphabet": {**SYMBOLS, "description": "matrix mode: the symbols of the columns"},
        "method": _enum(METHODS, "which CTC loss is the answer"),
        "trellis": FLAG,
        "grad": FLAG,
        "terms": {
            "type": "array",
            "minItems": 1,
            "items": {"$ref": "#/$defs/term"},
            "description": "the weighted terms of a custom loss",
        },
    }


def _loss_schema(loss: str, *, term: bool) -> dict[str, Any]:
    """Return the keys of one loss (a problem's, or a custom term's), and no others."""
    keys = key_schemas()
    allowed = [
        k for k in (*COMMON_KEYS, *LOSS_KEYS[loss]) if not (term and k in ("expected", "tolerance"))
    ]
    properties = {k: _nullable(keys[k]) for k in allowed}
    properties["loss"] = {"enum": _names(loss), "description": keys["loss"]["description"]}
    if "reduction" in properties:
        reduction = _enum(_reductions(loss, term=term), keys["reduction"]["description"])
        properties["reduction"] = _nullable(reduction)
        if loss in DEFAULT_REDUCTION or loss == "ctc":
            properties["reduction"]["default"] = DEFAULT_REDUCTION.get(loss, "sum")
    if loss not in LOG_BASE_LOSSES:
        properties.pop("log_base", None)
    if term:
        properties["weight"] = {**NUMBER, "description": "the term's weight (default 1)"}
        properties["name"] = {"type": ["string", "number"], "description": "the term's name"}
    return {
        "title": f"{loss} term" if term else loss,
        "type": "object",
        "properties": properties,
        "required": ["loss"],
        "additionalProperties": False,
    }


def _dispatch(*, term: bool) -> dict[str, Any]:
    """Return a problem (or a custom term) that takes the keys of the loss it names.

    Each loss is an `if` on the `loss` key and a `then` of its keys: a validator reports the
    errors of the named loss alone, and an unknown loss as the list of losses."""
    suffix = "-term" if term else ""
    names = [name for loss in LOSSES for name in _names(loss)]
    return {
        "type": "object",
        "properties": {
            "loss": {"enum": names, "description": f"the loss: one of {', '.join(LOSSES)}"}
        },
        "required": ["loss"],
        "allOf": [
            {
                "if": {"properties": {"loss": {"enum": _names(loss)}}, "required": ["loss"]},
                "then": {"$ref": f"#/$defs/{loss}{suffix}"},
            }
            for loss in LOSSES
        ],
    }


def schema() -> dict[str, Any]:
    """Return the JSON Schema of a problem file: one problem, or a `problems:` list."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "rnnloss.schema.json",
        "title": "rnnloss problem file",
        "description": (
            "One problem, or a mapping with a `problems:` list (several YAML documents "
            f"separated by --- are each one of these). Custom losses nest at most "
            f"{MAX_CUSTOM_DEPTH} deep; alignment keys: {', '.join(ALIGNMENT_KEYS)}."
        ),
        "if": {"type": "object", "required": ["problems"]},
        "then": {"$ref": "#/$defs/problem-list"},
        "else": {"$ref": "#/$defs/problem"},
        "$defs": {
            "problem-list": {
                "description": "several problems (nothing else at the top level)",
                "type": "object",
                "properties": {
                    "problems": {
                        "type": "array",
                        "minItems": 1,
                        "items": {"$ref": "#/$defs/problem"},
                    }
                },
                "required": ["problems"],
                "additionalProperties": False,
            },
            "problem": _dispatch(term=False),
            "term": _dispatch(term=True),
            **{loss: _loss_schema(loss, term=False) for loss in LOSSES},
            **{f"{loss}-term": _loss_schema(loss, term=True) for loss in LOSSES},
        },
    }
