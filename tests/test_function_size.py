"""Small rooms (issue 12): no function longer than about 60 lines in the packages below the
services' edges. Long functions hid defects before (ca.issuance._issue took any failed insert for
a serial collision); split them into named steps instead of raising the limit."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("access", "ca", "config", "core", "enrollment", "hsm", "ocsp", "tsa")
LIMIT = 60
# verifier/ is split separately and is not checked here yet; enrollment/openapi.py (one long
# literal of schemas) is being reworked for the OpenAPI contract on another branch.
EXEMPT = {"enrollment/openapi.py"}


def _long_functions() -> list[str]:
    found = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if relative in EXEMPT:
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    lines = (node.end_lineno or node.lineno) - node.lineno + 1
                    if lines > LIMIT:
                        found.append(f"{relative}:{node.lineno} {node.name} ({lines} lines)")
    return found


def test_no_function_is_longer_than_the_limit() -> None:
    assert _long_functions() == []
