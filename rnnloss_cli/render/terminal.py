"""The working in the terminal: a Document (rnnloss_cli.document) as one Rich renderable
`width` columns wide — headings, indented lines, term tables, matrices that fit the width
(turned on their side or shown in parts), the answer and warnings in panels. SVG is this
renderable, recorded."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
from rich import box
from rich.console import Group, RenderableType
from rich.padding import Padding
from rich.panel import Panel
from rich.rule import Rule
from rich.table import Table
from rich.text import Text

from rnnloss_cli import document as doc
from rnnloss_cli.render.numbers import (
    beyond_cell,
    elide,
    input_cell,
    operand,
    trellis_cell,
)

MAX_ROWS = 12  # term rows shown before the middle is elided
MAX_COLUMNS = 8  # columns of an input matrix shown before the middle is elided
MAX_FRAMES_SHOWN = 24  # trellis / matrix rows shown before the middle is elided
MAX_PARTS = 4  # a table too wide for the terminal is shown in at most this many parts

STYLES = {
    "": "",
    "bold": "bold",
    "dim": "dim",
    "answer": "bold green",
    "good": "green",
    "bad": "red",
}
CELLS: dict[str, Callable[[float], str]] = {
    "operand": operand,
    "input": input_cell,
    "trellis": trellis_cell,
    "number": trellis_cell,
}


def _indent(renderable: RenderableType, left: int = 2) -> Padding:
    """Indent without padding lines out to the full width (no trailing blanks in pipes)."""
    return Padding(renderable, (0, 0, 0, left), expand=False)


def text(value: doc.Line | str, style: str = "") -> Text:
    """Return a line of the working as Rich Text, each span in its style."""
    if isinstance(value, str):
        return Text(value, style=style)
    out = Text(style=style)
    for span in value:
        out.append(span.text, STYLES[span.style])
    return out


def _elide(count: int, limit: int = MAX_ROWS) -> list[int | None]:
    """Return the row (or column) positions to show, with None where the middle is left out."""
    return elide(range(count), limit, limit - 3, 2)


def _matrix_table(matrix: np.ndarray, *, row_label: str, column_names: Sequence[str]) -> Table:
    table = Table(box=box.SIMPLE_HEAD, padding=(0, 1), show_edge=False)
    table.add_column(row_label, justify="right", style="dim")
    columns = _elide(matrix.shape[1], MAX_COLUMNS)
    for c in columns:
        if c is None:
            table.add_column("…", justify="center")
        else:
            table.add_column(Text(column_names[c]), justify="right")
    for r in _elide(matrix.shape[0]):
        if r is None:
            table.add_row("…", *["⋮" for _ in columns])
            continue
        # As the term rows write it: a ŷ of 0.99999999 is not 1 where its log is taken.
        table.add_row(str(r + 1), *["…" if c is None else operand(matrix[r, c]) for c in columns])
    return table


def _rows_shown(count: int, limit: int = MAX_FRAMES_SHOWN) -> list[int | None]:
    return elide(range(count), limit, limit - 4, 3)


def _shade(value: float, top: float) -> str:
    """Return a style for a trellis cell: brighter the closer it is to the table's largest."""
    if value <= 0.0 or top <= 0.0:
        return "grey37"
    if math.isinf(top):  # lecture-mode values beyond float64: only the infinite ones lead
        return "bold yellow" if math.isinf(value) else "grey42"
    # The ratio of the logarithms, not the logarithm of the ratio: 5e−324 / 2 underflows
    # to 0, whose logarithm does not exist (log10 of a subnormal is exact enough).
    ratio = math.log10(value) - math.log10(top)
    if ratio > -0.3:
        return "bold yellow"
    if ratio > -1:
        return "yellow"
    if ratio > -2:
        return "default"
    return "grey62" if ratio > -4 else "grey42"


def _table_width(columns: Sequence[int], label: int) -> int:
    """Return the width of a frame table: each column its text and a blank each side, one
    separator between columns (box SIMPLE_HEAD without edges)."""
    widths = [label, *columns]
    return sum(w + 2 for w in widths) + len(widths) - 1


def _frame_table(
    matrix: np.ndarray,
    columns: Sequence[str],
    marks: Sequence[int | None] | None = None,
    *,
    width: int = 80,
    shade: bool = False,
    important: Sequence[int] = (),
    cell: Callable[[float], str] = trellis_cell,
    logs: np.ndarray | None = None,
    important_note: str | None = None,
) -> tuple[RenderableType, str | None]:
    """Return a T × columns table (frames down) that fits `width`, and a note if it had to
    be turned or split: as it is when it fits; else transposed (frames across) when that
    fits; else in parts of consecutive columns (every column and every mark kept); else,
    when even MAX_PARTS parts cannot hold them, only the columns the lesson is about
    (`important`, and the marked cells of the rows shown) with the first and last, in parts.
    `logs`, the cells' natural logarithms, writes a cell float64 cannot hold as e^log.
    """
    frames, count = matrix.shape

    # Only the frames shown are formatted (a 20,000 × 2,001 trellis has 40 million cells).
    def write(t: int, c: int) -> str:
        value = float(matrix[t, c])
        shown = None if logs is None else beyond_cell(value, float(logs[t, c]))
        return cell(value) if shown is None else shown

    cells = {t: [write(t, c) for c in range(count)] for t in _rows_shown(frames) if t is not None}
    top = float(np.max(matrix)) if matrix.size else 0.0

    def text(t: int, c: int) -> Text:
        style = _shade(float(matrix[t, c]), top) if shade else ""
        if marks is not None and marks[t] == c:
            return Text(cells[t][c] + "*", style=f"{style} reverse".strip())
        return Text(cells[t][c], style=style)

    rows = [t for t in _rows_shown(frames) if t is not None]
    marked = {marks[t] for t in rows if marks is not None and marks[t] is not None}

    def column_width(c: int) -> int:
        return max([len(columns[c])] + [len(cells[t][c]) + (c in marked) for t in rows])

    widths = [column_width(c) for c in range(count)]
    label = max(len("t"), len(str(frames)))

    def upright(shown: Sequence[int | None]) -> Table:
        table = Table(box=box.SIMPLE_HEAD, padding=(0, 1), show_edge=False)
        table.add_column("t", justify="right", style="dim")
        for c in shown:
            table.add_column("…" if c is None else Text(columns[c]), justify="right")
        for t in _rows_shown(frames):
            if t is None:
                table.add_row("⋮", *["⋮"] * len(shown))
            else:
                table.add_row(str(t + 1), *[Text("…") if c is None else text(t, c) for c in shown])
        return table

    if _table_width(widths, label) <= width:
        return upright(list(range(count))), None
    if frames <= MAX_FRAMES_SHOWN:
        # Turned: one row per column, frames across.
        turned_widths = [
            max([len(f"t={t + 1}")] + [len(cells[t][c]) + 1 for c in range(count)])
            for t in range(frames)
        ]
        if _table_width(turned_widths, max(len(c) for c in columns)) <= width:
            turned = Table(box=box.SIMPLE_HEAD, padding=(0, 1), show_edge=False)
            turned.add_column("", style="dim")
            for t in range(frames):
                turned.add_column(f"t={t + 1}", justify="right")
            for c, name in enumerate(columns):
                turned.add_row(Text(name), *[text(t, c) for t in range(frames)])
            return turned, "turned on its side to fit: frames across, one row per column"
    parts = _parts(list(range(count)), widths, label, width)
    note = None
    keep = sorted({*important, *marked, 0, 1, count - 2, count - 1} & set(range(count)))
    if len(parts) > MAX_PARTS and len(keep) < count:  # only if that leaves columns out
        parts = _parts(keep, widths, label, width)
        kept_what = [important_note] if important_note else []
        if marks is not None:
            kept_what.append("the marked cells")
        kept_what.append("the first and last two")
        note = (
            f"{count - len(keep):,} of the {count:,} columns are left out to fit {width} "
            f"columns (… marks where); the columns of {', '.join(kept_what)} are kept (--json "
            "gives the whole table)"
        )
    if len(parts) == 1:
        return upright(parts[0]), note
    tables: list[RenderableType] = []
    for i, part in enumerate(parts):
        numbers = [c for c in part if c is not None]
        heading = (
            f"part {i + 1} of {len(parts)}: columns {numbers[0] + 1}–{numbers[-1] + 1} of {count}"
        )
        tables += [Padding(Text(heading, style="dim"), (0, 0, 0, 2)), upright(part)]
    return Group(*tables), note or f"in {len(parts)} parts, to fit {width} columns"


def _parts(
    kept: Sequence[int], widths: Sequence[int], label: int, width: int
) -> list[list[int | None]]:
    """Split the kept columns, in order, into parts that each fit `width`; None stands for
    the columns left out between two kept ones (a `…` column)."""
    parts: list[list[int | None]] = []
    current: list[int | None] = []
    previous = None
    for c in kept:
        gap = previous is not None and c != previous + 1
        addition: list[int | None] = [None, c] if gap and current else [c]
        trial = [*current, *addition]
        if current and _table_width([1 if k is None else widths[k] for k in trial], label) > width:
            parts.append(current)
            current = [None, c] if gap else [c]
        else:
            current = trial
        previous = c
    parts.append(current)
    return parts


def _table(table: doc.Table) -> Table:
    """Return a term table (or the listed alignments): the middle of a long one elided."""
    out = Table(box=box.SIMPLE_HEAD, padding=(0, 1), show_edge=False)
    for i, header in enumerate(table.headers):
        out.add_column(
            Text(header),
            justify="left" if i in table.left else "right",
            overflow="fold",
            style="bold" if i == table.bold else None,
            ratio=1 if i == table.wide else None,
        )
    for r in range(len(table.rows)) if table.whole else _elide(len(table.rows)):
        if r is None:
            out.add_row(*["⋮"] * len(table.headers))
        else:
            out.add_row(*[text(cell) for cell in table.rows[r]])
    return out


def _matrix(matrix: doc.Matrix, width: int) -> list[RenderableType]:
    """Return a matrix: an input's inside the section's indent; a trellis or gradient at
    the margin, fitted to `width`, its notes indented."""
    if matrix.cell == "operand":
        table = _matrix_table(
            matrix.values, row_label=matrix.row_label, column_names=matrix.columns
        )
        return [_indent(Text(matrix.caption or "")), _indent(table, 4)]
    note = matrix.note
    if matrix.marks_note is not None:
        note = f"{note}; * marks {matrix.marks_note}" if note else f"* marks {matrix.marks_note}"
    inside = matrix.cell == "input"  # the inputs' matrix sits in the section's indent
    table, fitted = _frame_table(
        matrix.values,
        matrix.columns,
        matrix.marks,
        width=width - 2 if inside else width,
        shade=matrix.shade,
        important=matrix.important,
        cell=CELLS[matrix.cell],
        logs=matrix.logs,
        important_note=matrix.important_note,
    )
    out: list[RenderableType] = []
    if note:
        out.append(_indent(Text(note, style="dim")))
    out.append(_indent(table, 4) if inside else table)
    if fitted:
        out.append(_indent(Text(fitted, style="dim"), 4 if inside else 2))
    return out


def _block(block: doc.Block, width: int) -> list[RenderableType]:
    if isinstance(block, doc.Paragraph):
        return [_indent(Group(*[text(item, STYLES[block.style]) for item in block.lines]))]
    if isinstance(block, doc.Table):
        return [_table(block)]
    return _matrix(block, width)


def hanging(prefix: str | Text, body: str | Text) -> Table:
    """Return `prefix` and `body`, the body's wrapped lines indented under its first."""
    grid = Table.grid(padding=0)
    grid.add_column(no_wrap=True)
    grid.add_column(overflow="fold")
    grid.add_row(prefix, Text(body) if isinstance(body, str) else body)
    return grid


def closing_panels(document: doc.Document) -> list[RenderableType]:
    """Return the answer panel (with the ✓/✗ line) and, if any, the warnings panel."""
    answer = document.answer
    lines: list[RenderableType] = [text(item) for item in answer.lines]
    if answer.check is not None:
        mark, *rest = answer.check  # "✓ " or "✗ ", hung before the line
        lines.append(
            hanging(Text(mark.text, style=f"bold {STYLES[mark.style]}"), text(tuple(rest)))
        )
        lines += [hanging("  ", item) for item in answer.instead]
    border = "green" if answer.matches in (None, True) else "red"
    panels: list[RenderableType] = [
        Panel(Group(*lines), title="Answer", title_align="left", border_style=border, expand=False)
    ]
    if document.warnings:
        bullets = [hanging("• ", warning) for warning in document.warnings]
        panels.append(
            Panel(
                Group(*bullets),
                title=document.warnings_title,
                title_align="left",
                border_style="yellow",
            )
        )
    return panels


def write(document: doc.Document, width: int = 80) -> RenderableType:
    """Return the whole working of one solved problem as one Rich renderable."""
    parts: list[RenderableType] = [Text(document.title, style="bold underline"), Text("")]
    for section in document.sections:
        parts.append(Text(section.heading, style="bold cyan"))
        for block in section.blocks:
            parts += _block(block, width)
        parts.append(Text(""))
    parts += closing_panels(document)
    for i, part in enumerate(document.parts):
        parts += [
            Rule(Text(f"term {i + 1} of {document.title}"), style="dim"),  # Text: no markup
            write(part, width),
        ]
    return Group(*parts)
