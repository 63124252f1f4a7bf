"""Validation of CTC problems: lecture mode (per-symbol values, listed alignments) and
matrix mode (an alphabet and a T × V matrix), as contract section 3 describes them."""

from __future__ import annotations

import functools
from typing import Any

from rnnloss_cli.errors import ProblemError, quoted
from rnnloss_cli.losses.ctc import DECODERS, METHODS
from rnnloss_cli.losses.ctc import REDUCTIONS as CTC_REDUCTIONS
from rnnloss_cli.problems.values import (
    Reader,
    check_name,
    check_prediction,
    check_range,
    check_unique,
    did_you_mean,
    fmt,
    infinities,
    parse_array,
    parse_number,
    shown,
    split_list,
)

Validated = tuple[dict[str, Any], list[str], dict[str, Any]]

# Sizes that keep every problem within seconds (the forward pass is O(T·L), and the exact
# path count is a Python integer of up to O(T) digits in each of the 2L + 1 states).
MAX_FRAMES = 20_000
MAX_LABEL = 1_000
MAX_ALPHABET = 1_000
MAX_ALIGNMENTS = 1_000
MAX_LISTED_FRAMES = 40_000  # all listed alignments together (each is also <= MAX_FRAMES)
MAX_MATRIX = 2_000_000  # values in a probs / log_probs / logits matrix
# Cells of the forward algorithm's table: T frames × (2·label + 1) states. It bounds the
# time and memory of the exact loss, the best path, the gradient and the trellis alike
# (with MAX_MATRIX, at most about 6 s and 1 GB: the gradient and the trellis as JSON).
MAX_TRELLIS = 4_000_000
# Beam search (decode: beam) within a few seconds: the prefixes kept for the working
# (frames × width), and the candidates scored (frames × width × alphabet).
MAX_BEAM_ENTRIES = 200_000
MAX_DECODE_WORK = 50_000_000
MATRIX_KEYS = ("probs", "log_probs", "logits")
MAX_BEAM_WIDTH = 10_000
# Marks the working writes where a symbol could stand: a symbol may not look like one.
MARKS = {"∅": "the empty output", "…": "an elided part", "✂": "a pruned prefix", "⋮": "elided rows"}
ALIGNMENT_KEYS = ("path", "factors")


def _symbol(value: Any, key: str) -> str:
    """Return one symbol as text: strings as they are, YAML ints (label [1, 2, 3]) as digits."""
    if isinstance(value, bool):
        raise ProblemError(
            f"expected a symbol, got {shown(value)}: YAML reads a bare yes/no/on/off as true or "
            "false, so quote the symbol ('on')",
            key=key,
        )
    if value is None or isinstance(value, list | dict | float):
        raise ProblemError(f"expected a symbol, got {shown(value)}", key=key)
    text = str(value)
    if not text:
        raise ProblemError("a symbol cannot be empty", key=key)
    mark = next((m for m in MARKS if m in text), None)
    if mark is not None:  # also with a variation selector after it, or inside a name
        raise ProblemError(
            f"{quoted(text)} holds {mark}, which is how the working writes {MARKS[mark]}, so "
            "it cannot be part of a symbol as well: name it otherwise",
            key=key,
        )
    return check_name(text, key, "symbol")


def _sequence(value: Any, key: str, *, one_char: bool, known: Any = ()) -> tuple[list[str], bool]:
    """Return a label or path as symbols, and whether it was written as a string.

    A string is split into characters when every symbol is one character (`one_char`), or
    when it has no spaces and each of its characters is a known symbol; otherwise on
    whitespace (`"th e"`). A list gives its items.
    """
    if isinstance(value, str):
        text = value.strip()  # as written: marked only where it is shown
        if " " in text:
            return text.split(), True
        if one_char or (text not in known and all(c in known for c in text)):
            return list(text), True
        return [text] if text else [], True
    if isinstance(value, int) and not isinstance(value, bool):
        return list(str(value)), True  # label: 123 (YAML reads it as a number)
    if isinstance(value, list):
        return [_symbol(v, f"{key}[{i}]") for i, v in enumerate(value)], False
    raise ProblemError(
        f"expected a string of symbols or a list of symbols, got {shown(value)}", key=key
    )


def _positive_int(r: Reader, key: str, cap: int) -> int | None:
    if not r.has(key):
        return None
    value = r.data[key]
    number = parse_number(value, key)
    if not number.is_integer():
        raise ProblemError(f"a number of frames is a whole number, got {fmt(number)}", key=key)
    if number < 1:
        raise ProblemError(f"must be at least 1, got {fmt(number)}", key=key)
    if number > cap:
        raise ProblemError(f"{fmt(number)} is over the limit of {cap:,} frames", key=key)
    return int(number)


def _probabilities(r: Reader) -> dict[str, float]:
    value = r.data["probabilities"]
    items: list[tuple[Any, Any]]
    if isinstance(value, dict):
        items = list(value.items())
    elif isinstance(value, str):  # inline: "H=0.6,E=0.5,-=0.2", or "H = 0.6, E: 0.5"
        items = []
        for part in split_list(value, ",", "probabilities"):
            # The last `=` (else `:`, as YAML's mapping) separates: a value never holds
            # one, a symbol may (`==0.2` is the symbol `=`). Spaces around it are not part
            # of the symbol; a space symbol is given in a file (`" ": 0.2`).
            symbol, sep, number = part.rpartition("=")
            if not sep:
                symbol, sep, number = part.rpartition(":")
            symbol = symbol.strip()
            if sep and not symbol:
                raise ProblemError(
                    f"{quoted(part)} has no symbol: write a symbol before its {quoted(sep)} "
                    "(H=0.6,E=0.5,-=0.2)",
                    key="probabilities",
                )
            if not sep:
                hint = (
                    "a decimal point is written '.' (H=0.6,-=0.2), and ',' separates the symbols"
                    if part.isdigit()  # `H=0,6`: a decimal comma split the value
                    else "write H=0.6,E=0.5,-=0.2"
                )
                raise ProblemError(
                    f"{quoted(part)} is not SYMBOL=PROBABILITY: {hint}", key="probabilities"
                )
            items.append((symbol, number))
    else:
        raise ProblemError(
            f"expected a mapping of symbol: probability, got {shown(value)}", key="probabilities"
        )
    if not items:
        raise ProblemError("is empty: give each symbol's probability", key="probabilities")
    if len(items) > MAX_ALPHABET:
        raise ProblemError(
            f"{len(items)} symbols is over the limit of {MAX_ALPHABET}", key="probabilities"
        )
    out: dict[str, float] = {}
    for symbol, number in items:
        name = _symbol(symbol, "probabilities")
        key = f"probabilities.{name}"
        if name in out:
            raise ProblemError("is given twice", key=key)
        p = parse_number(number, key)
        if not 0.0 <= p <= 1.0:
            raise ProblemError(f"probability {fmt(p)} is outside [0, 1]", key=key)
        out[name] = p
    if not any(out.values()):
        raise ProblemError(
            "every value is 0: no path could have any probability", key="probabilities"
        )
    return out


def _label(r: Reader, one_char: bool, known: Any) -> tuple[list[str], bool]:
    r.require("ctc", "label")
    value = r.data["label"]
    label, as_string = _sequence(value, "label", one_char=one_char, known=known)
    if len(label) > MAX_LABEL:
        raise ProblemError(f"{len(label)} symbols is over the limit of {MAX_LABEL}", key="label")
    # A label written as a string of one-character symbols keeps that form in the output.
    return label, as_string and all(len(s) == 1 for s in label)


def _check_label(
    label: list[str], blank: str, known: list[str] | dict[str, float], where: str
) -> None:
    for i, symbol in enumerate(label):
        if symbol == blank:
            raise ProblemError(
                f"the label contains the blank {quoted(blank)}: the blank separates symbols in "
                "alignments and is never part of a label",
                key=f"label[{i}]",
            )
        if symbol not in known:
            hint = did_you_mean(symbol, list(known))
            raise ProblemError(f"symbol {quoted(symbol)} has no {where}{hint}", key=f"label[{i}]")


def _alignments(r: Reader, probabilities: dict[str, float], one_char: bool) -> list[dict]:
    value = r.bounded_list("alignments", "alignments (paths)", MAX_ALIGNMENTS)
    out = []
    listed_frames = 0
    for i, item in enumerate(value):
        key = f"alignments[{i}]"
        factors = None
        if isinstance(item, dict):
            for k in item:
                if k not in ALIGNMENT_KEYS:
                    hint = did_you_mean(str(k), ALIGNMENT_KEYS)
                    raise ProblemError(
                        f"unknown key{hint}; an alignment has path and factors", key=f"{key}.{k}"
                    )
            if item.get("path") is None:
                raise ProblemError(
                    "missing: an alignment written as a mapping needs a path", key=f"{key}.path"
                )
            path_value = item["path"]
            if item.get("factors") is not None:
                factors = parse_array(item["factors"], f"{key}.factors", ndims=(1,))
        elif isinstance(item, str) and "=" in item:  # inline: PATH=f1,f2,...
            # The last `=` separates: factors never hold one, a path may when `=` is a
            # symbol (the blank, say), and then a path of known symbols only has no factors.
            whole, _ = _sequence(item, f"{key}.path", one_char=one_char, known=probabilities)
            if "=" in probabilities and all(symbol in probabilities for symbol in whole):
                path_value = item
            else:
                path_value, _, factor_text = item.rpartition("=")
                factors = parse_array(factor_text, f"{key}.factors", ndims=(1,))
        else:
            path_value = item
        path, _ = _sequence(path_value, f"{key}.path", one_char=one_char, known=probabilities)
        if not path:
            raise ProblemError("is an empty path", key=f"{key}.path")
        if len(path) > MAX_FRAMES:
            raise ProblemError(
                f"{len(path)} frames is over the limit of {MAX_FRAMES:,}", key=f"{key}.path"
            )
        listed_frames += len(path)
        if listed_frames > MAX_LISTED_FRAMES:
            raise ProblemError(
                f"the listed alignments up to this one hold {listed_frames:,} frames in all, "
                f"over the limit of {MAX_LISTED_FRAMES:,}",
                key=f"{key}.path",
            )
        for j, symbol in enumerate(path):
            if symbol not in probabilities:
                hint = did_you_mean(symbol, list(probabilities))
                raise ProblemError(
                    f"symbol {quoted(symbol)} has no probability{hint}", key=f"{key}.path[{j}]"
                )
        if factors is not None:
            if factors.size != len(path):
                raise ProblemError(
                    f"{factors.size} factors for a path of {len(path)} symbols: one factor "
                    "per frame",
                    key=f"{key}.factors",
                )
            check_range(factors, f"{key}.factors", "factor", 0.0, 1.0)
        out.append({"path": path, "factors": factors})
    return out


def validate_ctc(r: Reader) -> Validated:
    """Return the CTC core's inputs (lecture or matrix mode), warnings, and display data."""
    matrix_keys = [k for k in MATRIX_KEYS if r.has(k)]
    lecture = r.has("probabilities")
    if lecture and matrix_keys:
        raise ProblemError(
            f"give per-symbol probabilities (lecture mode) or a {matrix_keys[0]} matrix, not both",
            key=matrix_keys[0],
        )
    if len(matrix_keys) > 1:
        raise ProblemError(
            f"give one of {', '.join(MATRIX_KEYS)}, not both {matrix_keys[0]} and {matrix_keys[1]}",
            key=matrix_keys[1],
        )
    method = r.choice("method", METHODS, "") or None
    trellis = r.flag("trellis")
    if r.has("reduction") and str(r.data["reduction"]).strip().lower() == "none":
        raise ProblemError(
            "a CTC problem is one sequence with one loss: choose sum (−log p, the default) "
            "or mean (÷ the label length, as torch's ctc_loss)",
            key="reduction",
        )
    reduction = r.choice("reduction", CTC_REDUCTIONS, "sum")
    decoding = _decoding(r)
    if lecture:
        inputs, warnings, display = _validate_lecture(r, method, trellis, decoding)
    elif matrix_keys:
        inputs, warnings, display = _validate_matrix(r, matrix_keys[0], method, trellis, decoding)
    else:
        inputs = None
    if inputs is not None:
        inputs["reduction"] = reduction
        inputs["steps"] = r.flag("steps")
        inputs["all_alignments"] = _enumerate_flag(r)
        if inputs["all_alignments"] and inputs.get("label") is not None:
            _check_enumeration(inputs)
        if inputs.get("decode") is not None and inputs.get("label") is None:
            # a decoded label is held to the same limits once it is decoded (by the core)
            inputs["check_label"] = functools.partial(_check_decoded, dict(inputs))
        return inputs, warnings, display
    if r.has("alignments") or r.has("frames"):
        raise ProblemError(
            "missing: lecture mode needs each symbol's probability (probabilities: {H: 0.6, ...})",
            key="probabilities",
        )
    raise ProblemError(
        "missing: give probabilities with alignments or frames (lecture mode), or an "
        "alphabet with a probs, log_probs or logits matrix (matrix mode)",
        key="probabilities",
    )


def _validate_lecture(
    r: Reader, method: str | None, trellis: bool, decoding: tuple[str | None, int | None]
) -> Validated:
    matrix_mode = "belongs to matrix mode (an alphabet and a matrix), not to per-symbol values"
    no_gradient = (
        "belongs to matrix mode: a gradient is taken with respect to a per-frame matrix (an "
        "alphabet with probs, log_probs or logits); lecture mode's per-symbol values have none"
    )
    no_decoding = (
        "belongs to matrix mode: decoding reads a per-frame matrix (an alphabet with probs, "
        "log_probs or logits); lecture mode's values are the same every frame"
    )
    r.forbid({"alphabet": matrix_mode, "grad": no_gradient, "beam_width": no_decoding})
    if decoding[0] is not None:  # decode: false asks for nothing, and is let be
        raise ProblemError(no_decoding, key="decode")
    probabilities = _probabilities(r)
    blank = _symbol(r.get("blank", "-"), "blank")
    one_char = all(len(s) == 1 for s in probabilities)
    label, label_is_string = _label(r, one_char, probabilities)
    if blank not in probabilities:
        raise ProblemError(
            f"no probability for the blank {quoted(blank)} (set blank: if the blank is another "
            "symbol)",
            key="probabilities",
        )
    _check_label(label, blank, probabilities, "probability")
    alignments = _alignments(r, probabilities, one_char) if r.has("alignments") else []
    frames = _positive_int(r, "frames", MAX_FRAMES)
    if not alignments and frames is None:
        raise ProblemError(
            "missing: list the alignments, or give frames for the exact computation",
            key="alignments",
        )
    if method in ("listed", "valid") and not alignments:
        raise ProblemError(
            f"method {method} sums listed alignments, and none are listed", key="method"
        )
    inputs = {
        "mode": "lecture",
        "label": label,
        "label_is_string": label_is_string,
        "blank": blank,
        "probabilities": probabilities,
        "alignments": alignments,
        "frames": frames,
        "method": method,
        "trellis": trellis,
    }
    if frames is not None:
        _check_trellis(inputs, "frames")
    else:  # the exact sum runs over as many frames as the longest listed alignment
        longest = max(range(len(alignments)), key=lambda i: len(alignments[i]["path"]))
        _check_trellis(inputs, f"alignments[{longest}]")
    return inputs, [], {}


def work(inputs: dict[str, Any]) -> tuple[int, int, int]:
    """Return what validated CTC inputs cost: the cells of the forward algorithm's table,
    T × (2L + 1), the frames walked one by one, T plus those of the listed alignments (T is
    the matrix's rows, `frames`, or the longest listed alignment) and those beam search
    walks, and the candidates beam search scores, T × width × alphabet."""
    frames = _exact_frames(inputs)
    listed = sum(len(a["path"]) for a in inputs.get("alignments") or ())
    label = inputs.get("label") or ()  # decoding without a label: the decoded one's, later
    scored = 0
    if inputs.get("decode") == "beam":
        listed += frames
        scored = frames * inputs["beam_width"] * inputs["prediction"].shape[1]
    return frames * (2 * len(label) + 1), frames + listed, scored


def _exact_frames(inputs: dict[str, Any]) -> int:
    if inputs["mode"] == "matrix":
        return len(inputs["prediction"])
    if inputs.get("frames") is not None:  # (validation drops keys that are None)
        return int(inputs["frames"])
    return max(len(a["path"]) for a in inputs["alignments"])


def _enumerate_flag(r: Reader) -> bool:
    """Return whether every alignment is to be listed: `enumerate: true` in a file, or
    `--alignments all` (the flag's one value) on the command line."""
    value = r.data.get("enumerate")
    if isinstance(value, str) and value.strip().lower() == "all":
        return True
    try:
        return r.flag("enumerate")  # true/false as every flag reads them (yes, on, 1, …)
    except ProblemError:
        raise ProblemError(
            f"expected true, false or all (--alignments all), got {shown(value)}",
            key="enumerate",
        ) from None


def _check_enumeration(inputs: dict[str, Any]) -> None:
    """Refuse to list every alignment when there are too many to walk, before any is made."""
    from rnnloss_cli.core.ctc_solve import MAX_ENUMERATION_WORK, enumeration_work

    frames = _exact_frames(inputs)
    count, work_done = enumeration_work(inputs["label"], frames)
    if work_done > MAX_ENUMERATION_WORK:
        raise ProblemError(
            f"{count:,} alignments of {frames:,} frames is {work_done:,} symbols to write, over "
            f"the limit of {MAX_ENUMERATION_WORK:,}: list every alignment of a smaller problem "
            "(fewer frames or a shorter label); the exact sum and count need no listing",
            key="enumerate",
        )


def _check_decoded(inputs: dict[str, Any], label: list[str]) -> None:
    """Refuse a decoded output that is too long to work on: the limits of a given label
    (the forward algorithm's cells; every alignment listed), said of the decoded output."""
    with_label = {**inputs, "label": label}
    try:
        _check_trellis(with_label, "decode")
        if inputs.get("all_alignments"):
            _check_enumeration(with_label)
    except ProblemError as exc:
        raise ProblemError(
            f"the decoded output has {len(label):,} symbols, too long for its exact loss: "
            f"{exc.message}; give the label whose loss to compute (the decoding is then shown "
            "beside it), or decode fewer frames",
            key="decode",
        ) from None


def _check_trellis(inputs: dict[str, Any], key: str) -> None:
    """Refuse a problem whose forward-algorithm table is over MAX_TRELLIS cells."""
    cells = work(inputs)[0]
    if cells > MAX_TRELLIS:
        label = len(inputs["label"])
        raise ProblemError(
            f"{_exact_frames(inputs):,} frames × {2 * label + 1:,} states (2 × {label:,} label "
            f"symbols + 1) is {cells:,} cells of the forward algorithm, over the limit of "
            f"{MAX_TRELLIS:,}",
            key=key,
        )


def _decoding(r: Reader) -> tuple[str | None, int | None]:
    """Return the decoding asked for (greedy, beam or None) and the beam width: `decode:
    beam` (or true), `decode: greedy`, `decode: false` (none); a `beam_width` alone asks
    for beam search."""
    method, said_no = None, False
    if r.has("decode"):
        value = r.data["decode"]
        text = value.strip().lower() if isinstance(value, str) else value
        if isinstance(text, str) and text in DECODERS:
            method = text
        else:
            try:  # true (beam) or false (none), as every flag reads them
                method = "beam" if r.flag("decode") else None
            except ProblemError:
                hint = did_you_mean(text, DECODERS) if isinstance(text, str) else ""
                raise ProblemError(
                    f"must be beam, greedy, true (beam) or false (none), got {shown(value)}{hint}",
                    key="decode",
                ) from None
            said_no = method is None
    width = None
    if r.has("beam_width"):
        number = parse_number(r.data["beam_width"], "beam_width")
        if not number.is_integer() or number < 1:
            raise ProblemError(
                f"a beam width is a whole number of prefixes, at least 1, got {fmt(number)}",
                key="beam_width",
            )
        if number > MAX_BEAM_WIDTH:
            raise ProblemError(
                f"{fmt(number)} is over the limit of {MAX_BEAM_WIDTH:,} prefixes", key="beam_width"
            )
        if method == "greedy" or said_no:
            said = "greedy decoding keeps one path" if method else "decode: false asks for none"
            raise ProblemError(f"is for beam search (decode: beam); {said}", key="beam_width")
        width, method = int(number), "beam"
    if method == "beam" and width is None:
        from rnnloss_cli.core.ctc_decode import BEAM_WIDTH

        width = BEAM_WIDTH
    return method, width


def _check_decoding(inputs: dict[str, Any], key: str) -> None:
    """Refuse beam search that would score or keep too much (frames × width × alphabet)."""
    if inputs.get("decode") != "beam":
        return

    frames, symbols = inputs["prediction"].shape
    width = inputs["beam_width"]
    entries, scored = frames * width, frames * width * symbols
    if entries > MAX_BEAM_ENTRIES:
        raise ProblemError(
            f"{frames:,} frames × a beam of {width:,} is {entries:,} prefixes to keep, over the "
            f"limit of {MAX_BEAM_ENTRIES:,}: a narrower beam (beam_width) or fewer frames",
            key=key,
        )
    if scored > MAX_DECODE_WORK:
        raise ProblemError(
            f"{frames:,} frames × a beam of {width:,} × {symbols:,} symbols is {scored:,} "
            f"candidates to score, over the limit of {MAX_DECODE_WORK:,}: a narrower beam "
            "(beam_width) or fewer frames",
            key=key,
        )


def _validate_matrix(
    r: Reader,
    matrix_key: str,
    method: str | None,
    trellis: bool,
    decoding: tuple[str | None, int | None] = (None, None),
) -> Validated:
    r.forbid(
        {
            "alignments": "listed alignments belong to lecture mode (per-symbol probabilities)",
            "frames": "in matrix mode T is the number of rows",
        }
    )
    if method in ("listed", "valid"):
        raise ProblemError(
            f"method {method} needs listed alignments; matrix mode is exact", key="method"
        )
    if method == "normalized":
        raise ProblemError(
            "method normalized divides lecture mode's per-symbol values by their sum; in "
            "matrix mode each row is its frame's distribution and the loss is exact",
            key="method",
        )
    r.require("ctc", "alphabet")
    raw_alphabet = r.data["alphabet"]
    if isinstance(raw_alphabet, str):
        raw_alphabet = (
            split_list(raw_alphabet, ",", "alphabet") if "," in raw_alphabet else list(raw_alphabet)
        )
    if not isinstance(raw_alphabet, list) or not raw_alphabet:
        raise ProblemError(f"expected a list of symbols, got {shown(raw_alphabet)}", key="alphabet")
    if len(raw_alphabet) > MAX_ALPHABET:
        raise ProblemError(
            f"{len(raw_alphabet)} symbols is over the limit of {MAX_ALPHABET}", key="alphabet"
        )
    alphabet = [_symbol(s, f"alphabet[{i}]") for i, s in enumerate(raw_alphabet)]
    check_unique(alphabet, "alphabet")
    default_blank = "-" if "-" in alphabet else alphabet[0]
    blank = _symbol(r.get("blank", default_blank), "blank")
    if blank not in alphabet:
        raise ProblemError(f"the blank {quoted(blank)} is not in the alphabet", key="blank")
    one_char = all(len(s) == 1 for s in alphabet)
    decode, beam_width = decoding
    if decode is None and not r.has("label"):
        if r.has("decode"):  # decode: false, said on purpose
            raise ProblemError(
                "missing: the label whose loss to compute (decode: false asks for no decoding, "
                "which is what finds an output without one)",
                key="label",
            )
        raise ProblemError(
            "missing: the label whose loss to compute, or decode: beam (or greedy) to find the "
            "output without one (`rnnloss decode`)",
            key="label",
        )
    if decode is not None and not r.has("label"):
        # Decoding needs no label: the exact loss is then the decoded output's.
        label, label_is_string = None, one_char
    else:
        label, label_is_string = _label(r, one_char, alphabet)
        _check_label(label, blank, alphabet, "place in the alphabet")

    matrix = parse_array(r.data[matrix_key], matrix_key, ndims=(2, 1), **infinities(matrix_key))
    if matrix.ndim == 1:
        matrix = matrix.reshape(1, -1)
    frames, width = matrix.shape
    if width != len(alphabet):
        raise ProblemError(
            f"rows have {width} values but the alphabet has {len(alphabet)} symbols",
            key=matrix_key,
        )
    if frames > MAX_FRAMES:
        raise ProblemError(
            f"{frames:,} rows is over the limit of {MAX_FRAMES:,} frames", key=matrix_key
        )
    if frames * width > MAX_MATRIX:
        raise ProblemError(
            f"{frames:,} × {width:,} is over the limit of {MAX_MATRIX:,} values", key=matrix_key
        )
    warnings = check_prediction(matrix, matrix_key)
    inputs = {
        "mode": "matrix",
        "label": label,
        "label_is_string": label_is_string,
        "blank": blank,
        "alphabet": alphabet,
        "prediction": matrix,
        "kind": matrix_key,
        "trellis": trellis,
        "grad": r.flag("grad"),
        "decode": decode,
        "beam_width": beam_width,
        "label_given": label is not None,
    }
    if label is not None:
        _check_trellis(inputs, matrix_key)
    _check_decoding(inputs, matrix_key)
    return inputs, warnings, {"matrix_key": matrix_key, "matrix": matrix}
