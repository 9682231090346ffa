"""POST /api/v1/applications refuses weak keys with a 422 naming the reason, and audits the
refusal (issue 15 items 2 and 8; CA/B BR §6.1.1.3)."""

from __future__ import annotations

import pytest

from ca import keyquality
from core.audit import AuditRecord
from enrollment.models import Application
from tests.enrollment.helpers import API, Parties, application_body, make_csr
from tests.weakkeys import fermat_key, roca_key


@pytest.mark.parametrize("kind", ["roca", "fermat"])
def test_weak_key_application_gets_422_naming_the_reason(bare_api: API, parties: Parties, kind: str) -> None:
    key = roca_key() if kind == "roca" else fermat_key()
    pem, _ = make_csr(key)
    r = bare_api.call(
        "POST",
        "/api/v1/applications",
        bare_api.bearer(parties.portal_token),
        json=application_body(parties.point_id, csr=pem),
    )
    assert r.status_code == 422, r.json
    errors = [e for e in r.json["errors"] if e["field"] == "csr"]
    assert errors and errors[0]["code"] == "weak_key" and f"({kind})" in errors[0]["message"]
    assert Application.select().count() == 0
    row = AuditRecord.get(AuditRecord.action == "ca.request.refused")
    assert row.outcome == "refused" and row.details["source"] == "application"
    assert row.object_id == keyquality.spki_sha256(key.public_key())


def test_sound_key_application_is_accepted(bare_api: API, parties: Parties) -> None:
    pem, _ = make_csr()
    r = bare_api.call(
        "POST",
        "/api/v1/applications",
        bare_api.bearer(parties.portal_token),
        json=application_body(parties.point_id, csr=pem),
    )
    assert r.status_code == 201, r.json
    assert not AuditRecord.select().where(AuditRecord.action == "ca.request.refused").exists()
