"""The problem-file format as a JSON Schema (draft 2020-12), for editors and linters.

It is generated from the validator's own vocabulary — which keys each loss takes, the
reductions, log bases, methods and rules — so it cannot drift from what `rnnloss` accepts
(a test checks that every key the validator knows has a schema here). The validator stays
the authority on everything a schema cannot say (shapes that must agree, ranges of
probabilities); the schema gives an editor completion, types and enumerations.
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
from rnnloss_cli.problems.ctc import ALIGNMENT_KEYS, METHODS
from rnnloss_cli.problems.elementwise import MULTICLASS
from rnnloss_cli.problems.sequence import RETURNS
from rnnloss_cli.problems.values import MAX_NAME

NUMBER: dict[str, Any] = {"type": ["number", "string"], "description": "a number"}
VECTOR: dict[str, Any] = {
    "description": 'numbers: a list, or text such as "1,-1,1"',
    "anyOf": [{"type": "array", "items": NUMBER, "minItems": 1}, {"type": "string"}, NUMBER],
}
MATRIX: dict[str, Any] = {
    "description": 'rows of numbers: a list of lists, or text such as "0.7,0.3; 0.2,0.8"',
    "anyOf": [
        {"type": "array", "items": {"anyOf": [VECTOR, {"type": "array"}]}, "minItems": 1},
        {"type": "string"},
    ],
}
ARRAY = {
    "description": "numbers, rows of numbers, or (sequence) a batch of matrices",
    "anyOf": [MATRIX, VECTOR],
}
SYMBOLS = {
    "anyOf": [{"type": "string"}, {"type": "array", "items": {"type": ["string", "integer"]}}]
}
FLAG = {"type": ["boolean", "string"], "description": "true or false"}
INDICES = {
    "description": "class indices (0-based) or class names; a row per sequence for a batch",
    "anyOf": [{"type": "array"}, {"type": ["string", "integer"]}],
}


def _ranged(description: str, **bounds: Any) -> dict[str, Any]:
    """A number within bounds (or text the validator reads as a number)."""
    return {"anyOf": [{"type": "number", **bounds}, {"type": "string"}], "description": description}


def _enum(values: tuple[str, ...], description: str) -> dict[str, Any]:
    return {"enum": list(values), "description": description}


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
        "log_base": {"enum": [*LOG_BASES, 2, 10], "description": "the logarithm's base"},
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
            "anyOf": [
                {"type": "array", "items": {"type": ["string", "number"], "maxLength": MAX_NAME}},
                {"type": "string"},
            ],
        },
        "clip": _ranged(
            "clip probabilities into [clip, 1 − clip]", exclusiveMinimum=0, exclusiveMaximum=0.5
        ),
        "label_smoothing": _ranged("ε in [0, 1)", minimum=0, exclusiveMaximum=1),
        "margin": {**NUMBER, "description": "the hinge margin (default 1)"},
        "squared": FLAG,
        "scores": {**MATRIX, "description": "multi-class hinge: one row of scores per target"},
        "multiclass": _enum(MULTICLASS, "the multi-class hinge rule"),
        "ignore_index": {"type": ["integer", "string"], "description": "the padding class"},
        "rewards": {**VECTOR, "description": "the rewards R_t"},
        "gamma": _ranged("discount in [0, 1] for reward-to-go", minimum=0, maximum=1),
        "returns": _enum(RETURNS, "the returns A_t start from"),
        "baseline": {
            "anyOf": [{"type": "number"}, {"enum": ["mean"]}],
            "description": "a number or mean",
        },
        "normalize": FLAG,
        "label": {
            "anyOf": [*SYMBOLS["anyOf"], {"type": "integer"}],
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
            "anyOf": [{"type": "object", "additionalProperties": NUMBER}, {"type": "string"}],
        },
        "alignments": {
            "description": "lecture mode: the listed paths",
            "type": "array",
            "items": {
                "anyOf": [
                    SYMBOLS,
                    {
                        "type": "object",
                        "properties": {"path": SYMBOLS, "factors": VECTOR},
                        "required": ["path"],
                        "additionalProperties": False,
                    },
                ]
            },
        },
        "frames": {
            "anyOf": [{"type": "integer", "minimum": 1}, {"type": "string"}],
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
    keys = key_schemas()
    names = [loss, *(alias for alias, target in ALIASES.items() if target == loss)]
    allowed = [
        k for k in (*COMMON_KEYS, *LOSS_KEYS[loss]) if not (term and k in ("expected", "tolerance"))
    ]
    # null is "not given" to the validator, so it is allowed for every key but `loss`.
    properties = {k: {"anyOf": [keys[k], {"type": "null"}]} for k in allowed}
    properties["loss"] = {"enum": names, "description": keys["loss"]["description"]}
    if loss in DEFAULT_REDUCTION:
        properties["reduction"] = {
            "anyOf": [keys["reduction"], {"type": "null"}],
            "default": DEFAULT_REDUCTION[loss],
        }
    if loss not in LOG_BASE_LOSSES:
        properties.pop("log_base", None)
    if term:
        properties["weight"] = {**NUMBER, "description": "the term's weight (default 1)"}
        properties["name"] = {"type": ["string", "number"], "description": "the term's name"}
    return {
        "title": loss,
        "type": "object",
        "properties": properties,
        "required": ["loss"],
        "additionalProperties": False,
    }


def schema() -> dict[str, Any]:
    """Return the JSON Schema of a problem file: one problem, or a `problems:` list."""
    problem = {"anyOf": [{"$ref": f"#/$defs/{loss}"} for loss in LOSSES]}
    term = {"anyOf": [_loss_schema(loss, term=True) for loss in LOSSES]}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "rnnloss.schema.json",
        "title": "rnnloss problem file",
        "description": (
            "One problem, or a mapping with a `problems:` list (several YAML documents "
            f"separated by --- are each one of these). Custom losses nest at most "
            f"{MAX_CUSTOM_DEPTH} deep; alignment keys: {', '.join(ALIGNMENT_KEYS)}."
        ),
        "anyOf": [
            {"$ref": "#/$defs/problem"},
            {
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
        ],
        "$defs": {
            "problem": problem,
            "term": term,
            **{loss: _loss_schema(loss, term=False) for loss in LOSSES},
        },
    }
