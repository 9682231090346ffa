"""Access as its own package: a verifier-only or OCSP-only process loads no enrollment code,
existing databases keep their officer and portal-client tables, and principals get their
certification points only from the lookup enrollment hands over."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import peewee as pw
import pytest

from access.clients import add_portal_client
from access.models import PortalClient
from access.officers import OfficerLogin, Officers
from access.principals import principal_for_token
from access.settings import AccessSettings
from config.migrations import all_migrations
from core.migrations import SchemaMigration, upgrade

ROOT = Path(__file__).resolve().parents[2]
CHEAP = AccessSettings(password_hash_time_cost=1, password_hash_memory_kib=1024)

# config validates every settings section at start-up, the enrollment section included: that
# dataclass module (and the package's empty __init__) is all of enrollment a process may load.
SETTINGS_ONLY = {"enrollment", "enrollment.settings"}

_PROBE = textwrap.dedent(
    """
    import json, sys
    from falcon import testing
    from config.app import create_app
    from config.settings import load_settings

    settings = load_settings(env={"SEKAP_TRUST__DATABASE__URL": sys.argv[1], "SEKAP_TRUST__KEYSTORE__PIN_FILE": ""})
    client = testing.TestClient(create_app(settings, [sys.argv[2]]))
    statuses = [
        client.simulate_get("/healthz").status_code,
        client.simulate_post("/api/v1/verifications", headers={"Authorization": "Bearer stp_unknown"}).status_code,
    ]
    loaded = sorted(m for m in sys.modules if m.split(".")[0] == "enrollment")
    print(json.dumps({"statuses": statuses, "modules": loaded}))
    """
)


def probe(db_url: str, service: str) -> subprocess.CompletedProcess[str]:
    """A fresh interpreter that builds an app mounting only ``service`` and calls it."""
    command = [sys.executable, "-c", _PROBE, db_url, service]
    return subprocess.run(command, check=False, cwd=ROOT, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("service", ["verifier", "ocsp"])
def test_a_single_service_process_loads_no_enrollment_code(service: str, db: pw.Database, db_url: str) -> None:
    done = probe(db_url, service)
    assert done.returncode == 0, done.stderr
    report: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    # The authentication middleware (access) ran and refused the unknown token.
    assert report["statuses"] == [200, 401]
    assert set(report["modules"]) <= SETTINGS_ONLY, report["modules"]


def test_the_probe_would_see_enrollment(db: pw.Database, db_url: str) -> None:
    """The same probe with enrollment mounted lists its modules (so the test above can fail)."""
    done = probe(db_url, "enrollment")
    assert done.returncode == 0, done.stderr
    modules = json.loads(done.stdout.strip().splitlines()[-1])["modules"]
    assert "enrollment.resources" in modules and "enrollment.auth" in modules


def test_existing_database_keeps_its_tables(db: pw.Database, clock: Any) -> None:
    """A database made before access was split off has the tables from enrollment's step 1 and no
    access step: upgrading adopts them, rows intact."""
    client = add_portal_client(clock, name="portal", scopes=["verify"], actor="test")
    SchemaMigration.delete().where(SchemaMigration.package == "access").execute()
    ran = upgrade(all_migrations())
    assert [(m.package, m.version) for m in ran] == [("access", 1)]
    assert PortalClient.get_by_id(client.id).name == "portal"
    assert {"enrollment_officer", "enrollment_officer_session", "enrollment_portal_client"} <= set(db.get_tables())


def test_principals_get_points_only_from_the_lookup(db: pw.Database, clock: Any) -> None:
    officers = Officers(CHEAP, clock)
    assert officers.check_new("anna", "Haslo-Mocne-1", ["ra_officer"]) == []
    officers.create("anna", officers.hash_password("Haslo-Mocne-1"), ["ra_officer"])
    without = OfficerLogin(CHEAP, clock).login("anna", "Haslo-Mocne-1")
    assert without.points == ()
    principal = principal_for_token(without.token, clock)
    assert principal is not None and principal.points == frozenset() and principal.roles == {"ra_officer"}
    with_points = OfficerLogin(CHEAP, clock, lambda officer_id: frozenset({7, 3})).login("anna", "Haslo-Mocne-1")
    assert with_points.points == (3, 7)
    looked_up = principal_for_token(with_points.token, clock, lambda officer_id: frozenset({7}))
    assert looked_up is not None and looked_up.points == {7}
    portal = add_portal_client(clock, name="p", scopes=["verify", "receipts"], actor="test")
    as_portal = principal_for_token(portal.token, clock)
    assert as_portal is not None and as_portal.kind == "portal" and as_portal.scopes == {"verify", "receipts"}
    assert principal_for_token("stp_forged", clock) is None
