"""Package boundaries (DESIGN.md "Dependencies point one way"): only ``ca`` touches the CA's
tables, enrollment reaches the CA only through its port (``ca.api``), nothing imports config, and
the pages (``web``, an edge) read no package's tables directly."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Every package but ca.
OUTSIDE_CA = ("core", "hsm", "access", "ocsp", "tsa", "enrollment", "verifier", "config", "receipts", "epackage")


def imports(package: str, root: Path = ROOT) -> Iterator[tuple[Path, int, str]]:
    """(file, line, imported module) for every import in ``package``, lazy ones included."""
    for path in sorted((root / package).rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    yield path, node.lineno, alias.name
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                yield path, node.lineno, node.module
                for alias in node.names:
                    yield path, node.lineno, f"{node.module}.{alias.name}"


def offending(packages: tuple[str, ...], forbidden: tuple[str, ...], root: Path = ROOT) -> list[str]:
    return [
        f"{path.relative_to(root)}:{line} imports {module}"
        for package in packages
        for path, line, module in imports(package, root)
        if any(module == f or module.startswith(f + ".") for f in forbidden)
    ]


@pytest.mark.parametrize("package", OUTSIDE_CA)
def test_only_ca_imports_ca_models(package: str) -> None:
    assert offending((package,), ("ca.models",)) == []


def test_enrollment_reaches_the_ca_only_through_its_port() -> None:
    """No CA settings, pipeline, revocation service or CA tables in enrollment: ``ca.api`` only."""
    found = [hit for hit in offending(("enrollment",), ("ca",)) if not hit.split(" imports ")[1].startswith("ca.api")]
    assert found == []


@pytest.mark.parametrize(
    "package", ("core", "hsm", "ca", "ocsp", "tsa", "access", "enrollment", "verifier", "receipts", "epackage")
)
def test_no_service_package_imports_config(package: str) -> None:
    assert offending((package,), ("config",)) == []


def models_imports(package: str, root: Path = ROOT) -> list[str]:
    """Imports of any ``*.models`` module (``enrollment.models``, ``from ca import models``...)."""
    return [
        f"{path.relative_to(root)}:{line} imports {module}"
        for path, line, module in imports(package, root)
        if "models" in module.split(".")[1:]
    ]


def test_web_imports_no_models_module() -> None:
    """The edge rule: web calls the same typed services and queries as the REST resources
    (DESIGN.md: web must not hold business rules); it never imports a package's ``models``."""
    assert models_imports("web") == []


def test_the_edge_rule_sees_every_spelling_of_a_models_import(tmp_path: Path) -> None:
    (tmp_path / "web").mkdir()
    (tmp_path / "web" / "a.py").write_text(
        "from enrollment.models import Agreement\nfrom ca import models\n"
        "def f():\n    import receipts.models as m\nfrom enrollment import modelsx, queries\n",
        encoding="utf-8",
    )
    assert models_imports("web", tmp_path) == [
        "web/a.py:1 imports enrollment.models",
        "web/a.py:1 imports enrollment.models.Agreement",
        "web/a.py:2 imports ca.models",
        "web/a.py:4 imports receipts.models",
    ]


def test_the_check_sees_lazy_and_aliased_imports(tmp_path: Path) -> None:
    """The walker finds imports inside functions and ``import ca.models as m`` (so the tests above
    can fail)."""
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "a.py").write_text("def f():\n    from ca.models import Certificate\n", encoding="utf-8")
    (tmp_path / "pkg" / "b.py").write_text("import ca.models as m\nfrom ca import api\n", encoding="utf-8")
    assert offending(("pkg",), ("ca.models",), tmp_path) == [
        "pkg/a.py:2 imports ca.models",
        "pkg/a.py:2 imports ca.models.Certificate",
        "pkg/b.py:1 imports ca.models",
    ]


@pytest.mark.parametrize("package", ("core", "hsm", "ca", "ocsp", "tsa", "verifier"))
def test_access_and_enrollment_stay_above_the_packages_below(package: str) -> None:
    """core, hsm, ca and the protocol services never import access or enrollment."""
    assert offending((package,), ("access", "enrollment")) == []


def test_access_knows_nothing_of_certificates_or_applications() -> None:
    assert offending(("access",), ("ca", "enrollment", "ocsp", "tsa", "verifier", "hsm")) == []
