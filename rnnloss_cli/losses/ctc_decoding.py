"""CTC decoding in the working: the greedy path, prefix beam search frame by frame with the
numbers in, and the n-best beside their exact probabilities (part of the ctc loss: its
working and JSON call these when a problem asks to decode)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from rnnloss_cli.core.ctc_decode import compare_logs
from rnnloss_cli.document import Line, Section, Table, line, paragraph
from rnnloss_cli.render.numbers import log_name, num, operand, probability

if TYPE_CHECKING:
    from rnnloss_cli.core.ctc_decode import Frame, Prefix
    from rnnloss_cli.core.ctc_solve import CTCResult

PREFIXES_SHOWN = 8  # a frame's kept prefixes written out in the beam table; JSON has all
MORE = -2  # the place of a frame's "⋮ N more kept" row (−1: its best pruned)
WHOLE_ROWS = 300  # a beam table of at most this many rows is shown whole, every frame

RULES = (
    "Each prefix ℓ (the output so far) carries P_b, the probability of the paths giving ℓ "
    "that end in a blank, and P_nb, of those ending in ℓ's last symbol e; P = P_b + P_nb. "
    "From one frame to the next, with y the frame's row:",
    "  ℓ stays, a blank:       P_b(ℓ)   = P(ℓ) × y(blank)",
    "  ℓ stays, e repeated:    P_nb(ℓ)  = P_nb(ℓ) × y(e)",
    "  ℓ grows by c ≠ e:       P_nb(ℓc) += P(ℓ) × y(c)",
    "  ℓ grows by e:           P_nb(ℓe) += P_b(ℓ) × y(e)",
    "(e then e again is one e unless a blank comes between: only P_b grows ℓ by e.)",
    "The candidates are ranked by P and the best beam-width kept; the rest are pruned, and "
    "the paths through them lost.",
)
# The four rules as LaTeX math, for the writers that set math (Markdown's $…$, LaTeX).
RULES_MATH = (
    None,
    r"\ell\text{ stays, a blank:}\quad P_b(\ell) = P(\ell) \times y(\text{blank})",
    r"\ell\text{ stays, } e \text{ repeated:}\quad P_{nb}(\ell) = P_{nb}(\ell) \times y(e)",
    r"\ell\text{ grows by } c \neq e\text{:}\quad P_{nb}(\ell c) \mathrel{+}= P(\ell) \times y(c)",
    r"\ell\text{ grows by } e\text{:}\quad P_{nb}(\ell e) \mathrel{+}= P_b(\ell) \times y(e)",
    None,
    None,
)


def _output(result: CTCResult, prefix: Sequence[int]) -> str:
    """Return a prefix written as the label is: `cat`, `th e`, ∅ for the empty one."""
    from rnnloss_cli.losses.ctc import _word

    assert result.alphabet is not None
    return _word(result, [result.alphabet[i] for i in prefix])


def _log(result: CTCResult, log_value: float | None) -> str:
    """Return a natural log in the problem's log base, as the loss is written."""
    if log_value is None:
        return "—"
    return num(result.in_log_base(log_value))


def _exact(probability_value: float | None, log_value: float | None) -> str:
    """Return an exact probability, or — where it was over the forward algorithm's budget."""
    if log_value is None:
        return "— (over the budget of the forward algorithm)"
    return probability(probability_value or 0.0, log_value)


def greedy_section(result: CTCResult) -> Section:
    """Return the greedy (best-path) decoding: the arg-max of every frame, its product, the
    collapse, and the exact probability of the output beside the one path's; and which of
    greedy's output and beam search's is the more probable, by their exact p."""
    from rnnloss_cli.losses.ctc import _product, _word

    decoding = result.decoding
    assert decoding is not None and result.alphabet is not None
    greedy = decoding.greedy
    alphabet = result.alphabet
    probs = decoding.probs
    product = _product([probs[t, c] for t, c in enumerate(greedy.path)])
    path = _word(result, [alphabet[c] for c in greedy.path])
    output = _output(result, greedy.collapsed)
    lines: list[Line | str] = [
        f"the most probable symbol of every frame: {path} → collapses to {output}",
        line(
            ("p(path) ", "bold"),
            f"= {product} = {_total(greedy)}  (this one path)",
        ),
        line(
            ("p(output) ", "bold"),
            f"= {_exact(greedy.exact_probability, greedy.exact_log_probability)}  (every path "
            f"that collapses to {output}: the forward algorithm)",
        ),
    ]
    best = decoding.nbest[0]
    if decoding.method == "beam" and decoding.best != greedy.collapsed:
        theirs = _output(result, best.prefix)
        exact = _exact(best.exact_probability, best.exact_log_probability)
        compared = decoding.greedy_against_beam
        if compared == "better":
            said = (
                f"greedy's output is the more probable here: beam search's {theirs} has exact "
                f"p = {exact} — the beam, too narrow, pruned {output} on the way"
            )
            lines.append(line((said, "bad")))
        elif compared == "equal":
            said = f"beam search finds {theirs}, exactly as probable: exact p = {exact}"
            lines.append(line((said, "dim")))
        else:
            said = (
                "greedy picks the best single path, not the best output: beam search finds "
                f"{theirs}, exact p = {exact}"
            )
            lines.append(line((said, "dim")))
    return Section(
        "Greedy decoding (best path: the arg-max of every frame)", (paragraph(*lines),), "decode"
    )


BEAM_HEADERS = ("t", "prefix", "P_b (ends in a blank)", "P_nb (ends in its symbol)", "P")


def _row(result: CTCResult, frames: Sequence[Frame], place: tuple[int, int]) -> list[str | Line]:
    """Return one row of the beam table: prefix i kept after frame t, its P_b and P_nb
    worked from the previous frame's beam and the frame's row (i = −1: the best pruned;
    MORE: how many more were kept)."""
    from rnnloss_cli.core.ctc_decode import Prefix

    t, i = place
    decoding = result.decoding
    assert decoding is not None and result.alphabet is not None
    frame = frames[t]
    if i == MORE:
        last = frame.kept[-1]
        return [
            "",
            line(("⋮", "dim")),
            line((f"{len(frame.kept) - PREFIXES_SHOWN:,} more kept", "dim")),
            line((f"the last at P = {_total(last)}", "dim")),
            "",
        ]
    if i < 0:
        pruned = frame.best_pruned
        assert pruned is not None
        return [
            "",
            line((f"✂ {_output(result, pruned.prefix)}", "dim")),
            line((f"best of {frame.pruned:,} pruned", "dim")),
            line((f"({frame.candidates:,} candidates scored)", "dim")),
            line((_total(pruned), "dim")),
        ]
    if t == 0:  # before the first frame: ∅ alone, "ending in a blank" with P_b = 1
        before = {(): Prefix(0, 0.0, -math.inf, 0.0, frame.kept[0].trie)}
    else:
        before = {p.prefix: p for p in frames[t - 1].kept}
    probs = decoding.probs
    blank = result.alphabet.index(result.blank)

    def y(c: int) -> str:
        return operand(probs[t, c])

    entry = frame.kept[i]
    return [
        str(t + 1),
        _output(result, entry.prefix),
        *_worked(entry, before, y, blank),
        _total(entry),
    ]


def _total(entry: Any) -> str:
    """Return an entry's probability (a prefix's P, an output's beam P or path p), written
    by its log where float64 holds it only as 0."""
    return probability(entry.probability, entry.log_probability)


def _worked(entry: Prefix, before: dict[tuple[int, ...], Prefix], y: Any, blank: int) -> list[str]:
    """Return P_b and P_nb of a prefix with the operands they come from: the previous
    frame's beam and this frame's y (the numbers are the search's own)."""
    prefix = entry.prefix
    stayed = before.get(prefix)
    if stayed is not None:
        p_b = f"{_total(stayed)} × {y(blank)} = {probability(entry.blank, entry.log_blank)}"
    else:
        p_b = "0"
    terms = []
    if stayed is not None and prefix and stayed.log_non_blank > -math.inf:
        terms.append(f"{probability(stayed.non_blank, stayed.log_non_blank)} × {y(prefix[-1])}")
    parent = before.get(prefix[:-1]) if prefix else None
    if parent is not None:
        repeat = len(prefix) > 1 and prefix[-2] == prefix[-1]
        source = probability(parent.blank, parent.log_blank) if repeat else _total(parent)
        if not (repeat and parent.log_blank == -math.inf):
            terms.append(f"{source} × {y(prefix[-1])}")
    value = probability(entry.non_blank, entry.log_non_blank)
    p_nb = f"{' + '.join(terms)} = {value}" if terms else value
    return [p_b, p_nb]


def beam_section(result: CTCResult) -> Section:
    """Return prefix beam search frame by frame: the rules, then the beam after each frame
    (rows built as a writer reads them: a long input shows its first and last frames)."""
    from rnnloss_cli.render.numbers import LazyRows

    decoding = result.decoding
    assert decoding is not None
    frames = decoding.frames
    places = []
    for t, frame in enumerate(frames):  # each frame's first prefixes, then its best pruned
        places += [(t, i) for i in range(min(len(frame.kept), PREFIXES_SHOWN))]
        if len(frame.kept) > PREFIXES_SHOWN:
            places.append((t, MORE))
        if frame.best_pruned is not None:
            places.append((t, -1))
    rows = LazyRows(len(places), lambda k: _row(result, frames, places[k]))
    # every frame shown where that stays readable; else the first and last frames
    whole = len(places) <= WHOLE_ROWS
    table = Table(BEAM_HEADERS, rows, left=frozenset({1, 2, 3}), wide=3, whole=whole)
    start_line = "before frame 1 the beam holds ∅ alone, with P_b = 1 (nothing emitted yet)"
    width = decoding.beam_width
    heading = f"Prefix beam search (beam width {width:,}): the beam after every frame"
    rules = paragraph(*RULES, start_line, math=(*RULES_MATH, None))
    return Section(heading, (rules, table), "decode")


NBEST_HEADERS = ("#", "output", "beam P", "{log} P", "exact p")


def nbest_section(result: CTCResult) -> Section:
    """Return the n-best: the last frame's beam, each with the beam's P, its log, and the
    exact probability of the output (every alignment summed) beside it."""
    decoding = result.decoding
    assert decoding is not None
    headers = tuple(h.format(log=log_name(result.log_base)) for h in NBEST_HEADERS)
    rows: list[list[str | Line]] = []
    lost = []
    for i, best in enumerate(decoding.nbest):
        exact = "—"
        if best.exact_log_probability is not None:
            exact = probability(best.exact_probability or 0.0, best.exact_log_probability)
            if best.lost:
                share = num(best.lost_percent, 3)
                share = "> 99.9" if share == "100" and best.lost < 1.0 else share
                lost.append(f"#{i + 1} {share}%")
        rows.append(
            [
                str(i + 1),
                _output(result, best.prefix),
                _total(best),
                _log(result, best.log_probability),
                exact,
            ]
        )
    first = decoding.nbest[0]
    lines: list[Line | str] = [
        line(
            ("Decoded  ", "bold"),
            f"{_output(result, first.prefix)}   beam P = {_total(first)}",
        ),
        line(
            (
                "exact p sums every path that gives the output (the forward algorithm); the "
                "beam's P only those that stayed in the beam, so it is at most the exact p, and "
                "a beam wide enough to prune nothing makes them equal",
                "dim",
            )
        ),
    ]
    if lost:
        shown = lost if len(lost) <= 6 else [*lost[:5], f"… ({len(lost):,} in all)"]
        said = "lost to pruning (the share of the exact p the beam's P misses): "
        lines.append(line((said + ", ".join(shown), "dim")))
    better = decoding.better_than_best
    if better is not None:
        rank, entry = better
        theirs = _exact(entry.exact_probability, entry.exact_log_probability)
        ours = _exact(first.exact_probability, first.exact_log_probability)
        lines.append(
            line(
                (
                    f"n-best #{rank + 1}, {_output(result, entry.prefix)}, is more probable than "
                    f"the decoded output by the exact p ({theirs} against {ours}): the beam "
                    "ranks by the paths it kept; a wider beam may put it first",
                    "bad",
                )
            )
        )
    if not decoding.exact_complete:
        lines.append(
            line(("— : not computed, over the forward algorithm's budget for the n-best", "dim"))
        )
    if result.label_given:
        lines.append(_label_line(result))
    table = Table(headers, rows, left=frozenset({1}), wide=1)
    heading = f"The n-best: the beam after the last frame, most probable first ({len(rows):,})"
    return Section(heading, (table, paragraph(*lines)), "decode")


def _label_line(result: CTCResult) -> Line:
    """Return whether the decoding found the given label: ✓, its rank, or pruned (with its
    exact p beside the decoded output's: above it, a wider beam may find the label)."""
    decoding = result.decoding
    assert decoding is not None
    label = result.label_indices
    rank = decoding.rank(label)
    word = _output(result, label)
    if rank == 0:
        return line(("the label ", ""), (f"{word} is the decoded output ✓", "good"))
    if rank is not None:
        return line((f"the label {word} is n-best #{rank + 1}, not the decoded output ✗", "bad"))
    first = decoding.nbest[0]
    mine = probability(result.dp.probability, result.dp.log_probability)
    if result.dp.log_probability == -math.inf:
        return line((f"the label {word} is not found ✗: no path gives it (exact p = 0)", "bad"))
    theirs = _exact(first.exact_probability, first.exact_log_probability)
    decoded = _output(result, first.prefix)
    order = (
        None
        if first.exact_log_probability is None
        else compare_logs(result.dp.log_probability, first.exact_log_probability)
    )
    compared = {
        None: "",
        "better": f", above the decoded {decoded}'s {theirs}: a wider beam may find it",
        "equal": f", equal to the decoded {decoded}'s",
        "worse": f", below the decoded {decoded}'s {theirs}",
    }[order]
    return line((f"the label {word} was pruned ✗ (its exact p = {mine}{compared})", "bad"))


def sections(result: CTCResult) -> list[Section]:
    """Return the decoding sections: greedy, and for beam search the beam and the n-best."""
    decoding = result.decoding
    assert decoding is not None
    out = [greedy_section(result)]
    if decoding.method == "beam":
        out += [beam_section(result), nbest_section(result)]
    return out


def question(result: CTCResult) -> str:
    """Return what a decoding problem asks, in a sentence."""
    decoding = result.decoding
    assert decoding is not None
    frames = result.dp.frames
    if decoding.method == "beam":
        ask = (
            f"Decode these per-frame distributions (T = {frames}) by prefix beam search with a "
            f"beam of {decoding.beam_width:,}: the beam after every frame, and the n-best with "
            "their probabilities beside the exact ones"
        )
    else:
        ask = f"Decode these per-frame distributions (T = {frames}) greedily (arg-max per frame)"
    if result.label_given:
        from rnnloss_cli.losses.ctc import _word

        return f"{ask}; and compute the exact CTC loss of the label {_word(result, result.label)}."
    return f"{ask}; and the exact CTC loss of the decoded output."


def answer_line(result: CTCResult) -> Line:
    """Return the Answer box's decoding line: the output and its probabilities."""
    decoding = result.decoding
    assert decoding is not None
    best = decoding.nbest[0]
    how = (
        f"prefix beam search, width {decoding.beam_width:,}"
        if decoding.method == "beam"
        else "greedy"
    )
    estimate = "beam P" if decoding.method == "beam" else "best path p"
    exact = _exact(best.exact_probability, best.exact_log_probability)
    text = (
        f"decoded ({how}): {_output(result, best.prefix)}   {estimate} = "
        f"{_total(best)}, exact p = {exact}"
    )
    if result.label_given:
        text += (
            "  (the label ✓)" if decoding.rank(result.label_indices) == 0 else "  (not the label ✗)"
        )
    return line(text)
