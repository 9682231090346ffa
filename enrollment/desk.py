"""At the certification point, before issuance: the identity check with its evidence, and
dual-control approval. Issuance and hand-over are in :mod:`enrollment.handover`."""

from __future__ import annotations

import logging
from datetime import datetime

from core import audit
from core.auth import Principal
from core.clock import Clock
from core.db import atomic, lock_row
from core.errors import FieldError, ValidationError
from enrollment.adulthood import check_adulthood
from enrollment.applications import ApplicationService
from enrollment.errors import ApplicationStateError, NotPermittedError
from enrollment.models import Agreement, Application, Approval, IdentityCheck
from enrollment.requests import IdentityCheckRequest
from enrollment.settings import EnrollmentSettings
from enrollment.views import EvidenceView

logger = logging.getLogger(__name__)


def add_years(moment: datetime, years: int) -> datetime:
    try:
        return moment.replace(year=moment.year + years)
    except ValueError:  # 29 February
        return moment.replace(year=moment.year + years, day=28)


class Desk:
    def __init__(self, settings: EnrollmentSettings, clock: Clock) -> None:
        self.settings = settings
        self.clock = clock
        self.applications = ApplicationService(settings, clock)

    # -- identity check -----------------------------------------------------------------------
    def record_identity_check(
        self, reference: str, request: IdentityCheckRequest, principal: Principal
    ) -> IdentityCheck:
        app = self.applications.own(reference, principal)
        agreement = self._check(app, request)
        now = self.clock.now()
        with atomic():
            row = lock_row(Application.select().where(Application.id == app.id)).get()
            if row.state != "submitted" or row.expires_at <= now:
                state = "expired" if row.state == "submitted" else row.state
                raise ApplicationStateError(
                    reference, state, "an identity check needs a submitted, unexpired application"
                )
            assert request.document_type and request.document_number and request.document_expiry
            check = IdentityCheck.create(
                application=app.id,
                officer=int(principal.id),
                point=app.point_id,
                document_type=request.document_type,
                document_number=request.document_number,
                document_expiry=request.document_expiry,
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
                    "document_type": request.document_type,
                    "agreement_version": agreement.version,
                    "point_id": app.point_id,
                    "key_generation": app.key_generation,
                },
            )
        return check

    def _check(self, app: Application, request: IdentityCheckRequest) -> Agreement:
        """Every problem of the check at once (decoding's and ours); the accepted agreement."""
        errors = list(request.problems)
        expiry = request.document_expiry
        if expiry is not None and expiry < self.clock.now().date():
            # after the date problems, before data_match's (the order the API always reported)
            errors.insert(_after_document(errors), FieldError("document_expiry", "the document has expired", "expired"))
        check_adulthood(app.pesel, request.birth_date, self.clock.now(), errors)
        agreement = None
        if request.agreement_version is not None:
            agreement = Agreement.get_or_none(Agreement.version == request.agreement_version)
            if agreement is None:
                errors.append(FieldError("agreement_version", "no such agreement version"))
        if (
            app.document_type is not None
            and request.document_number is not None
            and (request.document_type != app.document_type or request.document_number != app.document_number)
        ):
            errors.append(
                FieldError("document_number", "differs from the document named in the application", "mismatch")
            )
        if errors:
            raise ValidationError(errors, message="the identity check is incomplete")
        assert agreement is not None
        return agreement

    def evidence(self, reference: str, principal: Principal) -> list[EvidenceView]:
        app = self.applications.for_officer(reference, principal)
        if "auditor" not in principal.roles and app.point_id not in principal.points:
            raise NotPermittedError("evidence of another point")
        rows = IdentityCheck.select().where(IdentityCheck.application == app.id).order_by(IdentityCheck.id)
        return [EvidenceView.of(r) for r in rows]

    # -- dual control -----------------------------------------------------------------------
    def approve(self, reference: str, principal: Principal) -> Approval:
        app = self.applications.own(reference, principal)
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


def _after_document(errors: list[FieldError]) -> int:
    """Where the "expired" problem goes: after the document's and its date's problems."""
    fields = [e.field for e in errors]
    return max((i + 1 for i, f in enumerate(fields) if f.startswith("document_")), default=0)
