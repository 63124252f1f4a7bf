"""Test settings: in CI, Hypothesis draws the same examples every run (derandomize), so a
red CI is a regression rather than a newly found example; locally it explores at random."""

import os
from pathlib import Path

import pytest
from hypothesis import settings

settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


GOLDEN = Path(__file__).resolve().parent / "golden"


@pytest.fixture
def golden():
    """Compare text with tests/golden/NAME; RNNLOSS_UPDATE_GOLDEN=1 rewrites the file."""

    def compare(name: str, text: str) -> None:
        path = GOLDEN / name
        if os.environ.get("RNNLOSS_UPDATE_GOLDEN") == "1":
            path.write_text(text, encoding="utf-8")
        assert path.exists(), f"no golden file {name}: run with RNNLOSS_UPDATE_GOLDEN=1"
        assert text == path.read_text(encoding="utf-8")

    return compare
