"""A tiny Elman RNN: its forward pass, the loss of its outputs under another loss, and
backpropagation through time (BPTT), step by step with the numbers shown.

The file gives the cell's weights and inputs, and `output`: a problem of another loss
without its predictions (the T outputs are its `yhat` for mse and hinge, its `logits` for
bce, nll, cce, sequence and ctc). That problem is validated and solved as the loss it
names, and ∂L/∂o comes from that loss's own gradient (its `gradient` in the registry):
one gradient per loss, whichever network feeds it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rnnloss_cli.document import (
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
from rnnloss_cli.losses import Explanation, Key, Loss
from rnnloss_cli.losses.keys import template
from rnnloss_cli.render.numbers import LazyRows, elide, num, paren, vector
from rnnloss_cli.workings.common import Formula, answer, formula_paragraph, headline

if TYPE_CHECKING:
    from rnnloss_cli.problems.values import Reader
    from rnnloss_cli.solver import Solution

# The output losses, and the key of theirs the RNN's outputs are.
OUTPUT_LOSSES = {
    "mse": "yhat",
    "hinge": "yhat",
    "bce": "logits",
    "nll": "logits",
    "cce": "logits",
    "sequence": "logits",
    "ctc": "logits",
}
PREDICTION_KEYS = ("yhat", "logits", "log_probs", "probs", "scores")
# core.rnn.WEIGHTS, written here so that listing the commands does not import numpy
WEIGHT_KEYS = ("W_xh", "W_hh", "b_h", "W_hy", "b_y")
# Sizes that keep a problem instant (README, Limits): hidden units, input and output
# values per step, steps; and the truncated backward pass's T·(k + 1)·H² work.
MAX_HIDDEN = 64
MAX_WIDTH = 256  # D and K
MAX_STEPS = 5_000
MAX_TRUNCATED_WORK = 200_000_000
# The forward table writes each unit's pre-activation with its numbers while the cell is
# this small (H units of D + H products each); beyond, the vectors alone.
SUBSTITUTE_UNITS = 3
SUBSTITUTE_TERMS = 4
# The per-step contributions to W_xh and W_hh are written out while both are this small.
CONTRIBUTION_ENTRIES = 4


def validate(r: Reader) -> tuple[dict[str, Any], list[str], dict[str, Any]]:
    """Return the RNN's inputs: five weights whose shapes agree, h0, the inputs, the
    options, and the output problem validated as its own loss over the T outputs."""
    import numpy as np

    from rnnloss_cli.core.text import count as counted
    from rnnloss_cli.errors import ProblemError
    from rnnloss_cli.problems.values import fmt, parse_number, shape_words

    if not r.has("output"):
        raise ProblemError(
            "missing: the loss of the RNN's outputs is a problem of its own (output: with "
            "loss: mse and y: …), written in a problem file: run `rnnloss rnn FILE` "
            "(`rnnloss new rnn` prints one); flags can only change a file's keys",
            key="output",
        )
    r.require("rnn", "W_xh", "W_hh", "b_h", "W_hy", "b_y", "inputs")
    activation = r.choice("activation", ("tanh", "relu"), "tanh")

    def matrix(key: str) -> np.ndarray:
        value = r.array(key)
        return value.reshape(1, -1) if value.ndim == 1 else value  # a list is one row

    def vector_of(key: str) -> np.ndarray:
        value = r.array(key)
        if value.ndim != 1:
            raise ProblemError(
                f"expected a list of numbers, got a {shape_words(value)} matrix", key=key
            )
        return value

    w_xh = matrix("W_xh")
    size, width = w_xh.shape
    w_hh, w_hy = matrix("W_hh"), matrix("W_hy")
    count = w_hy.shape[0]
    if w_hh.shape != (size, size):
        raise ProblemError(
            f"W_hh is {shape_words(w_hh)} but must be H × H = {size} × {size} (H from W_xh)",
            key="W_hh",
        )
    if w_hy.shape[1] != size:
        raise ProblemError(
            f"W_hy is {shape_words(w_hy)} but must be K × H = {count} × {size} (H from W_xh, "
            "K from W_hy's rows)",
            key="W_hy",
        )

    def sized(key: str, vector: np.ndarray, length: int, letter: str, source: str) -> None:
        if vector.size != length:
            must = f"{letter} = {counted(length, 'value')} ({letter} from {source})"
            raise ProblemError(f"{key} is {shape_words(vector)} but must be {must}", key=key)

    b_h, b_y = vector_of("b_h"), vector_of("b_y")
    sized("b_h", b_h, size, "H", "W_xh")
    sized("b_y", b_y, count, "K", "W_hy's rows")
    h0 = vector_of("h0") if r.has("h0") else np.zeros(size)
    sized("h0", h0, size, "H", "W_xh")
    inputs = r.array("inputs")
    if inputs.ndim == 1:  # a list of numbers: one number a step (D = 1)
        inputs = inputs.reshape(-1, 1)
    steps = inputs.shape[0]
    if inputs.shape[1] != width:
        raise ProblemError(
            f"inputs is {shape_words(inputs)} but must be T × D = {steps} × {width} (D from "
            "W_xh's columns, T from inputs' rows)",
            key="inputs",
        )
    for key, value, limit, what in (
        ("W_xh", size, MAX_HIDDEN, "hidden units H"),
        ("W_xh", width, MAX_WIDTH, "input values per step D"),
        ("W_hy", count, MAX_WIDTH, "outputs per step K"),
        ("inputs", steps, MAX_STEPS, "steps T"),
    ):
        if value > limit:
            raise ProblemError(
                f"{value:,} {what} is over the limit of {limit:,} (so that it stays instant)",
                key=key,
            )

    truncate = None
    if r.has("truncate"):
        number = parse_number(r.data["truncate"], "truncate")
        if not number.is_integer() or number < 0:
            raise ProblemError(
                f"truncate is a whole number of steps ≥ 0, got {fmt(number)}", key="truncate"
            )
        truncate = int(min(number, steps))
        if truncate < steps - 1 and steps * (truncate + 1) * size * size > MAX_TRUNCATED_WORK:
            raise ProblemError(
                f"T·(k + 1)·H² = {steps * (truncate + 1) * size * size:,} is over the limit "
                f"of {MAX_TRUNCATED_WORK:,} for truncated BPTT: a smaller k, or none (full "
                "BPTT costs T·H²)",
                key="truncate",
            )
    max_norm = None
    if r.has("clip"):
        max_norm = parse_number(r.data["clip"], "clip")
        if not max_norm > 0:
            raise ProblemError(f"the max norm must be > 0, got {fmt(max_norm)}", key="clip")
    rate = None
    if r.has("learning_rate"):
        rate = parse_number(r.data["learning_rate"], "learning_rate")
        if not rate > 0:
            raise ProblemError(f"must be > 0, got {fmt(rate)}", key="learning_rate")

    output = _validate_output(r, steps, count)
    weights = {"W_xh": w_xh, "W_hh": w_hh, "b_h": b_h, "W_hy": w_hy, "b_y": b_y}
    validated = {
        "weights": weights,
        "h0": h0,
        "inputs": inputs,
        "activation": activation,
        "output": output,
        "truncate": truncate,
        "max_norm": max_norm,
        "rate": rate,
    }
    return validated, list(output["warnings"]), {}


def _validate_output(r: Reader, steps: int, count: int) -> dict[str, Any]:
    """Return the output problem as raw keys without predictions, the key the outputs
    fill, and whether they are one number a step: validated as its loss over T outputs
    of K values (zeros standing in for them)."""
    import numpy as np

    from rnnloss_cli.errors import ProblemError
    from rnnloss_cli.problems import canonical_loss
    from rnnloss_cli.problems.values import shown

    raw = r.data["output"]
    if not isinstance(raw, dict):
        raise ProblemError(
            f"expected a problem (a mapping with its loss, loss: mse, y: …), got {shown(raw)}",
            key="output",
        )
    if "loss" not in raw:
        raise ProblemError(
            f"missing: the output problem names its loss ({', '.join(OUTPUT_LOSSES)})",
            key="output.loss",
        )
    name = canonical_loss(raw["loss"], "output.loss")
    if name not in OUTPUT_LOSSES:
        raise ProblemError(
            f"the RNN's outputs feed one of {', '.join(OUTPUT_LOSSES)}, not {name}",
            key="output.loss",
        )
    key = OUTPUT_LOSSES[name]
    for k in PREDICTION_KEYS:
        if k in raw:
            raise ProblemError(
                f"the RNN's outputs are the predictions ({key}): leave {k} out",
                key=f"output.{k}",
            )
    for k in ("expected", "tolerance", "grad"):
        if k in raw:
            raise ProblemError(
                "the output problem has no answer key or options of its own: put expected "
                "on the rnn problem",
                key=f"output.{k}",
            )
    flat = count == 1 and name in ("mse", "hinge", "bce")  # one number a step: T values
    problem = _problem(raw, key, np.zeros((steps, count)), flat, r.source, r.depth)
    if problem.inputs.get("reduction") == "none":
        raise ProblemError(
            "the RNN is trained on a single value: choose mean or sum", key="output.reduction"
        )
    return {"loss": name, "raw": dict(raw), "key": key, "flat": flat, "warnings": ()}


def _problem(
    raw: dict[str, Any],
    key: str,
    outputs: Any,
    flat: bool,
    source: str | None,
    depth: int,
) -> Any:
    """Return the output problem with the outputs as its predictions, validated, its
    gradient asked for (every loss in OUTPUT_LOSSES has one)."""
    from rnnloss_cli.errors import ProblemError
    from rnnloss_cli.problems import _validate

    steps, count = outputs.shape
    shape = f"{steps} values" if flat else f"{steps} × {count}"
    values = outputs[:, 0] if flat else outputs
    data = {**raw, key: values.tolist(), "grad": True}
    try:
        return _validate(data, 0, None, None, None, source, depth + 1)
    except ProblemError as exc:
        # The line printed is exc.message (ProblemError keeps it apart from args).
        hint = f"{exc.message} (the RNN gives {shape} as {key})"
        if exc.key is not None and exc.key.split("[")[0] == key:
            exc.key = "output"
            exc.message, exc.args = hint, (hint,)
        else:
            exc.key = f"output.{exc.key}" if exc.key else "output"
            if key in exc.message:
                exc.message, exc.args = hint, (hint,)
        raise


def solve_output(output: dict[str, Any], outputs: Any, source: str | None = None) -> Any:
    """Return the output problem solved with these outputs as its predictions, and its
    gradient with respect to them (T × K): the output loss's own, from the registry."""
    from rnnloss_cli.solver import solve

    steps, count = outputs.shape
    problem = _problem(output["raw"], output["key"], outputs, output["flat"], source, 0)
    solution = solve(problem)  # grad: true, so the solver asked the registry for it
    return solution, solution.gradient.values.reshape(steps, count)


def step_losses(solution: Any, steps: int) -> list[float | None]:
    """Return each step's term of the output loss before its reduction (the sum of the
    step's terms where it has several), or None where a step has none (padding; ctc)."""
    import numpy as np

    result = solution.result
    if result.loss == "ctc":
        return [None] * steps
    terms = np.asarray(result.terms, dtype=np.float64)
    if result.loss == "sequence":
        mask = np.ravel(result.details["mask"])
        out: list[float | None] = [None] * steps
        for value, t in zip(np.ravel(terms), np.flatnonzero(mask), strict=True):
            out[int(t)] = float(value)
        return out
    return [float(v) for v in terms.reshape(steps, -1).sum(axis=1)]


def train(
    weights: dict[str, Any],
    h0: Any,
    inputs: Any,
    activation: str,
    output: dict[str, Any],
    truncate: int | None = None,
    max_norm: float | None = None,
    rate: float | None = None,
) -> Any:
    """Run the RNN forward, solve its output loss, backpropagate through time, clip, and
    with a learning rate take one step and solve the loss again; return a LossResult."""
    import math

    import numpy as np

    from rnnloss_cli.core import rnn
    from rnnloss_cli.core.result import LossResult

    run = rnn.forward(weights, h0, inputs, activation)
    solution, output_grad = solve_output(output, run.outputs)
    back = rnn.backward(weights, inputs, run, output_grad, activation, truncate)
    clipping = rnn.clip(back.grads, max_norm)
    value = float(solution.result.value)
    warnings: list[str] = list(solution.result.warnings)
    updated = new_run = new_solution = None
    updated_value: float | None = None
    if rate is not None:
        updated = rnn.update(weights, clipping.grads, rate)
        diverged = next((k for k in rnn.WEIGHTS if not np.isfinite(updated[k]).all()), None)
        if diverged is not None:
            warnings.append(
                f"the update diverges: {diverged} − η·g overflows float64 (η = {num(rate)} "
                "is far too large, or clip the gradient): no new loss"
            )
        else:
            try:
                new_run = rnn.forward(updated, h0, inputs, activation)
            except ValueError as exc:
                warnings.append(f"the update diverges: {exc}; no new loss")
            else:
                new_solution, _ = solve_output(output, new_run.outputs)
                updated_value = float(new_solution.result.value)
                if not math.isfinite(updated_value):
                    warnings.append("the update diverges: the new loss is beyond float64")
    steps = inputs.shape[0]
    details = {
        "weights": weights,
        "h0": h0,
        "inputs": inputs,
        "activation": activation,
        "truncate": truncate,
        "rate": rate,
        "run": run,
        "back": back,
        "clipping": clipping,
        "output": solution,
        "step_losses": step_losses(solution, steps),
        "updated": updated,
        "updated_run": new_run,
        "updated_output": new_solution,
        "updated_value": updated_value,
    }
    result = solution.result
    return LossResult(
        loss="rnn",
        reduction=result.reduction,
        terms=np.array([value]),
        sum=value,
        mean=value,
        value=value,
        log_base=getattr(result, "log_base", None),
        warnings=tuple(warnings),
        details=details,
    )


def gradient(result: Any, inputs: Any) -> Any:
    """Return the gradient of the loss with respect to the five weights (before any
    clipping), flattened in torch.nn.RNN's order — W_xh, W_hh, b_h, W_hy, b_y, each row by
    row — as a custom loss's term reports it (grad_wrt `weights`; `grads` keeps each)."""
    import numpy as np

    from rnnloss_cli.core.result import Gradient

    grads = result.details["back"].grads
    values = np.concatenate([np.ravel(grads[k]) for k in WEIGHT_KEYS])
    note = "the five weights' gradients flattened in torch.nn.RNN's order: " + ", ".join(
        f"{k} ({' × '.join(str(n) for n in grads[k].shape)})" for k in WEIGHT_KEYS
    )
    return Gradient("weights", values, {}, (note,))


def readings(problem: Any, result: Any) -> list[Any]:
    """Return no other readings: the value is the output loss's, under its own settings."""
    return []


FLAG_MATRIX = "rows split by ;"

LOSS = Loss(
    name="rnn",
    title="RNN, forward and backward through time",
    aliases=("elman",),
    keys=(
        Key(
            "activation",
            "choice",
            "the cell's nonlinearity",
            help="tanh (default) or relu.",
            default="tanh",
            choices=("tanh", "relu"),
        ),
        Key(
            "W_xh",
            "matrix",
            "input-to-hidden weights, H × D",
            help=f"H × D, {FLAG_MATRIX}.",
            flag="--w-xh",
        ),
        Key(
            "W_hh",
            "matrix",
            "hidden-to-hidden weights, H × H",
            help=f"H × H, {FLAG_MATRIX}.",
            flag="--w-hh",
        ),
        Key("b_h", "vector", "the hidden bias, H values", help="H values, e.g. 0,0."),
        Key(
            "W_hy",
            "matrix",
            "hidden-to-output weights, K × H",
            help=f"K × H, {FLAG_MATRIX}.",
            flag="--w-hy",
        ),
        Key("b_y", "vector", "the output bias, K values", help="K values."),
        Key(
            "h0",
            "vector",
            "the initial hidden state, H values (default zeros)",
            help="H values (default zeros).",
        ),
        Key(
            "inputs",
            "matrix",
            "the input sequence, T × D (a list of numbers: D = 1)",
            help=f"T × D, {FLAG_MATRIX} (a list: one number a step).",
        ),
        Key(
            "output",
            "problem",
            "the loss of the T outputs: a problem of mse, hinge, bce, nll, cce, sequence or "
            "ctc without its predictions",
        ),
        Key(
            "truncate",
            "integer",
            "truncated BPTT: each output's gradient goes back k steps",
            help="Truncated BPTT: each output's gradient goes back k steps.",
            bounds={"minimum": 0},
        ),
        Key(
            "clip",
            "number",
            "clip the gradient's norm to this (rnn; bce/cce: clip probabilities)",
            help="Clip the gradients' norm to this, as clip_grad_norm_.",
            bounds={"exclusiveMinimum": 0},
        ),
        Key(
            "learning_rate",
            "number",
            "one step of gradient descent, W − η·g",
            help="η: take one step W − η·g and show the new loss.",
            bounds={"exclusiveMinimum": 0},
        ),
    ),
    validator="rnnloss_cli.losses.rnn:validate",
    core="rnnloss_cli.losses.rnn:train",
    readings="rnnloss_cli.losses.rnn:readings",
    working="rnnloss_cli.losses.rnn:working",
    # As a term of a custom loss with grad: true: its five weights' gradient, flattened.
    gradient="rnnloss_cli.losses.rnn:gradient",
    json="rnnloss_cli.losses.rnn:json_object",
    help="A tiny Elman RNN run forward, its outputs scored by another loss, and "
    "backpropagated through time step by step; with truncation, clipping and one step of "
    "gradient descent. The output loss is written in a problem file.",
    short="An Elman RNN forward and backward through time (BPTT).",
    example="problems/rnn_forecast_mse.yaml --learning-rate 0.1",
    explanation=Explanation(
        summary="an Elman RNN forward, a loss of its outputs, and backpropagation through "
        "time with the numbers in",
        use="seeing how a loss trains an RNN: BPTT, truncation, clipping, vanishing and "
        "exploding gradients",
        formula="hₜ = tanh(W_xh·xₜ + W_hh·hₜ₋₁ + b_h), oₜ = W_hy·hₜ + b_y, L = loss(o₁…o_T); "
        "δₜ = (W_hyᵀ·∂L/∂oₜ + W_hhᵀ·δₜ₊₁) ⊙ (1 − hₜ²)",
        when="Teaching how the gradient of a loss flows back through the time steps (BPTT): "
        "each step's δ gets a part from its own output and a part from step t + 1, and "
        "every weight's gradient is a sum of one contribution a step.",
        conventions="As torch.nn.RNN (one bias b_h = b_ih + b_hh) and autograd, float64. "
        "truncate: k sends each output's gradient back through steps t…t − k only, as the "
        "classic tutorials' bptt_truncate (not detaching h every k steps). clip: as "
        "torch.nn.utils.clip_grad_norm_ over the five weights, its 1e−6 included. "
        "learning_rate: one step W − η·g with the clipped g, and the loss again.",
        pitfalls="‖∂L/∂hₜ‖ shrinks going back when |W_hh|·tanh′ < 1 (vanishing gradients: "
        "early steps barely learn) and grows when it is > 1 (exploding: clip). Truncation "
        "makes the gradient cheaper and biased; clipping changes its length, not its "
        "direction. A large η can raise the loss instead of lowering it.",
        problem="problems/rnn_forecast_mse.yaml",
        template=template("""
# A 2-unit tanh RNN reads 3 numbers and forecasts the next one at each step (MSE).
loss: rnn
title: Forecasting with a tiny RNN
activation: tanh                  # tanh (default) | relu
W_xh: [[0.5], [-0.3]]             # H × D: 2 hidden units, 1 input a step
W_hh: [[0.1, 0.2], [0.0, 0.4]]    # H × H
b_h: [0, 0]                       # H
W_hy: [[1.0, -1.0]]               # K × H: 1 output a step
b_y: [0]                          # K
h0: [0, 0]                        # the initial state (default zeros)
inputs: [1, 2, 3]                 # T × D (a list: one number a step)
output:                           # the loss of the T outputs, without its predictions
  loss: mse
  y: [2, 3, 4]                    # the outputs are its yhat
learning_rate: 0.1                # optional: one step W − η·g, and the new loss
# truncate: 1                     # optional: truncated BPTT
# clip: 1.0                       # optional: clip the gradient's norm
expected: 3.1463                  # the answer key (optional): the loss before the step
"""),
        example="rnnloss new rnn > p.yaml && rnnloss rnn p.yaml",
    ),
    file_help=None,
)


# --- the working ------------------------------------------------------------------------
# Built from the solved problem as a format-neutral Document (rnnloss_cli.document); the
# writers in rnnloss_cli.render set it in the terminal, Markdown or LaTeX. Long sequences
# stay a screenful: the writers elide the middle of every table and matrix.

SHORT_VECTOR = 4  # entries of a vector in a step table before its middle is elided
DIGITS = 4  # significant digits of the vectors in the step tables (--json: every digit)
SLOPES = {"tanh": ("(1 − hₜ²)", r"(1 - h_t^2)"), "relu": ("[aₜ > 0]", r"[a_t > 0]")}


def _vec(values: Any, digits: int = DIGITS) -> str:
    """Return a short vector `[0.4621, −0.2913]` (one value: the value alone)."""
    if len(values) == 1:
        return num(values[0], digits)
    shown = elide(range(len(values)), SHORT_VECTOR, SHORT_VECTOR - 1, 1)
    return "[" + ", ".join("…" if i is None else num(values[i], digits) for i in shown) + "]"


def _rows(matrix: Any, digits: int = DIGITS) -> str:
    """Return a small matrix as its rows, one a line."""
    return "\n".join(_vec(row, digits) for row in matrix)


def _columns(count: int) -> tuple[str, ...]:
    return tuple(str(c + 1) for c in range(count))


def _weight(name: str, values: Any, what: str, caption: str | None = None) -> Block:
    """Return a weight matrix as a matrix block (rows i, columns j), or a vector as a line."""
    if values.ndim == 1:
        return paragraph(f"{caption or name} = {vector(values)}   ({what})")
    rows, cols = values.shape
    label = caption or f"{name} ({what}, {rows} × {cols}):"
    return Matrix(values, _columns(cols), "i", "operand", caption=label)


def _output_given(solution: Solution) -> list[str]:
    """Return the output problem's keys as given (not its predictions, the RNN's outputs)."""
    output = solution.problem.inputs["output"]
    lines = [
        f"output: {output['loss']} over the T outputs (they are its {output['key']}"
        f"{', one number a step' if output['flat'] else ''})"
    ]
    for key, value in output["raw"].items():
        if key in ("loss",):
            continue
        if isinstance(value, list) and not any(isinstance(v, list | dict) for v in value):
            value = "[" + ", ".join(str(v) for v in value) + "]"
        text = printable(str(value))
        if len(text) > 70:
            text = text[:67] + "…"
        lines.append(f"  {key}: {text}")
    return lines


def _inputs(solution: Solution) -> list[Block]:
    d = solution.result.details
    weights, inputs = d["weights"], d["inputs"]
    size, width = weights["W_xh"].shape
    count, steps = weights["W_hy"].shape[0], inputs.shape[0]
    blocks: list[Block] = [
        paragraph(
            f"activation = {d['activation']};  H = {size} hidden unit{'s' * (size != 1)}, "
            f"D = {width} input{'s' * (width != 1)} a step, K = {count} output"
            f"{'s' * (count != 1)} a step, T = {steps} step{'s' * (steps != 1)}"
        ),
        _weight("W_xh", weights["W_xh"], "input → hidden, H × D"),
        _weight("W_hh", weights["W_hh"], "hidden → hidden, H × H"),
        _weight("W_hy", weights["W_hy"], "hidden → output, K × H"),
        paragraph(
            f"b_h = {vector(weights['b_h'])}   b_y = {vector(weights['b_y'])}   "
            f"h0 = {vector(d['h0'])}"
        ),
        Matrix(inputs, _columns(width), "t", "operand", caption=f"inputs ({steps} × {width}):"),
    ]
    lines = _output_given(solution)
    if d["truncate"] is not None:
        lines.append(
            f"truncate = {d['truncate']}: each output's gradient goes back {d['truncate']}"
            " step(s) and stops"
        )
    clipping = d["clipping"]
    if clipping.max_norm is not None:
        lines.append(f"clip = {num(clipping.max_norm)}: the gradients' norm at most this")
    if d["rate"] is not None:
        lines.append(f"learning rate η = {num(d['rate'])}: one step W − η·g")
    blocks.append(paragraph(*lines))
    return blocks


def _formula(solution: Solution) -> list[Any]:
    d = solution.result.details
    act = d["activation"]
    slope, tex_slope = SLOPES[act]
    output = solution.problem.inputs["output"]
    lines: list[Any] = [
        Formula(
            f"aₜ = W_xh·xₜ + W_hh·hₜ₋₁ + b_h,   hₜ = {act}(aₜ),   oₜ = W_hy·hₜ + b_y",
            r"a_t = W_{xh} x_t + W_{hh} h_{t-1} + b_h,\quad h_t = \%s(a_t),\quad "
            r"o_t = W_{hy} h_t + b_y" % ("tanh" if act == "tanh" else "operatorname{relu}"),
        ),
        f"L = {output['loss']} of o₁ … o_T (its {output['key']}): the output loss, below",
        "Backward through time (BPTT), from t = T down to 1, ∂L/∂oₜ from the output loss:",
        Formula(
            "∂L/∂hₜ = W_hyᵀ·∂L/∂oₜ + W_hhᵀ·δₜ₊₁   (from the output, from step t + 1; δ_T₊₁ = 0)",
            r"\frac{\partial L}{\partial h_t} = W_{hy}^\top \frac{\partial L}{\partial o_t}"
            r" + W_{hh}^\top \delta_{t+1}",
        ),
        Formula(
            f"δₜ = ∂L/∂aₜ = ∂L/∂hₜ ⊙ {slope}",
            r"\delta_t = \frac{\partial L}{\partial a_t} = \frac{\partial L}{\partial h_t}"
            f" \\odot {tex_slope}",
        ),
        Formula(
            "∂L/∂W_xh = Σₜ δₜ·xₜᵀ,   ∂L/∂W_hh = Σₜ δₜ·hₜ₋₁ᵀ,   ∂L/∂b_h = Σₜ δₜ",
            r"\frac{\partial L}{\partial W_{xh}} = \sum_t \delta_t x_t^\top,\quad "
            r"\frac{\partial L}{\partial W_{hh}} = \sum_t \delta_t h_{t-1}^\top,\quad "
            r"\frac{\partial L}{\partial b_h} = \sum_t \delta_t",
        ),
        Formula(
            "∂L/∂W_hy = Σₜ ∂L/∂oₜ·hₜᵀ,   ∂L/∂b_y = Σₜ ∂L/∂oₜ",
            r"\frac{\partial L}{\partial W_{hy}} = \sum_t \frac{\partial L}{\partial o_t}"
            r" h_t^\top,\quad \frac{\partial L}{\partial b_y} = \sum_t "
            r"\frac{\partial L}{\partial o_t}",
        ),
    ]
    if d["truncate"] is not None:
        k = d["truncate"]
        lines.append(
            f"truncate = {k}: the gradient of oₜ goes back through steps t … t − {k} only "
            '("from t + 1" carries only what is still within its k steps)'
        )
    return lines


def _pre_activation(d: dict[str, Any], t: int) -> str:
    """Return step t's pre-activation: each unit's sum with the numbers in, while small."""
    weights, run = d["weights"], d["run"]
    size, width = weights["W_xh"].shape
    a = run.pre[t]
    if size > SUBSTITUTE_UNITS or width + size > SUBSTITUTE_TERMS:
        return _vec(a)
    x, h = d["inputs"][t], run.previous[t]
    units = []
    for i in range(size):
        parts = [f"{paren(weights['W_xh'][i, j])}·{paren(x[j])}" for j in range(width)]
        parts += [f"{paren(weights['W_hh'][i, j])}·{paren(h[j], DIGITS)}" for j in range(size)]
        parts.append(paren(weights["b_h"][i]))
        units.append(f"{' + '.join(parts)} = {num(a[i])}")
    return "\n".join(units)


def _forward_table(solution: Solution) -> Table:
    d = solution.result.details
    run, losses_ = d["run"], d["step_losses"]
    act = d["activation"]

    def row(t: int) -> list[str]:
        loss = losses_[t]
        return [
            str(t + 1),
            _vec(d["inputs"][t]),
            _pre_activation(d, t),
            _vec(run.hidden[t]),
            _vec(run.outputs[t]),
            "—" if loss is None else num(loss),
        ]

    headers = ("t", "xₜ", "aₜ = W_xh·xₜ + W_hh·hₜ₋₁ + b_h", f"hₜ = {act}(aₜ)", "oₜ", "step loss")
    return Table(headers, LazyRows(run.hidden.shape[0], row), left=frozenset({2}), bold=5, wide=2)


def _output_sections(solution: Solution) -> list[Block]:
    """Return the output loss's own working of its terms and its total."""
    from rnnloss_cli.workings import build

    d = solution.result.details
    sub = build(d["output"])
    blocks: list[Block] = []
    for role in ("formula", "terms"):
        section = sub.section(role)
        if section is not None:
            blocks += list(section.blocks)
    blocks.append(Paragraph(sub.answer.lines))
    return blocks


def _backward_table(solution: Solution) -> Table:
    d = solution.result.details
    back = d["back"]

    def row(t: int) -> list[str]:
        return [
            str(t + 1),
            _vec(back.output_grad[t]),
            _vec(back.from_output[t]),
            _vec(back.from_next[t]),
            num(back.grad_norms[t], DIGITS),
            _vec(back.delta[t]),
        ]

    # Short headers (the formula above says what each is): the table must fit a page.
    headers = ("t", "∂L/∂oₜ", "W_hyᵀ·∂L/∂oₜ", "from t + 1", "‖∂L/∂hₜ‖", "δₜ")
    return Table(headers, LazyRows(back.delta.shape[0], row), bold=4)


def _contributions(solution: Solution) -> list[Block]:
    """Return each step's contribution to ∂L/∂W_xh, ∂L/∂W_hh and ∂L/∂W_hy, while small."""
    import numpy as np

    d = solution.result.details
    weights, back, run = d["weights"], d["back"], d["run"]
    if max(weights["W_xh"].size, weights["W_hh"].size, weights["W_hy"].size) > (
        CONTRIBUTION_ENTRIES
    ):
        return [
            paragraph(
                "(each step's contribution δₜ·xₜᵀ, δₜ·hₜ₋₁ᵀ, ∂L/∂oₜ·hₜᵀ is written out only "
                f"for matrices of at most {CONTRIBUTION_ENTRIES} entries)",
                style="dim",
            )
        ]

    def row(t: int) -> list[str]:
        return [
            str(t + 1),
            _rows(np.outer(back.delta[t], d["inputs"][t])),
            _rows(np.outer(back.delta[t], run.previous[t])),
            _rows(np.outer(back.output_grad[t], run.hidden[t])),
        ]

    headers = ("t", "δₜ·xₜᵀ → ∂L/∂W_xh", "δₜ·hₜ₋₁ᵀ → ∂L/∂W_hh", "∂L/∂oₜ·hₜᵀ → ∂L/∂W_hy")
    return [
        paragraph("Each step's contribution to the weights' gradients (their sums below):"),
        Table(headers, LazyRows(back.delta.shape[0], row)),
    ]


def _norm_line(solution: Solution) -> Line:
    """Return how the gradient flowing from step t + 1 changes crossing one step: the
    geometric mean of ‖from t + 1‖ / ‖∂L/∂hₜ₊₁‖ over the steps, and its (T − 1)th power."""
    import math

    import numpy as np

    back = solution.result.details["back"]
    steps = back.grad_norms.size
    if steps < 2:
        return line("")
    from rnnloss_cli.core.rnn import row_norms

    passed = row_norms(back.from_next[:-1])
    arriving = back.grad_norms[1:]
    usable = (passed > 0) & (arriving > 0) & np.isfinite(arriving)
    if not usable.any():
        return line(("‖∂L/∂hₜ‖ ", "bold"), "nothing flows back from one step to the one before")
    gain = float(np.exp(np.mean(np.log(passed[usable] / arriving[usable]))))
    over = math.exp(min((steps - 1) * math.log(gain), 709.0))
    if over < 1e-2:
        trend = "vanishing gradients: the early steps hear almost nothing of the late outputs"
    elif over > 1e2:
        trend = "exploding gradients: clip them"
    else:
        trend = "neither vanishing nor exploding over these steps"
    return line(
        ("‖∂L/∂hₜ‖ ", "bold"),
        f"one step back multiplies what flows from t + 1 by about {num(gain, DIGITS)} "
        f"(geometric mean of ‖from t + 1‖ / ‖∂L/∂hₜ₊₁‖); over {steps - 1} steps "
        f"{num(gain, DIGITS)}^{steps - 1} = {num(over, DIGITS)}: {trend}",
    )


GRADIENT_NAMES = {
    "W_xh": "Σₜ δₜ·xₜᵀ",
    "W_hh": "Σₜ δₜ·hₜ₋₁ᵀ",
    "b_h": "Σₜ δₜ",
    "W_hy": "Σₜ ∂L/∂oₜ·hₜᵀ",
    "b_y": "Σₜ ∂L/∂oₜ",
}


def _gradient_blocks(solution: Solution) -> list[Block]:
    d = solution.result.details
    grads, clipping = d["back"].grads, d["clipping"]
    blocks: list[Block] = []
    for name in WEIGHT_KEYS:
        g = grads[name]
        if g.ndim == 1:
            blocks.append(paragraph(f"∂L/∂{name} = {GRADIENT_NAMES[name]} = {vector(g)}"))
        else:
            caption = f"∂L/∂{name} = {GRADIENT_NAMES[name]} ({g.shape[0]} × {g.shape[1]}):"
            blocks.append(Matrix(g, _columns(g.shape[1]), "i", "operand", caption=caption))
    norm = f"‖g‖ = √(Σ of every entry²) = {num(clipping.norm)}   (--json: clip_norm)"
    blocks.append(paragraph(norm))
    return blocks


def _clip_blocks(solution: Solution) -> list[Block]:
    clipping = solution.result.details["clipping"]
    c, norm = num(clipping.max_norm), num(clipping.norm)
    lines = [
        Formula(
            f"scale = max_norm / (‖g‖ + 1e−6) = {c} / ({norm} + 1e−06) = {num(clipping.ratio)}",
            r"\text{scale} = \frac{\text{max\_norm}}{\lVert g \rVert + 10^{-6}}",
        )
    ]
    if clipping.clipped:
        after = num(clipping.norm * clipping.scale)
        lines.append(
            f"below 1: every gradient is multiplied by {num(clipping.scale)}; the norm after "
            f"is {after} (the direction is kept)"
        )
    else:
        lines.append("not below 1: the gradients are left as they are (clipped: false)")
    return [formula_paragraph(lines)]


def _update_blocks(solution: Solution) -> list[Block]:
    d = solution.result.details
    updated, rate = d["updated"], num(d["rate"])
    clipped = " (clipped)" if d["clipping"].clipped else ""
    blocks: list[Block] = [paragraph(f"W ← W − η·∂L/∂W{clipped}, η = {rate}, for each weight:")]
    for name in WEIGHT_KEYS:
        w = updated[name]
        if w.ndim == 1:
            blocks.append(paragraph(f"{name} = {vector(w)}"))
        else:
            caption = f"{name} after the step ({w.shape[0]} × {w.shape[1]}):"
            blocks.append(Matrix(w, _columns(w.shape[1]), "i", "operand", caption=caption))
    new_value = d["updated_value"]
    if new_value is None:
        blocks.append(paragraph("the step diverges: no new loss (see the warnings)"))
        return blocks
    new_run = d["updated_run"]
    value = float(solution.result.value)
    change = new_value - value
    if change != change:  # ∞ before and after
        verdict = "both beyond float64: the step cannot be judged by the loss"
    elif change < 0:
        verdict = f"lower by {num(-change)}"
    else:
        verdict = f"higher by {num(change)}: η is too large"
    outputs = new_run.outputs
    if outputs.shape[1] == 1:
        blocks.append(paragraph(f"new outputs o = {vector(outputs[:, 0])}"))
    else:
        caption = f"new outputs oₜ ({outputs.shape[0]} × {outputs.shape[1]}):"
        blocks.append(Matrix(outputs, _columns(outputs.shape[1]), "t", "operand", caption=caption))
    blocks.append(
        paragraph(
            line(("New loss  ", "bold"), f"L = {num(new_value)} (was {num(value)}: {verdict})")
        )
    )
    return blocks


def working(solution: Solution, details: bool = False) -> Document:
    """Return the working of one solved problem."""
    d = solution.result.details
    output = solution.problem.inputs["output"]
    sub = d["output"].result
    sections = [
        Section("Inputs", tuple(_inputs(solution)), "inputs"),
        Section("Formula", (formula_paragraph(_formula(solution)),), "formula"),
        Section("Forward, step by step", (_forward_table(solution),), "terms"),
        Section(f"Output loss ({output['loss']})", tuple(_output_sections(solution)), "output"),
        Section(
            "Backward through time (--json: grad_norms)",
            (
                _backward_table(solution),
                Paragraph((_norm_line(solution),)),
                *_contributions(solution),
            ),
            "backward",
        ),
        Section("Gradients (--json: grads)", tuple(_gradient_blocks(solution)), "gradient"),
    ]
    if d["clipping"].max_norm is not None:
        sections.append(Section("Clipping", tuple(_clip_blocks(solution)), "clipping"))
    if d["updated"] is not None:
        sections.append(
            Section("One step of gradient descent", tuple(_update_blocks(solution)), "update")
        )
    settings = sub.reduction
    name = f"RNN loss ({output['loss']}, {settings})"
    lines = [headline(name, float(solution.result.value))]
    if d["updated_value"] is not None:
        lines.append(headline(f"after one step (η = {num(d['rate'])})", d["updated_value"]))
    ask = (
        "Run the RNN forward over the inputs, score its outputs with the output loss, and "
        "backpropagate through time: the loss, δ at every step and every weight's gradient."
    )
    if d["rate"] is not None:
        ask += f" Then take one step of gradient descent (η = {num(d['rate'])}): the new loss."
    return Document(
        title=printable(solution.problem.title or LOSS.title),
        question=ask,
        sections=tuple(sections),
        answer=answer(solution, lines),
        warnings=tuple(printable(w) for w in solution.result.warnings),
        loss="rnn",
    )


def json_object(solution: Solution) -> dict[str, Any]:
    """Return the result object (the contract's §5): value, steps, grads, grad_norms,
    clip_norm and clipped, with a learning rate updated and updated_value, and output
    (the output loss's own result object)."""
    from rnnloss_cli.render.json_out import result_object

    result = solution.result
    d = result.details
    run, back, clipping = d["run"], d["back"], d["clipping"]
    out: dict[str, Any] = {
        "loss": "rnn",
        "title": solution.problem.title,
        "value": result.value,
        "reduction": result.reduction,
        "activation": d["activation"],
        "steps": [
            {"h": run.hidden[t], "output": run.outputs[t], "loss": d["step_losses"][t]}
            for t in range(run.hidden.shape[0])
        ],
        "grads": dict(back.grads),
        "grad_norms": back.grad_norms,
        "clip_norm": clipping.norm,
        "clipped": clipping.clipped,
    }
    if d["rate"] is not None:
        out["updated"] = dict(d["updated"])
        out["updated_value"] = d["updated_value"]
    out["output"] = result_object(d["output"])
    return out
