"""The working, as a tutor would write it: inputs, formula, one row per term, sum, mean, answer.

Everything here formats numbers the core already computed; nothing here computes a loss.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from rich import box
from rich.console import Group, RenderableType
from rich.padding import Padding
from rich.panel import Panel
from rich.rule import Rule
from rich.table import Table
from rich.text import Text

from rnnloss_cli.core.result import log_divisor
from rnnloss_cli.errors import printable
from rnnloss_cli.render import sequence as seq
from rnnloss_cli.render.numbers import (
    LazyRows,
    beyond,
    class_names,
    decimal,
    elide,
    listing,
    log_name,
    log_of,
    num,
    operand,
    paren,
    probability,
    sum_expression,
    vector,
)
from rnnloss_cli.solver import Solution

NAMES = {
    "mse": "Mean squared error",
    "bce": "Binary cross-entropy",
    "nll": "Negative log-likelihood",
    "cce": "Categorical cross-entropy",
    "hinge": "Hinge loss",
    "sequence": "Sequence cross-entropy",
    "reinforce": "REINFORCE loss",
    "custom": "Custom loss",
}
# The input arrays the working shows, with their names in formulas.
INPUT_KEYS = (
    ("y", "y"),
    ("yhat", "ŷ"),
    ("logits", "logits"),
    ("log_probs", "log ŷ"),
    ("scores", "scores"),
)
MAX_ROWS = 12  # term rows shown before the middle is elided
MAX_COLUMNS = 8  # matrix columns shown before the middle is elided


def _indent(renderable: RenderableType, pad: tuple[int, int, int, int]) -> Padding:
    """Indent without padding lines out to the full width (no trailing blanks in pipes)."""
    return Padding(renderable, pad, expand=False)


def _elide(count: int, limit: int = MAX_ROWS) -> list[int | None]:
    """Return the row (or column) positions to show, with None where the middle is left out."""
    return elide(range(count), limit, limit - 3, 2)


def _position(shape: tuple[int, ...], k: int) -> tuple[int, ...]:
    """Return the position of the k-th term (row-major) in an array of `shape`."""
    return tuple(int(i) for i in np.unravel_index(k, shape))


def _position_label(position: tuple[int, ...]) -> str:
    """Return a term's number as the formula counts (1-based): `2`, or `(1, 3)` for a matrix."""
    if len(position) == 1:
        return str(position[0] + 1)
    return "(" + ", ".join(str(i + 1) for i in position) + ")"


def _matrix_table(
    matrix: np.ndarray, *, row_label: str, column_names: Sequence[str] | None = None
) -> Table:
    table = Table(box=box.SIMPLE_HEAD, padding=(0, 1), show_edge=False)
    table.add_column(row_label, justify="right", style="dim")
    columns = _elide(matrix.shape[1], MAX_COLUMNS)
    for c in columns:
        if c is None:
            table.add_column("…", justify="center")
        else:
            # Classes keep their 0-based index, as `target` names them.
            name = column_names[c] if column_names is not None else str(c)
            table.add_column(Text(name), justify="right")
    for r in _elide(matrix.shape[0]):
        if r is None:
            table.add_row("…", *["⋮" for _ in columns])
            continue
        # As the term rows write it: a ŷ of 0.99999999 is not 1 where its log is taken.
        table.add_row(str(r + 1), *["…" if c is None else operand(matrix[r, c]) for c in columns])
    return table


@dataclass(frozen=True)
class MatrixInput:
    """An input matrix of the working: its name in formulas, the values, column names."""

    label: str
    values: np.ndarray
    columns: Sequence[str] | None


def input_items(solution: Solution) -> list[str | MatrixInput]:
    """Return the problem's inputs as the working states them, for every layout: a line of
    text for a vector or a setting, a MatrixInput for a matrix (in the formula's order)."""
    details, display = solution.result.details, solution.problem.display
    classes = class_names(display)
    items: list[str | MatrixInput] = []
    if "target" in display and ("scores" in details or solution.problem.loss in ("nll", "cce")):
        names = [classes[t] if classes else str(t) for t in display["target"]]
        items.append(f"target = {listing(names)}")
    for key, label in INPUT_KEYS:
        if key not in details or (key == "y" and "target" in display):
            continue
        value = details[key]
        if value.ndim == 1:
            items.append(f"{label} = {vector(value)}")
        else:
            items.append(MatrixInput(label, value, classes))
    if solution.result.loss == "hinge":
        extra = f"margin = {num(details['margin'])}"
        if "multiclass" in details:
            extra += f", multi-class rule: {details['multiclass']}"
        if details["squared"]:
            extra += ", squared"
        items.append(extra)
    if classes and not any(isinstance(i, MatrixInput) for i in items):
        items.append(f"classes = {listing(classes)}")
    if "y_smoothed" in details:
        items.append(f"label smoothing ε = {num(details['label_smoothing'])}: y ← (1 − ε)·y + ε/C")
    clip = solution.problem.inputs.get("clip")
    if clip is not None:
        items.append(clip_line(clip))
    return items


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


def _inputs(solution: Solution) -> RenderableType:
    """Return the problem's inputs: vectors inline, matrices as small tables."""
    lines: list[RenderableType] = []
    for item in input_items(solution):
        if isinstance(item, str):
            lines.append(Text(item))
            continue
        rows, columns = item.values.shape
        lines.append(Text(f"{item.label} ({rows} × {columns}):"))
        table = _matrix_table(item.values, row_label="i", column_names=item.columns)
        lines.append(_indent(table, (0, 0, 0, 2)))
    return Group(*lines)


# --- one function a loss: formula lines, term table columns, one row of cells per term ---


def _multiclass_hinge_rows(solution: Solution) -> seq.Rows:
    d, display = solution.result.details, solution.problem.display
    classes = class_names(display)
    m = num(d["margin"])
    power = "²" if d["squared"] else ""
    mean = "(1/n) " if solution.result.reduction == "mean" else ""

    def name(c: int) -> str:
        return classes[c] if classes else str(c)

    if d["multiclass"] == "crammer-singer":
        formula = [
            f"L = {mean}Σᵢ max(0, {m} − s[yᵢ] + max_(j≠yᵢ) s[j]){power}   (Crammer–Singer,",
            "as scikit-learn's hinge_loss): only the strongest competing class counts",
        ]
        headers = ["i", "target", "rival", "working", "term"]
    else:
        formula = [
            f"L = {mean}Σᵢ (1/C) Σ_(j≠yᵢ) max(0, {m} − s[yᵢ] + s[j]){power}   (Weston–Watkins,",
            "as PyTorch's multi_margin_loss, which also divides by the C classes)",
        ]
        headers = ["i", "target", "worst rival", "working", "term"]

    def row(i: int) -> list[str]:
        t = int(d["target"][i])
        s_y = paren(d["true_score"][i])
        rival = int(d["rival"][i])
        if d["multiclass"] == "crammer-singer":
            work = f"max(0, {m} − {s_y} + {paren(d['scores'][i, rival])}){power}"
        else:
            rivals: list[int | None] = [j for j in range(d["scores"].shape[1]) if j != t]
            if len(rivals) > 4:
                rivals = elide(rivals, 4, 2, 1)
            parts = [
                "…" if j is None else f"max(0, {m} − {s_y} + {paren(d['scores'][i, j])}){power}"
                for j in rivals
            ]
            work = "(" + "\n + ".join(parts) + f") / {d['scores'].shape[1]}"
        return [str(i + 1), name(t), name(rival), work, num(solution.result.terms[i])]

    return formula, headers, LazyRows(len(d["target"]), row)


def _hinge_rows(solution: Solution) -> seq.Rows:
    d = solution.result.details
    if "scores" in d:
        return _multiclass_hinge_rows(solution)
    m = num(d["margin"])
    power = "²" if d["squared"] else ""
    mean = solution.result.reduction == "mean"
    formula = [
        f"L = {'(1/n) ' if mean else ''}Σᵢ max(0, {m} − yᵢ·ŷᵢ){power}",
        "The lecture's formula is the sum Σₜ max(0, 1 − yₜ·ŷₜ), but its worked",
        "example averages; both the sum and the mean are shown below.",
    ]
    headers = ["i", "y", "ŷ", f"max(0, {m} − y·ŷ){power}", "term"]

    def row(k: int) -> list[str]:
        pos = _position(d["y"].shape, k)
        y, yhat, raw = d["y"][pos], d["yhat"][pos], d["raw"][pos]
        product = f"({num(y)})({num(yhat)})"
        work = f"max(0, {m} − {product}) = max(0, {num(raw)})"
        if d["squared"]:
            work = f"max(0, {m} − {product})² = {paren(max(raw, 0.0))}²"
        return [_position_label(pos), num(y), num(yhat), work, num(solution.result.terms[pos])]

    return formula, headers, LazyRows(d["y"].size, row)


def _mse_rows(solution: Solution) -> seq.Rows:
    d = solution.result.details
    mean = solution.result.reduction == "mean"
    formula = [f"MSE = {'(1/n) ' if mean else ''}Σᵢ (yᵢ − ŷᵢ)²"]
    headers = ["i", "y", "ŷ", "(y − ŷ)²", "term"]

    def row(k: int) -> list[str]:
        pos = _position(d["y"].shape, k)
        y, yhat, diff = d["y"][pos], d["yhat"][pos], d["diff"][pos]
        work = f"({num(y)} − {paren(yhat)})² = {paren(diff)}²"
        return [_position_label(pos), num(y), num(yhat), work, num(solution.result.terms[pos])]

    return formula, headers, LazyRows(d["y"].size, row)


def _bce_rows(solution: Solution) -> seq.Rows:
    d, result = solution.result.details, solution.result
    log = log_name(result.log_base)
    mean = result.reduction == "mean"
    formula = [
        f"BCE = −{'(1/n) ' if mean else ''}Σᵢ [yᵢ·{log} ŷᵢ + (1 − yᵢ)·{log}(1 − ŷᵢ)]"
        "   (0·log 0 = 0)"
    ]
    if "logits" in d:
        formula.append(
            "ŷ = σ(logit) = 1 / (1 + e^(−logit)), the logs taken from the logits "
            "directly so nothing rounds to log 0"
        )
    clip = solution.problem.inputs.get("clip")
    if clip is not None:
        formula.append(clip_formula(clip))
    headers = ["i", "y", "ŷ", "working", "term"]

    def row(k: int) -> list[str]:
        pos = _position(d["y"].shape, k)
        y, p = float(d["y"][pos]), float(d["p"][pos])
        # With logits the probability is written σ(x): a rounded σ(40) = 1 would make
        # log(1 − 1) look infinite where the loss, taken from the logit, is finite.
        if "logits" in d:
            p_text = f"σ({num(d['logits'][pos])})"
            shown_p = f"{p_text} = {operand(p)}"
        else:
            p_text = operand(p)  # the clipped value the log is taken of
            shown_p = clipped(float(d["yhat"][pos]), clip)
        if y == 1:
            work = f"−{log} {p_text}" if "logits" in d else f"−{log}({p_text})"
        elif y == 0:
            work = f"−{log}(1 − {p_text})"
        else:
            first = f"{log} {p_text}" if "logits" in d else f"{log}({p_text})"
            work = f"−[{num(y)}·{first} + {num(1 - y)}·{log}(1 − {p_text})]"
        return [_position_label(pos), num(y), shown_p, work, num(result.terms[pos])]

    return formula, headers, LazyRows(d["y"].size, row)


def _cross_entropy_rows(solution: Solution) -> seq.Rows:
    d, result, display = solution.result.details, solution.result, solution.problem.display
    log = log_name(result.log_base)
    mean = result.reduction == "mean"
    name = "NLL" if result.loss == "nll" else "CCE"
    formula = [
        f"{name} = −{'(1/n) ' if mean else ''}Σᵢ Σ_c yᵢ,c·{log} ŷᵢ,c",
        f"(one-hot y: a single term, −{log} ŷ[target])",
    ]
    if "logits" in d:
        formula.append("ŷ = softmax(logits), computed as log-softmax (no overflow)")
    clip = solution.problem.inputs.get("clip")
    if clip is not None:
        formula.append(clip_formula(clip))
    weights = d.get("y_smoothed", d["y"])
    classes = class_names(display)
    one_hot = "target" in display and "y_smoothed" not in d
    headers = (
        ["i", "target", "ŷ[target]", "working", "term"] if one_hot else ["i", "working", "term"]
    )

    divisor = log_divisor(result.log_base or "e")

    def logs(i: int, c: int) -> tuple[float | None, float | None]:
        """ln ŷ[i, c] where it was computed, and half of it where even that overflows."""
        log_p = d["log_p"][i, c] if "log_p" in d else None
        half = d["half_log_p"][i, c] if "overflowed" in d and d["overflowed"][i, c] else None
        return log_p, half

    def logarithm(i: int, c: int) -> str:
        """log ŷ[i, c] as substituted: its value where ŷ underflows to 0 (see log_of)."""
        return log_of(float(d["p"][i, c]), log, divisor, *logs(i, c))

    def row(i: int) -> list[str]:
        p = d["p"][i]
        if one_hot:
            t = display["target"][i]
            label = classes[t] if classes else str(t)
            if clip is not None:
                given = clipped(float(d["yhat"][i, t]), clip)
            else:  # e^(−800), not 0, where ŷ underflows but its log is finite
                given = probability(float(p[t]), *logs(i, t))
            return [str(i + 1), label, given, f"−{logarithm(i, t)}", num(result.terms[i])]
        # Soft targets: one line per class that has weight, y_c·log ŷ_c.
        nonzero = [int(c) for c in np.flatnonzero(weights[i])]
        shown = elide(nonzero, 6, 3, 2)
        parts = ["…" if c is None else f"{num(weights[i, c])}·{logarithm(i, c)}" for c in shown]
        return [str(i + 1), "−( " + "\n + ".join(parts) + " )", num(result.terms[i])]

    rows = LazyRows(weights.shape[0], row)
    if "y_smoothed" in d:
        formula.append(
            f"with label smoothing the targets become (1 − ε)·y + ε/C "
            f"over C = {weights.shape[1]} classes"
        )
    return formula, headers, rows


EXTRA_INPUTS = {
    "sequence": seq.sequence_inputs,
    "reinforce": seq.reinforce_inputs,
    "custom": seq.custom_inputs,
}
EXTRA_TOTALS = {"sequence": seq.sequence_totals, "reinforce": seq.reinforce_totals}

TERM_ROWS: dict[str, Callable[[Solution], seq.Rows]] = {
    "hinge": _hinge_rows,
    "mse": _mse_rows,
    "bce": _bce_rows,
    "nll": _cross_entropy_rows,
    "cce": _cross_entropy_rows,
    "sequence": seq.sequence_rows,
    "reinforce": seq.reinforce_rows,
    "custom": seq.custom_rows,
}


def _term_table(headers: list[str], rows: Sequence[list[str]]) -> Table:
    table = Table(box=box.SIMPLE_HEAD, padding=(0, 1), show_edge=False)
    for header in headers:
        table.add_column(
            Text(header),
            justify="left"
            if header in ("working", "target", "rival", "worst rival", "token", "name", "loss")
            or "max" in header
            or "(" in header
            else "right",
            overflow="fold",
            style="bold" if header == "term" else None,
        )
    for r in _elide(len(rows)):
        if r is None:
            table.add_row(*["⋮"] * len(headers))
        else:
            table.add_row(*[Text(cell) for cell in rows[r]])
    return table


def totals(solution: Solution) -> list[Text]:
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
    lines = [Text.assemble(("Sum   ", "bold"), f"Σ = {expression}{total}")]
    if result.loss != "custom":  # a custom loss is a weighted sum: no mean to speak of
        lines.append(
            Text.assemble(("Mean  ", "bold"), f"{num(exact) if exact else total} / {n} = {mean}")
        )
    if result.loss in EXTRA_TOTALS:
        lines += EXTRA_TOTALS[result.loss](solution)
    return lines


def answer_text(solution: Solution) -> Text:
    """Return the answer line: the loss, its reduction, its value (full precision shown)."""
    result = solution.result
    name = NAMES.get(result.loss, result.loss)
    if result.reduction == "none":
        return Text.assemble(
            (f"{name} (reduction none): ", "bold"), f"terms = {vector(np.ravel(result.terms))}"
        )
    title = f"{name} ({result.reduction}{base(result.log_base)})"
    exact = getattr(result, "exact_value", None)
    if exact is not None and not math.isfinite(float(result.value)):
        # Beyond float64, as the Sum line writes it: 2e+308 (float64: ∞), not a bare ∞.
        return Text.assemble((f"{title} = ", "bold"), (beyond(exact), "bold green"))
    return headline(title, float(result.value))


def base(log_base: str | None) -> str:
    """Return `, log base 2` for a loss not in nats, else nothing."""
    return f", log base {log_base}" if log_base not in (None, "e") else ""


def headline(title: str, value: float) -> Text:
    """Return an answer line: `title = value` to 6 digits, and `≈` 4 digits if they differ."""
    text = Text.assemble((f"{title} = ", "bold"), (num(value, 6), "bold green"))
    if num(value, 4) != num(value, 6):
        text.append(f"  ≈ {num(value, 4)}")
    return text


def check_text(solution: Solution) -> Text | None:
    """Return the ✓/✗ line against the answer key, or None when there is none."""
    problem = solution.problem
    if problem.expected is None:
        return None
    key = f"{num(problem.expected, 10)} (± {decimal(problem.tolerance or 0.0)})"
    # Where the Answer box leads with another value than the one compared (a CTC −log of
    # an unnormalised sum, which is no loss), the line names the value it compares.
    subject = ""
    if solution.result.loss == "ctc":
        from rnnloss_cli.render.ctc import compared_words

        subject = f"{compared_words(solution) or ''} ".lstrip()
    if solution.matches:
        return Text.assemble(("✓ ", "bold green"), f"{subject}matches the answer key {key}")
    diff = solution.difference
    off = f": off by {num(abs(diff), 4)}" if diff is not None else ""
    return Text.assemble(("✗ ", "bold red"), f"{subject}does not match the answer key {key}{off}")


MAX_READINGS = 3  # other readings an answer key matches, named under the ✗


def instead_lines(solution: Solution) -> list[str]:
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
    return lines


def working(solution: Solution, width: int = 80, details: bool = False) -> RenderableType:
    """Return the whole working of one solved problem as one Rich renderable `width` wide.

    With `details`, a custom loss is followed by the working of each of its terms.
    """
    result, problem = solution.result, solution.problem
    if result.loss == "ctc":
        from rnnloss_cli.render import ctc

        return ctc.working(solution, check_text(solution), width)
    title = printable(problem.title or NAMES.get(result.loss, result.loss))
    formula, headers, rows = TERM_ROWS[result.loss](solution)
    parts: list[RenderableType] = [
        Text(title, style="bold underline"),
        Text(""),
        Text("Inputs", style="bold cyan"),
        _indent(
            EXTRA_INPUTS[result.loss](solution)
            if result.loss in EXTRA_INPUTS
            else _inputs(solution),
            (0, 0, 0, 2),
        ),
        Text(""),
        Text("Formula", style="bold cyan"),
        _indent(Group(*[Text(line) for line in formula]), (0, 0, 0, 2)),
        Text(""),
        Text("Terms", style="bold cyan"),
        _term_table(headers, rows),
        _indent(Group(*totals(solution)), (0, 0, 0, 2)),
        Text(""),
    ]
    parts += closing_panels(solution, [answer_text(solution)], check_text(solution))
    if details and result.loss == "custom":
        for i, component in enumerate(seq.custom_components(solution)):
            parts += [
                Rule(Text(f"term {i + 1} of {title}"), style="dim"),  # Text: no markup
                working(component, width, details),
            ]
    return Group(*parts)


def closing_panels(
    solution: Solution,
    answer: list[RenderableType],
    check: Text | None,
    warnings_title: str = "Warnings",
) -> list[RenderableType]:
    """Return the answer panel (with the ✓/✗ line) and, if any, the warnings panel."""
    if check is not None:
        mark, rest = check[:2], check[2:]  # "✓ " or "✗ ", hung before the line
        answer = [
            *answer,
            hanging(mark, rest),
            *[hanging("  ", i) for i in instead_lines(solution)],
        ]
    border = "green" if solution.matches in (None, True) else "red"
    panels: list[RenderableType] = [
        Panel(Group(*answer), title="Answer", title_align="left", border_style=border, expand=False)
    ]
    if solution.result.warnings:
        bullets = [hanging("• ", printable(w)) for w in solution.result.warnings]
        panels.append(
            Panel(Group(*bullets), title=warnings_title, title_align="left", border_style="yellow")
        )
    return panels


def hanging(prefix: str | Text, text: str | Text) -> Table:
    """Return `prefix` and `text`, the text's wrapped lines indented under its first."""
    grid = Table.grid(padding=0)
    grid.add_column(no_wrap=True)
    grid.add_column(overflow="fold")
    grid.add_row(prefix, Text(text) if isinstance(text, str) else text)
    return grid
