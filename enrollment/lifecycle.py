"""A citizen certificate's life after issuance: status, suspend, resume, revoke, reminders.

Three ways in, one set of rules:
- the portal (scope ``citizens``) acting for the citizen it identified (PESEL or document number
  in ``X-Citizen-Pesel`` / ``X-Citizen-Document``); only that citizen's certificates are visible;
- the revocation code (no portal): status, suspend, resume, revoke; after 5 wrong codes
  for a serial in 15 minutes further wrong codes get 429 with Retry-After, while the right code
  keeps working (it has 100 bits, so guessing is hopeless and a stranger cannot block it);
- an officer of the certificate's point (or a ``ca_admin``).
Two actions need more than the portal's word (issue 15): resume needs the revocation code (the
portal passes it on) or an officer; a citizen claims keyCompromise only with a request signed by
the certificate's own key (RFC 8555 §7.6), checked by :meth:`Lifecycle.check_compromise_proof`.
Renewal is in :mod:`enrollment.renewal`. Status changes go through the CA's port
(:class:`ca.api.CertificateAuthority`) inside our transaction, so our audit record, the e-mail
and the CA's change commit together.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import timedelta

from cryptography.exceptions import InvalidSignature

from ca.api import CertificateAuthority
from core import audit
from core.auth import Principal
from core.clock import Clock
from core.db import atomic
from core.errors import FieldError, ValidationError
from core.identifiers import IdentifierError, validate_pesel
from core.signing import verify_data
from enrollment import notifications
from enrollment.attempts import AttemptLimiter
from enrollment.errors import (
    CertificateStateError,
    CitizenCertificateNotFoundError,
    NotPermittedError,
    WrongCodeError,
)
from enrollment.models import Application, CitizenCertificate
from enrollment.requests import CodeRequest, RevokeRequest, compromise_statement, serial_of
from enrollment.secrets_util import hasher, normalise_code, verify_hash
from enrollment.settings import EnrollmentSettings
from enrollment.views import CertificateStatusView, public_status

logger = logging.getLogger(__name__)

# Reasons a citizen may give (RFC 5280 §5.3.1); certificateHold is "suspend", never a revocation reason.
CITIZEN_REASONS = ("unspecified", "keyCompromise", "affiliationChanged", "superseded", "cessationOfOperation")
OFFICER_REASONS = (*CITIZEN_REASONS, "privilegeWithdrawn")
# How far a keyCompromise proof's time may be from ours: long enough for a clock a little off,
# short enough that a captured proof is soon worthless (and once revoked, a replay changes nothing).
PROOF_WINDOW = timedelta(minutes=5)


# An ID card (AAA999999) or a passport (AA9999999) number, as the header names it (blanks dropped).
_DOCUMENT_NUMBER = re.compile(r"^(?:[A-Z]{3}[0-9]{6}|[A-Z]{2}[0-9]{7})$")


@dataclass(frozen=True)
class CitizenIdentity:
    """How the portal identified the citizen: a PESEL, else an identity-document number."""

    pesel: str | None = None
    document_number: str | None = None

    @classmethod
    def from_headers(cls, pesel: str | None, document: str | None) -> CitizenIdentity:
        if pesel:
            try:
                return cls(pesel=validate_pesel(pesel))
            except IdentifierError as exc:
                raise ValidationError.single("X-Citizen-Pesel", exc.message, "invalid_identifier") from None
        number = "".join((document or "").split()).upper()
        if number:  # a header of only blanks names nobody
            if not _DOCUMENT_NUMBER.match(number):
                raise ValidationError.single(
                    "X-Citizen-Document", "must be an ID card or passport number", "invalid_identifier"
                )
            return cls(document_number=number)
        raise ValidationError.single("X-Citizen-Pesel", "the portal must name the citizen it identified", "required")

    def owns(self, app: Application) -> bool:
        if self.pesel is not None:
            return app.pesel == self.pesel
        return app.document_number is not None and app.document_number == self.document_number


def by_serial(serial: str) -> CitizenCertificate | None:
    row: CitizenCertificate | None = (
        CitizenCertificate.select(CitizenCertificate, Application)
        .join(Application)
        .where(CitizenCertificate.serial == serial)
        .first()
    )
    return row


class Lifecycle:
    def __init__(self, settings: EnrollmentSettings, ca: CertificateAuthority, clock: Clock) -> None:
        self.settings = settings
        self.ca = ca
        self.clock = clock
        self._hasher = hasher(settings.password_hash_time_cost, settings.password_hash_memory_kib)

    def _state(self, cert: CitizenCertificate) -> str:
        return public_status(self.ca.state(cert.issuer, cert.serial))

    # -- finding the certificate ---------------------------------------------------------------
    def for_citizen(self, serial: str, identity: CitizenIdentity) -> CitizenCertificate:
        serial = serial_of(serial)
        cert = by_serial(serial)
        # Someone else's certificate looks exactly like a missing one.
        if cert is None or not identity.owns(cert.application):
            raise CitizenCertificateNotFoundError(serial)
        return cert

    def list_for_citizen(self, identity: CitizenIdentity) -> list[CertificateStatusView]:
        query = CitizenCertificate.select(CitizenCertificate, Application).join(Application)
        if identity.pesel is not None:
            query = query.where(Application.pesel == identity.pesel)
        else:
            query = query.where(Application.document_number == identity.document_number)
        return [self.status(c) for c in query.order_by(CitizenCertificate.id)]

    def for_officer(self, serial: str, principal: Principal) -> CitizenCertificate:
        serial = serial_of(serial)
        cert = by_serial(serial)
        if cert is None:
            raise CitizenCertificateNotFoundError(serial)
        if "ca_admin" not in principal.roles and cert.application.point_id not in principal.points:
            raise CitizenCertificateNotFoundError(serial)
        return cert

    def with_code(self, request: CodeRequest) -> CitizenCertificate:
        """Check a serial + revocation code. Wrong codes are counted per serial (5 in 15 minutes →
        429 for the next wrong ones); the right code is always accepted, so someone else's wrong
        guesses never block a citizen's emergency revocation (the code has 100 bits)."""
        subject = f"code:{request.serial}"
        limiter = self._limiter()
        cert = by_serial(request.serial)
        if cert is not None and verify_hash(self._hasher, cert.revocation_code_hash, normalise_code(request.code)):
            return cert
        limiter.check(subject)
        limiter.failed(subject)
        with atomic():
            audit.record(
                self.clock,
                actor="anonymous:-",
                action="enrollment.code.wrong",
                object_type="enrollment_certificate",
                object_id=cert.id if cert else "-",
                outcome="failure",
                details={"serial": request.serial},
            )
        raise WrongCodeError("wrong serial or revocation code")

    # -- actions ----------------------------------------------------------------------------
    def status(self, cert: CitizenCertificate) -> CertificateStatusView:
        return CertificateStatusView.of(cert, self.ca.state(cert.issuer, cert.serial))

    def suspend(self, cert: CitizenCertificate, *, actor: str, channel: str) -> CertificateStatusView:
        state = self._state(cert)
        if state != "valid":
            raise CertificateStateError(
                f"certificate {cert.serial} is {state}; only a valid certificate can be suspended"
            )
        with atomic():
            self.ca.suspend(cert.issuer, cert.serial, actor=actor)
            self._after(cert, "certificate_suspended", actor, "enrollment.certificate.suspend", channel)
        return self.status(cert)

    def resume(self, cert: CitizenCertificate, *, actor: str, channel: str) -> CertificateStatusView:
        state = self._state(cert)
        if state != "suspended":
            raise CertificateStateError(
                f"certificate {cert.serial} is {state}; only a suspended certificate can be resumed"
            )
        with atomic():
            self.ca.resume(cert.issuer, cert.serial, actor=actor)
            self._after(cert, "certificate_resumed", actor, "enrollment.certificate.resume", channel)
        return self.status(cert)

    def revoke(
        self, cert: CitizenCertificate, request: RevokeRequest, *, actor: str, channel: str
    ) -> CertificateStatusView:
        """Revoke with a reason the caller may give (:class:`enrollment.requests.RevokeRequest`)."""
        state = self._state(cert)
        if state not in ("valid", "suspended", "not_yet_valid"):
            raise CertificateStateError(f"certificate {cert.serial} is {state}; it cannot be revoked")
        reason = request.reason
        if reason == "keyCompromise" and channel != "officer":
            self.check_compromise_proof(cert, request, actor=actor, channel=channel)
        with atomic():
            self.ca.revoke(cert.issuer, cert.serial, reason, actor=actor)
            self._after(cert, "certificate_revoked", actor, "enrollment.certificate.revoke", channel, reason=reason)
        return self.status(cert)

    def check_compromise_proof(
        self, cert: CitizenCertificate, request: RevokeRequest, *, actor: str, channel: str
    ) -> None:
        """A citizen's keyCompromise must be signed with the certificate's key over
        :func:`enrollment.requests.compromise_statement` at a time within :data:`PROOF_WINDOW`."""
        problem = self._proof_problem(cert, request)
        if problem is None:
            return
        self.refuse(cert, "enrollment.certificate.revoke.refused", actor, channel, problem.code or "invalid")
        raise ValidationError([problem], message="keyCompromise needs proof of possession of the certificate's key")

    def _proof_problem(self, cert: CitizenCertificate, request: RevokeRequest) -> FieldError | None:
        if request.proof is None:
            return FieldError("proof", "keyCompromise needs a signature by the certificate's key", "required")
        if request.proof_time is None:
            return FieldError("proof_time", "the time the proof was signed is required", "required")
        if abs(self.clock.now() - request.proof_time) > PROOF_WINDOW:
            return FieldError("proof_time", "must be within 5 minutes of the server's time", "stale")
        certificate = self.ca.certificate(cert.issuer, cert.serial)
        if certificate is None:
            raise CitizenCertificateNotFoundError(cert.serial)
        statement = compromise_statement(cert.serial, request.proof_time)
        try:
            verify_data(certificate.public_key(), request.proof, statement)  # type: ignore[arg-type]
        except (InvalidSignature, TypeError, ValueError):
            return FieldError("proof", "does not verify with the certificate's key", "invalid")
        return None

    def refuse(self, cert: CitizenCertificate, action: str, actor: str, channel: str, why: str) -> None:
        """Audit a refused action (serial and why only; nothing personal)."""
        with atomic():
            audit.record(
                self.clock,
                actor=actor,
                action=action,
                object_type="enrollment_certificate",
                object_id=cert.id,
                outcome="failure",
                details={"serial": cert.serial, "channel": channel, "why": why},
            )

    def _after(self, cert: CitizenCertificate, kind: str, actor: str, action: str, channel: str, **extra: str) -> None:
        audit.record(
            self.clock,
            actor=actor,
            action=action,
            object_type="enrollment_certificate",
            object_id=cert.id,
            details={"serial": cert.serial, "issuer": cert.issuer, "channel": channel, **extra},
        )
        app = cert.application
        notifications.queue(
            self.clock,
            kind,
            app.email,
            name=app.given_names,
            serial=cert.serial,
            at=notifications.polish_time(self.clock.now()),
        )

    # -- jobs -------------------------------------------------------------------------------
    def send_reminders(self) -> int:
        """Expiry reminders at each of ``reminder_days`` before notAfter (once each; multi-host safe)."""
        now = self.clock.now()
        queued = 0
        for days in sorted(self.settings.reminder_days, reverse=True):
            rows = list(
                CitizenCertificate.select(CitizenCertificate, Application)
                .join(Application)
                .where(
                    (CitizenCertificate.not_after > now)
                    & (CitizenCertificate.not_after <= now + timedelta(days=days))
                    & (CitizenCertificate.renewed == False)  # noqa: E712 - peewee expression
                )
            )
            queued += sum(1 for cert in rows if self._remind(cert, days))
        return queued

    def _remind(self, cert: CitizenCertificate, days: int) -> bool:
        sent = {int(d) for d in cert.reminders_sent.split(",") if d}
        # One reminder per threshold; a certificate found late gets only the nearest one.
        if days in sent or any(d < days for d in sent) or self._state(cert) != "valid":
            return False
        marks = ",".join(str(d) for d in sorted(sent | {days}))
        with atomic():
            won = (
                CitizenCertificate.update(reminders_sent=marks)
                .where((CitizenCertificate.id == cert.id) & (CitizenCertificate.reminders_sent == cert.reminders_sent))
                .execute()
            )
            if not won:
                return False  # another host sent it
            app = cert.application
            notifications.queue(
                self.clock,
                "expiry_reminder",
                app.email,
                name=app.given_names,
                serial=cert.serial,
                days=days,
                not_after=notifications.polish_time(cert.not_after),
            )
            audit.record(
                self.clock,
                actor="system:jobs",
                action="enrollment.reminder",
                object_type="enrollment_certificate",
                object_id=cert.id,
                details={"serial": cert.serial, "days": days},
            )
        return True

    def purge_code_attempts(self) -> int:
        return self._limiter().purge()

    def _limiter(self) -> AttemptLimiter:
        return AttemptLimiter(
            self.clock, max_attempts=self.settings.code_max_attempts, window_minutes=self.settings.code_window_minutes
        )


def require_officer_reason(principal: Principal) -> tuple[str, ...]:
    """The revocation reasons an officer may give (a ``ca_admin`` also the CA-compromise ones)."""
    if "ca_admin" in principal.roles:
        return (*OFFICER_REASONS, "cACompromise", "aACompromise")
    if principal.kind != "officer":
        raise NotPermittedError("officers only")
    return OFFICER_REASONS
