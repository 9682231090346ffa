"""Read-only questions the edges (``web``) ask enrollment, answered with frozen views, never rows:
the agreement text in force, and the latest audited activity on a point's applications."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from core.audit import AuditRecord
from core.auth import Principal
from enrollment.models import Agreement, Application, CitizenCertificate
from enrollment.views import AgreementView

# How many of the newest applications the activity list looks at.
_ACTIVITY_APPLICATIONS = 200


def current_agreement() -> AgreementView | None:
    """The newest published agreement text (the one citizens accept now), or None before the first."""
    row = Agreement.select().order_by(Agreement.version.desc()).first()
    return AgreementView.of(row) if row is not None else None


@dataclass(frozen=True)
class ActivityEntry:
    """One audit record about an application (or its certificate), with the application's reference."""

    at: datetime
    action: str
    actor: str
    outcome: str
    reference: str


def recent_activity(principal: Principal, limit: int = 50) -> list[ActivityEntry]:
    """Audit records of the newest applications of the officer's points (auditors: all), newest first."""
    apps = Application.select(Application.id, Application.reference)
    if "auditor" not in principal.roles:
        apps = apps.where(Application.point.in_(sorted(principal.points) or [0]))
    newest = apps.order_by(Application.id.desc()).limit(_ACTIVITY_APPLICATIONS)
    references = {str(a.id): a.reference for a in newest}
    pairs: Any = (
        CitizenCertificate.select(CitizenCertificate.id, CitizenCertificate.application)
        .where(CitizenCertificate.application.in_([int(i) for i in references] or [0]))
        .tuples()
    )
    certificates = {str(cert_id): references[str(app_id)] for cert_id, app_id in pairs}
    rows = (
        AuditRecord.select()
        .where(
            ((AuditRecord.object_type == "enrollment_application") & AuditRecord.object_id.in_(list(references)))
            | ((AuditRecord.object_type == "enrollment_certificate") & AuditRecord.object_id.in_(list(certificates)))
        )
        .order_by(AuditRecord.seq.desc())
        .limit(limit)
    )
    found = []
    for r in rows:
        by_kind = references if r.object_type == "enrollment_application" else certificates
        found.append(ActivityEntry(r.at, r.action, r.actor, r.outcome, by_kind.get(r.object_id, "")))
    return found
