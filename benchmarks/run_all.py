"""Run every rnnloss speed measurement (issue #6) and print one Markdown table.

Run as `python benchmarks/run_all.py [--quick] [--files N]` with the virtualenv's Python
(the console script `rnnloss` is taken from the same folder as `sys.executable`). Three parts:

1. Start-up: the wall time of `rnnloss hinge --y 1,-1,1 --yhat 0.8,-0.5,0.3` and of
   `rnnloss --version`, each against `python -c "import numpy, typer, rich.table, yaml"`.
   Subprocesses, interleaved (baseline, ours, baseline, ours, ...) after warm-ups; medians.
2. Batch: N small problem files of every loss (generated in a temporary folder, shaped like
   the bundled `problems/`), `rnnloss solve DIR --json > /dev/null` and `rnnloss solve DIR >
   /dev/null` against a bare loop that only parses the same files in one Python process
   (`yaml.safe_load`, and libyaml's `yaml.CSafeLoader`). All four are subprocesses, so each
   includes the interpreter's start-up; interleaved; medians.
3. CTC against PyTorch: `benchmarks/ctc_vs_torch.py` run as a subprocess on its uniform
   and peaked ×20 rows (its whole table is in the README), their forward and forward+grad
   medians quoted (a note instead when torch is not installed).

Ratios are rnnloss / reference (lower is better). The table goes to standard output,
progress to standard error. It reports, it does not gate: the exit status is always 0.
"""

from __future__ import annotations

import argparse
import compileall
import importlib.util
import itertools
import json
import math
import os
import platform
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CTC_SCRIPT = ROOT / "benchmarks" / "ctc_vs_torch.py"
BASELINE_IMPORTS = "import numpy, typer, rich.table, yaml"
HINGE_ARGS = ["hinge", "--y", "1,-1,1", "--yhat", "0.8,-0.5,0.3"]


@dataclass
class Row:
    """One line of the table: medians in seconds (or ms for CTC) and the target ratio."""

    measurement: str
    ours: float | None = None
    reference: float | None = None
    target: float | None = None
    unit: str = "s"
    note: str = ""
    spread: str = ""

    @property
    def ratio(self) -> float | None:
        if self.ours is None or not self.reference:
            return None
        return self.ours / self.reference


@dataclass
class Report:
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- timing


def run_once(argv: list[str]) -> tuple[float, int, str]:
    """Wall time of one subprocess, its exit status and the tail of its standard error."""
    start = time.perf_counter()
    proc = subprocess.run(
        argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    elapsed = time.perf_counter() - start
    tail = proc.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] if proc.stderr else []
    return elapsed, proc.returncode, tail[0] if tail else ""


def interleaved(
    commands: dict[str, list[str]], repeats: int, warmups: int, label: str
) -> tuple[dict[str, list[float]], dict[str, str]]:
    """Run the commands round-robin (in the dict's order); wall times of the timed rounds.

    Also returns, per command, a note when it exited non-zero (the first time it did).
    """
    times: dict[str, list[float]] = {name: [] for name in commands}
    problems: dict[str, str] = {}
    total = warmups + repeats
    for i in range(total):
        for name, argv in commands.items():
            elapsed, status, tail = run_once(argv)
            if status != 0 and name not in problems:
                problems[name] = f"exit {status}" + (f": {tail}" if tail else "")
            if i >= warmups:
                times[name].append(elapsed)
        if sys.stderr.isatty():
            print(f"\r  {label}: round {i + 1}/{total}", end="", file=sys.stderr, flush=True)
    if sys.stderr.isatty():
        print(file=sys.stderr)
    return times, problems


def paired_spread(ours: list[float], ref: list[float]) -> str:
    """The range of the per-round ratios (each pair ran back to back)."""
    ratios = sorted(a / b for a, b in zip(ours, ref, strict=True) if b > 0)
    if not ratios:
        return ""
    return f"{ratios[0]:.2f}–{ratios[-1]:.2f}"


# --------------------------------------------------------------------------- start-up


def rnnloss_command(report: Report) -> list[str]:
    script = Path(sys.executable).parent / "rnnloss"
    if script.exists():
        return [str(script)]
    found = shutil.which("rnnloss")
    report.notes.append(
        f"no console script next to {sys.executable}: "
        + (f"used {found}" if found else "used `python -m rnnloss_cli`")
    )
    return [found] if found else [sys.executable, "-m", "rnnloss_cli"]


def byte_compile(report: Report) -> None:
    """Byte-compile the rnnloss_cli that the console script imports, as pip does on install.

    A regular install is compiled by pip; an editable one is compiled by its first run,
    unless PYTHONDONTWRITEBYTECODE is set, when every run would compile it again (about
    20 ms): that is the cost of the environment, not of rnnloss.
    """
    spec = importlib.util.find_spec("rnnloss_cli")
    if spec is None or not spec.submodule_search_locations:
        report.notes.append("rnnloss_cli is not importable here: not byte-compiled")
        return
    folder = next(iter(spec.submodule_search_locations))
    if not compileall.compile_dir(folder, quiet=1):
        report.notes.append(f"byte-compiling {folder} failed")
    elif os.environ.get("PYTHONDONTWRITEBYTECODE"):
        report.notes.append(
            f"PYTHONDONTWRITEBYTECODE is set: {folder} was byte-compiled first, as pip "
            "compiles a regular install"
        )


def bench_startup(report: Report, rnnloss: list[str], repeats: int, warmups: int) -> None:
    baseline = [sys.executable, "-c", BASELINE_IMPORTS]
    cases = (
        ("start-up: `rnnloss hinge --y 1,-1,1 --yhat 0.8,-0.5,0.3`", HINGE_ARGS, 1.0),
        ("start-up: `rnnloss --version`", ["--version"], 0.6),
    )
    for title, args, target in cases:
        log(f"{title}: {warmups} warm-up(s) + {repeats} interleaved pairs")
        times, problems = interleaved(
            {"baseline": baseline, "ours": rnnloss + args}, repeats, warmups, "start-up"
        )
        row = Row(
            title,
            statistics.median(times["ours"]),
            statistics.median(times["baseline"]),
            target,
            spread=paired_spread(times["ours"], times["baseline"]),
        )
        if problems:
            row.note = "; ".join(f"{k}: {v}" for k, v in problems.items())
        report.rows.append(row)


# --------------------------------------------------------------------------- problem files


WORDS = ["HELLO", "DEEP", "CAT", "SPEECH", "LOSS", "BOOK", "GOOD", "TREE", "RNN", "AUDIO"]
NUMBERS = ["123", "2024", "907", "311", "58"]
VOCAB = ["the", "cat", "sat", "on", "mat", "dog", "ran", "home", "a", "big"]
INTENTS = ["weather", "music", "alarm", "news", "timer", "lights"]
MATRIX_LETTERS = "acdegost"


def q(value: object) -> str:
    """A YAML flow value: JSON is valid YAML, and quoting every string avoids YAML 1.1 booleans."""
    return json.dumps(value, ensure_ascii=False)


def dist(rng: random.Random, size: int, peak: int | None = None) -> list[float]:
    """A probability row with two decimals that sums to exactly 1.00, all entries > 0."""
    weights = [rng.uniform(1.0, 10.0) for _ in range(size)]
    if peak is not None:
        weights[peak] += rng.uniform(10.0, 40.0) * size / 3
    total = sum(weights)
    cents = [max(1, round(100 * w / total)) for w in weights]
    biggest = max(range(size), key=cents.__getitem__)
    cents[biggest] += 100 - sum(cents)
    return [c / 100 for c in cents]


def header(kind: str, i: int) -> str:
    return (
        f"# Problem {i} of the benchmark's generated batch ({kind}), shaped like the bundled\n"
        "# problems/ files. Generated by benchmarks/run_all.py with a fixed seed;\n"
        "# every value is random but valid.\n"
    )


def gen_mse(rng: random.Random, i: int) -> str:
    n = rng.randint(3, 8)
    y = [round(rng.uniform(15, 30), 1) for _ in range(n)]
    yhat = [round(v + rng.uniform(-2, 2), 1) for v in y]
    expected = sum((a - b) ** 2 for a, b in zip(y, yhat, strict=True)) / n
    return (
        f"loss: mse\ntitle: Forecasting {n} days of temperature (#{i})\n"
        f"y: {q(y)}\nyhat: {q(yhat)}\nexpected: {expected:.6f}\n"
    )


def gen_bce(rng: random.Random, i: int) -> str:
    n = rng.randint(3, 8)
    y = [rng.randint(0, 1) for _ in range(n)]
    yhat = [round(rng.uniform(0.55, 0.95) if t else rng.uniform(0.05, 0.45), 2) for t in y]
    terms = [-math.log(p if t else 1 - p) for t, p in zip(y, yhat, strict=True)]
    return (
        f"loss: bce\ntitle: Sentiment of {n} reviews (#{i})\n"
        f"y: {q(y)}\nyhat: {q(yhat)}\nexpected: {sum(terms) / n:.6f}\n"
    )


def gen_nll(rng: random.Random, i: int) -> str:
    classes = rng.sample(VOCAB, rng.randint(3, 5))
    steps = rng.randint(2, 4)
    target = [rng.randrange(len(classes)) for _ in range(steps)]
    rows = [dist(rng, len(classes), peak=t if rng.random() < 0.7 else None) for t in target]
    text = f"loss: nll\ntitle: Next-word prediction (#{i})\nclasses: {q(classes)}\n"
    text += f"target: {q([classes[t] for t in target])}\nyhat:\n"
    return text + "".join(f"  - {q(r)}\n" for r in rows)


def gen_cce(rng: random.Random, i: int) -> str:
    classes = rng.sample(INTENTS, rng.randint(3, 4))
    n = rng.randint(2, 5)
    target = [rng.randrange(len(classes)) for _ in range(n)]
    text = f"loss: cce\ntitle: Intent classification (#{i})\nclasses: {q(classes)}\ny:\n"
    text += "".join(f"  - {q([int(c == t) for c in range(len(classes))])}\n" for t in target)
    text += "yhat:\n"
    return text + "".join(f"  - {q(dist(rng, len(classes), peak=t))}\n" for t in target)


def gen_hinge(rng: random.Random, i: int) -> str:
    n = rng.randint(3, 6)
    y = [rng.choice([1, -1]) for _ in range(n)]
    yhat = [round(rng.uniform(-2, 2), 1) for _ in range(n)]
    terms = [max(0.0, 1 - a * b) for a, b in zip(y, yhat, strict=True)]
    if rng.random() < 0.5:
        return (
            f"loss: sequence-hinge\ntitle: Ranking {n} items (#{i})\n"
            f"y: {q(y)}\nyhat: {q(yhat)}\nreduction: sum\nexpected: {sum(terms):.6f}\n"
        )
    return (
        f"loss: hinge\ntitle: Hinge loss for a sequence (#{i})\n"
        f"y: {q(y)}\nyhat: {q(yhat)}\nexpected: {sum(terms) / n:.6f}\n"
    )


def gen_sequence(rng: random.Random, i: int) -> str:
    words = rng.sample(VOCAB, rng.randint(3, 5))
    classes = ["<pad>", *words, "</s>"]
    size = len(classes)
    if rng.random() < 0.5:  # one sentence, T x C
        steps = rng.randint(2, 5)
        target = [rng.randint(1, size - 1) for _ in range(steps)]
        text = f"loss: sequence\ntitle: Decoder, one sentence (#{i})\nclasses: {q(classes)}\n"
        text += f"target: {q([classes[t] for t in target])}\nyhat:\n"
        return text + "".join(f"  - {q(dist(rng, size, peak=t))}\n" for t in target)
    steps = rng.randint(3, 5)  # a padded batch of two, B x T x C
    lengths = [steps, rng.randint(1, steps - 1)]
    text = (
        f"loss: sequence\ntitle: Decoder, two padded sentences (#{i})\n"
        f"classes: {q(classes)}\nignore_index: 0\ntarget:\n"
    )
    batch = []
    for length in lengths:
        ids = [rng.randint(1, size - 1) for _ in range(length)] + [0] * (steps - length)
        batch.append(ids)
        text += f"  - {q([classes[t] for t in ids])}\n"
    text += "yhat:\n"
    for ids in batch:
        for j, t in enumerate(ids):
            text += ("  - - " if j == 0 else "    - ") + q(dist(rng, size, peak=t or None)) + "\n"
    return text


def gen_reinforce(rng: random.Random, i: int) -> str:
    steps = rng.randint(3, 6)
    rewards = (
        [0] * (steps - 1) + [1]
        if rng.random() < 0.6
        else [rng.randint(-1, 2) for _ in range(steps)]
    )
    probs = [round(rng.uniform(0.3, 0.95), 2) for _ in range(steps)]
    gamma = rng.choice([0.9, 0.95, 0.99])
    returns, running = [], 0.0
    for r in reversed(rewards):
        running = r + gamma * running
        returns.append(running)
    returns.reverse()
    loss = -sum(g * math.log(p) for g, p in zip(returns, probs, strict=True))
    return (
        f"loss: reinforce\ntitle: Delayed reward in a {steps}-move game (#{i})\n"
        f"rewards: {q(rewards)}\nprobs: {q(probs)}\nreturns: reward-to-go\n"
        f"gamma: {gamma}\nexpected: {loss:.6f}\n"
    )


def ctc_path(rng: random.Random, label: str, merge_repeats: bool = False) -> str:
    """An alignment of `label`: symbols sometimes doubled, blanks between (always between a
    repeated symbol, unless merge_repeats, the lecture's slip that collapses it)."""
    out = []
    for j, ch in enumerate(label):
        if j:
            repeat = label[j - 1] == ch
            if (repeat and not merge_repeats) or (not repeat and rng.random() < 0.5):
                out.append("-")
        out.append(ch * (2 if rng.random() < 0.25 and not (j and label[j - 1] == ch) else 1))
    return "".join(out)


def gen_ctc_lecture(rng: random.Random, i: int) -> str:
    label = rng.choice(WORDS + NUMBERS)
    symbols = sorted(set(label))
    probabilities = {s: round(rng.uniform(0.5, 0.95), 1) for s in symbols}
    probabilities["-"] = round(rng.uniform(0.1, 0.4), 1)
    paths: list[str] = []
    for _ in range(30):
        if len(paths) == 3:
            break
        path = ctc_path(rng, label, merge_repeats=rng.random() < 0.15)
        if path not in paths:
            paths.append(path)
    text = (
        f"loss: ctc\ntitle: Recognition of {q(label)}, the lecture's way (#{i})\n"
        f"label: {q(label)}\n"
    )
    if rng.random() < 0.3:  # HELLO-style: each alignment with its factors
        text += f'blank: "-"\nprobabilities: {q(probabilities)}\nalignments:\n'
        for path in paths:
            text += f"  - path: {q(path)}\n    factors: {q([probabilities[c] for c in path])}\n"
        return text
    return text + f"probabilities: {q(probabilities)}\nalignments: {q(paths)}\n"


def ctc_matrix(rng: random.Random) -> tuple[str, list[str], list[list[float]]]:
    alphabet = ["-", *sorted(rng.sample(MATRIX_LETTERS, rng.randint(3, 5)))]
    label = "".join(rng.choice(alphabet[1:]) for _ in range(rng.randint(1, 3)))
    repeats = sum(1 for a, b in itertools.pairwise(label) if a == b)
    frames = len(label) + repeats + rng.randint(0, 4)
    path = ctc_path(rng, label)
    peaks = [alphabet.index(c) for c in path][:frames]
    peaks += [0] * (frames - len(peaks))
    return label, alphabet, [dist(rng, len(alphabet), peak=p) for p in peaks]


def gen_ctc_matrix(rng: random.Random, i: int) -> str:
    label, alphabet, rows = ctc_matrix(rng)
    text = (
        f"loss: ctc\ntitle: Exact CTC of {q(label)} from a softmax matrix (#{i})\n"
        f"label: {q(label)}\nalphabet: {q(alphabet)}\nprobs:\n"
    )
    text += "".join(f"  - {q(r)}\n" for r in rows)
    return text + ("trellis: true\n" if rng.random() < 0.3 else "")


def gen_custom(rng: random.Random, i: int) -> str:
    label, alphabet, rows = ctc_matrix(rng)
    classes = alphabet
    target = [c for c in label]
    text = (
        f"loss: custom\ntitle: CTC plus an auxiliary sequence loss (#{i})\nterms:\n"
        f"  - name: ctc\n    weight: 1.0\n    loss: ctc\n    label: {q(label)}\n"
        f"    alphabet: {q(alphabet)}\n    probs:\n"
    )
    text += "".join(f"      - {q(r)}\n" for r in rows)
    text += (
        f"  - name: decoder\n    weight: {rng.choice([0.2, 0.5, 1.0])}\n    loss: sequence\n"
        f"    classes: {q(classes)}\n    target: {q(target)}\n    yhat:\n"
    )
    return text + "".join(
        f"      - {q(dist(rng, len(classes), peak=classes.index(c)))}\n" for c in target
    )


GENERATORS: dict[str, Callable[[random.Random, int], str]] = {
    "mse": gen_mse,
    "bce": gen_bce,
    "nll": gen_nll,
    "cce": gen_cce,
    "hinge": gen_hinge,
    "sequence": gen_sequence,
    "reinforce": gen_reinforce,
    "ctc_lecture": gen_ctc_lecture,
    "ctc_matrix": gen_ctc_matrix,
    "custom": gen_custom,
}


def write_problems(folder: Path, count: int, seed: int) -> int:
    """Write `count` problem files, the losses in turn; returns the total size in bytes."""
    rng = random.Random(seed)
    kinds = list(GENERATORS)
    size = 0
    for i in range(count):
        kind = kinds[i % len(kinds)]
        text = header(kind, i) + GENERATORS[kind](rng, i)
        path = folder / f"{i:05d}_{kind}.yaml"
        path.write_text(text, encoding="utf-8")
        size += len(text.encode("utf-8"))
    return size


def check_batch(rnnloss: list[str], folder: Path) -> str:
    """One `solve --json` run: a note of how many problems solved (and matched)."""
    proc = subprocess.run(
        [*rnnloss, "solve", str(folder), "--json"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
    )
    try:
        summary = json.loads(proc.stdout)["summary"]
    except (ValueError, KeyError, TypeError):
        tail = proc.stderr.decode("utf-8", "replace").strip().splitlines()[-1:]
        return f"`solve --json` gave no summary (exit {proc.returncode}) {' '.join(tail)}"
    keys = ("problems", "solved", "matched", "mismatched", "errors")
    parts = ", ".join(f"{summary.get(k)} {k}" for k in keys if k in summary)
    note = f"check run: {parts} (exit {proc.returncode})"
    if summary.get("errors"):
        first = proc.stderr.decode("utf-8", "replace").strip().splitlines()[:1]
        note += f"; first error: {first[0] if first else '?'}"
    return note


def bench_batch(report: Report, rnnloss: list[str], files: int, repeats: int) -> None:
    with tempfile.TemporaryDirectory(prefix="rnnloss-bench-") as tmp:
        folder = Path(tmp)
        size = write_problems(folder, files, seed=6)
        log(f"batch: wrote {files} problem files ({size / 1024:.0f} KiB) to {folder}")
        report.notes.append(
            f"batch: {files} generated files, {size / 1024:.0f} KiB, "
            f"{len(GENERATORS)} kinds in turn ({', '.join(GENERATORS)}); "
            + check_batch(rnnloss, folder)
        )
        loop = "[{load} for f in sorted(glob.glob({d!r} + '/*.yaml'))]"
        safe = "import yaml, glob; " + loop.format(load="yaml.safe_load(open(f))", d=tmp)
        fast = "import yaml, glob; " + loop.format(
            load="yaml.load(open(f), Loader=yaml.CSafeLoader)", d=tmp
        )
        commands = {
            "safe": [sys.executable, "-c", safe],
            "json": [*rnnloss, "solve", tmp, "--json"],
            "csafe": [sys.executable, "-c", fast],
            "table": [*rnnloss, "solve", tmp],
        }
        log(f"batch: 1 warm-up + {repeats} interleaved rounds of 4 commands")
        times, problems = interleaved(commands, repeats, 1, "batch")
    med = {name: statistics.median(t) for name, t in times.items()}
    cases = (
        ("json", "safe", "`solve DIR --json` vs `yaml.safe_load` loop", 1.0),
        ("json", "csafe", "`solve DIR --json` vs `CSafeLoader` loop (for scale)", None),
        ("table", "safe", "`solve DIR` (table) vs `yaml.safe_load` loop", 1.5),
        ("table", "csafe", "`solve DIR` (table) vs `CSafeLoader` loop (for scale)", None),
    )
    for ours, ref, title, target in cases:
        row = Row(
            f"batch of {files}: {title}",
            med[ours],
            med[ref],
            target,
            spread=paired_spread(times[ours], times[ref]),
        )
        # solve exits 1 on a mismatch, 2 on an error: the note says which.
        bad = [f"{k}: {problems[k]}" for k in (ours, ref) if k in problems]
        row.note = "; ".join(bad)
        report.rows.append(row)


# --------------------------------------------------------------------------- CTC vs torch

CTC_ROW = re.compile(
    r"^\|\s*(?P<name>[^|(]+?)\s*\((?P<size>[^)]*)\)\s*\|[^|]*\|"
    r"\s*(?P<fo>[\d.]+)\s*\((?P<ft>[\d.]+)\)\s*\|[^|]*\|"
    r"\s*(?P<bo>[\d.]+)\s*\((?P<bt>[\d.]+)\)\s*\|"
)
# The rows of ctc_vs_torch.py quoted here: an untrained model's output and a trained one's.
CTC_ROWS = ("uniform", "peaked ×20")


def bench_ctc(report: Report, repeats: int) -> str:
    """Run ctc_vs_torch.py; rows for its medians. Returns its torch line for the machine note."""
    log(f"ctc: {CTC_SCRIPT.name} --repeats {repeats}")
    try:
        proc = subprocess.run(
            [
                sys.executable,
                str(CTC_SCRIPT),
                "--repeats",
                str(repeats),
                "--rows",
                ";".join(CTC_ROWS),
            ],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=600,
        )
    except subprocess.TimeoutExpired:
        report.rows.append(Row("CTC vs PyTorch", note="ctc_vs_torch.py timed out (600 s)"))
        return ""
    out = proc.stdout
    if "torch is not installed" in out:
        report.rows.append(Row("CTC vs PyTorch", note="skipped: torch is not installed"))
        return ""
    found = 0
    for line in out.splitlines():
        match = CTC_ROW.match(line)
        if match:
            inputs = f"{match['name']} ({match['size']}, float64)"
            report.rows.append(
                Row(
                    f"CTC forward, {inputs}, vs PyTorch",
                    float(match["fo"]),
                    float(match["ft"]),
                    0.5,
                    unit="ms",
                )
            )
            report.rows.append(
                Row(
                    f"CTC forward + gradient, {inputs}, vs PyTorch (autograd)",
                    float(match["bo"]),
                    float(match["bt"]),
                    0.5,
                    unit="ms",
                )
            )
            found += 1
    agreement = next((ln for ln in out.splitlines() if ln.startswith("agreement:")), "")
    if agreement:
        report.notes.append(f"CTC {agreement}")
    if proc.returncode != 0 or not found:
        tail = (out.strip().splitlines() or proc.stderr.strip().splitlines() or ["?"])[-1]
        report.rows.append(
            Row("CTC vs PyTorch", note=f"ctc_vs_torch.py exited {proc.returncode}: {tail}")
        )
    return next((ln for ln in out.splitlines() if ln.startswith("Python ")), "")


# --------------------------------------------------------------------------- output


def fmt_time(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    ms = value * 1e3 if unit == "s" else value
    return f"{ms:.0f} ms" if ms >= 100 else f"{ms:.1f} ms"


def version_of(dist_name: str) -> str:
    try:
        return metadata.version(dist_name)
    except metadata.PackageNotFoundError:
        return "not installed"


def machine_line(torch_line: str) -> str:
    cpus = os.cpu_count()
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else cpus
    threads = re.search(r"\((\d+) threads\)", torch_line)
    try:
        import yaml

        libyaml = " (libyaml)" if getattr(yaml, "__with_libyaml__", False) else " (no libyaml)"
    except ImportError:
        libyaml = ""
    parts = [
        f"{platform.machine()}, {cpus} CPUs" + (f" ({usable} usable)" if usable != cpus else ""),
        f"{platform.system()} {platform.release()}",
        f"Python {platform.python_version()}",
        f"numpy {version_of('numpy')}",
        f"typer {version_of('typer')}",
        f"rich {version_of('rich')}",
        f"PyYAML {version_of('PyYAML')}{libyaml}",
        f"torch {version_of('torch')}" + (f" ({threads.group(1)} threads)" if threads else ""),
    ]
    coretype = os.environ.get("OPENBLAS_CORETYPE")
    if coretype:
        parts.append(f"OPENBLAS_CORETYPE={coretype}")
    if hasattr(os, "getloadavg"):
        parts.append(f"load average {os.getloadavg()[0]:.2f} at the end")
    return "Machine: " + ", ".join(parts) + "."


def print_report(report: Report, settings: str, torch_line: str) -> None:
    print(f"rnnloss benchmarks ({settings}); ratio = rnnloss / reference, lower is better.")
    print()
    print("| measurement | rnnloss | reference | ratio | target | met |")
    print("| --- | ---: | ---: | ---: | ---: | :---: |")
    for row in report.rows:
        ratio = row.ratio
        if ratio is None:
            print(f"| {row.measurement} | — | — | — | — | {row.note} |")
            continue
        target = f"≤ {row.target:.1f}" if row.target is not None else "—"
        mark = "" if row.target is None else ("✓" if ratio <= row.target else "✗")
        print(
            f"| {row.measurement} | {fmt_time(row.ours, row.unit)} | "
            f"{fmt_time(row.reference, row.unit)} | {ratio:.2f} | {target} | {mark} |"
        )
    print()
    print(machine_line(torch_line))
    print()
    print("Start-up reference: `python -c " + repr(BASELINE_IMPORTS).replace("'", '"') + "`.")
    print("Batch references: the same files parsed in one `python -c` loop (no solving).")
    print(
        "Issue 6's batch targets are against `yaml.safe_load`; the `CSafeLoader` rows "
        "(libyaml parsing alone, the parser rnnloss itself uses) are there for scale."
    )
    print("The CTC target (at most half of PyTorch's time) is issue 3's.")
    spreads = [r for r in report.rows if r.spread]
    if spreads:
        print()
        print("Per-round ratios (each pair run back to back), min–max:")
        for row in spreads:
            print(f"- {row.measurement}: {row.spread}")
    failures = [r for r in report.rows if r.note and r.ratio is not None]
    if failures or report.notes:
        print()
        print("Notes:")
        for row in failures:
            print(f"- {row.measurement}: {row.note}")
        for note in report.notes:
            print(f"- {note}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few repeats: a smoke test")
    parser.add_argument(
        "--files", type=int, default=None, help="problem files in the batch (default 1000)"
    )
    args = parser.parse_args()
    if args.quick:
        startup_repeats, startup_warmups, batch_repeats, ctc_repeats = 3, 1, 2, 3
        files = args.files if args.files is not None else 200
    else:
        startup_repeats, startup_warmups, batch_repeats, ctc_repeats = 21, 2, 7, 15
        files = args.files if args.files is not None else 1000
    files = max(1, files)

    report = Report()
    started = time.perf_counter()
    rnnloss = rnnloss_command(report)
    byte_compile(report)
    torch_line = ""
    sections: tuple[tuple[str, Callable[[], object]], ...] = (
        ("start-up", lambda: bench_startup(report, rnnloss, startup_repeats, startup_warmups)),
        ("batch", lambda: bench_batch(report, rnnloss, files, batch_repeats)),
        ("ctc", lambda: bench_ctc(report, ctc_repeats)),
    )
    for name, section in sections:
        try:
            result = section()
        except Exception as exc:  # a report, not a gate: note it and carry on
            report.rows.append(Row(name, note=f"failed: {type(exc).__name__}: {exc}"))
            continue
        if isinstance(result, str):
            torch_line = result
    settings = (
        f"start-up {startup_repeats} pairs after {startup_warmups} warm-up(s), "
        f"batch {batch_repeats} rounds, CTC {ctc_repeats} repeats; medians; "
        f"{time.perf_counter() - started:.0f} s in all"
    )
    print_report(report, settings, torch_line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
