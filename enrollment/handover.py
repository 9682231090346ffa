"""Issuance and hand-over at the certification point: the certificate, the revocation code,
the one-time PKCS#12 download and the officer's record that the file was handed over.

Issuance asks the CA (:class:`ca.api.CertificateAuthority`) outside any transaction of ours (the
CA runs its own crash-safe cycle): the application is first moved to ``issuing`` (a conditional
update, so two officers cannot issue twice), then the CA signs, then the result is recorded. A
certificate signed for an application whose recording failed is revoked as ``superseded``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes, PrivateKeyTypes
from cryptography.hazmat.primitives.serialization import Encoding

from ca.api import CAError, CertificateAuthority, IssuedCertificate, SubjectIdentity
from ca.api import IssueRequest as CAIssueRequest
from core import audit
from core.audit import AuditRecord
from core.auth import Principal
from core.clock import Clock
from core.db import atomic, lock_row
from core.errors import ValidationError
from enrollment import notifications
from enrollment.applications import ApplicationService
from enrollment.errors import ApplicationStateError, DownloadGoneError, NotPermittedError
from enrollment.models import Application, CitizenCertificate, PKCS12Pickup
from enrollment.pkcs12 import build_pkcs12
from enrollment.requests import IssueRequest
from enrollment.secrets_util import hasher, new_revocation_code, normalise_code
from enrollment.settings import EnrollmentSettings
from enrollment.validation import load_csr_der
from enrollment.views import pem
from hsm.base import KeySpec
from hsm.software import generate_private_key

logger = logging.getLogger(__name__)

DOWNLOADED = "enrollment.pkcs12.download"
HANDED_OVER = "enrollment.handover"
PURGED = "enrollment.pkcs12.purge"

# An ``issuing`` application older than this is considered abandoned (crash) and may be retried.
ISSUING_STALE = timedelta(minutes=10)


@dataclass(frozen=True)
class IssueResult:
    reference: str
    issuer: str
    serial: str
    not_before: datetime
    not_after: datetime
    certificate_pem: str
    chain_pem: str
    revocation_code: str  # shown once
    pkcs12_available: bool


@dataclass
class _Attempt:
    """What an issuance attempt got as far as (a failure after signing revokes the certificate)."""

    issued: IssuedCertificate | None = None


@dataclass(frozen=True)
class _Signed:
    issued: IssuedCertificate
    chain: list[x509.Certificate]
    pkcs12: bytes | None


def subject_of(app: Application) -> SubjectIdentity:
    """The certificate subject of an application's citizen (EN 319 412-2 natural person)."""
    return SubjectIdentity(
        given_name=app.given_names,
        surname=app.surname,
        pesel=app.pesel,
        id_card=app.document_number if app.document_type == "id_card" else None,
        passport=app.document_number if app.document_type == "passport" else None,
        email=app.email,
    )


class HandOver:
    def __init__(self, settings: EnrollmentSettings, ca: CertificateAuthority, clock: Clock) -> None:
        self.settings = settings
        self.ca = ca
        self.clock = clock
        self.applications = ApplicationService(settings, clock)
        self._hasher = hasher(settings.password_hash_time_cost, settings.password_hash_memory_kib)

    def issue(self, reference: str, request: IssueRequest, principal: Principal) -> IssueResult:
        app = self.applications.own(reference, principal)
        self._check_pin(app, request)
        previous = self._start(app, principal)
        attempt = _Attempt()
        try:
            signed = self._sign(app, request.pin, principal, attempt)
        except Exception:
            self._abandon(app, principal, previous, signed_any=attempt.issued is not None)
            raise
        code = self._record(app, principal, signed)
        logger.info("issued certificate %s for application %s", signed.issued.serial, app.reference)
        issued = signed.issued
        return IssueResult(
            reference=app.reference,
            issuer=issued.issuer,
            serial=issued.serial,
            not_before=issued.not_before,
            not_after=issued.not_after,
            certificate_pem=issued.certificate.public_bytes(Encoding.PEM).decode("ascii"),
            chain_pem=pem(signed.chain),
            revocation_code=code,
            pkcs12_available=signed.pkcs12 is not None,
        )

    def _check_pin(self, app: Application, request: IssueRequest) -> None:
        pin = request.pin
        if app.key_generation == "point":
            if pin is None or len(pin) < self.settings.pin_min_length or len(pin) > 64:
                raise ValidationError.single(
                    "pin",
                    f"the citizen's PIN for the PKCS#12 must have {self.settings.pin_min_length} to 64 characters",
                )
        elif request.pin_given:
            raise ValidationError.single("pin", "only for keys generated at the point")

    def _start(self, app: Application, principal: Principal) -> str:
        """Move the application to ``issuing``; return the state to fall back to on failure."""
        ready = "approved" if app.point.dual_control else "verified"
        now = self.clock.now()
        with atomic():
            row = lock_row(Application.select().where(Application.id == app.id)).get()
            stale = (
                row.state == "issuing"
                and row.issuing_started_at is not None
                and row.issuing_started_at + ISSUING_STALE <= now
            )
            if row.state != ready and not stale:
                raise ApplicationStateError(app.reference, row.state, f"issuance needs a {ready} application")
            if stale:
                # A crash left this application in "issuing": a certificate the CA may have signed
                # then was never handed over (for a key made at the point, its key is gone).
                self._revoke_orphans(app.id, principal.actor)
            Application.update(state="issuing", issuing_started_at=now).where(Application.id == app.id).execute()
            audit.record(
                self.clock,
                actor=principal.actor,
                action="enrollment.issue.start",
                object_type="enrollment_application",
                object_id=app.id,
                details={"reference": app.reference, "key_generation": app.key_generation, "retry": stale},
            )
        return ready

    def _sign(self, app: Application, pin: str | None, principal: Principal, attempt: _Attempt) -> _Signed:
        """The CA signs for the CSR's key, or for a key made here (then packed into a PKCS#12)."""
        private_key: PrivateKeyTypes | None = None
        if app.key_generation == "point":
            private_key = generate_private_key(KeySpec(self.settings.point_key_algorithm))
            public_key: CertificatePublicKeyTypes = private_key.public_key()  # type: ignore[assignment]
        else:
            public_key = load_csr_der(bytes(app.csr_der or b"")).public_key()
        request = CAIssueRequest(
            profile=self.settings.certificate_profile,
            subject=subject_of(app),
            public_key=public_key,
            subject_ref=f"application:{app.id}",
        )
        try:
            issued = attempt.issued = self.ca.issue(request, actor=principal.actor)
            chain = self.ca.chain(issued.issuer)
            p12 = None
            if private_key is not None:
                assert pin is not None
                p12 = build_pkcs12(
                    private_key,
                    issued.certificate,
                    chain,
                    pin,
                    kdf_rounds=self.settings.pkcs12_kdf_rounds,
                    friendly_name=f"{app.given_names} {app.surname}",
                )
        finally:
            private_key = None  # drop our reference to the key as soon as possible
        return _Signed(issued, chain, p12)

    def _abandon(self, app: Application, principal: Principal, previous: str, *, signed_any: bool) -> None:
        """Undo a failed issuance: revoke what was signed, give the application back its state."""
        with atomic():
            if signed_any:
                self._revoke_orphans(app.id, principal.actor)
            Application.update(state=previous, issuing_started_at=None).where(
                (Application.id == app.id) & (Application.state == "issuing")
            ).execute()
            audit.record(
                self.clock,
                actor=principal.actor,
                action="enrollment.issue.fail",
                object_type="enrollment_application",
                object_id=app.id,
                outcome="failure",
                details={"reference": app.reference},
            )

    def _record(self, app: Application, principal: Principal, signed: _Signed) -> str:
        """Store the hand-over (certificate, hashed revocation code, PKCS#12 pick-up), audit it and
        queue the citizen's e-mail; return the revocation code (shown once)."""
        issued, p12 = signed.issued, signed.pkcs12
        code = new_revocation_code()
        code_hash = self._hasher.hash(normalise_code(code))
        done = self.clock.now()
        with atomic():
            Application.update(state="issued", issued_at=done).where(Application.id == app.id).execute()
            cert_row = CitizenCertificate.create(
                application=app.id,
                issuer=issued.issuer,
                serial=issued.serial,
                not_before=issued.not_before,
                not_after=issued.not_after,
                revocation_code_hash=code_hash,
                created_at=done,
            )
            if p12 is not None:
                PKCS12Pickup.delete().where(PKCS12Pickup.application == app.id).execute()
                PKCS12Pickup.create(
                    application=app.id,
                    officer=int(principal.id),
                    pkcs12=p12,
                    created_at=done,
                    expires_at=done + timedelta(hours=self.settings.pkcs12_pickup_hours),
                )
            audit.record(
                self.clock,
                actor=principal.actor,
                action="enrollment.issue",
                object_type="enrollment_application",
                object_id=app.id,
                details={
                    "reference": app.reference,
                    "issuer": issued.issuer,
                    "serial": issued.serial,
                    "certificate_id": cert_row.id,
                    "key_generation": app.key_generation,
                },
            )
            notifications.queue(
                self.clock,
                "certificate_issued",
                app.email,
                name=app.given_names,
                serial=issued.serial,
                not_before=notifications.polish_time(issued.not_before),
                not_after=notifications.polish_time(issued.not_after),
            )
        return code

    def _revoke_orphans(self, application_id: int, actor: str) -> int:
        """Revoke (superseded) certificates signed for this application but never handed over."""
        handed_over = {
            c.serial for c in CitizenCertificate.select().where(CitizenCertificate.application == application_id)
        }
        revoked = 0
        for state in self.ca.certificates_of(f"application:{application_id}"):
            if state.serial in handed_over or state.reason is not None or state.condition == "unknown":
                continue
            try:
                self.ca.revoke(state.issuer, state.serial, "superseded", actor=actor)
            except CAError:
                logger.warning("could not revoke orphaned certificate %s", state.serial)
                continue
            revoked += 1
        return revoked

    def download_pkcs12(self, reference: str, principal: Principal) -> bytes:
        """The PKCS#12, exactly once, to the officer who issued it; deleted in the same transaction."""
        app = self.applications.own(reference, principal)
        now = self.clock.now()
        with atomic():
            pickup = lock_row(PKCS12Pickup.select().where(PKCS12Pickup.application == app.id)).first()
            if pickup is None or pickup.expires_at <= now:
                raise DownloadGoneError("no PKCS#12 waiting for download (already downloaded, expired or never made)")
            if str(pickup.officer_id) != principal.id:
                raise NotPermittedError("only the officer who issued the certificate may download its PKCS#12")
            data = bytes(pickup.pkcs12)
            deleted = PKCS12Pickup.delete().where(PKCS12Pickup.id == pickup.id).execute()
            if deleted != 1:
                raise DownloadGoneError("the PKCS#12 was downloaded concurrently")
            audit.record(
                self.clock,
                actor=principal.actor,
                action=DOWNLOADED,
                object_type="enrollment_application",
                object_id=app.id,
                details={"reference": app.reference},
            )
        return data

    def handover_state(self, app: Application) -> str:
        """``none`` (no key made at the point, or not issued), ``waiting`` (PKCS#12 not yet
        downloaded), ``to_confirm`` (downloaded, hand-over not recorded), ``recorded`` or ``lost``
        (the file expired unread and was destroyed)."""
        if app.key_generation != "point" or app.state != "issued":
            return "none"
        actions = set(_application_events(app.id, (DOWNLOADED, HANDED_OVER, PURGED)))
        if HANDED_OVER in actions:
            return "recorded"
        if DOWNLOADED in actions:
            return "to_confirm"
        if PKCS12Pickup.select().where(PKCS12Pickup.application == app.id).exists():
            return "waiting"
        return "lost" if PURGED in actions else "none"

    def record_handover(self, reference: str, principal: Principal) -> None:
        """The officer who downloaded the PKCS#12 confirms it was saved on the citizen's pendrive
        (and nowhere else): recorded once in the audit trail, under a lock on the application."""
        app = self.applications.own(reference, principal)
        with atomic():
            app = lock_row(Application.select().where(Application.id == app.id)).get()
            state = self.handover_state(app)
            if state != "to_confirm":
                raise ApplicationStateError(
                    reference,
                    f"{app.state} (hand-over {state})",
                    "the PKCS#12 must be downloaded and not yet handed over",
                )
            downloader = _application_events(app.id, (DOWNLOADED,)).get(DOWNLOADED)
            if downloader != principal.actor:
                raise NotPermittedError("only the officer who downloaded the PKCS#12 may record its hand-over")
            audit.record(
                self.clock,
                actor=principal.actor,
                action=HANDED_OVER,
                object_type="enrollment_application",
                object_id=app.id,
                details={"reference": app.reference, "medium": "citizen_usb_drive"},
            )

    def purge_pickups(self, *, actor: str = "system:jobs") -> int:
        """PKCS#12 files not downloaded in time are destroyed (the certificate stays issued)."""
        now = self.clock.now()
        purged = 0
        for pickup in list(
            PKCS12Pickup.select(PKCS12Pickup.id, PKCS12Pickup.application).where(PKCS12Pickup.expires_at <= now)
        ):
            with atomic():
                if PKCS12Pickup.delete().where(PKCS12Pickup.id == pickup.id).execute():
                    purged += 1
                    audit.record(
                        self.clock,
                        actor=actor,
                        action=PURGED,
                        object_type="enrollment_application",
                        object_id=pickup.application_id,
                        details={"pickup_id": pickup.id},
                    )
        return purged


def _application_events(application_id: int, actions: tuple[str, ...]) -> dict[str, str]:
    """action -> actor of the latest audit record of each of ``actions`` about the application."""
    rows: Any = (
        AuditRecord.select(AuditRecord.action, AuditRecord.actor)
        .where(
            (AuditRecord.object_type == "enrollment_application")
            & (AuditRecord.object_id == str(application_id))
            & AuditRecord.action.in_(list(actions))
        )
        .order_by(AuditRecord.seq)
        .tuples()
    )
    return {str(action): str(actor) for action, actor in rows}
