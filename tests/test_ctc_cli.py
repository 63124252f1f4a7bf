"""CTC through the command line: the lecture's numbers, enumeration of every path as the
oracle, PyTorch for loss and gradient, the JSON shapes, and every bad input of issue 3."""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path

import numpy as np
import pytest
from cli_helpers import invoke as _run
from cli_helpers import write_problem as _write

ROOT = Path(__file__).resolve().parent.parent
RTOL = 1e-9


def _json(args):
    result = _run([*args, "--json"])
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.stdout, parse_constant=lambda c: pytest.fail(f"bad JSON {c}"))


def _collapse(path, blank):
    out, previous = [], None
    for symbol in path:
        if symbol != previous and symbol != blank:
            out.append(symbol)
        previous = symbol
    return out


# --- the lecture's problems -------------------------------------------------------------


def test_hello_reproduces_the_lecture_and_explains_it():
    data = _json(["ctc", str(ROOT / "problems/hello.yaml")])
    assert data["value"] == pytest.approx(-math.log(0.0254016), rel=RTOL)
    assert data["matches"] is True and data["method"] == "listed"
    naive = data["naive"]
    assert [a["path"] for a in naive["alignments"]] == ["H-E-L-L-O", "H-E-LL-O", "HE-L-L-O"]
    assert [a["collapsed"] for a in naive["alignments"]] == ["HELLO", "HELO", "HELLO"]
    assert [a["valid"] for a in naive["alignments"]] == [True, False, True]
    assert naive["alignments"][0]["probability"] == pytest.approx(0.0065856, rel=RTOL)
    assert naive["alignments"][0]["symbols_probability"] == pytest.approx(0.00018816, rel=RTOL)
    assert naive["valid_probability"] == pytest.approx(0.0065856 + 0.009408, rel=RTOL)
    dp = data["dp"]
    assert dp["frames"] == 9 and dp["paths"] == 286
    assert dp["probability"] == pytest.approx(0.50036448, rel=1e-7)
    assert dp["normalized"]["probability"] == pytest.approx(0.50036448 / 2.8**9, rel=1e-7)
    text = " ".join(data["warnings"])
    for needle in ("0.000188", "HELO, not HELLO", "9 and 8 frames", "sum to 2.8"):
        assert needle in text


def test_hello_working_shows_the_products_and_the_exact_answer():
    result = _run(["ctc", str(ROOT / "problems/hello.yaml")], env={"COLUMNS": "80"})
    assert result.exit_code == 0
    out = result.stdout
    assert "0.6 × 0.2 × 0.5 × 0.7 × 0.7 ×" in out and "= 0.0065856" in out
    assert "−ln 0.0254016 = 3.67294" in out
    assert "286 paths of length 9 collapse to HELLO" in out
    assert "✓ matches the answer key 3.673" in out
    assert all(len(line) <= 80 for line in out.splitlines())


@pytest.mark.parametrize(
    ("name", "naive_probability", "valid"),
    [("deep.yaml", 0.0730296, [True, False, True]), ("numbers_123.yaml", 0.22176, [True] * 3)],
)
def test_lecture_problems_by_hand(name, naive_probability, valid):
    data = _json(["ctc", str(ROOT / "problems" / name)])
    assert data["naive"]["probability"] == pytest.approx(naive_probability, rel=RTOL)
    assert [a["valid"] for a in data["naive"]["alignments"]] == valid
    assert data["matches"] is True


def test_method_valid_and_exact():
    path = str(ROOT / "problems/deep.yaml")
    valid = _json(["ctc", path, "--method", "valid", "--expected", "3.187"])
    assert valid["value"] == pytest.approx(-math.log(0.0412776), rel=RTOL)
    exact = _json(["ctc", path, "--method", "exact", "--expected", "-0.241"])
    assert exact["value"] == pytest.approx(exact["dp"]["loss"])


def test_inline_lecture_mode_with_stated_factors():
    data = _json(
        [
            "ctc",
            "--label",
            "HELLO",
            "--probabilities",
            "H=0.6,E=0.5,L=0.7,O=0.8,-=0.2",
            "--alignment",
            "H-E-L-L-O=0.6,0.2,0.5,0.7,0.7,0.8,0.5,0.7,0.8",
            "--alignment",
            "HE-L-L-O",
            "--frames",
            "9",
        ]
    )
    assert data["naive"]["alignments"][0]["stated"] is True
    assert data["naive"]["alignments"][1]["probability"] == pytest.approx(
        0.6 * 0.5 * 0.2 * 0.7 * 0.2 * 0.7 * 0.2 * 0.8
    )
    assert any("8 frames, not frames = 9" in w for w in data["warnings"])


# --- enumeration of every path as the oracle ----------------------------------------------


@pytest.mark.parametrize("seed", range(8))
def test_matrix_mode_agrees_with_enumeration(seed, tmp_path):
    rng = np.random.default_rng(seed)
    alphabet = ["-", "a", "b", "c"][: int(rng.integers(2, 5))]
    frames = int(rng.integers(1, 6))
    label = list(rng.choice(alphabet[1:], size=int(rng.integers(0, 4))))
    probs = rng.dirichlet(np.ones(len(alphabet)), size=frames)
    path = _write(
        tmp_path,
        json.dumps(
            {
                "loss": "ctc",
                "label": label,
                "alphabet": alphabet,
                "probs": probs.tolist(),
                "trellis": True,
            }
        ),
    )
    data = _json(["ctc", path])
    total, count, best = 0.0, 0, 0.0
    for p in itertools.product(range(len(alphabet)), repeat=frames):
        if _collapse([alphabet[i] for i in p], "-") == label:
            product = math.prod(probs[t, i] for t, i in enumerate(p))
            total, count, best = total + product, count + 1, max(best, product)
    dp = data["dp"]
    assert dp["paths"] == count
    assert dp["probability"] == pytest.approx(total, rel=RTOL, abs=1e-300)
    if count:
        assert dp["loss"] == pytest.approx(-math.log(total), rel=RTOL)
        assert dp["best_path"]["probability"] == pytest.approx(best, rel=RTOL)
        assert _collapse(list(dp["best_path"]["path"]), "-") == label
        alpha = np.array(dp["alpha"])
        assert alpha.shape == (frames, 2 * len(label) + 1)
        assert alpha[-1, -2:].sum() == pytest.approx(total, rel=RTOL)
    else:
        assert dp["loss"] == "inf" and dp["best_path"] is None
        assert any("cannot fit" in w for w in data["warnings"])
    greedy = [alphabet[int(i)] for i in probs.argmax(axis=1)]
    assert list(dp["greedy"]["path"]) == greedy


@pytest.mark.parametrize("seed", range(6))
def test_lecture_mode_agrees_with_enumeration(seed, tmp_path):
    rng = np.random.default_rng(100 + seed)
    symbols = ["-", "x", "y", "z"][: int(rng.integers(2, 5))]
    values = {s: round(float(rng.uniform(0.05, 0.9)), 3) for s in symbols}
    frames = int(rng.integers(1, 7))
    label = "".join(rng.choice(symbols[1:], size=int(rng.integers(0, 4))))
    data = _json(
        [
            "ctc",
            "--label",
            label or "",
            "--frames",
            str(frames),
            "--probabilities",
            ",".join(f"{s}={p}" for s, p in values.items()),
        ]
    )
    total, count = 0.0, 0
    for p in itertools.product(symbols, repeat=frames):
        if _collapse(p, "-") == list(label):
            total, count = total + math.prod(values[s] for s in p), count + 1
    assert data["dp"]["paths"] == count
    assert data["dp"]["probability"] == pytest.approx(total, rel=RTOL, abs=1e-300)
    norm = sum(values.values())
    if count and abs(norm - 1) > 1e-9:
        assert data["dp"]["normalized"]["probability"] == pytest.approx(
            total / norm**frames, rel=RTOL
        )


@pytest.mark.parametrize(("frames", "label"), [(5, "ab"), (9, "abc"), (12, "abcd"), (7, "")])
def test_path_counts_are_binomial_for_labels_without_repeats(frames, label):
    data = _json(
        [
            "ctc",
            "--label",
            label,
            "--frames",
            str(frames),
            "--probabilities",
            "a=0.2,b=0.2,c=0.2,d=0.2,-=0.2",
        ]
    )
    assert data["dp"]["paths"] == math.comb(frames + len(label), 2 * len(label))


def test_two_thousand_frames_stay_finite(tmp_path):
    rng = np.random.default_rng(7)
    logits = rng.normal(size=(2000, 5))
    label = list(rng.choice(["a", "b", "c", "d"], size=300))
    path = _write(
        tmp_path,
        json.dumps(
            {
                "loss": "ctc",
                "label": label,
                "alphabet": ["-", "a", "b", "c", "d"],
                "logits": logits.tolist(),
            }
        ),
    )
    data = _json(["ctc", path])
    assert data["dp"]["probability"] == 0.0  # far below float64's range
    loss = data["dp"]["loss"]
    assert isinstance(loss, float) and 1000 < loss < 1e5
    torch = pytest.importorskip("torch")
    index = {s: i + 1 for i, s in enumerate("abcd")}
    reference = torch.nn.functional.ctc_loss(
        torch.from_numpy(logits).log_softmax(1),
        torch.tensor([index[s] for s in label]),
        torch.tensor(2000),
        torch.tensor(len(label)),
        reduction="sum",
    )
    assert loss == pytest.approx(reference.item(), rel=RTOL)


@pytest.mark.parametrize("seed", range(4))
def test_matrix_mode_loss_and_gradient_against_torch(seed, tmp_path):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(seed)
    alphabet = ["-", "a", "b", "c", "d"]
    frames = int(rng.integers(3, 30))
    logits = rng.normal(scale=2, size=(frames, len(alphabet)))
    label = list(rng.choice(alphabet[1:], size=int(rng.integers(1, frames // 2 + 1))))
    path = _write(
        tmp_path,
        json.dumps(
            {
                "loss": "ctc",
                "label": label,
                "alphabet": alphabet,
                "logits": logits.tolist(),
                "grad": True,
            }
        ),
    )
    data = _json(["ctc", path])
    x = torch.from_numpy(logits).requires_grad_()
    targets = torch.tensor([alphabet.index(s) for s in label])
    loss = torch.nn.functional.ctc_loss(
        x.log_softmax(1), targets, torch.tensor(frames), torch.tensor(len(label)), reduction="sum"
    )
    loss.backward()
    assert data["dp"]["loss"] == pytest.approx(loss.item(), rel=RTOL)
    np.testing.assert_allclose(np.array(data["dp"]["grad"]), x.grad.numpy(), rtol=1e-7, atol=1e-10)


def test_multi_character_symbols_keep_list_form(tmp_path):
    path = _write(
        tmp_path,
        "loss: ctc\nlabel: [th, e]\nblank: _\n"
        "probabilities: {th: 0.5, e: 0.3, _: 0.2}\n"
        "alignments: [[th, _, e], [th, th, e]]\n",
    )
    data = _json(["ctc", path])
    assert data["label"] == ["th", "e"]
    assert data["naive"]["alignments"][0]["path"] == ["th", "_", "e"]
    assert data["naive"]["alignments"][1]["collapsed"] == ["th", "e"]


def test_log_base_2():
    data = _json(
        [
            "ctc",
            "--label",
            "a",
            "--frames",
            "1",
            "--probabilities",
            "a=0.25,-=0.75",
            "--log-base",
            "2",
        ]
    )
    assert data["value"] == pytest.approx(2.0, rel=RTOL)


# --- bad input: exit 2, one line naming the key -------------------------------------------

LECTURE = "loss: ctc\nlabel: {label}\nprobabilities: {probs}\n{rest}"
GOOD_PROBS = "{a: 0.5, b: 0.3, '-': 0.2}"


@pytest.mark.parametrize(
    ("text", "key"),
    [
        (LECTURE.format(label="abx", probs=GOOD_PROBS, rest="frames: 4\n"), "label[2]"),
        (LECTURE.format(label="a-b", probs=GOOD_PROBS, rest="frames: 4\n"), "label[1]"),
        (
            LECTURE.format(label="ab", probs="{a: 1.5, b: 0.3, '-': 0.2}", rest="frames: 4\n"),
            "probabilities.a",
        ),
        (LECTURE.format(label="ab", probs="{a: 0.5, b: 0.3}", rest="frames: 4\n"), "probabilities"),
        (
            LECTURE.format(
                label="ab",
                probs=GOOD_PROBS,
                rest="alignments:\n  - path: a-b\n    factors: [0.5, 0.2]\n",
            ),
            "alignments[0].factors",
        ),
        (
            LECTURE.format(label="ab", probs=GOOD_PROBS, rest="alignments: [a-q]\n"),
            "alignments[0].path[2]",
        ),
        (LECTURE.format(label="ab", probs=GOOD_PROBS, rest="frames: 0\n"), "frames"),
        (
            LECTURE.format(label="ab", probs=GOOD_PROBS, rest="frames: 1000000000000000000000\n"),
            "frames",
        ),
        (LECTURE.format(label="ab", probs=GOOD_PROBS, rest=""), "alignments"),
        (LECTURE.format(label="ab", probs=GOOD_PROBS, rest="frames: 3\nmethod: fast\n"), "method"),
        (
            LECTURE.format(label="ab", probs=GOOD_PROBS, rest="frames: 3\nmethod: listed\n"),
            "method",
        ),
        (
            LECTURE.format(label="ab", probs=GOOD_PROBS, rest="frames: 3\nreduction: none\n"),
            "reduction",
        ),
        ("loss: ctc\nlabel: ab\n", "probabilities"),
        ("loss: ctc\nlabel: ab\nalphabet: ['-', a, b]\nprobs: [[0.5, 0.5]]\n", "probs"),
        (
            "loss: ctc\nlabel: ab\nalphabet: ['-', a, b]\nprobs: [[0.5, 0.3, 0.2]]\n"
            "logits: [[1, 2, 3]]\n",
            "logits",
        ),
        ("loss: ctc\nlabel: ab\nalphabet: ['-', a, a]\nprobs: [[0.5, 0.3, 0.2]]\n", "alphabet[2]"),
        ("loss: ctc\nlabel: ac\nalphabet: ['-', a, b]\nprobs: [[0.5, 0.3, 0.2]]\n", "label[1]"),
        (
            "loss: ctc\nlabel: ab\nalphabet: ['-', a, b]\nlog_probs: [[-0.5, 0.3, -2]]\n",
            "log_probs[0][1]",
        ),
        (
            "loss: ctc\nlabel: ab\nalphabet: ['-', a, b]\nprobs: [[0.5, 0.3, 0.2]]\nframes: 2\n",
            "frames",
        ),
        (
            "loss: ctc\nlabel: ab\nalphabet: ['-', a, b]\nprobs: [[0.5, 0.3, 0.2]]\n"
            "probabilities: {a: 1}\n",
            "probs",
        ),
    ],
)
def test_bad_ctc_input(text, key, tmp_path):
    path = _write(tmp_path, text)
    result = _run(["ctc", path])
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr
    assert f"{path}: {key}:" in lines[0]
