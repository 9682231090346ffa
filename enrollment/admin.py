"""Administration of parties: certification points, officers, portal clients, agreement texts.

Used by the CLI (and tests); every change is audited in its own transaction.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from core import audit
from core.clock import Clock
from core.db import atomic
from core.errors import FieldError, ValidationError
from core.identifiers import IdentifierError, validate_postal_code, validate_teryt_terc
from enrollment.errors import AlreadyExistsError, NotFoundInEnrollmentError
from enrollment.models import (
    ROLES,
    SCOPES,
    Agreement,
    CertificationPoint,
    Officer,
    OfficerPoint,
    OfficerSession,
    PortalClient,
)
from enrollment.secrets_util import check_password_policy, hasher, new_token, token_hash
from enrollment.settings import EnrollmentSettings

PORTAL_TOKEN_PREFIX = "stp"  # noqa: S105 - a type prefix, not a secret


@dataclass(frozen=True)
class NewPortalClient:
    id: int
    name: str
    scopes: tuple[str, ...]
    token: str  # shown once


def _invalid(errors: list[FieldError]) -> ValidationError:
    return ValidationError(errors, message="; ".join(f"{e.field}: {e.message}" for e in errors))


class Administration:
    def __init__(self, settings: EnrollmentSettings, clock: Clock) -> None:
        self.settings = settings
        self.clock = clock
        self._hasher = hasher(settings.password_hash_time_cost, settings.password_hash_memory_kib)

    # -- certification points -------------------------------------------------------------
    def add_point(
        self, *, name: str, street: str, postal_code: str, city: str, teryt: str, dual_control: bool, actor: str
    ) -> CertificationPoint:
        errors: list[FieldError] = []
        if not name.strip():
            errors.append(FieldError("name", "must not be empty"))
        if not street.strip():
            errors.append(FieldError("street", "must not be empty"))
        if not city.strip():
            errors.append(FieldError("city", "must not be empty"))
        try:
            postal_code = validate_postal_code(postal_code)
        except IdentifierError as exc:
            errors.append(FieldError("postal_code", exc.message))
        try:
            teryt = validate_teryt_terc(teryt)
        except IdentifierError as exc:
            errors.append(FieldError("teryt", exc.message))
        if errors:
            raise _invalid(errors)
        with atomic():
            if CertificationPoint.select().where(CertificationPoint.name == name.strip()).exists():
                raise AlreadyExistsError(f"a certification point named {name.strip()!r} exists")
            point = CertificationPoint.create(
                name=name.strip(),
                street=street.strip(),
                postal_code=postal_code,
                city=city.strip(),
                teryt=teryt,
                dual_control=dual_control,
                created_at=self.clock.now(),
            )
            audit.record(
                self.clock,
                actor=actor,
                action="enrollment.point.add",
                object_type="enrollment_point",
                object_id=point.id,
                details={"name": point.name, "teryt": teryt, "dual_control": dual_control},
            )
        return point

    # -- officers ---------------------------------------------------------------------------
    def add_officer(
        self, *, username: str, password: str, roles: Iterable[str], points: Iterable[int], actor: str
    ) -> Officer:
        username = username.strip()
        role_list = sorted(set(roles))
        point_ids = sorted(set(points))
        errors: list[FieldError] = []
        if (
            not username
            or len(username) > 64
            or not username.replace(".", "").replace("-", "").replace("_", "").isalnum()
        ):
            errors.append(FieldError("username", "use 1 to 64 letters, digits, '.', '-' or '_'"))
        bad_roles = [r for r in role_list if r not in ROLES]
        if not role_list or bad_roles:
            errors.append(FieldError("roles", f"choose one or more of {', '.join(ROLES)}"))
        try:
            check_password_policy(password, username)
        except ValidationError as exc:
            errors.extend(exc.errors)
        if errors:
            raise _invalid(errors)
        password_hash = self._hasher.hash(password)
        with atomic():
            if Officer.select().where(Officer.username == username).exists():
                raise AlreadyExistsError(f"an officer named {username!r} exists")
            found = {p.id for p in CertificationPoint.select().where(CertificationPoint.id.in_(point_ids))}
            missing = [p for p in point_ids if p not in found]
            if missing:
                raise ValidationError.single("points", f"no certification point(s) {missing}")
            now = self.clock.now()
            officer = Officer.create(
                username=username,
                password_hash=password_hash,
                roles=",".join(role_list),
                created_at=now,
                password_changed_at=now,
            )
            for point_id in point_ids:
                OfficerPoint.create(officer=officer, point=point_id)
            audit.record(
                self.clock,
                actor=actor,
                action="enrollment.officer.add",
                object_type="enrollment_officer",
                object_id=officer.id,
                details={"username": username, "roles": role_list, "points": point_ids},
            )
        return officer

    def _officer(self, username: str) -> Officer:
        officer = Officer.get_or_none(Officer.username == username.strip())
        if officer is None:
            raise NotFoundInEnrollmentError(f"no officer named {username!r}")
        return officer

    def disable_officer(self, username: str, *, actor: str) -> Officer:
        with atomic():
            officer = self._officer(username)
            Officer.update(disabled=True).where(Officer.id == officer.id).execute()
            ended = (
                OfficerSession.update(ended_at=self.clock.now())
                .where((OfficerSession.officer == officer.id) & OfficerSession.ended_at.is_null())
                .execute()
            )
            audit.record(
                self.clock,
                actor=actor,
                action="enrollment.officer.disable",
                object_type="enrollment_officer",
                object_id=officer.id,
                details={"username": officer.username, "sessions_ended": ended},
            )
        return officer

    def reset_password(self, username: str, password: str, *, actor: str) -> Officer:
        officer = self._officer(username)
        check_password_policy(password, officer.username)
        password_hash = self._hasher.hash(password)
        with atomic():
            Officer.update(
                password_hash=password_hash, failed_logins=0, locked_until=None, password_changed_at=self.clock.now()
            ).where(Officer.id == officer.id).execute()
            OfficerSession.update(ended_at=self.clock.now()).where(
                (OfficerSession.officer == officer.id) & OfficerSession.ended_at.is_null()
            ).execute()
            audit.record(
                self.clock,
                actor=actor,
                action="enrollment.officer.reset_password",
                object_type="enrollment_officer",
                object_id=officer.id,
                details={"username": officer.username},
            )
        return officer

    # -- portal clients ---------------------------------------------------------------------
    def add_portal_client(self, *, name: str, scopes: Iterable[str], actor: str) -> NewPortalClient:
        scope_list = sorted(set(scopes))
        if not name.strip() or len(name) > 100:
            raise ValidationError.single("name", "must be 1 to 100 characters")
        if not scope_list or any(s not in SCOPES for s in scope_list):
            raise ValidationError.single("scopes", f"choose one or more of {', '.join(SCOPES)}")
        token = new_token(PORTAL_TOKEN_PREFIX)
        with atomic():
            if PortalClient.select().where(PortalClient.name == name.strip()).exists():
                raise AlreadyExistsError(f"a portal client named {name.strip()!r} exists")
            client = PortalClient.create(
                name=name.strip(),
                token_hash=token_hash(token),
                scopes=",".join(scope_list),
                created_at=self.clock.now(),
            )
            audit.record(
                self.clock,
                actor=actor,
                action="enrollment.portal_client.add",
                object_type="enrollment_portal_client",
                object_id=client.id,
                details={"name": client.name, "scopes": scope_list},
            )
        return NewPortalClient(client.id, client.name, tuple(scope_list), token)

    # -- agreements -------------------------------------------------------------------------
    def add_agreement(self, text: str, *, actor: str) -> Agreement:
        if not text.strip():
            raise ValidationError.single("text", "the agreement text must not be empty")
        with atomic():
            last = Agreement.select().order_by(Agreement.version.desc()).first()
            version = (last.version + 1) if last else 1
            row = Agreement.create(
                version=version,
                text=text,
                sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
                created_at=self.clock.now(),
            )
            audit.record(
                self.clock,
                actor=actor,
                action="enrollment.agreement.add",
                object_type="enrollment_agreement",
                object_id=row.id,
                details={"version": version, "sha256": row.sha256},
            )
        return row
