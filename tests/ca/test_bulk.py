"""Bulk revocation under dual control (issue 15 items 3 and 7; CA/B BR §4.9.1.1: a mis-issued
batch revoked within 24 hours; EN 319 401 §7.4 / dual control for sensitive operations)."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import peewee as pw
import pytest
from cryptography import x509

from ca import bulk
from ca.issuance import IssuancePipeline
from ca.models import CRL, BulkRevocation, BulkRevocationItem, Certificate
from config import cli
from config.runtime import Runtime
from config.settings import Settings
from core import approvals
from core.audit import AuditRecord, verify_chain
from core.clock import FrozenClock
from hsm.software import SoftwareKeyStore
from ocsp.models import OCSPResponse
from tests.ca.conftest import citizen_request
from tests.pki import build_pki


@pytest.fixture
def runtime(settings: Settings, db: pw.Database, clock: FrozenClock, key_store: SoftwareKeyStore) -> Runtime:
    build_pki(clock, key_store, settings.ca)
    return Runtime(settings, clock, key_store)


@pytest.fixture
def issued(runtime: Runtime) -> list[str]:
    pipeline = IssuancePipeline(runtime.settings.ca, runtime.key_store, runtime.clock)
    return [pipeline.issue(citizen_request(), actor="test:officer").serial for _ in range(5)]


def as_admin(monkeypatch: pytest.MonkeyPatch, runtime: Runtime, user: str) -> Callable[..., tuple[int, str]]:
    def run(*argv: str) -> tuple[int, str]:
        monkeypatch.setattr(cli, "_user", lambda: user)
        out = io.StringIO()
        return cli.main(list(argv), out=out, runtime=runtime), out.getvalue()

    return run


def _plan(
    runtime: Runtime, alice: Callable[..., tuple[int, str]], serials: list[str], tmp_path: Path
) -> BulkRevocation:
    listing = tmp_path / "serials.txt"
    listing.write_text("# mis-issued batch\n" + "\n".join(serials) + "\n")
    code, out = alice("cert", "revoke-bulk", "--serials", str(listing), "--reason", "superseded")
    assert code == 0, out
    return BulkRevocation.get()


def test_bulk_revocation_needs_another_administrator(
    runtime: Runtime, issued: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice, bob = as_admin(monkeypatch, runtime, "alice"), as_admin(monkeypatch, runtime, "bob")
    planned = _plan(runtime, alice, issued[:4], tmp_path)
    assert planned.total == 4 and planned.state == "awaiting_approval"
    # Not approved: nothing happens.
    assert alice("cert", "revoke-bulk-run", str(planned.id))[0] == 1
    # The requester cannot approve their own request.
    assert alice("approvals", "approve", str(planned.approval_id))[0] == 1
    code, out = bob("approvals", "approve", str(planned.approval_id))
    assert code == 0 and "1/1, approved" in out
    code, out = alice("cert", "revoke-bulk-run", str(planned.id))
    assert code == 0 and "4 revoked" in out, out
    revoked = Certificate.select().where(Certificate.revocation_reason == "superseded")
    assert sorted(c.serial for c in revoked) == sorted(issued[:4])
    # Every revocation audited; the CRL lists them; OCSP answers were pre-signed; the chain holds.
    assert AuditRecord.select().where(AuditRecord.action == "certificate.revoke").count() == 4
    crl = x509.load_der_x509_crl(bytes(CRL.select().where(CRL.kind == "full").order_by(CRL.number.desc()).get().der))
    assert {int(s, 16) for s in issued[:4]} <= {e.serial_number for e in crl}
    assert OCSPResponse.select().count() >= 4
    assert verify_chain().ok
    # An approval authorises once: running it again does nothing more.
    assert alice("cert", "revoke-bulk-run", str(planned.id))[0] == 0
    assert AuditRecord.select().where(AuditRecord.action == "approval.execute").count() == 1


def test_approvals_expire(runtime: Runtime, issued: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    alice, bob = as_admin(monkeypatch, runtime, "alice"), as_admin(monkeypatch, runtime, "bob")
    planned = _plan(runtime, alice, issued, tmp_path)
    runtime.clock.advance(timedelta(hours=24, seconds=1))  # type: ignore[attr-defined]
    assert bob("approvals", "approve", str(planned.approval_id))[0] == 1
    assert alice("cert", "revoke-bulk-run", str(planned.id))[0] == 1
    assert Certificate.select().where(Certificate.revocation_reason.is_null(False)).count() == 0


def test_n_approvers_are_configurable(runtime: Runtime, clock: FrozenClock) -> None:
    request = approvals.request(clock, "ca.profile_change", {"profile": "citizen"}, actor="cli:alice", required=2)
    assert approvals.approve(clock, request.id, actor="cli:bob").state == "pending"
    with pytest.raises(approvals.ApprovalError):
        approvals.approve(clock, request.id, actor="cli:bob")
    with pytest.raises(approvals.ApprovalError):
        approvals.consume(clock, request.id, "ca.profile_change", actor="cli:alice")
    assert approvals.approve(clock, request.id, actor="cli:carol").state == "approved"
    approvals.consume(clock, request.id, "ca.profile_change", actor="cli:alice")
    with pytest.raises(approvals.ApprovalError):
        approvals.consume(clock, request.id, "ca.profile_change", actor="cli:alice")


def test_interrupted_bulk_revocation_resumes(
    runtime: Runtime, issued: list[str], clock: FrozenClock, tmp_path: Path
) -> None:
    planned = bulk.plan(
        runtime.settings.ca,
        clock,
        bulk.Selection(profile="citizen"),
        "cessationOfOperation",
        actor="cli:alice",
        required_approvals=1,
    )
    assert planned.total == 5
    approvals.approve(clock, planned.approval_id, actor="cli:bob")

    def interrupt(progress: bulk.BulkProgress) -> None:
        raise KeyboardInterrupt  # the operator's Ctrl-C (or a crash) after the first batch

    with pytest.raises(KeyboardInterrupt):
        bulk.run(runtime.settings.ca, clock, planned.id, actor="cli:alice", batch_size=2, progress=interrupt)
    assert BulkRevocationItem.select().where(BulkRevocationItem.done).count() == 2
    assert Certificate.select().where(Certificate.revocation_reason == "cessationOfOperation").count() == 2
    result = bulk.run(runtime.settings.ca, clock, planned.id, actor="cli:alice", batch_size=2)
    assert (result.total, result.done, result.revoked, result.state) == (5, 5, 5, "finished")
    assert AuditRecord.select().where(AuditRecord.action == "certificate.revoke").count() == 5


def test_selection_by_query_and_nothing_matching(runtime: Runtime, issued: list[str], clock: FrozenClock) -> None:
    with pytest.raises(Exception) as info:
        bulk.plan(
            runtime.settings.ca, clock, bulk.Selection(profile="nope"), "superseded", actor="a", required_approvals=1
        )
    assert "no live certificate" in str(info.value)
    later = clock.now() + timedelta(days=1)
    with pytest.raises(Exception):
        bulk.plan(
            runtime.settings.ca,
            clock,
            bulk.Selection(issued_after=later),
            "superseded",
            actor="a",
            required_approvals=1,
        )
