"""The `solve` table is drawn line by line for speed; it must be the Rich Table it stands
for, character for character and style for style, at every width and for any text."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console

from rnnloss_cli.render.summary import MIN_FLEXIBLE, SummaryTable, rich_table

WORDS = st.sampled_from(
    [
        "Speech",
        "recognition,",
        '"HELLO"',
        "(the",
        "lecture's",
        "example)",
        "x" * 35,
        "naïve",
        "日本語の問題",
        "Σ",
        "a",
        "",
        "tab\there",  # control characters: drawn by the Rich Table itself
        "new\nline",
    ]
)
TEXT = st.lists(WORDS, min_size=1, max_size=9).map(" ".join)
FILES = st.sampled_from(
    [
        "-",
        "p.yaml",
        "problems/hello.yaml",
        "/work/main/problems/translation_sequence.yaml",
        "answers/" + "y" * 50 + ".yml",
        "題/問題.yaml",
    ]
)
ROW = st.fixed_dictionaries(
    {
        "file": FILES,
        "title": TEXT,
        "loss": st.sampled_from(["ctc", "hinge", "reinforce", "—"]),
        "answer": st.sampled_from(["1.5", "0.466667", "—", "123456.789", "inf"]),
        "expected": st.sampled_from(["—", "0.4667", "1e-09"]),
        "check": st.sampled_from(["✓", "✗", "", "error"]),
    }
)


def _drawn(renderable, width: int) -> list[tuple[str, str | None]]:
    """Every character the console would write, with its style."""
    console = Console(width=width, force_terminal=True, color_system="truecolor", highlight=False)
    out = []
    for segment in console.render(renderable, console.options):
        style = str(segment.style) if segment.style else None
        out.extend((ch, style) for ch in segment.text)
    return out


def _plain(renderable, width: int) -> str:
    console = Console(width=width, color_system=None, highlight=False)
    with console.capture() as capture:
        console.print(renderable)
    return capture.get()


@settings(max_examples=300, deadline=None)
@given(rows=st.lists(ROW, min_size=1, max_size=6), width=st.integers(30, 140))
def test_the_fast_table_is_the_rich_table(rows, width):
    assert _plain(SummaryTable(rows, width), width) == _plain(rich_table(rows, width), width)
    assert _drawn(SummaryTable(rows, width), width) == _drawn(rich_table(rows, width), width)


def test_every_line_fits_the_width():
    rows = [
        {
            "file": "f" * 70,
            "title": "t " * 60,
            "loss": "reinforce",
            "answer": "123456.789",
            "expected": "1e-09",
            "check": "error",
        }
    ] * 3
    for width in (40, 60, 80, 120):
        text = _plain(SummaryTable(rows, width), width)
        assert max(len(line) for line in text.splitlines()) <= width


def test_the_fast_drawing_is_used_at_usual_widths():
    # Not the fallback: at 60 and 80 columns the table is drawn by SummaryTable itself.
    rows = [
        {
            "file": "problems/hello.yaml",
            "title": "Speech recognition",
            "loss": "ctc",
            "answer": "3.67294",
            "expected": "3.673",
            "check": "✓",
        }
    ]
    for width in (60, 80):
        widths = SummaryTable(rows, width)._widths(width)
        assert widths is not None and min(widths[:1]) >= MIN_FLEXIBLE
