"""Renewal without a visit: a new certificate for a new key, proven by the current certificate's
key (a detached signature over the new CSR's DER).

Allowed from ``renewal_window_days`` before expiry, for a valid, unsuspended certificate not
renewed before, at most ``max_remote_renewals`` times in a row; the new validity starts when the
old one ends (REFERENCE.md, Certum practice). The certificate is marked renewed before the CA is
asked (a conditional update, so a renewal happens once) and unmarked when the CA fails.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from ca.api import CertificateAuthority, IssuedCertificate
from ca.api import IssueRequest as CAIssueRequest
from core import audit
from core.clock import Clock
from core.db import atomic
from core.errors import ValidationError
from core.signing import verify_data
from enrollment import notifications
from enrollment.errors import CitizenCertificateNotFoundError, RenewalRefusedError
from enrollment.handover import subject_of
from enrollment.lifecycle import by_serial
from enrollment.models import CitizenCertificate
from enrollment.requests import RenewalRequest
from enrollment.settings import EnrollmentSettings
from enrollment.validation import load_csr_der
from enrollment.views import pem, public_status


@dataclass(frozen=True)
class RenewalResult:
    issuer: str
    serial: str
    not_before: datetime
    not_after: datetime
    certificate_pem: str
    chain_pem: str


def _spki(key: object) -> bytes:
    return key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)  # type: ignore[attr-defined, no-any-return]


class Renewals:
    def __init__(self, settings: EnrollmentSettings, ca: CertificateAuthority, clock: Clock) -> None:
        self.settings = settings
        self.ca = ca
        self.clock = clock

    def renew(self, request: RenewalRequest, *, actor: str) -> RenewalResult:
        cert, new_key = self._proven(request)
        self._check_allowed(cert)
        self._claim(cert, actor)
        try:
            issued = self.ca.issue(
                CAIssueRequest(
                    profile=self.settings.certificate_profile,
                    subject=subject_of(cert.application),
                    public_key=new_key,
                    not_before=max(cert.not_after, self.clock.now()),
                    subject_ref=f"application:{cert.application.id}",
                ),
                actor=actor,
            )
        except Exception:
            self._unclaim(cert, actor)
            raise
        self._record(cert, issued, actor)
        return RenewalResult(
            issuer=issued.issuer,
            serial=issued.serial,
            not_before=issued.not_before,
            not_after=issued.not_after,
            certificate_pem=issued.certificate.public_bytes(Encoding.PEM).decode("ascii"),
            chain_pem=pem(self.ca.chain(issued.issuer)),
        )

    def _proven(self, request: RenewalRequest) -> tuple[CitizenCertificate, CertificatePublicKeyTypes]:
        """The certificate, if the request is signed with its key; the new key (a new one)."""
        cert = by_serial(request.serial)
        old = self.ca.certificate(cert.issuer, cert.serial) if cert is not None else None
        if cert is None or old is None:
            raise CitizenCertificateNotFoundError(request.serial)
        try:
            verify_data(old.public_key(), request.signature, request.csr_der)  # type: ignore[arg-type]
        except (InvalidSignature, TypeError, ValueError):
            raise ValidationError.single("signature", "does not verify with the current certificate's key") from None
        new_key = load_csr_der(request.csr_der).public_key()
        if _spki(new_key) == _spki(old.public_key()):
            raise ValidationError.single("csr", "the renewal needs a new key pair")
        return cert, new_key

    def _check_allowed(self, cert: CitizenCertificate) -> None:
        state = public_status(self.ca.state(cert.issuer, cert.serial))
        if state != "valid":
            raise RenewalRefusedError(
                f"certificate {cert.serial} is {state}; only a valid, unsuspended certificate can be renewed"
            )
        if cert.remote_renewals >= self.settings.max_remote_renewals:
            raise RenewalRefusedError("the remote-renewal limit is reached; a new in-person identity check is required")
        opens = cert.not_after - timedelta(days=self.settings.renewal_window_days)
        if self.clock.now() < opens:
            raise RenewalRefusedError(
                f"renewal opens {self.settings.renewal_window_days} days before expiry ({opens.isoformat()})"
            )

    def _claim(self, cert: CitizenCertificate, actor: str) -> None:
        with atomic():
            claimed = (
                CitizenCertificate.update(renewed=True)
                .where((CitizenCertificate.id == cert.id) & (CitizenCertificate.renewed == False))  # noqa: E712
                .execute()
            )
            if not claimed:
                raise RenewalRefusedError(f"certificate {cert.serial} has already been renewed")
            audit.record(
                self.clock,
                actor=actor,
                action="enrollment.renew.start",
                object_type="enrollment_certificate",
                object_id=cert.id,
                details={"serial": cert.serial},
            )

    def _unclaim(self, cert: CitizenCertificate, actor: str) -> None:
        with atomic():
            CitizenCertificate.update(renewed=False).where(CitizenCertificate.id == cert.id).execute()
            audit.record(
                self.clock,
                actor=actor,
                action="enrollment.renew.fail",
                object_type="enrollment_certificate",
                object_id=cert.id,
                outcome="failure",
                details={"serial": cert.serial},
            )

    def _record(self, cert: CitizenCertificate, issued: IssuedCertificate, actor: str) -> None:
        app = cert.application
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
                    "old_serial": cert.serial,
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
