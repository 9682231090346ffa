"""Test helpers for enrollment: parties, requests, CSRs, a client with bearer tokens."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from falcon import testing

from core.clock import Clock
from core.signing import sign_data
from enrollment.admin import Administration
from enrollment.settings import EnrollmentSettings
from tests.config.openapi_check import check_response

# Officers' passwords in tests (policy: 8+, lower, upper, digit, not the username).
PASSWORD = "Haslo-Testowe-2026"
PESEL = "44051401359"
PESEL_2 = "02211307589"
ID_CARD = "ABS123456"
ID_CARD_2 = "ABA300000"
PASSPORT = "CC7999486"
PIN = "Tajny-PIN-4321"

# Every value a test hands to the system that must never appear in a log line or audit detail.
SENSITIVE: set[str] = {PASSWORD, PESEL, PESEL_2, ID_CARD, ID_CARD_2, PASSPORT, PIN}


def remember(value: str) -> str:
    SENSITIVE.add(value)
    return value


def new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def make_csr(key: Any | None = None, cn: str = "Jan Kowalski") -> tuple[str, Any]:
    key = key or new_key()
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
        .sign(key, hashes.SHA256())
    )
    return csr.public_bytes(serialization.Encoding.PEM).decode("ascii"), key


def renewal_body(serial: str, old_key: Any, new_key_: Any | None = None) -> tuple[dict[str, Any], Any]:
    pem, key = make_csr(new_key_ or new_key())
    der = x509.load_pem_x509_csr(pem.encode()).public_bytes(serialization.Encoding.DER)
    return {"serial": serial, "csr": pem, "signature": base64.b64encode(sign_data(old_key, der)).decode()}, key


def application_body(
    point_id: int,
    *,
    pesel: str | None = PESEL,
    csr: str | None = None,
    key_generation: str | None = None,
    **overrides: Any,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "given_names": "Jan Maria",
        "surname": "Kowalski",
        "email": "jan.kowalski@example.pl",
        "phone": "+48 600 100 200",
        "address": {"street": "ul. Mariacka 1", "postal_code": "40-014", "city": "Katowice"},
        "point_id": point_id,
    }
    if pesel is not None:
        body["pesel"] = pesel
    if csr is not None:
        body["key_generation"] = "csr"
        body["csr"] = csr
    else:
        body["key_generation"] = key_generation or "point"
    body.update(overrides)
    return body


@dataclass
class Parties:
    point_id: int
    other_point_id: int
    dual_point_id: int
    portal_token: str
    portal_token_other: str
    agreement_version: int
    officers: dict[str, int] = field(default_factory=dict)


def approved_grant(clock: Clock, username: str, roles: list[str]) -> int | None:
    """An approved role grant (dual control, enrollment.role_grants) when ``roles`` include an
    administrator role: proposed by one administrator, approved by another."""
    from datetime import timedelta

    from core import approvals
    from enrollment import role_grants

    wanted = role_grants.administrator_roles(roles)
    if not wanted:
        return None
    row = role_grants.propose(clock, username, wanted, actor="test:proposer", required=1, ttl=timedelta(hours=24))
    approvals.approve(clock, row.id, actor="test:approver")
    return row.id


def create_parties(settings: EnrollmentSettings, clock: Clock) -> Parties:
    admin = Administration(settings, clock)
    p1 = admin.add_point(
        name="UM Katowice",
        street="ul. Młyńska 4",
        postal_code="40-098",
        city="Katowice",
        teryt="2469011",
        dual_control=False,
        actor="test",
    )
    p2 = admin.add_point(
        name="UM Gliwice",
        street="ul. Zwycięstwa 21",
        postal_code="44-100",
        city="Gliwice",
        teryt="2466011",
        dual_control=False,
        actor="test",
    )
    p3 = admin.add_point(
        name="UM Bytom",
        street="ul. Parkowa 2",
        postal_code="41-902",
        city="Bytom",
        teryt="2462011",
        dual_control=True,
        actor="test",
    )
    portal = admin.add_portal_client(name="portal", scopes=["applications", "citizens"], actor="test")
    other = admin.add_portal_client(name="portal-2", scopes=["applications", "citizens"], actor="test")
    remember(portal.token)
    remember(other.token)
    agreement = admin.add_agreement("Umowa o świadczenie usług certyfikacyjnych, wersja testowa.", actor="test")
    parties = Parties(p1.id, p2.id, p3.id, portal.token, other.token, agreement.version)
    for username, roles, points in (
        ("officer1", ["ra_officer"], [p1.id]),
        ("officer2", ["ra_officer"], [p1.id, p3.id]),
        ("officer3", ["ra_officer"], [p3.id]),
        ("gliwice", ["ra_officer"], [p2.id]),
        ("raadmin", ["ra_admin"], [p1.id, p3.id]),
        ("caadmin", ["ca_admin"], []),
        ("auditor", ["auditor"], []),
    ):
        parties.officers[username] = admin.add_officer(
            username=username,
            password=PASSWORD,
            roles=roles,
            points=points,
            actor="test",
            approval_id=approved_grant(clock, username, roles),
        ).id
    return parties


class API:
    """A TestClient wrapper that adds bearer tokens."""

    def __init__(self, client: testing.TestClient) -> None:
        self.client = client
        self._sessions: dict[str, str] = {}

    def login(self, username: str, password: str = PASSWORD) -> str:
        if username not in self._sessions:
            r = self.call("POST", "/api/v1/sessions", json={"username": username, "password": password})
            assert r.status_code == 201, r.json
            self._sessions[username] = remember(r.json["token"])
        return self._sessions[username]

    def forget_sessions(self) -> None:
        """After moving the clock past the session lifetime."""
        self._sessions.clear()

    def as_officer(self, username: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.login(username)}"}

    @staticmethod
    def bearer(token: str, **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}", **extra}

    def call(self, method: str, path: str, headers: dict[str, str] | None = None, **kwargs: Any) -> testing.Result:
        """A request whose answer is checked against the served OpenAPI document (the contract)."""
        result = self.client.simulate_request(method, path, headers=headers or {}, **kwargs)
        check_response(method, path, result.status_code, result.headers.get("content-type"), result.content)
        return result
