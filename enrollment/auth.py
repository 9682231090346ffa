"""Officer login at the registration authority, as a use of :mod:`access`.

Access owns officers, sessions and tokens; enrollment owns the certification points an officer
serves, which it hands to access as the :data:`access.principals.OfficerPoints` lookup (so an
officer's principal and session grant carry their points)."""

from __future__ import annotations

from access.errors import SecondFactorError
from access.officers import OfficerLogin, SessionGrant
from core.auth import Principal
from core.clock import Clock
from core.errors import RateLimitedError
from enrollment.attempts import AttemptLimiter
from enrollment.models import OfficerPoint
from enrollment.settings import EnrollmentSettings
from enrollment.totp import SecondFactor


def officer_points(officer_id: int) -> frozenset[int]:
    """The certification points officer ``officer_id`` serves."""
    return frozenset(link.point_id for link in OfficerPoint.select().where(OfficerPoint.officer == officer_id))


def officer_login(settings: EnrollmentSettings, clock: Clock) -> OfficerLogin:
    return OfficerLogin(settings.access, clock, officer_points)


def login_with_second_factor(
    settings: EnrollmentSettings, clock: Clock, username: str, password: str, code: str | None
) -> SessionGrant:
    """Password, then (for an officer with a confirmed TOTP factor) the current code. A missing or
    wrong code ends the new session before its token leaves the server; wrong codes share the
    officer pages' limit (5 per 15 minutes per officer), so the API is no way around it."""
    logins = officer_login(settings, clock)
    grant = logins.login(username, password)
    factor = SecondFactor(clock)
    if not factor.enrolled(grant.officer_id):
        return grant
    principal = Principal("officer", str(grant.officer_id), roles=frozenset(grant.roles))
    attempts = AttemptLimiter(clock, max_attempts=5, window_minutes=15)
    subject = f"totp:{grant.officer_id}"
    try:
        attempts.check(subject)
    except RateLimitedError:
        logins.logout(grant.token, principal)
        raise
    if code and factor.verify(grant.officer_id, code.strip()):
        return grant
    attempts.failed(subject)
    logins.logout(grant.token, principal)
    raise SecondFactorError("a current TOTP code is required" if not code else "wrong TOTP code")
