"""Officer login at the registration authority, as a use of :mod:`access`.

Access owns officers, sessions and tokens; enrollment owns the certification points an officer
serves, which it hands to access as the :data:`access.principals.OfficerPoints` lookup (so an
officer's principal and session grant carry their points)."""

from __future__ import annotations

from access.officers import OfficerLogin
from core.clock import Clock
from enrollment.models import OfficerPoint
from enrollment.settings import EnrollmentSettings


def officer_points(officer_id: int) -> frozenset[int]:
    """The certification points officer ``officer_id`` serves."""
    return frozenset(link.point_id for link in OfficerPoint.select().where(OfficerPoint.officer == officer_id))


def officer_login(settings: EnrollmentSettings, clock: Clock) -> OfficerLogin:
    return OfficerLogin(settings.access, clock, officer_points)
