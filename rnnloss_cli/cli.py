"""The command line: parse flags, hand files or flags to the problem layer, print the working.

This module is thin on purpose. It imports only Typer at start-up; numpy, YAML and Rich
are imported inside the commands that need them, so `rnnloss --version` and an inline
calculation pay only for what they use.
"""

from __future__ import annotations

import functools
import inspect
import sys
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from rnnloss_cli import __version__

EPILOG_SOLVE = (
    "Examples:\n\n"
    "  rnnloss solve problems/\n\n"
    "  rnnloss solve problems/ --details\n\n"
    "  rnnloss solve a.yaml b.yaml --json"
)


class OneLineGroup(TyperGroup):
    """Every usage error ends as one line on standard error and exit status 2."""

    def main(self, *args: Any, standalone_mode: bool = True, **kwargs: Any) -> Any:
        try:
            rv = super().main(*args, standalone_mode=False, **kwargs)
        except typer.TyperException as exc:
            if type(exc).__name__ == "NoArgsIsHelpError":  # bare `rnnloss`: the help, plainly
                typer.echo(exc.format_message())
                sys.exit(0)
            typer.echo(f"rnnloss: {_usage_message(exc)}", err=True)
            sys.exit(2)
        except (typer.Abort, KeyboardInterrupt):
            typer.echo("rnnloss: interrupted", err=True)
            sys.exit(130)
        except BrokenPipeError:
            # The reader went away (`rnnloss … | head`): not an error of ours.
            sys.stderr.close()
            sys.exit(0)
        except OSError as exc:  # standard output cannot be written: a full disk, say
            from rnnloss_cli.streams import cannot_write

            sys.exit(cannot_write(exc))
        sys.exit(rv if isinstance(rv, int) else 0)


def _usage_message(exc: Any) -> str:
    """Return a usage error and what to do about it: which commands take an unknown option
    (class names given to bce belong to cce: that, not Typer's guess at a near option of
    bce), or what `solve` wants when it is given nothing."""
    ctx = getattr(exc, "ctx", None)
    command_name = getattr(ctx, "info_name", None)
    option = getattr(exc, "option_name", None)
    if option is not None:
        owners = [
            name
            for name, command in typer.main.get_command(build_app()).commands.items()  # type: ignore[attr-defined]
            if not command.hidden and any(option in p.opts for p in command.params)
        ]
        from rnnloss_cli.problems import ALIASES, belongs_elsewhere, key_takers

        owners = key_takers(option, owners)  # not a command that has it only to refuse it
        if not owners:
            return exc.format_message()

        loss = ALIASES.get(command_name, command_name)
        hint = belongs_elsewhere(loss, option, owners, written=command_name, flag=True)
        # Typer's "(Possible options: --log-base)" names a near option of this command:
        # beside where the option really belongs, it misleads.
        return f"No such option: {option} ({hint})"
    return f"{exc.format_message()}{_usage_hint(exc)}"


def _usage_hint(exc: Exception) -> str:
    """Return what `solve` wants when it is given nothing."""
    ctx = getattr(exc, "ctx", None)
    command_name = getattr(ctx, "info_name", None)
    if command_name == "solve" and type(exc).__name__ == "MissingParameter":
        from rnnloss_cli.loader import stdin_holds_input

        if stdin_holds_input():  # `cat p.yaml | rnnloss solve`: `-` was left out
            return " (standard input is not read without -: run `rnnloss solve -`)"
        return (
            " (give problem files or folders, e.g. `rnnloss solve problems/`; - reads "
            "standard input)"
        )
    return ""


APP_SETTINGS: dict[str, Any] = dict(
    cls=OneLineGroup,
    name="rnnloss",
    help=(
        "A calculator for the loss functions used to train recurrent neural networks, "
        "with the working shown step by step."
    ),
    epilog="Example: rnnloss hinge --y 1,-1,1 --yhat 0.8,-0.5,0.3",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)
# Every command as registered: its name, a function that builds it, and its settings.
# `main` builds an app of the one command asked for, since Typer reads the signature of
# every command an app holds on each run; `app` (all of them) is built on first use.
COMMANDS: list[tuple[str, Callable[[], Any], dict[str, Any]]] = []


def command(name: str | None = None, **settings: Any) -> Any:
    """Register a command: `@command()` over a function, or `command(n)(f)`."""

    def register(function: Any) -> Any:
        COMMANDS.append((name or function.__name__, lambda: function, settings))
        return function

    return register


def build_app(only: str | None = None) -> typer.Typer:
    """Return the Typer app of every command, or of the command named `only`."""
    built = typer.Typer(**APP_SETTINGS)
    built.callback()(_root)
    for name, build, settings in COMMANDS:
        if only is None or name == only:
            built.command(name, **settings)(build())
    return built


def __getattr__(name: str) -> Any:
    """`app`, the app of every command (for Typer's test runner), built on first use."""
    if name == "app":
        globals()["app"] = built = build_app()
        return built
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"rnnloss {__version__}")
        raise typer.Exit()


def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", help="Print the version and exit.", callback=_version, is_eager=True
        ),
    ] = False,
) -> None:
    """A calculator for the loss functions used to train recurrent neural networks."""


# --- options shared by the solving commands -------------------------------------------

FileArg = Annotated[
    str | None,
    typer.Argument(
        help="A problem file (YAML); - reads standard input. Omit it to give the inputs as flags.",
        show_default=False,
    ),
]
JsonOpt = Annotated[
    bool,
    typer.Option("--json", help="Print only the result as JSON, for scripts (= --format json)."),
]
FormatOpt = Annotated[
    str | None,
    typer.Option(
        "--format",
        help="rich (the working; default), markdown (a solutions document), json, latex (a "
        "solutions document), questions (a question sheet, Markdown) or questions-latex.",
        show_default=False,
    ),
]
SvgOpt = Annotated[
    str | None,
    typer.Option(
        "--svg",
        help="Also save the working as an SVG picture in this file (- prints the SVG instead).",
        show_default=False,
    ),
]
FORMATS = ("rich", "markdown", "json", "latex", "questions", "questions-latex")
LatexBodyOpt = Annotated[
    bool,
    typer.Option(
        "--latex-body",
        help="With --format latex or questions-latex: only the body, to \\input into notes.",
    ),
]
TitleOpt = Annotated[str | None, typer.Option("--title", help="A line shown above the working.")]
ExpectedOpt = Annotated[
    str | None, typer.Option("--expected", help="The answer key to check the value against.")
]
ToleranceOpt = Annotated[
    str | None,
    typer.Option(
        "--tolerance",
        help="Absolute tolerance for --expected (default: half a unit in its last decimal place).",
    ),
]
ReductionOpt = Annotated[
    str | None, typer.Option("--reduction", help="mean, sum or none.", show_default=False)
]
LogBaseOpt = Annotated[
    str | None, typer.Option("--log-base", help="e (default), 2 or 10.", show_default=False)
]
YhatOpt = Annotated[
    str | None, typer.Option("--yhat", help="Predictions, e.g. 0.8,-0.5,0.3 (rows split by ;).")
]
LogitsOpt = Annotated[
    str | None, typer.Option("--logits", help="Logits instead of --yhat (softmax applied).")
]
LogProbsOpt = Annotated[
    str | None,
    typer.Option("--log-probs", help="Log-probabilities instead of the probabilities."),
]
TargetOpt = Annotated[
    str | None, typer.Option("--target", help="Class indices (0-based) or names, e.g. 0,2.")
]
ClassesOpt = Annotated[str | None, typer.Option("--classes", help="Class names, e.g. cat,dog.")]
ClipOpt = Annotated[
    str | None, typer.Option("--clip", help="Clip probabilities into [EPS, 1 − EPS].")
]


# The options every solving command takes, after its own (`solving` appends them).
COMMON_OPTIONS: tuple[tuple[str, Any, Any], ...] = (
    ("title", TitleOpt, None),
    ("expected", ExpectedOpt, None),
    ("tolerance", ToleranceOpt, None),
    ("as_json", JsonOpt, False),
    ("output_format", FormatOpt, None),
    ("svg", SvgOpt, None),
    ("latex_body", LatexBodyOpt, False),
)


def solving(loss: str, declaration: Any) -> Any:
    """Return the command for `loss`: the declared parameters (the file and the loss's own
    flags, each named as the problem key it sets) plus COMMON_OPTIONS, solved by `_run`.

    The declaration only states the signature and the help; Typer reads the signature of
    the returned function, so the shared options are written once.
    """
    hints = typing.get_type_hints(declaration, include_extras=True)
    own = [
        parameter.replace(annotation=hints[parameter.name])
        for parameter in inspect.signature(declaration).parameters.values()
    ]
    shared = [
        inspect.Parameter(
            name, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=default, annotation=annotation
        )
        for name, annotation, default in COMMON_OPTIONS
    ]

    def command(**flags: Any) -> None:
        _run(loss, flags)

    parameters = [*own, *shared]
    command.__name__ = declaration.__name__
    command.__doc__ = declaration.__doc__
    command.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    command.__annotations__ = {p.name: p.annotation for p in parameters} | {"return": None}
    return command


def _run(loss: str, flags: dict[str, Any]) -> None:
    """Solve one command's problem(s) from a file or from flags, print, and exit."""
    from rnnloss_cli import output

    file = flags.pop("file")
    options = _output_options(
        flags.pop("as_json"),
        flags.pop("output_format"),
        flags.pop("svg"),
        bool(flags.pop("details", False)),
        flags.pop("latex_body"),
    )
    overrides = {k: v for k, v in flags.items() if v is not None and v is not False}
    raise typer.Exit(output.run_command(loss, file, overrides, options))


def _output_options(
    as_json: bool,
    output_format: str | None,
    svg: str | None,
    details: bool,
    latex_body: bool = False,
) -> Any:
    """Return the printing options; --json and --format must agree, --svg needs the working."""
    from rnnloss_cli import output

    chosen = (output_format or ("json" if as_json else "rich")).strip().lower()
    if chosen not in FORMATS:
        raise typer.BadParameter(
            f"must be one of {', '.join(FORMATS)}, got {output_format!r}",
            param_hint="--format",
        )
    if as_json and chosen != "json":
        raise typer.BadParameter(
            f"--json asks for json, --format for {chosen}: give one", param_hint="--format"
        )
    if svg is not None and svg != "-":  # `-`: the SVG to standard output
        if not svg.strip() or not Path(svg).parent.is_dir():
            raise typer.BadParameter(
                f"cannot write {svg!r}: name a file in an existing folder", param_hint="--svg"
            )
        if Path(svg).is_dir():
            raise typer.BadParameter(
                f"{svg!r} is a folder: name the SVG file to write", param_hint="--svg"
            )
    if svg and chosen != "rich":
        raise typer.BadParameter(
            f"saves the Rich working: use it without --json or --format {chosen}",
            param_hint="--svg",
        )
    if latex_body and chosen not in ("latex", "questions-latex"):
        raise typer.BadParameter(
            f"is for --format latex or questions-latex, not {chosen}", param_hint="--latex-body"
        )
    return output.OutputOptions(format=chosen, svg=svg, details=details, latex_body=latex_body)


def _register(
    name: str, declaration: Any, *, example: str, short: str, aliases: tuple[str, ...] = ()
) -> None:
    """Add a solving command, its help with examples, and its hidden aliases."""
    build = functools.cache(lambda: solving(name, declaration))
    alias_note = f" Alias: {', '.join(aliases)}." if aliases else ""
    settings = {
        "help": f"{declaration.__doc__}{alias_note}",
        "short_help": short,
        "epilog": (
            f"Examples:\n\n  rnnloss {name} {example}\n\n  rnnloss {name} problem.yaml --json"
        ),
    }
    COMMANDS.append((name, build, settings))
    for alias in aliases:
        help_text = f"Alias of {name}: {declaration.__doc__}"
        COMMANDS.append((alias, build, {"hidden": True, "help": help_text}))


def _mse(
    file: FileArg = None,
    y: Annotated[str | None, typer.Option("--y", help="Real targets, e.g. 3,5,2.5.")] = None,
    yhat: YhatOpt = None,
    reduction: ReductionOpt = None,
) -> None:
    """Mean squared error (1/n) Σ (y − ŷ)²; default reduction mean."""


def _bce(
    file: FileArg = None,
    y: Annotated[
        str | None, typer.Option("--y", help="Targets in [0, 1] (0/1 labels), e.g. 1,0,1.")
    ] = None,
    yhat: Annotated[
        str | None, typer.Option("--yhat", help="Predicted probabilities, e.g. 0.9,0.2,0.6.")
    ] = None,
    logits: Annotated[
        str | None, typer.Option("--logits", help="Logits instead of --yhat (sigmoid applied).")
    ] = None,
    reduction: ReductionOpt = None,
    log_base: LogBaseOpt = None,
    clip: ClipOpt = None,
) -> None:
    """Binary cross-entropy −[y log ŷ + (1 − y) log(1 − ŷ)]; default reduction mean."""


CLASSIFICATION_HELP = {
    "nll": "Negative log-likelihood −Σ y log ŷ over one-hot targets (class indices or names); "
    "default reduction sum, the lecture's formula.",
    "cce": "Categorical cross-entropy −Σᵢ Σ_c yᵢ,c log ŷᵢ,c, with soft labels and label "
    "smoothing; default reduction sum, the lecture's formula.",
}


def _classification(loss: str) -> Any:
    def command(
        file: FileArg = None,
        target: TargetOpt = None,
        y: Annotated[
            str | None,
            typer.Option("--y", help="One-hot (or, for cce, soft) rows instead of --target."),
        ] = None,
        yhat: Annotated[
            str | None,
            typer.Option("--yhat", help="Probability rows, e.g. '0.7,0.2,0.1;0.1,0.8,0.1'."),
        ] = None,
        logits: LogitsOpt = None,
        log_probs: LogProbsOpt = None,
        classes: ClassesOpt = None,
        label_smoothing: Annotated[
            str | None, typer.Option("--label-smoothing", help="cce only: ε in [0, 1).")
        ] = None,
        reduction: ReductionOpt = None,
        log_base: LogBaseOpt = None,
        clip: ClipOpt = None,
    ) -> None: ...

    command.__doc__ = CLASSIFICATION_HELP[loss]
    return command


def _hinge(
    file: FileArg = None,
    y: Annotated[str | None, typer.Option("--y", help="Labels −1 or +1, e.g. 1,-1,1.")] = None,
    yhat: Annotated[
        str | None, typer.Option("--yhat", help="Real scores, e.g. 0.8,-0.5,0.3.")
    ] = None,
    margin: Annotated[str | None, typer.Option("--margin", help="The margin (default 1).")] = None,
    target: Annotated[
        str | None, typer.Option("--target", help="Multi-class: class indices or names.")
    ] = None,
    scores: Annotated[
        str | None, typer.Option("--scores", help="Multi-class: score rows, split by ;.")
    ] = None,
    multiclass: Annotated[
        str | None,
        typer.Option("--multiclass", help="crammer-singer (default) or weston-watkins."),
    ] = None,
    classes: ClassesOpt = None,
    squared: Annotated[bool, typer.Option("--squared", help="Square each term.")] = False,
    reduction: ReductionOpt = None,
) -> None:
    """Hinge loss max(0, margin − y·ŷ) per element or time step; default reduction mean."""


_register("mse", _mse, example="--y 3,5,2.5 --yhat 2.5,5,4", short="Mean squared error.")
_register(
    "bce",
    _bce,
    example="--y 1,0,1 --yhat 0.9,0.2,0.6",
    short="Binary cross-entropy (alias: cross-entropy).",
    aliases=("cross-entropy",),
)
_CLASSES = "--target 0,2 --yhat '0.7,0.2,0.1;0.1,0.3,0.6'"
_register("nll", _classification("nll"), example=_CLASSES, short="Negative log-likelihood.")
_register(
    "cce",
    _classification("cce"),
    example=_CLASSES,
    short="Categorical cross-entropy (alias: categorical-cross-entropy).",
    aliases=("categorical-cross-entropy",),
)
_register(
    "hinge",
    _hinge,
    example="--y 1,-1,1 --yhat 0.8,-0.5,0.3",
    short="Hinge loss per element or time step (alias: sequence-hinge).",
    aliases=("sequence-hinge",),
)


def _ctc(
    file: FileArg = None,
    label: Annotated[
        str | None,
        typer.Option(
            "--label", help="The label, e.g. HELLO (or 'th e' for multi-character symbols)."
        ),
    ] = None,
    blank: Annotated[
        str | None, typer.Option("--blank", help="The blank symbol (default -).")
    ] = None,
    probabilities: Annotated[
        str | None,
        typer.Option(
            "--probabilities",
            help="Lecture mode: per-symbol values, e.g. 'H=0.6,E=0.5,L=0.7,O=0.8,-=0.2'.",
        ),
    ] = None,
    alignments: Annotated[
        list[str] | None,
        typer.Option(
            "--alignment",
            help="A listed alignment (repeat the "
            "flag), e.g. H-E-L-L-O, or PATH=f1,f2,… with stated "
            "factors.",
        ),
    ] = None,
    frames: Annotated[
        str | None, typer.Option("--frames", help="T for the exact computation.")
    ] = None,
    alphabet: Annotated[
        str | None,
        typer.Option(
            "--alphabet", help="Matrix mode: the symbols of the matrix columns, e.g. '-,a,c,t'."
        ),
    ] = None,
    probs: Annotated[
        str | None,
        typer.Option("--probs", help="Matrix mode: T × V probabilities, rows split by ;."),
    ] = None,
    log_probs: Annotated[
        str | None,
        typer.Option(
            "--log-probs", help="Matrix mode: T × V log-probabilities instead of --probs."
        ),
    ] = None,
    logits: Annotated[
        str | None,
        typer.Option("--logits", help="Matrix mode: T × V logits (log-softmax applied)."),
    ] = None,
    method: Annotated[
        str | None,
        typer.Option(
            "--method",
            help="Which loss is the answer: listed (the lecture's sum of the listed "
            "alignments), valid, exact, or normalized (lecture mode: the exact loss with each "
            "value divided by their sum).",
        ),
    ] = None,
    reduction: Annotated[
        str | None,
        typer.Option(
            "--reduction",
            help="sum (−log p, the lecture's; default) or mean (÷ the label length, as "
            "torch's ctc_loss).",
            show_default=False,
        ),
    ] = None,
    trellis: Annotated[bool, typer.Option("--trellis", help="Show the alpha table.")] = False,
    grad: Annotated[
        bool, typer.Option("--grad", help="Matrix mode: the gradient with respect to the logits.")
    ] = False,
    log_base: LogBaseOpt = None,
) -> None:
    """Connectionist temporal classification: the lecture's listed alignments beside the exact
    forward-algorithm sum over every alignment."""


_register(
    "ctc",
    _ctc,
    example="--label HELLO --probabilities 'H=0.6,E=0.5,L=0.7,O=0.8,-=0.2' "
    "--alignment H-E-L-L-O --alignment HE-L-L-O",
    short="CTC loss: listed alignments and the exact sum.",
)


def _sequence(
    file: FileArg = None,
    target: Annotated[
        str | None,
        typer.Option(
            "--target", help="Target class per time step (indices or names); sequences split by ;."
        ),
    ] = None,
    yhat: Annotated[
        str | None,
        typer.Option("--yhat", help="Probability rows per step, split by ; (sequences by |)."),
    ] = None,
    log_probs: LogProbsOpt = None,
    logits: Annotated[
        str | None, typer.Option("--logits", help="Logits instead of --yhat (softmax applied).")
    ] = None,
    classes: ClassesOpt = None,
    ignore_index: Annotated[
        str | None, typer.Option("--ignore-index", help="The padding index, left out.")
    ] = None,
    reduction: ReductionOpt = None,
    log_base: LogBaseOpt = None,
) -> None:
    """Sequence cross-entropy −Σₜ log ŷ[t, targetₜ] over the unpadded steps, with
    perplexity; default reduction sum (the lecture's formula)."""


def _reinforce(
    file: FileArg = None,
    rewards: Annotated[str | None, typer.Option("--rewards", help="Rewards per step.")] = None,
    probs: Annotated[
        str | None, typer.Option("--probs", help="π of each action taken, per step.")
    ] = None,
    log_probs: Annotated[
        str | None, typer.Option("--log-probs", help="log π of each action, instead of --probs.")
    ] = None,
    gamma: Annotated[str | None, typer.Option("--gamma", help="Discount (default 1).")] = None,
    returns: Annotated[
        str | None, typer.Option("--returns", help="as-given (default) or reward-to-go.")
    ] = None,
    baseline: Annotated[str | None, typer.Option("--baseline", help="A number, or mean.")] = None,
    normalize: Annotated[
        bool, typer.Option("--normalize", help="Standardise the returns as PyTorch's example.")
    ] = False,
    reduction: ReductionOpt = None,
    log_base: LogBaseOpt = None,
) -> None:
    """REINFORCE loss −Σₜ Aₜ log π(yₜ | sₜ): the negative of the lecture's objective
    Σₜ Rₜ log π, to minimise; default reduction sum."""


def _custom(
    file: Annotated[
        str,
        typer.Argument(
            help="A problem file (YAML) with terms; - reads standard input.", show_default=False
        ),
    ],
    details: Annotated[
        bool, typer.Option("--details", help="Show each term's own working too.")
    ] = False,
) -> None:
    """Custom loss Σᵢ wᵢ·Lᵢ: weighted terms, each a complete problem of any loss."""


_register(
    "sequence",
    _sequence,
    example="--target 1,2,0 --yhat '0.1,0.7,0.2;0.2,0.2,0.6;0.5,0.3,0.2'",
    short="Sequence cross-entropy with padding and perplexity (alias: seq).",
    aliases=("seq",),
)
_register(
    "reinforce",
    _reinforce,
    example="--rewards 0,0,1 --probs 0.5,0.4,0.9 --returns reward-to-go --gamma 0.9",
    short="REINFORCE policy-gradient loss (alias: rl).",
    aliases=("rl",),
)
_register(
    "custom",
    _custom,
    example="problems/custom_ctc_sequence.yaml --details",
    short="Weighted sum of losses, each a complete problem.",
)


@command(epilog=EPILOG_SOLVE, short_help="Solve every problem in files and folders.")
def solve(
    paths: Annotated[
        list[str],
        typer.Argument(
            help="Problem files and folders (searched recursively for *.yaml, "
            "*.yml); - reads standard input.",
            show_default=False,
        ),
    ],
    details: Annotated[
        bool, typer.Option("--details", help="Show each problem's working too.")
    ] = False,
    as_json: JsonOpt = False,
    output_format: FormatOpt = None,
    svg: SvgOpt = None,
    latex_body: LatexBodyOpt = False,
) -> None:
    """Solve every problem in files and folders: a summary table and a line of totals."""
    from rnnloss_cli import output

    options = _output_options(as_json, output_format, svg, details, latex_body)
    raise typer.Exit(output.run_solve(paths, options))


LossArg = Annotated[str, typer.Argument(help="A loss name or alias.", show_default=False)]


@command(
    short_help="What each loss is, its formula, conventions and pitfalls.",
    epilog="Examples:\n\n  rnnloss explain\n\n  rnnloss explain ctc",
)
def explain(
    loss: Annotated[
        str | None,
        typer.Argument(
            help="A loss name or alias; omit it for the table of every loss.", show_default=False
        ),
    ] = None,
) -> None:
    """Explain a loss: definition, formula, when to use it, this tool's conventions, the
    lecture's pitfalls and the bundled problem that shows it. Without a loss, list them."""
    from rnnloss_cli import output
    from rnnloss_cli.render import explain as render

    entry = _catalog_entry(loss) if loss is not None else None
    printer = output.Printer(output.OutputOptions())
    printer.print(render.one(entry) if entry is not None else render.overview())


def _catalog_entry(loss: str) -> Any:
    from rnnloss_cli.catalog import LOSSES, find

    entry = find(loss)
    if entry is None:
        raise typer.BadParameter(
            f"unknown loss {loss!r}; choose one of {', '.join(LOSSES)}", param_hint="LOSS"
        )
    return entry


@command(
    short_help="Print a commented problem template that solves as it stands.",
    epilog="Example:\n\n  rnnloss new ctc > p.yaml && rnnloss ctc p.yaml",
)
def new(loss: LossArg) -> None:
    """Print a commented YAML problem for LOSS that solves as it stands; its first line
    points editors at the schema (rnnloss schema > rnnloss.schema.json)."""
    from rnnloss_cli.streams import write

    write(_catalog_entry(loss).template)


@command(
    short_help="Print the JSON Schema of problem files.",
    epilog="Example:\n\n  rnnloss schema > rnnloss.schema.json",
)
def schema() -> None:
    """Print the JSON Schema (draft 2020-12) of the problem-file format, generated from the
    validator's own definitions."""
    import json

    from rnnloss_cli.schema import schema as build
    from rnnloss_cli.streams import write

    write(json.dumps(build(), indent=2, ensure_ascii=False) + "\n")


def main() -> None:
    """The console script `rnnloss`: with a command named, an app of that command alone."""
    chosen = sys.argv[1] if len(sys.argv) > 1 else None
    if sys.argv[1:] == ["--version"]:  # answered before Typer builds any command
        print(f"rnnloss {__version__}")
        return
    known = any(chosen == name for name, _, _ in COMMANDS)
    build_app(chosen if known else None)(prog_name="rnnloss")
