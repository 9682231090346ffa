"""Certificate status: the one place that turns a certificate row into a state, and the narrow
read interface other packages use to see CA state (OCSP, CRL, enrollment, the CLI).

One model, :class:`CertificateState`, with one rule set (:func:`condition_of`):

- no row, or a ``failed`` reservation → ``unknown`` (never signed);
- on hold (``certificateHold``) → ``on_hold``; any other reason → ``revoked`` — also for a
  ``reserved`` row, which counts as issued for revocation purposes;
- ``reserved`` and not revoked (a crash may have happened between signing and storing) →
  ``reserved``;
- ``issued``: ``expired`` from notAfter, ``not_yet_valid`` before notBefore, else ``valid``.

Relying parties (OCSP, CRLs) see the projection :class:`CertStatus` (:func:`relying_party_status`):
``valid``/``expired``/``not_yet_valid`` → good, ``on_hold``/``revoked`` → revoked (hold =
certificateHold), ``reserved``/``unknown`` → unknown (RFC 6960 §2.2: never ``good`` for a serial
never issued).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import peewee as pw
from cryptography import x509

from ca.models import Authority, Certificate
from ca.serials import to_hex

StatusKind = Literal["good", "revoked", "unknown"]
Condition = Literal["unknown", "reserved", "valid", "on_hold", "revoked", "expired", "not_yet_valid"]
HOLD = "certificateHold"


@dataclass(frozen=True)
class CertStatus:
    """What a relying party is told (OCSP CertStatus, RFC 6960 §2.2)."""

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


@dataclass(frozen=True)
class CertificateState:
    """The state of one certificate of the hierarchy at one moment (see the module docstring)."""

    issuer: str
    serial: str  # canonical upper-case hex (ca.serials.to_hex)
    condition: Condition
    not_before: datetime | None = None
    not_after: datetime | None = None
    revoked_at: datetime | None = None  # revocation or suspension time
    reason: str | None = None  # RFC 5280 §5.3.1 name; "certificateHold" while on hold
    invalidity_date: datetime | None = None
    subject_ref: str | None = None

    @property
    def relying_party(self) -> CertStatus:
        return _project(self.condition, self.revoked_at, self.reason, self.invalidity_date)

    @property
    def revocable(self) -> bool:
        """Signed (or possibly signed) and not finally revoked: it may still be revoked."""
        return self.condition in ("reserved", "valid", "on_hold", "not_yet_valid", "expired")


def condition_of(
    state: str | None, reason: str | None, not_before: Any, not_after: Any, now: datetime | None
) -> Condition:
    """The one rule set. ``now`` None skips the validity-period check (relying parties: an
    expired certificate keeps its revocation status, RFC 6960 §2.2 "good")."""
    if state is None or state == "failed":
        return "unknown"
    if reason == HOLD:
        return "on_hold"
    if reason is not None:
        return "revoked"
    if state == "reserved":
        return "reserved"
    if now is not None:
        if now >= not_after:
            return "expired"
        if now < not_before:
            return "not_yet_valid"
    return "valid"


_UNKNOWN = CertStatus("unknown")
_GOOD = CertStatus("good")


def _project(
    condition: Condition, revoked_at: datetime | None, reason: str | None, invalidity_date: datetime | None
) -> CertStatus:
    if condition in ("unknown", "reserved"):
        return _UNKNOWN
    if condition in ("on_hold", "revoked"):
        return CertStatus("revoked", revoked_at, reason_flag(reason), invalidity_date)
    return _GOOD


def relying_party_status(
    state: str | None, reason: str | None, revoked_at: datetime | None, invalidity_date: datetime | None
) -> CertStatus:
    """:class:`CertStatus` from the stored status columns (the OCSP hot path uses this)."""
    return _project(condition_of(state, reason, None, None, None), revoked_at, reason, invalidity_date)


def state_of_row(row: Certificate, now: datetime) -> CertificateState:
    return CertificateState(
        issuer=row.issuer.name,
        serial=row.serial,
        condition=condition_of(row.state, row.revocation_reason, row.not_before, row.not_after, now),
        not_before=row.not_before,
        not_after=row.not_after,
        revoked_at=row.revoked_at,
        reason=row.revocation_reason,
        invalidity_date=row.invalidity_date,
        subject_ref=row.subject_ref,
    )


def certificate_state(issuer: str, serial: str, now: datetime) -> CertificateState:
    """The state of ``issuer``'s certificate ``serial`` (canonical hex); ``unknown`` without a row."""
    row = _row(issuer, serial)
    if row is None:
        return CertificateState(issuer, serial, "unknown")
    return state_of_row(row, now)


def certificate_der(issuer: str, serial: str) -> bytes | None:
    """The stored certificate (None for an unknown serial or a reservation never stored)."""
    row = _row(issuer, serial)
    return bytes(row.der) if row is not None and row.der is not None else None


def states_of_subject(subject_ref: str, now: datetime) -> list[CertificateState]:
    """Every certificate signed (or reserved) for ``subject_ref``, oldest first."""
    rows = (
        Certificate.select(Certificate, Authority)
        .join(Authority)
        .where(Certificate.subject_ref == subject_ref)
        .order_by(Certificate.id)
    )
    return [state_of_row(r, now) for r in rows]


def _row(issuer: str, serial: str) -> Certificate | None:
    row: Certificate | None = (
        Certificate.select(Certificate, Authority)
        .join(Authority)
        .where((Authority.name == issuer) & (Certificate.serial == serial))
        .first()
    )
    return row


def status_of_row(row: Certificate | None) -> CertStatus:
    if row is None:
        return _UNKNOWN
    return relying_party_status(row.state, row.revocation_reason, row.revoked_at, row.invalidity_date)


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


@dataclass(frozen=True)
class CertificateRecord:
    """A certificate as administrators see it: its state plus what the CA stored about it."""

    state: CertificateState
    stored: str  # reserved | issued | failed
    profile: str
    subject: str
    fingerprint_sha256: str | None
    der: bytes | None

    @property
    def label(self) -> str:
        """``valid | suspended | revoked | expired | not_yet_valid | reserved | failed``."""
        if self.stored == "failed":
            return "failed"
        return "suspended" if self.state.condition == "on_hold" else self.state.condition


RECORD_FILTERS = ("valid", "revoked", "suspended", "reserved", "failed")


def _record(row: Certificate, now: datetime) -> CertificateRecord:
    return CertificateRecord(
        state_of_row(row, now),
        row.state,
        row.profile,
        row.subject,
        row.fingerprint_sha256,
        bytes(row.der) if row.der is not None else None,
    )


def certificate_record(issuer: str, serial: str, now: datetime) -> CertificateRecord | None:
    row = _row(issuer, serial)
    return _record(row, now) if row is not None else None


def certificate_records(
    issuer: str, now: datetime, *, only: str | None = None, limit: int = 50
) -> list[CertificateRecord]:
    """``issuer``'s certificates, newest first; ``only`` one of :data:`RECORD_FILTERS` (``valid``:
    issued and neither revoked nor on hold, whatever the validity period)."""
    query = Certificate.select(Certificate, Authority).join(Authority).where(Authority.name == issuer)
    if only == "valid":
        query = query.where((Certificate.state == "issued") & Certificate.revocation_reason.is_null())
    elif only == "revoked":
        query = query.where(Certificate.revocation_reason.is_null(False) & (Certificate.revocation_reason != HOLD))
    elif only == "suspended":
        query = query.where(Certificate.revocation_reason == HOLD)
    elif only in ("reserved", "failed"):
        query = query.where(Certificate.state == only)
    return [_record(r, now) for r in query.order_by(Certificate.id.desc()).limit(max(1, limit))]


# -- status columns for packages that keep data per certificate (OCSP's pre-signed responses) ----


@dataclass(frozen=True)
class CertificateColumns:
    """The certificate columns other packages may read or compare in their own queries, by name.

    Only read access: every change goes through :mod:`ca.api`."""

    id: pw.Field
    issuer: pw.Field
    serial: pw.Field
    state: pw.Field
    not_after: pw.Field
    revocation_reason: pw.Field
    revoked_at: pw.Field
    invalidity_date: pw.Field
    status_changed_at: pw.Field
    issued_at: pw.Field


COLUMNS = CertificateColumns(
    id=Certificate.id,
    issuer=Certificate.issuer,
    serial=Certificate.serial,
    state=Certificate.state,
    not_after=Certificate.not_after,
    revocation_reason=Certificate.revocation_reason,
    revoked_at=Certificate.revoked_at,
    invalidity_date=Certificate.invalidity_date,
    status_changed_at=Certificate.status_changed_at,
    issued_at=Certificate.issued_at,
)

# The status columns, in the order ocsp.cache.StatusRow reads them.
STATUS_COLUMNS: tuple[pw.Field, ...] = (
    COLUMNS.state,
    COLUMNS.revocation_reason,
    COLUMNS.revoked_at,
    COLUMNS.invalidity_date,
    COLUMNS.status_changed_at,
    COLUMNS.issued_at,
)


def select_certificates(*columns: pw.Field) -> pw.ModelSelect[Any]:
    """``SELECT columns FROM`` the certificate table, to be joined and filtered by the caller."""
    return Certificate.select(*columns)


def join_per_certificate(
    query: pw.ModelSelect[Any], model: type[pw.Model], issuer: pw.Field, serial: pw.Field
) -> pw.ModelSelect[Any]:
    """LEFT OUTER JOIN a table keyed by (issuer id, serial hex) to the certificates of ``query``."""
    return query.join(model, pw.JOIN.LEFT_OUTER, on=(issuer == Certificate.issuer) & (serial == Certificate.serial))


def status_by_issuer_name(issuer_name: str, serial: int) -> CertStatus:
    """The status of ``serial`` under the authority called ``issuer_name`` (``unknown`` when either
    is not known): the read function for services outside ``ca`` (verifier)."""
    issuer = Authority.get_or_none(Authority.name == issuer_name)
    if issuer is None:
        return CertStatus("unknown")
    return status_of(issuer, serial)
