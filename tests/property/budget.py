"""How many examples each property test runs under the loaded profile (``ci`` or ``deep``).

A profile's ``max_examples`` is the budget of a cheap test; a costlier test names its own budget
for each profile here, so that ``ci`` stays within a few minutes and ``deep`` within about twenty.
"""

from __future__ import annotations

import os

__all__ = ["PROFILE", "examples"]

PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")
"""The profile ``tests/property/conftest.py`` loaded."""


def examples(*, ci: int, deep: int) -> int:
    """The number of examples for the loaded profile (``deep`` for ``deep``, else ``ci``)."""
    return deep if PROFILE == "deep" else ci
