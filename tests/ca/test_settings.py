"""CA settings: profiles and CRL settings validated at start-up; TOML defaults equal the code's."""

from __future__ import annotations

import ast
from pathlib import Path

import peewee as pw
import pytest

from ca.profiles import ProfileSettings
from ca.settings import CASettings, CRLSettings
from config.settings import load_settings
from core.errors import ConfigurationError


def test_default_toml_repeats_the_built_in_profiles() -> None:
    loaded = load_settings(env={})
    assert dict(loaded.ca.profiles) == dict(CASettings().profiles)
    assert loaded.ca.crl == CRLSettings() and loaded.ca.max_hold_days == 7
    assert set(loaded.ca.profiles) >= {"citizen", "officer", "ocsp-signer", "tsa", "root-ca", "issuing-ca"}


def _toml(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "s.toml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("[ca.crl]\nnext_update_hours = 241\n", "ca.crl.next_update_hours"),  # BR §4.9.7: ≤ 10 days
        ("[ca.crl]\npublish_within_seconds = 5\n", "ca.crl.publish_within_seconds"),
        ("[ca]\nmax_hold_days = 0\n", "ca.max_hold_days"),
        ('[ca]\ndefault_profile = "nope"\n', "ca.profiles.nope"),
        (
            '[ca.profiles.citizen]\ntemplate = "natural-person"\nvalidity_days = 730\nkey_usage = ["signEverything"]\n',
            "ca.profiles.citizen.key_usage",
        ),
        (
            '[ca.profiles.ocsp-signer]\ntemplate = "ocsp-signer"\nvalidity_days = 3\nkey_usage = ["digitalSignature"]\nextended_key_usage = ["clientAuth"]\n',  # noqa: E501
            "ca.profiles.ocsp-signer.extended_key_usage",
        ),
        (
            '[ca.profiles.x]\ntemplate = "tsa"\nvalidity_days = 3\nkey_usage = ["digitalSignature"]\nextended_key_usage = ["timeStamping"]\n',  # noqa: E501
            "ca.profiles.x.extended_key_usage",
        ),
        (
            '[ca.profiles.x]\ntemplate = "natural-person"\nvalidity_days = 3\nkey_usage = ["keyCertSign"]\n',
            "ca.profiles.x.key_usage",
        ),
        (
            '[ca.profiles.x]\ntemplate = "natural-person"\nvalidity_days = 3\nkey_usage = ["digitalSignature"]\nqc = true\n',  # noqa: E501
            "ca.profiles.x.qc",
        ),
        (
            '[ca.profiles.x]\ntemplate = "natural-person"\nvalidity_days = 3\nkey_usage = ["digitalSignature"]\netsi_policy = "LCP"\n',  # noqa: E501
            "ca.profiles.x.etsi_policy",
        ),
    ],
)
def test_invalid_settings_name_the_key(tmp_path: Path, text: str, key: str) -> None:
    with pytest.raises(ConfigurationError) as err:
        load_settings(_toml(tmp_path, text), env={})
    assert err.value.key == key


def test_an_operator_can_add_a_profile(tmp_path: Path) -> None:
    loaded = load_settings(
        _toml(
            tmp_path,
            '[ca.profiles.short]\ntemplate = "natural-person"\nvalidity_days = 30\nkey_usage = ["digitalSignature"]\n',
        ),
        env={},
    )
    assert loaded.ca.profiles["short"] == ProfileSettings("natural-person", 30, ("digitalSignature",))
    assert "citizen" in loaded.ca.profiles


def test_migration_2_adds_subject_ref_to_an_old_table(tmp_path: Path) -> None:
    from ca.migrations import MIGRATIONS
    from core import db as core_db

    database = pw.SqliteDatabase(str(tmp_path / "old.db"))
    core_db.bind(database)
    database.connect()
    # The step-1 table as the foundation created it, before subject_ref existed.
    database.execute_sql("CREATE TABLE ca_authority (id INTEGER PRIMARY KEY)")
    database.execute_sql("CREATE TABLE ca_certificate (id INTEGER PRIMARY KEY, serial VARCHAR(40))")
    MIGRATIONS[1].apply(database)
    assert "subject_ref" in {c.name for c in database.get_columns("ca_certificate")}
    assert {"ca_crl", "ca_crl_counter"} <= set(database.get_tables())
    database.close()


def test_jobs_are_registered() -> None:
    from config.jobs import JOBS

    assert {"ca.crl.publish_due", "ca.holds.expire", "ca.ocsp_signers.renew"} <= set(JOBS)
    assert JOBS["ca.crl.publish_due"].interval_seconds == 15


def _imports_of(path: Path) -> set[str]:
    """Every absolute import in a module, including those deferred inside functions."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def test_ca_modules_import_each_other_without_a_circle() -> None:
    # ca.profiles used to import ca.settings inside a method while ca.settings imported
    # ca.profiles at the top: a circle hidden by a deferred import.
    root = Path(__file__).resolve().parents[2] / "ca"
    graph = {
        f"ca.{path.stem}": {m for m in _imports_of(path) if m.startswith("ca.")}
        for path in root.glob("*.py")
        if path.stem != "__init__"
    }
    assert "ca.settings" not in graph["ca.profiles"]

    def reaches(start: str, target: str, seen: set[str]) -> bool:
        for module in graph.get(start, set()) - seen:
            if module == target or reaches(module, target, seen | {module}):
                return True
        return False

    assert [module for module in graph if reaches(module, module, set())] == []
