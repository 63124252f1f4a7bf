"""Problem files → raw problem mappings: YAML read safely, one or several problems a file.

Only this module imports YAML, and only when a file is actually read, so that a
calculation from inline flags never pays for the parser.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rnnloss_cli.errors import ProblemError

MAX_FILE_BYTES = 4 * 1024 * 1024
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


def _yaml_error(exc: Exception, source: str) -> ProblemError:
    import yaml

    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
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


def _check_duplicate_keys(
    node: Any, source: str, depth: int = 0, seen_nodes: set[int] | None = None
) -> None:
    """Reject a mapping that names a key twice: YAML would silently keep the last.

    Aliases make the node graph a DAG or even a cycle (`&a [*a, *a]`): each node is
    visited once, so neither an alias bomb nor a cycle makes this walk explode.
    """
    import yaml

    seen_nodes = set() if seen_nodes is None else seen_nodes
    if depth > 50 or id(node) in seen_nodes:
        return
    seen_nodes.add(id(node))
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode):
                if key_node.value in seen:
                    line = key_node.start_mark.line + 1
                    raise ProblemError(
                        f"line {line}: the key appears twice in one mapping",
                        key=key_node.value,
                        source=source,
                    )
                seen.add(key_node.value)
            _check_duplicate_keys(value_node, source, depth + 1, seen_nodes)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            _check_duplicate_keys(item, source, depth + 1, seen_nodes)


def parse_problems(text: str, source: str) -> list[RawProblem]:
    """Return the problems of a file: one mapping, `---` documents, or a `problems:` list."""
    import yaml

    loader_class = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    loader = loader_class(text)
    documents: list[tuple[Any, Any]] = []
    try:
        while loader.check_node():
            node = loader.get_node()
            if node is None:
                continue
            _check_duplicate_keys(node, source)
            documents.append((node, loader.construct_document(node)))
    except yaml.YAMLError as exc:
        raise _yaml_error(exc, source) from None
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
