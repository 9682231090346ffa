"""Dual control: an action that needs the approval of N other administrators before it runs.

A request names its ``kind`` (``ca.bulk_revocation``, ``ca.profile_change``,
``access.role_grant`` ...), a JSON payload and its SHA-256, who asked, how many approvals it
needs and when it expires (24 h by default). Approvers are distinct and never the requester.
:func:`consume` marks an approved, unexpired request as executed, in the caller's transaction,
so the action it authorises runs at most once. Every step is audited.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import peewee as pw

from core import audit
from core.clock import Clock
from core.db import BaseModel, JSONField, UTCDateTimeField, atomic, lock_row
from core.errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationError

DEFAULT_TTL = timedelta(hours=24)
STATES = ("pending", "executed", "cancelled", "expired")


class ApprovalRequest(BaseModel):
    kind = pw.CharField(max_length=60, index=True)
    payload = JSONField()
    payload_sha256 = pw.CharField(max_length=64)
    requested_by = pw.CharField(max_length=200)
    requested_at = UTCDateTimeField()
    expires_at = UTCDateTimeField()
    required = pw.IntegerField()
    state = pw.CharField(max_length=10, default="pending")
    executed_at = UTCDateTimeField(null=True)

    class Meta:
        table_name = "approval_request"


class ApprovalVote(BaseModel):
    request = pw.ForeignKeyField(ApprovalRequest, backref="votes", on_delete="RESTRICT")
    approver = pw.CharField(max_length=200)
    at = UTCDateTimeField()

    class Meta:
        table_name = "approval_vote"
        indexes = ((("request", "approver"), True),)


MODELS: tuple[type[pw.Model], ...] = (ApprovalRequest, ApprovalVote)


class ApprovalNotFoundError(NotFoundError):
    code = "approval_not_found"


class ApprovalError(ConflictError):
    """The request is expired, already executed or cancelled, or not yet approved."""

    code = "approval_conflict"


class SelfApprovalError(PermissionDeniedError):
    code = "self_approval"


@dataclass(frozen=True)
class ApprovalStatus:
    id: int
    kind: str
    state: str  # pending | approved | expired | executed | cancelled
    approvals: int
    required: int
    requested_by: str
    expires_at: str


def digest(payload: Any) -> str:
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def request(
    clock: Clock, kind: str, payload: dict[str, Any], *, actor: str, required: int, ttl: timedelta = DEFAULT_TTL
) -> ApprovalRequest:
    """Ask for ``required`` approvals of ``kind`` with ``payload`` (call inside or outside a
    transaction; audited)."""
    if not 1 <= required <= 10:
        raise ValidationError.single("required", "must be between 1 and 10")
    if ttl <= timedelta(0):
        raise ValidationError.single("ttl", "must be positive")
    now = clock.now()
    with atomic():
        row = ApprovalRequest.create(
            kind=kind,
            payload=payload,
            payload_sha256=digest(payload),
            requested_by=actor,
            requested_at=now,
            expires_at=now + ttl,
            required=required,
        )
        audit.record(
            clock,
            actor=actor,
            action="approval.request",
            object_type="approval_request",
            object_id=row.id,
            details={"kind": kind, "payload_sha256": row.payload_sha256, "required": required},
        )
    return row


def _locked(request_id: int) -> ApprovalRequest:
    row = lock_row(ApprovalRequest.select().where(ApprovalRequest.id == request_id)).first()
    if row is None:
        raise ApprovalNotFoundError(f"no approval request {request_id}")
    assert isinstance(row, ApprovalRequest)
    return row


def approve(clock: Clock, request_id: int, *, actor: str) -> ApprovalStatus:
    """Add ``actor``'s approval: never the requester's own, once per approver, before expiry."""
    with atomic():
        row = _locked(request_id)
        if row.requested_by == actor:
            raise SelfApprovalError("a request cannot be approved by the administrator who made it")
        _check_open(row, clock)
        if ApprovalVote.select().where((ApprovalVote.request == row) & (ApprovalVote.approver == actor)).exists():
            raise ApprovalError(f"{actor} already approved request {request_id}")
        ApprovalVote.create(request=row, approver=actor, at=clock.now())
        audit.record(
            clock,
            actor=actor,
            action="approval.approve",
            object_type="approval_request",
            object_id=row.id,
            details={"kind": row.kind, "payload_sha256": row.payload_sha256},
        )
        return status(clock, row)


def _check_open(row: ApprovalRequest, clock: Clock) -> None:
    if row.state != "pending":
        raise ApprovalError(f"approval request {row.id} is {row.state}")
    if clock.now() >= row.expires_at:
        raise ApprovalError(f"approval request {row.id} expired at {row.expires_at.isoformat()}")


def status(clock: Clock, row: ApprovalRequest) -> ApprovalStatus:
    votes = ApprovalVote.select().where(ApprovalVote.request == row).count()
    state = row.state
    if state == "pending":
        state = "expired" if clock.now() >= row.expires_at else ("approved" if votes >= row.required else "pending")
    return ApprovalStatus(row.id, row.kind, state, votes, row.required, row.requested_by, row.expires_at.isoformat())


def get(request_id: int) -> ApprovalRequest:
    row = ApprovalRequest.get_or_none(ApprovalRequest.id == request_id)
    if row is None:
        raise ApprovalNotFoundError(f"no approval request {request_id}")
    return row  # type: ignore[no-any-return]


def check_approved(clock: Clock, request_id: int, kind: str) -> ApprovalRequest:
    """The request, if it is of ``kind``, unexpired, pending and has its approvals; raises otherwise."""
    row = get(request_id)
    if row.kind != kind:
        raise ApprovalError(f"approval request {request_id} is for {row.kind}, not {kind}")
    _check_open(row, clock)
    votes = ApprovalVote.select().where(ApprovalVote.request == row).count()
    if votes < row.required:
        raise ApprovalError(f"approval request {request_id} has {votes} of {row.required} approval(s)")
    if digest(row.payload) != row.payload_sha256:
        raise ApprovalError(f"approval request {request_id} was altered after it was made")
    return row


def consume(clock: Clock, request_id: int, kind: str, *, actor: str) -> ApprovalRequest:
    """Mark an approved request executed (inside the caller's transaction): it authorises once."""
    with atomic():
        _locked(request_id)
        row = check_approved(clock, request_id, kind)
        row.state = "executed"
        row.executed_at = clock.now()
        row.save()
        audit.record(
            clock,
            actor=actor,
            action="approval.execute",
            object_type="approval_request",
            object_id=row.id,
            details={"kind": kind, "payload_sha256": row.payload_sha256},
        )
    return row


def expire(clock: Clock) -> int:
    """Mark every pending request past its expiry ``expired``, each with its audit record in the
    same transaction (a job runs this); the number expired. An expired request never runs:
    :func:`check_approved` refuses it whether or not this ran."""
    now = clock.now()
    count = 0
    due = ApprovalRequest.select(ApprovalRequest.id).where(
        (ApprovalRequest.state == "pending") & (ApprovalRequest.expires_at <= now)
    )
    for request_id in [int(r.id) for r in due]:
        with atomic():
            row = _locked(request_id)
            if row.state != "pending" or row.expires_at > now:
                continue
            votes = ApprovalVote.select().where(ApprovalVote.request == row).count()
            row.state = "expired"
            row.save()
            audit.record(
                clock,
                actor="system:jobs",
                action="approval.expire",
                object_type="approval_request",
                object_id=row.id,
                details={"kind": row.kind, "payload_sha256": row.payload_sha256, "approvals": votes},
            )
            count += 1
    return count


def pending_requests(clock: Clock) -> list[ApprovalStatus]:
    rows = ApprovalRequest.select().where(ApprovalRequest.state == "pending").order_by(ApprovalRequest.id)
    return [status(clock, r) for r in rows]
