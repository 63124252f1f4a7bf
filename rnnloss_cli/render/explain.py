"""`rnnloss explain`: the table of losses, and one loss explained."""

from __future__ import annotations

from rich import box
from rich.console import Group, RenderableType
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from rnnloss_cli.catalog import LOSSES
from rnnloss_cli.losses import Loss


def overview() -> Table:
    """Return one row per loss: name, aliases, definition, typical use."""
    table = Table(box=box.SIMPLE_HEAD, padding=(0, 1), show_edge=False)
    table.add_column("loss", no_wrap=True, style="bold")
    table.add_column("aliases", overflow="fold")
    table.add_column("what it is", ratio=3, overflow="fold")
    table.add_column("typical use", ratio=2, overflow="fold")
    for loss in LOSSES.values():
        entry = loss.explanation
        aliases = Text(", ".join(loss.aliases) or "—")
        table.add_row(loss.name, aliases, Text(entry.summary), Text(entry.use))
    return table


def one(loss: Loss) -> RenderableType:
    """Return one loss explained: definition, formula, use, conventions, pitfalls, example."""

    def section(heading: str, body: str) -> list[RenderableType]:
        return [
            Text(heading, style="bold cyan"),
            Padding(Text(body), (0, 0, 0, 2), expand=False),
            Text(""),
        ]

    entry = loss.explanation
    aliases = f" (aliases: {', '.join(loss.aliases)})" if loss.aliases else ""
    parts: list[RenderableType] = [
        Text(f"{loss.title} — rnnloss {loss.name}{aliases}", style="bold underline"),
        Text(""),
        *section("Definition", entry.summary[0].upper() + entry.summary[1:] + "."),
        *section("Formula", entry.formula),
        *section("When to use it", f"{entry.when} Typical use: {entry.use}."),
        *section("This tool's conventions", entry.conventions),
        *section("Pitfalls (and the lecture's)", entry.pitfalls),
        *section(
            "Worked example",
            f"{entry.example}\n(the source repository's {entry.problem}; a template to edit: "
            f"rnnloss new {loss.name} > p.yaml)",
        ),
    ]
    return Group(*parts)
