"""CTC decoding: prefix beam search against brute-force enumeration of every path, against
TensorFlow's published beam-search test values, and the greedy decoder."""

import itertools
import math
from collections import defaultdict

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rnnloss_cli.core import ctc
from rnnloss_cli.core.ctc_decode import beam_search, decode, greedy


def log_softmax(x):
    x = np.asarray(x, dtype=np.float64)
    return (
        x
        - np.log(np.exp(x - x.max(1, keepdims=True)).sum(1, keepdims=True))
        - x.max(1, keepdims=True)
    )


def every_output(lp, blank):
    """Every output's probability, by summing every length-T path (V^T of them)."""
    totals = defaultdict(float)
    frames, symbols = lp.shape
    for path in itertools.product(range(symbols), repeat=frames):
        p = math.prod(math.exp(lp[t, c]) for t, c in enumerate(path))
        totals[tuple(ctc.collapse(list(path), blank))] += p
    return totals


# tensorflow/python/kernel_tests/nn_ops/ctc_decoder_ops_test.py, testCTCDecoderBeamSearch:
# logits = these probabilities + 2.0 (TF applies log-softmax), blank the last class,
# beam_width 2, top_paths 2 → [1, 0] at −5.811451 and [1] at −6.63339.
TF_MATRIX = np.array(
    [
        [0.30999, 0.309938, 0.0679938, 0.0673362, 0.0708352, 0.173908],
        [0.215136, 0.439699, 0.0370931, 0.0393967, 0.0381581, 0.230517],
        [0.199959, 0.489485, 0.0233221, 0.0251417, 0.0233289, 0.238763],
        [0.279611, 0.452966, 0.0204795, 0.0209126, 0.0194803, 0.20655],
        [0.51286, 0.288951, 0.0243026, 0.0220788, 0.0219297, 0.129878],
    ],
    dtype=np.float32,
)


def test_tensorflow_beam_search_values():
    lp = log_softmax(TF_MATRIX.astype(np.float64) + 2.0)
    result = decode(lp, blank=5, method="beam", beam_width=2)
    assert [b.prefix for b in result.nbest] == [(1, 0), (1,)]
    assert result.nbest[0].log_probability == pytest.approx(-5.811451, abs=1e-6)
    assert result.nbest[1].log_probability == pytest.approx(-6.63339, abs=1e-6)
    # The beam's estimate is a lower bound: the exact sums are larger (brute force).
    exact = every_output(lp, 5)
    for best in result.nbest:
        assert best.exact_probability == pytest.approx(exact[best.prefix], rel=1e-12)
        assert best.probability < best.exact_probability


@settings(max_examples=150, deadline=None)
@given(
    frames=st.integers(1, 5),
    symbols=st.integers(2, 4),
    seed=st.integers(0, 2**32 - 1),
    scale=st.sampled_from([0.3, 1.0, 4.0]),
    data=st.data(),
)
def test_a_beam_wide_enough_is_exact(frames, symbols, seed, scale, data):
    blank = data.draw(st.integers(0, symbols - 1))
    lp = log_softmax(np.random.default_rng(seed).normal(size=(frames, symbols)) * scale)
    exact = every_output(lp, blank)
    result = decode(lp, blank, "beam", beam_width=symbols**frames)
    got = {b.prefix: b for b in result.nbest}
    assert set(got) == {k for k, v in exact.items() if v > 0}
    for prefix, p in exact.items():
        assert got[prefix].probability == pytest.approx(p, rel=1e-9)
        assert got[prefix].exact_probability == pytest.approx(p, rel=1e-9)
    ranked = [b.probability for b in result.nbest]
    assert ranked == sorted(ranked, reverse=True)
    assert sum(ranked) == pytest.approx(1.0, rel=1e-9)  # every path is in some prefix


def textbook(lp, blank, width):
    """Prefix beam search as the pseudo-code has it: dictionaries, every prefix and symbol
    in turn (Hannun; Distill). Returns the last beam, most probable first."""

    def lse(a, b):
        if a < b:
            a, b = b, a
        return a if b == -math.inf else a + math.log1p(math.exp(b - a))

    beam = [((), (0.0, -math.inf))]
    for row in lp.tolist():
        nxt = defaultdict(lambda: (-math.inf, -math.inf))
        for prefix, (pb, pnb) in beam:
            for c, y in enumerate(row):
                if c == blank:
                    b, nb = nxt[prefix]
                    nxt[prefix] = (lse(b, lse(pb, pnb) + y), nb)
                    continue
                last = prefix[-1] if prefix else None
                b, nb = nxt[(*prefix, c)]
                nxt[(*prefix, c)] = (b, lse(nb, (pb if c == last else lse(pb, pnb)) + y))
                if c == last:
                    b, nb = nxt[prefix]
                    nxt[prefix] = (b, lse(nb, pnb + y))
        live = [(p, v) for p, v in nxt.items() if lse(*v) > -math.inf] or list(nxt.items())
        beam = sorted(live, key=lambda kv: -lse(*kv[1]))[:width]
    return [(p, lse(*v)) for p, v in beam]


@settings(max_examples=150, deadline=None)
@given(
    frames=st.integers(1, 6),
    symbols=st.integers(1, 4),
    width=st.integers(1, 4),
    seed=st.integers(0, 2**32 - 1),
    zeros=st.floats(0.0, 0.4),
    data=st.data(),
)
def test_a_narrow_beam_is_a_lower_bound_and_keeps_its_width(
    frames, symbols, width, seed, zeros, data
):
    blank = data.draw(st.integers(0, symbols - 1))
    rng = np.random.default_rng(seed)
    probs = np.exp(rng.normal(size=(frames, symbols)) * 2)
    probs[rng.random(probs.shape) < zeros] = 0.0  # masked classes, whole rows of zeros
    with np.errstate(divide="ignore", invalid="ignore"):
        lp = np.log(probs / np.maximum(probs.sum(1, keepdims=True), 1e-300))
    exact = every_output(lp, blank)
    frames_out = beam_search(lp, blank, width)
    assert len(frames_out) == frames
    for frame in frames_out:
        assert len(frame.kept) == min(width, max(frame.candidates, 1)) or frame.candidates == 0
        logs = [round(p.log_probability, 10) for p in frame.kept]  # near-ties are ties
        assert logs == sorted(logs, reverse=True)
        for p in frame.kept:
            assert p.probability == pytest.approx(p.blank + p.non_blank, rel=1e-12)
        if frame.best_pruned is not None:
            assert frame.best_pruned.log_probability <= frame.kept[-1].log_probability + 1e-9
    for p in frames_out[-1].kept:
        assert p.probability <= exact.get(p.prefix, 0.0) * (1 + 1e-9) + 1e-300
    # the same last beam as the textbook's loops (up to ties, which are ordered otherwise;
    # where a row is all zeros nothing survives, and each keeps its own prefixes at 0)
    if not np.isfinite(lp.max(axis=1)).all():
        return
    mine = [(p.prefix, p.log_probability) for p in frames_out[-1].kept]
    theirs = textbook(lp, blank, width)
    assert [v for _, v in mine] == pytest.approx([v for _, v in theirs], rel=1e-9, abs=1e-12)
    untied = [round(v, 9) for _, v in theirs]
    if len(set(untied)) == len(untied) and math.isfinite(min(untied, default=0.0)):
        assert [p for p, _ in mine] == [p for p, _ in theirs]


def test_greedy_is_the_arg_max_path_collapsed():
    probs = np.array([[0.6, 0.3, 0.1], [0.2, 0.7, 0.1], [0.2, 0.7, 0.1], [0.5, 0.1, 0.4]])
    result = greedy(np.log(probs), blank=0)
    assert result.path == [0, 1, 1, 0]
    assert result.collapsed == (1,)
    assert result.probability == pytest.approx(0.6 * 0.7 * 0.7 * 0.5)
    exact = every_output(np.log(probs), 0)
    assert result.exact_probability == pytest.approx(exact[(1,)], rel=1e-12)


def test_greedy_can_miss_the_most_probable_output():
    # Two frames: the blank is each frame's arg-max (greedy says ∅, 0.36), but "a" through
    # "a-", "-a" and "aa" has 0.4·0.6 + 0.6·0.4 + 0.4·0.4 = 0.64.
    lp = np.log(np.array([[0.6, 0.4], [0.6, 0.4]]))
    assert greedy(lp, 0).collapsed == ()
    result = decode(lp, 0, "beam", beam_width=2)
    assert result.best == (1,)
    assert result.nbest[0].probability == pytest.approx(0.64)
    assert result.nbest[1].probability == pytest.approx(0.36)


def test_long_inputs_do_not_underflow():
    rng = np.random.default_rng(1)
    lp = log_softmax(rng.normal(size=(3000, 5)))
    result = decode(lp, 0, "beam", beam_width=4)
    best = result.nbest[0]
    assert best.probability == 0.0 and math.isfinite(best.log_probability)
    exact = best.exact_log_probability  # None past the forward algorithm's budget
    assert exact is None or exact >= best.log_probability - 1e-6


# --- the command line: rnnloss decode, ctc --decode, every format ------------------------

import json  # noqa: E402
import re  # noqa: E402
from pathlib import Path  # noqa: E402

from cli_helpers import compile_latex, invoke  # noqa: E402
from cli_helpers import write_problem as _write  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
BUNDLED = str(ROOT / "problems/ctc_decode_beam.yaml")


def _json(args, status=(0,)):
    result = invoke([*args, "--json"])
    assert result.exit_code in status, result.output
    return json.loads(result.stdout)


def test_the_bundled_problem_is_the_hand_working():
    data = _json(["decode", BUNDLED])
    assert data["matches"] is True and data["label"] == "a"
    assert data["value"] == pytest.approx(-math.log(0.309), rel=1e-12)
    decode = data["decode"]
    assert decode["method"] == "beam" and decode["beam_width"] == 2
    assert decode["output"] == "a" and decode["label_given"] is False
    # the beam after each frame, as the file's comment works it
    hand = [
        [("", 0.6, 0.0), ("a", 0.0, 0.3)],
        [("a", 0.15, 0.27), ("", 0.3, 0.0)],
        [("a", 0.252, 0.057), ("", 0.18, 0.0)],
    ]
    assert len(decode["beam"]) == 3
    for frame, expected in zip(decode["beam"], hand, strict=True):
        assert [p["prefix"] for p in frame] == [e[0] for e in expected]
        for p, (_, b, nb) in zip(frame, expected, strict=True):
            assert p["blank"] == pytest.approx(b, abs=1e-15)
            assert p["non_blank"] == pytest.approx(nb, abs=1e-15)
            assert p["probability"] == pytest.approx(b + nb, abs=1e-15)
            assert p["log_probability"] == pytest.approx(math.log(b + nb), rel=1e-12)
    assert decode["candidates"] == [3, 4, 5]
    assert [p["prefix"] for p in decode["best_pruned"]] == ["b", "b", "ab"]
    assert [p["probability"] for p in decode["best_pruned"]] == pytest.approx([0.1, 0.12, 0.126])
    assert decode["greedy"]["path"] == "---" and decode["greedy"]["collapsed"] == ""
    assert decode["greedy"]["probability"] == pytest.approx(0.18)
    nbest = decode["nbest"]
    assert [b["prefix"] for b in nbest] == ["a", ""]
    assert [b["probability"] for b in nbest] == pytest.approx([0.309, 0.18])
    assert [b["exact_probability"] for b in nbest] == pytest.approx([0.309, 0.18])
    assert nbest[0]["log_probability"] == pytest.approx(math.log(0.309))


def test_decode_is_ctc_with_decode_beam_however_asked(tmp_path):
    plain = ROOT / "problems/ctc_decode_beam.yaml"
    text = plain.read_text(encoding="utf-8")
    for key in ("decode: beam\n", "beam_width: 2\n", "expected: 1.1744\n"):
        text = text.replace(key, "")
    bare = _write(tmp_path, text)
    wanted = _json(["decode", BUNDLED])["decode"]
    for args in (
        ["decode", bare, "--beam-width", "2"],
        ["ctc", bare, "--decode", "--beam-width", "2"],
        ["ctc", "--decode", bare, "--beam-width", "2"],
        ["ctc", bare, "--decode", "beam", "--beam-width", "2"],
        ["ctc", bare, "--beam-width", "2"],  # a width asks for beam search
    ):
        assert _json(args)["decode"] == wanted, args
    assert _json(["decode", bare])["decode"]["beam_width"] == 100  # TensorFlow's default
    greedy = _json(["decode", bare, "--decode", "greedy"])["decode"]
    assert greedy["method"] == "greedy" and greedy["beam"] is None
    assert [b["prefix"] for b in greedy["nbest"]] == [""]
    inline = [
        "decode",
        "--alphabet",
        "-,a,b",
        "--probs",
        "0.6,0.3,0.1; 0.5,0.3,0.2; 0.6,0.1,0.3",
        "--beam-width",
        "2",
    ]
    assert _json(inline)["decode"] == wanted


def test_a_given_label_keeps_its_loss_and_is_checked_against_the_decoding(tmp_path):
    data = {
        "loss": "ctc",
        "alphabet": ["-", "a", "b"],
        "probs": [[0.6, 0.3, 0.1], [0.5, 0.3, 0.2], [0.6, 0.1, 0.3]],
        "label": "b",
        "decode": "beam",
        "beam_width": 2,
    }
    path = _write(tmp_path, data)
    result = _json(["ctc", path])
    # p(b): b-- 0.03, -b- 0.072, --b 0.09, bb- 0.012, -bb 0.036, bbb 0.006 = 0.246
    assert result["value"] == pytest.approx(-math.log(0.246), rel=1e-12)
    assert result["decode"]["output"] == "a" and result["decode"]["label_given"] is True
    text = " ".join(invoke(["ctc", path]).stdout.split())
    assert "the label b was pruned ✗" in text
    assert "(not the label ✗)" in text


def test_tensorflow_values_through_the_command_line(tmp_path):
    data = {
        "loss": "ctc",
        "alphabet": ["a", "b", "c", "d", "e", "-"],
        "logits": (TF_MATRIX.astype(np.float64) + 2.0).tolist(),
        "decode": "beam",
        "beam_width": 2,
    }
    nbest = _json(["ctc", _write(tmp_path, data)])["decode"]["nbest"]
    assert [b["prefix"] for b in nbest] == ["ba", "b"]
    assert [b["log_probability"] for b in nbest] == pytest.approx([-5.811451, -6.63339], abs=1e-6)


@settings(max_examples=25, deadline=None)
@given(frames=st.integers(1, 4), symbols=st.integers(2, 4), seed=st.integers(0, 2**32 - 1))
def test_the_command_line_n_best_is_brute_force_for_a_wide_beam(frames, symbols, seed):
    alphabet = ["-", "a", "b", "c"][:symbols]
    lp = log_softmax(np.random.default_rng(seed).normal(size=(frames, symbols)) * 2)
    probs = np.exp(lp)
    probs /= probs.sum(1, keepdims=True)
    rows = "; ".join(",".join(repr(float(v)) for v in row) for row in probs)
    data = _json(["decode", "--alphabet", ",".join(alphabet), "--probs", rows])
    exact = every_output(np.log(probs), 0)
    got = {b["prefix"]: b for b in data["decode"]["nbest"]}
    words = {"".join(alphabet[i] for i in k): v for k, v in exact.items()}
    assert set(got) == set(words)
    for word, p in words.items():
        assert got[word]["probability"] == pytest.approx(p, rel=1e-9)
        assert got[word]["exact_probability"] == pytest.approx(p, rel=1e-9)
    best = max(words, key=words.get)
    assert data["decode"]["output"] == best or words[data["decode"]["output"]] == pytest.approx(
        words[best], rel=1e-12
    )


def test_long_input_underflows_to_zero_beside_a_finite_log(tmp_path):
    # A trained model's peaked output over 20,000 frames: the blank at 0.95 almost
    # everywhere, a letter at 0.9 in 50 frames. Every probability underflows float64
    # (0.95^19950 = e^−1023), the logs do not, and the decoded output is short.
    frames = np.tile([0.95, 0.03, 0.02], (20_000, 1))
    frames[::400] = [0.05, 0.9, 0.05]
    data = {
        "loss": "ctc",
        "alphabet": ["-", "a", "b"],
        "probs": frames.tolist(),
        "decode": "beam",
        "beam_width": 2,
    }
    result = invoke(["ctc", _write(tmp_path, data), "--json"])
    assert result.exit_code == 0, result.output
    assert "NaN" not in result.stdout and "Infinity" not in result.stdout
    best = json.loads(result.stdout)["decode"]["nbest"][0]
    assert best["probability"] == 0.0 and math.isfinite(best["log_probability"])
    assert best["exact_log_probability"] >= best["log_probability"] - 1e-9
    text = invoke(["ctc", _write(tmp_path, data)], env={"COLUMNS": "80"}).stdout
    assert "e^(−" in text  # an underflowed P written by its log, never as 0
    assert max(len(line) for line in text.splitlines()) <= 80


@pytest.mark.parametrize("columns", ["60", "80"])
def test_terminal_fits_its_width(columns):
    result = invoke(["decode", BUNDLED], env={"COLUMNS": columns})
    assert result.exit_code == 0
    assert max(len(line) for line in result.stdout.splitlines()) <= int(columns)
    flat = " ".join(result.stdout.split())
    for needle in ("Greedy decoding", "Prefix beam search (beam width 2)", "✂ ab", "The n-best"):
        assert needle in flat, needle
    if columns == "80":  # wide enough that no cell of the frame table wraps
        for needle in ("0.3 × 0.3 + 0.6 × 0.3 = 0.27", "0.42 × 0.6 = 0.252"):
            assert needle in flat, needle


def test_markdown_and_latex(tmp_path):
    text = invoke(["decode", BUNDLED, "--format", "markdown"]).stdout
    assert "| 3 | a | 0.42 × 0.6 = 0.252 | 0.27 × 0.1 + 0.3 × 0.1 = 0.057 | 0.309 |" in text
    assert "| 1 | a | 0.309 |" in text
    latex = invoke(["decode", BUNDLED, "--format", "latex"]).stdout
    assert "0.42 \\ensuremath{\\times} 0.6 = 0.252" in latex
    assert "U+" not in latex  # ∅, ℓ and ✂ set as math, never as code points
    compile_latex(latex, tmp_path)


@pytest.mark.parametrize("fmt", ["questions", "questions-latex"])
def test_question_sheets_give_no_answer(fmt):
    text = invoke(["decode", BUNDLED, "--format", fmt]).stdout
    assert "beam search" in text and "0.6" in text
    for needle in ("0.309", "0.18", "1.1744", "0.252", "Decoded", "decoded (", "✂"):
        assert needle not in text, needle


@pytest.mark.parametrize(
    ("change", "key", "words"),
    [
        ({"beam_width": 0}, "beam_width", "at least 1"),
        ({"beam_width": 1.5}, "beam_width", "whole number"),
        ({"beam_width": "wide"}, "beam_width", ""),
        ({"beam_width": 10_001}, "beam_width", "over the limit"),
        ({"decode": "gredy"}, "decode", "did you mean 'greedy'"),
        ({"decode": "greedy", "beam_width": 3}, "beam_width", "greedy decoding keeps one path"),
        ({"decode": None}, "label", "decode: beam"),
    ],
)
def test_bad_decoding_keys_are_one_line(tmp_path, change, key, words):
    data = {
        "loss": "ctc",
        "alphabet": ["-", "a"],
        "probs": [[0.5, 0.5]],
        "decode": "beam",
    } | change
    data = {k: v for k, v in data.items() if v is not None}
    result = invoke(["ctc", _write(tmp_path, data)])
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and f"{key}:" in lines[0] and words in lines[0], lines


def test_decoding_belongs_to_matrix_mode_and_has_limits(tmp_path):
    lecture = ["ctc", "--label", "HI", "--probabilities", "H=0.5,I=0.3,-=0.2", "--decode"]
    result = invoke([*lecture, "--frames", "3"])
    assert result.exit_code == 2 and "decode: belongs to matrix mode" in result.stderr
    result = invoke(["decode", "--probabilities", "H=0.5,I=0.3,-=0.2"])
    assert result.exit_code == 2 and "No such option: --probabilities" in result.stderr
    big = {
        "loss": "ctc",
        "alphabet": ["-", "a"],
        "probs": [[0.5, 0.5]] * 5000,
        "decode": "beam",
        "beam_width": 100,
    }
    result = invoke(["ctc", _write(tmp_path, big)])
    assert result.exit_code == 2 and "over the limit of 200,000" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_solve_and_schema_know_decoding():
    result = invoke(["solve", str(ROOT / "problems"), "--json"])
    rows = {Path(r["file"]).name: r for r in json.loads(result.stdout)["results"]}
    assert rows["ctc_decode_beam.yaml"]["ok"] and rows["ctc_decode_beam.yaml"]["result"]["matches"]
    schema = invoke(["schema"]).stdout
    assert '"beam_width"' in schema and '"decode"' in schema
    helped = " ".join(invoke(["--help"], env={"COLUMNS": "200"}).stdout.split())
    assert "decode" in helped
    assert re.search(r"--beam-width", invoke(["ctc", "--help"], env={"COLUMNS": "200"}).stdout)


def test_exact_ties_keep_the_order_the_candidates_were_made():
    # Five symbols at 0.2 every frame, width 2: candidates tie bit for bit, and the stays
    # come first, then the growths prefix by prefix, symbol by symbol. Frame 1 keeps ∅
    # (the stay) and a (the first growth), pruning b first; at frame 3 ab, ac and ad tie
    # and ab (kept) is made before ac (the best pruned) before ad.
    frames = beam_search(np.log(np.full((3, 5), 0.2)), 0, 2)
    assert [p.prefix for p in frames[0].kept] == [(), (1,)]
    assert [f.best_pruned.prefix for f in frames] == [(2,), (2,), (1, 3)]
    assert (1, 2) in {p.prefix for p in frames[2].kept}


# --- found by the break-it review -------------------------------------------------------


def _three_frames(**keys):
    return {
        "loss": "ctc",
        "alphabet": ["-", "a", "b"],
        "probs": [[0.6, 0.3, 0.1], [0.5, 0.3, 0.2], [0.6, 0.1, 0.3]],
    } | keys


def test_a_pruned_label_is_compared_with_the_decoded_output(tmp_path):
    below = _write(tmp_path, _three_frames(label="b", beam_width=2), "below.yaml")
    text = " ".join(invoke(["ctc", below]).stdout.split())
    # p(b) = 0.246 exactly (the six paths), the decoded a's 0.309
    assert "the label b was pruned ✗ (its exact p = 0.246, below the decoded a's 0.309)" in text
    assert "is below" not in text


def test_decode_true_false_and_the_schema_agree(tmp_path):
    as_true = _json(["ctc", _write(tmp_path, _three_frames(decode=True, beam_width=2))])
    assert as_true["decode"]["method"] == "beam"
    result = invoke(["ctc", _write(tmp_path, _three_frames(decode=False, beam_width=2))])
    assert result.exit_code == 2 and "decode: false asks for none" in result.stderr
    result = invoke(["decode", _write(tmp_path, _three_frames(decode=False))])
    assert result.exit_code == 2 and "decode: false asks for no decoding" in result.stderr
    assert "rnnloss decode" not in result.stderr
    schema = json.loads(invoke(["schema"]).stdout)
    text = json.dumps(schema)
    assert '"enum": [true, false, "true", "false", "beam", "greedy", null]' in text


@pytest.mark.parametrize("mark", ["∅", "✂", "…", "⋮"])
def test_a_symbol_may_not_look_like_a_mark_of_the_working(tmp_path, mark):
    result = invoke(["decode", _write(tmp_path, _three_frames(alphabet=["-", mark, "b"]))])
    assert result.exit_code == 2 and "alphabet[1]" in result.stderr
    assert "cannot be part of a symbol" in result.stderr


def test_an_option_without_its_value_says_so():
    result = invoke(["decode", BUNDLED, "--beam-width"])
    assert result.exit_code == 2
    assert "requires an argument" in result.stderr and "No such option" not in result.stderr


def test_decode_offers_matrix_mode_only_and_names_itself():
    helped = invoke(["decode", "--help"], env={"COLUMNS": "200"}).stdout
    for flag in ("--probabilities", "--alignment ", "--frames", "--method"):
        assert flag not in helped, flag
    for flag in ("--alphabet", "--logits", "--beam-width", "--decode", "--label"):
        assert flag in helped, flag
    result = invoke(["decode"])
    assert result.exit_code == 2 and "rnnloss decode --help" in result.stderr


def test_a_file_named_like_a_decoder_is_still_a_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "greedy").write_text(json.dumps(_three_frames()), encoding="utf-8")
    data = _json(["ctc", "--decode", "greedy", "greedy"])
    assert data["decode"]["method"] == "greedy"
    assert _json(["ctc", "greedy", "--decode"])["decode"]["method"] == "beam"


def test_a_beam_too_large_to_list_leaves_json_beam_null_and_says_so(tmp_path):
    rng = np.random.default_rng(5)
    data = {
        "loss": "ctc",
        "alphabet": ["-", *"abcdefghij"],
        "logits": (rng.normal(size=(1000, 11)) * 3).tolist(),
        "label": "a",
        "beam_width": 100,
    }
    result = _json(["ctc", _write(tmp_path, data)])
    decode = result["decode"]
    assert decode["beam"] is None and decode["best_pruned"] is None
    assert len(decode["candidates"]) == 1000 and len(decode["nbest"]) == 100
    assert any("listed whole" in w for w in result["warnings"])


def test_a_decoded_output_too_long_for_its_exact_loss_names_decode(tmp_path):
    rng = np.random.default_rng(6)
    data = {
        "loss": "ctc",
        "alphabet": ["-", "a", "b"],
        "logits": (rng.normal(size=(3000, 3)) * 0.2).tolist(),
        "decode": "greedy",
    }
    result = invoke(["ctc", _write(tmp_path, data)])
    assert result.exit_code == 2
    assert "decode: the decoded output has" in result.stderr and "give the label" in result.stderr


def test_a_row_of_zeros_and_a_lone_blank_are_decoded():
    # Every class 0 at frame 2: no path survives; the beam keeps its prefixes at P = 0.
    with np.errstate(divide="ignore"):
        lp = np.log(np.array([[0.5, 0.5], [0.0, 0.0], [0.5, 0.5]]))
    result = decode(lp, 0, "beam", 2)
    assert all(b.probability == 0.0 for b in result.nbest)
    assert all(b.exact_probability == 0.0 for b in result.nbest)
    assert [len(f.kept) for f in result.frames] == [2, 2, 2]
    # V = 1, the blank alone: the only output is ∅, with p = 1
    alone = decode(np.zeros((3, 1)), 0, "beam", 3)
    assert [b.prefix for b in alone.nbest] == [()] and alone.nbest[0].probability == 1.0


def test_lost_to_pruning_is_a_share_that_survives_underflow():
    from rnnloss_cli.core.ctc_decode import Best

    assert Best((1,), math.log(0.3), math.log(0.4)).lost == pytest.approx(0.25)
    assert Best((1,), -2000.0, -2000.0 + math.log(4)).lost == pytest.approx(0.75)
    assert Best((1,), math.log(0.4), math.log(0.4)).lost == 0.0
    assert Best((1,), math.log(0.4), None).lost == 0.0


def test_greedy_more_probable_than_a_narrow_beam_is_said(tmp_path):
    # Width 1 prunes aa: greedy's aa has exact p 0.712707, the beam's a only 0.188745.
    probs = "0.027,0.973; 0.715,0.285; 0.352,0.648; 0.299,0.701; 0.273,0.727"
    args = ["decode", "--alphabet", "-,a", "--probs", probs, "--beam-width", "1"]
    text = " ".join(invoke(args).stdout.split())
    assert "greedy's output is the more probable here" in text
    assert "greedy picks the best single path" not in text
    decode_json = _json(args)["decode"]
    assert decode_json["greedy"]["collapsed"] == "aa" and decode_json["output"] == "a"
    assert decode_json["greedy"]["exact_probability"] == pytest.approx(0.712707, abs=1e-6)


def test_an_n_best_entry_above_the_decoded_one_and_the_share_lost_are_said(tmp_path):
    rng = np.random.default_rng(11)
    for _ in range(200):  # a width-2 beam whose #2 has the higher exact p
        lp = log_softmax(rng.normal(size=(6, 3)) * 1.5)
        result = decode(lp, 0, "beam", 2)
        if result.better_than_best is not None:
            break
    else:
        pytest.fail("no example found")
    rows = ";".join(",".join(repr(float(v)) for v in row) for row in np.exp(lp))
    text = " ".join(
        invoke(
            ["decode", "--alphabet", "-,a,b", "--probs", rows, "--beam-width", "2"]
        ).stdout.split()
    )
    assert "is more probable than the decoded output by the exact p" in text
    assert "lost to pruning (the share of the exact p the beam's P misses): #1" in text


def test_exact_probabilities_past_the_budget_are_left_out(monkeypatch):
    from rnnloss_cli.core import ctc_decode

    lp = log_softmax(np.random.default_rng(2).normal(size=(8, 3)))
    monkeypatch.setattr(ctc_decode, "MAX_EXACT_CELLS", 8 * 3)  # greedy's ∅-ish output only
    result = ctc_decode.decode(lp, 0, "beam", 4)
    assert not result.exact_complete
    assert any(b.exact_log_probability is None for b in result.nbest)


def test_decode_words_and_cases(tmp_path):
    bare = _write(tmp_path, _three_frames())
    assert (
        _json(["ctc", bare, "--decode", "Beam", "--beam-width", "2"])["decode"]["method"] == "beam"
    )
    result = invoke(["ctc", bare, "--decode", "maybe"])
    assert result.exit_code == 2 and "true (beam) or false (none)" in result.stderr
    # 0, no, off read as false as every flag reads them: no decoding, so a label is missing
    result = invoke(["ctc", bare, "--decode", "0"])
    assert result.exit_code == 2 and "decode: false asks for no decoding" in result.stderr
    steps_yes = _json(["ctc", _write(tmp_path, _three_frames(label="a", enumerate="yes"))])
    assert len(steps_yes["dp"]["alignments"]) == 6
    lecture = {"loss": "ctc", "label": "HI", "probabilities": {"H": 0.5, "I": 0.3, "-": 0.2}}
    lecture |= {"frames": 3, "decode": False}
    assert invoke(["ctc", _write(tmp_path, lecture, "lecture.yaml")]).exit_code == 0


def test_a_file_of_beam_searches_is_bounded(tmp_path, monkeypatch):
    from rnnloss_cli import batch

    cells, frames, _ = batch.FILE_LIMITS
    # 3 frames × width 2 × 3 symbols = 18 candidates a problem: a budget of 40 takes two
    monkeypatch.setattr(batch, "FILE_LIMITS", (cells, frames, ("candidates scored", 40)))
    problem = _three_frames(beam_width=2)
    text = "\n---\n".join(json.dumps(problem) for _ in range(3))
    result = invoke(["solve", _write(tmp_path, text, "three.yaml"), "--json"])
    rows = json.loads(result.stdout)["results"]
    assert [r["ok"] for r in rows] == [True, True, False]
    assert "need 54 candidates scored in all, over the limit of 40" in rows[2]["error"]
    # the work counted: frames × width × alphabet for beam search, nothing without it
    from rnnloss_cli.problems import ctc_work, validate

    assert ctc_work(validate(problem))[2] == 18
    assert ctc_work(validate(_three_frames(label="a")))[2] == 0


def test_new_and_explain_know_decode(tmp_path):
    template = invoke(["new", "decode"]).stdout
    assert "decode: beam" in template and "probabilities:" not in template
    path = _write(tmp_path, template, "new.yaml")
    result = invoke(["decode", path])
    assert result.exit_code == 0 and "✓ matches the answer key" in result.stdout
    assert "Connectionist temporal classification" in invoke(["explain", "decode"]).stdout


def test_ties_of_exact_arithmetic_are_ties_despite_float_rounding():
    # frame 3: a stays at 0.12; ∅ stays at 0.1 × 0.4 = 0.04 and ab grows to 0.2 × 0.2 =
    # 0.04 — equal, though their logs differ in the last bit: the stay (made first) is kept
    probs = np.array([[0.25] * 4, [0.4, 0.2, 0.3, 0.1], [0.4, 0.2, 0.2, 0.2]])
    frames = beam_search(np.log(probs), 0, 2)
    assert [p.prefix for p in frames[2].kept] == [(1,), ()]
    assert frames[2].best_pruned.prefix == (1, 2)


def test_equal_outputs_and_impossible_labels_are_said_so():
    probs = "0.0,0.7,0.3; 0.2,0.3,0.5"  # a: 0.7 × 0.5 = 0.35; ab: 0.14 + 0.21 = 0.35
    args = ["decode", "--alphabet", "-,a,b", "--probs", probs, "--beam-width", "1"]
    text = " ".join(invoke([*args, "--label", "ab"]).stdout.split())
    assert "beam search finds a, exactly as probable: exact p = 0.35" in text
    assert "the label ab was pruned ✗ (its exact p = 0.35, equal to the decoded a's)" in text
    impossible = ["decode", "--alphabet", "-,a", "--probs", "0,1; 0,1", "--label", "aa"]
    text = " ".join(invoke(impossible).stdout.split())
    assert "the label aa is not found ✗: no path gives it (exact p = 0)" in text


def test_a_left_out_exact_probability_is_a_warning_in_json(tmp_path, monkeypatch):
    from rnnloss_cli.core import ctc_decode

    monkeypatch.setattr(ctc_decode, "MAX_EXACT_CELLS", 3 * 3)  # ∅'s alone fits (T × 1 ... )
    result = _json(["ctc", _write(tmp_path, _three_frames(beam_width=2, label="a"))])
    assert any(b["exact_probability"] is None for b in result["decode"]["nbest"])
    assert any("left out (null in JSON)" in w for w in result["warnings"])


@pytest.mark.parametrize("symbol", ["a∅", "∅\ufe0e", "x✂"])
def test_a_mark_inside_a_symbol_is_refused(tmp_path, symbol):
    result = invoke(["decode", _write(tmp_path, _three_frames(alphabet=["-", symbol, "b"]))])
    assert result.exit_code == 2 and "cannot be part of a symbol" in result.stderr


def test_a_wide_beam_shows_every_frame_with_its_first_prefixes():
    # problems/ctc_matrix_at.yaml, width 100: frame 2 keeps 10 and frame 3 25 prefixes;
    # each frame shows its first 8 and says how many more it kept (JSON has them all)
    path = str(ROOT / "problems/ctc_matrix_at.yaml")
    text = invoke(["decode", path], env={"COLUMNS": "100"}).stdout
    table = text.split("the beam after every frame")[1].split("The n-best")[0]
    assert "⋮   ⋮" not in table  # no frame elided
    assert "2 more kept" in table and "17 more kept" in table
    assert [len(frame) for frame in _json(["decode", path])["decode"]["beam"]] == [4, 10, 25]
