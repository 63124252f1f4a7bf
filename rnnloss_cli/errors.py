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

    def raw(self) -> str:
        """Return the line with the user's text as written (for JSON, which escapes it)."""
        parts = []
        if self.source is not None:
            parts.append(self.source)
        if self.key:
            parts.append(self.key if self.source is not None else inline_key(self.key))
        parts.append(self.message)
        return ": ".join(parts)

    def __str__(self) -> str:
        # One line whatever the file, key or value named: control characters marked (␊, ␛).
        return printable(self.raw())


# How user text is shown wherever it is printed. The characters that act instead of
# showing — C0 and C1 controls and DEL (a terminal escape, a newline that breaks a message
# into two, invalid in SVG's XML), the line and paragraph separators, the bidirectional
# overrides and isolates that reorder what is around them ("Trojan source"), and the lone
# surrogates by which Python stands for bytes of a file name that are not UTF-8 — are
# shown as characters that cannot be typed by accident and never act: a C0 control as its
# Unicode Control Picture (ESC → ␛, TAB → ␉, LF → ␊), DEL as ␡, anything else as its code
# point in angle brackets (⟨U+202E⟩; an undecodable byte ⟨0xFF⟩). Those marks are shown
# only for such characters: a Control Picture or a ⟨ written by the user is itself shown
# as ⟨U+241B⟩ or ⟨U+27E8⟩, so what is shown reads back one way only. A backslash is an
# ordinary character (`\x1b` typed is shown `\x1b`, and can never be taken for an escape).
# Every other character is shown as written: a no-break space (U+00A0), an ideographic
# space (U+3000), the zero-width joiner of an emoji sequence, accents, any script.
_CONTROLS = (*range(0x00, 0x20), *range(0x7F, 0xA0))  # C0, DEL, C1
_LAYOUT = (0x2028, 0x2029, *range(0x202A, 0x202F), *range(0x2066, 0x206A))
_MARKS = (*range(0x2400, 0x2440), 0x27E8)  # the Control Pictures block, and ⟨
_ACTING = frozenset((*_CONTROLS, *_LAYOUT, *_MARKS))
PICTURE_OF_DEL = "\u2421"  # ␡


def printable(text: str) -> str:
    """Return user text as rnnloss shows it everywhere (terminal, pipes, Markdown, SVG,
    error lines): as written, but with the characters that act instead of showing made
    visible — ESC as ␛, a tab as ␉, DEL as ␡, U+202E as ⟨U+202E⟩, a byte of a file name
    that is not UTF-8 as ⟨0xFF⟩ — in a form no typed text is shown as."""
    if text.isascii() and text.isprintable():  # the usual case, at C speed
        return text
    return "".join(_shown(c) if _acts(c) else c for c in text)


def quoted(text: object) -> str:
    """Return user text quoted for a message, as written; `printable` makes the whole
    line visible where it is printed. Not `repr`, which doubles a backslash (the symbol
    written as one backslash would show as two) and switches to double quotes around a
    quote."""
    return f"'{text}'"


def encodable(text: str) -> str:
    """Return `text` with only its lone surrogates escaped (`\\xff` for a byte of a file
    name that is not UTF-8), as JSON carries it: valid UTF-8, every other character kept."""
    if text.isascii():
        return text
    return "".join(_surrogate(c) if 0xD800 <= ord(c) <= 0xDFFF else c for c in text)


def _acts(c: str) -> bool:
    code = ord(c)
    return code in _ACTING or 0xD800 <= code <= 0xDFFF


def _shown(c: str) -> str:
    code = ord(c)
    if code < 0x20:
        return chr(0x2400 + code)  # the Control Picture: ␀ … ␟
    if code == 0x7F:
        return PICTURE_OF_DEL
    if 0xDC80 <= code <= 0xDCFF:  # surrogateescape: the undecodable byte itself
        return f"⟨0x{code - 0xDC00:02X}⟩"
    return f"⟨U+{code:04X}⟩"


def _surrogate(c: str) -> str:
    code = ord(c)
    if 0xDC80 <= code <= 0xDCFF:
        return f"\\x{code - 0xDC00:02x}"
    return f"\\u{code:04x}"


def inline_key(key: str) -> str:
    """Write a key as the flag that sets it: `log_base[0]` → `--log-base[0]`."""
    head, sep, rest = key.partition("[")
    # The flags not named as their keys: --alignment (one listed path, repeated) and
    # --alignments all (key enumerate).
    flag = {"alignments": "alignment", "enumerate": "alignments"}.get(head, head)
    return "--" + flag.replace("_", "-") + sep + rest
