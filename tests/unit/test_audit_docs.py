"""The code shown in docs/audit.md runs."""

from __future__ import annotations

import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "audit.md"


def test_the_python_examples_of_the_audit_guide_run() -> None:
    """Every ```python block of docs/audit.md executes without error (its asserts included)."""
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.DOTALL)
    assert blocks, "docs/audit.md shows no Python"
    for block in blocks:
        exec(compile(block, str(DOC), "exec"), {"__name__": "docs_audit"})
