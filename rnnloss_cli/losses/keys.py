"""Keys that several losses share, worded once: each loss takes them as they are or
with its own --help line (`YHAT.with_help("Real scores, e.g. 0.8,-0.5,0.3.")`)."""

from __future__ import annotations

from rnnloss_cli.losses import Key

SCHEMA_FILE = "rnnloss.schema.json"

REDUCTIONS = ("mean", "sum", "none")
LOG_BASES = ("e", "2", "10")

Y = Key("y", "array", "targets")
YHAT = Key(
    "yhat",
    "array",
    "predictions (probabilities, or scores for hinge)",
    help="Predictions, e.g. 0.8,-0.5,0.3 (rows split by ;).",
)
LOGITS = Key(
    "logits",
    "array",
    "logits instead of yhat (sigmoid/softmax applied)",
    help="Logits instead of --yhat (softmax applied).",
)
LOG_PROBS = Key(
    "log_probs",
    "array",
    "log-probabilities instead of yhat",
    help="Log-probabilities instead of the probabilities.",
)
PROBS = Key("probs", "array", "probabilities (ctc matrix mode; reinforce: the actions taken)")
TARGET = Key(
    "target",
    "indices",
    "class indices (0-based) or class names; a row per sequence for a batch",
    help="Class indices (0-based) or names, e.g. 0,2.",
)
CLASSES = Key("classes", "names", "class names, in column order", help="Class names, e.g. cat,dog.")
CLIP = Key(
    "clip",
    "number",
    "clip probabilities into [clip, 1 − clip]",
    help="Clip probabilities into [EPS, 1 − EPS].",
    bounds={"exclusiveMinimum": 0, "exclusiveMaximum": 0.5},
)


def reduction(
    default: str, choices: tuple[str, ...] = REDUCTIONS, help: str = "mean, sum or none."
) -> Key:
    """Return the `reduction` key of a loss whose default is `default`."""
    return Key(
        "reduction",
        "choice",
        "how the terms are reduced",
        help=help,
        default=default,
        choices=choices,
    )


LOG_BASE = Key(
    "log_base",
    "choice",
    "the logarithm's base",
    help="e (default), 2 or 10.",
    default="e",
    choices=LOG_BASES,
)


def template(body: str) -> str:
    """Return a `new` template: the schema line, then the commented problem."""
    return f"# yaml-language-server: $schema={SCHEMA_FILE}\n{body.lstrip()}"


def classification(*, label_smoothing: bool) -> tuple[Key, ...]:
    """Return the keys of nll and cce, in the order of their flags. The two commands show
    the same flags; nll refuses label smoothing (it takes one class per observation)."""
    return (
        TARGET,
        Y.with_help("One-hot (or, for cce, soft) rows instead of --target."),
        YHAT.with_help("Probability rows, e.g. '0.7,0.2,0.1;0.1,0.8,0.1'."),
        LOGITS,
        LOG_PROBS,
        CLASSES,
        Key(
            "label_smoothing",
            "number",
            "ε in [0, 1)",
            help="cce only: ε in [0, 1).",
            default=0.0,
            bounds={"minimum": 0, "exclusiveMaximum": 1},
            taken=label_smoothing,
        ),
        reduction("sum"),
        LOG_BASE,
        CLIP,
    )


CLASSIFICATION_EXAMPLE = "--target 0,2 --yhat '0.7,0.2,0.1;0.1,0.3,0.6'"

GRAD = Key(
    "grad",
    "flag",
    "show the gradient of the answer with respect to the predictions as given",
    help="Show the gradient of the answer with respect to the predictions.",
    default=False,
)
