"""Worked solutions as Markdown: a heading per problem, the inputs, the formula, the working
as tables, the answer and the check — a document ready to paste into notes.

It reuses the rows, formulas and lines the terminal working is built from, so the two
never disagree; only the layout differs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from rnnloss_cli import document as doc
from rnnloss_cli.render.numbers import beyond_cell, elide, input_cell, num, operand
from rnnloss_cli.solver import Solution
from rnnloss_cli.workings import build

MAX_ROWS = 40  # table rows written before the middle is elided
MAX_COLUMNS = 16  # matrix columns written before the middle is elided


class Raw(str):
    """Text that is already Markdown (our own **bold**): written as it is."""


def escape(text: str) -> str:
    """Return text that Markdown shows as written: `<pad>`, `*x*`, `a_b`, `|` stay literal,
    and `$` and `~` too (the working's formulas are `$…$` math, and GitHub strikes through
    `~x~`): a class named `$5` beside one named `$10` must not open math."""
    text = text.replace("\\", "\\\\").replace("&", "&amp;").replace("<", "&lt;")
    text = text.replace(">", "&gt;")
    for char in "*_`[]|$~":
        text = text.replace(char, "\\" + char)
    return "\\" + text if text.startswith("#") else text


def _cell(text: Any) -> str:
    if isinstance(text, Raw):
        return str(text)
    value = doc.plain(text) if isinstance(text, tuple) else str(text)
    return escape(value).replace("\n", "<br>")


def _kept(count: int) -> list[int | None]:
    return elide(range(count), MAX_ROWS, MAX_ROWS - 5, 4)


def table(headers: Sequence[Any], rows: Sequence[Sequence[Any]], whole: bool = False) -> list[str]:
    """Return a Markdown table; numbers right-aligned, the middle of long tables elided
    (unless it is asked for `whole`)."""
    indices = range(len(rows)) if whole else _kept(len(rows))
    kept = [["⋮"] * len(headers) if i is None else list(rows[i]) for i in indices]
    return _table(headers, kept)


def _table(headers: Sequence[Any], rows: list[list[Any]]) -> list[str]:
    out = ["| " + " | ".join(_cell(h) for h in headers) + " |"]
    out.append("|" + "|".join(" --- " for _ in headers) + "|")
    out += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return out


def _matrix(
    matrix: np.ndarray,
    columns: Sequence[str],
    row_label: str = "t",
    marks: Sequence[int | None] | None = None,
    important: Sequence[int] = (),
    cell: Callable[[float], str] | None = None,
    logs: np.ndarray | None = None,
) -> list[str]:
    """Return a matrix as a Markdown table: the middle rows of a long one elided, and of a
    wide one the columns but the first and last few, the `important` ones (the label's
    symbols, a repeat) and those of the marked cells shown. `cell` writes a cell (three
    digits by default); with `logs`, the cells' natural logarithms, a cell float64 cannot
    hold is written e^log, as the terminal's trellis writes it."""
    count = matrix.shape[1]
    shown_rows = _kept(matrix.shape[0])
    if count <= MAX_COLUMNS:
        kept: list[int | None] = list(range(count))
    else:
        marked = {marks[t] for t in shown_rows if t is not None and marks is not None}
        wanted = {*range(3), *range(count - 3, count), *important, *marked} - {None}
        kept = []
        for c in sorted(wanted):  # type: ignore[type-var]
            if kept and kept[-1] is not None and c != kept[-1] + 1:
                kept.append(None)
            kept.append(c)
    headers = [row_label, *["…" if c is None else columns[c] for c in kept]]
    rows: list[list[Any]] = []
    for t in shown_rows:  # only the rows and columns shown are formatted
        if t is None:
            rows.append(["⋮"] * len(headers))
            continue
        cells: list[Any] = []
        for c in kept:
            if c is None:
                text = "…"
            else:
                value = float(matrix[t, c])
                text = num(value, 3) if cell is None else cell(value)
                if logs is not None:
                    text = beyond_cell(value, float(logs[t, c])) or text
            marked = c is not None and marks is not None and marks[t] == c
            cells.append(Raw(f"**{text}**") if marked else text)
        rows.append([str(t + 1), *cells])
    return _table(headers, rows)


CELLS: dict[str, Callable[[float], str]] = {
    "operand": lambda v: operand(v, 3),
    "input": input_cell,
    "trellis": lambda v: num(v, 3),
    "number": lambda v: num(v, 3),
}


def _paragraph(lines: Iterable[str]) -> list[str]:
    """Return lines, escaped, that Markdown keeps as separate lines (two trailing spaces)."""
    lines = [
        line.strip() if isinstance(line, Raw) else escape(line.strip())
        for line in lines
        if line.strip()
    ]
    return [line + "  " for line in lines[:-1]] + lines[-1:]


def _block(block: doc.Block) -> list[str]:
    if isinstance(block, doc.Paragraph):
        # A formula line is written as LaTeX math, `$…$`, which GitHub, GitLab, Jupyter,
        # Obsidian and pandoc render; a line of words stays words.
        maths = block.math or [None] * len(block.lines)
        return _paragraph(
            doc.plain(item) if math is None else Raw(f"${math}$")
            for item, math in zip(block.lines, maths, strict=True)
        )
    if isinstance(block, doc.Table):
        return table(block.headers, block.rows, block.whole)
    note = block.note
    if block.marks_note is not None:
        marks = f"bold marks {block.marks_note}"
        note = f"{note}; {marks}" if note else marks
    before = [escape(text) for text in (block.caption, note) if text]
    return [
        *[item for text in before for item in (text, "")],
        *_matrix(
            block.values,
            block.columns,
            block.row_label,
            block.marks,
            block.important,
            CELLS[block.cell],
            block.logs,
        ),
    ]


def write(document: doc.Document, level: int = 2) -> str:
    """Return one working as Markdown, headed at `level` (## by default)."""
    out = [f"{'#' * level} {escape(document.title)}"]
    for section in document.sections:
        out += ["", f"**{escape(section.heading)}**"]
        for block in section.blocks:
            out += ["", *_block(block)]
    answer = [doc.plain(item) for item in document.answer.lines]
    if document.answer.check is not None:
        answer += [doc.plain(document.answer.check), *document.answer.instead]
    out += ["", *_paragraph([Raw(f"**Answer:** {escape(answer[0])}"), *answer[1:]])]
    if document.warnings:
        out += ["", f"> **{escape(document.warnings_title)}**", ">"]
        out += [f"> - {escape(warning)}" for warning in document.warnings]
    for part in document.parts:
        out += ["", write(part, min(level + 1, 6)).rstrip("\n")]
    return "\n".join(out).rstrip() + "\n"


def document(solution: Solution, details: bool = False, level: int = 2) -> str:
    """Return one solved problem as Markdown, headed at `level` (## by default)."""
    return write(build(solution, details), level)


def summary(rows: Sequence[dict[str, str]], totals: str, notes: Sequence[str] = ()) -> str:
    """Return the `solve` summary as a Markdown table, its footnotes (what a marked answer
    is) and a line of totals."""
    lines = ["## Summary", ""]
    lines += table(
        ["file", "title", "loss", "answer", "expected", "check"],
        [[r["file"], r["title"], r["loss"], r["answer"], r["expected"], r["check"]] for r in rows],
    )
    if notes:
        lines += ["", *_paragraph(notes)]
    lines += ["", totals]
    return "\n".join(lines) + "\n"
