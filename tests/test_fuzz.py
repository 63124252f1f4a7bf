"""Fuzz tests (issue 6): the bundled problems, mutated, must never crash, hang or flood.

Mutations work on the parsed YAML (drop a key, swap in a value of the wrong type or size
at any depth, wrap a value in a list, blow a list up) and on the raw bytes (truncate, insert
stray bytes, YAML tags, anchors and small alias bombs). Every mutated file goes through
`rnnloss solve FILE --json` and through its loss's own command, and must end with exit
status 0, 1 or 2, no traceback, no uncaught exception, one stderr line per bad problem
naming the file, strict JSON that accounts for every problem, and within 10 s a run.

Each invoke runs under a hard stop (SIGALRM) slightly past the 10 s limit, so a hang fails
its test instead of stalling the suite, and under an address-space limit, so an input that
would exhaust memory ends as a MemoryError (a failure) instead of taking the machine down.
Shrinking is off for the generated tests: a hanging example costs 10 s a replay, and the
failure message already spells out the mutations and the file.
"""

from __future__ import annotations

import copy
import json
import math
import os
import re
import resource
import signal
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

import pytest
import yaml
from cli_helpers import billion_laughs
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from rnnloss_cli.cli import app

REPO = Path(__file__).resolve().parent.parent
PROBLEMS = sorted((REPO / "problems").glob("*.yaml"))
BUNDLED_BYTES = {p.name: p.read_bytes() for p in PROBLEMS}
BUNDLED = {name: yaml.safe_load(raw) for name, raw in BUNDLED_BYTES.items()}
NAMES = sorted(BUNDLED)
# The single-loss command for each bundled file: its own `loss` (aliases are commands too).
COMMANDS = {name: str(data["loss"]) for name, data in BUNDLED.items()}

TIME_LIMIT = 10.0  # seconds for one invoke
HARD_STOP = 10.5  # the alarm that turns a hang into a failure
MEMORY_HEADROOM = 4 * 1024**3  # bytes of address space an invoke may add

FUZZ = settings(
    deadline=None,
    phases=(Phase.explicit, Phase.reuse, Phase.generate, Phase.target),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


# --- running one command, with a time limit and a memory limit ------------------------------


class InvokeTimeout(BaseException):  # not an Exception, so no `except Exception` eats it
    """Raised by the alarm inside a hanging invoke."""


def _alarm(signum: int, frame: Any) -> None:
    raise InvokeTimeout(f"still running after {HARD_STOP} s")


@pytest.fixture(autouse=True, scope="module")
def _memory_limit():
    """Cap the address space so that a memory bomb fails as MemoryError, not by the OOM killer."""
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    try:
        status = Path("/proc/self/status").read_text()
        current = int(re.search(r"VmSize:\s+(\d+)", status).group(1)) * 1024
    except (OSError, AttributeError):
        yield
        return
    limit = current + MEMORY_HEADROOM
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def describe(path: str | None, note: str = "", limit: int = 1500) -> str:
    """A failure's input: the mutations made and the start of the file as written."""
    parts = []
    if note:
        parts.append(f"mutations: {note}")
    if path is not None:
        p = Path(path)
        if p.is_file():
            raw = p.read_bytes()
            # Leave out the bundled files' prose comments, and elide long runs.
            shown = b"".join(
                line
                for line in raw.splitlines(keepends=True)
                if not re.fullmatch(rb"#[^\x00-\x08\x0b-\x1f\x7f\xef\xff]*\n?", line)
            )
            shown = re.sub(rb"(.)\1{40,}", lambda m: m.group(1) * 3 + b"...", shown, flags=re.S)
            shown = re.sub(
                rb"(.{2,40}?)\1{8,}", lambda m: m.group(1) * 3 + b"...", shown, flags=re.S
            )
            more = f"… ({len(raw):,} bytes in all)" if len(shown) > limit else ""
            parts.append(f"file {path!r} ({len(raw):,} bytes, comments left out):\n")
            parts[-1] += shown[:limit].decode("utf-8", "backslashreplace") + more
        elif p.is_dir():
            parts.append(f"folder {path!r}: {sorted(os.listdir(p))}")
    return "\n".join(parts)


def invoke(args: list[str], context: str) -> tuple[Any, float]:
    """Run the app in-process; fail (naming the input) on a hang, a slow run or a crash."""
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, HARD_STOP)
    start = time.perf_counter()
    try:
        result = CliRunner().invoke(app, args)
    except InvokeTimeout:
        elapsed = time.perf_counter() - start
        pytest.fail(f"rnnloss {' '.join(args)} hung: killed after {elapsed:.1f} s\n{context}")
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    elapsed = time.perf_counter() - start
    where = f"rnnloss {' '.join(args)} (exit {result.exit_code}, {elapsed:.2f} s)\n{context}"
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        tb = "".join(traceback.format_exception(*result.exc_info))
        pytest.fail(f"uncaught exception from {where}\n{tb}")
    assert elapsed <= TIME_LIMIT, f"took {elapsed:.1f} s (over {TIME_LIMIT} s): {where}"
    for stream, text in (("stdout", result.stdout), ("stderr", result.stderr)):
        assert "Traceback" not in text, f"traceback on {stream} of {where}\n{text[-3000:]}"
    assert result.exit_code in (0, 1, 2), f"exit status {result.exit_code}: {where}"
    return result, elapsed


def _reject_constant(token: str) -> Any:
    raise ValueError(f"non-strict JSON token {token}")


def strict_json(text: str, where: str) -> Any:
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except ValueError as exc:
        pytest.fail(f"stdout is not one strict JSON value ({exc}): {where}\n{text[:2000]!r}")


def stderr_lines(result: Any) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.strip()]


def check_solve(paths: list[str], context: str) -> dict[str, Any]:
    """`solve PATHS --json`: the contract's object, every problem accounted for, one line each."""
    result, _ = invoke(["solve", *paths, "--json"], context)
    where = f"rnnloss solve {' '.join(paths)} --json (exit {result.exit_code})\n{context}"
    data = strict_json(result.stdout, where)
    assert isinstance(data, dict), where
    assert set(data) >= {"results", "summary"}, (sorted(data), where)
    results, counts = data["results"], data["summary"]
    assert isinstance(results, list), where
    assert counts["problems"] >= 1, (counts, where)
    assert counts["problems"] == len(results), (counts, len(results), where)
    failed = [r for r in results if not r.get("ok")]
    assert counts["errors"] == len(failed), (counts, where)
    assert counts["solved"] == len(results) - len(failed), (counts, where)
    for entry in results:
        assert "file" in entry, (entry, where)
        if entry.get("ok"):
            assert isinstance(entry.get("result"), dict), (entry, where)
        else:
            error = entry.get("error")
            assert isinstance(error, str), (entry, where)
            assert error.strip(), (entry, where)
    # Exit status as the contract says.
    if counts["errors"]:
        assert result.exit_code == 2, (result.exit_code, counts, where)
    elif counts["mismatched"]:
        assert result.exit_code == 1, (result.exit_code, counts, where)
    else:
        assert result.exit_code == 0, (result.exit_code, counts, where)
    # Standard error: one line per bad problem, each naming its file; nothing else.
    lines = stderr_lines(result)
    assert len(lines) == counts["errors"], (
        f"{len(lines)} stderr lines for {counts['errors']} errors: {where}\n{result.stderr[:2000]}"
    )
    if counts["problems"] <= 3:
        assert len(lines) <= 3, where
    for line in lines:
        assert line.startswith("rnnloss: "), (line, where)
        assert any(p in line for p in paths), (line, where)
    return data


def check_command(command: str, path: str, problems: int, context: str) -> Any:
    """A single-loss command on the file: rendered working, one error line per bad problem."""
    result, _ = invoke([command, path], context)
    where = f"rnnloss {command} {path} (exit {result.exit_code})\n{context}"
    lines = stderr_lines(result)
    assert len(lines) <= max(3, problems), (
        f"{len(lines)} stderr lines: {where}\n{result.stderr[:2000]}"
    )
    if result.exit_code == 2:
        assert lines, f"exit 2 with nothing on stderr: {where}"
        if problems == 1:
            assert len(lines) == 1, (result.stderr, where)
            assert not result.stdout.strip(), (
                f"exit 2 for one problem, but stdout has: {result.stdout[:500]!r}\n{where}"
            )
    else:
        assert not lines, (result.stderr, where)
    for line in lines:
        assert line.startswith("rnnloss: "), (line, where)
        assert path in line, (line, where)
    return result


def check_file(path: str, command: str | None, note: str = "") -> dict[str, Any]:
    context = describe(path, note)
    data = check_solve([path], context)
    if command is not None:
        check_command(command, path, data["summary"]["problems"], context)
    return data


# --- mutations of the parsed YAML -----------------------------------------------------------

NASTY_VALUES: list[Any] = [
    None,
    "",
    "x",
    "1,2,x",
    "1,,2",
    ";",
    "nan",
    ".nan",
    "inf",
    "-inf",
    "1e400",
    "-",
    "\x00",
    "\t",
    "\x1b[31mred",
    "∞",
    "H" * 5000,
    [],
    [[]],
    [None],
    ["a", 1],
    [[1, 2], [3]],
    [[[[[[1]]]]]],
    {},
    {"a": 1},
    {"loss": "mse"},
    {None: 1},
    math.nan,
    math.inf,
    -math.inf,
    1e308,
    -1e308,
    5e-324,
    -0.0,
    0,
    -1,
    1,
    2,
    10**30,
    -(10**30),
    2**63,
    2**64 + 1,
    10**400,
    True,
    False,
]

KEYS = [
    "loss",
    "y",
    "yhat",
    "logits",
    "log_probs",
    "probs",
    "target",
    "classes",
    "label",
    "blank",
    "alphabet",
    "probabilities",
    "alignments",
    "frames",
    "terms",
    "weight",
    "expected",
    "tolerance",
    "reduction",
    "log_base",
    "clip",
    "margin",
    "ignore_index",
    "gamma",
    "baseline",
    "method",
    "trellis",
    "grad",
    "problems",
    "yaht",
    "",
    None,
    1,
]

nasty = st.one_of(
    st.sampled_from(NASTY_VALUES),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**40), max_value=10**40),
    st.text(max_size=12),
    st.recursive(
        st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=3),
        lambda children: (
            st.lists(children, max_size=3)
            | st.dictionaries(st.sampled_from(KEYS[:30]), children, max_size=3)
        ),
        max_leaves=8,
    ),
)


def all_paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    """Every position in the document, the root included, in document order."""
    out = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            out.extend(all_paths(value, (*prefix, key)))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            out.extend(all_paths(value, (*prefix, i)))
    return out


def get(node: Any, path: tuple) -> Any:
    for step in path:
        node = node[step]
    return node


def huge_list(value: list, size: int) -> list:
    """A list of `size` elements like `value`'s first (rows stay rows)."""
    first = value[0] if value else 0.5
    return (
        [copy.deepcopy(first) for _ in range(size)] if isinstance(first, list) else [first] * size
    )


EXTREME_NUMBERS = [1e308, -1e308, 1.7e308, 1e300, 1e-300, 5e-324, 0, 0.0, -0.0, 10**30, -1, 1e16]


def numbers_replaced(node: Any, number: Any) -> Any:
    """`node` with every number (not booleans) in it replaced by `number`."""
    if isinstance(node, bool):
        return node
    if isinstance(node, (int, float)):
        return number
    if isinstance(node, list):
        return [numbers_replaced(item, number) for item in node]
    if isinstance(node, dict):
        return {key: numbers_replaced(value, number) for key, value in node.items()}
    return node


@st.composite
def structural_mutation(draw: Any) -> tuple[str, Any, str]:
    """A bundled problem, parsed, with one to three mutations; returns (name, data, note)."""
    name = draw(st.sampled_from(NAMES))
    data: Any = copy.deepcopy(BUNDLED[name])
    notes = []
    for _ in range(draw(st.integers(1, 3))):
        paths = all_paths(data)
        path = draw(st.sampled_from(paths))
        value = get(data, path)
        op = draw(
            st.sampled_from(
                [
                    "drop",
                    "replace",
                    "replace",
                    "extreme",
                    "extreme",
                    "wrap",
                    "huge",
                    "stringify",
                    "rename",
                    "several",
                ]
            )
        )
        if op == "drop" and path:
            parent = get(data, path[:-1])
            del parent[path[-1]]
            notes.append(f"drop {list(path)}")
            continue
        if op == "rename" and path and isinstance(get(data, path[:-1]), dict):
            parent = get(data, path[:-1])
            new_key = draw(st.sampled_from(KEYS))
            parent[new_key] = parent.pop(path[-1])
            notes.append(f"rename {list(path)} to {new_key!r}")
            continue
        if op == "several":
            data = {"problems": [data, copy.deepcopy(data)]}
            notes.append("wrap the file in a problems: list of two")
            continue
        if op == "wrap":
            new: Any = [value]
            notes.append(f"wrap {list(path)} in a list")
        elif op == "huge" and isinstance(value, list):
            size = draw(st.sampled_from([1_001, 5_000, 20_001]))
            new = huge_list(value, size)
            notes.append(f"{list(path)} as a list of {size:,}")
        elif op == "extreme":
            number = draw(st.sampled_from(EXTREME_NUMBERS))
            new = numbers_replaced(value, number)
            notes.append(f"every number in {list(path)} = {number!r}")
        elif op == "stringify":
            new = str(value)
            notes.append(f"{list(path)} as the string {new[:80]!r}")
        else:
            new = copy.deepcopy(draw(nasty))  # later mutations must not edit NASTY_VALUES
            notes.append(f"{list(path)} = {new!r:.80}")
        if path:
            get(data, path[:-1])[path[-1]] = new
        else:
            data = new
    return name, data, "; ".join(notes)


def dump(data: Any) -> str:
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=120)


# --- mutations of the raw bytes --------------------------------------------------------------

BILLION_LAUGHS_SMALL = (
    b'\nlol0: &l0 ["lol", "lol", "lol"]\nlol1: &l1 [*l0, *l0, *l0]\nlol2: &l2 [*l1, *l1, *l1]\n'
)
SNIPPETS = [
    b"\x00",
    b"\xff",
    b"\xfe\xff",
    b"\xef\xbb\xbf",
    b"\t",
    b"\r",
    b"\n",
    b"\x1b[2J",
    b"\xc3",
    b"\xed\xa0\x80",
    b"!!python/object:os.system ",
    b"!!python/object/apply:os.system ['true'] ",
    b"!!python/name:os.system ",
    b"!!binary aGVsbG8= ",
    b"!!set ",
    b"!!timestamp ",
    b"!!float ",
    b"!!int ",
    b"!!str ",
    b"!!map ",
    b"!<tag:yaml.org,2002:js/undefined> ",
    b"!custom ",
    b"&a [*a, *a]",
    b"&a ",
    b"*a",
    b"*undefined ",
    b"<<: *a\n",
    b"<<: {}\n",
    BILLION_LAUGHS_SMALL,
    b"---\n",
    b"...\n",
    b"%YAML 1.1\n---\n",
    b"%TAG ! tag:example.com,2000:\n---\n",
    b"? ",
    b": ",
    b"- ",
    b"{",
    b"}",
    b"[",
    b"]",
    b"'",
    b'"',
    b"#",
    b"|\n",
    b">-\n",
    b",",
    b"1e308",
    b"-1e308",
    b".nan",
    b"-.inf",
    b"1" + b"0" * 30,
    b"1" + b"0" * 5000,
    b"0x_ff",
    b"0b101",
    b"0o777",
    b"1:30:00",
    b"2001-12-14t21:59:43.10-05:00",
    b"~",
    b"problems:\n",
]
VALUE_SNIPPETS = [
    b"&a [*a, *a]",
    b"&a {k: *a}",
    b"!!python/object/apply:os.system ['true']",
    b"!!binary aGVsbG8=",
    b"!!set {a, b}",
    b"!!omap [a: 1, b: 2]",
    b"!!timestamp 2001-12-14",
    b"2001-12-14",
    b"*undefined",
    b".nan",
    b"[.nan, .inf, -.inf]",
    b"1e308",
    b"[1e308, -1e308]",
    b"1" + b"0" * 30,
    b"1" + b"0" * 5000,
    b"[[[[[[1]]]]]]",
    b"{H: .nan}",
    b"~",
    b"''",
    b"[]",
    b"{}",
    b'"\\x00\\xff"',
    b'"1,2,3;4,5"',
    b"! 1",
    b"!!str 1",
    b"!!float 1",
    b"!!float -",
    b'!!int ""',
    b"!!bool x",
    b"!!timestamp x",
    b"!!int 1.5",
    b"!!bool yes",
    b"yes",
    b"on",
    b"0123",
    b"1_000",
    b"0x1F",
    b"-0",
    b"1:20",
]
VALUE_LINE = re.compile(rb"^([ \t]*(?:- )?[\"']?[\w\-]+[\"']?:[ \t]*)(\S.*)$", re.MULTILINE)


@st.composite
def raw_mutation(draw: Any) -> tuple[str, bytes, str]:
    """A bundled problem's bytes with one to three byte-level mutations."""
    name = draw(st.sampled_from(NAMES))
    raw = BUNDLED_BYTES[name]
    notes = []
    for _ in range(draw(st.integers(1, 3))):
        op = draw(st.sampled_from(["truncate", "insert", "insert", "value", "value", "cut", "dup"]))
        pos = draw(st.integers(0, len(raw)))
        if op == "truncate":
            raw = raw[:pos]
            notes.append(f"truncate at {pos}")
        elif op == "insert":
            snippet = draw(st.sampled_from(SNIPPETS) | st.binary(min_size=1, max_size=6))
            raw = raw[:pos] + snippet + raw[pos:]
            notes.append(f"insert {snippet[:60]!r} at {pos}")
        elif op == "cut":
            length = draw(st.integers(1, 40))
            raw = raw[:pos] + raw[pos + length :]
            notes.append(f"cut {length} bytes at {pos}")
        elif op == "dup":
            lines = raw.splitlines(keepends=True)
            if lines:
                i = draw(st.integers(0, len(lines) - 1))
                lines.insert(i, lines[i])
                raw = b"".join(lines)
                notes.append(f"repeat line {i}")
        else:
            matches = list(VALUE_LINE.finditer(raw))
            if matches:
                m = draw(st.sampled_from(matches))
                snippet = draw(st.sampled_from(VALUE_SNIPPETS))
                raw = raw[: m.start(2)] + snippet + raw[m.end(2) :]
                notes.append(f"value of {m.group(1).strip()!r} = {snippet[:60]!r}")
    return name, raw, "; ".join(notes)


def write_file(folder: str, name: str, content: str | bytes) -> str:
    path = os.path.join(folder, name)
    with open(path, "wb") as handle:
        handle.write(content.encode("utf-8") if isinstance(content, str) else content)
    return path


# --- the generated tests ---------------------------------------------------------------------


def test_bundled_problems_pass_the_checks():
    """The unmutated problems pass the same checks (else every fuzz failure is noise)."""
    for path in PROBLEMS:
        data = check_file(str(path), COMMANDS[path.name])
        assert data["summary"]["errors"] == 0, data


@settings(FUZZ, max_examples=100)
@given(structural_mutation())
def test_structural_mutations(case: tuple[str, Any, str]) -> None:
    name, data, note = case
    with tempfile.TemporaryDirectory() as folder:
        path = write_file(folder, name, dump(data))
        check_file(path, COMMANDS[name], f"{name}: {note}")


@settings(FUZZ, max_examples=100)
@given(raw_mutation())
def test_raw_mutations(case: tuple[str, bytes, str]) -> None:
    name, raw, note = case
    with tempfile.TemporaryDirectory() as folder:
        path = write_file(folder, name, raw)
        check_file(path, COMMANDS[name], f"{name}: {note}")


@settings(FUZZ, max_examples=4)
@given(
    st.lists(
        st.one_of(structural_mutation(), raw_mutation()),
        min_size=30,
        max_size=30,
    )
)
def test_solve_folder_accounts_for_every_file(cases: list[tuple[str, Any, str]]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        written, notes = [], []
        for i, (name, content, note) in enumerate(cases):
            ext = ".yml" if i % 5 == 4 else ".yaml"
            text = content if isinstance(content, bytes) else dump(content)
            written.append(write_file(folder, f"{i:02d}_{Path(name).stem}{ext}", text))
            notes.append(f"{i:02d} {name}: {note}")
        context = describe(folder, "\n".join(notes))
        data = check_solve([folder], context)
        files = [entry["file"] for entry in data["results"]]
        missing = sorted(set(written) - set(files))
        assert not missing, (f"files missing from results: {missing}", context)
        assert set(files) <= set(written), (sorted(set(files) - set(written)), context)
        assert files == sorted(files), ("results not in path order", files, context)
        # Each failed entry's line on stderr names its file.
        result_errors = [e for e in data["results"] if not e["ok"]]
        for entry in result_errors:
            assert entry["error"].strip(), (entry, context)


# --- explicit regressions ----------------------------------------------------------------------


def _text(name: str) -> str:
    return BUNDLED_BYTES[name].decode("utf-8")


def _replace_key(name: str, key: str, value: str) -> str:
    """The bundled file with `key:`'s value (one line) replaced, or the line added."""
    text = _text(name)
    pattern = re.compile(rf"^{key}:.*$", re.MULTILINE)
    if pattern.search(text):
        return pattern.sub(lambda _: f"{key}: {value}", text, count=1)
    return text + f"{key}: {value}\n"


def _without(text: str, *keys: str) -> str:
    """Remove top-level `key:` blocks (the key's line and its indented continuation)."""
    for key in keys:
        text = re.sub(rf"^{key}:.*\n(?:[ \-].*\n)*", "", text, flags=re.MULTILINE)
    return text


def _nested_custom(depth: int) -> str:
    """A custom loss whose one term is a custom loss … `depth` deep, in flow style."""
    problem = "{loss: hinge, y: [1, -1], yhat: [0.5, 0.5], weight: 1.0}"
    for _ in range(depth):
        problem = f"{{loss: custom, weight: 1.0, terms: [{problem}]}}"
    return "loss: custom\nterms: [" + problem + "]\n"


def _custom_alias_bomb() -> str:
    """A custom loss of 97 customs of 99 customs of 99 aliases of one 1,000-value hinge."""
    values = ", ".join(["1"] * 1000)
    lines = ["loss: custom", "terms:", f"  - &p {{loss: hinge, y: [{values}], yhat: [{values}]}}"]
    lines.append("  - &c1 {loss: custom, terms: [" + ", ".join(["*p"] * 99) + "]}")
    lines.append("  - &c2 {loss: custom, terms: [" + ", ".join(["*c1"] * 99) + "]}")
    lines += ["  - *c2"] * 97
    return "\n".join(lines) + "\n"


def _ctc_listed(count: int, frames: int, alias: bool) -> str:
    path = "-" * (frames - 5) + "HELLO"
    lines = [
        "loss: ctc",
        "label: HELLO",
        "probabilities: {H: 0.6, E: 0.5, L: 0.7, O: 0.8, '-': 0.2}",
        "alignments:",
    ]
    if alias:
        lines += [f'  - &a "{path}"'] + ["  - *a"] * (count - 1)
    else:
        lines += [f'  - "{path}"'] * count
    return "\n".join(lines) + "\n"


DEEP = "[[[[[[1]]]]]]"
LABEL_5000 = "A" * 5000

REGRESSIONS: dict[str, tuple[str, str | bytes]] = {
    "frames-1e30": ("ctc", _replace_key("hello.yaml", "frames", "1" + "0" * 30)),
    "frames-1e30-deep": ("ctc", _replace_key("deep.yaml", "frames", "1" + "0" * 30)),
    "frames-1e308": ("ctc", _replace_key("hello.yaml", "frames", "1e308")),
    "frames-inf": ("ctc", _replace_key("hello.yaml", "frames", ".inf")),
    "frames-20000-trellis": (
        "ctc",
        _replace_key("numbers_123.yaml", "frames", "20000") + "trellis: true\n",
    ),
    "mse-y-1e308": ("mse", "loss: mse\ny: [1e308, -1e308]\nyhat: [0, 0]\n"),
    "mse-y-1e308-bundled": ("mse", _replace_key("mse_forecast.yaml", "y", "[1e308, -1e308]")),
    "mse-both-1e308": ("mse", "loss: mse\ny: [1e308, -1e308]\nyhat: [-1e308, 1e308]\n"),
    "hinge-y-1e308": ("hinge", _replace_key("hinge_sequence.yaml", "y", "[1e308, -1e308]")),
    "hinge-yhat-1e308": (
        "hinge",
        "loss: hinge\ny: [1, -1]\nyhat: [-1e308, 1e308]\nsquared: true\n",
    ),
    "bce-y-1e308": ("bce", "loss: bce\ny: [1e308, -1e308]\nyhat: [0.5, 0.5]\n"),
    "bce-logits-1e308": ("bce", "loss: bce\ny: [1, 0]\nlogits: [-1e308, 1e308]\n"),
    "cce-logits-1e308": ("cce", "loss: cce\ntarget: [0]\nlogits: [[1e308, -1e308, 0]]\n"),
    "reinforce-1e308": (
        "reinforce",
        "loss: reinforce\nrewards: [1e308, -1e308]\nprobs: [0.5, 0.5]\nnormalize: true\n",
    ),
    "reinforce-gamma-1e308": (
        "reinforce",
        _replace_key("reinforce_game.yaml", "gamma", "1e308"),
    ),
    "probabilities-H-nan": ("ctc", _replace_key("hello.yaml", "probabilities", "{H: .nan}")),
    "probabilities-H-nan-rest": (
        "ctc",
        _replace_key("hello.yaml", "probabilities", '{H: .nan, E: 0.5, L: 0.7, O: 0.8, "-": 0.2}'),
    ),
    "problems-10000-empty": ("mse", "problems:\n" + "  - {}\n" * 10_000),
    "problems-10000-hinge": (
        "hinge",
        "problems:\n" + "  - {loss: hinge, y: [1, -1], yhat: [0.5, 0.5]}\n" * 10_000,
    ),
    "label-5000": ("ctc", _replace_key("hello.yaml", "label", LABEL_5000)),
    "label-5000-no-alignments": (
        "ctc",
        _without(_replace_key("hello.yaml", "label", LABEL_5000), "alignments"),
    ),
    "label-5000-list": ("ctc", _replace_key("deep.yaml", "label", json.dumps(list(LABEL_5000)))),
    "label-5000-matrix": ("ctc", _replace_key("ctc_matrix_at.yaml", "label", LABEL_5000)),
    "label-1000-frames-20000": (
        "ctc",
        "loss: ctc\nlabel: " + "ab" * 500 + "\nprobabilities: {a: 0.5, b: 0.3, '-': 0.2}\n"
        "frames: 20000\n",
    ),
    "yhat-deep-mse": ("mse", _replace_key("mse_forecast.yaml", "yhat", DEEP)),
    "yhat-deep-bce": ("bce", _replace_key("bce_sentiment.yaml", "yhat", DEEP)),
    "yhat-deep-hinge": ("hinge", _replace_key("hinge_sequence.yaml", "yhat", DEEP)),
    "yhat-deep-cce": ("cce", "loss: cce\ny: [[0, 1]]\nyhat: " + DEEP + "\n"),
    "yhat-deep-nll": ("nll", "loss: nll\ntarget: [0]\nyhat: " + DEEP + "\n"),
    "yhat-deep-sequence": ("sequence", "loss: sequence\ntarget: [0]\nyhat: " + DEEP + "\n"),
    "probs-deep-reinforce": ("reinforce", _replace_key("reinforce_game.yaml", "probs", DEEP)),
    "probs-deep-ctc": ("ctc", _without(_text("ctc_matrix_at.yaml"), "probs") + f"probs: {DEEP}\n"),
    "custom-50-deep": ("custom", _nested_custom(50)),
    "custom-500-deep": ("custom", _nested_custom(500)),
    "recursive-alias-yhat": ("mse", "loss: mse\ny: [1]\nyhat: &a [*a, *a]\n"),
    "recursive-alias-map": ("mse", "loss: mse\ny: [1]\nyhat: [1]\ntitle: &a {k: *a}\n"),
    "recursive-alias-problems": ("mse", "problems: &a [*a]\n"),
    "billion-laughs-small": ("mse", billion_laughs(3, 3)),
    "billion-laughs": ("mse", billion_laughs(9)),
    "custom-alias-bomb": ("custom", _custom_alias_bomb()),
    "ctc-alignments-alias-bomb": ("ctc", _ctc_listed(1000, 20_000, alias=True)),
    "ctc-listed-100000-frames": ("ctc", _ctc_listed(5, 20_000, alias=False)),
    "ctc-listed-1000-alignments": ("ctc", _ctc_listed(1000, 100, alias=False)),
    "int-5000-digits": ("mse", "loss: mse\ny: [1" + "0" * 5000 + "]\nyhat: [1]\n"),
    "expected-5000-digits": ("hinge", _replace_key("hinge_sequence.yaml", "expected", "1" * 5000)),
    "python-object": (
        "mse",
        "loss: mse\ny: !!python/object/apply:os.system ['true']\nyhat: [1]\n",
    ),
    "tag-int-empty": ("mse", 'loss: mse\ny: [!!int ""]\nyhat: [1]\n'),
    "tag-int-sign": ("mse", 'loss: mse\ny: [!!int "-"]\nyhat: [1]\n'),
    "tag-int-document": ("hinge", b"!!int # \n"),
    "tag-float-empty": ("mse", 'loss: mse\ny: [!!float ""]\nyhat: [1]\n'),
    "tag-bool-x": ("mse", "loss: mse\ny: [1]\nyhat: [1]\ntitle: !!bool x\n"),
    "tag-timestamp-x": ("mse", "loss: mse\ny: [!!timestamp x]\nyhat: [1]\n"),
    "nul-bytes": ("hinge", BUNDLED_BYTES["hinge_sequence.yaml"].replace(b"\n", b"\n\x00", 1)),
    "invalid-utf8": ("hinge", BUNDLED_BYTES["hinge_sequence.yaml"] + b"\xff\xfe"),
    "empty": ("hinge", b""),
    "only-bom": ("hinge", b"\xef\xbb\xbf"),
    "scalar-document": ("hinge", b"42\n"),
    "list-document": ("hinge", b"- 1\n- 2\n"),
    "many-documents": ("hinge", b"---\n" * 3 + BUNDLED_BYTES["hinge_sequence.yaml"]),
    "huge-list-mse": ("mse", "loss: mse\ny: " + json.dumps([1.0] * 100_000) + "\nyhat: [1]\n"),
    "huge-matrix-ctc": (
        "ctc",
        "loss: ctc\nlabel: ab\nalphabet: ['-', a, b]\nprobs: "
        + json.dumps([[0.2, 0.4, 0.4]] * 19_000)
        + "\n",
    ),
}


@pytest.mark.parametrize("case", sorted(REGRESSIONS))
def test_regression(case: str) -> None:
    command, content = REGRESSIONS[case]
    with tempfile.TemporaryDirectory() as folder:
        path = write_file(folder, f"{case}.yaml", content)
        check_file(path, command, case)


def test_python_object_tag_is_not_executed() -> None:
    with tempfile.TemporaryDirectory() as folder:
        marker = os.path.join(folder, "pwned")
        path = write_file(
            folder, "p.yaml", f"loss: mse\ny: !!python/object/apply:os.system ['touch {marker}']\n"
        )
        data = check_file(path, "mse", "python/object/apply")
        assert not os.path.exists(marker)
        assert data["summary"]["errors"] == 1


def test_regressions_in_one_folder() -> None:
    """All the regression files at once: `solve DIR` accounts for each of them."""
    with tempfile.TemporaryDirectory() as folder:
        written = [
            write_file(folder, f"{case}.yaml", content)
            for case, (_, content) in sorted(REGRESSIONS.items())
            # Leave out the slow ones (each has its own test above).
            if not case.startswith(("problems-10000", "huge-", "frames-20000", "label-1000-"))
        ]
        data = check_solve([folder], describe(folder))
        files = {entry["file"] for entry in data["results"]}
        assert files == set(written), sorted(set(written) ^ files)
