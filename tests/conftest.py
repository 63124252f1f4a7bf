"""Test settings: in CI, Hypothesis draws the same examples every run (derandomize), so a
red CI is a regression rather than a newly found example; locally it explores at random."""

import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")
