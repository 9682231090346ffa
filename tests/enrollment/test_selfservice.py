"""Citizen self-service: portal (scope citizens) and revocation code; officers; lockout; holds."""

from __future__ import annotations

import base64
import math
from datetime import datetime, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from ca.revocation import RevocationService
from core.audit import AuditRecord
from core.signing import sign_data
from enrollment.models import OutgoingEmail
from enrollment.requests import compromise_statement
from enrollment.secrets_util import new_revocation_code, normalise_code
from tests.enrollment.flows import issued_certificate
from tests.enrollment.helpers import API, PESEL, PESEL_2, Parties


def citizen(api: API, parties: Parties, pesel: str = PESEL) -> dict[str, str]:
    return api.bearer(parties.portal_token, **{"X-Citizen-Pesel": pesel})


def proof(serial: str, key: Any, at: datetime) -> dict[str, str]:
    """The fields that claim keyCompromise: a signature by the certificate's key (RFC 8555 §7.6)."""
    signature = sign_data(key, compromise_statement(serial, at))
    return {"proof": base64.b64encode(signature).decode(), "proof_time": at.isoformat()}


def test_portal_suspend_resume_revoke(api: API, parties: Parties, clock: Any) -> None:
    result, key = issued_certificate(api, parties)
    serial = result["serial"]
    base = f"/api/v1/citizen/certificates/{serial}"
    listed = api.call("GET", "/api/v1/citizen/certificates", citizen(api, parties))
    assert [c["serial"] for c in listed.json["certificates"]] == [serial]
    assert api.call("GET", base, citizen(api, parties)).json["status"] == "valid"
    r = api.call("POST", f"{base}/suspend", citizen(api, parties))
    assert r.status_code == 200 and r.json["status"] == "suspended"
    assert api.call("POST", f"{base}/suspend", citizen(api, parties)).status_code == 409
    # Issue 15: the portal resumes only with the certificate's revocation code.
    code = {"revocation_code": result["revocation_code"]}
    r = api.call("POST", f"{base}/resume", citizen(api, parties), json=code)
    assert r.status_code == 200 and r.json["status"] == "valid"
    bad_reason = api.call("POST", f"{base}/revoke", citizen(api, parties), json={"reason": "cACompromise"})
    assert bad_reason.status_code == 422
    claim = {"reason": "keyCompromise", **proof(serial, key, clock.now())}
    r = api.call("POST", f"{base}/revoke", citizen(api, parties), json=claim)
    assert r.status_code == 200 and r.json["status"] == "revoked" and r.json["revocation_reason"] == "keyCompromise"
    assert api.call("POST", f"{base}/resume", citizen(api, parties), json=code).status_code == 409
    kinds = [m.kind for m in OutgoingEmail.select().order_by(OutgoingEmail.id)]
    assert kinds[-3:] == ["certificate_suspended", "certificate_resumed", "certificate_revoked"]


def test_nobody_acts_on_another_citizens_certificate(api: API, parties: Parties) -> None:
    result, _ = issued_certificate(api, parties)
    base = f"/api/v1/citizen/certificates/{result['serial']}"
    assert api.call("GET", base, citizen(api, parties, PESEL_2)).status_code == 404
    assert api.call("POST", f"{base}/suspend", citizen(api, parties, PESEL_2)).status_code == 404
    assert api.call("POST", f"{base}/revoke", citizen(api, parties, PESEL_2), json={}).status_code == 404
    assert api.call("GET", "/api/v1/citizen/certificates", citizen(api, parties, PESEL_2)).json["certificates"] == []
    # Without naming the citizen, nothing happens.
    assert api.call("POST", f"{base}/suspend", api.bearer(parties.portal_token)).status_code == 422
    invalid = api.call("GET", base, api.bearer(parties.portal_token, **{"X-Citizen-Pesel": "44051401358"}))
    assert invalid.status_code == 422
    # Officers of other points do not see it; a ca_admin does.
    assert (
        api.call(
            "POST", f"/api/v1/officer/certificates/{result['serial']}/suspend", api.as_officer("gliwice")
        ).status_code
        == 404
    )
    r = api.call("POST", f"/api/v1/officer/certificates/{result['serial']}/suspend", api.as_officer("caadmin"))
    assert r.status_code == 200 and r.json["status"] == "suspended"
    r = api.call("POST", f"/api/v1/officer/certificates/{result['serial']}/resume", api.as_officer("officer1"))
    assert r.status_code == 200 and r.json["status"] == "valid"
    r = api.call(
        "POST",
        f"/api/v1/officer/certificates/{result['serial']}/revoke",
        api.as_officer("officer1"),
        json={"reason": "privilegeWithdrawn"},
    )
    assert r.status_code == 200 and r.json["revocation_reason"] == "privilegeWithdrawn"


def test_code_suspend_and_revoke_without_portal(api: API, parties: Parties, clock: Any) -> None:
    result, key = issued_certificate(api, parties)
    serial, code = result["serial"], result["revocation_code"]
    r = api.call("POST", "/api/v1/self-service/status", json={"serial": serial, "code": code})
    assert r.status_code == 200 and r.json["status"] == "valid"
    # Codes are typed by people: case, spaces and hyphens do not matter.
    loose = code.replace("-", " ").lower()
    r = api.call("POST", "/api/v1/self-service/suspend", json={"serial": serial, "code": loose})
    assert r.status_code == 200 and r.json["status"] == "suspended"
    # Issue 15: the code resumes (it is what the portal now needs as well).
    r = api.call("POST", "/api/v1/self-service/resume", json={"serial": serial, "code": code})
    assert r.status_code == 200 and r.json["status"] == "valid"
    r = api.call(
        "POST",
        "/api/v1/self-service/revoke",
        json={"serial": serial, "code": code, "reason": "keyCompromise", **proof(serial, key, clock.now())},
    )
    assert r.status_code == 200 and r.json["status"] == "revoked" and r.json["revocation_reason"] == "keyCompromise"


def test_wrong_codes_are_throttled_after_five_in_fifteen_minutes(api: API, parties: Parties, clock) -> None:
    result, _ = issued_certificate(api, parties)
    serial = result["serial"]
    wrong = {"serial": serial, "code": "AAAAA-BBBBB-CCCCC-DDDDD"}
    for _ in range(5):
        assert api.call("POST", "/api/v1/self-service/suspend", json=wrong).status_code == 403
    locked = api.call("POST", "/api/v1/self-service/suspend", json=wrong)
    assert locked.status_code == 429
    assert 1 <= int(locked.headers["retry-after"]) <= 15 * 60 + 1
    assert locked.headers["content-type"] == "application/problem+json"
    clock.advance(minutes=15, seconds=1)
    assert api.call("POST", "/api/v1/self-service/suspend", json=wrong).status_code == 403


def test_a_strangers_wrong_codes_never_block_the_right_one(api: API, parties: Parties, clock: Any) -> None:
    """Issue 14: five wrong codes for someone else's serial used to refuse the correct code for
    15 minutes; an emergency revocation must go through at once."""
    result, key = issued_certificate(api, parties)
    serial, code = result["serial"], result["revocation_code"]
    for _ in range(6):
        api.call("POST", "/api/v1/self-service/status", json={"serial": serial, "code": "AAAAA-BBBBB-CCCCC-DDDDD"})
    r = api.call(
        "POST",
        "/api/v1/self-service/revoke",
        json={"serial": serial, "code": code, "reason": "keyCompromise", **proof(serial, key, clock.now())},
    )
    assert r.status_code == 200 and r.json["status"] == "revoked"


def test_revocation_codes_carry_at_least_100_bits() -> None:
    """20 characters of a 32-symbol alphabet: 5 bits each; every code differs."""
    codes = {new_revocation_code() for _ in range(200)}
    assert len(codes) == 200
    for code in codes:
        symbols = normalise_code(code)
        assert len(symbols) * math.log2(32) >= 100
        assert set(symbols) <= set("ABCDEFGHJKLMNPQRSTUVWXYZ23456789")


def test_unknown_serial_is_a_wrong_code(api: API, parties: Parties) -> None:
    r = api.call("POST", "/api/v1/self-service/status", json={"serial": "0A1B2C", "code": "AAAAA-BBBBB-CCCCC-DDDDD"})
    assert r.status_code == 403
    r = api.call("POST", "/api/v1/self-service/status", json={"serial": "not hex", "code": "x"})
    assert r.status_code == 422


def test_hold_limit_turns_suspension_into_revocation(api: API, parties: Parties, settings, clock) -> None:
    """Polish CA practice (REFERENCE.md): at most 7 days on hold, then revoked at the suspension time."""
    result, _ = issued_certificate(api, parties)
    serial, code = result["serial"], result["revocation_code"]
    suspended_at = clock.now()
    assert api.call("POST", "/api/v1/self-service/suspend", json={"serial": serial, "code": code}).status_code == 200
    clock.advance(days=settings.ca.max_hold_days - 1)
    assert RevocationService(settings.ca, clock).expire_holds() == 0
    clock.advance(days=1, seconds=1)
    assert RevocationService(settings.ca, clock).expire_holds() == 1
    r = api.call("POST", "/api/v1/self-service/status", json={"serial": serial, "code": code})
    assert r.json["status"] == "revoked"
    assert r.json["revoked_at"] == suspended_at.isoformat()


@pytest.mark.parametrize("action", ["suspend", "revoke"])
def test_expired_certificate_cannot_be_changed(api: API, parties: Parties, clock, action: str) -> None:
    result, _ = issued_certificate(api, parties)
    clock.advance(days=3 * 365)
    r = api.call(
        "POST", f"/api/v1/self-service/{action}", json={"serial": result["serial"], "code": result["revocation_code"]}
    )
    assert r.status_code == 409


def test_tracking_code_lockout(api: API, parties: Parties, clock) -> None:
    r = api.call(
        "POST",
        "/api/v1/applications",
        api.bearer(parties.portal_token),
        json=__import__("tests.enrollment.helpers", fromlist=["x"]).application_body(parties.point_id),
    )
    reference, code = r.json["reference"], r.json["tracking_code"]
    url = f"/api/v1/applications/{reference}/status"
    for _ in range(5):
        assert api.call("GET", url, {"X-Tracking-Code": "1234567890"}).status_code == 404
    locked = api.call("GET", url, {"X-Tracking-Code": code})
    assert locked.status_code == 429 and int(locked.headers["retry-after"]) > 0
    clock.advance(minutes=16)
    assert api.call("GET", url, {"X-Tracking-Code": code}).status_code == 200


def test_officer_search_is_audited_without_the_pesel(api: API, parties: Parties) -> None:
    from core.audit import AuditRecord

    issued_certificate(api, parties)
    api.call("POST", "/api/v1/officer/applications/search", api.as_officer("officer1"), json={"pesel": PESEL})
    row = AuditRecord.select().where(AuditRecord.action == "enrollment.application.search").get()
    assert row.details["by"] == "pesel" and len(row.details["results"]) == 1
    assert PESEL not in str(row.details)


def test_key_compromise_needs_a_signature_by_the_certificates_key(api: API, parties: Parties, clock: Any) -> None:
    """Issue 15 / RFC 8555 §7.6: the revocation code alone no longer claims keyCompromise
    (RFC 5280 §5.3.1), which tells relying parties to distrust signatures back to the invalidity date."""
    result, key = issued_certificate(api, parties)
    serial, code = result["serial"], result["revocation_code"]
    url = "/api/v1/self-service/revoke"
    body = {"serial": serial, "revocation_code": code, "reason": "keyCompromise"}
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    refusals = [
        ({}, "proof"),
        ({"proof": "not base64!"}, "proof"),
        ({**proof(serial, key, clock.now()), "proof_time": None}, "proof_time"),
        (proof(serial, key, clock.now() - timedelta(minutes=6)), "proof_time"),  # stale: no replay later
        (proof(serial, stranger, clock.now()), "proof"),  # another key
        (proof("0A1B2C", key, clock.now()), "proof"),  # another serial's statement
        ({**proof(serial, key, clock.now()), "proof_time": (clock.now() + timedelta(seconds=1)).isoformat()}, "proof"),
    ]
    for extra, field in refusals:
        r = api.call("POST", url, json={**body, **extra})
        assert r.status_code == 422, (extra, r.json)
        assert r.headers["content-type"] == "application/problem+json"
        assert field in str(r.json), r.json
    refused = AuditRecord.select().where(AuditRecord.action == "enrollment.certificate.revoke.refused")
    assert refused.count() == 6  # the malformed proof fails as a bad field, before the key is tried
    assert all(PESEL not in str(row.details) and code not in str(row.details) for row in refused)
    assert api.call("POST", "/api/v1/self-service/status", json=body).json["status"] == "valid"
    # Other reasons keep working with the code alone; an officer may still say keyCompromise.
    other, _ = issued_certificate(api, parties)
    r = api.call(
        "POST",
        url,
        json={"serial": other["serial"], "revocation_code": other["revocation_code"], "reason": "superseded"},
    )
    assert r.status_code == 200 and r.json["revocation_reason"] == "superseded"
    r = api.call(
        "POST",
        f"/api/v1/officer/certificates/{serial}/revoke",
        api.as_officer("officer1"),
        json={"reason": "keyCompromise"},
    )
    assert r.status_code == 200 and r.json["revocation_reason"] == "keyCompromise"
    # A proof used once cannot be used again: the certificate is revoked (409).
    r = api.call("POST", url, json={**body, **proof(serial, key, clock.now())})
    assert r.status_code == 409


def test_portal_alone_cannot_resume(api: API, parties: Parties) -> None:
    """Issue 15: a portal token plus X-Citizen-Pesel no longer lifts a suspension; the
    revocation code (or an officer) must."""
    result, _ = issued_certificate(api, parties)
    serial, code = result["serial"], result["revocation_code"]
    base = f"/api/v1/citizen/certificates/{serial}"
    assert api.call("POST", f"{base}/suspend", citizen(api, parties)).status_code == 200
    r = api.call("POST", f"{base}/resume", citizen(api, parties))
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    assert "revocation_code" in str(r.json)
    r = api.call("POST", f"{base}/resume", citizen(api, parties), json={"revocation_code": "AAAAA-BBBBB-CCCCC-DDDDD"})
    assert r.status_code == 403
    assert api.call("POST", "/api/v1/self-service/status", json={"serial": serial, "code": code}).json["status"] == (
        "suspended"
    )
    refused = AuditRecord.select().where(AuditRecord.action == "enrollment.certificate.resume.refused").get()
    assert refused.outcome == "failure" and PESEL not in str(refused.details)
    r = api.call("POST", f"{base}/resume", citizen(api, parties), json={"revocation_code": code})
    assert r.status_code == 200 and r.json["status"] == "valid"
