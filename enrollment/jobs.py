"""Enrollment's periodic jobs (registered in config/jobs.py); each idempotent and multi-host safe."""

from __future__ import annotations

from ca.api import CertificateAuthority
from core.clock import Clock
from core.job_runs import JobResult
from enrollment.applications import ApplicationService
from enrollment.desk import Desk
from enrollment.handover import HandOver
from enrollment.lifecycle import Lifecycle
from enrollment.notifications import Mailer
from enrollment.settings import EnrollmentSettings


def expire_applications(settings: EnrollmentSettings, clock: Clock) -> JobResult:
    expired = ApplicationService(settings, clock).expire_due()
    return JobResult(f"{expired} application(s) expired", {"expired": expired})


def expiry_reminders(settings: EnrollmentSettings, ca: CertificateAuthority, clock: Clock) -> JobResult:
    queued = Lifecycle(settings, ca, clock).send_reminders()
    return JobResult(f"{queued} reminder(s) queued", {"queued": queued})


def send_mail(settings: EnrollmentSettings, clock: Clock) -> JobResult:
    run = Mailer(settings.smtp, clock).run()
    counts = {"sent": run.sent, "failed": run.failed, "waiting": run.waiting, "given_up": run.given_up}
    return JobResult(run.summary(), counts)


def housekeeping(settings: EnrollmentSettings, ca: CertificateAuthority, clock: Clock) -> JobResult:
    """Evidence past retention, undelivered PKCS#12 files, old code attempts."""
    evidence = Desk(settings, clock).purge_evidence()
    pickups = HandOver(settings, ca, clock).purge_pickups()
    attempts = Lifecycle(settings, ca, clock).purge_code_attempts()
    return JobResult(
        f"{evidence} evidence record(s) purged, {pickups} PKCS#12 pick-up(s) destroyed, "
        f"{attempts} old code attempt(s) removed",
        {"evidence_purged": evidence, "pickups_destroyed": pickups, "code_attempts_removed": attempts},
    )
