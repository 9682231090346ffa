"""Dual control (core.approvals; issue 15 item 7, after ETSI EN 319 401 §7.2 "separation of
duties" and EN 319 411-1 §6.5 / CA/B Forum BR §5.2.2 "number of persons required per task"):
N distinct approvers other than the proposer, approvals that expire (24 h by default), an
action authorised once, and every step audited in the transaction of the change."""

from __future__ import annotations

from datetime import timedelta

import peewee as pw
import pytest

from core import approvals
from core.audit import AuditRecord
from core.clock import FrozenClock
from core.db import atomic

KIND = "test.change"


def _actions() -> list[str]:
    return [r.action for r in AuditRecord.select().order_by(AuditRecord.seq) if r.action.startswith("approval.")]


def test_n_distinct_approvers_other_than_the_proposer(db: pw.Database, clock: FrozenClock) -> None:
    row = approvals.request(clock, KIND, {"x": 1}, actor="cli:alice", required=2)
    with pytest.raises(approvals.SelfApprovalError):
        approvals.approve(clock, row.id, actor="cli:alice")
    assert approvals.approve(clock, row.id, actor="cli:bob").state == "pending"
    with pytest.raises(approvals.ApprovalError, match="already approved"):
        approvals.approve(clock, row.id, actor="cli:bob")  # the same approver counts once
    with pytest.raises(approvals.ApprovalError, match="1 of 2"):
        approvals.consume(clock, row.id, KIND, actor="cli:alice")
    assert approvals.approve(clock, row.id, actor="cli:carol").state == "approved"
    with pytest.raises(approvals.ApprovalError, match=r"is for test\.change"):
        approvals.consume(clock, row.id, "other.kind", actor="cli:alice")
    approvals.consume(clock, row.id, KIND, actor="cli:alice")
    with pytest.raises(approvals.ApprovalError, match="executed"):
        approvals.consume(clock, row.id, KIND, actor="cli:alice")  # authorises once
    assert _actions() == ["approval.request", "approval.approve", "approval.approve", "approval.execute"]


def test_approvals_expire_after_24_hours_by_default_and_expiry_is_audited(db: pw.Database, clock: FrozenClock) -> None:
    row = approvals.request(clock, KIND, {"x": 1}, actor="cli:alice", required=1)
    late = approvals.request(clock, KIND, {"x": 2}, actor="cli:alice", required=1)
    approvals.approve(clock, row.id, actor="cli:bob")
    clock.advance(hours=24)
    assert approvals.status(clock, approvals.get(row.id)).state == "expired"
    with pytest.raises(approvals.ApprovalError, match="expired"):
        approvals.consume(clock, row.id, KIND, actor="cli:alice")  # approved, but too late
    with pytest.raises(approvals.ApprovalError, match="expired"):
        approvals.approve(clock, late.id, actor="cli:bob")
    assert approvals.expire(clock) == 2
    assert approvals.expire(clock) == 0
    assert approvals.get(row.id).state == "expired" and approvals.pending_requests(clock) == []
    expired = AuditRecord.select().where(AuditRecord.action == "approval.expire").order_by(AuditRecord.seq)
    assert [(r.object_id, r.details["approvals"]) for r in expired] == [(str(row.id), 1), (str(late.id), 0)]


def test_an_unexpired_request_is_not_expired(db: pw.Database, clock: FrozenClock) -> None:
    row = approvals.request(clock, KIND, {"x": 1}, actor="cli:alice", required=1, ttl=timedelta(hours=2))
    clock.advance(minutes=119)
    assert approvals.expire(clock) == 0
    approvals.approve(clock, row.id, actor="cli:bob")
    approvals.consume(clock, row.id, KIND, actor="cli:alice")


def test_execution_and_its_record_roll_back_with_the_change(db: pw.Database, clock: FrozenClock) -> None:
    """The approval is consumed in the transaction of the change it authorises: if the change
    fails, the request stays approved and no execute record remains."""
    row = approvals.request(clock, KIND, {"x": 1}, actor="cli:alice", required=1)
    approvals.approve(clock, row.id, actor="cli:bob")
    with pytest.raises(RuntimeError), atomic():
        approvals.consume(clock, row.id, KIND, actor="cli:alice")
        raise RuntimeError("the change failed")
    assert approvals.get(row.id).state == "pending" and "approval.execute" not in _actions()
    approvals.consume(clock, row.id, KIND, actor="cli:alice")
    assert _actions()[-1] == "approval.execute"
