"""`rnnloss explain`: the table of losses, and one loss explained."""

from __future__ import annotations

from rich import box
from rich.console import Group, RenderableType
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from rnnloss_cli.catalog import LOSSES, Entry


def overview() -> Table:
    """Return one row per loss: name, aliases, definition, typical use."""
    table = Table(box=box.SIMPLE_HEAD, padding=(0, 1), show_edge=False)
    table.add_column("loss", no_wrap=True, style="bold")
    table.add_column("aliases", overflow="fold")
    table.add_column("what it is", ratio=3, overflow="fold")
    table.add_column("typical use", ratio=2, overflow="fold")
    for entry in LOSSES.values():
        table.add_row(
            entry.name, Text(", ".join(entry.aliases) or "—"), Text(entry.summary), Text(entry.use)
        )
    return table


def one(entry: Entry) -> RenderableType:
    """Return one loss explained: definition, formula, use, conventions, pitfalls, example."""

    def section(heading: str, body: str) -> list[RenderableType]:
        return [
            Text(heading, style="bold cyan"),
            Padding(Text(body), (0, 0, 0, 2), expand=False),
            Text(""),
        ]

    aliases = f" (aliases: {', '.join(entry.aliases)})" if entry.aliases else ""
    parts: list[RenderableType] = [
        Text(f"{entry.title} — rnnloss {entry.name}{aliases}", style="bold underline"),
        Text(""),
        *section("Definition", entry.summary[0].upper() + entry.summary[1:] + "."),
        *section("Formula", entry.formula),
        *section("When to use it", f"{entry.when} Typical use: {entry.use}."),
        *section("This tool's conventions", entry.conventions),
        *section("Pitfalls (and the lecture's)", entry.pitfalls),
        *section(
            "Worked example",
            f"{entry.example}\n(the source repository's {entry.problem}; a template to edit: "
            f"rnnloss new {entry.name} > p.yaml)",
        ),
    ]
    return Group(*parts)
