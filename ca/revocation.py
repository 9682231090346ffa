"""Revocation and suspension (RFC 5280 §5.3.1 reasons; suspension is certificateHold).

- Revocation is final; re-revoking may only change the reason to keyCompromise.
- Suspension puts a certificate on hold; resuming lifts it; a hold older than
  ``ca.max_hold_days`` becomes a revocation dated at the moment of suspension (CenCert practice),
  and so does revoking a certificate while it is on hold.
- A ``reserved`` certificate (crash between signing and storing) is revocable like an issued one;
  a ``failed`` reservation was never signed and cannot be revoked.

Every call opens :func:`core.db.atomic` (a savepoint inside a caller's transaction), locks the
row, writes its audit record and sets ``status_changed_at`` (what the CRL and OCSP jobs follow).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from ca.errors import CertificateNotFoundError, ReasonError, RevocationError
from ca.hierarchy import authority
from ca.models import Authority, Certificate, StatusCounter
from ca.serials import from_hex, to_hex
from ca.settings import CASettings
from ca.status import REASON_NAMES
from core import audit
from core.clock import Clock, ensure_utc
from core.db import atomic, database, lock_row

HOLD = "certificateHold"
# Reasons a revocation may carry (removeFromCRL exists only in delta CRLs; certificateHold is a
# suspension, made with suspend()).
REVOCATION_REASONS = tuple(r for r in REASON_NAMES if r not in (HOLD, "removeFromCRL"))


def count_change(issuer: Authority | int) -> None:
    """Count a status change of ``issuer``'s certificates (call inside the change's transaction)."""
    StatusCounter.insert(issuer=issuer, changes=1).on_conflict(
        conflict_target=[StatusCounter.issuer], update={StatusCounter.changes: StatusCounter.changes + 1}
    ).execute()


def canonical_serial(serial: str) -> str:
    try:
        return to_hex(from_hex(serial))
    except ValueError as exc:
        raise ReasonError("serial", str(exc)) from None


class RevocationService:
    def __init__(self, settings: CASettings, clock: Clock) -> None:
        self.settings = settings
        self.clock = clock

    def _locked(self, issuer: str, serial: str) -> tuple[Authority, Certificate]:
        issuer_row = authority(issuer)
        text = canonical_serial(serial)
        row = lock_row(
            Certificate.select().where((Certificate.issuer == issuer_row) & (Certificate.serial == text))
        ).first()
        if row is None or row.state == "failed":
            raise CertificateNotFoundError(text)
        if issuer_row.role == "root" and row.serial == issuer_row.serial:
            raise RevocationError("a root certificate cannot be revoked on its own CRL", serial=text, state=row.state)
        return issuer_row, row

    def _record_change(
        self,
        issuer_row: Authority,
        row: Certificate,
        now: datetime,
        *,
        action: str,
        actor: str,
        details: dict[str, Any],
    ) -> None:
        """Every status change goes through here: the stamp OCSP and the CRL job look for, the
        per-CA change counter (robust to clock steps), and the audit record, in the caller's
        transaction."""
        row.status_changed_at = now
        row.save()
        count_change(issuer_row)
        audit.record(
            self.clock,
            actor=actor,
            action=action,
            object_type="certificate",
            object_id=f"{issuer_row.name}:{row.serial}",
            details=details,
        )

    def revoke(
        self, issuer: str, serial: str, reason: str, *, actor: str, invalidity_date: datetime | None = None
    ) -> Certificate:
        """Revoke (RFC 5280 §5.3.1). ``invalidity_date`` (§5.3.2) must not lie in the future."""
        if reason not in REVOCATION_REASONS:
            raise ReasonError("reason", f"must be one of {', '.join(REVOCATION_REASONS)}")
        now = self.clock.now()
        if invalidity_date is not None and ensure_utc(invalidity_date) > now:
            raise ReasonError("invalidity_date", "must not lie in the future")
        with atomic():
            issuer_row, row = self._locked(issuer, serial)
            previous = row.revocation_reason
            if previous is not None and previous != HOLD:
                # Revocation is final; only a later-discovered key compromise may change the reason.
                if reason != "keyCompromise" or previous == "keyCompromise":
                    raise RevocationError("the certificate is already revoked", serial=row.serial, state="revoked")
                action = "certificate.revocation_reason_change"
            else:
                action = "certificate.revoke"
                if previous is None:
                    row.revoked_at = now
                # On hold: the revocation keeps the suspension time (the hold already took effect).
            row.revocation_reason = reason
            if invalidity_date is not None:
                row.invalidity_date = ensure_utc(invalidity_date)
            self._record_change(
                issuer_row,
                row,
                now,
                action=action,
                actor=actor,
                details={
                    "reason": reason,
                    "previous": previous,
                    "state": row.state,
                    "revoked_at": row.revoked_at.isoformat(),
                    "invalidity_date": row.invalidity_date.isoformat() if row.invalidity_date else None,
                },
            )
            return row

    def revoke_batch(self, certificate_ids: list[int], reason: str, *, actor: str) -> set[int]:
        """Revoke many certificates in the caller's transaction (bulk revocation): the same rules
        and the same audit records as :meth:`revoke`, with set-wise updates and one head move.
        Certificates already revoked, failed or unknown are left alone. Returns the ids revoked."""
        if reason not in REVOCATION_REASONS:
            raise ReasonError("reason", f"must be one of {', '.join(REVOCATION_REASONS)}")
        if not database.in_transaction():
            raise RuntimeError("revoke_batch runs inside the caller's transaction")
        now = self.clock.now()
        rows = list(
            lock_row(
                Certificate.select(Certificate, Authority)
                .join(Authority)
                .where(
                    Certificate.id.in_(certificate_ids)
                    & (Certificate.state != "failed")
                    & (Certificate.revocation_reason.is_null() | (Certificate.revocation_reason == HOLD))
                )
            )
        )
        rows = [r for r in rows if not (r.issuer.role == "root" and r.serial == r.issuer.serial)]
        fresh = [r.id for r in rows if r.revocation_reason is None]
        held = [r.id for r in rows if r.revocation_reason == HOLD]
        if fresh:
            Certificate.update(revocation_reason=reason, revoked_at=now, status_changed_at=now).where(
                Certificate.id.in_(fresh)
            ).execute()
        if held:
            # On hold: the revocation keeps the suspension time (the hold already took effect).
            Certificate.update(revocation_reason=reason, status_changed_at=now).where(
                Certificate.id.in_(held)
            ).execute()
        for issuer_id in {r.issuer.id for r in rows}:
            count_change(issuer_id)
        audit.record_many(
            self.clock,
            [
                audit.Entry(
                    actor=actor,
                    action="certificate.revoke",
                    object_type="certificate",
                    object_id=f"{r.issuer.name}:{r.serial}",
                    details={
                        "reason": reason,
                        "previous": r.revocation_reason,
                        "state": r.state,
                        "revoked_at": (now if r.revocation_reason is None else r.revoked_at).isoformat(),
                        "invalidity_date": None,
                    },
                )
                for r in rows
            ],
        )
        return {r.id for r in rows}

    def suspend(self, issuer: str, serial: str, *, actor: str) -> Certificate:
        """Put the certificate on hold (RFC 5280 §5.3.1 certificateHold)."""
        now = self.clock.now()
        with atomic():
            issuer_row, row = self._locked(issuer, serial)
            if row.revocation_reason == HOLD:
                raise RevocationError("the certificate is already suspended", serial=row.serial, state="suspended")
            if row.revocation_reason is not None:
                raise RevocationError("a revoked certificate cannot be suspended", serial=row.serial, state="revoked")
            if row.not_after <= now:
                raise RevocationError("the certificate has expired", serial=row.serial, state="expired")
            row.revocation_reason = HOLD
            row.revoked_at = now
            self._record_change(
                issuer_row, row, now, action="certificate.suspend", actor=actor, details={"state": row.state}
            )
            return row

    def resume(self, issuer: str, serial: str, *, actor: str) -> Certificate:
        """Lift a hold; the next delta CRL lists the certificate with removeFromCRL."""
        now = self.clock.now()
        with atomic():
            issuer_row, row = self._locked(issuer, serial)
            if row.revocation_reason != HOLD:
                raise RevocationError(
                    "the certificate is not suspended",
                    serial=row.serial,
                    state="revoked" if row.revocation_reason else "valid",
                )
            suspended_at = row.revoked_at
            row.revocation_reason = None
            row.revoked_at = None
            row.invalidity_date = None
            self._record_change(
                issuer_row,
                row,
                now,
                action="certificate.resume",
                actor=actor,
                details={"suspended_at": suspended_at.isoformat() if suspended_at else None},
            )
            return row

    def expire_holds(self, *, actor: str = "system:jobs") -> int:
        """Holds older than ``ca.max_hold_days`` become revocations dated at the suspension.
        Idempotent and safe on several hosts: each row is re-checked under its lock."""
        now = self.clock.now()
        cutoff = now - timedelta(days=self.settings.max_hold_days)
        due = [
            row.id
            for row in Certificate.select(Certificate.id)
            .where((Certificate.revocation_reason == HOLD) & (Certificate.revoked_at <= cutoff))
            .order_by(Certificate.id)
        ]
        count = 0
        for cert_id in due:
            with atomic():
                row = lock_row(Certificate.select().where(Certificate.id == cert_id)).first()
                if row is None or row.revocation_reason != HOLD or row.revoked_at > cutoff:
                    continue  # resumed or handled by another host meanwhile
                row.revocation_reason = self.settings.hold_expiry_reason
                self._record_change(
                    row.issuer,
                    row,
                    now,
                    action="certificate.hold_expired",
                    actor=actor,
                    details={
                        "reason": row.revocation_reason,
                        "revoked_at": row.revoked_at.isoformat(),
                        "max_hold_days": self.settings.max_hold_days,
                    },
                )
                count += 1
        return count
