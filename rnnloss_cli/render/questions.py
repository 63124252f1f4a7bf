"""A question sheet: the problems of a run without their solutions, numbered — what a
lecturer hands out before the solutions — as Markdown or as LaTeX.

Each question is its problem's title, what it asks (`Document.question`), its inputs
section and what the sheet must give beyond it (`Document.given`: a lecture problem's
listed alignments, a custom loss's weighted terms). A custom loss's components follow as
its sub-parts, (a), (b), …. Nothing else of the working is written: no formula, term,
trellis, gradient, answer, answer key, check or warning.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from rnnloss_cli import document as doc

INPUTS = "inputs"  # the one section role a question shows
ROMAN = (
    (1000, "m"),
    (900, "cm"),
    (500, "d"),
    (400, "cd"),
    (100, "c"),
    (90, "xc"),
    (50, "l"),
    (40, "xl"),
    (10, "x"),
    (9, "ix"),
    (5, "v"),
    (4, "iv"),
    (1, "i"),
)


def _roman(number: int) -> str:
    """Return `number` (at least 1) in lower-case Roman numerals."""
    out = ""
    for value, letters in ROMAN:
        count, number = divmod(number, value)
        out += letters * count
    return out


def _letters(number: int) -> str:
    """Return `number` (at least 1) as letters: a, b, …, z, aa, ab, …"""
    out = ""
    while number:
        number, rest = divmod(number - 1, 26)
        out = chr(ord("a") + rest) + out
    return out


def _label(depth: int, index: int) -> str:
    """Return a sub-part's label: (a), (b), … under a question; (i), (ii), … below that;
    (A), (B), … below those; then (1), (2), …: no two levels of a nested custom loss
    alike."""
    number = index + 1
    if depth == 0:
        return f"({_letters(number)})"
    if depth == 1:
        return f"({_roman(number)})"
    if depth == 2:
        return f"({_letters(number).upper()})"
    return f"({number})"


ELIDED = re.compile(r"(?:^|[\[\s,])…(?:[\],\s]|$)")  # `[1, 2, …, 9]`, not `wait…`
ABRIDGED = (
    "(Some inputs above are abridged, their middle elided (…): the problem file has them in full.)"
)


def _shown(document: doc.Document) -> list[doc.Block]:
    """Return the blocks a question shows: its inputs, then what it gives beyond them; and
    a note where a list or matrix is abridged, so that no sheet silently gives a student
    less data than the question needs."""
    inputs = document.section(INPUTS)
    blocks = [*(inputs.blocks if inputs is not None else ()), *document.given]
    if any(_abridged(block) for block in blocks):
        blocks.append(doc.paragraph(ABRIDGED, style="dim"))
    return blocks


def _abridged(block: doc.Block) -> bool:
    """Whether a writer shows this block with a part left out."""
    if isinstance(block, doc.Matrix):  # as the Markdown and LaTeX writers elide one
        from rnnloss_cli.render.markdown import MAX_COLUMNS, MAX_ROWS

        rows, columns = block.values.shape
        return rows > MAX_ROWS or columns > MAX_COLUMNS
    if isinstance(block, doc.Paragraph):  # an elided list writes … as an item of its own
        return any(ELIDED.search(doc.plain(line)) for line in block.lines)
    return False


def markdown(documents: Sequence[doc.Document]) -> str:
    """Return the question sheet of a run as Markdown: `## Question n: title` each."""
    from rnnloss_cli.render.markdown import _block, escape

    def question(document: doc.Document, heading: str, level: int, depth: int) -> list[str]:
        out = [f"{'#' * min(level, 6)} {heading}", "", escape(document.question)]
        for block in _shown(document):
            out += ["", *_block(block)]
        for i, part in enumerate(document.parts):
            label = f"{_label(depth, i)} {escape(part.title)}"
            out += ["", *question(part, label, level + 1, depth + 1)]
        return out

    lines: list[str] = []
    for number, item in enumerate(documents, 1):
        if lines:
            lines.append("")
        lines += question(item, f"Question {number}: {escape(item.title)}", 2, 0)
    return "\n".join(lines).rstrip() + "\n"


def latex(documents: Sequence[doc.Document], only_body: bool = False) -> str:
    """Return the question sheet of a run as a LaTeX document (with `only_body`, its body
    to \\input): `\\section*{Question n: title}` each, sub-parts one level down."""
    from rnnloss_cli.render import latex as tex

    def question(document: doc.Document, heading: str, level: int, depth: int) -> list[str]:
        out = [
            tex.heading(level, heading),
            "",
            f"{{\\raggedright\\noindent {tex.escape(document.question)}\\par}}",
        ]
        out += tex.blocks(_shown(document))
        for i, part in enumerate(document.parts):
            label = f"{_label(depth, i)} {tex.escape(part.title)}"
            out += ["", *question(part, label, level + 1, depth + 1)]
        return out

    body: list[str] = []
    for number, item in enumerate(documents, 1):
        if body:
            body.append("")
        body += question(item, f"Question {number}: {tex.escape(item.title)}", 0, 0)
    return tex.complete("\n".join(body) + "\n", only_body)
