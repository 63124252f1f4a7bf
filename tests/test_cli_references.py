"""End to end: random problems through the command line (inline and from files) against
PyTorch, and malformed problems that must end in one clean line."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from rnnloss_cli.cli import app

RTOL = 1e-9


def _text(array: np.ndarray) -> str:
    """Full-precision inline text: rows split by `;`, values by `,` (repr round-trips)."""
    if array.ndim == 1:
        return ",".join(repr(float(v)) for v in array)
    return ";".join(_text(row) for row in array)


def _yaml_value(array: np.ndarray) -> str:
    return json.dumps(array.tolist())  # JSON is YAML, and repr-exact for floats


def _cases(seed: int):
    """Yield (loss, inputs as arrays, extra keys, torch reference value) for one seed."""
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    t = torch.from_numpy
    rng = np.random.default_rng(seed)
    n, c = int(rng.integers(1, 7)), int(rng.integers(2, 6))

    y, yhat = rng.normal(size=n), rng.normal(size=n)
    yield "mse", {"y": y, "yhat": yhat}, {}, F.mse_loss(t(yhat), t(y)).item()

    y01, p = rng.uniform(size=n), rng.uniform(1e-3, 1 - 1e-3, size=n)
    yield "bce", {"y": y01, "yhat": p}, {}, F.binary_cross_entropy(t(p), t(y01)).item()
    logits = rng.normal(scale=4, size=n)
    ref = F.binary_cross_entropy_with_logits(t(logits), t(y01), reduction="sum").item()
    yield "bce", {"y": y01, "logits": logits}, {"reduction": "sum"}, ref

    targets = rng.integers(0, c, size=n)
    z = rng.normal(scale=3, size=(n, c))
    log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    ref = F.nll_loss(t(log_p), t(targets), reduction="sum").item()
    yield "nll", {"target": targets.astype(float), "log_probs": log_p}, {}, ref
    soft = rng.dirichlet(np.ones(c), size=n)
    ref = F.cross_entropy(t(z), t(soft), reduction="sum", label_smoothing=0.2).item()
    yield "cce", {"y": soft, "logits": z}, {"label_smoothing": "0.2"}, ref

    signs = rng.choice([-1.0, 1.0], size=n)
    pairs = t(np.stack([np.zeros(n), yhat], axis=1))
    classes = t(((signs + 1) / 2).astype(np.int64))
    ref = 2 * F.multi_margin_loss(pairs, classes, margin=1.5).item()
    yield "hinge", {"y": signs, "yhat": yhat}, {"margin": "1.5"}, ref


def _value(result) -> float:
    assert result.exit_code == 0, result.output
    value = json.loads(result.stdout)["value"]
    return math.inf if value == "inf" else float(value)


@pytest.mark.parametrize("seed", range(4))
def test_inline_and_file_agree_with_torch(seed, tmp_path):
    runner = CliRunner()
    for i, (loss, arrays, extra, reference) in enumerate(_cases(seed)):
        args = [loss, "--json"]
        for key, array in arrays.items():
            args += [f"--{key.replace('_', '-')}", _text(array)]
        for key, value in extra.items():
            args += [f"--{key.replace('_', '-')}", value]
        assert _value(runner.invoke(app, args)) == pytest.approx(reference, rel=RTOL)

        lines = [f"loss: {loss}"]
        lines += [f"{key}: {_yaml_value(array)}" for key, array in arrays.items()]
        lines += [f"{key}: {value}" for key, value in extra.items()]
        path = tmp_path / f"{loss}{i}.yaml"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        assert _value(runner.invoke(app, [loss, str(path), "--json"])) == pytest.approx(
            reference, rel=RTOL
        )


# --- malformed problems: exit 0, 1 or 2; on 2 exactly one line; never a traceback ---------

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**30), 10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=8),
    st.sampled_from(["1,-1,1", "0.5;0.5", "a,b", "", "-", "nan", "inf", "1e999"]),
)
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4), max_leaves=12)
keys = st.sampled_from(
    [
        "loss",
        "y",
        "yhat",
        "logits",
        "log_probs",
        "target",
        "classes",
        "reduction",
        "log_base",
        "margin",
        "squared",
        "clip",
        "label_smoothing",
        "expected",
        "tolerance",
        "title",
        "yaht",
    ]
)
losses = st.sampled_from(["mse", "bce", "nll", "cce", "hinge", "cross-entropy", "nope", 3])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(loss=losses, body=st.dictionaries(keys, values, max_size=6))
def test_malformed_problems_end_in_one_clean_line(loss, body, tmp_path_factory):
    problem = {"loss": loss, **body}
    path = tmp_path_factory.mktemp("fuzz") / "p.yaml"
    path.write_text(json.dumps(problem, allow_nan=True), encoding="utf-8")
    result = CliRunner().invoke(app, ["solve", str(path), "--json"])
    assert result.exit_code in (0, 1, 2), result.output
    assert "Traceback" not in result.stderr
    data = json.loads(result.stdout)  # the solve object accounts for the problem
    assert data["summary"]["problems"] == 1
    if result.exit_code == 2:
        assert len(result.stderr.splitlines()) == 1
        assert str(path) in result.stderr
