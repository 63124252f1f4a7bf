"""Worked solutions as LaTeX: a Document (rnnloss_cli.document) written as a section of a
LaTeX document — the inputs, the formula in real math, the term tables (booktabs, on
`longtable`s that break across pages), the totals, the answer in a box, the check and the
warnings — and, around one or more of them, a complete document pdflatex compiles.

Text is typeset, never trusted: every character of a working (a title, a class name, a CTC
symbol such as `<pad>`, `_` or `\\`) is written so that it shows as written and can never
act as LaTeX (see `escape`). Only a formula's `math`, which the workings write as LaTeX on
purpose, is set as it is.

Long tables are elided as the Markdown writer elides them (the first 35 and the last 4 rows
of more than 40); a matrix keeps Markdown's columns (of more than 16, the first and last 3,
the label's symbols and the marked cells), then is set in parts of columns that fit the
page (`\\footnotesize`), each part with its row labels.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from rnnloss_cli import document as doc
from rnnloss_cli.render.numbers import beyond_cell, elide, input_cell, num, operand

MAX_ROWS = 40  # table rows written before the middle is elided (as Markdown)
MAX_COLUMNS = 16  # matrix columns kept before the middle is elided (as Markdown)
# Widths are estimated in characters of the table's font: a line of the narrowest text
# block a fragment is likely \input into (article's default, 345pt) holds about this many.
LINE_CHARS = 72  # \small, term tables
MATRIX_CHARS = 78  # \footnotesize, matrices: a part holds at most this many
MIN_CHARS = 12  # the least a wrapped column is given
# A word at least RUN_CHARS wide (a 50-letter name, a row of code points) may break every
# BREAK_CHARS (\allowbreak): no line, nor a narrow wrapped column, need hold it whole.
RUN_CHARS = 20
BREAK_CHARS = 6

PACKAGES = (
    r"\usepackage[T1]{fontenc}",
    r"\usepackage[utf8]{inputenc}",
    r"\usepackage{lmodern}",
    r"\usepackage{amsmath,amssymb}",
    r"\usepackage{array,booktabs,longtable}",
)
PREAMBLE = "\n".join(
    (
        r"\documentclass{article}",
        *PACKAGES,
        r"\usepackage[margin=2.5cm]{geometry}",
        r"\setlength{\emergencystretch}{3em}",
    )
)
BODY_NOTE = "% rnnloss LaTeX body, to \\input into a document whose preamble has:\n" + "".join(
    f"%   {line}\n" for line in PACKAGES
)

# --- text ------------------------------------------------------------------------------

# Characters that are LaTeX syntax, written as text commands.
SPECIAL = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "$": r"\$",
    "&": r"\&",
    "#": r"\#",
    "^": r"\textasciicircum{}",
    "_": r"\_",
    "%": r"\%",
    "~": r"\textasciitilde{}",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
    "|": r"\textbar{}",
    # Straight quotes and the grave accent as typed (T1 would curl them).
    "'": r"\textquotesingle{}",
    '"': r"\textquotedbl{}",
    "`": r"\textasciigrave{}",
}
# Pairs the T1 fonts would join into one glyph (-- is a dash, ,, a low quote): a {}
# between keeps what was written.
LIGATURES = {"-": "-", ",": ","}

GREEK = (
    "αalpha βbeta γgamma δdelta εvarepsilon ζzeta ηeta θtheta ιiota κkappa λlambda μmu "
    "νnu ξxi πpi ρrho ςvarsigma σsigma τtau υupsilon φvarphi χchi ψpsi ωomega "
    "ΓGamma ΔDelta ΘTheta ΛLambda ΞXi ΠPi ΣSigma ΥUpsilon ΦPhi ΨPsi ΩOmega µmu ϵepsilon ϕphi"
)
# Characters set as math (inside \ensuremath, joined with their neighbours).
MATH = {item[0]: "\\" + item[1:] + " " for item in GREEK.split()} | {
    "ο": "o",
    "−": "-",
    "·": r"\cdot ",
    "×": r"\times ",
    "÷": r"\div ",
    "±": r"\pm ",
    "ŷ": r"\hat{y}",
    "ȳ": r"\bar{y}",
    "≈": r"\approx ",
    "≤": r"\leq ",
    "≥": r"\geq ",
    "≠": r"\neq ",
    "≡": r"\equiv ",
    "∼": r"\sim ",
    "→": r"\to ",
    "←": r"\leftarrow ",
    "⇒": r"\Rightarrow ",
    "↦": r"\mapsto ",
    "∞": r"\infty ",
    "⋮": r"\vdots ",
    "⋯": r"\cdots ",
    "√": r"\surd ",
    "∂": r"\partial ",
    "∇": r"\nabla ",
    "∈": r"\in ",
    "∉": r"\notin ",
    "∑": r"\sum ",
    "∏": r"\prod ",
    "∫": r"\int ",
    "‖": r"\| ",
    "∣": r"\mid ",
    "⊙": r"\odot ",
    "∘": r"\circ ",
    "⌈": r"\lceil ",
    "⌉": r"\rceil ",
    "⌊": r"\lfloor ",
    "⌋": r"\rfloor ",
    "⟨": r"\langle ",
    "⟩": r"\rangle ",
    "∀": r"\forall ",
    "∃": r"\exists ",
    "∅": r"\varnothing ",
    "ℓ": r"\ell ",
    "°": r"^{\circ}",
    "′": r"'",
}
SUPERSCRIPTS = dict(zip("⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ⁿⁱᵀ", "0123456789+-=()niT", strict=True))
SUBSCRIPTS = dict(
    zip("₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎ₐₑₒₓₕₖₗₘₙₚₛₜᵢⱼᵣᵤᵥ", "0123456789+-=()aeoxhklmnpstijruv", strict=True)
)
# Characters set as text commands.
TEXT = {
    "✓": r"\ensuremath{\checkmark}",
    "✔": r"\ensuremath{\checkmark}",
    "✗": r"\ensuremath{\times}",
    "✘": r"\ensuremath{\times}",
    "✂": r"\ensuremath{\times}",  # a pruned prefix: crossed out
    "†": r"\dag{}",
    "‡": r"\ddag{}",
    "•": r"\textbullet{}",
    "…": r"\dots{}",
    "–": "--",
    "—": "---",
    "‘": r"\textquoteleft{}",
    "’": r"\textquoteright{}",
    "“": r"\textquotedblleft{}",
    "”": r"\textquotedblright{}",
    "\u00a0": "~",
    "§": r"\S{}",
    "¶": r"\P{}",
    "©": r"\copyright{}",
}
# The Control Pictures `printable` shows control characters as: a framed abbreviation.
CONTROL_NAMES = (  # of ␀ to ␠, then ␡
    "NUL SOH STX ETX EOT ENQ ACK BEL BS HT LF VT FF CR SO SI DLE DC1 DC2 DC3 DC4 NAK SYN "
    "ETB CAN EM SUB ESC FS GS RS US SP DEL"
)


def _latin1_letter(char: str) -> bool:
    """Whether pdflatex sets `char` itself (T1 and utf8 inputenc): an accented letter of
    Latin-1 (é, ü, ß, ñ)."""
    return "\u00c0" <= char <= "\u00ff" and char not in "×÷"


def _code_point(char: str) -> str:
    return rf"\ensuremath{{\langle}}U+{ord(char):04X}\ensuremath{{\rangle}}"


def _picture(char: str) -> str:
    code = ord(char) - 0x2400
    names = CONTROL_NAMES.split()
    name = names[code] if code < len(names) else f"U+{ord(char):04X}"
    return rf"{{\setlength{{\fboxsep}}{{1pt}}\fbox{{\scriptsize\texttt{{{name}}}}}}}"


def escape(text: str) -> str:
    """Return text as LaTeX that shows it as written under pdflatex, and never acts.

    The rule for characters:
    - ASCII is itself, but LaTeX's special characters (``\\ { } $ & # ^ _ % ~ < > |``)
      become the commands that print them, quotes stay straight, and pairs the fonts
      would join (``--``, ``,,``) are kept apart;
    - the working's symbols are set as math (− · × ≈ ≤ → ∞ ⋮ √ ŷ, Greek letters, sub- and
      superscript digits and letters, ⟨ ⟩), a letter before a sub- or superscript with
      them (`yᵢ` is `$y_{i}$`); ✓ ✗ are amssymb's \\checkmark and \\times (pifont's
      dingbats need fonts a small TeX installation lacks), † … – — and quotes text commands;
    - the Control Pictures `printable` writes for control characters (␛) are set as a
      small framed name (ESC);
    - accented letters of Latin-1 (é, ü, ß) are themselves (T1 has them);
    - any other character (你, an emoji) is written as its code point, ⟨U+4F60⟩, the form
      `printable` gives invisible characters: the document compiles with pdflatex and no
      font it may lack, and the reader sees exactly which character it was.
    """
    breaks = _long_word_breaks(text)
    if (
        text.isascii()
        and not any(c in SPECIAL or c in LIGATURES or c < " " for c in text)
        and not breaks
    ):
        return text
    out: list[str] = []
    math: list[str] = []  # the math run being gathered
    may_break = False  # a break is due before the next character set as text

    def flush() -> None:
        if math:
            out.append(r"\ensuremath{" + "".join(math).rstrip() + "}")
            math.clear()

    def script(table: dict[str, str], start: int, mark: str) -> int:
        end = start
        while end < len(text) and text[end] in table:
            end += 1
        run = "".join(table[c] for c in text[start:end])
        # A lone letter just before (yᵢ, Aₜ) goes into the math with its script.
        if not math and out and _lone_letter(text, start):
            math.append(out.pop())
        math.append(f"{mark}{{{run}}}")
        return end

    i = 0
    while i < len(text):
        char = text[i]
        if char in SUPERSCRIPTS:
            i = script(SUPERSCRIPTS, i, "^")
            continue
        if char in SUBSCRIPTS:
            i = script(SUBSCRIPTS, i, "_")
            continue
        if char in MATH:
            math.append(MATH[char])
            may_break = may_break or i in breaks
            i += 1
            continue
        flush()
        if (may_break or i in breaks) and char != " ":
            out.append(r"\allowbreak{}")
        may_break = False
        if char == " " and text.startswith("  ", i):  # the working's column gaps
            while i < len(text) and text[i] == " ":
                i += 1
            out.append(r"\quad ")
            continue
        if char in SPECIAL:
            out.append(SPECIAL[char])
        elif char in LIGATURES:
            after = text[i + 1 : i + 2]
            out.append(char + ("{}" if after and after in LIGATURES[char] else ""))
        elif char.isascii() and char >= " " and char != "\x7f":
            out.append(char)
        elif char in TEXT:
            out.append(TEXT[char])
        elif "\u2400" <= char <= "\u2426" or char < " " or char == "\x7f":
            picture = (
                char if char >= "\u2400" else chr(0x2400 + (ord(char) if char < " " else 0x21))
            )
            out.append(_picture(picture))
        elif _latin1_letter(char):
            out.append(char)
        else:
            out.append(_code_point(char))
        i += 1
    flush()
    return "".join(out)


def _shown_width(char: str) -> int:
    """Return about how many characters wide `char` is set: a code point is ⟨U+4F60⟩."""
    shown = char.isascii() or char in MATH or char in TEXT or _latin1_letter(char)
    return 1 if shown or char in SUBSCRIPTS or char in SUPERSCRIPTS else 8


def _long_word_breaks(text: str) -> set[int]:
    """Return the positions before which a word at least RUN_CHARS wide may break: after
    each `/`, `_` or `-` (a path breaks between its folders), and elsewhere once every
    BREAK_CHARS of its width."""
    breaks: set[int] = set()
    start = 0
    for word in text.split(" "):
        widths = [_shown_width(char) for char in word]
        if sum(widths) >= RUN_CHARS:
            used = 0
            for offset, width in enumerate(widths):
                if used >= BREAK_CHARS or (offset and word[offset - 1] in "/_-"):
                    breaks.add(start + offset)
                    used = 0
                used += width
        start += len(word) + 1
    return breaks


def _lone_letter(text: str, position: int) -> bool:
    """Whether the character before `position` is a letter standing alone (the `y` of
    `yᵢ`, not the `g` of `log₂`)."""
    if position == 0 or not text[position - 1].isascii() or not text[position - 1].isalpha():
        return False
    return position == 1 or not text[position - 2].isalnum()


STYLES = {"bold": r"\textbf{%s}", "answer": r"\textbf{%s}"}


def spans(value: doc.Line | str, style: doc.Style = "") -> str:
    """Return a line of the working as LaTeX, each span in its style."""
    if isinstance(value, str):
        value = (doc.Span(value, style),)
    out = []
    for span in value:
        text = escape(span.text)
        form = STYLES.get(span.style or style)
        out.append(form % text if form and text.strip() else text)
    return "".join(out)


def _guard(text: str) -> str:
    """Return text that may follow `\\\\`, `\\item` or a booktabs rule: a leading `[`, `*`
    or `(` would be read as their optional argument."""
    return "{}" + text if text[:1] in "[*(" else text


def _lines(lines: Sequence[str]) -> str:
    """Return lines of LaTeX text as one paragraph, each on its own line."""
    return "\\\\\n".join(_guard(line) for line in lines)


def _strip(line: doc.Line) -> doc.Line:
    """Return a line without the blanks it starts and ends with (as Markdown writes it)."""
    items = [doc.Span(s.text, s.style) for s in line]
    while items and not items[0].text.strip():
        items.pop(0)
    while items and not items[-1].text.strip():
        items.pop()
    if items:
        items[0] = doc.Span(items[0].text.lstrip(), items[0].style)
        items[-1] = doc.Span(items[-1].text.rstrip(), items[-1].style)
    return tuple(items)


def paragraph(block: doc.Paragraph) -> list[str]:
    """Return a paragraph: its lines of words as lines of text, a formula line as display
    math (consecutive formula lines gathered in one `gather*`)."""
    maths = block.math or (None,) * len(block.lines)
    out: list[str] = []
    words: list[str] = []
    formulas: list[str] = []

    def close() -> None:
        if words:
            # \sloppy, in a group: a long name (a class, a path) may stretch the spaces
            # of its line rather than run past the margin.
            out.append("{\\raggedright\\noindent " + _lines(words) + "\\par}")
            words.clear()
        if formulas:
            if len(formulas) == 1:
                out.append("\\[ " + formulas[0] + " \\]")
            else:
                lines = " \\\\\n".join(formulas)
                out.append("\\begin{gather*}\n" + lines + "\n\\end{gather*}")
            formulas.clear()

    for item, math in zip(block.lines, maths, strict=False):
        if math is not None:
            if words:
                close()
            formulas.append(math)
            continue
        text = spans(_strip(item), block.style)
        if text.strip():
            if formulas:
                close()
            words.append(text)
    close()
    return out


# --- tables ----------------------------------------------------------------------------


def _width(cell: Any) -> int:
    text = doc.plain(cell) if isinstance(cell, tuple) else str(cell)
    return max((len(line) for line in text.split("\n")), default=0)


def _breakable(text: str) -> str:
    """Return escaped text that may break after a slash or an underscore."""
    return text.replace("/", "/\\allowbreak{}").replace("\\_", "\\_\\allowbreak{}")


def _cell(cell: Any, wrapped: bool = False) -> str:
    """Return a table cell; a cell of several lines as a nested tabular (or, in a wrapped
    column, lines broken with \\newline)."""
    lines = (doc.plain(cell) if isinstance(cell, tuple) else str(cell)).split("\n")
    if isinstance(cell, tuple) and len(lines) == 1:
        return spans(cell)
    texts = [escape(line.strip()) for line in lines]
    if wrapped:  # a path or a long name may also break after a / or an _
        texts = [_breakable(text) for text in texts]
        return "\\newline ".join(texts)
    if len(texts) == 1:
        return texts[0]
    return "\\begin{tabular}[t]{@{}l@{}}" + _lines(texts) + "\\end{tabular}"


def _longtable(spec: str, headers: Sequence[str], rows: Iterable[Sequence[str]], size: str) -> str:
    """Return a booktabs longtable (it breaks across pages, never just after its head)."""
    head = _guard(" & ".join(headers)) + " \\\\*"  # *: no page break after the head
    body = [_guard(" & ".join(row)) + " \\\\" for row in rows]
    chunk = max(100, len(body) + 2)
    return "\n".join(
        [
            # One chunk for the whole table (MAX_ROWS + 2 rows, or a table asked for whole) and no
            # \endhead (a head is boxed with the widths of the previous run): the columns
            # get their widths in one pdflatex run, head and body alike.
            "{"
            + size
            + f"\\setlength{{\\tabcolsep}}{{4pt}}\\csname c@LTchunksize\\endcsname={chunk}\\relax",
            # A page near its end breaks before the table rather than after its head.
            "\\par\\vskip 0pt plus 6\\baselineskip\\penalty-150\\vskip 0pt plus -6\\baselineskip",
            f"\\begin{{longtable}}[l]{{@{{}}{spec}@{{}}}}",
            "\\toprule",
            head,
            "\\midrule\\nopagebreak",  # (longtable's: between rows)
            *body,
            "\\bottomrule",
            "\\end{longtable}}",
        ]
    )


def _kept(count: int) -> list[int | None]:
    return elide(range(count), MAX_ROWS, MAX_ROWS - 5, 4)


def _wrapped(widths: Sequence[int], left: frozenset[int], wide: int | None) -> dict[int, float]:
    """Return the columns a table wider than the line wraps, each with its share of the
    line: the wide one first, then the widest columns of words, until the rest fit; the
    line left over is shared in proportion to their widths."""
    natural = sum(w + 2 for w in widths)
    if natural <= LINE_CHARS:
        return {}
    words = sorted((c for c in left if c != wide), key=lambda c: -widths[c])
    wrap: list[int] = []
    for c in [*([] if wide is None else [wide]), *words]:
        wrap.append(c)
        kept = sum(w + 2 for i, w in enumerate(widths) if i not in wrap)
        if kept + MIN_CHARS * len(wrap) <= LINE_CHARS:
            break
    kept = sum(w + 2 for i, w in enumerate(widths) if i not in wrap)
    room = max(LINE_CHARS - kept, MIN_CHARS * len(wrap))
    total = sum(widths[c] for c in wrap) or 1
    return {c: max(MIN_CHARS, room * widths[c] / total - 2) / LINE_CHARS for c in wrap}


def table(block: doc.Table) -> str:
    """Return a term table: numbers right, words left, the middle of a long one elided; a
    table wider than the line wraps its wide column (and then its widest columns of
    words) so that it fits."""
    count = len(block.headers)
    indices = range(len(block.rows)) if block.whole else _kept(len(block.rows))
    rows = [None if r is None else list(block.rows[r]) for r in indices]
    widths = [
        max([_width(block.headers[c])] + [_width(row[c]) for row in rows if row is not None])
        for c in range(count)
    ]
    shares = _wrapped(widths, block.left, block.wide)
    spec = ""
    for c in range(count):
        if c in shares:
            spec += f">{{\\raggedright\\arraybackslash}}p{{{shares[c]:.2f}\\linewidth}}"
        else:
            spec += "l" if c in block.left else "r"
    bold = block.bold
    body = []
    for row in rows:
        if row is None:
            body.append([r"\ensuremath{\vdots}"] * count)
            continue
        cells = [_cell(cell, c in shares) for c, cell in enumerate(row)]
        if bold is not None and cells[bold]:
            cells[bold] = r"\textbf{" + cells[bold] + "}"
        body.append(cells)
    return _longtable(spec, [escape(h) for h in block.headers], body, "\\small")


CELLS: dict[str, Callable[[float], str]] = {
    "operand": lambda v: operand(v, 3),
    "input": input_cell,
    "trellis": lambda v: num(v, 3),
    "number": lambda v: num(v, 3),
}


def kept_columns(
    count: int,
    rows: Sequence[int | None],
    marks: Sequence[int | None] | None,
    important: Sequence[int],
) -> list[int | None]:
    """Return the matrix columns shown, None where some are left out: all of at most
    MAX_COLUMNS; else, as Markdown keeps them, the first and last three, the `important`
    ones and those of the marked cells of the rows shown."""
    if count <= MAX_COLUMNS:
        return list(range(count))
    marked = {marks[t] for t in rows if t is not None and marks is not None}
    wanted = {*range(3), *range(count - 3, count), *important, *marked} - {None}
    kept: list[int | None] = []
    for c in sorted(wanted):  # type: ignore[type-var]
        if kept and kept[-1] is not None and c != kept[-1] + 1:
            kept.append(None)
        kept.append(c)
    return kept


def _parts(kept: list[int | None], widths: dict[int, int], label: int) -> list[list[int | None]]:
    """Split the kept columns, in order, into parts that each fit MATRIX_CHARS."""
    parts: list[list[int | None]] = []
    current: list[int | None] = []
    used = label + 2
    for c in kept:
        width = (1 if c is None else widths[c]) + 2
        if current and used + width > MATRIX_CHARS and any(k is not None for k in current):
            parts.append(current[:-1] if current[-1] is None else current)
            current, used = [], label + 2
        if c is None and not current:
            continue  # a part starts with a kept column; its heading says which
        current.append(c)
        used += width
    if current:
        parts.append(current)
    return parts


def matrix(block: doc.Matrix) -> list[str]:
    """Return a matrix: its caption and notes, then the table — the middle rows of a long
    one elided, of a wide one Markdown's columns, set in parts that fit the line."""
    values = block.values
    count = values.shape[1]
    shown_rows = _kept(values.shape[0])
    kept = kept_columns(count, shown_rows, block.marks, block.important)
    write = CELLS[block.cell]

    def text(t: int, c: int) -> str:
        value = float(values[t, c])
        shown = write(value)
        if block.logs is not None:
            shown = beyond_cell(value, float(block.logs[t, c])) or shown
        return shown

    cells = {(t, c): text(t, c) for t in shown_rows if t is not None for c in kept if c is not None}
    widths = {
        c: max([len(block.columns[c])] + [len(cells[t, c]) for t in shown_rows if t is not None])
        for c in kept
        if c is not None
    }
    label = max(len(block.row_label), len(str(values.shape[0])))
    parts = _parts(kept, widths, label)
    note = block.note
    if block.marks_note is not None:
        marks = f"bold marks {block.marks_note}"
        note = f"{note}; {marks}" if note else marks
    out = [
        "{\\raggedright\\noindent " + escape(line) + "\\par}"
        for line in (block.caption, note)
        if line
    ]
    for number, part in enumerate(parts):
        if len(parts) > 1:
            shown = [c for c in part if c is not None]
            out.append(
                f"\\noindent{{\\small part {number + 1} of {len(parts)}: columns "
                f"{shown[0] + 1}--{shown[-1] + 1} of {count}}}\\par"
            )
        headers = [escape(block.row_label)]
        headers += [r"\dots{}" if c is None else escape(block.columns[c]) for c in part]
        body = []
        for t in shown_rows:
            if t is None:
                body.append([r"\ensuremath{\vdots}"] * len(headers))
                continue
            row = [str(t + 1)]
            for c in part:
                if c is None:
                    row.append(r"\dots{}")
                    continue
                cell = escape(cells[t, c])
                marked = block.marks is not None and block.marks[t] == c
                row.append(r"\textbf{" + cell + "}" if marked else cell)
            body.append(row)
        out.append(_longtable("r" * len(headers), headers, body, "\\footnotesize"))
    return out


def _block(block: doc.Block) -> list[str]:
    if isinstance(block, doc.Paragraph):
        return paragraph(block)
    if isinstance(block, doc.Table):
        return [table(block)]
    return matrix(block)


def blocks(items: Iterable[doc.Block]) -> list[str]:
    """Return blocks of a working, each after a blank line."""
    out: list[str] = []
    for block in items:
        for text in _block(block):
            out += ["", text]
    return out


# --- documents -------------------------------------------------------------------------

HEADINGS = ("section", "subsection", "subsubsection", "paragraph", "subparagraph")


def heading(level: int, text: str) -> str:
    """Return an unnumbered heading at `level` (0: \\section*)."""
    # A heading with a word too long for a line (escape let it break) is set ragged, as
    # the working's text is: justified, TeX would rather overfill the line than break it.
    ragged = "\\raggedright " if "\\allowbreak" in text else ""
    return f"\\{HEADINGS[min(level, len(HEADINGS) - 1)]}*{{{ragged}{text}}}"


def _answer(answer: doc.Answer) -> list[str]:
    lines = [spans(_strip(item)) for item in answer.lines]
    lines = [line for line in lines if line.strip()]
    if lines:
        lines[0] = r"\textbf{Answer:} " + lines[0]
    if answer.check is not None:
        lines.append(spans(_strip(answer.check)))
        lines += [escape(item.strip()) for item in answer.instead if item.strip()]
    return [
        "",
        "\\medskip\\noindent\\fbox{\\begin{minipage}{\\dimexpr\\linewidth-2\\fboxsep-2\\fboxrule\\relax}"
        "\\raggedright",
        _lines(lines),
        "\\end{minipage}}\\par",
    ]


def warnings(title: str, items: Sequence[str]) -> list[str]:
    """Return warnings as a headed itemize."""
    if not items:
        return []
    return [
        "",
        f"\\medskip\\noindent\\textbf{{{escape(title)}}}",
        "\\begin{itemize}\\raggedright",
        *[f"\\item {_guard(escape(item))}" for item in items],
        "\\end{itemize}",
    ]


def write(document: doc.Document, level: int = 0) -> str:
    """Return one working as LaTeX: a heading at `level` (\\section* by default), its
    sections, the answer in a box with the check, the warnings; a custom loss's parts
    (with --details) as numbered headings one level down."""
    out = [heading(level, escape(document.title))]
    for section in document.sections:
        out += ["", f"\\medskip\\noindent\\textbf{{{escape(section.heading)}}}\\par\\nopagebreak"]
        out += blocks(section.blocks)
    out += _answer(document.answer)
    out += warnings(document.warnings_title, document.warnings)
    for i, part in enumerate(document.parts):
        titled = doc.Document(
            title=f"Term {i + 1} of {document.title}: {part.title}",
            question=part.question,
            sections=part.sections,
            answer=part.answer,
            warnings=part.warnings,
            warnings_title=part.warnings_title,
            parts=part.parts,
            loss=part.loss,
            given=part.given,
        )
        out += ["", write(titled, level + 1).rstrip("\n")]
    return "\n".join(out).rstrip() + "\n"


def summary(rows: Sequence[dict[str, str]], totals: str, notes: Sequence[str] = ()) -> str:
    """Return the `solve` summary: a booktabs table (the middle of a long one elided, as
    Markdown), its footnotes and the line of totals."""
    keys = ["file", "title", "loss", "answer", "expected", "check"]
    block = doc.Table(
        tuple(keys), [[row[k] for k in keys] for row in rows], frozenset({0, 1, 2, 5}), wide=1
    )
    out = [heading(0, "Summary"), "", table(block)]
    if notes:
        notes_text = _lines([escape(note.strip()) for note in notes])
        out += ["", "{\\raggedright\\noindent " + notes_text + "\\par}"]
    out += ["", f"\\medskip\\noindent\\textbf{{{escape(totals)}}}\\par"]
    return "\n".join(out) + "\n"


def complete(body: str, only_body: bool = False) -> str:
    """Return the body as a complete document (or, with `only_body`, as it is, after a
    comment naming the packages it needs)."""
    if only_body:
        return BODY_NOTE + "\n" + body
    return f"{PREAMBLE}\n\n\\begin{{document}}\n\n{body}\n\\end{{document}}\n"


def solutions(documents: Sequence[doc.Document], end: str = "", only_body: bool = False) -> str:
    """Return the workings of a run as one LaTeX document, `end` (the summary) after them."""
    body = "\n".join(write(item) for item in documents) + ("\n" + end if end else "")
    return complete(body, only_body)
