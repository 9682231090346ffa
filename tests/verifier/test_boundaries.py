"""DESIGN "Dependencies point one way": the verifier reads CA state only through ``ca``'s public
read interface (``ca.status``, ``ca.hierarchy``), never ``ca.models``."""

from __future__ import annotations

import ast
from pathlib import Path

import verifier

_ALLOWED_CA_MODULES = {"ca.status", "ca.hierarchy", "ca.errors", "ca.x509util", "ca.api"}


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_verifier_never_imports_ca_models() -> None:
    root = Path(verifier.__file__).parent
    offenders = {
        f"{path.name}: {name}"
        for path in root.rglob("*.py")
        for name in _imports(path)
        if name.startswith("ca.") and name not in _ALLOWED_CA_MODULES
    }
    assert not offenders, offenders


def test_verifier_functions_stay_small() -> None:
    """Issue 12 "smaller rooms": no function in verifier/ over 60 lines."""
    root = Path(verifier.__file__).parent
    long = []
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.end_lineno is not None:
                length = node.end_lineno - node.lineno + 1
                if length > 60:
                    long.append(f"{path.name}:{node.name} ({length} lines)")
    assert not long, long
