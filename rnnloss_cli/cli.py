"""The command line: parse flags, hand files or flags to the problem layer, print the working.

This module is thin on purpose. It imports only Typer at start-up; numpy, YAML and Rich
are imported inside the commands that need them, so `rnnloss --version` and an inline
calculation pay only for what they use.
"""

from __future__ import annotations

import functools
import inspect
import sys
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

    def main(
        self, args: Any = None, *rest: Any, standalone_mode: bool = True, **kwargs: Any
    ) -> Any:
        args = _bare_decode(list(sys.argv[1:] if args is None else args))
        try:
            rv = super().main(args, *rest, standalone_mode=False, **kwargs)
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


def _bare_decode(args: list[str]) -> list[str]:
    """Return the arguments with `--decode` written alone read as `--decode beam`: when
    nothing follows it, or an option, or a file (`ctc p.yaml --decode`, `--decode p.yaml`).
    Anything else after it is its value (`--decode greedy`; a misspelt one is named)."""
    import os

    out = list(args)
    i = 0
    while i < len(out):
        if out[i] == "--":
            break
        if out[i] == "--decode":
            after = out[i + 1] if i + 1 < len(out) else None
            if after is not None and after.strip().lower() in ("beam", "greedy"):
                out[i + 1] = after.strip().lower()  # --decode Beam, as the key takes it
            elif (
                after is None
                or after.startswith("-")
                or after.lower().endswith((".yaml", ".yml", ".json"))
                or os.path.exists(after)
            ):
                out.insert(i + 1, "beam")
        i += 1
    return out


def _usage_message(exc: Any) -> str:
    """Return a usage error and what to do about it: which commands take an unknown option
    (class names given to bce belong to cce: that, not Typer's guess at a near option of
    bce), or what `solve` wants when it is given nothing."""
    ctx = getattr(exc, "ctx", None)
    command_name = getattr(ctx, "info_name", None)
    option = getattr(exc, "option_name", None)
    if type(exc).__name__ != "NoSuchOption":  # `--y` with no value: click's own words
        option = None
    if option is not None:
        owners = [
            name
            for name, command in typer.main.get_command(build_app()).commands.items()  # type: ignore[attr-defined]
            if not command.hidden and any(option in p.opts for p in command.params)
        ]
        from rnnloss_cli import losses
        from rnnloss_cli.problems import belongs_elsewhere, key_takers

        owners = key_takers(option, owners)  # not a command that has it only to refuse it
        if not owners:
            return exc.format_message()

        loss = losses.canonical(command_name or "")
        if loss is None:  # solve, explain, new…: not a loss, so no loss's own hint
            where = f"it belongs to {', '.join(owners)}"
            if command_name == "solve":
                where += "; for solve, write it as a key in the problem file"
            return f"No such option: {option} ({where})"
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
# The commands other than the losses' (solve, explain, new, schema) as registered: each
# name, a function that builds it, and its settings. The losses' commands come from the
# registry (rnnloss_cli/losses/). `main` builds an app of the one command asked for,
# since Typer reads the signature of every command an app holds on each run; `app` (all
# of them) is built on first use.
COMMANDS: list[tuple[str, Callable[[], Any], dict[str, Any]]] = []


def command(name: str | None = None, **settings: Any) -> Any:
    """Register a command: `@command()` over a function, or `command(n)(f)`."""

    def register(function: Any) -> Any:
        COMMANDS.append((name or function.__name__, lambda: function, settings))
        return function

    return register


def commands(only: str | None = None) -> list[tuple[str, Callable[[], Any], dict[str, Any]]]:
    """Return every command (each loss's, its hidden aliases, then the others), or the
    one named `only`; a loss's command reads only that loss's module."""
    from rnnloss_cli import losses

    if only is not None and only in losses.MODULES:
        return _loss_commands(losses.get(only))[:1]
    if only is not None and only in losses.EXTRA_COMMANDS:
        found = _loss_commands(losses.get(losses.EXTRA_COMMANDS[only]))
        return [c for c in found if c[0] == only]
    everything = [c for loss in losses.every() for c in _loss_commands(loss)] + COMMANDS
    return [c for c in everything if only is None or c[0] == only]


def build_app(only: str | None = None) -> typer.Typer:
    """Return the Typer app of every command, or of the command named `only`."""
    built = typer.Typer(**APP_SETTINGS)
    built.callback()(_root)
    for name, build, settings in commands(only):
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


def _parameter(name: str, annotation: Any, default: Any = inspect.Parameter.empty) -> Any:
    return inspect.Parameter(
        name, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=default, annotation=annotation
    )


def _key_parameter(key: Any) -> Any:
    """Return the command parameter of a key's inline flag, named as the key it sets."""
    if key.kind == "flag" and key.choices:  # a flag written with its value: --alignments all
        option = typer.Option(key.option, help=key.help, metavar="|".join(key.choices).upper())
        return _parameter(key.name, Annotated[str | None, option], None)
    if key.kind == "flag":
        return _parameter(key.name, Annotated[bool, typer.Option(key.option, help=key.help)], False)
    kind = list[str] if key.repeated else str  # a repeated flag (--alignment) is a list
    option = typer.Option(key.option, help=key.help)
    return _parameter(key.name, Annotated[kind | None, option], None)  # type: ignore[valid-type]


def solving(
    loss: Any,
    name: str | None = None,
    defaults: dict[str, Any] | None = None,
    keys: tuple[str, ...] | None = None,
) -> Any:
    """Return the command for a loss (a `losses.Loss`): the file argument, a flag for each
    of its keys that has a --help line (named as the problem key it sets), --details where
    the loss has parts of its own, then COMMON_OPTIONS, solved by `_run`.

    Typer reads the signature of the returned function, built here from the loss's keys.
    """
    if loss.file_help is None:
        file = _parameter("file", FileArg, None)
    else:  # a loss written only as a file (custom: its terms are problems)
        argument = typer.Argument(help=loss.file_help, show_default=False)
        file = _parameter("file", Annotated[str, argument])
    shown = [k for k in loss.keys if k.help is not None and (keys is None or k.name in keys)]
    own = [file, *(_key_parameter(k) for k in shown)]
    if loss.details_help is not None:
        details = typer.Option("--details", help=loss.details_help)
        own.append(_parameter("details", Annotated[bool, details], False))
    shared = [_parameter(name, annotation, default) for name, annotation, default in COMMON_OPTIONS]

    def command(**flags: Any) -> None:
        _run(loss.name, flags, defaults or {}, name or loss.name)

    parameters = [*own, *shared]
    command.__name__ = name or loss.name
    command.__doc__ = loss.help
    command.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    command.__annotations__ = {p.name: p.annotation for p in parameters} | {"return": None}
    return command


def _run(
    loss: str,
    flags: dict[str, Any],
    defaults: dict[str, Any] | None = None,
    command: str | None = None,
) -> None:
    """Solve one command's problem(s) from a file or from flags, print, and exit; `defaults`
    are keys set beneath the file's and the flags' (`rnnloss decode`: decode: beam)."""
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
    status = output.run_command(loss, file, overrides, options, defaults or {}, command)
    raise typer.Exit(status)


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


def _loss_commands(loss: Any) -> list[tuple[str, Callable[[], Any], dict[str, Any]]]:
    """Return a loss's solving command, its help with examples, and its hidden aliases."""
    build = functools.cache(lambda: solving(loss))
    alias_note = f" Alias: {', '.join(loss.aliases)}." if loss.aliases else ""
    settings = {
        "help": f"{loss.help}{alias_note}",
        "short_help": loss.short,
        "epilog": (
            f"Examples:\n\n  rnnloss {loss.name} {loss.example}\n\n"
            f"  rnnloss {loss.name} problem.yaml --json"
        ),
    }
    out = [(loss.name, build, settings)]
    for alias in loss.aliases:
        out.append((alias, build, {"hidden": True, "help": f"Alias of {loss.name}: {loss.help}"}))
    for extra in loss.commands:
        extra_settings = {
            "help": extra.help,
            "short_help": extra.short,
            "epilog": (
                f"Examples:\n\n  rnnloss {extra.name} {extra.example}\n\n"
                f"  rnnloss {extra.name} problem.yaml --json"
            ),
        }
        built = functools.cache(lambda e=extra: solving(loss, e.name, dict(e.defaults), e.keys))
        out.append((extra.name, built, extra_settings))
    return out


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

    entry = _catalog_entry(loss)
    extra = next((c for c in entry.commands if c.name == loss.strip().lower()), None)
    write(extra.template if extra is not None and extra.template else entry.explanation.template)


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
    known = chosen is not None and bool(commands(chosen))
    build_app(chosen if known else None)(prog_name="rnnloss")
