"""Enrollment's jobs with a frozen clock: application expiry, expiry reminders, evidence purge,
undelivered PKCS#12 destruction; registered in config.jobs and idempotent."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

from cryptography import x509

from ca.api import LocalCertificateAuthority
from config import jobs
from config.runtime import Runtime
from core.audit import AuditRecord
from enrollment.applications import ApplicationService
from enrollment.desk import Desk
from enrollment.handover import HandOver
from enrollment.lifecycle import Lifecycle
from enrollment.models import Application, IdentityCheck, OutgoingEmail, PKCS12Pickup
from tests.enrollment.flows import issued_certificate
from tests.enrollment.helpers import API, Parties, application_body


def _ca(settings: Any, clock: Any) -> LocalCertificateAuthority:
    def no_key_store() -> Any:
        raise AssertionError("these jobs never sign")

    return LocalCertificateAuthority(settings.ca, no_key_store, clock)


def submit(api: API, parties: Parties) -> str:
    r = api.call(
        "POST", "/api/v1/applications", api.bearer(parties.portal_token), json=application_body(parties.point_id)
    )
    return str(r.json["reference"])


def test_applications_expire_after_ttl(bare_api: API, parties: Parties, clock: Any, settings: Any) -> None:
    """REFERENCE.md: applications must be confirmed in person within 14 days."""
    reference = submit(bare_api, parties)
    service = ApplicationService(settings.enrollment, clock)
    clock.advance(days=14, seconds=-1)
    assert service.expire_due() == 0
    clock.advance(seconds=1)
    assert service.expire_due() == 1
    assert service.expire_due() == 0  # idempotent
    assert Application.get(Application.reference == reference).state == "expired"
    assert AuditRecord.select().where(AuditRecord.action == "enrollment.application.expire").count() == 1


def test_ttl_is_configurable(bare_api: API, parties: Parties, clock: Any, settings: Any) -> None:
    reference = submit(bare_api, parties)
    clock.advance(days=3)
    assert ApplicationService(replace(settings.enrollment, application_ttl_days=3), clock).expire_due() == 0
    # The TTL is fixed when the application is submitted (expires_at), so a later change does not shorten it.
    assert Application.get(Application.reference == reference).state == "submitted"


def test_verified_applications_do_not_expire(bare_api: API, parties: Parties, clock: Any, settings: Any) -> None:
    reference = submit(bare_api, parties)
    r = bare_api.call(
        "POST",
        f"/api/v1/officer/applications/{reference}/identity-check",
        bare_api.as_officer("officer1"),
        json={
            "document_type": "passport",
            "document_number": "CC7999486",
            "document_expiry": "2030-01-01",
            "data_match": True,
            "agreement_version": parties.agreement_version,
        },
    )
    assert r.status_code == 201
    clock.advance(days=30)
    assert ApplicationService(settings.enrollment, clock).expire_due() == 0


def test_expiry_reminders_at_30_and_7_days(api: API, parties: Parties, clock: Any, settings: Any) -> None:
    result, _ = issued_certificate(api, parties)
    not_after = x509.load_pem_x509_certificate(result["certificate"].encode()).not_valid_after_utc
    lifecycle = Lifecycle(settings.enrollment, _ca(settings, clock), clock)
    clock.set(not_after - timedelta(days=31))
    assert lifecycle.send_reminders() == 0
    clock.set(not_after - timedelta(days=30))
    assert lifecycle.send_reminders() == 1
    assert lifecycle.send_reminders() == 0
    clock.set(not_after - timedelta(days=7))
    assert lifecycle.send_reminders() == 1
    clock.set(not_after - timedelta(days=1))
    assert lifecycle.send_reminders() == 0
    reminders = list(OutgoingEmail.select().where(OutgoingEmail.kind == "expiry_reminder").order_by(OutgoingEmail.id))
    assert [m.subject for m in reminders] == ["Twój certyfikat wygasa za 30 dni", "Twój certyfikat wygasa za 7 dni"]


def test_no_reminder_for_revoked_certificates(api: API, parties: Parties, clock: Any, settings: Any) -> None:
    result, _ = issued_certificate(api, parties)
    api.call(
        "POST", "/api/v1/self-service/revoke", json={"serial": result["serial"], "code": result["revocation_code"]}
    )
    not_after = x509.load_pem_x509_certificate(result["certificate"].encode()).not_valid_after_utc
    clock.set(not_after - timedelta(days=10))
    assert Lifecycle(settings.enrollment, _ca(settings, clock), clock).send_reminders() == 0


def test_evidence_purged_after_retention(bare_api: API, parties: Parties, clock: Any, settings: Any) -> None:
    """REFERENCE.md "Record keeping": identity-verification records kept 20 years, then purged."""
    reference = submit(bare_api, parties)
    bare_api.call(
        "POST",
        f"/api/v1/officer/applications/{reference}/identity-check",
        bare_api.as_officer("officer1"),
        json={
            "document_type": "passport",
            "document_number": "CC7999486",
            "document_expiry": "2030-01-01",
            "data_match": True,
            "agreement_version": parties.agreement_version,
        },
    )
    desk = Desk(settings.enrollment, clock)
    clock.advance(days=365 * 20 - 2)
    assert desk.purge_evidence() == 0 and IdentityCheck.select().count() == 1
    clock.advance(days=10)
    assert desk.purge_evidence() == 1
    assert IdentityCheck.select().count() == 0
    assert desk.purge_evidence() == 0
    assert AuditRecord.select().where(AuditRecord.action == "enrollment.evidence.purge").count() == 1


def test_undelivered_pkcs12_destroyed(api: API, parties: Parties, clock: Any, settings: Any) -> None:
    issued_certificate(api, parties, csr=False)
    assert PKCS12Pickup.select().count() == 1
    desk = HandOver(settings.enrollment, _ca(settings, clock), clock)
    assert desk.purge_pickups() == 0
    clock.advance(hours=settings.enrollment.pkcs12_pickup_hours)
    assert desk.purge_pickups() == 1
    assert PKCS12Pickup.select().count() == 0


def test_jobs_registered_and_run(bare_api: API, parties: Parties, clock: Any, settings: Any, key_store: Any) -> None:
    names = [
        "enrollment.expire_applications",
        "enrollment.expiry_reminders",
        "enrollment.send_mail",
        "enrollment.housekeeping",
    ]
    assert set(names) <= set(jobs.JOBS)
    submit(bare_api, parties)
    clock.advance(days=15)
    quiet = replace(
        settings, enrollment=replace(settings.enrollment, smtp=replace(settings.enrollment.smtp, enabled=False))
    )
    results = jobs.run_once(Runtime(quiet, clock, key_store), names)
    assert results["enrollment.expire_applications"].summary == "1 application(s) expired"
    assert all(v.ok for v in results.values()), results
