"""Numbers and words that must not mislead (issue 10, items 5, 6, 7, 9, 11, 12): the exact
CTC answer of values that are not a distribution, CTC's reduction, an answer key that
matches another reading, clipping said in the working, wide tables that keep what the
lesson is about, user text shown as written, and help that points somewhere."""

from __future__ import annotations

import itertools
import json
import math
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from cli_helpers import invoke
from cli_helpers import write_problem as write
from hypothesis import given
from hypothesis import strategies as st

from rnnloss_cli.catalog import LOSSES
from rnnloss_cli.errors import printable

ROOT = Path(__file__).resolve().parent.parent
RTOL = 1e-9
DEEP = str(ROOT / "problems/deep.yaml")
HELLO = str(ROOT / "problems/hello.yaml")
DEEP_VALUES = {"D": 0.8, "E": 0.7, "P": 0.9, "-": 0.3}


def _text(args: list[str], width: int = 80, status: int | tuple[int, ...] = (0,)) -> str:
    result = invoke(args, env={"COLUMNS": str(width), "NO_COLOR": "1"})
    wanted = status if isinstance(status, tuple) else (status,)
    assert result.exit_code in wanted, result.output
    return result.stdout


def _json(args: list[str]) -> dict:
    result = invoke([*args, "--json"])
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.stdout)


def _answer_box(text: str) -> str:
    return text[text.index("─ Answer") : text.index("╯", text.index("─ Answer"))]


def _collapse(path, blank="-"):
    out, previous = [], None
    for symbol in path:
        if symbol != previous and symbol != blank:
            out.append(symbol)
        previous = symbol
    return "".join(out)


def _enumerated(label: str, values: dict[str, float], frames: int) -> float:
    """Σ over every length-T path that collapses to the label of its product: the oracle."""
    return math.fsum(
        math.prod(values[s] for s in path)
        for path in itertools.product(values, repeat=frames)
        if _collapse(path) == label
    )


# --- 5. the exact answer of values that are not a distribution ---------------------------


def test_the_answer_box_never_calls_a_negative_number_the_exact_loss():
    box = _answer_box(_text(["ctc", DEEP]))
    assert "−0.240745" not in box  # −ln 1.2722: the old "exact CTC loss for T = 7"
    total = sum(DEEP_VALUES.values())
    normalized = -math.log(_enumerated("DEEP", {s: v / total for s, v in DEEP_VALUES.items()}, 7))
    assert f"{normalized:.6g}" == "6.71202"
    assert "6.71202" in box and "normalized" in box


@pytest.mark.parametrize("path", ["hello", "deep", "numbers_123"])
def test_the_exact_section_labels_the_unnormalised_sum_for_what_it_is(path):
    text = _text(["ctc", str(ROOT / f"problems/{path}.yaml")])
    exact = text[text.index("Exact CTC") : text.index("─ Answer")]
    assert "not a probability" in exact and "is not a loss" in exact
    assert "normalised" in exact


def test_method_normalized_is_the_normalised_exact_loss_and_checks_a_key():
    data = _json(["ctc", DEEP, "--method", "normalized", "--expected", "6.712"])
    total = sum(DEEP_VALUES.values())
    oracle = -math.log(_enumerated("DEEP", {s: v / total for s, v in DEEP_VALUES.items()}, 7))
    assert data["method"] == "normalized"
    assert data["value"] == pytest.approx(oracle, rel=RTOL)
    assert data["matches"] is True
    # JSON keeps its keys: dp.loss is still −log of the unnormalised sum.
    assert data["dp"]["loss"] == pytest.approx(-math.log(_enumerated("DEEP", DEEP_VALUES, 7)))
    assert data["dp"]["normalized"]["loss"] == pytest.approx(oracle, rel=RTOL)


def test_method_normalized_from_a_file_and_in_every_log_base(tmp_path):
    path = write(
        tmp_path,
        {
            "loss": "ctc",
            "label": "123",
            "probabilities": {"1": 0.9, "2": 0.7, "3": 0.8, "-": 0.2},
            "frames": 5,
            "method": "normalized",
            "log_base": "2",
        },
    )
    values = {s: v / 2.6 for s, v in {"1": 0.9, "2": 0.7, "3": 0.8, "-": 0.2}.items()}
    assert _json(["ctc", path])["value"] == pytest.approx(
        -math.log2(_enumerated("123", values, 5)), rel=RTOL
    )


def test_without_alignments_the_headline_stays_dp_loss_but_says_it_is_not_a_loss():
    args = ["ctc", "--label", "DEEP", "--probabilities", "D=0.8,E=0.7,P=0.9,-=0.3"]
    args += ["--frames", "7"]
    data = _json(args)
    assert data["method"] == "exact" and data["value"] == data["dp"]["loss"] < 0  # the contract
    box = _answer_box(_text(args))
    assert "not a loss" in box and "6.71202" in box


def test_method_normalized_of_a_distribution_is_the_exact_loss_with_a_note():
    lecture = ["ctc", "--label", "ab", "--probabilities", "a=0.5,b=0.3,-=0.2", "--frames", "3"]
    data = _json([*lecture, "--method", "normalized"])
    oracle = -math.log(_enumerated("ab", {"a": 0.5, "b": 0.3, "-": 0.2}, 3))
    assert data["value"] == pytest.approx(oracle, rel=RTOL)
    assert any("already sum to 1" in w for w in data["warnings"])


def test_method_normalized_is_refused_in_matrix_mode():
    result = invoke(
        ["ctc", "--label", "a", "--alphabet", "-,a", "--probs", "0.5,0.5", "--method", "normalized"]
    )
    assert result.exit_code == 2
    assert result.stderr.startswith("rnnloss: --method: method normalized")
    assert len(result.stderr.splitlines()) == 1


def test_values_a_hair_above_a_distribution_never_quote_nan():
    # 1 + 9e-7 is within the 1e-6 of a distribution, yet the exact sum is above 1.
    args = ["ctc", "--label", "a", "--probabilities", "a=1,-=0.0000009", "--frames", "3"]
    data = _json(args)
    assert data["dp"]["probability"] > 1
    assert data["dp"]["normalized"]["loss"] >= 0
    text = _text(args)
    assert "nan" not in text.lower()
    assert "nan" not in json.dumps(data).lower()


def test_a_matrix_whose_rows_are_not_distributions_warns_of_a_negative_loss():
    data = _json(["ctc", "--label", "a", "--alphabet", "-,a", "--probs", "1,1;1,1"])
    assert data["value"] < 0
    assert any("its −log is negative" in w for w in data["warnings"])


# --- 6. CTC's reduction -------------------------------------------------------------


@pytest.mark.parametrize("seed", range(3))
def test_reduction_mean_is_torch_ctc_loss_default_loss_and_gradient(seed, tmp_path):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(seed)
    alphabet = ["-", "a", "b", "c"]
    frames = int(rng.integers(4, 20))
    logits = rng.normal(scale=2, size=(frames, len(alphabet)))
    label = list(rng.choice(alphabet[1:], size=int(rng.integers(1, frames // 2 + 1))))
    path = write(
        tmp_path,
        {
            "loss": "ctc",
            "label": label,
            "alphabet": alphabet,
            "logits": logits.tolist(),
            "grad": True,
            "reduction": "mean",
        },
    )
    data = _json(["ctc", path])
    x = torch.from_numpy(logits).requires_grad_()
    loss = torch.nn.functional.ctc_loss(
        x.log_softmax(1)[:, None, :],
        torch.tensor([[alphabet.index(s) for s in label]]),
        torch.tensor([frames]),
        torch.tensor([len(label)]),
    )  # torch's default reduction: mean, each loss ÷ its target length
    loss.backward()
    assert data["reduction"] == "mean"
    assert data["value"] == pytest.approx(loss.item(), rel=RTOL)
    assert data["dp"]["loss"] == pytest.approx(loss.item() * len(label), rel=RTOL)
    np.testing.assert_allclose(np.array(data["dp"]["grad"]), x.grad.numpy(), rtol=1e-7, atol=1e-12)


def test_reduction_mean_in_lecture_mode_divides_the_headline_and_says_so():
    data = _json(["ctc", HELLO, "--reduction", "mean"])
    assert data["value"] == pytest.approx(-math.log(0.0254016) / 5, rel=1e-6)
    assert data["naive"]["loss"] == pytest.approx(-math.log(0.0254016), rel=1e-6)
    text = _text(["ctc", HELLO, "--reduction", "mean"], status=(0, 1))
    assert "/ 5 label symbols" in text and "reduction mean" in text


def test_reduction_sum_is_the_default_and_an_empty_label_divides_by_one():
    data = _json(["ctc", "--label", "", "--probabilities", "a=0.5,-=0.5", "--frames", "2"])
    assert data["reduction"] == "sum"
    empty = ["ctc", "--label", "", "--probabilities", "a=0.5,-=0.5", "--frames", "2"]
    mean = _json([*empty, "--reduction", "mean"])
    assert mean["value"] == pytest.approx(data["value"]) == pytest.approx(-math.log(0.25))


def test_reduction_none_is_refused_for_ctc_with_the_choices(tmp_path):
    path = write(tmp_path, "loss: ctc\nlabel: a\nprobabilities: {a: 0.5, '-': 0.5}\nframes: 2\n")
    result = invoke(["ctc", path, "--reduction", "none"])
    assert result.exit_code == 2
    assert "reduction: a CTC problem is one sequence" in result.stderr
    assert "mean" in result.stderr and "sum" in result.stderr


def test_explain_ctc_says_what_reduction_mean_is():
    text = _text(["explain", "ctc"], width=100)
    assert "reduction mean divides it by the label length" in " ".join(text.split())


# --- 7. an answer key that matches another reading ------------------------------------


def test_a_key_worked_with_the_other_reduction_says_which_and_how(tmp_path):
    # NLL of two observations: sum 0.867501, mean 0.43375; the key is the mean, rounded.
    args = ["nll", "--target", "0,1", "--yhat", "0.7,0.2,0.1;0.2,0.6,0.2"]
    mean = (-math.log(0.7) - math.log(0.6)) / 2
    assert round(mean, 3) == 0.434
    result = invoke([*args, "--expected", "0.434"], env={"NO_COLOR": "1", "COLUMNS": "200"})
    assert result.exit_code == 1
    flat = " ".join(result.stdout.split())
    assert "but it matches the mean, 0.43375:" in flat
    assert "reduction: mean (--reduction mean)" in flat
    data = _json([*args, "--expected", "0.434"])
    assert data["matches"] is False
    assert data["matches_instead"][0]["settings"] == {"reduction": "mean"}
    assert data["matches_instead"][0]["value"] == pytest.approx(mean, rel=RTOL)


def test_a_key_in_another_log_base_is_named():
    data = _json(["bce", "--y", "1,0", "--yhat", "0.5,0.5", "--expected", "1.000"])
    assert {"log_base": "2"} in [r["settings"] for r in data["matches_instead"]]


@pytest.mark.parametrize(
    ("key", "settings"),
    [
        ("3.18744", {"method": "valid"}),
        ("6.71202", {"method": "normalized"}),
        ("1.678", {"method": "normalized", "reduction": "mean"}),
        ("-0.240745", {"method": "exact"}),
    ],
)
def test_a_ctc_key_of_another_method_or_reduction_is_named(key, settings):
    data = _json(["ctc", DEEP, "--expected", key])
    assert data["matches"] is False
    assert settings in [r["settings"] for r in data["matches_instead"]]


def test_a_reinforce_key_of_the_lecture_objective_says_the_loss_is_its_negative():
    text = _text(
        ["reinforce", str(ROOT / "problems/reinforce_game.yaml"), "--expected", "-1.2512"], status=1
    )
    assert "but it matches the objective J" in " ".join(text.split())


def test_a_matching_key_has_no_other_readings():
    data = _json(["hinge", "--y", "1,-1,1", "--yhat", "0.8,-0.5,0.3", "--expected", "0.467"])
    assert data["matches"] is True and "matches_instead" not in data


# --- 9. working that agrees with itself -----------------------------------------------


@pytest.mark.parametrize("loss", ["bce", "cce"])
def test_clip_is_said_in_the_inputs_and_each_row_shows_the_clipped_value(loss):
    args = (
        ["bce", "--y", "1,0,1", "--yhat", "1,0,0.5"]
        if loss == "bce"
        else ["cce", "--target", "0,1", "--yhat", "1,0;0.5,0.5"]
    )
    text = _text([*args, "--clip", "0.01"])
    inputs = text[text.index("Inputs") : text.index("Formula")]
    assert "clip = 0.01: on" in inputs
    assert "clip(1) = 0.99" in text and "−ln(0.99)" in text


def _trellis_rows(text: str) -> list[str]:
    section = text[text.index("Trellis") : text.index("─ Answer")]
    return [line for line in section.splitlines() if re.match(r"^ *\d+ +[\d…]", line)]


def test_a_wide_trellis_keeps_the_best_path_mark_in_every_row():
    args = ["ctc", "--label", "HELLOWORLD", "--frames", "30", "--trellis"]
    args += ["--probabilities", "H=0.1,E=0.1,L=0.2,O=0.2,W=0.1,R=0.1,D=0.1,-=0.1"]
    text = _text(args)
    assert all(len(line) <= 80 for line in text.splitlines())
    rows = _trellis_rows(text)
    frames = {int(line.split()[0]) for line in rows}
    marked = {int(line.split()[0]) for line in rows if "*" in line}
    assert frames == marked  # every frame shown has its cell of the best path marked
    assert "left out" not in text  # 21 columns fit in parts: none is hidden


def test_a_trellis_too_wide_for_parts_keeps_the_repeats_and_the_marks():
    label = "ABCDEFFGHIJKLMNOPQRSTUVWXYZ"  # FF: a repeat, which needs the blank between
    values = ",".join(f"{c}=0.03" for c in sorted(set(label))) + ",-=0.1"
    text = _text(
        ["ctc", "--label", label, "--probabilities", values, "--frames", "60", "--trellis"]
    )
    headers = [line for line in text.splitlines() if line.strip().startswith("t ")]
    assert any(re.search(r"\bF +ε +F\b", h) for h in headers)
    rows = _trellis_rows(text)
    by_frame: dict[int, bool] = {}
    for line in rows:
        frame = int(line.split()[0])
        by_frame[frame] = by_frame.get(frame, False) or "*" in line
    assert all(by_frame.values())


def test_a_wide_alphabet_keeps_the_label_columns_of_the_matrix_and_gradient(tmp_path):
    alphabet = ["-", *[f"s{i}" for i in range(60)]]
    logits = np.random.default_rng(0).normal(size=(30, len(alphabet))).round(2)
    path = write(
        tmp_path,
        {
            "loss": "ctc",
            "label": ["s30", "s31"],
            "alphabet": alphabet,
            "logits": logits.tolist(),
            "grad": True,
        },
    )
    text = _text(["ctc", path])
    headers = [line.split() for line in text.splitlines() if line.strip().startswith("t ")]
    assert len(headers) >= 2
    for header in headers:
        assert {"-", "s30", "s31"} <= set(header)
    markdown = _text(["ctc", path, "--format", "markdown"])
    assert all("s30" in line for line in markdown.splitlines() if line.startswith("| t |"))


def test_warnings_hang_under_their_bullet():
    text = _text(["ctc", HELLO])
    panel = text[text.index("─ Lecture checks") :]
    lines = [line for line in panel.splitlines() if line.startswith("│")]
    continued = [line for line in lines if not line.startswith("│ •")]
    assert continued and all(line.startswith("│   ") for line in continued)


# --- 11. user text shown as written, and only that ------------------------------------


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("plain", "plain"),
        ("a\x1b[31mb", "a␛[31mb"),
        ("tab\there", "tab␉here"),
        ("line\nfeed", "line␊feed"),
        ("del\x7f", "del␡"),
        ("no\u00a0break", "no\u00a0break"),
        ("\u3000wide", "\u3000wide"),
        ("👨\u200d👩\u200d👧", "👨\u200d👩\u200d👧"),
        ("\u202eevil", "⟨U+202E⟩evil"),
        ("bell\x07", "bell␇"),
        ("c1\x9b", "c1⟨U+009B⟩"),
        ("caf\udce9", "caf⟨0xE9⟩"),
        ("line\u2028break", "line⟨U+2028⟩break"),
        # Typed text is shown as written, and never as what a control is shown as: a
        # backslash is a backslash, a typed ␛ or ⟨ is marked itself.
        ("d\\x1b[1mog", "d\\x1b[1mog"),
        ("\\", "\\"),
        ("typed␛", "typed⟨U+241B⟩"),
        ("⟨U+202E⟩", "⟨U+27E8⟩U+202E⟩"),
    ],
)
def test_printable_escapes_only_what_acts(text, shown):
    assert printable(text) == shown


@given(
    st.text(
        alphabet=st.sampled_from(
            [*"ab\\x1ebU+0⟨⟩␛␡", "\x1b", "\x7f", "\x9b", "\u202e", "\udcff", "\u3000"]
        ),
        max_size=12,
    )
)
def test_what_printable_shows_reads_back_one_way_only(text):
    # Injective: two different texts are never shown alike (a typed "\x1b" and an ESC,
    # a typed ␛ and an ESC, a typed "⟨U+202E⟩" and a right-to-left override).
    shown = printable(text)
    assert not any(c in shown for c in "\x1b\x7f\x9b\u202e\udcff")
    assert _read_back_exact(shown) == text


def _read_back_exact(shown: str) -> str:
    """Read `shown` left to right: a ⟨…⟩ mark or a Control Picture is one character."""
    out, i = [], 0
    while i < len(shown):
        c = shown[i]
        if c == "⟨":
            end = shown.index("⟩", i)
            body = shown[i + 1 : end]
            code = int(body[2:], 16)
            out.append(chr(0xDC00 + code) if body.startswith("0x") else chr(code))
            i = end + 1
            continue
        if 0x2400 <= ord(c) < 0x2420:
            out.append(chr(ord(c) - 0x2400))
        elif c == "\u2421":
            out.append("\x7f")
        else:
            out.append(c)
        i += 1
    return "".join(out)


ESCAPES = """\
loss: custom
title: "spaces\\u00a0and\\u3000joiners 👨‍👩‍👧"
terms:
  - name: "evil\\e[31mRED\\e[0m"
    loss: cce
    classes: "a\\e]0;pwn\\a,b"
    target: [0]
    yhat: [[0.5, 0.5]]
  - name: tail
    loss: ctc
    label: a
    blank: "<b>"
    alphabet: ["<b>", a]
    probs: [[0.5, 0.5]]
"""


@pytest.mark.parametrize("output", ["rich", "markdown", "json"])
def test_names_and_class_strings_never_reach_the_output_raw(output, tmp_path):
    path = write(tmp_path, ESCAPES)
    text = _text(["custom", path, "--details", "--format", output])
    assert "\x1b" not in text and "\x07" not in text
    assert "spaces\u00a0and\u3000joiners 👨\u200d👩\u200d👧" in text
    if output == "markdown":
        assert "<b>" not in text and "&lt;b&gt;" in text


def test_the_svg_of_escape_codes_is_well_formed_xml(tmp_path):
    import xml.dom.minidom

    path = write(tmp_path, ESCAPES)
    svg = tmp_path / "out.svg"
    result = invoke(["custom", path, "--details", "--svg", str(svg)])
    assert result.exit_code == 0, result.output
    xml.dom.minidom.parse(str(svg))


def test_a_title_with_markup_is_not_markup(tmp_path):
    path = write(
        tmp_path,
        {
            "loss": "custom",
            "title": "[bold red]x[/]",
            "terms": [{"loss": "mse", "y": [1], "yhat": [1]}],
        },
    )
    assert "term 1 of [bold red]x[/]" in _text(["custom", path, "--details"])


# --- 12. help and docs that point somewhere -------------------------------------------


def test_bare_rnnloss_prints_the_help_plainly():
    result = invoke([])
    assert result.exit_code == 0
    assert result.stdout.startswith("Usage: rnnloss")
    assert "rnnloss: Usage" not in result.output


@pytest.mark.parametrize(
    "command",
    ["mse", "bce", "nll", "cce", "hinge", "ctc", "sequence", "reinforce", "custom", "solve"],
)
def test_help_names_only_options_the_command_has(command):
    text = _text([command, "--help"], width=200)
    offered = set(re.findall(r"^\s+(--[a-z-]+)", text, flags=re.MULTILINE))
    mentioned = set(re.findall(r"(--[a-z][a-z-]+)", text))
    assert mentioned <= offered | {"--help"}, mentioned - offered
    assert "contract" not in text


def test_bce_help_offers_no_labels_it_rejects():
    text = _text(["bce", "--help"], width=200)
    assert "-1" not in text.replace("--", "")


@pytest.mark.parametrize("command", ["bce", "cross-entropy"])
def test_class_indices_given_to_bce_point_to_cce(command):
    result = invoke([command, "--target", "0,1", "--yhat", "0.2,0.3"])
    assert result.exit_code == 2
    assert "rnnloss cce --target" in result.stderr and len(result.stderr.splitlines()) == 1


def test_an_option_of_another_command_says_whose_it_is():
    result = invoke(["mse", "--scores", "1"])
    assert result.exit_code == 2 and "(it belongs to hinge)" in result.stderr


def test_solve_without_paths_says_what_to_give():
    result = invoke(["solve"])
    assert result.exit_code == 2 and "rnnloss solve problems/" in result.stderr


def test_shell_completion_is_offered():
    assert "--install-completion" in _text(["--help"], width=200)


@pytest.mark.parametrize("loss", sorted(LOSSES))
def test_every_worked_example_in_explain_runs_without_the_source_tree(loss, tmp_path):
    entry = LOSSES[loss].explanation
    assert entry.example and entry.example in " ".join(_text(["explain", loss], 1000).split())
    script = "import sys; sys.argv[0] = 'rnnloss'; from rnnloss_cli.entry import main; main()"
    command = entry.example.replace("rnnloss ", f'{sys.executable} -c "{script}" ')
    done = subprocess.run(command, shell=True, cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "does not match" not in done.stdout


def test_the_readme_solve_example_lists_every_bundled_problem():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.index("$ rnnloss solve problems/")
    listing = readme[start : readme.index("```", start)]
    for path in sorted((ROOT / "problems").glob("*.yaml")):
        assert f"problems/{path.name}" in listing


def test_the_file_format_reference_is_in_the_repository():
    reference = ROOT / "docs/problem-format.md"
    assert reference.exists()
    assert "docs/problem-format.md" in (ROOT / "README.md").read_text(encoding="utf-8")
