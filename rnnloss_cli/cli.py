"""The command line: parse flags, hand files or flags to the problem layer, print the working.

This module is thin on purpose. It imports only Typer at start-up; numpy, YAML and Rich
are imported inside the commands that need them, so `rnnloss --version` and an inline
calculation pay only for what they use.
"""

from __future__ import annotations

import sys
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
            typer.echo(f"rnnloss: {exc.format_message()}", err=True)
            sys.exit(2)
        except typer.Abort:
            typer.echo("rnnloss: aborted", err=True)
            sys.exit(1)
        except BrokenPipeError:
            # The reader went away (`rnnloss … | head`): not an error of ours.
            sys.stderr.close()
            sys.exit(0)
        sys.exit(rv if isinstance(rv, int) else 0)


app = typer.Typer(
    cls=OneLineGroup,
    name="rnnloss",
    help=(
        "A calculator for the loss functions used to train recurrent neural networks, "
        "with the working shown step by step."
    ),
    epilog="Example: rnnloss hinge --y 1,-1,1 --yhat 0.8,-0.5,0.3",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"rnnloss {__version__}")
        raise typer.Exit()


@app.callback()
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
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the contract's JSON object only.")]
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
YOpt = Annotated[str | None, typer.Option("--y", help="Targets, e.g. 1,-1,1 (rows split by ;).")]
YhatOpt = Annotated[
    str | None, typer.Option("--yhat", help="Predictions, e.g. 0.8,-0.5,0.3 (rows split by ;).")
]
LogitsOpt = Annotated[str | None, typer.Option("--logits", help="Logits instead of --yhat.")]
LogProbsOpt = Annotated[
    str | None, typer.Option("--log-probs", help="Log-probabilities instead of --yhat.")
]
TargetOpt = Annotated[
    str | None, typer.Option("--target", help="Class indices (0-based) or names, e.g. 0,2.")
]
ClassesOpt = Annotated[str | None, typer.Option("--classes", help="Class names, e.g. cat,dog.")]
ClipOpt = Annotated[
    str | None, typer.Option("--clip", help="Clip probabilities into [EPS, 1 − EPS].")
]


def _run(loss: str, file: str | None, as_json: bool, flags: dict[str, Any]) -> None:
    """Solve one command's problem(s) from a file or from flags, print, and exit."""
    from rnnloss_cli import output

    overrides = {k: v for k, v in flags.items() if v is not None and v is not False}
    raise typer.Exit(output.run_command(loss, file, overrides, as_json=as_json))


def _example(command: str, args: str) -> str:
    return f"Examples:\n\n  rnnloss {command} {args}\n\n  rnnloss {command} problem.yaml --json"


@app.command(epilog=_example("mse", "--y 3,5,2.5 --yhat 2.5,5,4"))
def mse(
    file: FileArg = None,
    y: YOpt = None,
    yhat: YhatOpt = None,
    reduction: ReductionOpt = None,
    title: TitleOpt = None,
    expected: ExpectedOpt = None,
    tolerance: ToleranceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Mean squared error (1/n) Σ (y − ŷ)²; default reduction mean."""
    _run(
        "mse",
        file,
        as_json,
        dict(
            y=y, yhat=yhat, reduction=reduction, title=title, expected=expected, tolerance=tolerance
        ),
    )


def _bce(
    file: FileArg = None,
    y: YOpt = None,
    yhat: YhatOpt = None,
    logits: LogitsOpt = None,
    reduction: ReductionOpt = None,
    log_base: LogBaseOpt = None,
    clip: ClipOpt = None,
    title: TitleOpt = None,
    expected: ExpectedOpt = None,
    tolerance: ToleranceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Binary cross-entropy −[y log ŷ + (1 − y) log(1 − ŷ)]; default reduction mean."""
    _run(
        "bce",
        file,
        as_json,
        dict(
            y=y,
            yhat=yhat,
            logits=logits,
            reduction=reduction,
            log_base=log_base,
            clip=clip,
            title=title,
            expected=expected,
            tolerance=tolerance,
        ),
    )


app.command(
    "bce",
    epilog=_example("bce", "--y 1,0,1 --yhat 0.9,0.2,0.6"),
    help=f"{_bce.__doc__} Alias: cross-entropy.",
)(_bce)
app.command("cross-entropy", hidden=True, help="Alias of bce.")(_bce)


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
        title: TitleOpt = None,
        expected: ExpectedOpt = None,
        tolerance: ToleranceOpt = None,
        as_json: JsonOpt = False,
    ) -> None:
        _run(
            loss,
            file,
            as_json,
            dict(
                target=target,
                y=y,
                yhat=yhat,
                logits=logits,
                log_probs=log_probs,
                classes=classes,
                label_smoothing=label_smoothing,
                reduction=reduction,
                log_base=log_base,
                clip=clip,
                title=title,
                expected=expected,
                tolerance=tolerance,
            ),
        )

    return command


_CCE_EXAMPLE = "--target 0,2 --yhat '0.7,0.2,0.1;0.1,0.3,0.6'"
app.command(
    "nll",
    epilog=_example("nll", _CCE_EXAMPLE),
    help="Negative log-likelihood −Σ y log ŷ over one-hot targets; default reduction "
    "sum (the lecture's formula).",
)(_classification("nll"))
app.command(
    "cce",
    epilog=_example("cce", _CCE_EXAMPLE),
    help="Categorical cross-entropy −Σᵢ Σ_c yᵢ,c log ŷᵢ,c (soft labels and label "
    "smoothing allowed); default reduction sum. Alias: "
    "categorical-cross-entropy.",
)(_classification("cce"))
app.command("categorical-cross-entropy", hidden=True, help="Alias of cce.")(_classification("cce"))


def _hinge(
    file: FileArg = None,
    y: Annotated[str | None, typer.Option("--y", help="Labels −1 or +1, e.g. 1,-1,1.")] = None,
    yhat: Annotated[
        str | None, typer.Option("--yhat", help="Real scores, e.g. 0.8,-0.5,0.3.")
    ] = None,
    margin: Annotated[str | None, typer.Option("--margin", help="The margin (default 1).")] = None,
    squared: Annotated[bool, typer.Option("--squared", help="Square each term.")] = False,
    reduction: ReductionOpt = None,
    title: TitleOpt = None,
    expected: ExpectedOpt = None,
    tolerance: ToleranceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Hinge loss max(0, margin − y·ŷ) per element or time step; default reduction mean."""
    _run(
        "hinge",
        file,
        as_json,
        dict(
            y=y,
            yhat=yhat,
            margin=margin,
            squared=squared,
            reduction=reduction,
            title=title,
            expected=expected,
            tolerance=tolerance,
        ),
    )


app.command(
    "hinge",
    epilog=_example("hinge", "--y 1,-1,1 --yhat 0.8,-0.5,0.3"),
    help=f"{_hinge.__doc__} Alias: sequence-hinge.",
)(_hinge)
app.command("sequence-hinge", hidden=True, help="Alias of hinge.")(_hinge)


@app.command(epilog=EPILOG_SOLVE)
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
) -> None:
    """Solve every problem in files and folders: a summary table and a line of totals."""
    from rnnloss_cli import output

    raise typer.Exit(output.run_solve(paths, details=details, as_json=as_json))


def main() -> None:
    """The console script `rnnloss`."""
    app(prog_name="rnnloss")
