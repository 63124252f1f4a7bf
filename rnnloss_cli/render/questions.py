"""A question sheet: the problems of a run without their solutions, numbered — what a
lecturer hands out before the solutions — as Markdown or as LaTeX.

Each question is its problem's title, what it asks (`Document.question`), its inputs
section and what the sheet must give beyond it (`Document.given`: a lecture problem's
listed alignments, a custom loss's weighted terms). A custom loss's components follow as
its sub-parts, (a), (b), …. Nothing else of the working is written: no formula, term,
trellis, gradient, answer, answer key, check or warning.
"""

from __future__ import annotations

from collections.abc import Sequence

from rnnloss_cli import document as doc

INPUTS = "inputs"  # the one section role a question shows
ROMAN = ("i", "ii", "iii", "iv", "v", "vi", "vii", "viii", "ix", "x")


def _label(depth: int, index: int) -> str:
    """Return a sub-part's label: (a), (b), … under a question; (i), (ii), … below that."""
    if depth == 0 or index >= len(ROMAN):
        letters = ""
        index += 1
        while index:
            index, rest = divmod(index - 1, 26)
            letters = chr(ord("a") + rest) + letters
        return f"({letters})"
    return f"({ROMAN[index]})"


def _shown(document: doc.Document) -> list[doc.Block]:
    """Return the blocks a question shows: its inputs, then what it gives beyond them."""
    inputs = document.section(INPUTS)
    return [*(inputs.blocks if inputs is not None else ()), *document.given]


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
