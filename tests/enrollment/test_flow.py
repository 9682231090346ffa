"""The CC SEKAP flow end to end through the REST API: portal application → in-person check →
issuance (CSR and key generated at the point) → PKCS#12 once → self-service → renewal."""

from __future__ import annotations

from datetime import timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import pkcs12

from ca.models import Certificate
from enrollment.models import Application, IdentityCheck, OutgoingEmail, PKCS12Pickup
from tests.enrollment.helpers import API, ID_CARD, PESEL, PIN, Parties, application_body, make_csr, remember


def submit(api: API, parties: Parties, body: dict, key: str | None = None, token: str | None = None) -> dict:
    headers = api.bearer(token or parties.portal_token)
    if key:
        headers["Idempotency-Key"] = key
    r = api.call("POST", "/api/v1/applications", headers, json=body)
    assert r.status_code in (200, 201), r.json
    return r.json


def check_identity(api: API, parties: Parties, reference: str, officer: str = "officer1", **overrides: object) -> dict:
    body = {
        "document_type": "id_card",
        "document_number": ID_CARD,
        "document_expiry": "2030-01-01",
        "data_match": True,
        "agreement_version": parties.agreement_version,
        **overrides,
    }
    r = api.call("POST", f"/api/v1/officer/applications/{reference}/identity-check", api.as_officer(officer), json=body)
    assert r.status_code == 201, r.json
    return r.json


def issue(api: API, reference: str, officer: str = "officer1", pin: str | None = None) -> dict:
    r = api.call(
        "POST",
        f"/api/v1/officer/applications/{reference}/issue",
        api.as_officer(officer),
        json={"pin": pin} if pin else {},
    )
    assert r.status_code == 201, r.json
    remember(r.json["revocation_code"])
    return r.json


def test_csr_application_to_certificate(api: API, parties: Parties, clock) -> None:
    csr, key = make_csr()
    created = submit(api, parties, application_body(parties.point_id, csr=csr))
    reference = created["reference"]
    assert created["state"] == "submitted"
    # Status: portal by reference, citizen by tracking code.
    r = api.call("GET", f"/api/v1/applications/{reference}", api.bearer(parties.portal_token))
    assert r.status_code == 200 and r.json["state"] == "submitted"
    assert "pesel" not in r.json
    r = api.call("GET", f"/api/v1/applications/{reference}/status", {"X-Tracking-Code": created["tracking_code"]})
    assert r.status_code == 200 and r.json["state"] == "submitted"
    assert (
        api.call("GET", f"/api/v1/applications/{reference}/status", {"X-Tracking-Code": "0000000000"}).status_code
        == 404
    )
    # Another portal cannot read it.
    assert (
        api.call("GET", f"/api/v1/applications/{reference}", api.bearer(parties.portal_token_other)).status_code == 404
    )

    found = api.call("POST", "/api/v1/officer/applications/search", api.as_officer("officer1"), json={"pesel": PESEL})
    assert found.status_code == 200
    assert [a["reference"] for a in found.json["applications"]] == [reference]
    # An officer of another point does not see it.
    other = api.call("POST", "/api/v1/officer/applications/search", api.as_officer("gliwice"), json={"pesel": PESEL})
    assert other.json["applications"] == []
    assert api.call("GET", f"/api/v1/officer/applications/{reference}", api.as_officer("gliwice")).status_code == 404

    check_identity(api, parties, reference)
    result = issue(api, reference)
    cert = x509.load_pem_x509_certificate(result["certificate"].encode())
    assert cert.public_key() == key.public_key()
    assert f"PNOPL-{PESEL}" in cert.subject.rfc4514_string()
    assert result["pkcs12_url"] is None
    chain = x509.load_pem_x509_certificates(result["chain"].encode())
    assert cert.issuer == chain[0].subject and chain[-1].subject == chain[-1].issuer
    # Stored in the CA with the application reference; recorded as evidence.
    app = Application.get(Application.reference == reference)
    assert app.state == "issued"
    assert Certificate.get(Certificate.serial == result["serial"]).subject_ref == f"application:{app.id}"
    evidence = IdentityCheck.get(IdentityCheck.application == app.id)
    assert evidence.document_number == ID_CARD and evidence.agreement.version == parties.agreement_version
    assert evidence.retain_until.year == clock.now().year + 20
    # The revocation code is stored only as an argon2 hash.
    from enrollment.models import CitizenCertificate

    stored = CitizenCertificate.get(CitizenCertificate.serial == result["serial"])
    assert stored.revocation_code_hash.startswith("$argon2id$")
    assert result["revocation_code"] not in stored.revocation_code_hash
    kinds = [m.kind for m in OutgoingEmail.select().order_by(OutgoingEmail.id)]
    assert kinds == ["application_received", "certificate_issued"]
    # Issuing twice is refused.
    again = api.call("POST", f"/api/v1/officer/applications/{reference}/issue", api.as_officer("officer1"), json={})
    assert again.status_code == 409
    # Every step above is in one intact audit chain.
    from core.audit import AuditRecord, verify_chain

    assert verify_chain().ok
    actions = {r.action for r in AuditRecord.select()}
    assert {
        "enrollment.application.submit",
        "enrollment.identity_check",
        "enrollment.issue",
        "enrollment.login",
    } <= actions


def test_key_generated_at_point_pkcs12_once(api: API, parties: Parties) -> None:
    reference = submit(api, parties, application_body(parties.point_id))["reference"]
    check_identity(api, parties, reference)
    no_pin = api.call("POST", f"/api/v1/officer/applications/{reference}/issue", api.as_officer("officer1"), json={})
    assert no_pin.status_code == 422 and no_pin.json["errors"][0]["field"] == "pin"
    result = issue(api, reference, pin=PIN)
    assert result["pkcs12_url"].endswith("/pkcs12")
    # Only the issuing officer, exactly once.
    assert api.call("GET", result["pkcs12_url"], api.as_officer("officer2")).status_code == 403
    r = api.call("GET", result["pkcs12_url"], api.as_officer("officer1"))
    assert r.status_code == 200 and r.headers["content-type"] == "application/x-pkcs12"
    assert "no-store" in r.headers["cache-control"]
    key, cert, chain = pkcs12.load_key_and_certificates(r.content, PIN.encode())
    assert cert is not None and key is not None
    assert cert.public_key() == key.public_key()
    assert format(cert.serial_number, "X").zfill(len(result["serial"])) == result["serial"]
    assert len(chain) == 2  # issuing CA and root
    with pytest.raises(ValueError):
        pkcs12.load_key_and_certificates(r.content, b"wrong-pin")
    assert api.call("GET", result["pkcs12_url"], api.as_officer("officer1")).status_code == 404
    assert PKCS12Pickup.select().count() == 0


def test_pkcs12_uses_pbes2_aes256_and_sha256_mac(api: API, parties: Parties) -> None:
    """The container is PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC) with an HMAC-SHA256 MAC (RFC 8018, RFC 7292)."""
    from asn1crypto import cms
    from asn1crypto import pkcs12 as a_pkcs12

    reference = submit(api, parties, application_body(parties.point_id))["reference"]
    check_identity(api, parties, reference)
    result = issue(api, reference, pin=PIN)
    data = api.call("GET", result["pkcs12_url"], api.as_officer("officer1")).content
    pfx = a_pkcs12.Pfx.load(data)
    assert pfx["mac_data"]["mac"]["digest_algorithm"]["algorithm"].native == "sha256"
    algorithms = set()
    for content_info in pfx.authenticated_safe:
        if content_info["content_type"].native == "encrypted_data":
            algo = content_info["content"]["encrypted_content_info"]["content_encryption_algorithm"]
            algorithms.add((algo["algorithm"].native, algo["parameters"]["encryption_scheme"]["algorithm"].native))
        else:
            for bag in a_pkcs12.SafeContents.load(content_info["content"].native):
                if bag["bag_id"].native == "pkcs8_shrouded_key_bag":
                    algo = bag["bag_value"]["encryption_algorithm"]
                    algorithms.add(
                        (algo["algorithm"].native, algo["parameters"]["encryption_scheme"]["algorithm"].native)
                    )
    assert algorithms and all(a == ("pbes2", "aes256_cbc") for a in algorithms), algorithms
    assert cms  # imported for the content types


def test_idempotency_key(api: API, parties: Parties) -> None:
    body = application_body(parties.point_id)
    first = api.call(
        "POST", "/api/v1/applications", api.bearer(parties.portal_token, **{"Idempotency-Key": "k-1"}), json=body
    )
    second = api.call(
        "POST", "/api/v1/applications", api.bearer(parties.portal_token, **{"Idempotency-Key": "k-1"}), json=body
    )
    assert first.status_code == 201 and second.status_code == 200
    assert first.json == second.json
    changed = dict(body, surname="Nowak")
    conflict = api.call(
        "POST", "/api/v1/applications", api.bearer(parties.portal_token, **{"Idempotency-Key": "k-1"}), json=changed
    )
    assert conflict.status_code == 409
    assert conflict.headers["content-type"] == "application/problem+json"
    # The same key from another portal client is a different request.
    other = api.call(
        "POST", "/api/v1/applications", api.bearer(parties.portal_token_other, **{"Idempotency-Key": "k-1"}), json=body
    )
    assert other.status_code == 201 and other.json["reference"] != first.json["reference"]
    assert Application.select().count() == 2


def test_dual_control(api: API, parties: Parties) -> None:
    reference = submit(api, parties, application_body(parties.dual_point_id))["reference"]
    check_identity(api, parties, reference, officer="officer2")
    early = api.call(
        "POST", f"/api/v1/officer/applications/{reference}/issue", api.as_officer("officer2"), json={"pin": PIN}
    )
    assert early.status_code == 409
    same = api.call("POST", f"/api/v1/officer/applications/{reference}/approval", api.as_officer("officer2"))
    assert same.status_code == 403
    ok = api.call("POST", f"/api/v1/officer/applications/{reference}/approval", api.as_officer("officer3"))
    assert ok.status_code == 201
    issue(api, reference, officer="officer2", pin=PIN)
    # Dual control is refused at a point that does not use it.
    plain = submit(api, parties, application_body(parties.point_id))["reference"]
    check_identity(api, parties, plain)
    assert (
        api.call("POST", f"/api/v1/officer/applications/{plain}/approval", api.as_officer("officer2")).status_code
        == 409
    )


def test_identity_check_rules(api: API, parties: Parties, clock) -> None:
    reference = submit(api, parties, application_body(parties.point_id))["reference"]
    url = f"/api/v1/officer/applications/{reference}/identity-check"
    bad = api.call(
        "POST",
        url,
        api.as_officer("officer1"),
        json={
            "document_type": "id_card",
            "document_number": "ABS523456",
            "document_expiry": "2020-01-01",
            "data_match": False,
            "agreement_version": 99,
        },
    )
    assert bad.status_code == 422
    fields = {e["field"] for e in bad.json["errors"]}
    assert fields == {"document_number", "document_expiry", "data_match", "agreement_version"}
    passport = api.call(
        "POST",
        url,
        api.as_officer("officer1"),
        json={
            "document_type": "passport",
            "document_number": "CC7999480",
            "document_expiry": "2030-01-01",
            "data_match": True,
            "agreement_version": parties.agreement_version,
        },
    )
    assert passport.status_code == 422 and passport.json["errors"][0]["field"] == "document_number"
    # An officer of another point cannot record it; an auditor may not either.
    assert api.call("POST", url, api.as_officer("gliwice"), json={}).status_code == 404
    assert api.call("POST", url, api.as_officer("auditor"), json={}).status_code == 403
    # After the TTL the application has expired.
    clock.advance(days=15)
    api.forget_sessions()
    late = api.call(
        "POST",
        url,
        api.as_officer("officer1"),
        json={
            "document_type": "passport",
            "document_number": "CC7999486",
            "document_expiry": "2030-01-01",
            "data_match": True,
            "agreement_version": parties.agreement_version,
        },
    )
    assert late.status_code == 409


def test_document_identity_without_pesel(api: API, parties: Parties) -> None:
    body = application_body(parties.point_id, pesel=None, identity_document={"type": "passport", "number": "CC7999486"})
    reference = submit(api, parties, body)["reference"]
    mismatch = api.call(
        "POST",
        f"/api/v1/officer/applications/{reference}/identity-check",
        api.as_officer("officer1"),
        json={
            "document_type": "id_card",
            "document_number": ID_CARD,
            "document_expiry": "2030-01-01",
            "data_match": True,
            "agreement_version": parties.agreement_version,
        },
    )
    assert mismatch.status_code == 422
    check_identity(
        api, parties, reference, document_type="passport", document_number="CC7999486", birth_date="1980-05-14"
    )
    result = issue(api, reference, pin=PIN)
    cert = x509.load_pem_x509_certificate(result["certificate"].encode())
    assert "PASPL-CC7999486" in cert.subject.rfc4514_string()
    found = api.call(
        "POST", "/api/v1/officer/applications/search", api.as_officer("officer1"), json={"document_number": "CC7999486"}
    )
    assert [a["reference"] for a in found.json["applications"]] == [reference]


def test_evidence_for_auditor(api: API, parties: Parties) -> None:
    reference = submit(api, parties, application_body(parties.point_id))["reference"]
    check_identity(api, parties, reference)
    r = api.call("GET", f"/api/v1/officer/applications/{reference}/evidence", api.as_officer("auditor"))
    assert r.status_code == 200
    (item,) = r.json["identity_checks"]
    assert item["document_type"] == "id_card" and item["agreement_version"] == parties.agreement_version
    assert item["officer_id"] == parties.officers["officer1"] and item["point_id"] == parties.point_id


def test_issue_failure_leaves_application_retryable(api: API, parties: Parties, monkeypatch) -> None:
    import ca.issuance

    reference = submit(api, parties, application_body(parties.point_id))["reference"]
    check_identity(api, parties, reference)

    def broken(self, request, *, actor):
        raise RuntimeError("HSM went away")

    monkeypatch.setattr(ca.issuance.IssuancePipeline, "issue", broken)
    r = api.call(
        "POST", f"/api/v1/officer/applications/{reference}/issue", api.as_officer("officer1"), json={"pin": PIN}
    )
    assert r.status_code == 500
    assert Application.get(Application.reference == reference).state == "verified"
    monkeypatch.undo()
    issue(api, reference, pin=PIN)


def test_failure_after_signing_revokes_the_unusable_certificate(api: API, parties: Parties, monkeypatch) -> None:
    import enrollment.handover

    reference = submit(api, parties, application_body(parties.point_id))["reference"]
    check_identity(api, parties, reference)

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(enrollment.handover, "build_pkcs12", broken)
    r = api.call(
        "POST", f"/api/v1/officer/applications/{reference}/issue", api.as_officer("officer1"), json={"pin": PIN}
    )
    assert r.status_code == 500
    app = Application.get(Application.reference == reference)
    (orphan,) = Certificate.select().where(Certificate.subject_ref == f"application:{app.id}")
    assert orphan.revocation_reason == "superseded"  # its key is gone: never left valid
    monkeypatch.undo()
    result = issue(api, reference, pin=PIN)
    assert result["serial"] != orphan.serial


def test_stale_issuing_state_can_be_retried(api: API, parties: Parties, clock, settings, key_store) -> None:
    """A crash between the CA signing and enrollment recording: after a while the officer retries;
    the certificate signed before the crash is revoked (superseded), a new one is issued."""
    from ca.issuance import IssuancePipeline, IssueRequest, SubjectIdentity
    from tests.enrollment.helpers import new_key

    reference = submit(api, parties, application_body(parties.point_id))["reference"]
    check_identity(api, parties, reference)
    app = Application.get(Application.reference == reference)
    crashed = IssuancePipeline(settings.ca, key_store, clock).issue(
        IssueRequest(
            profile="citizen",
            subject=SubjectIdentity("Jan Maria", "Kowalski", pesel=PESEL),
            public_key=new_key().public_key(),
            subject_ref=f"application:{app.id}",
        ),
        actor="test",
    )
    Application.update(state="issuing", issuing_started_at=clock.now()).where(Application.id == app.id).execute()
    busy = api.call(
        "POST", f"/api/v1/officer/applications/{reference}/issue", api.as_officer("officer1"), json={"pin": PIN}
    )
    assert busy.status_code == 409
    clock.advance(timedelta(minutes=11))
    api.forget_sessions()
    result = issue(api, reference, pin=PIN)
    assert Certificate.get(Certificate.serial == crashed.serial).revocation_reason == "superseded"
    assert Certificate.get(Certificate.serial == result["serial"]).revocation_reason is None


def test_handover_is_recorded_once_by_the_officer_who_downloaded(api: API, parties: Parties, settings, clock) -> None:  # type: ignore[no-untyped-def]
    """Issue 14: after the one-time PKCS#12 download the officer records that it is on the
    citizen's pendrive; the record is an audit event, once, by the downloading officer only."""
    from access.principals import principal_for_token
    from core.audit import AuditRecord, verify_chain
    from enrollment.auth import officer_points
    from enrollment.errors import ApplicationStateError, NotPermittedError
    from enrollment.handover import HandOver
    from tests.enrollment.test_jobs import _ca

    def principal(username: str):  # type: ignore[no-untyped-def]
        found = principal_for_token(api.login(username), clock, officer_points)
        assert found is not None
        return found

    reference = submit(api, parties, application_body(parties.point_id))["reference"]
    check_identity(api, parties, reference)
    result = issue(api, reference, pin=PIN)
    desk = HandOver(settings.enrollment, _ca(settings, clock), clock)
    app = Application.get(Application.reference == reference)
    assert desk.handover_state(app) == "waiting"
    with pytest.raises(ApplicationStateError):  # nothing downloaded yet
        desk.record_handover(reference, principal("officer1"))
    assert api.call("GET", result["pkcs12_url"], api.as_officer("officer1")).status_code == 200
    assert desk.handover_state(app) == "to_confirm"
    with pytest.raises(NotPermittedError):  # the same point, but not the officer who saved the file
        desk.record_handover(reference, principal("officer2"))
    desk.record_handover(reference, principal("officer1"))
    assert desk.handover_state(app) == "recorded"
    with pytest.raises(ApplicationStateError):
        desk.record_handover(reference, principal("officer1"))
    (record,) = AuditRecord.select().where(AuditRecord.action == "enrollment.handover")
    assert record.object_id == str(app.id) and record.actor == principal("officer1").actor
    assert record.details == {"reference": reference, "medium": "citizen_usb_drive"}
    assert verify_chain().ok
