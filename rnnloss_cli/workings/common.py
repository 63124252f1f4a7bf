"""The parts of a working every loss shares: inputs, the term table's layout, the totals,
the answer, the check against the answer key and what a missed key matches instead.

Everything here writes numbers the core already computed as text; nothing here computes
a loss, and nothing here knows an output format (see rnnloss_cli.document).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from rnnloss_cli.document import (
    Answer,
    Block,
    Document,
    Line,
    Matrix,
    Paragraph,
    Section,
    Table,
    line,
    paragraph,
)
from rnnloss_cli.errors import printable
from rnnloss_cli.render.numbers import (
    beyond,
    class_names,
    decimal,
    listing,
    num,
    operand,
    sum_expression,
    vector,
)

if TYPE_CHECKING:
    from rnnloss_cli.solver import Solution

# Importing this module is cheap (no numpy: it is imported inside the functions that use
# it), so a loss module can import it at its top and stay cheap to import itself: a
# command's start-up, `explain` and `new` read the loss modules and never numpy.


class Formula(NamedTuple):
    """A formula line: as the terminal writes it, and in LaTeX math."""

    text: str
    math: str


# Formula lines (words, or Formulas), term table headers, the rows (possibly lazy).
Rows = tuple[list[Any], list[str], Sequence[list[str]]]

FRAC_N = r"\frac{1}{n} "  # the mean's 1/n, in LaTeX
LATEX_LOGS = {"e": r"\ln", "2": r"\log_2", "10": r"\log_{10}"}


def latex_log(log_base: str | None) -> str:
    """Return the logarithm's LaTeX: \\ln, \\log_2, \\log_{10}."""
    return LATEX_LOGS.get(log_base or "e", r"\ln")


_EXPONENT = re.compile(r"(\d(?:\.\d+)?)e([+-]?)0*(\d+)")


def latex_number(text: str) -> str:
    """Return a number as the working writes it (−0.5, (−1e+308), 1e−07, ∞) in LaTeX math:
    −0.5, (-1 \\times 10^{308}), 1 \\times 10^{-7}, \\infty."""
    text = text.replace("−", "-")
    text = _EXPONENT.sub(
        lambda m: f"{m[1]} \\times 10^{{{'-' if m[2] == '-' else ''}{m[3]}}}", text
    )
    return text.replace("∞", r"\infty")


def formula_paragraph(formula: Sequence[Any]) -> Paragraph:
    """Return the Formula section's lines, with their LaTeX math where they have it."""
    texts = [f.text if isinstance(f, Formula) else f for f in formula]
    math = [f.math if isinstance(f, Formula) else None for f in formula]
    return paragraph(*texts, math=math if any(m is not None for m in math) else None)


# The input arrays the working shows, with their names in formulas.
INPUT_KEYS = (
    ("y", "y"),
    ("yhat", "ŷ"),
    ("logits", "logits"),
    ("log_probs", "log ŷ"),
    ("scores", "scores"),
)
# Term-table columns set flush left: words and working (numbers are right-aligned).
LEFT_HEADERS = ("working", "target", "rival", "worst rival", "token", "name", "loss")


def position(shape: tuple[int, ...], k: int) -> tuple[int, ...]:
    """Return the position of the k-th term (row-major) in an array of `shape`."""
    import numpy as np

    return tuple(int(i) for i in np.unravel_index(k, shape))


def position_label(where: tuple[int, ...]) -> str:
    """Return a term's number as the formula counts (1-based): `2`, or `(1, 3)` for a matrix."""
    if len(where) == 1:
        return str(where[0] + 1)
    return "(" + ", ".join(str(i + 1) for i in where) + ")"


class Layout(NamedTuple):
    """What a loss adds to the common working: its display name, its rows, and optionally
    its own inputs and extra lines under the totals."""

    name: str
    rows: Callable[[Solution], Rows]
    inputs: Callable[[Solution], list[Block]] | None = None
    extra_totals: Callable[[Solution], list[Line]] | None = None
    mean: bool = True  # whether the totals show a mean (a custom loss is a weighted sum)
    question: str = ""  # what the problem asks, before its inputs
    given: Callable[[Solution], list[Block]] | None = None  # see Document.given
    target_line: bool = False  # the inputs name each observation's target class
    # With `grad: true`: the gradient's formula lines, table headers and a row a term.
    gradient: Callable[[Solution], Rows] | None = None


def clip_bounds(clip: float) -> str:
    """Return the clipping interval, `[1e−07, 0.9999999]`: 1 − ε never written as 1."""
    return f"[{operand(clip)}, {operand(1 - clip)}]"


def clip_line(clip: float) -> str:
    """Return the Inputs line that says clipping is on, and what it does."""
    return f"clip = {num(clip)}: on, each ŷ is clipped into {clip_bounds(clip)} (as Keras)"


def clip_formula(clip: float) -> str:
    """Return the Formula line that says ŷ is clipped first."""
    return f"ŷ clipped into {clip_bounds(clip)} first (clip = {num(clip)})"


def clipped(value: float, clip: float | None) -> str:
    """Return ŷ as the working uses it: `clip(1) = 0.99` when clipping moved it."""
    if clip is None or clip <= value <= 1 - clip:
        return operand(value)
    return f"clip({operand(value)}) = {operand(min(max(value, clip), 1 - clip))}"


def input_blocks(solution: Solution, target_line: bool = False) -> list[Block]:
    """Return the problem's inputs: vectors and settings as lines, matrices as matrices
    (in the formula's order); `target_line`: the target classes named on a line."""
    details, display = solution.result.details, solution.problem.display
    classes = class_names(display)
    blocks: list[Block] = []
    lines: list[str] = []

    def flush() -> None:
        if lines:
            blocks.append(paragraph(*lines))
            lines.clear()

    if "target" in display and ("scores" in details or target_line):
        names = [classes[t] if classes else str(t) for t in display["target"]]
        lines.append(f"target = {listing(names)}")
    matrices = False
    for key, label in INPUT_KEYS:
        if key not in details or (key == "y" and "target" in display):
            continue
        value = details[key]
        if value.ndim == 1:
            lines.append(f"{label} = {vector(value)}")
            continue
        flush()
        matrices = True
        # Classes keep their 0-based index, as `target` names them.
        columns = classes or [str(c) for c in range(value.shape[1])]
        rows, count = value.shape
        blocks.append(
            Matrix(value, tuple(columns), "i", "operand", caption=f"{label} ({rows} × {count}):")
        )
    if "margin" in details:
        extra = f"margin = {num(details['margin'])}"
        if "multiclass" in details:
            extra += f", multi-class rule: {details['multiclass']}"
        if details["squared"]:
            extra += ", squared"
        lines.append(extra)
    if classes and not matrices:
        lines.append(f"classes = {listing(classes)}")
    if "y_smoothed" in details:
        lines.append(f"label smoothing ε = {num(details['label_smoothing'])}: y ← (1 − ε)·y + ε/C")
    clip = solution.problem.inputs.get("clip")
    if clip is not None:
        lines.append(clip_line(clip))
    flush()
    return blocks


def term_table(headers: Sequence[str], rows: Sequence[Sequence[str]], bold: str = "term") -> Table:
    """Return the table of terms: words and working flush left, the `bold` column (the
    terms) bold."""
    left = frozenset(
        i
        for i, header in enumerate(headers)
        if header in LEFT_HEADERS or "max" in header or "(" in header
    )
    column = headers.index(bold) if bold in headers else None
    return Table(tuple(headers), rows, left=left, bold=column)


def totals(solution: Solution, layout: Layout) -> list[Line]:
    """Return the Sum and Mean lines, and the loss's own lines under them."""
    import numpy as np

    result = solution.result
    flat: Sequence[Any] = np.ravel(result.terms)
    n = len(flat)
    total, mean = num(result.sum), num(result.mean)
    exact = getattr(result, "exact_sum", None)
    if exact is not None:
        # Terms float64 holds only as ±∞ are summed as what they are: 1e+616 + (−2e+308).
        flat = [result.exact_terms.get(i, v) for i, v in enumerate(flat)]
        total, mean = beyond(exact), beyond(exact / n)
    expression = f"{sum_expression(flat)} = " if n > 1 else ""
    lines = [line(("Sum   ", "bold"), f"Σ = {expression}{total}")]
    if layout.mean:
        lines.append(line(("Mean  ", "bold"), f"{num(exact) if exact else total} / {n} = {mean}"))
    if layout.extra_totals is not None:
        lines += layout.extra_totals(solution)
    return lines


def base(log_base: str | None) -> str:
    """Return `, log base 2` for a loss not in nats, else nothing."""
    return f", log base {log_base}" if log_base not in (None, "e") else ""


def headline(title: str, value: float) -> Line:
    """Return an answer line: `title = value` to 6 digits, and `≈` 4 digits if they differ."""
    parts: list[Any] = [(f"{title} = ", "bold"), (num(value, 6), "answer")]
    if num(value, 4) != num(value, 6):
        parts.append(f"  ≈ {num(value, 4)}")
    return line(*parts)


def answer_lines(solution: Solution, name: str) -> tuple[Line, ...]:
    """Return the answer line: the loss, its reduction, its value (full precision shown)."""
    result = solution.result
    if result.reduction == "none":
        import numpy as np

        terms = vector(np.ravel(result.terms))
        return (line((f"{name} (reduction none): ", "bold"), f"terms = {terms}"),)
    title = f"{name} ({result.reduction}{base(result.log_base)})"
    exact = getattr(result, "exact_value", None)
    if exact is not None and not math.isfinite(float(result.value)):
        # Beyond float64, as the Sum line writes it: 2e+308 (float64: ∞), not a bare ∞.
        return (line((f"{title} = ", "bold"), (beyond(exact), "answer")),)
    return (headline(title, float(result.value)),)


def check_line(solution: Solution, subject: str = "") -> Line | None:
    """Return the ✓/✗ line against the answer key, or None when there is none. `subject`
    names the value compared where the answer's lines hold more than one value."""
    problem = solution.problem
    if problem.expected is None:
        return None
    key = f"{num(problem.expected, 10)} (± {decimal(problem.tolerance or 0.0)})"
    subject = f"{subject} ".lstrip()
    if solution.matches:
        return line(("✓ ", "good"), f"{subject}matches the answer key {key}")
    diff = solution.difference
    off = f": off by {num(abs(diff), 4)}" if diff is not None else ""
    return line(("✗ ", "bad"), f"{subject}does not match the answer key {key}{off}")


MAX_READINGS = 3  # other readings an answer key matches, named under the ✗


def instead_lines(solution: Solution) -> tuple[str, ...]:
    """Return what a missed answer key does match (another reduction, say) and how to ask
    for it: `but it matches the mean, 0.43375: ask for it with reduction: mean`."""
    lines = []
    for reading in solution.instead[:MAX_READINGS]:
        value = num(reading.value)
        if not reading.settings:
            lines.append(f"but it matches {reading.what} = {value}: {reading.note}")
            continue
        keys = ", ".join(f"{k}: {v}" for k, v in reading.settings)
        flags = " ".join(f"--{k.replace('_', '-')} {v}" for k, v in reading.settings)
        note = f"; {reading.note}" if reading.note else ""
        lines.append(
            f"but it matches {reading.what}, {value}: ask for it with {keys} ({flags}){note}"
        )
    if len(solution.instead) > MAX_READINGS:
        lines.append(f"… and {len(solution.instead) - MAX_READINGS} more readings")
    return tuple(lines)


def answer(solution: Solution, lines: Sequence[Line], subject: str = "") -> Answer:
    """Return the answer with its check against the answer key."""
    return Answer(
        tuple(lines),
        check_line(solution, subject),
        instead_lines(solution) if solution.problem.expected is not None else (),
        solution.matches,
    )


PROPER_NAMES = ("Huber", "Kullback", "Elman")  # loss names that begin with a name


def question(solution: Solution, name: str) -> str:
    """Return what the problem asks, in a sentence: `Compute the hinge loss (mean).`"""
    result = solution.result
    settings = result.reduction + base(getattr(result, "log_base", None))
    # "Mean squared error" reads "the mean squared error"; a name stays as it is written
    # ("the Huber loss", "the KL divergence", "the REINFORCE loss").
    first = name.split()[0]
    proper = first[1:2].isupper() or first in PROPER_NAMES
    lead = name if proper else name[0].lower() + name[1:]
    return f"Compute the {lead} ({settings}) of these inputs."


# The prediction inputs by their names in formulas.
WRT_NAMES = {
    "yhat": "ŷ",
    "logits": "z",
    "log_probs": "log ŷ",
    "probs": "π",
    "scores": "s",
}


def gradient_section(solution: Solution, rows: Callable[[Solution], Rows]) -> Section:
    """Return the Gradient section: its formula, a row a term with the numbers substituted,
    and what convention a kink follows."""
    gradient = solution.gradient
    assert gradient is not None
    formula, headers, table_rows = rows(solution)
    name = WRT_NAMES.get(gradient.wrt, gradient.wrt)
    title = f"Gradient ∂L/∂{name} (--json: grad)"
    weight = gradient.parts.get("weight")
    if weight is not None:  # a term of a custom loss: its gradient is the weight × its own
        headers = [*headers[:-1], f"{num(weight)} × {headers[-1]}"]
        formula = [
            *formula,
            f"scaled: the custom loss Σ wᵢ·Lᵢ weighs this term by w = {num(weight)}, so its "
            f"gradient is w × this term's own (the last column)",
        ]
        title = (
            f"Gradient of the custom loss ∂L/∂{name}, w = {num(weight)} × this term's "
            "(--json: grad)"
        )
    table = term_table(headers, table_rows, bold=headers[-1])
    blocks: list[Block] = [formula_paragraph(formula), table]
    if gradient.notes:
        blocks.append(paragraph(*gradient.notes, style="dim"))
    return Section(title, tuple(blocks), "gradient")


def document(solution: Solution, layout: Layout, details: bool = False) -> Document:
    """Return the working of a loss that has one term per row of a term table."""
    result, problem = solution.result, solution.problem
    title = printable(problem.title or layout.name)
    formula, headers, rows = layout.rows(solution)
    if layout.inputs is not None:
        inputs = layout.inputs(solution)
    else:
        inputs = input_blocks(solution, layout.target_line)
    sections: tuple[Section, ...] = (
        Section("Inputs", tuple(inputs), "inputs"),
        Section("Formula", (formula_paragraph(formula),), "formula"),
        Section(
            "Terms",
            (term_table(headers, rows), Paragraph(tuple(totals(solution, layout)))),
            "terms",
        ),
    )
    if solution.gradient is not None and layout.gradient is not None:
        sections += (gradient_section(solution, layout.gradient),)
    parts: tuple[Document, ...] = ()
    if details and "components" in result.details:
        from rnnloss_cli.workings import build

        parts = tuple(build(c["solution"], details) for c in result.details["components"])
    return Document(
        title=title,
        question=layout.question or question(solution, layout.name),
        sections=sections,
        answer=answer(solution, answer_lines(solution, layout.name)),
        warnings=tuple(printable(w) for w in result.warnings),
        parts=parts,
        loss=result.loss,
        given=tuple(layout.given(solution)) if layout.given is not None else (),
    )
