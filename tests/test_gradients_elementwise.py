"""`grad: true` for bce, nll, cce, hinge, huber and kl: the gradient of the headline value
with respect to the prediction as given, checked against torch.autograd (float64) for
every reduction, input kind, log base and option; against central finite differences by
a property test; and shown in every format."""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path

import numpy as np
import pytest
from cli_helpers import compile_latex, invoke, write_problem
from hypothesis import given, settings
from hypothesis import strategies as st

from rnnloss_cli.core import elementwise as core
from rnnloss_cli.core import elementwise_grad as grad

# The relative errors against PyTorch seen in a run (the largest was 5e−14).
ERRORS: list[float] = []
LN = {"e": 1.0, "2": math.log(2.0), "10": math.log(10.0)}


def close(ours: np.ndarray, theirs: np.ndarray) -> float:
    """Assert agreement to rel 1e-9 (abs 1e-12 near 0); return the largest relative error."""
    ours, theirs = np.asarray(ours, dtype=float), np.asarray(theirs, dtype=float)
    assert ours.shape == theirs.shape
    assert np.isfinite(ours).all()
    np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-12)
    big = np.abs(theirs) > 1e-12
    error = float(np.max(np.abs(ours - theirs)[big] / np.abs(theirs[big]), initial=0.0))
    ERRORS.append(error)
    return error


# --- against torch.autograd, through the core functions ----------------------------------


def _torch():
    return pytest.importorskip("torch")


def _reduce(terms, reduction: str):
    return terms.mean() if reduction == "mean" else terms.sum()


def _leaf(torch, a: np.ndarray):
    return torch.tensor(a, dtype=torch.float64, requires_grad=True)


@pytest.mark.parametrize(
    ("kind", "reduction", "base", "clip"),
    [
        (k, r, b, c)
        for k, r, b in itertools.product(("yhat", "logits"), ("mean", "sum", "none"), LN)
        for c in ((None, 0.05) if k == "yhat" else (None,))
    ],
)
@pytest.mark.parametrize("seed", range(3))
def test_bce_matches_torch(kind: str, reduction: str, base: str, clip, seed: int):
    torch = _torch()
    rng = np.random.default_rng(seed)
    shape = (3, 4) if seed == 2 else (7,)
    y = np.where(rng.random(shape) < 0.5, rng.integers(0, 2, shape), rng.random(shape))
    if kind == "logits":
        x = rng.normal(0, 3, shape)
    else:
        x = rng.uniform(0.02, 0.98, shape)
        if clip is not None:  # outside the bounds, and exactly on them
            x.flat[0], x.flat[1], x.flat[2], x.flat[3] = 0.01, 0.99, clip, 1 - clip
    result = core.bce(y, **{kind: x}, reduction=reduction, log_base=base, clip=clip)
    gradient = grad.bce(result, {"y": y, kind: x, "clip": clip})
    assert gradient.wrt == kind
    leaf, target = _leaf(torch, x), torch.tensor(y, dtype=torch.float64)
    if kind == "logits":
        terms = torch.nn.functional.binary_cross_entropy_with_logits(leaf, target, reduction="none")
    else:
        p = leaf if clip is None else torch.clamp(leaf, clip, 1 - clip)
        terms = -(target * torch.log(p) + (1 - target) * torch.log(1 - p))
    _reduce(terms / LN[base], reduction).backward()
    close(gradient.values, leaf.grad.numpy())
    if clip is not None:
        assert gradient.values.flat[0] == 0 and gradient.values.flat[1] == 0
        assert gradient.values.flat[2] != 0 and gradient.values.flat[3] != 0
        assert any("torch.clamp" in n for n in gradient.notes)


def _cross_entropy_cases():
    """Every loss × input kind × reduction × log base × variant that exists: nll takes no
    soft targets or smoothing, clip only probabilities, a −∞ mask no probabilities."""
    for loss, kind, reduction, base, variant in itertools.product(
        ("nll", "cce"),
        ("yhat", "logits", "log_probs"),
        ("mean", "sum", "none"),
        LN,
        ("plain", "soft", "smoothing", "clip", "masked"),
    ):
        if loss == "nll" and variant in ("soft", "smoothing"):
            continue
        if (variant == "clip") != (kind == "yhat") and variant in ("clip", "masked"):
            continue
        yield loss, kind, reduction, base, variant


@pytest.mark.parametrize(
    ("loss", "kind", "reduction", "base", "variant"), list(_cross_entropy_cases())
)
def test_cross_entropy_matches_torch(loss, kind, reduction, base, variant):
    torch = _torch()
    rng = np.random.default_rng(len(loss + kind + reduction + base + variant))
    n, c = 5, 4
    # masked: the last class, which no target weighs, has logit (or log-probability) −∞
    target = rng.integers(0, c - 1 if variant == "masked" else c, n)
    y = np.eye(c)[target]
    if variant == "soft":
        y = rng.dirichlet(np.ones(c), n)
    logits = rng.normal(0, 2, (n, c))
    if variant == "masked":
        logits[:, c - 1] = -np.inf
    log_p = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    x = {"logits": logits, "log_probs": log_p, "yhat": np.exp(log_p)}[kind]
    clip = 0.1 if variant == "clip" else None
    eps = 0.2 if variant == "smoothing" else 0.0
    result = core.categorical_cross_entropy(
        y, **{kind: x}, reduction=reduction, log_base=base, clip=clip, label_smoothing=eps
    )
    gradient = grad.cross_entropy(result, {"y": y, kind: x, "clip": clip})
    assert gradient.wrt == kind and gradient.values.shape == (n, c)
    leaf = _leaf(torch, x)
    weights = torch.tensor((1 - eps) * y + eps / c, dtype=torch.float64)
    if kind == "logits":
        if variant == "plain":
            terms = torch.nn.functional.cross_entropy(leaf, torch.tensor(target), reduction="none")
        else:
            terms = torch.nn.functional.cross_entropy(
                leaf, torch.tensor(y), reduction="none", label_smoothing=eps
            )
    elif kind == "log_probs":
        if variant == "plain":
            terms = torch.nn.functional.nll_loss(leaf, torch.tensor(target), reduction="none")
        else:
            terms = -(weights * leaf.masked_fill(torch.isinf(leaf), 0.0)).sum(dim=1)
    else:
        p = leaf if clip is None else torch.clamp(leaf, clip, 1 - clip)
        terms = -(weights * torch.log(p)).sum(dim=1)
    _reduce(terms / LN[base], reduction).backward()
    close(gradient.values, leaf.grad.numpy())


def _hinge_torch(torch, scores, target, rule, margin, squared):
    functional = torch.nn.functional
    if rule == "weston-watkins":
        return functional.multi_margin_loss(
            scores, target, p=2 if squared else 1, margin=margin, reduction="none"
        )
    mask = functional.one_hot(target, scores.shape[1]).bool()
    true = scores.gather(1, target[:, None])[:, 0]
    rival = scores.masked_fill(mask, -math.inf).max(dim=1).values
    hinge = torch.relu(margin - true + rival)
    return hinge * hinge if squared else hinge


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("squared", [False, True])
@pytest.mark.parametrize("margin", [1.0, 0.5, 2.0])
@pytest.mark.parametrize("rule", ["binary", "crammer-singer", "weston-watkins"])
def test_hinge_matches_torch(reduction, squared, margin, rule):
    torch = _torch()
    rng = np.random.default_rng(int(margin * 10) + 3 * squared)
    if rule == "binary":
        y = rng.choice([-1.0, 1.0], (4, 5))
        yhat = rng.normal(0, 1.5, (4, 5))
        yhat[0, 0] = margin * y[0, 0]  # exactly at the kink: PyTorch's 0
        result = core.hinge(y, yhat, margin=margin, squared=squared, reduction=reduction)
        gradient = grad.hinge(result, {})
        leaf = _leaf(torch, yhat)
        hinge = torch.relu(margin - torch.tensor(y) * leaf)
        terms = hinge * hinge if squared else hinge
        assert gradient.values[0, 0] == 0
    else:
        scores = rng.normal(0, 1.5, (6, 4))
        target = rng.integers(0, 4, 6)
        scores[1, (target[1] + 1) % 4] = scores[1, target[1]] - margin  # at the kink
        result = core.multiclass_hinge(
            target, scores, multiclass=rule, margin=margin, squared=squared, reduction=reduction
        )
        gradient = grad.hinge(result, {})
        leaf = _leaf(torch, scores)
        terms = _hinge_torch(torch, leaf, torch.tensor(target), rule, margin, squared)
    assert gradient.wrt == ("yhat" if rule == "binary" else "scores")
    _reduce(terms, reduction).backward()
    close(gradient.values, leaf.grad.numpy())
    assert squared or any("kink" in n for n in gradient.notes)


def test_crammer_singer_tied_rivals_give_the_first_as_torch_max():
    torch = _torch()
    scores, target = np.array([[0.0, 1.0, 1.0, 0.5]]), np.array([0])
    result = core.multiclass_hinge(target, scores)
    gradient = grad.hinge(result, {})
    leaf = _leaf(torch, scores)
    _hinge_torch(torch, leaf, torch.tensor(target), "crammer-singer", 1.0, False).mean().backward()
    close(gradient.values, leaf.grad.numpy())
    assert gradient.values.tolist() == [[-1.0, 1.0, 0.0, 0.0]]


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("delta", [0.5, 1.0, 5.0])
def test_huber_matches_torch(reduction, delta):
    torch = _torch()
    rng = np.random.default_rng(int(delta * 7))
    y, yhat = rng.normal(0, 4, 12), rng.normal(0, 4, 12)
    yhat[0], yhat[1] = y[0] + delta, y[1] - delta  # |d| = δ exactly
    result = core.huber(y, yhat, delta=delta, reduction=reduction)
    gradient = grad.huber(result, {})
    leaf = _leaf(torch, yhat)
    terms = torch.nn.functional.huber_loss(leaf, torch.tensor(y), delta=delta, reduction="none")
    _reduce(terms, reduction).backward()
    close(gradient.values, leaf.grad.numpy())


@pytest.mark.parametrize("reduction", ["sum", "mean", "batchmean", "none"])
@pytest.mark.parametrize("kind", ["yhat", "log_probs"])
@pytest.mark.parametrize("log_target", [False, True])
@pytest.mark.parametrize("single", [False, True])
def test_kl_matches_torch(reduction, kind, log_target, single):
    torch = _torch()
    rng = np.random.default_rng(len(reduction) + 2 * log_target + 5 * single)
    n, c = (1, 5) if single else (4, 5)
    target = rng.dirichlet(np.ones(c), n)
    target[0, 1] = 0.0  # a class the target does not weigh
    target /= target.sum(axis=1, keepdims=True)
    p = rng.dirichlet(np.ones(c), n)
    with np.errstate(divide="ignore"):
        y = np.log(target) if log_target else target
    x = p if kind == "yhat" else np.log(p)
    if single:
        y, x = y[0], x[0]
    with np.errstate(divide="ignore"):
        result = core.kl_divergence(y, **{kind: x}, log_target=log_target, reduction=reduction)
    gradient = grad.kl(result, {})
    assert gradient.wrt == kind and gradient.values.shape == x.shape
    leaf = _leaf(torch, x)
    log_input = torch.log(leaf) if kind == "yhat" else leaf
    terms = torch.nn.functional.kl_div(
        log_input, torch.tensor(y), reduction="none", log_target=log_target
    )
    if log_target:  # PyTorch gives NaN at a target of e^−∞ = 0: 0·log 0 = 0 instead
        terms = torch.where(torch.isinf(torch.tensor(y)), 0.0, terms)
    rows = 1 if single else n
    divisor = {"sum": 1, "batchmean": rows, "mean": rows * c, "none": 1}[reduction]
    (terms.sum() / divisor).backward()
    close(gradient.values, leaf.grad.numpy())


# --- finite differences --------------------------------------------------------------------


def _value(result) -> float:
    return float(np.sum(result.value)) if result.reduction == "none" else float(result.value)


CASES = ["bce-yhat", "bce-logits", "cce-logits", "cce-yhat", "hinge", "hinge-ww", "huber", "kl"]


@settings(max_examples=60, deadline=None)
@given(
    case=st.sampled_from(CASES),
    seed=st.integers(0, 2**32 - 1),
    reduction=st.sampled_from(["mean", "sum", "none"]),
    base=st.sampled_from(list(LN)),
)
def test_gradients_agree_with_central_differences(case, seed, reduction, base):
    rng = np.random.default_rng(seed)
    if case.startswith("bce"):
        kind = case.split("-")[1]
        y = rng.random(5)
        x = rng.uniform(0.05, 0.95, 5) if kind == "yhat" else rng.normal(0, 2, 5)

        def solve(v):
            return core.bce(y, **{kind: v}, reduction=reduction, log_base=base)

        gradient = grad.bce(solve(x), {"clip": None})
    elif case.startswith("cce"):
        kind = case.split("-")[1]
        y = rng.dirichlet(np.ones(3), 4)
        x = (
            rng.dirichlet(np.ones(3), 4) * 0.9 + 0.03
            if kind == "yhat"
            else rng.normal(0, 2, (4, 3))
        )

        def solve(v):
            return core.categorical_cross_entropy(
                y, **{kind: v}, reduction=reduction, log_base=base, label_smoothing=0.1
            )

        gradient = grad.cross_entropy(solve(x), {"clip": None})
    elif case.startswith("hinge"):
        if case == "hinge":
            y, x = rng.choice([-1.0, 1.0], 6), rng.normal(0, 2, 6)
            if np.min(np.abs(1 - y * x)) < 1e-3:
                return

            def solve(v):
                return core.hinge(y, v, squared=base == "2", reduction=reduction)
        else:
            target, x = rng.integers(0, 3, 4), rng.normal(0, 2, (4, 3))
            gaps = 1 - x[np.arange(4), target][:, None] + x
            if np.min(np.abs(gaps)) < 1e-3:
                return

            def solve(v):
                return core.multiclass_hinge(
                    target, v, multiclass="weston-watkins", squared=base == "2", reduction=reduction
                )

        gradient = grad.hinge(solve(x), {})
    elif case == "huber":
        y, x = rng.normal(0, 2, 6), rng.normal(0, 2, 6)

        def solve(v):
            return core.huber(y, v, delta=1.0, reduction=reduction)

        if np.min(np.abs(np.abs(x - y) - 1.0)) < 1e-3:
            return
        gradient = grad.huber(solve(x), {})
    else:
        y, x = rng.dirichlet(np.ones(3), 4), rng.dirichlet(np.ones(3), 4) * 0.9 + 0.03
        kl_reduction = {"mean": "batchmean", "sum": "sum", "none": "none"}[reduction]

        def solve(v):
            return core.kl_divergence(y, v, reduction=kl_reduction)

        gradient = grad.kl(solve(x), {})
    numeric = np.zeros_like(x)
    for k in range(x.size):
        h = 1e-6 * max(1.0, abs(x.flat[k]))
        up, down = x.copy(), x.copy()
        up.flat[k] += h
        down.flat[k] -= h
        numeric.flat[k] = (_value(solve(up)) - _value(solve(down))) / (2 * h)
    np.testing.assert_allclose(gradient.values, numeric, rtol=1e-5, atol=1e-7)


# --- edges: never NaN, no RuntimeWarning ----------------------------------------------------


@pytest.mark.filterwarnings("error::RuntimeWarning")
def test_extremes_give_numbers_or_honest_infinities_and_no_nan():
    big = 1e308
    cases = [
        grad.bce(core.bce(np.array([1.0, 0, 1, 0]), logits=np.array([big, -big, -big, big])), {}),
        grad.bce(
            core.bce(np.array([1.0, 0, 0, 1]), np.array([1.0, 0.0, 1e-300, 1 - 1e-16])),
            {"clip": None},
        ),
        grad.cross_entropy(
            core.categorical_cross_entropy(
                np.array([[1.0, 0, 0]]), logits=np.array([[big, -big, -np.inf]])
            ),
            {},
        ),
        grad.cross_entropy(
            core.categorical_cross_entropy(
                np.array([[0.0, 1, 0]]), log_probs=np.array([[-np.inf, 0.0, -np.inf]])
            ),
            {},
        ),
        grad.cross_entropy(
            core.categorical_cross_entropy(np.array([[0.0, 1, 0]]), np.array([[0.0, 1, 0]])), {}
        ),
        grad.hinge(core.hinge(np.array([1.0, -1]), np.array([-big, big]), squared=True), {}),
        grad.hinge(
            core.multiclass_hinge(np.array([0]), np.array([[-big, big, 0]]), squared=True), {}
        ),
        grad.hinge(
            core.multiclass_hinge(
                np.array([0]), np.array([[-big, big, 0]]), multiclass="weston-watkins"
            ),
            {},
        ),
        grad.huber(core.huber(np.array([-big, big]), np.array([big, -big])), {}),
        grad.kl(core.kl_divergence(np.array([[0.5, 0.5, 0]]), np.array([[0.5, 0.5, 0]])), {}),
        grad.kl(
            core.kl_divergence(
                np.array([[-800.0, 0.0]]), log_probs=np.array([[-800.0, 0.0]]), log_target=True
            ),
            {},
        ),
    ]
    for gradient in cases:
        assert not np.isnan(gradient.values).any(), gradient
    # the finite ones where the loss is finite, the 0·log 0 cells 0 and said so
    assert cases[0].values.tolist() == [0.0, 0.0, -0.25, 0.25]
    assert cases[4].values.tolist() == [[0.0, -1.0, 0.0]] and cases[4].notes
    assert cases[9].values[0, 2] == 0 and any("NaN" in n for n in cases[9].notes)
    assert cases[8].values.tolist() == [0.5, -0.5]  # δ·sign(d)/n: d itself overflows
    assert np.isinf(cases[5].values).all() and cases[7].values.tolist() == [[-2 / 3, 1 / 3, 1 / 3]]


def test_bce_at_a_probability_of_0_or_1_is_the_remaining_logs_derivative():
    result = core.bce(np.array([0.0, 1.0, 1.0]), np.array([0.0, 1.0, 0.0]), reduction="sum")
    gradient = grad.bce(result, {"clip": None})
    assert gradient.values.tolist() == [1.0, -1.0, -math.inf]
    assert any("1e−12" in n for n in gradient.notes)  # PyTorch's ε differs there: said


# --- through the CLI ---------------------------------------------------------------------------


def _json(args: list[str]) -> dict:
    run = invoke([*args, "--json"])
    assert run.exit_code == 0, run.output
    assert "NaN" not in run.stdout
    return json.loads(run.stdout)


CLI = {
    "bce": ["bce", "--y", "1,0,1,0", "--logits", "1,-2,0.5,3"],
    "nll": ["nll", "--target", "0,2", "--log-probs", "-0.5,-1.2,-2;-2,-1,-0.7"],
    "cce": ["cce", "--target", "0,2", "--yhat", "0.7,0.2,0.1;0.1,0.3,0.6"],
    "hinge": ["hinge", "--target", "0,2", "--scores", "1,2,0.5;0.2,0.1,0.9"],
    "huber": ["huber", "--y", "30,25,40,35", "--yhat", "28,26,41,50", "--delta", "5"],
    "kl": ["kl", "--y", "0.7,0.3,0", "--log-probs", "-1,-1,-1.5"],
}
WRT = {"bce": "logits", "nll": "log_probs", "cce": "yhat", "hinge": "scores", "huber": "yhat"}


@pytest.mark.parametrize("loss", list(CLI))
def test_json_grad_has_the_inputs_shape_and_agrees_with_the_core(loss: str):
    out = _json([*CLI[loss], "--grad"])
    assert out["grad_wrt"] == WRT.get(loss, "log_probs")
    key = {"logits": "--logits", "log_probs": "--log-probs", "yhat": "--yhat", "scores": "--scores"}
    given = CLI[loss][CLI[loss].index(key[out["grad_wrt"]]) + 1]
    rows = [[float(v) for v in r.split(",")] for r in given.split(";")]
    shape = np.array(rows if ";" in given or loss in ("nll", "cce", "hinge") else rows[0]).shape
    assert np.array(out["grad"]).shape == shape
    assert "grad" not in _json(CLI[loss])


def test_cli_bce_gradient_is_torchs():
    torch = _torch()
    out = _json([*CLI["bce"], "--grad", "--log-base", "2", "--reduction", "sum"])
    z = _leaf(torch, np.array([1.0, -2, 0.5, 3]))
    loss = torch.nn.functional.binary_cross_entropy_with_logits(
        z, torch.tensor([1.0, 0, 1, 0], dtype=torch.float64), reduction="sum"
    )
    (loss / math.log(2)).backward()
    close(np.array(out["grad"]), z.grad.numpy())


def test_grad_true_in_a_problem_file(tmp_path: Path):
    torch = _torch()
    problem = {
        "loss": "hinge",
        "target": [1, 0],
        "scores": [[0.3, 1.0, -0.2], [0.5, 0.1, 0.9]],
        "multiclass": "weston-watkins",
        "squared": True,
        "grad": True,
    }
    out = _json(["hinge", write_problem(tmp_path, problem)])
    scores = _leaf(torch, np.array(problem["scores"]))
    torch.nn.functional.multi_margin_loss(scores, torch.tensor([1, 0]), p=2).backward()
    close(np.array(out["grad"]), scores.grad.numpy())
    assert out["grad_wrt"] == "scores"


def _text(args: list[str]) -> str:
    run = invoke(args)
    assert run.exit_code == 0, run.output
    assert "nan" not in run.stdout.lower().replace("nans", "")
    return run.stdout


@pytest.mark.parametrize("loss", list(CLI))
def test_the_working_has_a_gradient_section_only_when_asked(loss: str):
    assert "Gradient" not in _text(CLI[loss])
    text = _text([*CLI[loss], "--grad"])
    assert "Gradient ∂L/∂" in text and "(--json: grad)" in text


def test_the_terminal_rows_substitute_the_numbers():
    text = _text([*CLI["bce"], "--grad"])
    assert "(0.731059 − 1)/4" in text and "(σ(zᵢ) − yᵢ)/n" in text
    text = _text(["hinge", "--y", "1,-1,1", "--yhat", "0.8,-0.5,1", "--grad"])
    assert "−1·[0.2 > 0]/3" in text and "−1·[0 > 0]/3" in text
    assert "subgradient is 0, as PyTorch's" in text
    text = _text(["cce", "--target", "0", "--logits", "1,0,-1", "--grad", "--log-base", "2"])
    assert "(0.665241 − 1)/ln 2" in text


@pytest.mark.parametrize("loss", list(CLI))
def test_markdown_has_the_gradient_table(loss: str):
    text = _text([*CLI[loss], "--grad", "--format", "markdown"])
    assert "**Gradient ∂L/∂" in text and "| ∂L/∂" in text


def test_a_gradient_of_two_million_terms_formats_only_the_rows_shown():
    from rnnloss_cli.problems import validate
    from rnnloss_cli.render.markdown import document
    from rnnloss_cli.solver import solve

    n = 2_000_000
    problem = {"loss": "bce", "y": [1.0, 0.0] * (n // 2), "logits": [0.5] * n, "grad": True}
    solution = solve(validate(problem))
    assert solution.gradient is not None and solution.gradient.values.shape == (n,)
    text = document(solution)
    assert "**Gradient ∂L/∂z" in text and "| 2000000 | 0 | 0.5 | (0.622459 − 0)/2000000 |" in text
    assert text.count("\n") < 200


@pytest.mark.parametrize("loss", list(CLI))
def test_latex_has_the_gradient_and_compiles(loss: str, tmp_path: Path):
    text = _text([*CLI[loss], "--grad", "--format", "latex"])
    assert r"\partial L" in text
    compile_latex(text, tmp_path)
