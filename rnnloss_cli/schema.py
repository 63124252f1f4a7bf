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

from rnnloss_cli import losses
from rnnloss_cli.losses import Key
from rnnloss_cli.losses.custom import MAX_CUSTOM_DEPTH
from rnnloss_cli.problems import COMMON_KEYS, LOSSES, MAX_TITLE
from rnnloss_cli.problems.ctc import ALIGNMENT_KEYS
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
    return [loss, *losses.get(loss).aliases]


# The schema of a key's value, by the kind its Key declares (losses/__init__.py).
KINDS: dict[str, dict[str, Any]] = {
    "vector": VECTOR,
    "matrix": MATRIX,
    "array": ARRAY,
    "indices": INDICES,
    "symbols": SYMBOLS,
    "flag": FLAG,
}


def key_schema(key: Key) -> dict[str, Any]:
    """Return the schema of one key's value, from its kind, bounds and choices."""
    kind, description = key.kind, key.description
    if kind == "flag" and key.choices:  # true, false, or a word the flag takes (`all`)
        return _enum((True, False, "true", "false", *key.choices), description)
    if kind in KINDS:
        return {**KINDS[kind], "description": description}
    if kind == "choice":  # choices that are whole numbers may be written as YAML integers
        numbers = tuple(int(c) for c in key.choices if c.isdigit())
        return _enum((*key.choices, *numbers), description)
    if kind == "number":
        if key.bounds:
            return _ranged(description, **key.bounds)
        return {**NUMBER, "description": description}
    if kind == "integer":
        return {
            "type": ["integer", "string"],
            "pattern": NUMBER_TEXT,
            **(key.bounds or {}),
            "description": description,
        }
    if kind == "number-or-mean":
        return {
            "type": ["number", "string"],
            # text is mean (in any case), or a number written as text
            "pattern": f"^(?:\\s*[mM][eE][aA][nN]\\s*|{_NUMBER})$",
            "description": description,
        }
    if kind == "names":
        return {
            "description": description,
            "type": ["array", "string"],
            "items": {"type": ["string", "number"], "maxLength": MAX_NAME},
        }
    if kind == "label":
        return {
            "type": ["string", "array", "integer"],
            "items": SYMBOLS["items"],
            "description": description,
        }
    if kind == "symbol":
        return {
            "type": "string",
            "minLength": 1,
            "maxLength": MAX_NAME,
            "description": description,
        }
    if kind == "pairs":
        return {
            "description": description,
            "type": ["object", "string"],
            "pattern": PAIRS_TEXT,
            "additionalProperties": NUMBER,
        }
    if kind == "alignments":
        return {"description": description, "type": "array", "items": ALIGNMENT}
    if kind == "problem":  # rnn's output: a problem of another loss, without predictions
        return {
            "type": "object",
            "required": ["loss"],
            "properties": {"loss": {"type": "string"}},
            "description": description,
        }
    if kind == "problems":
        return {
            "type": "array",
            "minItems": 1,
            "items": {"$ref": "#/$defs/term"},
            "description": description,
        }
    raise ValueError(f"key {key.name}: no schema for the kind {kind!r}")


def _common_schemas() -> dict[str, dict[str, Any]]:
    """Return the schemas of the keys every problem may have."""
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
    }


def key_schemas() -> dict[str, dict[str, Any]]:
    """Return a schema for every key any loss takes (the drift test compares the two)."""
    out = _common_schemas()
    for loss in losses.every():
        for key in loss.keys:
            out.setdefault(key.name, key_schema(key))
    return out


def _loss_schema(loss: str, *, term: bool) -> dict[str, Any]:
    """Return the keys of one loss (a problem's, or a custom term's), and no others."""
    declared = losses.get(loss)
    keys = {k.name: k for k in declared.keys if k.taken}
    common = _common_schemas()
    allowed = [k for k in (*COMMON_KEYS, *keys) if not (term and k in ("expected", "tolerance"))]
    properties = {k: _nullable(common[k] if k in common else key_schema(keys[k])) for k in allowed}
    properties["loss"] = {"enum": _names(loss), "description": common["loss"]["description"]}
    reduction = keys.get("reduction")
    if reduction is not None:  # a term's reduction gives a single value: not none
        choices = tuple(c for c in reduction.choices if not (term and c == "none"))
        properties["reduction"] = _nullable(_enum(choices, reduction.description))
        if reduction.default is not None:
            properties["reduction"]["default"] = reduction.default
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
