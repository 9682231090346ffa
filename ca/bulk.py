"""Bulk revocation of a mis-issued batch (CA/B BR §4.9.1.1: within 24 hours), under dual control.

:func:`plan` fixes the set (serials from a file, or a query by issuer, profile and issue time)
into ``ca_bulk_revocation_item`` rows and asks for approval (``core.approvals``; the approval's
payload binds the SHA-256 of the sorted certificate ids, so the set cannot change after approval).
:func:`run` consumes the approval once, then revokes in batches, one transaction per batch with an
audit record per certificate, marking items done as it goes: interrupted, it resumes where it
stopped. Publishing the CRLs and OCSP responses afterwards is the caller's (``config``): the CA
does not know the OCSP responder.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

import peewee as pw

from ca.errors import ReasonError
from ca.hierarchy import authority
from ca.models import Authority, BulkRevocation, BulkRevocationItem, Certificate
from ca.revocation import HOLD, REVOCATION_REASONS, RevocationService, canonical_serial
from ca.settings import CASettings
from core import approvals, audit
from core.clock import Clock
from core.db import atomic
from core.errors import ConflictError, NotFoundError, ValidationError

KIND = "ca.bulk_revocation"
INSERT_CHUNK = 500


@dataclass(frozen=True)
class Selection:
    """Which certificates: explicit serials, or a query (every criterion optional but one)."""

    issuer: str | None = None
    serials: tuple[str, ...] = ()
    profile: str | None = None
    issued_after: datetime | None = None
    issued_before: datetime | None = None

    def describe(self) -> dict[str, object]:
        if self.serials:
            digest = hashlib.sha256("\n".join(sorted(self.serials)).encode()).hexdigest()
            return {"issuer": self.issuer, "serials": len(self.serials), "serials_sha256": digest}
        return {
            "issuer": self.issuer,
            "profile": self.profile,
            "issued_after": self.issued_after.isoformat() if self.issued_after else None,
            "issued_before": self.issued_before.isoformat() if self.issued_before else None,
        }


@dataclass(frozen=True)
class BulkProgress:
    bulk_id: int
    total: int
    done: int
    revoked: int
    state: str
    issuers: tuple[str, ...] = ()


class BulkRevocationNotFoundError(NotFoundError):
    code = "bulk_revocation_not_found"


def _candidates(settings: CASettings, selection: Selection) -> list[int]:
    issuer = authority(selection.issuer or settings.issuing.name)
    live = Certificate.state.in_(("issued", "reserved")) & (
        Certificate.revocation_reason.is_null() | (Certificate.revocation_reason == HOLD)
    )
    query = Certificate.select(Certificate.id).where((Certificate.issuer == issuer) & live)
    if selection.serials:
        wanted = sorted({canonical_serial(s) for s in selection.serials})
        ids: list[int] = []
        for start in range(0, len(wanted), INSERT_CHUNK):
            chunk = wanted[start : start + INSERT_CHUNK]
            ids.extend(r.id for r in query.where(Certificate.serial.in_(chunk)))
        return sorted(ids)
    if not (selection.profile or selection.issued_after or selection.issued_before):
        raise ValidationError.single("selection", "name serials, or a profile and/or an issue-time range")
    if selection.profile:
        query = query.where(Certificate.profile == selection.profile)
    issued = pw.fn.COALESCE(Certificate.issued_at, Certificate.created_at)
    if selection.issued_after:
        query = query.where(issued >= selection.issued_after)
    if selection.issued_before:
        query = query.where(issued < selection.issued_before)
    return sorted(r.id for r in query)


def _ids_digest(ids: Iterable[int]) -> str:
    return hashlib.sha256(",".join(map(str, ids)).encode()).hexdigest()


def plan(
    settings: CASettings,
    clock: Clock,
    selection: Selection,
    reason: str,
    *,
    actor: str,
    required_approvals: int,
    approval_ttl: timedelta = approvals.DEFAULT_TTL,
) -> BulkRevocation:
    """Fix the set and ask for approval; nothing is revoked yet."""
    if reason not in REVOCATION_REASONS:
        raise ReasonError("reason", f"must be one of {', '.join(REVOCATION_REASONS)}")
    ids = _candidates(settings, selection)
    if not ids:
        raise ValidationError.single("selection", "no live certificate matches")
    digest = _ids_digest(ids)
    with atomic():
        bulk = BulkRevocation.create(
            approval_id=0,
            reason=reason,
            selection=json.dumps(selection.describe(), sort_keys=True),
            selection_sha256=digest,
            requested_by=actor,
            created_at=clock.now(),
            total=len(ids),
            state="awaiting_approval",
        )
        for start in range(0, len(ids), INSERT_CHUNK):
            BulkRevocationItem.insert_many(
                [{"bulk": bulk.id, "certificate": i, "done": False} for i in ids[start : start + INSERT_CHUNK]]
            ).execute()
        request = approvals.request(
            clock,
            KIND,
            {"bulk_id": bulk.id, "reason": reason, "total": len(ids), "certificates_sha256": digest},
            actor=actor,
            required=required_approvals,
            ttl=approval_ttl,
        )
        bulk.approval_id = request.id
        bulk.save()
        audit.record(
            clock,
            actor=actor,
            action="ca.bulk_revocation.plan",
            object_type="bulk_revocation",
            object_id=bulk.id,
            details={"reason": reason, "total": len(ids), "approval": request.id, "selection": selection.describe()},
        )
    return bulk


def get(bulk_id: int) -> BulkRevocation:
    bulk = BulkRevocation.get_or_none(BulkRevocation.id == bulk_id)
    if bulk is None:
        raise BulkRevocationNotFoundError(f"no bulk revocation {bulk_id}")
    return bulk  # type: ignore[no-any-return]


def _start(clock: Clock, bulk: BulkRevocation, actor: str) -> None:
    """Consume the approval once; check the set is still the approved one."""
    rows = (
        BulkRevocationItem.select(BulkRevocationItem.certificate)
        .where(BulkRevocationItem.bulk == bulk)
        .order_by(BulkRevocationItem.certificate)
        .tuples()
    )
    ids = [int(row[0]) for row in rows]  # type: ignore[index]
    request = approvals.get(bulk.approval_id)
    if _ids_digest(ids) != bulk.selection_sha256 or request.payload.get("certificates_sha256") != bulk.selection_sha256:
        raise ConflictError(f"bulk revocation {bulk.id}: the certificate set differs from the approved one")
    with atomic():
        approvals.consume(clock, bulk.approval_id, KIND, actor=actor)
        BulkRevocation.update(state="running").where(BulkRevocation.id == bulk.id).execute()
        audit.record(
            clock,
            actor=actor,
            action="ca.bulk_revocation.start",
            object_type="bulk_revocation",
            object_id=bulk.id,
            details={"approval": bulk.approval_id, "total": bulk.total},
        )


def run(
    settings: CASettings,
    clock: Clock,
    bulk_id: int,
    *,
    actor: str,
    batch_size: int = 500,
    progress: Callable[[BulkProgress], None] | None = None,
) -> BulkProgress:
    """Revoke every remaining item (resumable). Each batch is one transaction: the certificates'
    status changes, one audit record each, and the items marked done commit together."""
    bulk = get(bulk_id)
    if bulk.state == "awaiting_approval":
        _start(clock, bulk, actor)
    service = RevocationService(settings, clock)
    issuers = {
        r.name
        for r in Authority.select(Authority.name)
        .join(Certificate, on=Certificate.issuer == Authority.id)
        .join(BulkRevocationItem, on=BulkRevocationItem.certificate == Certificate.id)
        .where(BulkRevocationItem.bulk == bulk_id)
        .distinct()
    }
    while True:
        items = list(
            BulkRevocationItem.select(BulkRevocationItem.id, BulkRevocationItem.certificate)
            .where((BulkRevocationItem.bulk == bulk_id) & ~BulkRevocationItem.done)
            .order_by(BulkRevocationItem.id)
            .limit(batch_size)
        )
        if not items:
            break
        with atomic():
            revoked_ids = service.revoke_batch([_certificate_id(item) for item in items], bulk.reason, actor=actor)
            _mark_done(items, revoked_ids)
            BulkRevocation.update(
                done=BulkRevocation.done + len(items), revoked=BulkRevocation.revoked + len(revoked_ids)
            ).where(BulkRevocation.id == bulk_id).execute()
        if progress is not None:
            progress(_progress(get(bulk_id), issuers))
    bulk = get(bulk_id)
    if bulk.state != "finished":
        with atomic():
            BulkRevocation.update(state="finished", finished_at=clock.now()).where(
                BulkRevocation.id == bulk_id
            ).execute()
            audit.record(
                clock,
                actor=actor,
                action="ca.bulk_revocation.finish",
                object_type="bulk_revocation",
                object_id=bulk_id,
                details={"total": bulk.total, "revoked": bulk.revoked},
            )
    return _progress(get(bulk_id), issuers)


def _certificate_id(item: BulkRevocationItem) -> int:
    # The foreign key's raw value, without loading the certificate row.
    return int(item.__data__["certificate"])


def _mark_done(items: list[BulkRevocationItem], revoked_ids: set[int]) -> None:
    """Record each item's outcome: revoked now, or left alone (already revoked, failed, gone)."""
    revoked = [i.id for i in items if _certificate_id(i) in revoked_ids]
    skipped = [i.id for i in items if _certificate_id(i) not in revoked_ids]
    for ids, outcome in ((revoked, "revoked"), (skipped, "already_revoked")):
        if ids:
            BulkRevocationItem.update(done=True, outcome=outcome).where(BulkRevocationItem.id.in_(ids)).execute()


def _progress(bulk: BulkRevocation, issuers: set[str]) -> BulkProgress:
    return BulkProgress(bulk.id, bulk.total, bulk.done, bulk.revoked, bulk.state, tuple(sorted(issuers)))
