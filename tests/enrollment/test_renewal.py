"""Renewal without a visit: CSR for a new key + signature over it by the current key."""

from __future__ import annotations

import base64
from datetime import timedelta

from cryptography import x509

from enrollment.models import CitizenCertificate
from tests.enrollment.flows import issued_certificate
from tests.enrollment.helpers import API, Parties, make_csr, new_key, renewal_body


def _to_window(clock, result: dict, days_before: int = 20) -> None:
    not_after = x509.load_pem_x509_certificate(result["certificate"].encode()).not_valid_after_utc
    clock.set(not_after - timedelta(days=days_before))


def test_renewal_follows_the_old_certificate(api: API, parties: Parties, clock) -> None:
    result, old_key = issued_certificate(api, parties)
    early, _ = renewal_body(result["serial"], old_key)
    r = api.call("POST", "/api/v1/renewals", json=early)
    assert r.status_code == 409 and "opens" in r.json["detail"]
    _to_window(clock, result)
    body, new = renewal_body(result["serial"], old_key)
    r = api.call("POST", "/api/v1/renewals", json=body)
    assert r.status_code == 201, r.json
    renewed = x509.load_pem_x509_certificate(r.json["certificate"].encode())
    old = x509.load_pem_x509_certificate(result["certificate"].encode())
    assert renewed.public_key() == new.public_key()
    # Certum practice (REFERENCE.md): the new validity starts when the old one ends.
    assert renewed.not_valid_before_utc == old.not_valid_after_utc
    assert renewed.subject == old.subject
    row = CitizenCertificate.get(CitizenCertificate.serial == r.json["serial"])
    assert row.remote_renewals == 1 and row.renewed_from.serial == result["serial"]
    # Not twice from the same certificate.
    again, _ = renewal_body(result["serial"], old_key)
    assert api.call("POST", "/api/v1/renewals", json=again).status_code == 409


def test_remote_renewal_limit_requires_a_visit(api: API, parties: Parties, clock) -> None:
    result, old_key = issued_certificate(api, parties)
    _to_window(clock, result)
    body, new = renewal_body(result["serial"], old_key)
    first = api.call("POST", "/api/v1/renewals", json=body).json
    # Into the second certificate's renewal window: the default limit (1) is reached.
    _to_window(clock, first)
    body2, _ = renewal_body(first["serial"], new)
    r = api.call("POST", "/api/v1/renewals", json=body2)
    assert r.status_code == 409 and "in-person" in r.json["detail"]


def test_renewal_needs_the_old_key_and_a_new_key(api: API, parties: Parties, clock) -> None:
    result, old_key = issued_certificate(api, parties)
    _to_window(clock, result)
    forged, _ = renewal_body(result["serial"], new_key())
    r = api.call("POST", "/api/v1/renewals", json=forged)
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "signature"
    same_key, _ = renewal_body(result["serial"], old_key, new_key_=old_key)
    r = api.call("POST", "/api/v1/renewals", json=same_key)
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "csr"
    pem, _ = make_csr()
    r = api.call("POST", "/api/v1/renewals", json={"serial": result["serial"], "csr": pem, "signature": "!!"})
    assert r.status_code == 422
    r = api.call(
        "POST", "/api/v1/renewals", json={"serial": "ABCD", "csr": pem, "signature": base64.b64encode(b"x").decode()}
    )
    assert r.status_code == 404


def test_suspended_certificate_cannot_be_renewed(api: API, parties: Parties, clock) -> None:
    result, old_key = issued_certificate(api, parties)
    _to_window(clock, result)
    assert (
        api.call(
            "POST", "/api/v1/self-service/suspend", json={"serial": result["serial"], "code": result["revocation_code"]}
        ).status_code
        == 200
    )
    body, _ = renewal_body(result["serial"], old_key)
    r = api.call("POST", "/api/v1/renewals", json=body)
    assert r.status_code == 409 and "suspended" in r.json["detail"]


def test_renewal_limit_is_configurable(api: API, parties: Parties, clock, settings, db, key_store) -> None:
    from dataclasses import replace

    from ca.api import LocalCertificateAuthority
    from enrollment.renewal import Renewals
    from enrollment.requests import RenewalRequest

    result, old_key = issued_certificate(api, parties)
    _to_window(clock, result)
    none_allowed = Renewals(
        replace(settings.enrollment, max_remote_renewals=0),
        LocalCertificateAuthority(settings.ca, lambda: key_store, clock),
        clock,
    )
    body, _ = renewal_body(result["serial"], old_key)
    import pytest

    from enrollment.errors import RenewalRefusedError

    with pytest.raises(RenewalRefusedError):
        none_allowed.renew(RenewalRequest.from_json(body), actor="test")
