"""Custom loss: Σᵢ wᵢ·Lᵢ over weighted terms, each a complete problem of any loss."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from rnnloss_cli.document import (
    Block,
    Document,
    Section,
    Table,
    paragraph,
)
from rnnloss_cli.errors import printable
from rnnloss_cli.losses import Explanation, Key, Loss
from rnnloss_cli.losses.keys import GRAD, template
from rnnloss_cli.render.numbers import (
    num,
    paren,
    vector,
)
from rnnloss_cli.workings.common import (
    Formula,
    Layout,
    Rows,
    document,
)

if TYPE_CHECKING:
    from rnnloss_cli.solver import Solution

MAX_CUSTOM_DEPTH = 3  # custom inside custom inside custom, and no deeper
MAX_CUSTOM_TERMS = 100


def validate(r: Any) -> tuple[dict[str, Any], list[str], dict[str, Any]]:
    """Return the validated components of a custom loss: each a problem with a weight."""
    from rnnloss_cli.errors import ProblemError
    from rnnloss_cli.problems import _validate, canonical_loss
    from rnnloss_cli.problems.values import parse_number, shown

    r.require("custom", "terms")
    terms = r.bounded_list("terms", "terms (problems, each with its loss)", MAX_CUSTOM_TERMS)
    grad = r.flag("grad")
    components = []
    for i, term in enumerate(terms):
        prefix = f"terms[{i}]"
        if not isinstance(term, dict):
            raise ProblemError(
                f"a term is a problem (a mapping with its loss), got {shown(term)}", key=prefix
            )
        for key in ("expected", "tolerance"):
            if key in term:
                raise ProblemError(
                    "a term has no answer key of its own: put expected on the custom loss",
                    key=f"{prefix}.{key}",
                )
        if "grad" in term:
            raise ProblemError(
                "a term has no gradient of its own: put grad: true on the custom loss (each "
                "term then shows the custom loss's gradient with respect to its input)",
                key=f"{prefix}.grad",
            )
        weight = parse_number(term.get("weight", 1.0), f"{prefix}.weight")
        name = term.get("name")
        if name is not None and not isinstance(name, str | int | float):
            raise ProblemError(f"expected a short name, got {shown(name)}", key=f"{prefix}.name")
        if "loss" not in term:
            raise ProblemError("missing: each term names its loss", key=f"{prefix}.loss")
        if canonical_loss(term["loss"], f"{prefix}.loss") == LOSS.name and (
            r.depth + 1 >= MAX_CUSTOM_DEPTH
        ):
            raise ProblemError(
                f"custom losses nest at most {MAX_CUSTOM_DEPTH} deep", key=f"{prefix}.loss"
            )
        sub = {k: v for k, v in term.items() if k not in ("weight", "name")}
        try:
            problem = _validate(sub, i, None, None, None, r.source, r.depth + 1)
        except ProblemError as exc:
            exc.key = f"{prefix}.{exc.key}" if exc.key else prefix
            raise
        if problem.inputs.get("reduction") == "none":
            raise ProblemError(
                "a term needs a single value: choose mean or sum", key=f"{prefix}.reduction"
            )
        if grad:
            problem = asking_gradient(problem)
        label = str(name) if name is not None else f"{problem.loss} #{i + 1}"
        components.append({"name": label, "weight": weight, "problem": problem})
    return {"components": components}, [], {}


def asking_gradient(problem: Any) -> Any:
    """Return a term's problem with its gradient asked for (a custom term's terms too;
    CTC computes the gradient with respect to the logits it starts from)."""
    inputs = dict(problem.inputs)
    if "components" in inputs:
        inputs["components"] = [
            {**c, "problem": asking_gradient(c["problem"])} for c in inputs["components"]
        ]
    if "grad" in inputs:
        inputs["grad"] = True
    return replace(problem, inputs=inputs, grad=True)


def weighted_solution(solution: Any, weight: float) -> Any:
    """Return a term's solution with its gradient as the custom loss has it: `weight` × its
    own (a custom term's terms each by their weights × this one)."""
    from rnnloss_cli.core.sequence_grad import weighted

    result = solution.result
    if "components" in getattr(result, "details", {}):
        components = [
            {**c, "solution": weighted_solution(c["solution"], weight)}
            for c in result.details["components"]
        ]
        return replace(solution, result=replace(result, details={"components": components}))
    if solution.gradient is None:
        return solution
    return replace(solution, gradient=weighted(solution.gradient, weight))


def combine(components: list[dict[str, Any]]) -> Any:
    """Solve each component, then weigh and add their values in the core."""
    from rnnloss_cli.core.sequence import weighted_sum
    from rnnloss_cli.solver import solve

    components = [{**c, "solution": solve(c["problem"])} for c in components]
    # With `grad: true`, each term's gradient is the custom loss's: its weight × its own.
    components = [
        {**c, "solution": weighted_solution(c["solution"], c["weight"])} if c["problem"].grad else c
        for c in components
    ]
    values = [float(c["solution"].result.value) for c in components]
    exact = [getattr(c["solution"].result, "exact_value", None) for c in components]
    result = weighted_sum(values, [c["weight"] for c in components], exact)
    named = [
        f"term {i + 1} ({c['name']}): {w}"
        for i, c in enumerate(components)
        for w in c["solution"].result.warnings
    ]
    warnings = [*named, *result.warnings]
    return replace(result, warnings=tuple(warnings), details={"components": components})


def work(inputs: dict[str, Any]) -> tuple[int, ...]:
    """Return the CTC work of the terms together."""
    from rnnloss_cli.problems import FILE_LIMITS, ctc_work

    parts = [ctc_work(c["problem"]) for c in inputs["components"]]
    return tuple(sum(p[i] for p in parts) for i in range(len(FILE_LIMITS)))


def readings(problem: Any, result: Any) -> list[Any]:
    """Return no other readings: a weighted sum has no mean, and its terms' reductions and
    log bases are their own."""
    return []


LOSS = Loss(
    name="custom",
    title="Custom (weighted) loss",
    aliases=(),
    keys=(
        Key("terms", "problems", "the weighted terms of a custom loss"),
        GRAD.with_help(
            "Show the gradient of the weighted sum with respect to each term's predictions "
            "(its weight × the term's own)."
        ),
    ),
    validator=validate,
    core=combine,
    readings=readings,
    work=work,
    help="Custom loss Σᵢ wᵢ·Lᵢ: weighted terms, each a complete problem of any loss.",
    short="Weighted sum of losses, each a complete problem.",
    example="problems/custom_ctc_sequence.yaml --details",
    file_help="A problem file (YAML) with terms; - reads standard input.",
    details_help="Show each term's own working too.",
    working="rnnloss_cli.losses.custom:working",
    json="rnnloss_cli.losses.custom:json_object",
    explanation=Explanation(
        summary="Σᵢ wᵢ·Lᵢ over terms that are complete problems of any loss",
        use="multi-task models: CTC plus an attention decoder, auxiliary losses",
        formula="L = Σᵢ wᵢ·Lᵢ",
        when="Several objectives trained together.",
        conventions="Each term is its own problem (no expected of its own); weight defaults to "
        "1; terms nest up to 3 deep. --details shows each term's working.",
        pitfalls="A weight multiplies the term's value under its own reduction: a mean and a sum "
        "of the same terms weigh differently.",
        problem="problems/custom_ctc_sequence.yaml",
        template=template("""
# Half a hinge loss plus a mean squared error.
loss: custom
title: Two objectives at once
terms:
  - name: margin
    weight: 0.5
    loss: hinge
    y: [1, -1, 1]
    yhat: [0.8, -0.5, 0.3]
  - name: regression
    loss: mse
    y: [1.0, 2.0]
    yhat: [1.5, 2.0]
expected: 0.3583
"""),
        example="rnnloss new custom > p.yaml && rnnloss custom p.yaml --details",
    ),
)


# --- the working ------------------------------------------------------------------------
# Built from the solved problem as a format-neutral Document (rnnloss_cli.document); the
# writers in rnnloss_cli.render set it in the terminal, Markdown or LaTeX.


def custom_given(solution: Solution) -> list[Block]:
    """Return a custom loss's weighted terms as a question gives them (each term's own
    problem is a part of the question)."""
    lines = []
    for i, c in enumerate(solution.result.details["components"]):
        sub = c["solution"].result
        lines.append(
            f"term {i + 1}: {printable(c['name'])} ({sub.loss}), weight {num(c['weight'])}"
        )
    return [paragraph("L = Σᵢ wᵢ·Lᵢ over these terms:", *lines)]


def custom_inputs(solution: Solution) -> list[Block]:
    count = len(solution.result.details["components"])
    return [paragraph(f"{count} weighted term{'s' if count != 1 else ''}, each a complete problem")]


def custom_rows(solution: Solution) -> Rows:
    result = solution.result
    formula = [
        Formula(
            "L = Σᵢ wᵢ·Lᵢ   (each Lᵢ is its own problem's answer)",
            r"L = \sum_i w_i L_i\qquad\text{(each } L_i \text{ is its own problem's answer)}",
        )
    ]
    headers = ["i", "name", "loss", "Lᵢ", "wᵢ", "wᵢ·Lᵢ", "term"]
    rows = []
    for i, c in enumerate(result.details["components"]):
        sub = c["solution"].result
        # A component beyond float64 (a sum of 1e+616) is written as what it is.
        exact = getattr(sub, "exact_value", None)
        value = exact if exact is not None else float(sub.value)
        rows.append(
            [
                str(i + 1),
                printable(c["name"]),
                sub.loss,
                num(value),
                num(c["weight"]),
                f"{paren(c['weight'])} × {paren(value)}",
                num(result.terms[i]),
            ]
        )
    return formula, headers, rows


# A custom loss is a weighted sum: no mean to speak of.
LAYOUT = Layout(
    "Custom loss",
    custom_rows,
    custom_inputs,
    mean=False,
    question="Compute the weighted sum of the terms below, each its own problem.",
    given=custom_given,
)


def _gradient_leaves(solution: Solution, prefix: str = "") -> list[tuple[str, str, Any]]:
    """Return each term with a gradient (a custom term's terms numbered `2.1`): its number,
    its name and its solution."""
    out = []
    for i, c in enumerate(solution.result.details["components"]):
        number = f"{prefix}{i + 1}"
        sub = c["solution"]
        if "components" in getattr(sub.result, "details", {}):
            out += _gradient_leaves(sub, f"{number}.")
        else:
            out.append((number, printable(c["name"]), sub))
    return out


def gradient_section(solution: Solution) -> Section:
    """Return each term's gradient as the custom loss has it: ∂L/∂(its input) = wᵢ × the
    term's own, its values flattened (elided when long)."""
    rows = []
    for number, name, sub in _gradient_leaves(solution):
        gradient = sub.gradient
        if gradient is None:
            rows.append([number, name, sub.result.loss, "—", "—", "no gradient"])
            continue
        weight = gradient.parts.get("weight", 1.0)
        shape = " × ".join(str(n) for n in gradient.values.shape)
        rows.append(
            [
                number,
                name,
                sub.result.loss,
                f"{gradient.wrt} ({shape})",
                num(weight),
                vector(gradient.values.ravel(), limit=6),
            ]
        )
    lines = paragraph(
        "∂L/∂(term i's input) = wᵢ × ∂Lᵢ/∂(its input): L = Σ wᵢ·Lᵢ, and the terms share no input",
        "(--details shows each term's own working, its gradient scaled by its weight)",
    )
    table = Table(
        ("i", "name", "loss", "input", "wᵢ", "wᵢ × ∂Lᵢ/∂input"),
        rows,
        left=frozenset({1, 2, 3, 5}),
        bold=5,
    )
    title = "Gradient of L with respect to each term's input (--json: components[i].grad)"
    return Section(title, (lines, table), "gradient")


def working(solution: Solution, details: bool = False) -> Document:
    """Return the working of one solved problem."""
    out = document(solution, LAYOUT, details)
    if solution.problem.grad:  # after the terms (the last section), as every loss's is
        out = out._replace(sections=(*out.sections, gradient_section(solution)))
    return out


def json_object(solution: Solution) -> dict[str, Any]:
    """Return the result object with each component's own object, name, weight and
    contribution."""
    from rnnloss_cli.render.json_out import common_object, result_object

    out = common_object(solution)
    result = solution.result
    out["components"] = [
        {
            **result_object(c["solution"]),
            "name": c["name"],
            "weight": c["weight"],
            "contribution": contribution,
        }
        for c, contribution in zip(result.details["components"], result.terms, strict=True)
    ]
    return out
