"""The narrow read access enrollment needs to CA state: certificates by serial, the chain."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from ca.hierarchy import authority, load_certificate
from ca.models import Authority, Certificate
from core.clock import Clock


@dataclass(frozen=True)
class CertificateState:
    status: str  # valid | suspended | revoked | expired | not_yet_valid | unknown
    not_before: datetime | None
    not_after: datetime | None
    revoked_at: datetime | None
    reason: str | None


def ca_row(issuer: str, serial: str) -> Certificate | None:
    row: Certificate | None = (
        Certificate.select(Certificate)
        .join(Authority)
        .where((Authority.name == issuer) & (Certificate.serial == serial))
        .first()
    )
    return row


def certificate_state(issuer: str, serial: str, clock: Clock) -> CertificateState:
    row = ca_row(issuer, serial)
    if row is None or row.state != "issued":
        return CertificateState("unknown", None, None, None, None)
    now = clock.now()
    if row.revocation_reason == "certificateHold":
        status = "suspended"
    elif row.revocation_reason is not None:
        status = "revoked"
    elif now >= row.not_after:
        status = "expired"
    elif now < row.not_before:
        status = "not_yet_valid"
    else:
        status = "valid"
    return CertificateState(status, row.not_before, row.not_after, row.revoked_at, row.revocation_reason)


def certificate_of(issuer: str, serial: str) -> x509.Certificate | None:
    row = ca_row(issuer, serial)
    if row is None or row.der is None:
        return None
    return x509.load_der_x509_certificate(bytes(row.der))


def chain_for(issuer: str) -> list[x509.Certificate]:
    """The issuing CA and its parents up to the root (issuing CA first)."""
    chain = []
    row: Authority | None = authority(issuer)
    while row is not None:
        chain.append(load_certificate(row))
        parent_id = getattr(row, "parent_id", None)
        row = row.parent if parent_id and parent_id != row.id else None
    return chain


def pem(certs: list[x509.Certificate]) -> str:
    return "".join(c.public_bytes(Encoding.PEM).decode("ascii") for c in certs)
