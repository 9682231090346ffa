"""Who is calling: officer logins and sessions, portal-client tokens, and the middleware that puts
a :class:`core.auth.Principal` on every request (interfaces.md "auth").

- ``Authorization: Bearer stp_...`` → a portal client (``Principal("portal", id, scopes=...)``);
- ``Authorization: Bearer sts_...`` → an officer session (``Principal("officer", id, roles, points)``);
- no header → :data:`core.auth.ANONYMOUS`; anything else → 401 problem+json.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import falcon

from core import audit
from core.auth import ANONYMOUS, Principal
from core.clock import Clock
from core.db import atomic, lock_row
from core.errors import AuthenticationError
from enrollment.errors import AccountLockedError, InvalidCredentialsError
from enrollment.models import Officer, OfficerPoint, OfficerSession, PortalClient
from enrollment.secrets_util import hasher, new_token, token_hash, verify_hash
from enrollment.settings import EnrollmentSettings

logger = logging.getLogger(__name__)

SESSION_TOKEN_PREFIX = "sts"  # noqa: S105 - a type prefix, not a secret
PORTAL_TOKEN_PREFIX = "stp"  # noqa: S105
# Verifying against a fixed hash for unknown users keeps the timing of both failures alike.
_DUMMY_PASSWORD = "Dummy-password-1"  # noqa: S105 - never a real account


@functools.lru_cache(maxsize=4)
def _dummy_hash(time_cost: int, memory_kib: int) -> str:
    """Hashed once per process and cost setting (hashing costs as much as a login)."""
    return hasher(time_cost, memory_kib).hash(_DUMMY_PASSWORD)


@dataclass(frozen=True)
class SessionGrant:
    token: str  # shown once
    officer_id: int
    expires_at: datetime
    roles: tuple[str, ...]
    points: tuple[int, ...]


class OfficerLogin:
    """Password login with lockout after repeated failures; every attempt is audited."""

    def __init__(self, settings: EnrollmentSettings, clock: Clock) -> None:
        self.settings = settings
        self.clock = clock
        self._hasher = hasher(settings.password_hash_time_cost, settings.password_hash_memory_kib)
        self._dummy_hash = _dummy_hash(settings.password_hash_time_cost, settings.password_hash_memory_kib)

    def login(self, username: str, password: str) -> SessionGrant:
        username = username.strip()
        officer = Officer.get_or_none(Officer.username == username)
        now = self.clock.now()
        if officer is None:
            verify_hash(self._hasher, self._dummy_hash, password)
            self._audit_failure(None, username, "unknown_user")
            raise InvalidCredentialsError("wrong username or password")
        if officer.locked_until is not None and officer.locked_until > now:
            self._audit_failure(officer, username, "locked")
            raise AccountLockedError(
                "too many failed logins; try again later",
                retry_after_seconds=max(1, int((officer.locked_until - now).total_seconds())),
            )
        ok = verify_hash(self._hasher, officer.password_hash, password)
        if not ok or officer.disabled:
            self._register_failure(officer, username, "disabled" if ok else "bad_password")
            raise InvalidCredentialsError("wrong username or password")
        token = new_token(SESSION_TOKEN_PREFIX)
        expires = now + timedelta(minutes=self.settings.session_ttl_minutes)
        with atomic():
            Officer.update(failed_logins=0, locked_until=None).where(Officer.id == officer.id).execute()
            OfficerSession.create(officer=officer, token_hash=token_hash(token), created_at=now, expires_at=expires)
            audit.record(
                self.clock,
                actor=f"officer:{officer.id}",
                action="enrollment.login",
                object_type="enrollment_officer",
                object_id=officer.id,
                details={"username": username},
            )
        points = tuple(
            sorted(link.point_id for link in OfficerPoint.select().where(OfficerPoint.officer == officer.id))
        )
        if self._hasher.check_needs_rehash(officer.password_hash):
            new_hash = self._hasher.hash(password)
            with atomic():
                Officer.update(password_hash=new_hash).where(Officer.id == officer.id).execute()
        return SessionGrant(token, officer.id, expires, tuple(sorted(officer.role_set)), points)

    def _register_failure(self, officer: Officer, username: str, why: str) -> None:
        now = self.clock.now()
        with atomic():
            row = lock_row(Officer.select().where(Officer.id == officer.id)).get()
            failures = row.failed_logins + 1
            locked_until = None
            if failures >= self.settings.login_max_failures:
                locked_until = now + timedelta(minutes=self.settings.login_lockout_minutes)
                failures = 0
            Officer.update(failed_logins=failures, locked_until=locked_until).where(Officer.id == officer.id).execute()
            audit.record(
                self.clock,
                actor="anonymous:-",
                action="enrollment.login",
                object_type="enrollment_officer",
                object_id=officer.id,
                outcome="failure",
                details={"username": username, "reason": why, "locked": locked_until is not None},
            )

    def _audit_failure(self, officer: Officer | None, username: str, why: str) -> None:
        with atomic():
            audit.record(
                self.clock,
                actor="anonymous:-",
                action="enrollment.login",
                object_type="enrollment_officer",
                object_id=officer.id if officer else "-",
                outcome="failure",
                details={"username": username[:64], "reason": why},
            )

    def logout(self, token: str, principal: Principal) -> None:
        with atomic():
            OfficerSession.update(ended_at=self.clock.now()).where(
                (OfficerSession.token_hash == token_hash(token)) & OfficerSession.ended_at.is_null()
            ).execute()
            audit.record(
                self.clock,
                actor=principal.actor,
                action="enrollment.logout",
                object_type="enrollment_officer",
                object_id=principal.id,
            )


def principal_for_token(token: str, clock: Clock) -> Principal | None:
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
        points = frozenset(link.point_id for link in OfficerPoint.select().where(OfficerPoint.officer == officer.id))
        return Principal("officer", str(officer.id), roles=officer.role_set, points=points)
    return None


def bearer_token(req: falcon.Request) -> str | None:
    header = req.get_header("Authorization")
    if header is None:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise AuthenticationError("use 'Authorization: Bearer <token>'")
    return value.strip()


class AuthenticationMiddleware:
    """Sets ``req.context.principal`` on every request (after DatabaseMiddleware opened the connection)."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        req.context.principal = ANONYMOUS
        token = bearer_token(req)
        if token is None:
            return
        principal = principal_for_token(token, self.clock)
        if principal is None:
            # The token itself never reaches a log line.
            logger.info("rejected bearer token")
            raise AuthenticationError("the bearer token is unknown, expired or disabled")
        req.context.principal = principal
        req.context.bearer_token = token

    def process_response(self, req: falcon.Request, resp: falcon.Response, resource: Any, req_succeeded: bool) -> None:
        if resp.status in (falcon.HTTP_401, 401):
            resp.set_header("WWW-Authenticate", 'Bearer realm="sekap-trust"')
