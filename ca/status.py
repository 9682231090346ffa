"""Certificate status as relying parties see it (OCSP, CRL): the narrow read interface to CA state.

- ``issued`` and not revoked → good; revoked or on hold → revoked (hold = certificateHold).
- ``reserved`` (a crash may have happened between signing and storing) counts as issued for
  revocation: revoked when revoked, otherwise ``unknown`` — never ``good``.
- ``failed`` or no row → ``unknown`` (RFC 6960 §2.2: never ``good`` for a serial never issued).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from cryptography import x509

from ca.models import Authority, Certificate
from ca.serials import to_hex

StatusKind = Literal["good", "revoked", "unknown"]


@dataclass(frozen=True)
class CertStatus:
    kind: StatusKind
    revoked_at: datetime | None = None
    reason: x509.ReasonFlags | None = None
    invalidity_date: datetime | None = None


def reason_flag(name: str | None) -> x509.ReasonFlags | None:
    if name is None:
        return None
    return x509.ReasonFlags[_CAMEL_TO_ENUM.get(name, name)]


_CAMEL_TO_ENUM = {
    "unspecified": "unspecified",
    "keyCompromise": "key_compromise",
    "cACompromise": "ca_compromise",
    "affiliationChanged": "affiliation_changed",
    "superseded": "superseded",
    "cessationOfOperation": "cessation_of_operation",
    "certificateHold": "certificate_hold",
    "removeFromCRL": "remove_from_crl",
    "privilegeWithdrawn": "privilege_withdrawn",
    "aACompromise": "aa_compromise",
}
REASON_NAMES = tuple(_CAMEL_TO_ENUM)


def status_of_row(row: Certificate | None) -> CertStatus:
    if row is None or row.state == "failed":
        return CertStatus("unknown")
    if row.revocation_reason is not None:
        return CertStatus("revoked", row.revoked_at, reason_flag(row.revocation_reason), row.invalidity_date)
    if row.state == "reserved":
        return CertStatus("unknown")
    return CertStatus("good")


def status_of(issuer: Authority, serial: int) -> CertStatus:
    row = Certificate.get_or_none((Certificate.issuer == issuer) & (Certificate.serial == to_hex(serial)))
    return status_of_row(row)


def issuer_by_key_hash(key_hash_sha1_hex: str) -> Authority | None:
    """The CA (root or issuing) whose public-key SHA-1 matches an OCSP CertID."""
    row: Authority | None = (
        Authority.select()
        .where((Authority.key_hash_sha1 == key_hash_sha1_hex) & (Authority.role.in_(("root", "issuing"))))
        .first()
    )
    return row
