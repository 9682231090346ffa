"""Reusable steps: an issued certificate through the API."""

from __future__ import annotations

from typing import Any

from tests.enrollment.helpers import API, ID_CARD, PIN, Parties, application_body, make_csr, remember


def issued_certificate(
    api: API,
    parties: Parties,
    *,
    csr: bool = True,
    pesel: str | None = None,
    point: str = "point",
    officer: str = "officer1",
) -> tuple[dict[str, Any], Any]:
    """Submit, check and issue; return (issue result, private key or None)."""
    key = None
    kwargs: dict[str, Any] = {}
    if pesel is not None:
        kwargs["pesel"] = pesel
    if csr:
        pem, key = make_csr()
        body = application_body(parties.point_id, csr=pem, **kwargs)
    else:
        body = application_body(parties.point_id, **kwargs)
    r = api.call("POST", "/api/v1/applications", api.bearer(parties.portal_token), json=body)
    assert r.status_code == 201, r.json
    reference = r.json["reference"]
    r = api.call(
        "POST",
        f"/api/v1/officer/applications/{reference}/identity-check",
        api.as_officer(officer),
        json={
            "document_type": "id_card",
            "document_number": ID_CARD,
            "document_expiry": "2030-01-01",
            "data_match": True,
            "agreement_version": parties.agreement_version,
        },
    )
    assert r.status_code == 201, r.json
    r = api.call(
        "POST",
        f"/api/v1/officer/applications/{reference}/issue",
        api.as_officer(officer),
        json={} if csr else {"pin": PIN},
    )
    assert r.status_code == 201, r.json
    remember(r.json["revocation_code"])
    return r.json, key
