"""Application data at the API: every identifier from REFERENCE.md "Polish identifiers" that
enrollment takes is accepted when valid and rejected (422, one entry per field) when not."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from core.errors import ValidationError
from enrollment.admin import Administration
from enrollment.validation import parse_application
from tests.enrollment.helpers import API, Parties, application_body, make_csr

VALID_PESEL = ["44051401359", "02211307589", "02070803628", "83071503434", "99923112316", "04422900119", "00610100006"]
INVALID_PESEL = ["44051401358", "92060512181", "02381307589", "01222912346", "00000000000", "4405140135", "4405140135X"]
VALID_ID_CARDS = ["ABA300000", "ABS123456"]
INVALID_ID_CARDS = ["ABS523456", "AB1234567", "ABS12345"]
VALID_PASSPORTS = ["CC7999486"]
INVALID_PASSPORTS = ["CC7999480", "C17999486"]


def post(api: API, parties: Parties, body: dict[str, Any]) -> Any:
    return api.call("POST", "/api/v1/applications", api.bearer(parties.portal_token), json=body)


@pytest.mark.parametrize("pesel", VALID_PESEL)
def test_valid_pesel_accepted(bare_api: API, parties: Parties, pesel: str) -> None:
    assert post(bare_api, parties, application_body(parties.point_id, pesel=pesel)).status_code == 201


@pytest.mark.parametrize("pesel", INVALID_PESEL)
def test_invalid_pesel_rejected(bare_api: API, parties: Parties, pesel: str) -> None:
    """REFERENCE.md: 11 digits → checksum → real calendar date."""
    r = post(bare_api, parties, application_body(parties.point_id, pesel=pesel))
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in r.json["errors"]] == ["pesel"]
    assert pesel not in r.text  # the message never echoes the value


@pytest.mark.parametrize(
    ("kind", "number"), [("id_card", n) for n in VALID_ID_CARDS] + [("passport", n) for n in VALID_PASSPORTS]
)
def test_valid_documents_accepted(bare_api: API, parties: Parties, kind: str, number: str) -> None:
    body = application_body(parties.point_id, pesel=None, identity_document={"type": kind, "number": number})
    assert post(bare_api, parties, body).status_code == 201


@pytest.mark.parametrize(
    ("kind", "number"), [("id_card", n) for n in INVALID_ID_CARDS] + [("passport", n) for n in INVALID_PASSPORTS]
)
def test_invalid_documents_rejected(bare_api: API, parties: Parties, kind: str, number: str) -> None:
    body = application_body(parties.point_id, pesel=None, identity_document={"type": kind, "number": number})
    r = post(bare_api, parties, body)
    assert r.status_code == 422
    assert [e["field"] for e in r.json["errors"]] == ["identity_document.number"]


@pytest.mark.parametrize(
    ("kind", "number", "ok"),
    [("id_card", n, True) for n in VALID_ID_CARDS]
    + [("id_card", n, False) for n in INVALID_ID_CARDS]
    + [("passport", n, True) for n in VALID_PASSPORTS]
    + [("passport", n, False) for n in INVALID_PASSPORTS],
)
def test_documents_at_the_identity_check(bare_api: API, parties: Parties, kind: str, number: str, ok: bool) -> None:
    reference = post(bare_api, parties, application_body(parties.point_id)).json["reference"]
    r = bare_api.call(
        "POST",
        f"/api/v1/officer/applications/{reference}/identity-check",
        bare_api.as_officer("officer1"),
        json={
            "document_type": kind,
            "document_number": number,
            "document_expiry": "2031-05-05",
            "data_match": True,
            "agreement_version": parties.agreement_version,
        },
    )
    assert r.status_code == (201 if ok else 422), r.json
    if not ok:
        assert [e["field"] for e in r.json["errors"]] == ["document_number"]


@pytest.mark.parametrize(
    ("postal", "ok"),
    [("40-014", True), ("00-950", True), ("40014", False), ("40-01", False), ("4O-014", False), ("40–014", False)],
)
def test_postal_code(bare_api: API, parties: Parties, postal: str, ok: bool) -> None:
    body = application_body(
        parties.point_id, address={"street": "ul. Mariacka 1", "postal_code": postal, "city": "Katowice"}
    )
    r = post(bare_api, parties, body)
    assert r.status_code == (201 if ok else 422)
    if not ok:
        assert [e["field"] for e in r.json["errors"]] == ["address.postal_code"]


@pytest.mark.parametrize(
    ("teryt", "ok"), [("3201011", True), ("2469011", True), ("3201016", False), ("3301011", False), ("320101", False)]
)
def test_teryt_of_a_point(db, clock, settings, teryt: str, ok: bool) -> None:
    admin = Administration(settings.enrollment, clock)
    if ok:
        assert (
            admin.add_point(
                name="P", street="S 1", postal_code="40-014", city="C", teryt=teryt, dual_control=False, actor="test"
            ).teryt
            == teryt
        )
    else:
        with pytest.raises(ValidationError) as info:
            admin.add_point(
                name="P", street="S 1", postal_code="40-014", city="C", teryt=teryt, dual_control=False, actor="test"
            )
        assert [e.field for e in info.value.errors] == ["teryt"]


def test_one_entry_per_invalid_field(bare_api: API, parties: Parties) -> None:
    body = {
        "given_names": "J4n",
        "surname": "",
        "pesel": "44051401358",
        "email": "not-an-email",
        "phone": "12",
        "address": {"street": "", "postal_code": "40014", "city": "Katowice"},
        "point_id": "one",
        "key_generation": "csr",
        "csr": "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n",
    }
    r = post(bare_api, parties, body)
    assert r.status_code == 422
    fields = [e["field"] for e in r.json["errors"]]
    assert sorted(fields) == sorted(
        [
            "given_names",
            "surname",
            "pesel",
            "email",
            "phone",
            "address.street",
            "address.postal_code",
            "point_id",
            "csr",
        ]
    )
    assert all(e["message"] for e in r.json["errors"])


def test_unknown_point_and_bad_bodies(bare_api: API, parties: Parties) -> None:
    r = post(bare_api, parties, application_body(9999))
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "point_id"
    r = bare_api.call(
        "POST",
        "/api/v1/applications",
        bare_api.bearer(parties.portal_token, **{"Content-Type": "application/json"}),
        body="{not json",
    )
    assert r.status_code == 400
    r = bare_api.call("POST", "/api/v1/applications", bare_api.bearer(parties.portal_token), json=[1, 2])
    assert r.status_code == 422


def test_csr_proof_of_possession_and_key_policy(bare_api: API, parties: Parties) -> None:
    from cryptography.hazmat.primitives.asymmetric import rsa

    weak, _ = make_csr(rsa.generate_private_key(public_exponent=65537, key_size=1024))
    r = post(bare_api, parties, application_body(parties.point_id, csr=weak))
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "csr"
    good, _ = make_csr()
    # Corrupt the signature: the request no longer proves possession of the key.
    import base64

    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding

    der = bytearray(x509.load_pem_x509_csr(good.encode()).public_bytes(Encoding.DER))
    der[-3] ^= 0x01
    tampered = (
        "-----BEGIN CERTIFICATE REQUEST-----\n"
        + base64.encodebytes(bytes(der)).decode()
        + "-----END CERTIFICATE REQUEST-----\n"
    )
    r = post(bare_api, parties, application_body(parties.point_id, csr=tampered))
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "csr"
    assert post(bare_api, parties, application_body(parties.point_id, csr=good)).status_code == 201


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=6),
    max_leaves=20,
)


@hsettings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.dictionaries(
        st.sampled_from(
            [
                "given_names",
                "surname",
                "pesel",
                "identity_document",
                "email",
                "phone",
                "address",
                "point_id",
                "key_generation",
                "csr",
            ]
        ),
        _json,
    )
    | _json
)
def test_parser_never_fails_unexpectedly(body: Any) -> None:
    """Any JSON either parses or raises ValidationError naming fields (never another exception)."""
    try:
        parse_application(body)
    except ValidationError as exc:
        assert exc.errors and all(isinstance(e.field, str) for e in exc.errors)
