"""The working as data: what a tutor writes about one solved problem, in no output format.

A loss builds a `Document` from its solution — the title, the question it answers,
sections of lines, formulas, tables of terms and matrices, the answer, the check and the
warnings — with every number already written as text (or, for a matrix, the values and
the name of how a cell is written). Writers turn it into a format: the terminal (Rich, and
SVG from it), Markdown, LaTeX, a question sheet. No writer computes a number, and no loss
knows a format (the design of ruff's diagnostics: one message model, many emitters).

Nothing here imports Rich: the model is plain immutable records (NamedTuples: a frozen
dataclass costs about 0.6 ms to define at start-up, a NamedTuple a fifth of that).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal, NamedTuple

# A span's style names what it is, not how it looks; each writer decides the look.
#   bold    a lead word (`Sum`, `Loss`) or a total
#   dim     a note beside the working
#   answer  the answer's value
#   good / bad   a ✓ / ✗ mark, a valid / invalid alignment
Style = Literal["", "bold", "dim", "answer", "good", "bad"]


class Span(NamedTuple):
    """A run of text in one style."""

    text: str
    style: Style = ""


Line = tuple[Span, ...]


def line(*parts: str | tuple[str, Style] | Span) -> Line:
    """Return a line from plain strings, (text, style) pairs and spans."""
    out: list[Span] = []
    for part in parts:
        if isinstance(part, Span):
            out.append(part)
        elif isinstance(part, tuple):
            out.append(Span(part[0], part[1]))
        elif part:
            out.append(Span(part))
    return tuple(out)


def plain(value: Line | str) -> str:
    """Return a line's (or a string's) text without its styles."""
    if isinstance(value, str):
        return value
    return "".join(span.text for span in value)


class Paragraph(NamedTuple):
    """Lines of text, one line of the working each. `math` gives, where a line is a
    formula, its LaTeX math (None for a line that is words), for writers that set math."""

    lines: tuple[Line, ...]
    style: Style = ""
    math: tuple[str | None, ...] | None = None


def paragraph(
    *lines: Line | str, style: Style = "", math: Sequence[str | None] | None = None
) -> Paragraph:
    """Return a paragraph of lines given as strings or Lines."""
    return Paragraph(
        tuple(line(item) if isinstance(item, str) else item for item in lines),
        style,
        None if math is None else tuple(math),
    )


class Table(NamedTuple):
    """A table of rows, each cell text (or a styled line): the terms of a loss, the listed
    alignments. `rows` may be lazy (a Sequence that formats a row when it is read), so a
    writer that shows a dozen of two million rows formats only those.

    `left` are the columns set flush left (words and working; numbers are right); `bold`
    the column of the terms; `wide` a column that takes the width left over; `whole` asks
    every writer for every row (a listing asked for whole: every alignment of a label),
    where a long table otherwise has its middle elided."""

    headers: tuple[str, ...]
    rows: Sequence[Sequence[str | Line]]
    left: frozenset[int] = frozenset()
    bold: int | None = None
    wide: int | None = None
    whole: bool = False


# How a matrix cell is written: `operand` a given value (never the whole number it is
# not), `input` a CTC input value, `trellis` a sum or probability of the trellis,
# `number` a plain number (a gradient). Each writer chooses its digits.
CellKind = Literal["operand", "input", "trellis", "number"]


class Matrix(NamedTuple):
    """A matrix shown whole or in part: rows down (`row_label`: i or t), named columns.

    `marks[r]` is the column marked in row r (the best path), `important` the columns a
    writer that must leave columns out keeps (the label's symbols, a repeated letter and
    the blank between); `logs`, the cells' natural logarithms, lets a writer write a cell
    float64 holds only as 0 or ∞ by its logarithm; `shade` asks a writer that can to shade
    cells by size. `caption` is a line before it (`ŷ (3 × 4):`), `note` a dim note before
    it, and `marks_note` what the marks are (a writer says how it marks them)."""

    values: Any  # a 2-D numpy array
    columns: tuple[str, ...]
    row_label: str = "t"
    cell: CellKind = "number"
    marks: Sequence[int | None] | None = None
    important: tuple[int, ...] = ()
    logs: Any = None
    shade: bool = False
    caption: str | None = None
    note: str | None = None
    marks_note: str | None = None
    important_note: str | None = None  # what the `important` columns are, for a writer
    # that keeps only them: "the blank's and the label's symbols'"


Block = Paragraph | Table | Matrix


class Section(NamedTuple):
    """A headed part of the working. `role` says what it is, for writers that show only
    some parts (a question sheet keeps the `inputs`): inputs, formula, terms, listed,
    exact, trellis, gradient."""

    heading: str
    blocks: tuple[Block, ...]
    role: str = ""


class Answer(NamedTuple):
    """The answer's lines (the first is the headline), the ✓/✗ line against the answer
    key (None without one), what a missed key does match instead, and whether it matched."""

    lines: tuple[Line, ...]
    check: Line | None = None
    instead: tuple[str, ...] = ()
    matches: bool | None = None


class Document(NamedTuple):
    """One solved problem's working. `question` is what the problem asks, in a sentence
    (a question sheet's text), and `given` what the question gives beyond the inputs
    section (the alignments a lecture problem lists, without their products; a custom
    loss's weighted terms); `parts` are the workings of a custom loss's components (shown
    with --details, each headed `term i of <title>`)."""

    title: str
    question: str
    sections: tuple[Section, ...]
    answer: Answer
    warnings: tuple[str, ...] = ()
    warnings_title: str = "Warnings"
    parts: tuple[Document, ...] = ()
    loss: str = ""
    given: tuple[Block, ...] = ()

    def section(self, role: str) -> Section | None:
        """Return the section of this role, or None."""
        return next((s for s in self.sections if s.role == role), None)
