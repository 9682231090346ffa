"""Reconciliation: signatures the CA may have made without a stored result.

A crash (kill -9, power loss) between signing and storing leaves a ``reserved`` certificate row:
the intent and its audit record exist, the signed certificate does not. ``ca.status`` already
treats it as issued for revocation and never answers ``good`` for it; this module surfaces it
(``audit reconcile``, the ``ca.reconcile`` job) and lets an administrator resolve it: revoke it
(it may have been delivered) or mark it failed with evidence that it was not.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from ca.errors import CertificateNotFoundError, RevocationError
from ca.hierarchy import authority
from ca.models import Authority, Certificate
from ca.revocation import HOLD, RevocationService, canonical_serial, count_change
from ca.settings import CASettings
from core import audit
from core.clock import Clock
from core.db import atomic, lock_row
from core.errors import ValidationError

STALE_AFTER = timedelta(minutes=5)


@dataclass(frozen=True)
class StaleReservation:
    issuer: str
    serial: str
    profile: str
    reserved_at: datetime
    revoked: bool

    def age(self, now: datetime) -> timedelta:
        return now - self.reserved_at


def stale_reservations(now: datetime, older_than: timedelta = STALE_AFTER) -> list[StaleReservation]:
    """Reservations older than ``older_than`` that never reached ``issued`` or ``failed`` and are
    not revoked (a revoked reservation is on the CRLs and answered ``revoked``: resolved)."""
    rows = (
        Certificate.select(Certificate, Authority.name)
        .join(Authority)
        .where(
            (Certificate.state == "reserved")
            & (Certificate.created_at < now - older_than)
            & (Certificate.revocation_reason.is_null() | (Certificate.revocation_reason == HOLD))
        )
        .order_by(Certificate.created_at)
    )
    return [
        StaleReservation(r.issuer.name, r.serial, r.profile, r.created_at, r.revocation_reason is not None)
        for r in rows
    ]


def resolve_by_revoking(settings: CASettings, clock: Clock, issuer: str, serial: str, *, actor: str) -> None:
    """The certificate may have been signed and handed out: revoke it (``superseded`` unless it is
    revoked already); publishing the CRL and OCSP answers follows (the caller's)."""
    row = _reserved(issuer, serial)
    if row.revocation_reason is None:
        RevocationService(settings, clock).revoke(issuer, serial, "superseded", actor=actor)
    with atomic():
        audit.record(
            clock,
            actor=actor,
            action="ca.reservation.resolve",
            object_type="certificate",
            object_id=f"{issuer}:{row.serial}",
            details={"resolution": "revoked"},
        )


def resolve_as_failed(clock: Clock, issuer: str, serial: str, *, actor: str, evidence: str) -> None:
    """The signature never left the CA (e.g. the pipeline's log or the HSM audit shows the
    signing call failed): mark the reservation ``failed``, with the administrator's evidence."""
    text = evidence.strip()
    if not 10 <= len(text) <= 1000:
        raise ValidationError.single("evidence", "describe the evidence in 10 to 1000 characters")
    with atomic():
        row = lock_row(Certificate.select().where(Certificate.id == _reserved(issuer, serial).id)).first()
        if row is None or row.state != "reserved":
            raise RevocationError("the reservation was resolved meanwhile", serial=serial, state="changed")
        if row.revocation_reason is not None:
            raise RevocationError(
                "a revoked reservation stays revoked (it is on CRLs)", serial=row.serial, state="revoked"
            )
        row.state = "failed"
        row.status_changed_at = clock.now()
        row.save()
        count_change(row.issuer_id)
        audit.record(
            clock,
            actor=actor,
            action="ca.reservation.resolve",
            object_type="certificate",
            object_id=f"{issuer}:{row.serial}",
            details={"resolution": "failed", "evidence": text},
        )


def _reserved(issuer: str, serial: str) -> Certificate:
    issuer_row = authority(issuer)
    text = canonical_serial(serial)
    row = Certificate.get_or_none((Certificate.issuer == issuer_row) & (Certificate.serial == text))
    if row is None or row.state != "reserved":
        raise CertificateNotFoundError(text)
    return row  # type: ignore[no-any-return]
