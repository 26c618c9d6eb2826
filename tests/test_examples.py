"""Every script in examples/ runs: its main() returns 0."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest

EXAMPLES = sorted((Path(__file__).resolve().parent.parent / "examples").glob("*.py"))


def test_there_are_examples() -> None:
    """The examples folder has scripts (so the test below cannot pass vacuously)."""
    assert EXAMPLES


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_main_returns_zero(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The example's main() runs to the end with its default arguments."""
    monkeypatch.chdir(tmp_path)
    module = runpy.run_path(str(path), run_name="example")
    assert module["main"]([]) == 0
