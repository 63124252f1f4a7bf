"""Problem files → raw problem mappings: YAML read safely, one or several problems a file.

Only this module imports YAML, and only when a file is actually read, so that a
calculation from inline flags never pays for the parser.
"""

from __future__ import annotations

import os
import stat
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rnnloss_cli.errors import ProblemError

# Reading YAML costs about 7 µs a value (libyaml's nodes, then Python's objects), so the
# size bounds the time: 2 MiB of the shortest values (`1,1,1,…`) read in about 5 s.
MAX_FILE_BYTES = 2 * 1024 * 1024
# YAML aliases (`*name`) repeat what an anchor (`&name`) holds without repeating its text,
# so a small file can stand for an enormous one (the "billion laughs"). These bound the
# file as every alias expanded: the text of its values (a file without aliases is always
# within it, its text being at most MAX_FILE_BYTES) and its problems, each term of a
# custom loss counting as one.
MAX_EXPANDED_TEXT = 4 * MAX_FILE_BYTES
MAX_PROBLEMS = 10_000
STDIN = "-"


@dataclass(frozen=True)
class RawProblem:
    """One problem as written: its mapping, position in the file and `expected`'s source text."""

    data: Any
    index: int
    count: int
    expected_text: str | None
    line: int | None


def read_text(path: str) -> str:
    """Return the file's text (UTF-8, BOM allowed); `-` reads standard input."""
    try:
        if path == STDIN:
            if sys.stdin is None:  # started with standard input closed (`<&-`)
                raise ProblemError("cannot be read: standard input is closed", source=path)
            raw = sys.stdin.buffer.read(MAX_FILE_BYTES + 1)
        else:
            p = Path(path)
            if p.is_dir():
                raise ProblemError(
                    "is a directory, not a problem file (use `rnnloss solve` for folders)",
                    source=path,
                )
            with p.open("rb") as handle:
                # A regular file says its size: read it whole (asking for the limit would
                # allocate the limit each time). Anything else is read up to the limit.
                info = os.fstat(handle.fileno())
                if stat.S_ISREG(info.st_mode) and info.st_size <= MAX_FILE_BYTES:
                    raw = handle.read(info.st_size + 1)
                else:
                    raw = handle.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise ProblemError("no such file", source=path) from None
    except PermissionError:
        raise ProblemError("permission denied: the file cannot be read", source=path) from None
    except OSError as exc:
        raise ProblemError(f"cannot be read: {exc.strerror or exc}", source=path) from None
    if len(raw) > MAX_FILE_BYTES:
        raise ProblemError(
            f"is larger than the limit of {MAX_FILE_BYTES // (1024 * 1024)} MiB for a problem file",
            source=path,
        )
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ProblemError(
            f"is not valid UTF-8 (byte 0x{raw[exc.start]:02x} at offset {exc.start})",
            source=path,
        ) from None


def stdin_holds_input() -> bool:
    """Return whether standard input is a pipe, a file or a socket (`cat p.yaml | rnnloss
    hinge`, `< p.yaml`) rather than a terminal or the null device.

    Nothing is read: rnnloss reads standard input only when told to by `-`, and a peek at a
    pipe would wait for its writer. This only chooses what a missing-input message says.
    """
    try:
        mode = os.fstat(sys.stdin.fileno()).st_mode
    except (AttributeError, OSError, ValueError):  # closed, or not a real file (a test's)
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISREG(mode) or stat.S_ISSOCK(mode)


def _yaml_error(exc: Exception, source: str, text: str | None = None) -> ProblemError:
    """Return a YAML parser's error as one line naming the place and, where it can, the cause
    in words (a tab used for indentation, a tag) rather than the parser's."""
    import yaml

    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
    tab = _tab_problem(getattr(exc, "problem_mark", None), text)
    if tab is not None:
        return ProblemError(f"{where}{tab}", source=source)
    if isinstance(exc, yaml.constructor.ConstructorError):
        problem = str(getattr(exc, "problem", "") or exc)
        if "tag" in problem:
            tag = problem.split("tag", 1)[1].strip().strip("'\"")
            tag = tag.replace("tag:yaml.org,2002:", "!!")
            return ProblemError(
                f"{where}YAML tag {tag} is not allowed: problem files hold plain data",
                source=source,
            )
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    return ProblemError(f"{where}invalid YAML: {problem}", source=source)


def _tab_problem(mark: Any, text: str | None) -> str | None:
    """Return what is wrong when the parser stopped at a tab, else None.

    libyaml says "found character that cannot start any token" or "found a tab character
    that violates indentation" and PyYAML's own parser "found character '\\t' …", without
    saying that the tab is indentation, which YAML takes from spaces only. A tab that YAML
    accepts (in a quoted string, after a value) raises nothing and never comes here.
    """
    index = getattr(mark, "index", None)  # characters from the start, as a str counts them
    if text is None or not isinstance(index, int) or not 0 <= index < len(text):
        return None
    if text[index] != "\t":
        return None
    line_start = max(text.rfind(c, 0, index) for c in "\n\r\x85\u2028\u2029") + 1
    if not text[line_start:index].strip(" \t-"):  # only indentation (and `- `) before it
        return "a tab is used for indentation; YAML indents with spaces only"
    return "a tab where this YAML parser takes only spaces; write spaces instead"


def _scalar_text(node: Any, key: str) -> str | None:
    """Return the source text of `key`'s scalar value in a mapping node, if it has one."""
    import yaml

    if not isinstance(node, yaml.MappingNode):
        return None
    for key_node, value_node in node.value:
        if isinstance(key_node, yaml.ScalarNode) and key_node.value == key:
            if isinstance(value_node, yaml.ScalarNode):
                return value_node.value
            return None
    return None


class _NodeWalk:
    """One walk over a document's YAML nodes, before any value is built from them.

    It refuses a mapping that names a key twice (YAML would silently keep the last), and
    sizes the document with every alias expanded, without expanding: each node is
    visited once (memoised by identity) and sized as the sum of what it holds, a value
    as its characters and a list or mapping as one more (so that `[]` is not free). An
    alias inside its own anchor (`&a [*a]`) would never end, and is refused.
    """

    def __init__(self, source: str) -> None:
        import yaml

        self.scalar, self.sequence = yaml.ScalarNode, yaml.SequenceNode
        self.source = source
        self.sizes: dict[int, tuple[int, int]] = {}
        self.open: set[int] = set()
        self.text = 0  # characters of values in the file so far, aliases expanded
        self.problems = 0  # mappings with a `loss` key, aliases expanded

    def document(self, node: Any) -> None:
        if type(node) is self.scalar:
            text, problems = len(node.value) + 1, 0
        else:
            text, problems = self.size(node)
        self.text += text
        self.problems += problems
        self.check(self.text, self.problems)

    def check(self, text: int, problems: int) -> None:
        """Refuse `text` characters of values or `problems` problems over the limits."""
        if text > MAX_EXPANDED_TEXT:
            raise ProblemError(
                f"holds more than {MAX_EXPANDED_TEXT // (1024 * 1024)} MiB of values once its "
                "YAML aliases (*name) are expanded: the limit for a problem file",
                source=self.source,
            )
        if problems > MAX_PROBLEMS:
            raise ProblemError(
                f"holds more than {MAX_PROBLEMS:,} problems (each term of a custom loss counts "
                "as one, YAML aliases expanded): the limit for a problem file; split it",
                source=self.source,
            )

    def size(self, node: Any) -> tuple[int, int]:
        """Return (characters of values, problems) under a list or mapping node."""
        key = id(node)
        known = self.sizes.get(key)
        if known is not None:
            return known
        if key in self.open:
            raise ProblemError(
                "an alias (*name) sits inside its own anchor (&name): the value never ends",
                source=self.source,
            )
        self.open.add(key)
        scalar = self.scalar
        text, problems = 1, 0
        if type(node) is self.sequence:
            children = node.value
        else:  # a mapping
            names: set[str] = set()
            for key_node, _ in node.value:
                if type(key_node) is scalar:
                    if key_node.value in names:
                        raise ProblemError(
                            f"line {key_node.start_mark.line + 1}: the key appears twice in "
                            "one mapping",
                            key=key_node.value,
                            source=self.source,
                        )
                    names.add(key_node.value)
            problems = int("loss" in names)
            children = [child for pair in node.value for child in pair]
        for child in children:
            if type(child) is scalar:
                text += len(child.value) + 1
            else:
                child_text, child_problems = self.size(child)
                text += child_text
                problems += child_problems
        self.open.discard(key)
        self.sizes[key] = (text, problems)
        self.check(text, problems)  # as it goes, so that an enormous expansion stops early
        return text, problems


def parse_problems(text: str, source: str) -> list[RawProblem]:
    """Return the problems of a file: one mapping, `---` documents, or a `problems:` list."""
    import yaml

    loader_class = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    loader = loader_class(text)
    documents: list[tuple[Any, Any]] = []
    walk = _NodeWalk(source)
    try:
        while loader.check_node():
            node = loader.get_node()
            if node is None:
                continue
            walk.document(node)
            documents.append((node, loader.construct_document(node)))
    except ProblemError:
        raise
    except yaml.YAMLError as exc:
        raise _yaml_error(exc, source, text) from None
    except RecursionError:
        raise ProblemError("the YAML is nested too deeply", source=source) from None
    except Exception as exc:
        # PyYAML's constructors raise anything on an odd tag (`!!int ""` is an IndexError,
        # `!!bool x` a KeyError, an integer of more than 4,300 digits a ValueError): each
        # is bad input, never a traceback.
        detail = (str(exc).splitlines() or [type(exc).__name__])[0]
        what = (
            "a number has more than 4,300 digits"
            if "digits" in detail
            else f"a value cannot be read (a YAML tag that does not fit its value?): {detail}"
        )
        raise ProblemError(what, source=source) from None
    finally:
        loader.dispose()

    documents = [(n, d) for n, d in documents if d is not None]
    if not documents:
        raise ProblemError("holds no problem (the file is empty)", source=source)

    items: list[tuple[Any, Any]] = []
    for node, data in documents:
        if isinstance(data, dict) and "problems" in data:
            extra = sorted(str(k) for k in data if k != "problems")
            if extra:
                raise ProblemError(
                    "a file with a `problems:` list holds nothing else at the top level; "
                    "move it into each problem",
                    key=extra[0],
                    source=source,
                )
            problems = data["problems"]
            if not isinstance(problems, list) or not problems:
                raise ProblemError(
                    "must be a non-empty list of problems", key="problems", source=source
                )
            child_nodes = None
            for key_node, value_node in node.value:
                if key_node.value == "problems":
                    child_nodes = value_node.value
            assert child_nodes is not None
            items.extend(zip(child_nodes, problems, strict=True))
        else:
            items.append((node, data))

    walk.check(walk.text, max(walk.problems, len(items)))
    for node, data in items:
        # YAML 1.1 reads `label: 0123` as the octal number 83 and `1_000` as 1000: a label
        # is symbols, so keep the digits as written.
        if isinstance(data, dict) and isinstance(data.get("label"), int):
            text = _scalar_text(node, "label")
            if text is not None:
                data["label"] = text
    count = len(items)
    return [
        RawProblem(
            data=data,
            index=i,
            count=count,
            expected_text=_scalar_text(node, "expected"),
            line=node.start_mark.line + 1,
        )
        for i, (node, data) in enumerate(items)
    ]


def load_file(path: str) -> list[RawProblem]:
    """Return the raw problems of the file at `path` (`-` for standard input)."""
    return parse_problems(read_text(path), path)
