"""The one exception the command line turns into a one-line message and exit status 2."""

from __future__ import annotations


class ProblemError(Exception):
    """Bad input: which file, which key (as `alignments[1].factors`) and what is wrong.

    `source` is the file as the user named it (None for inline flags, where the key is
    shown as the flag that set it).
    """

    def __init__(self, message: str, *, key: str | None = None, source: str | None = None):
        super().__init__(message)
        self.message = message
        self.key = key
        self.source = source

    def with_source(self, source: str | None) -> ProblemError:
        """Return this error attributed to `source` unless it already names a file."""
        if self.source is None:
            self.source = source
        return self

    def __str__(self) -> str:
        parts = []
        if self.source is not None:
            parts.append(self.source)
        if self.key:
            parts.append(self.key if self.source is not None else inline_key(self.key))
        parts.append(self.message)
        # One line whatever the file, key or value named: control characters escaped.
        return printable(": ".join(parts))


def printable(text: str) -> str:
    """Return `text` with control characters (a terminal escape, say) written as `\\x1b`."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() or c == " " else repr(c)[1:-1] for c in text)


def inline_key(key: str) -> str:
    """Write a key as the flag that sets it: `log_base[0]` → `--log-base[0]`."""
    head, sep, rest = key.partition("[")
    flag = {"alignments": "alignment"}.get(head, head)  # the one flag named in the singular
    return "--" + flag.replace("_", "-") + sep + rest
