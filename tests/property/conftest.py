"""Hypothesis profiles for the property suite, chosen by ``HYPOTHESIS_PROFILE``.

- ``ci`` (the default): the whole property suite in a few minutes on two cores;
- ``deep`` (``make fuzz``): many thousands of examples, a pass of up to about 20 minutes.

``max_examples`` of a profile is the budget of a cheap test; costlier tests name their own budget
per profile with :func:`tests.property.budget.examples`. Failing examples are kept in
``.hypothesis/`` (git-ignored) and replayed first on the next run.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

_COMMON = {
    "deadline": None,  # a step writes to a real SQLite file; its time depends on the disk
    "suppress_health_check": (HealthCheck.too_slow, HealthCheck.data_too_large),
    "print_blob": True,
}

settings.register_profile("ci", max_examples=100, stateful_step_count=25, **_COMMON)  # type: ignore[arg-type]
settings.register_profile("deep", max_examples=4000, stateful_step_count=40, **_COMMON)  # type: ignore[arg-type]
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
