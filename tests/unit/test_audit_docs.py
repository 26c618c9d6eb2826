"""The code shown in docs/audit.md runs, and the names it lists are those aidledger.audit exports."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from aidledger import audit

DOC = Path(__file__).resolve().parents[2] / "docs" / "audit.md"


def test_the_python_examples_of_the_audit_guide_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every ```python block of docs/audit.md executes, in order and in one namespace (its asserts included)."""
    monkeypatch.chdir(tmp_path)
    blocks = re.findall(r"^```python\n(.*?)^```", DOC.read_text(encoding="utf-8"), flags=re.MULTILINE | re.DOTALL)
    assert len(blocks) >= 2, "docs/audit.md shows no Python, or lost its forged-projections example"
    namespace: dict[str, object] = {"__name__": "docs_audit"}
    for number, block in enumerate(blocks, start=1):
        exec(compile(block, f"{DOC.name}[block {number}]", "exec"), namespace)


def test_the_audit_guide_lists_exactly_the_names_aidledger_audit_exports() -> None:
    """The closing list of docs/audit.md names every public name of aidledger.audit, and no other."""
    text = DOC.read_text(encoding="utf-8")
    listed = text[text.index("The names exported by `aidledger.audit`:") :]
    names = set(re.findall(r"`([A-Za-z_]+)`", listed))
    assert names == set(audit.__all__)
