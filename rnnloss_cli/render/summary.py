"""The `solve` summary table: one row a problem — file, title, loss, answer, expected, check.

`rich_table` builds it as a Rich `Table`. A Table lays out every cell as a renderable of
its own, which costs about 0.4 s for 1,000 rows and 3.4 s for 10,000, so what is printed
is `SummaryTable`: the same table drawn line by line, character for character as the
Rich Table draws it (the tests compare the two, styles included), in a tenth of the
time. Only a cell that does not fit its column goes through Rich's own line wrapping; on
a terminal too narrow for the layout, or for text with control characters in it (the
command line escapes them first), the Rich Table itself is drawn.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from rich import box
from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderResult
from rich.segment import Segment
from rich.style import Style
from rich.table import Table
from rich.text import Text

NARROW = ("loss", "answer", "expected", "check")
RIGHT = frozenset({"answer", "expected"})
MIN_TITLE = 20  # file and title get columns of their own when the title keeps this many
MIN_FLEXIBLE = 8  # below this, the fast drawing gives way to the Rich Table


def _separate(rows: Sequence[dict[str, str]], width: int) -> bool:
    """Whether file and title fit columns of their own, the title keeping MIN_TITLE.

    The narrow columns keep their width; each column costs its text, one blank each side
    and one separator between columns.
    """
    fixed = sum(max([cell_len(k)] + [cell_len(row[k]) for row in rows]) + 3 for k in NARROW)
    room = width - fixed - 3
    longest_file = max([4] + [cell_len(row["file"]) for row in rows])
    return room - longest_file - 3 >= MIN_TITLE


def _title_style(row: dict[str, str]) -> str:
    return "red" if row["check"] == "error" else "dim"


def rich_table(rows: Sequence[dict[str, str]], width: int = 80) -> Table:
    """Return the table as a Rich Table (the reference `SummaryTable` is drawn to match)."""
    separate = _separate(rows, width)
    table = Table(box=box.SIMPLE_HEAD, padding=(0, 1), show_edge=False)
    if separate:
        table.add_column("file", no_wrap=True)
        table.add_column("title", overflow="fold", ratio=1)
    else:
        table.add_column("file / title", overflow="fold", ratio=1)
    for key in NARROW:
        table.add_column(key, justify="right" if key in RIGHT else "left", no_wrap=True)
    for row in rows:
        title = Text(row["title"], style=_title_style(row))
        first = (
            [Text(row["file"]), title] if separate else [Text.assemble(row["file"], "\n", title)]
        )
        table.add_row(*first, *[Text(row[k]) for k in NARROW])
    return table


Line = list[Segment]


class SummaryTable:
    """The summary table, drawn as `rich_table` draws it: the header in the table-header
    style, a rule under it, then each row, the title dim (red for an error)."""

    def __init__(self, rows: Sequence[dict[str, str]], width: int = 80) -> None:
        self.rows = rows
        self.separate = _separate(rows, width)
        self.width = width
        # Tabs, newlines and other control characters are laid out by Rich's own rules.
        self.printable = all(text.isprintable() for row in rows for text in row.values())

    def _widths(self, max_width: int) -> list[int] | None:
        """Column widths (text only) as Rich lays them out; None if too narrow to draw."""
        rows, separate = self.rows, self.separate
        if separate:
            widths = [
                max([4] + [cell_len(row["file"]) for row in rows]),
                max([5] + [cell_len(row["title"]) for row in rows]),
            ]
        else:
            longest = [max(cell_len(row["file"]), cell_len(row["title"])) for row in rows]
            widths = [max([cell_len("file / title"), *longest])]
        widths += [max([cell_len(k)] + [cell_len(row[k]) for row in rows]) for k in NARROW]
        flexible = 1 if separate else 0
        # Each column has one blank each side, and one blank separates two columns.
        excess = sum(widths) + 3 * len(widths) - 1 - max_width
        if excess > 0:
            widths[flexible] -= excess  # the only column that may wrap gives way
        if widths[flexible] < MIN_FLEXIBLE:
            return None
        return widths

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        widths = self._widths(options.max_width) if self.printable else None
        if widths is None:
            yield rich_table(self.rows, self.width)
            return
        header = console.get_style("table.header")
        titles = ["file", "title"] if self.separate else ["file / title"]
        labels = [*titles, *NARROW]
        cells = [
            _cell(console, options, Text(label, style=header), w, right=label in RIGHT)
            for label, w in zip(labels, widths, strict=True)
        ]
        yield from _join([cells], widths, pad_style=header, bottom=True)
        yield Segment("─" * (sum(widths) + 3 * len(widths) - 1))
        yield Segment.line()
        styles = {name: console.get_style(name) for name in ("dim", "red")}
        for row in self.rows:
            title_style = styles[_title_style(row)]
            quick = self._quick_row(row, widths, title_style)
            if quick is not None:
                yield from quick
            else:
                yield from _join(self._row(console, options, row, title_style, widths), widths)

    def _quick_row(self, row: dict[str, str], widths: list[int], title_style: Style) -> Line | None:
        """Return the segments of a row whose cells all fit on one line (most rows), the
        plain runs of text joined; None if a cell has to wrap."""
        file, title = row["file"], row["title"]
        title_size = cell_len(title)
        if "\n" in file or "\n" in title:
            return None
        narrow_widths = widths[-len(NARROW) :]
        narrow = "   ".join(
            _pad(row[k], w, k in RIGHT) for k, w in zip(NARROW, narrow_widths, strict=True)
        )
        if self.separate:
            if title_size > widths[1]:
                return None
            return [
                Segment(f" {_pad(file, widths[0])}   "),
                Segment(title + " " * (widths[1] - title_size), title_style),
                Segment(f"   {narrow} "),
                Segment.line(),
            ]
        width = widths[0]
        if cell_len(file) > width or title_size > width:
            return None
        blanks = "   ".join(" " * w for w in narrow_widths)
        return [
            Segment(f" {_pad(file, width)}   {narrow} "),
            Segment.line(),
            Segment(" "),
            Segment(title, title_style),
            Segment(" " * (width - title_size) + f"   {blanks} "),
            Segment.line(),
        ]

    def _row(
        self,
        console: Console,
        options: ConsoleOptions,
        row: dict[str, str],
        title_style: Style,
        widths: list[int],
    ) -> list[list[Line]]:
        """Return each column's lines of one row (a line is segments `width` cells wide)."""
        if self.separate:
            first = [
                _cell(console, options, Text(row["file"]), widths[0], no_wrap=True),
                _cell(console, options, Text(row["title"], style=title_style), widths[1]),
            ]
        else:
            both = Text.assemble(row["file"], "\n", Text(row["title"], style=title_style))
            first = [_cell(console, options, both, widths[0])]
        narrow = widths[len(first) :]
        rest = [
            _cell(console, options, Text(row[k]), w, right=k in RIGHT, no_wrap=True)
            for k, w in zip(NARROW, narrow, strict=True)
        ]
        return [first + rest]


def _cell(
    console: Console,
    options: ConsoleOptions,
    text: Text,
    width: int,
    *,
    right: bool = False,
    no_wrap: bool = False,
) -> list[Line]:
    """Return the lines of one cell `width` wide; one that does not fit on a line is laid
    out by Rich itself, as a Table lays out its cells."""
    plain = text.plain
    if all(cell_len(line) <= width for line in plain.split("\n")) or no_wrap:
        return [_fitted(console, part, width, right) for part in text.split("\n")]
    cell_options = options.update(
        width=width,
        justify="right" if right else "left",
        no_wrap=no_wrap,
        overflow="fold",
        height=None,
    )
    return console.render_lines(text, cell_options)


def _pad(text: str, width: int, right: bool = False) -> str:
    gap = " " * (width - cell_len(text))
    return gap + text if right else text + gap


def _fitted(console: Console, text: Text, width: int, right: bool) -> Line:
    """Return one line of text that fits its column, filled out to `width` in the text's
    own style (as Rich pads a Text)."""
    base = console.get_style(text.style) if text.style else None
    segments = [s for s in text.render(console, end="") if s.text]
    if base is not None:
        segments = list(Segment.apply_style(segments, base))
    size = cell_len(text.plain)
    gap = [Segment(" " * (width - size), base)] if width > size else []
    return gap + segments if right else segments + gap


def _join(
    rows: list[list[list[Line]]], widths: list[int], pad_style: Any = None, bottom: bool = False
) -> Iterator:
    """Yield the segments of table rows: cells side by side, one blank around each cell
    (in `pad_style`) and one plain blank between cells; a short cell is filled out below
    (above with `bottom`, as Rich sets a header)."""
    blank = Segment(" ", pad_style)
    between = Segment(" ")
    for columns in rows:
        height = max(len(lines) for lines in columns)
        for i in range(height):
            for c, (lines, w) in enumerate(zip(columns, widths, strict=True)):
                if c:
                    yield between
                yield blank
                j = i - (height - len(lines)) if bottom else i
                if 0 <= j < len(lines):
                    yield from lines[j]
                else:
                    yield Segment(" " * w, pad_style)
                yield blank
            yield Segment.line()
