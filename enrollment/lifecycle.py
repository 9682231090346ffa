"""A citizen certificate's life after issuance: status, suspend, resume, revoke, renew.

Three ways in, one set of rules:
- the portal (scope ``citizens``) acting for the citizen it identified (PESEL or document number
  in ``X-Citizen-Pesel`` / ``X-Citizen-Document``); only that citizen's certificates are visible;
- the revocation code (no portal): status, suspend, revoke — never resume; 5 wrong codes for a
  serial in 15 minutes lock it (429 with Retry-After);
- an officer of the certificate's point (or a ``ca_admin``).
Renewal needs a CSR for the new key and a detached signature over that CSR's DER made with the
current certificate's key.
"""

from __future__ import annotations

import base64
import binascii
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.serialization import Encoding

from ca.api import CertificateAuthority, CertificateState, IssueRequest, SubjectIdentity, canonical_serial
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
    RenewalRefusedError,
    WrongCodeError,
)
from enrollment.models import Application, CitizenCertificate
from enrollment.secrets_util import hasher, normalise_code, verify_hash
from enrollment.settings import EnrollmentSettings
from enrollment.validation import load_csr_der, parse_csr
from enrollment.views import pem, public_status

logger = logging.getLogger(__name__)

# Reasons a citizen may give (RFC 5280 §5.3.1); certificateHold is "suspend", never a revocation reason.
CITIZEN_REASONS = ("unspecified", "keyCompromise", "affiliationChanged", "superseded", "cessationOfOperation")
OFFICER_REASONS = (*CITIZEN_REASONS, "privilegeWithdrawn")


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
        if document:
            return cls(document_number=document.replace(" ", "").upper())
        raise ValidationError.single("X-Citizen-Pesel", "the portal must name the citizen it identified", "required")

    def owns(self, app: Application) -> bool:
        if self.pesel is not None:
            return app.pesel == self.pesel
        return app.document_number is not None and app.document_number == self.document_number


@dataclass(frozen=True)
class RenewalResult:
    issuer: str
    serial: str
    not_before: datetime
    not_after: datetime
    certificate_pem: str
    chain_pem: str


def status_view(cert: CitizenCertificate, state: CertificateState) -> dict[str, Any]:
    status = public_status(state)
    return {
        "issuer": cert.issuer,
        "serial": cert.serial,
        "status": status,
        "not_before": cert.not_before.isoformat(),
        "not_after": cert.not_after.isoformat(),
        "revoked_at": state.revoked_at.isoformat() if state.revoked_at else None,
        "revocation_reason": state.reason if status == "revoked" else None,
        "remote_renewals": cert.remote_renewals,
        "renewed": cert.renewed,
    }


def _serial(value: Any) -> str:
    """The canonical hex form (ca.serials) of a serial given by a client."""
    if not isinstance(value, str) or not value.strip():
        raise ValidationError.single("serial", "is required", "required")
    try:
        return canonical_serial(value)
    except ValidationError:
        raise ValidationError.single("serial", "must be the certificate serial in hex") from None


class Lifecycle:
    def __init__(self, settings: EnrollmentSettings, ca: CertificateAuthority, clock: Clock) -> None:
        self.settings = settings
        self.ca = ca
        self.clock = clock
        self._hasher = hasher(settings.password_hash_time_cost, settings.password_hash_memory_kib)

    def _state(self, cert: CitizenCertificate) -> str:
        return public_status(self.ca.state(cert.issuer, cert.serial))

    # -- finding the certificate ---------------------------------------------------------------
    def _by_serial(self, serial: str) -> CitizenCertificate | None:
        row: CitizenCertificate | None = (
            CitizenCertificate.select(CitizenCertificate, Application)
            .join(Application)
            .where(CitizenCertificate.serial == serial)
            .first()
        )
        return row

    def for_citizen(self, serial: str, identity: CitizenIdentity) -> CitizenCertificate:
        serial = _serial(serial)
        cert = self._by_serial(serial)
        # Someone else's certificate looks exactly like a missing one.
        if cert is None or not identity.owns(cert.application):
            raise CitizenCertificateNotFoundError(serial)
        return cert

    def list_for_citizen(self, identity: CitizenIdentity) -> list[dict[str, Any]]:
        query = CitizenCertificate.select(CitizenCertificate, Application).join(Application)
        if identity.pesel is not None:
            query = query.where(Application.pesel == identity.pesel)
        else:
            query = query.where(Application.document_number == identity.document_number)
        return [self.status(c) for c in query.order_by(CitizenCertificate.id)]

    def for_officer(self, serial: str, principal: Principal) -> CitizenCertificate:
        serial = _serial(serial)
        cert = self._by_serial(serial)
        if cert is None:
            raise CitizenCertificateNotFoundError(serial)
        if "ca_admin" not in principal.roles and cert.application.point_id not in principal.points:
            raise CitizenCertificateNotFoundError(serial)
        return cert

    def with_code(self, serial_value: Any, code_value: Any) -> CitizenCertificate:
        """Check a serial + revocation code, with a lockout per serial (5 wrong in 15 minutes → 429)."""
        serial = _serial(serial_value)
        if not isinstance(code_value, str) or not code_value.strip():
            raise ValidationError.single("code", "the revocation code is required", "required")
        subject = f"code:{serial}"
        limiter = self._limiter()
        limiter.check(subject)
        cert = self._by_serial(serial)
        if cert is not None and verify_hash(self._hasher, cert.revocation_code_hash, normalise_code(code_value)):
            return cert
        limiter.failed(subject)
        with atomic():
            audit.record(
                self.clock,
                actor="anonymous:-",
                action="enrollment.code.wrong",
                object_type="enrollment_certificate",
                object_id=cert.id if cert else "-",
                outcome="failure",
                details={"serial": serial},
            )
        raise WrongCodeError("wrong serial or revocation code")

    # -- actions ----------------------------------------------------------------------------
    def status(self, cert: CitizenCertificate) -> dict[str, Any]:
        return status_view(cert, self.ca.state(cert.issuer, cert.serial))

    def suspend(self, cert: CitizenCertificate, *, actor: str, channel: str) -> dict[str, Any]:
        state = self._state(cert)
        if state != "valid":
            raise CertificateStateError(
                f"certificate {cert.serial} is {state}; only a valid certificate can be suspended"
            )
        with atomic():
            self.ca.suspend(cert.issuer, cert.serial, actor=actor)
            self._after(cert, "certificate_suspended", actor, "enrollment.certificate.suspend", channel)
        return self.status(cert)

    def resume(self, cert: CitizenCertificate, *, actor: str, channel: str) -> dict[str, Any]:
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
        self,
        cert: CitizenCertificate,
        reason: Any,
        *,
        actor: str,
        channel: str,
        allowed: tuple[str, ...] = CITIZEN_REASONS,
    ) -> dict[str, Any]:
        if reason is None:
            reason = "unspecified"
        if reason not in allowed:
            raise ValidationError.single("reason", f"must be one of {', '.join(allowed)}")
        state = self._state(cert)
        if state not in ("valid", "suspended", "not_yet_valid"):
            raise CertificateStateError(f"certificate {cert.serial} is {state}; it cannot be revoked")
        with atomic():
            self.ca.revoke(cert.issuer, cert.serial, reason, actor=actor)
            self._after(cert, "certificate_revoked", actor, "enrollment.certificate.revoke", channel, reason=reason)
        return self.status(cert)

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

    # -- renewal ----------------------------------------------------------------------------
    def renew(self, body: Mapping[str, Any], *, actor: str) -> RenewalResult:
        """A new certificate for a new key, proven by the current certificate's key, without a visit.

        Allowed from ``renewal_window_days`` before expiry, for a valid, unsuspended certificate not
        renewed before, at most ``max_remote_renewals`` times in a row; the new validity starts when
        the old one ends (REFERENCE.md, Certum practice).
        """
        errors: list[FieldError] = []
        serial = _serial(body.get("serial"))
        csr_der = parse_csr(body.get("csr"), errors)
        signature_text = body.get("signature")
        signature = b""
        if not isinstance(signature_text, str) or not signature_text.strip():
            errors.append(
                FieldError(
                    "signature", "a base64 signature over the CSR (DER) by the current key is required", "required"
                )
            )
        else:
            try:
                signature = base64.b64decode(signature_text, validate=True)
            except (binascii.Error, ValueError):
                errors.append(FieldError("signature", "must be base64"))
        if errors:
            raise ValidationError(errors, message="the renewal request has invalid fields")
        assert csr_der is not None
        cert = self._by_serial(serial)
        old = self.ca.certificate(cert.issuer, cert.serial) if cert is not None else None
        if cert is None or old is None:
            raise CitizenCertificateNotFoundError(serial)
        try:
            verify_data(old.public_key(), signature, csr_der)  # type: ignore[arg-type]
        except (InvalidSignature, TypeError, ValueError):
            raise ValidationError.single("signature", "does not verify with the current certificate's key") from None
        new_key = load_csr_der(csr_der).public_key()
        spki = Encoding.DER
        from cryptography.hazmat.primitives.serialization import PublicFormat

        if new_key.public_bytes(spki, PublicFormat.SubjectPublicKeyInfo) == old.public_key().public_bytes(
            spki, PublicFormat.SubjectPublicKeyInfo
        ):
            raise ValidationError.single("csr", "the renewal needs a new key pair")
        now = self.clock.now()
        state = self._state(cert)
        if state != "valid":
            raise RenewalRefusedError(
                f"certificate {serial} is {state}; only a valid, unsuspended certificate can be renewed"
            )
        if cert.remote_renewals >= self.settings.max_remote_renewals:
            raise RenewalRefusedError("the remote-renewal limit is reached; a new in-person identity check is required")
        opens = cert.not_after - timedelta(days=self.settings.renewal_window_days)
        if now < opens:
            raise RenewalRefusedError(
                f"renewal opens {self.settings.renewal_window_days} days before expiry ({opens.isoformat()})"
            )
        with atomic():
            claimed = (
                CitizenCertificate.update(renewed=True)
                .where(
                    (CitizenCertificate.id == cert.id) & (CitizenCertificate.renewed == False)  # noqa: E712
                )
                .execute()
            )
            if not claimed:
                raise RenewalRefusedError(f"certificate {serial} has already been renewed")
            audit.record(
                self.clock,
                actor=actor,
                action="enrollment.renew.start",
                object_type="enrollment_certificate",
                object_id=cert.id,
                details={"serial": serial},
            )
        app = cert.application
        try:
            issued = self.ca.issue(
                IssueRequest(
                    profile=self.settings.certificate_profile,
                    subject=SubjectIdentity(
                        given_name=app.given_names,
                        surname=app.surname,
                        pesel=app.pesel,
                        id_card=app.document_number if app.document_type == "id_card" else None,
                        passport=app.document_number if app.document_type == "passport" else None,
                        email=app.email,
                    ),
                    public_key=new_key,
                    not_before=max(cert.not_after, now),
                    subject_ref=f"application:{app.id}",
                ),
                actor=actor,
            )
        except Exception:
            with atomic():
                CitizenCertificate.update(renewed=False).where(CitizenCertificate.id == cert.id).execute()
                audit.record(
                    self.clock,
                    actor=actor,
                    action="enrollment.renew.fail",
                    object_type="enrollment_certificate",
                    object_id=cert.id,
                    outcome="failure",
                    details={"serial": serial},
                )
            raise
        with atomic():
            new = CitizenCertificate.create(
                application=app.id,
                issuer=issued.issuer,
                serial=issued.serial,
                not_before=issued.not_before,
                not_after=issued.not_after,
                revocation_code_hash=cert.revocation_code_hash,
                remote_renewals=cert.remote_renewals + 1,
                renewed_from=cert.id,
                created_at=self.clock.now(),
            )
            audit.record(
                self.clock,
                actor=actor,
                action="enrollment.renew",
                object_type="enrollment_certificate",
                object_id=new.id,
                details={
                    "old_serial": serial,
                    "serial": issued.serial,
                    "issuer": issued.issuer,
                    "remote_renewals": new.remote_renewals,
                },
            )
            notifications.queue(
                self.clock,
                "certificate_renewed",
                app.email,
                name=app.given_names,
                serial=issued.serial,
                not_before=notifications.polish_time(issued.not_before),
                not_after=notifications.polish_time(issued.not_after),
            )
        return RenewalResult(
            issuer=issued.issuer,
            serial=issued.serial,
            not_before=issued.not_before,
            not_after=issued.not_after,
            certificate_pem=issued.certificate.public_bytes(Encoding.PEM).decode("ascii"),
            chain_pem=pem(self.ca.chain(issued.issuer)),
        )

    # -- jobs -------------------------------------------------------------------------------
    def send_reminders(self) -> int:
        """Expiry reminders at each of ``reminder_days`` before notAfter (once each; multi-host safe)."""
        now = self.clock.now()
        queued = 0
        for days in sorted(self.settings.reminder_days, reverse=True):
            horizon = now + timedelta(days=days)
            rows = list(
                CitizenCertificate.select(CitizenCertificate, Application)
                .join(Application)
                .where(
                    (CitizenCertificate.not_after > now)
                    & (CitizenCertificate.not_after <= horizon)
                    & (CitizenCertificate.renewed == False)  # noqa: E712 - peewee expression
                )
            )
            for cert in rows:
                sent = {int(d) for d in cert.reminders_sent.split(",") if d}
                # One reminder per threshold; a certificate found late gets only the nearest one.
                if days in sent or any(d < days for d in sent):
                    continue
                if self._state(cert) != "valid":
                    continue
                marks = ",".join(str(d) for d in sorted(sent | {days}))
                with atomic():
                    won = (
                        CitizenCertificate.update(reminders_sent=marks)
                        .where(
                            (CitizenCertificate.id == cert.id)
                            & (CitizenCertificate.reminders_sent == cert.reminders_sent)
                        )
                        .execute()
                    )
                    if not won:
                        continue
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
                queued += 1
        return queued

    def purge_code_attempts(self) -> int:
        return self._limiter().purge()

    def _limiter(self) -> AttemptLimiter:
        return AttemptLimiter(
            self.clock, max_attempts=self.settings.code_max_attempts, window_minutes=self.settings.code_window_minutes
        )


def require_officer_reason(principal: Principal) -> tuple[str, ...]:
    if "ca_admin" in principal.roles:
        return (*OFFICER_REASONS, "cACompromise", "aACompromise")
    if principal.kind != "officer":
        raise NotPermittedError("officers only")
    return OFFICER_REASONS
