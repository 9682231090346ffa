"""Enrollment's periodic jobs (registered in config/jobs.py); each idempotent and multi-host safe."""

from __future__ import annotations

from ca.api import CertificateAuthority
from core.clock import Clock
from enrollment.applications import ApplicationService
from enrollment.desk import Desk
from enrollment.handover import HandOver
from enrollment.lifecycle import Lifecycle
from enrollment.notifications import Mailer
from enrollment.settings import EnrollmentSettings


def expire_applications(settings: EnrollmentSettings, clock: Clock) -> str:
    return f"{ApplicationService(settings, clock).expire_due()} application(s) expired"


def expiry_reminders(settings: EnrollmentSettings, ca: CertificateAuthority, clock: Clock) -> str:
    return f"{Lifecycle(settings, ca, clock).send_reminders()} reminder(s) queued"


def send_mail(settings: EnrollmentSettings, clock: Clock) -> str:
    return Mailer(settings.smtp, clock).run().summary()


def housekeeping(settings: EnrollmentSettings, ca: CertificateAuthority, clock: Clock) -> str:
    """Evidence past retention, undelivered PKCS#12 files, old code attempts."""
    evidence = Desk(settings, clock).purge_evidence()
    pickups = HandOver(settings, ca, clock).purge_pickups()
    attempts = Lifecycle(settings, ca, clock).purge_code_attempts()
    return (
        f"{evidence} evidence record(s) purged, {pickups} PKCS#12 pick-up(s) destroyed, "
        f"{attempts} old code attempt(s) removed"
    )
