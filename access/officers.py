"""Officers: password login with lockout, sessions, and their administration.

Audit actions and object types keep the names they had when this lived in enrollment
(``enrollment.login``, ``enrollment_officer`` ...), so the audit trail reads the same before and
after the move."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from access.errors import AccountLockedError, InvalidCredentialsError, PartyExistsError, PartyNotFoundError
from access.models import ROLES, Officer, OfficerSession
from access.principals import OfficerPoints, no_points
from access.secrets import SESSION_TOKEN_PREFIX, check_password_policy, hasher, new_token, token_hash, verify_hash
from access.settings import AccessSettings
from core import audit
from core.auth import Principal
from core.clock import Clock
from core.db import atomic, lock_row
from core.errors import FieldError, ValidationError

# Verifying against a fixed hash for unknown users keeps the timing of both failures alike.
_DUMMY_PASSWORD = "Dummy-password-1"  # noqa: S105 - never a real account
_OBJECT = "enrollment_officer"


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

    def __init__(self, settings: AccessSettings, clock: Clock, points_of: OfficerPoints = no_points) -> None:
        self.settings = settings
        self.clock = clock
        self.points_of = points_of
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
        grant = self._open_session(officer, username, now)
        if self._hasher.check_needs_rehash(officer.password_hash):
            new_hash = self._hasher.hash(password)
            with atomic():
                Officer.update(password_hash=new_hash).where(Officer.id == officer.id).execute()
        return grant

    def _open_session(self, officer: Officer, username: str, now: datetime) -> SessionGrant:
        token = new_token(SESSION_TOKEN_PREFIX)
        expires = now + timedelta(minutes=self.settings.session_ttl_minutes)
        with atomic():
            Officer.update(failed_logins=0, locked_until=None).where(Officer.id == officer.id).execute()
            OfficerSession.create(officer=officer, token_hash=token_hash(token), created_at=now, expires_at=expires)
            audit.record(
                self.clock,
                actor=f"officer:{officer.id}",
                action="enrollment.login",
                object_type=_OBJECT,
                object_id=officer.id,
                details={"username": username},
            )
        points = tuple(sorted(self.points_of(officer.id)))
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
                object_type=_OBJECT,
                object_id=officer.id,
                outcome="failure",
                details={"username": username, "reason": why, "locked": locked_until is not None},
            )
            if locked_until is not None:
                # A lockout is its own event (issue 15: audit coverage), not only a flag on a failure.
                audit.record(
                    self.clock,
                    actor="system:auth",
                    action="enrollment.officer.lockout",
                    object_type=_OBJECT,
                    object_id=officer.id,
                    outcome="locked",
                    details={"until": locked_until.isoformat(), "failures": self.settings.login_max_failures},
                )

    def _audit_failure(self, officer: Officer | None, username: str, why: str) -> None:
        with atomic():
            audit.record(
                self.clock,
                actor="anonymous:-",
                action="enrollment.login",
                object_type=_OBJECT,
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
                object_type=_OBJECT,
                object_id=principal.id,
            )


def _invalid(errors: list[FieldError]) -> ValidationError:
    return ValidationError(errors, message="; ".join(f"{e.field}: {e.message}" for e in errors))


class Officers:
    """Officer accounts: create (the caller links points in the same transaction), disable,
    reset a password. Each change ends the officer's sessions where it should and is audited."""

    def __init__(self, settings: AccessSettings, clock: Clock) -> None:
        self.clock = clock
        self._hasher = hasher(settings.password_hash_time_cost, settings.password_hash_memory_kib)

    def check_new(self, username: str, password: str, roles: Iterable[str]) -> list[FieldError]:
        """What is wrong with a new account (empty: nothing); no database access."""
        errors: list[FieldError] = []
        if (
            not username
            or len(username) > 64
            or not username.replace(".", "").replace("-", "").replace("_", "").isalnum()
        ):
            errors.append(FieldError("username", "use 1 to 64 letters, digits, '.', '-' or '_'"))
        role_list = sorted(set(roles))
        if not role_list or any(r not in ROLES for r in role_list):
            errors.append(FieldError("roles", f"choose one or more of {', '.join(ROLES)}"))
        try:
            check_password_policy(password, username)
        except ValidationError as exc:
            errors.extend(exc.errors)
        return errors

    def create(self, username: str, password_hash: str, roles: Iterable[str]) -> Officer:
        """Insert the account (call inside the caller's transaction, after :meth:`check_new`)."""
        if Officer.select().where(Officer.username == username).exists():
            raise PartyExistsError(f"an officer named {username!r} exists")
        now = self.clock.now()
        officer: Officer = Officer.create(
            username=username,
            password_hash=password_hash,
            roles=",".join(sorted(set(roles))),
            created_at=now,
            password_changed_at=now,
        )
        return officer

    def hash_password(self, password: str) -> str:
        return self._hasher.hash(password)

    def find(self, username: str) -> Officer:
        officer: Officer | None = Officer.get_or_none(Officer.username == username.strip())
        if officer is None:
            raise PartyNotFoundError(f"no officer named {username!r}")
        return officer

    def _end_sessions(self, officer: Officer) -> int:
        return int(
            OfficerSession.update(ended_at=self.clock.now())
            .where((OfficerSession.officer == officer.id) & OfficerSession.ended_at.is_null())
            .execute()
        )

    def disable(self, username: str, *, actor: str) -> Officer:
        with atomic():
            officer = self.find(username)
            Officer.update(disabled=True).where(Officer.id == officer.id).execute()
            ended = self._end_sessions(officer)
            audit.record(
                self.clock,
                actor=actor,
                action="enrollment.officer.disable",
                object_type=_OBJECT,
                object_id=officer.id,
                details={"username": officer.username, "sessions_ended": ended},
            )
        return officer

    def reset_password(self, username: str, password: str, *, actor: str) -> Officer:
        officer = self.find(username)
        check_password_policy(password, officer.username)
        password_hash = self._hasher.hash(password)
        with atomic():
            Officer.update(
                password_hash=password_hash, failed_logins=0, locked_until=None, password_changed_at=self.clock.now()
            ).where(Officer.id == officer.id).execute()
            self._end_sessions(officer)
            audit.record(
                self.clock,
                actor=actor,
                action="enrollment.officer.reset_password",
                object_type=_OBJECT,
                object_id=officer.id,
                details={"username": officer.username},
            )
        return officer
