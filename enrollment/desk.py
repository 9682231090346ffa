"""At the certification point: identity checks, dual-control approval, issuance and the one-time
PKCS#12 download.

Issuance calls the CA's :class:`ca.issuance.IssuancePipeline` outside any transaction of ours (it
runs its own crash-safe cycle): the application is first moved to ``issuing`` (a conditional
update, so two officers cannot issue twice), then the pipeline runs, then the result is recorded.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes
from cryptography.hazmat.primitives.serialization import Encoding

from ca.api import CAError, CertificateAuthority, IssueRequest, SubjectIdentity
from core import audit
from core.auth import Principal
from core.clock import Clock
from core.db import atomic, lock_row
from core.errors import FieldError, ValidationError
from enrollment import notifications
from enrollment.applications import ApplicationService
from enrollment.errors import (
    ApplicationStateError,
    DownloadGoneError,
    NotPermittedError,
)
from enrollment.models import Agreement, Application, Approval, CitizenCertificate, IdentityCheck, PKCS12Pickup
from enrollment.pkcs12 import build_pkcs12
from enrollment.secrets_util import hasher, new_revocation_code, normalise_code
from enrollment.settings import EnrollmentSettings
from enrollment.validation import load_csr_der, parse_date, validate_document
from enrollment.views import pem
from hsm.base import KeySpec
from hsm.software import generate_private_key

logger = logging.getLogger(__name__)

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


def add_years(moment: datetime, years: int) -> datetime:
    try:
        return moment.replace(year=moment.year + years)
    except ValueError:  # 29 February
        return moment.replace(year=moment.year + years, day=28)


class Desk:
    def __init__(self, settings: EnrollmentSettings, ca: CertificateAuthority, clock: Clock) -> None:
        self.settings = settings
        self.ca = ca
        self.clock = clock
        self.applications = ApplicationService(settings, clock)
        self._hasher = hasher(settings.password_hash_time_cost, settings.password_hash_memory_kib)

    def _own(self, reference: str, principal: Principal) -> Application:
        """The application, if it belongs to one of the officer's points (auditors only read)."""
        app = self.applications.for_officer(reference, principal)
        if app.point_id not in principal.points:
            raise NotPermittedError("only officers of the application's certification point may act on it")
        return app

    # -- identity check -----------------------------------------------------------------------
    def record_identity_check(self, reference: str, body: Mapping[str, Any], principal: Principal) -> IdentityCheck:
        app = self._own(reference, principal)
        now = self.clock.now()
        errors: list[FieldError] = []
        doc_type, doc_number = validate_document(
            body.get("document_type"), body.get("document_number"), errors, "document_"
        )
        expiry = parse_date(body.get("document_expiry"), "document_expiry", errors)
        if expiry is not None and expiry < now.date():
            errors.append(FieldError("document_expiry", "the document has expired", "expired"))
        if body.get("data_match") is not True:
            errors.append(
                FieldError("data_match", "the officer must confirm that the document matches the application")
            )
        version = body.get("agreement_version")
        agreement = None
        if isinstance(version, bool) or not isinstance(version, int):
            errors.append(
                FieldError("agreement_version", "must be the version number of the accepted agreement", "required")
            )
        else:
            agreement = Agreement.get_or_none(Agreement.version == version)
            if agreement is None:
                errors.append(FieldError("agreement_version", "no such agreement version"))
        if (
            app.document_type is not None
            and doc_number is not None
            and (doc_type != app.document_type or doc_number != app.document_number)
        ):
            errors.append(
                FieldError("document_number", "differs from the document named in the application", "mismatch")
            )
        if errors:
            raise ValidationError(errors, message="the identity check is incomplete")
        assert doc_type is not None and doc_number is not None and expiry is not None and agreement is not None
        with atomic():
            row = lock_row(Application.select().where(Application.id == app.id)).get()
            if row.state != "submitted" or row.expires_at <= now:
                state = "expired" if row.state == "submitted" else row.state
                raise ApplicationStateError(
                    reference, state, "an identity check needs a submitted, unexpired application"
                )
            check = IdentityCheck.create(
                application=app.id,
                officer=int(principal.id),
                point=app.point_id,
                document_type=doc_type,
                document_number=doc_number,
                document_expiry=expiry,
                data_match=True,
                agreement=agreement,
                key_generation=app.key_generation,
                checked_at=now,
                retain_until=add_years(now, self.settings.evidence_retention_years),
            )
            Application.update(state="verified", verified_at=now).where(Application.id == app.id).execute()
            audit.record(
                self.clock,
                actor=principal.actor,
                action="enrollment.identity_check",
                object_type="enrollment_application",
                object_id=app.id,
                details={
                    "reference": app.reference,
                    "check_id": check.id,
                    "document_type": doc_type,
                    "agreement_version": agreement.version,
                    "point_id": app.point_id,
                    "key_generation": app.key_generation,
                },
            )
        return check

    def evidence(self, reference: str, principal: Principal) -> list[dict[str, Any]]:
        app = self.applications.for_officer(reference, principal)
        if "auditor" not in principal.roles and app.point_id not in principal.points:
            raise NotPermittedError("evidence of another point")
        rows = IdentityCheck.select().where(IdentityCheck.application == app.id).order_by(IdentityCheck.id)
        return [
            {
                "id": r.id,
                "officer_id": r.officer_id,
                "point_id": r.point_id,
                "document_type": r.document_type,
                "document_number": r.document_number,
                "document_expiry": r.document_expiry.isoformat()
                if isinstance(r.document_expiry, date)
                else str(r.document_expiry),
                "data_match": r.data_match,
                "agreement_version": r.agreement.version,
                "key_generation": r.key_generation,
                "checked_at": r.checked_at.isoformat(),
                "retain_until": r.retain_until.isoformat(),
            }
            for r in rows
        ]

    # -- dual control -----------------------------------------------------------------------
    def approve(self, reference: str, principal: Principal) -> Approval:
        app = self._own(reference, principal)
        with atomic():
            row = lock_row(Application.select().where(Application.id == app.id)).get()
            if not app.point.dual_control:
                raise ApplicationStateError(reference, row.state, "this point does not use dual control")
            if row.state != "verified":
                raise ApplicationStateError(reference, row.state, "approval needs a verified application")
            checker = (
                IdentityCheck.select()
                .where(IdentityCheck.application == app.id)
                .order_by(IdentityCheck.id.desc())
                .first()
            )
            if checker is not None and str(checker.officer_id) == principal.id:
                raise NotPermittedError(
                    "dual control: the approving officer must not be the one who checked the identity"
                )
            approval = Approval.create(application=app.id, officer=int(principal.id), approved_at=self.clock.now())
            Application.update(state="approved").where(Application.id == app.id).execute()
            audit.record(
                self.clock,
                actor=principal.actor,
                action="enrollment.approve",
                object_type="enrollment_application",
                object_id=app.id,
                details={"reference": app.reference, "point_id": app.point_id},
            )
        return approval

    # -- issuance ---------------------------------------------------------------------------
    def issue(self, reference: str, body: Mapping[str, Any], principal: Principal) -> IssueResult:
        app = self._own(reference, principal)
        pin = body.get("pin")
        if app.key_generation == "point":
            if not isinstance(pin, str) or len(pin) < self.settings.pin_min_length or len(pin) > 64:
                raise ValidationError.single(
                    "pin",
                    f"the citizen's PIN for the PKCS#12 must have {self.settings.pin_min_length} to 64 characters",
                )
        elif pin is not None:
            raise ValidationError.single("pin", "only for keys generated at the point")
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
                raise ApplicationStateError(reference, row.state, f"issuance needs a {ready} application")
            previous = ready
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
        private_key = None
        issued = None
        try:
            if app.key_generation == "point":
                private_key = generate_private_key(KeySpec(self.settings.point_key_algorithm))
                public_key: CertificatePublicKeyTypes = private_key.public_key()  # type: ignore[assignment]
            else:
                public_key = load_csr_der(bytes(app.csr_der or b"")).public_key()
            subject = SubjectIdentity(
                given_name=app.given_names,
                surname=app.surname,
                pesel=app.pesel,
                id_card=app.document_number if app.document_type == "id_card" else None,
                passport=app.document_number if app.document_type == "passport" else None,
                email=app.email,
            )
            issued = self.ca.issue(
                IssueRequest(
                    profile=self.settings.certificate_profile,
                    subject=subject,
                    public_key=public_key,
                    subject_ref=f"application:{app.id}",
                ),
                actor=principal.actor,
            )
            chain = self.ca.chain(issued.issuer)
            p12 = None
            if private_key is not None:
                assert isinstance(pin, str)
                p12 = build_pkcs12(
                    private_key,
                    issued.certificate,
                    chain,
                    pin,
                    kdf_rounds=self.settings.pkcs12_kdf_rounds,
                    friendly_name=f"{app.given_names} {app.surname}",
                )
        except Exception:
            with atomic():
                if issued is not None:
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
            raise
        finally:
            private_key = None  # drop our reference to the key as soon as possible
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
        logger.info("issued certificate %s for application %s", issued.serial, app.reference)
        return IssueResult(
            reference=app.reference,
            issuer=issued.issuer,
            serial=issued.serial,
            not_before=issued.not_before,
            not_after=issued.not_after,
            certificate_pem=issued.certificate.public_bytes(Encoding.PEM).decode("ascii"),
            chain_pem=pem(chain),
            revocation_code=code,
            pkcs12_available=p12 is not None,
        )

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
        app = self._own(reference, principal)
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
                action="enrollment.pkcs12.download",
                object_type="enrollment_application",
                object_id=app.id,
                details={"reference": app.reference},
            )
        return data

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
                        action="enrollment.pkcs12.purge",
                        object_type="enrollment_application",
                        object_id=pickup.application_id,
                        details={"pickup_id": pickup.id},
                    )
        return purged

    def purge_evidence(self, *, actor: str = "system:jobs") -> int:
        """Identity evidence past its retention period is deleted (REFERENCE.md: 20 years)."""
        now = self.clock.now()
        ids = [
            r.id for r in IdentityCheck.select(IdentityCheck.id).where(IdentityCheck.retain_until <= now).limit(5000)
        ]
        if not ids:
            return 0
        with atomic():
            purged = (
                IdentityCheck.delete().where(IdentityCheck.id.in_(ids) & (IdentityCheck.retain_until <= now)).execute()
            )
            if purged:
                audit.record(
                    self.clock,
                    actor=actor,
                    action="enrollment.evidence.purge",
                    object_type="enrollment_identity_check",
                    object_id="-",
                    details={"count": purged, "first_id": min(ids), "last_id": max(ids)},
                )
        return int(purged)


def certificate_from_pem(text: str) -> x509.Certificate:
    return x509.load_pem_x509_certificate(text.encode("ascii"))
