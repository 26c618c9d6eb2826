"""The code shown in README.md and docs/*.md runs as written."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = sorted([ROOT / "README.md", *(ROOT / "docs").glob("*.md")])
BLOCK = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)


def python_blocks(path: Path) -> list[str]:
    """The ```python blocks of a Markdown file, in order."""
    return BLOCK.findall(path.read_text(encoding="utf-8"))


def test_the_readme_has_python_examples() -> None:
    """The harness finds the README's examples (so the tests below cannot pass vacuously)."""
    assert python_blocks(ROOT / "README.md")


@pytest.mark.parametrize("path", [d for d in DOCUMENTS if python_blocks(d)], ids=lambda p: p.name)
def test_document_code_runs(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every python block of the document runs, in order, in one namespace, in a fresh folder."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AIDLEDGER_DB", str(tmp_path / "aidledger.db"))
    namespace: dict[str, object] = {"__name__": f"docs_{path.stem}"}
    for number, block in enumerate(python_blocks(path), start=1):
        code = compile(block, f"{path.name}[block {number}]", "exec")
        exec(code, namespace)
    assert os.getcwd() == str(tmp_path)
