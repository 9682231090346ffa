"""Bearer token → :class:`core.auth.Principal`.

- ``stp_...`` → a portal client (``Principal("portal", id, scopes=...)``);
- ``sts_...`` → an officer session (``Principal("officer", id, roles, points)``).
"""

from __future__ import annotations

from collections.abc import Callable

from access.models import Officer, OfficerSession, PortalClient
from access.secrets import PORTAL_TOKEN_PREFIX, SESSION_TOKEN_PREFIX, token_hash
from core.auth import Principal
from core.clock import Clock

# The certification points of an officer (enrollment's; access does not know points). Processes
# that do not mount enrollment give officers no points.
OfficerPoints = Callable[[int], frozenset[int]]


def no_points(officer_id: int) -> frozenset[int]:
    return frozenset()


def principal_for_token(token: str, clock: Clock, points_of: OfficerPoints = no_points) -> Principal | None:
    """The principal a bearer token stands for, or None when it is unknown, expired or disabled."""
    digest = token_hash(token)
    if token.startswith(PORTAL_TOKEN_PREFIX + "_"):
        client = PortalClient.get_or_none(PortalClient.token_hash == digest)
        if client is None or client.disabled:
            return None
        return Principal("portal", str(client.id), scopes=client.scope_set)
    if token.startswith(SESSION_TOKEN_PREFIX + "_"):
        session = (
            OfficerSession.select(OfficerSession, Officer)
            .join(Officer)
            .where(OfficerSession.token_hash == digest)
            .first()
        )
        if session is None or session.ended_at is not None or session.expires_at <= clock.now():
            return None
        officer = session.officer
        if officer.disabled:
            return None
        return Principal("officer", str(officer.id), roles=officer.role_set, points=points_of(officer.id))
    return None
