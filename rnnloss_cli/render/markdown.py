"""Worked solutions as Markdown: a heading per problem, the inputs, the formula, the working
as tables, the answer and the check — a document ready to paste into notes.

It reuses the rows, formulas and lines the terminal working is built from, so the two
never disagree; only the layout differs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np
from rich.console import Group
from rich.padding import Padding
from rich.text import Text

from rnnloss_cli.errors import printable
from rnnloss_cli.render import ctc as ctc_render
from rnnloss_cli.render import working as rich_working
from rnnloss_cli.render.numbers import elide, num, operand
from rnnloss_cli.solver import Solution

MAX_ROWS = 40  # table rows written before the middle is elided
MAX_COLUMNS = 16  # matrix columns written before the middle is elided


class Raw(str):
    """Text that is already Markdown (our own **bold**): written as it is."""


def escape(text: str) -> str:
    """Return text that Markdown shows as written: `<pad>`, `*x*`, `a_b`, `|` stay literal."""
    text = text.replace("\\", "\\\\").replace("&", "&amp;").replace("<", "&lt;")
    text = text.replace(">", "&gt;")
    for char in "*_`[]|":
        text = text.replace(char, "\\" + char)
    return "\\" + text if text.startswith("#") else text


def _cell(text: Any) -> str:
    if isinstance(text, Raw):
        return str(text)
    value = text.plain if isinstance(text, Text) else str(text)
    return escape(value).replace("\n", "<br>")


def _kept(count: int) -> list[int | None]:
    return elide(range(count), MAX_ROWS, MAX_ROWS - 5, 4)


def table(headers: Sequence[Any], rows: Sequence[Sequence[Any]]) -> list[str]:
    """Return a Markdown table; numbers right-aligned, the middle of long tables elided."""
    kept = [["⋮"] * len(headers) if i is None else list(rows[i]) for i in _kept(len(rows))]
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
                    text = ctc_render.beyond_cell(value, float(logs[t, c])) or text
            marked = c is not None and marks is not None and marks[t] == c
            cells.append(Raw(f"**{text}**") if marked else text)
        rows.append([str(t + 1), *cells])
    return _table(headers, rows)


def _lines(renderable: Any) -> list[str]:
    """Return the text lines of a Rich Group of Text (tables inside become Markdown)."""
    if isinstance(renderable, Text):
        return renderable.plain.splitlines() or [""]
    if isinstance(renderable, Padding):
        return _lines(renderable.renderable)
    if isinstance(renderable, Group):
        out: list[str] = []
        for item in renderable.renderables:
            out += _lines(item)
        return out
    return []


def _paragraph(lines: Iterable[str]) -> list[str]:
    """Return lines, escaped, that Markdown keeps as separate lines (two trailing spaces)."""
    lines = [
        line.strip() if isinstance(line, Raw) else escape(line.strip())
        for line in lines
        if line.strip()
    ]
    return [line + "  " for line in lines[:-1]] + lines[-1:]


def _inputs(solution: Solution) -> list[str]:
    if solution.result.loss in rich_working.EXTRA_INPUTS:
        return _paragraph(_lines(rich_working.EXTRA_INPUTS[solution.result.loss](solution)))
    out: list[str] = []
    lines: list[str] = []  # lines of text since the last matrix: one paragraph

    def flush() -> None:
        if lines:
            out.extend(["", *_paragraph(lines)] if out else _paragraph(lines))
            lines.clear()

    for item in rich_working.input_items(solution):
        if isinstance(item, str):
            lines.append(item)
            continue
        flush()
        names = item.columns or [str(c) for c in range(item.values.shape[1])]
        table = _matrix(item.values, names, "i", cell=lambda v: operand(v, 3))
        out += [*([""] if out else []), f"{item.label}:", "", *table]
    flush()
    return out


def _elementwise(solution: Solution) -> list[str]:
    formula, headers, rows = rich_working.TERM_ROWS[solution.result.loss](solution)
    return [
        "**Inputs**",
        "",
        *_inputs(solution),
        "",
        "**Formula**",
        "",
        *_paragraph(formula),
        "",
        "**Working**",
        "",
        *table(headers, rows),
        "",
        *_paragraph(line for text in rich_working.totals(solution) for line in _lines(text)),
    ]


def _ctc(solution: Solution) -> list[str]:
    result = solution.result
    out = ["**Inputs**", "", *_paragraph(_lines(ctc_render.inputs_lines(result, solution))), ""]
    if solution.problem.display.get("matrix") is not None:
        matrix = solution.problem.display["matrix"]
        alphabet = ctc_render.symbols_shown(result.alphabet)
        important = ctc_render.label_columns(result)
        out += [*_matrix(matrix, alphabet, important=important, cell=ctc_render.input_cell), ""]
    if result.naive is not None:
        out += [
            f"**{ctc_render.LISTED_HEADING}**",
            "",
            escape(ctc_render.collapse_rule(result)),
            "",
            *table(ctc_render.LISTED_HEADERS, ctc_render.listed_rows(result)),
            "",
            *_paragraph(line for t in ctc_render.listed_totals(result) for line in _lines(t)),
            "",
        ]
    out += [
        f"**{ctc_render.EXACT_HEADING}**",
        "",
        *_paragraph(line for t in ctc_render.exact_lines(result) for line in _lines(t)),
    ]
    trellis = ctc_render.trellis_data(result)
    if trellis is not None:
        alpha, columns, marks, note = trellis
        out += [
            "",
            f"**{ctc_render.trellis_heading(result)}**",
            "",
            escape(note.replace("* marks", "bold marks")),
            "",
            *_matrix(
                alpha, columns, "t", marks, ctc_render.repeat_states(result), logs=result.log_alpha
            ),
        ]
    grad = result.gradient
    if grad is not None and result.alphabet is not None:
        note = ctc_render.gradient_note(result)
        out += [
            "",
            f"**{ctc_render.gradient_heading(result)}**",
            "",
            *([escape(note), ""] if note is not None else []),
            *_matrix(
                grad,
                ctc_render.symbols_shown(result.alphabet),
                important=ctc_render.label_columns(result),
            ),
        ]
    return out


def document(solution: Solution, details: bool = False, level: int = 2) -> str:
    """Return one solved problem as Markdown, headed at `level` (## by default)."""
    result, problem = solution.result, solution.problem
    title = problem.title or rich_working.NAMES.get(result.loss, result.loss)
    out = [f"{'#' * level} {escape(printable(title))}", ""]
    out += _ctc(solution) if result.loss == "ctc" else _elementwise(solution)
    answer = (
        ctc_render.answer_text(solution)
        if result.loss == "ctc"
        else rich_working.answer_text(solution)
    ).plain.splitlines()
    check = rich_working.check_text(solution)
    if check is not None:
        answer += [check.plain, *rich_working.instead_lines(solution)]
    out += ["", *_paragraph([Raw(f"**Answer:** {escape(answer[0])}"), *answer[1:]])]
    if result.warnings:
        title_w = "Lecture checks and warnings" if result.loss == "ctc" else "Warnings"
        out += ["", f"> **{title_w}**", ">"]
        out += [f"> - {escape(printable(w))}" for w in result.warnings]
    if details and result.loss == "custom":
        for component in result.details["components"]:
            out += ["", document(component["solution"], details, min(level + 1, 6))]
    return "\n".join(out).rstrip() + "\n"


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
