"""The CTC working: the listed alignments as the lecture multiplies them, the exact answer
beside them, the trellis, the best and greedy paths, and the gradient."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from rich import box
from rich.console import Group, RenderableType
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from rnnloss_cli.core.ctc_solve import CTCResult, alignment_states
from rnnloss_cli.errors import printable
from rnnloss_cli.render.numbers import elide, listing, log_name, num, operand
from rnnloss_cli.render.working import base, headline
from rnnloss_cli.solver import Solution

MAX_FACTORS = 12  # factors written out in a product before the middle is elided
MAX_FRAMES_SHOWN = 24  # trellis / matrix rows shown before the middle is elided


def _indent(renderable: RenderableType) -> Padding:
    return Padding(renderable, (0, 0, 0, 2), expand=False)


def _heading(text: str) -> Text:
    return Text(text, style="bold cyan")


def _product(factors: Sequence[float]) -> str:
    items = [num(f) for f in factors]
    if len(items) > MAX_FACTORS:
        items = [*items[:5], "…", *items[-3:]]
    return " × ".join(items)


MAX_PATH_SHOWN = 60  # symbols of a path written out before the middle is elided


def _word(result: CTCResult, symbols: Sequence[str]) -> str:
    """Return a path or label as the label was written, eliding the middle of long paths
    (user text, shown as `printable` shows it)."""
    if len(symbols) > MAX_PATH_SHOWN:
        head, tail = list(symbols[:40]), list(symbols[-15:])
        return printable(f"{result.word(head)} … {result.word(tail)} ({len(symbols)} symbols)")
    return printable(result.word(symbols))


def symbols_shown(symbols: Sequence[str]) -> list[str]:
    """Return symbols as the working shows them: as written, a control character marked."""
    return [printable(symbol) for symbol in symbols]


def label_columns(result: CTCResult) -> list[int]:
    """Return the alphabet columns of the blank and of the label's symbols (matrix mode):
    those a matrix too wide to show whole keeps."""
    if result.alphabet is None:
        return []
    wanted = {result.blank, *result.label}
    return [i for i, symbol in enumerate(result.alphabet) if symbol in wanted]


def repeat_states(result: CTCResult) -> list[int]:
    """Return the trellis columns of each adjacent repeat in the label — the two letters
    and the blank between them, which no path may skip — for a trellis too wide to show
    whole to keep."""
    out = []
    for i in range(1, len(result.label)):
        if result.label[i] == result.label[i - 1]:
            out += [2 * i - 1, 2 * i, 2 * i + 1]  # states of l_i, the blank, l_(i+1)
    return out


def _rows_shown(count: int, limit: int = MAX_FRAMES_SHOWN) -> list[int | None]:
    return elide(range(count), limit, limit - 4, 3)


def inputs_lines(result: CTCResult, solution: Solution) -> Group:
    """Return the inputs as lines: the label and blank, the values or the alphabet."""
    lines: list[RenderableType] = [
        Text(
            f"label = {_word(result, result.label)}   ({len(result.label)} symbol"
            f"{'' if len(result.label) == 1 else 's'})"
            f"   blank = {printable(result.blank)}"
        )
    ]
    if result.probabilities is not None:
        values = "   ".join(
            f"P({printable(s)}) = {operand(p)}" for s, p in result.probabilities.items()
        )
        lines.append(Text(f"{values}   (sum {operand(result.probabilities_total)})"))
    else:
        assert result.alphabet is not None
        key = solution.problem.display.get("matrix_key", "log_probs")
        lines.append(Text(f"alphabet = {listing(symbols_shown(result.alphabet), 40)}"))
        lines.append(Text(f"{key} (T × V = {result.dp.frames} × {len(result.alphabet)}):"))
    return Group(*lines)


def _inputs(result: CTCResult, solution: Solution, width: int) -> RenderableType:
    lines: list[RenderableType] = [inputs_lines(result, solution)]
    if result.alphabet is not None:
        display = solution.problem.display
        table, note = _frame_table(
            display["matrix"],
            symbols_shown(result.alphabet),
            width=width - 2,
            important=label_columns(result),
            cell=input_cell,
        )
        lines.append(_indent(table))
        if note:
            lines.append(_indent(Text(note, style="dim")))
    return Group(*lines)


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


def _cell(value: float) -> str:
    """Return a trellis cell: 3 significant digits, a short exponent (6.4e−5)."""
    return _short(num(value, 3))


def beyond_cell(value: float, log_value: float) -> str | None:
    """Return a trellis cell that float64 cannot hold — 0 or ∞ although its natural
    logarithm is finite — as e^(that logarithm), `e^−1380.5`; None for any other cell."""
    if (value == 0.0 or math.isinf(value)) and math.isfinite(log_value):
        return f"e^{_short(num(log_value, 5))}"
    return None


def input_cell(value: float) -> str:
    """Return a cell of the input matrix: as `_cell`, but never a whole number it is not
    (a probability of 0.9999999 is not `1`: its log is taken)."""
    return _short(operand(value, 3))


def _short(text: str) -> str:
    """Return a number with a short exponent: 6.4e−05 as 6.4e−5."""
    if "e" in text:
        mantissa, exponent = text.split("e")
        sign = exponent[0]
        text = f"{mantissa}e{sign if sign == '−' else ''}{exponent[1:].lstrip('0')}"
    return text


def _table_width(columns: Sequence[int], label: int) -> int:
    """Return the width of a frame table: each column its text and a blank each side, one
    separator between columns (box SIMPLE_HEAD without edges)."""
    widths = [label, *columns]
    return sum(w + 2 for w in widths) + len(widths) - 1


MAX_PARTS = 4  # a table too wide for the terminal is shown in at most this many parts


def _frame_table(
    matrix: np.ndarray,
    columns: Sequence[str],
    marks: Sequence[int | None] | None = None,
    *,
    width: int = 80,
    shade: bool = False,
    important: Sequence[int] = (),
    cell: Callable[[float], str] = _cell,
    logs: np.ndarray | None = None,
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
    if len(parts) > MAX_PARTS:
        keep = sorted({*important, *marked, 0, 1, count - 2, count - 1} & set(range(count)))
        parts = _parts(keep, widths, label, width)
        left_out = count - len(keep)
        kept_what = (
            "the best path's cells and each repeated letter with the blank between"
            if marks is not None
            else "the blank's and the label's symbols'"
        )
        note = (
            f"{left_out:,} of the {count:,} columns are left out to fit {width} columns (… "
            f"marks where); the columns of {kept_what} are kept (--json gives the whole table)"
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


def log_note(result: CTCResult, value: float, log_value: float, name: str = "p") -> str:
    """Return `  (ln p = −800)` after a probability or sum that float64 holds only as 0 (or
    ∞) while its natural logarithm `log_value` is finite (in the problem's log base, as
    the loss beside it), else ''."""
    if (value == 0.0 or math.isinf(value)) and math.isfinite(log_value):
        log = log_name(result.log_base)
        return f"  ({log} {name} = {num(log_value / result.log_divisor)})"
    return ""


LISTED_HEADERS = ["#", "path", "collapses to", "valid", "product of its factors = probability"]


def listed_rows(result: CTCResult) -> list[list[Text]]:
    """Return one row per listed alignment: number, path, collapse, ✓/✗, product = p."""
    naive = result.naive
    assert naive is not None
    rows = []
    for i, a in enumerate(naive.alignments):
        mark = "stated: " if a.stated else ""
        rows.append(
            [
                Text(str(i + 1)),
                Text(_word(result, a.path)),
                Text(_word(result, a.collapsed)),
                Text("✓" if a.valid else "✗", style="green" if a.valid else "red"),
                Text.assemble(
                    f"{mark}{_product(a.factors)} = ",
                    (num(a.probability, 6), "bold"),
                    log_note(result, a.probability, a.log_probability).rstrip(),
                ),
            ]
        )
    return rows


def listed_totals(result: CTCResult) -> list[Text]:
    """Return the listed method's sum, −log, and the valid-only variant."""
    naive = result.naive
    assert naive is not None
    log = log_name(result.log_base)
    probabilities = [a.probability for a in naive.alignments]
    sum_text = (
        " + ".join(num(p) for p in probabilities)
        if len(probabilities) <= 6
        else f"the {len(probabilities)} products above"
    )
    # A sum that underflows float64 to 0 is given with its log, and the loss is taken
    # from that log: never −ln 0 beside a finite loss.
    total_note = log_note(result, naive.probability, naive.log_probability, "P")
    taken = "P" if total_note else operand(naive.probability)
    lines = [
        Text.assemble(
            ("Sum   ", "bold"), f"P = {sum_text} = {operand(naive.probability)}{total_note}"
        ),
        Text.assemble(("Loss  ", "bold"), f"−{log} {taken} = {num(naive.loss)}"),
    ]
    if result.reduction == "mean" and result.method == "listed":
        lines.append(mean_line(result, naive.loss, explain=True))
    lines.append(
        Text(
            f"valid alignments only: P = {operand(naive.valid_probability)}"
            f"{log_note(result, naive.valid_probability, naive.valid_log_probability, 'P')}, "
            f"−{log} P = {num(naive.valid_loss)}",
            style="dim" if result.method != "valid" else "",
        )
    )
    if result.reduction == "mean" and result.method == "valid":
        lines.append(mean_line(result, naive.valid_loss, explain=True))
    return lines


LISTED_HEADING = "Listed alignments (the lecture's method: multiply each, then add)"
EXACT_HEADING = "Exact CTC (the forward algorithm sums every alignment)"


def collapse_rule(result: CTCResult) -> str:
    return (
        f"collapse rule: merge repeated symbols, then remove the blank ({printable(result.blank)})"
    )


def _listed(result: CTCResult) -> list[RenderableType]:
    table = Table(box=box.SIMPLE_HEAD, padding=(0, 1), show_edge=False)
    for header in LISTED_HEADERS:
        table.add_column(
            header,
            justify="right" if header == "#" else "left",
            overflow="fold",
            ratio=1 if header.startswith("product") else None,
        )
    for row in listed_rows(result):
        table.add_row(*row)
    return [
        _heading(LISTED_HEADING),
        _indent(Text(collapse_rule(result))),
        table,
        _indent(Group(*listed_totals(result))),
    ]


def per_symbol_words(result: CTCResult) -> str:
    """Return what reduction mean divides by, in words: `5 label symbols`, `1 label
    symbol`, or for an empty label `max(L, 1) = 1` (torch divides by at least 1)."""
    length = len(result.label)
    if length == 0:
        return "max(L, 1) = 1"
    return f"{length} label symbol{'' if length == 1 else 's'}"


def mean_words(result: CTCResult) -> str:
    """Return the Answer box's words for reduction mean (nothing for sum)."""
    if result.reduction != "mean":
        return ""
    if not result.label:
        return ", mean: ÷ max(L, 1) = 1 for the empty label"
    return f", mean over {per_symbol_words(result)}"


def mean_line(result: CTCResult, loss: float, explain: bool = False) -> Text:
    """Return the reduction-mean line: the loss divided by the label length (`explain`:
    and what reduction mean is, said once in a working). An empty label's L = 0 is
    divided by max(L, 1) = 1, and the line says so, explained or not."""
    reduced = num(result.reduced(loss))
    torch = "reduction mean, as torch's ctc_loss"
    if result.label:
        text = f"{num(loss)} / {per_symbol_words(result)} = {reduced}"
        if explain:
            text += f"   ({torch}: ÷ the label length)"
    else:
        text = f"{num(loss)} / 1 = {reduced}   (÷ max(L, 1) = 1: the label is empty, L = 0"
        text += f"; {torch})" if explain else ")"
    return Text.assemble(("Mean  ", "bold"), text)


def exact_lines(result: CTCResult) -> list[Text]:
    """Return the exact section: T, the path count, p, the loss, normalised, best, greedy.

    When lecture-mode values are not a distribution, the sum over the paths is not a
    probability: it is shown for what it is, and the normalised computation is the loss.
    """
    dp = result.dp
    log = log_name(result.log_base)
    label = _word(result, result.label)
    frames = f"{dp.frames} frame{'' if dp.frames == 1 else 's'}"
    paths = f"{dp.paths:,} path{'' if dp.paths == 1 else 's'}"
    body = [
        Text(
            f"T = {frames}; {paths} of length {dp.frames} collapse{'s' if dp.paths == 1 else ''} "
            f"to {label} (at least {dp.min_frames} frame{'' if dp.min_frames == 1 else 's'} "
            f"{'is' if dp.min_frames == 1 else 'are'} needed)"
        ),
    ]

    normalized = getattr(dp, "normalized", None)
    mean = result.reduction == "mean"
    # Every loss the Answer box shows has its ÷ label length here: the method's own, and
    # the exact loss (normalised, when the values are not a distribution) it always shows.
    explain = result.naive is None or result.method not in ("listed", "valid")
    if normalized is None:
        body += [
            Text(
                f"p({label} | x) = Σ over those paths of their products = "
                f"{operand(dp.probability)}" + log_note(result, dp.probability, dp.log_probability)
            ),
            Text.assemble(("Loss  ", "bold"), f"−{log} p = {num(result.exact_loss)}"),
        ]
        if mean:
            body.append(mean_line(result, result.exact_loss, explain))
    else:
        total = num(normalized.total)
        unnormalised = num(dp.probability) + log_note(
            result, dp.probability, dp.log_probability, "Σ"
        ).replace("  (", " (")
        verdict = "more than 1: " if dp.probability > 1.0 else ""
        body.append(
            Text(
                f"as given (the values sum to {total}, not 1): Σ over those paths of their "
                f"products = {unnormalised}, {verdict}not a probability, so its −{log}, "
                f"{num(result.exact_loss)}, is not a loss"
            )
        )
        if mean and result.method == "exact":
            body.append(mean_line(result, result.exact_loss, explain))
            explain = False
        body += [
            Text(f"normalised (each value ÷ {total}, so that every frame is a distribution):"),
            Text(
                f"  p({label} | x) = {operand(normalized.probability)}"
                + log_note(result, normalized.probability, normalized.log_probability)
            ),
            Text.assemble(("  Loss  ", "bold"), f"−{log} p = {num(result.normalized_loss)}"),
        ]
        if mean:
            assert result.normalized_loss is not None
            body.append(Text("  ").append_text(mean_line(result, result.normalized_loss, explain)))
    if dp.best_path is not None:
        path = dp.best_path.path
        symbols = [result.alphabet[i] for i in path] if result.alphabet else path
        what = "p" if normalized is None else "product of its values as given"
        best = dp.best_path
        body.append(
            Text(
                f"best path (Viterbi): {_word(result, symbols)}   {what} = "
                f"{num(best.probability)}"
                + log_note(result, best.probability, best.log_probability, what.split()[0])
            )
        )
    greedy = getattr(dp, "greedy", None)
    if greedy is not None and result.alphabet is not None:
        path = [result.alphabet[i] for i in greedy.path]
        collapsed = [result.alphabet[i] for i in greedy.collapsed]
        body.append(
            Text(f"greedy (arg-max per frame): {_word(result, path)} → {_word(result, collapsed)}")
        )
    return body


def _exact(result: CTCResult) -> list[RenderableType]:
    return [_heading(EXACT_HEADING), _indent(Group(*exact_lines(result)))]


def trellis_heading(result: CTCResult) -> str:
    """The trellis's heading: its cells are probabilities only when the values are a
    distribution."""
    what = "probabilities" if result.is_distribution else "sums"
    return f"Trellis (forward {what} α, frames down, extended label across)"


def gradient_heading(result: CTCResult) -> str:
    """The gradient's heading: its formula, over ln b when the loss is in log base b."""
    formula = "softmax − occupancy"
    divisors = []
    if result.log_base != "e":
        divisors.append(f"ln {result.log_base}")
    if result.reduction == "mean":
        divisors.append(per_symbol_words(result) if result.label else "1 (max(L, 1), L = 0)")
    if divisors:
        formula = f"(softmax − occupancy) / {' / '.join(divisors)}"
    return f"Gradient ∂loss/∂logits ({formula}), frames down"


def trellis_data(result: CTCResult) -> tuple[np.ndarray, list[str], Any, str] | None:
    """Return the α table, its column names (ε for the blank), best-path marks and a note."""
    dp = result.dp
    if dp.alpha is None:
        return None
    states = [result.alphabet[i] for i in dp.states] if result.alphabet else list(dp.states)
    # The blank's columns are headed ε, unless ε is one of the label's own symbols.
    epsilon = "ε" if "ε" not in result.label else result.blank
    columns = symbols_shown([epsilon if s == result.blank else s for s in states])
    marks: list[int | None] | None = None
    if dp.best_path is not None:
        best = dp.best_path.path
        symbols = [result.alphabet[i] for i in best] if result.alphabet else best
        marks = alignment_states(symbols, states)  # type: ignore[assignment]
    if result.is_distribution:
        note = "α(t, s): probability of the label prefix up to state s after t frames"
    else:
        note = (
            "α(t, s): the sum, over the paths that reach state s after t frames, of the "
            "products of their values as given — not a probability: the values sum to "
            f"{num(result.probabilities_total)}, not 1"
        )
    if epsilon != result.blank:
        note += f"; ε stands for the blank ({printable(result.blank)})"
    beyond = beyond_words(result)
    if beyond:
        note += f"; {beyond}"
    if marks is not None:
        note += "; * marks the best path"
    return dp.alpha, columns, marks, note


def beyond_words(result: CTCResult) -> str:
    """Return what an e^x cell of the trellis is, when it has one, else ''."""
    alpha, logs = result.dp.alpha, result.log_alpha
    if alpha is None or logs is None:
        return ""
    with np.errstate(invalid="ignore"):
        finite = np.isfinite(logs)
    where = []
    if ((alpha == 0.0) & finite).any():
        where.append("below float64's smallest number (about 1e−308)")
    if (np.isinf(alpha) & finite).any():
        where.append("above its largest (about 1.8e308)")
    if not where:
        return ""
    what = "probability" if result.is_distribution else "sum"
    return f"e^x: a {what} {' or '.join(where)}, written by its natural logarithm x"


def _trellis(result: CTCResult, width: int) -> list[RenderableType]:
    data = trellis_data(result)
    if data is None:
        return []
    alpha, columns, marks, note = data
    table, fitted = _frame_table(
        alpha,
        columns,
        marks,
        width=width,
        shade=True,
        important=repeat_states(result),
        logs=result.log_alpha,
    )
    lines: list[RenderableType] = [
        _heading(trellis_heading(result)),
        _indent(Text(note, style="dim")),
        table,
    ]
    if fitted:
        lines.append(_indent(Text(fitted, style="dim")))
    return lines


def gradient_note(result: CTCResult) -> str | None:
    """Return why the gradient is all zeros when the loss is infinite, else None."""
    if math.isfinite(result.dp.loss):
        return None
    return (
        "no alignment has a non-zero probability, so the loss is infinite and its gradient "
        "is taken as 0, as PyTorch's ctc_loss does with zero_infinity=True"
    )


def _gradient(result: CTCResult, width: int) -> list[RenderableType]:
    grad = result.gradient
    if grad is None or result.alphabet is None:
        return []
    table, fitted = _frame_table(
        grad, symbols_shown(result.alphabet), width=width, important=label_columns(result)
    )
    lines: list[RenderableType] = [_heading(gradient_heading(result))]
    note = gradient_note(result)
    if note is not None:
        lines.append(_indent(Text(note, style="dim")))
    lines.append(table)
    if fitted:
        lines.append(_indent(Text(fitted, style="dim")))
    return lines


def unnormalised_value(result: CTCResult) -> bool:
    """Whether the contract's `value` is the −log of an unnormalised exact sum, which is
    no loss: method exact on lecture-mode values that are not a distribution."""
    return result.method == "exact" and getattr(result.dp, "normalized", None) is not None


def value_words(result: CTCResult, method: bool = True) -> str:
    """Return what `value` is when it is the −log of an unnormalised sum (see
    `unnormalised_value`): `−ln of the unnormalised exact sum (method exact)`, with the
    reduction and log base (`method` False: without the method)."""
    settings = f"{mean_words(result)}{base(result.log_base)}"
    what = f"−{log_name(result.log_base)} of the unnormalised exact sum"
    if method:
        return f"{what} (method exact{settings})"
    return f"{what}{settings}"


def compared_words(solution: Solution) -> str | None:
    """Return the value the ✓/✗ line compares with the answer key, named — `the −ln of
    the unnormalised exact sum (method exact), −1.29336,` — where the Answer box's lines
    hold more than one value and the compared one is not a loss; else None."""
    result = solution.result
    if not isinstance(result, CTCResult) or not unnormalised_value(result):
        return None
    return f"the {value_words(result)}, {num(result.value)},"


def answer_text(solution: Solution) -> Text:
    """Return the Answer box's lines: the headline under its method, then the exact loss
    (normalised, when the values are not a distribution) when the headline is another.

    Lecture-mode values that are not a distribution, without alignments, make the
    contract's `value` the −log of the unnormalised exact sum, which is no loss: the
    normalised exact loss is the answer shown first, and `value` is named for what it is.
    Asked for by name (`method: exact`), that value leads, named so, with the loss after.
    """
    result = solution.result
    assert isinstance(result, CTCResult)
    frames = result.dp.frames
    normalized = getattr(result.dp, "normalized", None)
    divided = f"each frame ÷ {num(normalized.total)}" if normalized is not None else ""
    mean = mean_words(result)
    settings = f"{mean}{base(result.log_base)}"
    exact_loss = result.reduced(result.losses["normalized" if normalized is not None else "exact"])
    if unnormalised_value(result):
        assert normalized is not None
        loss_title = f"CTC loss (exact, {divided}: method normalized{settings})"
        not_a_loss = f", not a loss (the values sum to {num(normalized.total)}, not 1)"
        if solution.problem.inputs.get("method") == "exact":  # asked for: it leads
            total = num(normalized.total)
            title = f"{value_words(result)[:-1]}; not a loss: the values sum to {total}, not 1)"
            text = headline(title, result.value)
            text.append(f"\n{loss_title}: {num(exact_loss)}")
            return text
        text = headline(loss_title, exact_loss)
        text.append(
            f"\nvalue of method exact (--json's value): {value_words(result, method=False)} = "
            f"{num(result.value)}{not_a_loss}"
        )
        return text
    what = {
        "listed": "listed alignments, as the lecture",
        "valid": "valid listed alignments",
        "exact": "exact",
        "normalized": f"exact, {divided}" if divided else "exact",
    }[result.method]
    text = headline(f"CTC loss ({what}{settings})", result.value)
    if result.method in ("listed", "valid"):
        what = f"exact CTC loss for T = {frames}"
        if normalized is not None:
            what += f", {divided} (method normalized)"
        text.append(f"\n{what}{settings}: {num(exact_loss)}")
    return text


def working(solution: Solution, check: Text | None, width: int = 80) -> RenderableType:
    """Return the whole CTC working of one solved problem."""
    result = solution.result
    assert isinstance(result, CTCResult)
    title = printable(solution.problem.title or "CTC loss")
    parts: list[RenderableType] = [
        Text(title, style="bold underline"),
        Text(""),
        _heading("Inputs"),
        _indent(_inputs(result, solution, width)),
        Text(""),
    ]
    if result.naive is not None:
        parts += [*_listed(result), Text("")]
    parts += [*_exact(result), Text("")]
    for extra in (_trellis(result, width), _gradient(result, width)):
        if extra:
            parts += [*extra, Text("")]
    from rnnloss_cli.render.working import closing_panels

    parts += closing_panels(solution, [answer_text(solution)], check, "Lecture checks and warnings")
    return Group(*parts)
