"""The layering of docs/overview.md holds: each package imports only the layers below it, no module
imports inside a function (to dodge a cycle), and ``import aidledger`` loads every module once.

    domain  <-  application  <-  projections, audit, interchange, site  <-  cli
                     ^
                  storage (handed in by bootstrap, the one place that wires the layers)
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections import Counter
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "aidledger"

BASE = {"errors", "canonical", "merkle"}
"""Modules of no layer: anything may use them, and they use nothing of aidledger's."""

ALLOWED: dict[str, set[str]] = {
    "errors": set(),
    "canonical": set(),
    "merkle": set(),
    "domain": BASE,
    "application": BASE | {"domain"},
    "storage": BASE | {"application"},
    "projections": BASE | {"domain", "application"},
    "audit": BASE | {"domain", "application", "projections"},
    "interchange": BASE | {"domain", "application", "projections"},
    "site": BASE | {"domain", "application", "projections", "audit"},
    "bootstrap": BASE | {"application", "projections", "storage"},
    "demo": BASE | {"domain"},
    "cli": BASE
    | {"aidledger", "bootstrap", "domain", "application", "projections", "audit", "interchange", "site", "demo"},
    "testing": BASE | {"aidledger", "bootstrap", "domain", "application", "projections", "interchange"},
    "__init__": BASE | {"bootstrap", "domain", "application"},
    "__main__": {"cli"},
}
"""What each layer (a package, or a top-level module) may import from aidledger."""


def layer_of(path: Path) -> str:
    relative = path.relative_to(PACKAGE)
    return relative.parts[0] if len(relative.parts) > 1 else relative.stem


def imported_layers(node: ast.AST) -> list[str]:
    """The aidledger layers an import statement names (``from aidledger import x`` names ``x``)."""
    if isinstance(node, ast.ImportFrom) and node.module is not None and node.level == 0:
        parts = node.module.split(".")
        if parts[0] != "aidledger":
            return []
        if len(parts) > 1:
            return [parts[1]]
        return [alias.name for alias in node.names]
    if isinstance(node, ast.Import):
        return [
            alias.name.split(".")[1] if "." in alias.name else "aidledger"
            for alias in node.names
            if alias.name.split(".")[0] == "aidledger"
        ]
    return []


def modules() -> list[Path]:
    found = sorted(PACKAGE.rglob("*.py"))
    assert len(found) > 40
    return found


def test_every_layer_imports_only_the_layers_below_it() -> None:
    wrong = []
    for path in modules():
        layer = layer_of(path)
        assert layer in ALLOWED, f"{path}: a new layer {layer!r}; add it to ALLOWED and to docs/overview.md"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            for target in imported_layers(node):
                if target != layer and target not in ALLOWED[layer]:
                    wrong.append(f"{path.relative_to(PACKAGE)}:{getattr(node, 'lineno', 0)} ({layer}) imports {target}")
    assert not wrong, "\n".join(wrong)


def test_no_module_imports_inside_a_function() -> None:
    inner = []
    for path in modules():
        for function in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                inner += [
                    f"{path.relative_to(PACKAGE)}:{node.lineno}"
                    for node in ast.walk(function)
                    if isinstance(node, ast.Import | ast.ImportFrom)
                ]
    assert not inner, inner


def test_import_aidledger_loads_each_of_its_modules_once() -> None:
    """``python -X importtime`` lists a module again when an import of it was under way while its
    package's ``__init__`` loaded it: the sign of a layer importing a package from inside."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import aidledger"],
        capture_output=True,
        text=True,
        check=True,
    )
    names = [line.rsplit("|", 1)[-1].strip() for line in result.stderr.splitlines() if "|" in line]
    ours = Counter(name for name in names if name.split(".")[0] == "aidledger")
    assert len(ours) > 20, sorted(ours)
    assert [name for name, count in ours.items() if count > 1] == []
