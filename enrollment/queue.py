"""An officer's queue: the applications of their certification points, filtered and paged
(``GET /api/v1/officer/applications`` and the console's first page).

Row-level rule as everywhere: officers see their own points, auditors everything. Listing shows
identity data, so every page shown is audited (who, which filters, which internal ids) like a
search, never with personal data in the details.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from core import audit
from core.auth import Principal
from core.clock import Clock
from core.db import atomic
from core.errors import FieldError, ValidationError
from enrollment.models import APPLICATION_STATES, Application, CertificationPoint

MAX_PAGE = 100
# Bounds that keep every value a database integer (SQLite's is 64-bit signed).
MAX_ID = 2**31 - 1
MAX_OFFSET = 1_000_000


@dataclass(frozen=True)
class QueueFilter:
    state: str | None = None
    point_id: int | None = None
    # Only applications still waiting whose deadline falls within this many days.
    expiring_within_days: int | None = None
    limit: int = 20
    offset: int = 0

    def __post_init__(self) -> None:
        errors = []
        if self.state is not None and self.state not in APPLICATION_STATES:
            errors.append(FieldError("state", f"must be one of {', '.join(APPLICATION_STATES)}"))
        if self.expiring_within_days is not None and not 0 <= self.expiring_within_days <= 365:
            errors.append(FieldError("expiring_within_days", "must be between 0 and 365"))
        if not 1 <= self.limit <= MAX_PAGE:
            errors.append(FieldError("limit", f"must be between 1 and {MAX_PAGE}"))
        if not 0 <= self.offset <= MAX_OFFSET:
            errors.append(FieldError("offset", f"must be between 0 and {MAX_OFFSET}"))
        if self.point_id is not None and not 1 <= self.point_id <= MAX_ID:
            errors.append(FieldError("point_id", f"must be between 1 and {MAX_ID}"))
        if errors:
            raise ValidationError(errors, message="invalid queue filter")


@dataclass(frozen=True)
class QueuePage:
    applications: tuple[Application, ...]
    total: int
    limit: int
    offset: int


class OfficerQueue:
    def __init__(self, clock: Clock) -> None:
        self.clock = clock

    def list(self, principal: Principal, wanted: QueueFilter) -> QueuePage:
        """The soonest deadlines first (what must be handled before it expires), then first come first served."""
        query = Application.select(Application, CertificationPoint).join(CertificationPoint)
        if "auditor" not in principal.roles:
            query = query.where(Application.point.in_(sorted(principal.points) or [0]))
        if wanted.point_id is not None:
            query = query.where(Application.point == wanted.point_id)
        if wanted.state is not None:
            query = query.where(Application.state == wanted.state)
        if wanted.expiring_within_days is not None:
            until = self.clock.now() + timedelta(days=wanted.expiring_within_days)
            query = query.where((Application.state == "submitted") & (Application.expires_at <= until))
        total = query.count()
        ordered = query.order_by(Application.expires_at.asc(), Application.id.asc())
        rows = tuple(ordered.limit(wanted.limit).offset(wanted.offset))
        with atomic():
            audit.record(
                self.clock,
                actor=principal.actor,
                action="enrollment.application.list",
                object_type="enrollment_application",
                object_id="-",
                details={
                    "state": wanted.state,
                    "point_id": wanted.point_id,
                    "expiring_within_days": wanted.expiring_within_days,
                    "offset": wanted.offset,
                    "results": [a.id for a in rows],
                },
            )
        return QueuePage(rows, total, wanted.limit, wanted.offset)
