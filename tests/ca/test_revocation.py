"""Revocation and suspension (RFC 5280 §5.3.1): reasons, finality, keyCompromise upgrade,
certificateHold, resume, and hold expiry with the suspension time (CenCert practice)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ca.errors import CertificateNotFoundError, ReasonError, RevocationError
from ca.issuance import IssuancePipeline
from ca.models import Certificate
from ca.revocation import REVOCATION_REASONS, RevocationService
from ca.status import REASON_NAMES, status_of
from core.audit import AuditRecord
from core.clock import FrozenClock
from core.db import atomic
from tests.ca.conftest import citizen_request
from tests.pki import TestPKI


@pytest.fixture
def service(ca_pki: TestPKI) -> RevocationService:
    return RevocationService(ca_pki.settings, ca_pki.clock)


@pytest.fixture
def serial(pipeline: IssuancePipeline) -> str:
    return pipeline.issue(citizen_request(), actor="t").serial


def _row(serial: str) -> Certificate:
    return Certificate.get(Certificate.serial == serial)


def test_every_rfc5280_reason_except_hold_and_remove(pipeline: IssuancePipeline, service: RevocationService) -> None:
    assert set(REVOCATION_REASONS) == set(REASON_NAMES) - {"certificateHold", "removeFromCRL"}
    for reason in REVOCATION_REASONS:
        serial = pipeline.issue(citizen_request(), actor="t").serial
        row = service.revoke("citizens", serial, reason, actor="t")
        assert row.revocation_reason == reason
    for bad in ("certificateHold", "removeFromCRL", "compromised"):
        with pytest.raises(ReasonError):
            service.revoke("citizens", serial, bad, actor="t")


def test_revocation_sets_time_status_change_and_audit(service: RevocationService, serial: str, ca_pki: TestPKI) -> None:
    clock = ca_pki.clock
    assert isinstance(clock, FrozenClock)
    when = clock.now() - timedelta(hours=2)
    row = service.revoke("citizens", serial.lower(), "keyCompromise", actor="officer:7", invalidity_date=when)
    assert row.revoked_at == clock.now() and row.status_changed_at == clock.now() and row.invalidity_date == when
    status = status_of(ca_pki.row("citizens"), int(serial, 16))
    assert status.kind == "revoked" and status.invalidity_date == when
    record = AuditRecord.get(AuditRecord.action == "certificate.revoke")
    assert record.actor == "officer:7" and record.details["reason"] == "keyCompromise"
    with pytest.raises(ReasonError):
        service.revoke(
            "citizens", serial, "keyCompromise", actor="t", invalidity_date=clock.now() + timedelta(seconds=1)
        )


def test_revocation_is_final_except_upgrade_to_key_compromise(
    service: RevocationService, serial: str, ca_pki: TestPKI
) -> None:
    first = service.revoke("citizens", serial, "superseded", actor="t")
    revoked_at = first.revoked_at
    assert isinstance(ca_pki.clock, FrozenClock)
    ca_pki.clock.advance(hours=1)
    for action in (
        lambda: service.suspend("citizens", serial, actor="t"),
        lambda: service.resume("citizens", serial, actor="t"),
        lambda: service.revoke("citizens", serial, "affiliationChanged", actor="t"),
    ):
        with pytest.raises(RevocationError):
            action()
    upgraded = service.revoke("citizens", serial, "keyCompromise", actor="t")
    assert upgraded.revocation_reason == "keyCompromise" and upgraded.revoked_at == revoked_at
    assert upgraded.status_changed_at == ca_pki.clock.now()
    with pytest.raises(RevocationError):
        service.revoke("citizens", serial, "keyCompromise", actor="t")


def test_suspend_and_resume(service: RevocationService, serial: str, ca_pki: TestPKI) -> None:
    issuer = ca_pki.row("citizens")
    held = service.suspend("citizens", serial, actor="t")
    assert held.revocation_reason == "certificateHold"
    status = status_of(issuer, int(serial, 16))
    assert status.kind == "revoked" and status.reason is not None and status.reason.name == "certificate_hold"
    with pytest.raises(RevocationError):
        service.suspend("citizens", serial, actor="t")
    resumed = service.resume("citizens", serial, actor="t")
    assert resumed.revocation_reason is None and resumed.revoked_at is None
    assert status_of(issuer, int(serial, 16)).kind == "good"
    with pytest.raises(RevocationError):
        service.resume("citizens", serial, actor="t")
    actions = [
        r.action
        for r in AuditRecord.select().where(AuditRecord.action.startswith("certificate.")).order_by(AuditRecord.seq)
    ]
    assert actions[-2:] == ["certificate.suspend", "certificate.resume"]


def test_revoking_a_held_certificate_keeps_the_suspension_time(
    service: RevocationService, serial: str, ca_pki: TestPKI
) -> None:
    clock = ca_pki.clock
    assert isinstance(clock, FrozenClock)
    suspended_at = service.suspend("citizens", serial, actor="t").revoked_at
    clock.advance(days=2)
    row = service.revoke("citizens", serial, "keyCompromise", actor="t")
    assert row.revoked_at == suspended_at and row.revocation_reason == "keyCompromise"


def test_holds_expire_into_revocation_at_the_suspension_time(
    pipeline: IssuancePipeline, service: RevocationService, ca_pki: TestPKI
) -> None:
    # REFERENCE.md: at most 7 days, then revocation dated at the suspension (CenCert).
    clock = ca_pki.clock
    assert isinstance(clock, FrozenClock)
    old = pipeline.issue(citizen_request(), actor="t").serial
    young = pipeline.issue(citizen_request(), actor="t").serial
    resumed = pipeline.issue(citizen_request(), actor="t").serial
    suspended_at = service.suspend("citizens", old, actor="t").revoked_at
    service.suspend("citizens", resumed, actor="t")
    clock.advance(days=3)
    service.suspend("citizens", young, actor="t")
    service.resume("citizens", resumed, actor="t")
    clock.advance(days=4)  # old: exactly 7 days
    assert service.expire_holds() == 1
    row = _row(old)
    assert (
        row.revocation_reason == "unspecified"
        and row.revoked_at == suspended_at
        and row.status_changed_at == clock.now()
    )
    assert _row(young).revocation_reason == "certificateHold"
    assert _row(resumed).revocation_reason is None
    assert service.expire_holds() == 0  # idempotent
    assert AuditRecord.select().where(AuditRecord.action == "certificate.hold_expired").count() == 1
    clock.advance(days=3)
    assert service.expire_holds() == 1 and _row(young).revocation_reason == "unspecified"


def test_unknown_failed_and_root_certificates(service: RevocationService, ca_pki: TestPKI) -> None:
    with pytest.raises(CertificateNotFoundError):
        service.revoke("citizens", "0123ABCD", "superseded", actor="t")
    with pytest.raises(ReasonError):
        service.revoke("citizens", "xyz", "superseded", actor="t")
    with pytest.raises(RevocationError):
        service.revoke("root", ca_pki.row("root").serial, "cACompromise", actor="t")
    # The issuing CA itself is revoked on the root's CRL.
    row = service.revoke("root", ca_pki.row("citizens").serial, "cACompromise", actor="t")
    assert row.revocation_reason == "cACompromise"


def test_calls_nest_inside_a_caller_transaction(service: RevocationService, serial: str) -> None:
    # interfaces.md: each call opens atomic(), a savepoint inside the caller's transaction.
    with atomic():
        service.suspend("citizens", serial, actor="t")
        assert _row(serial).revocation_reason == "certificateHold"
    assert _row(serial).revocation_reason == "certificateHold"
