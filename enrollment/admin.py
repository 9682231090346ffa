"""Administration of parties: certification points, officers, portal clients, agreement texts.

Used by the CLI (and tests); every change is audited in its own transaction.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from access.clients import NewPortalClient, add_portal_client
from access.models import Officer
from access.officers import Officers
from core import audit
from core.clock import Clock
from core.db import atomic
from core.errors import FieldError, ValidationError
from core.identifiers import IdentifierError, validate_postal_code, validate_teryt_terc
from enrollment import role_grants
from enrollment.errors import AlreadyExistsError, NotFoundInEnrollmentError
from enrollment.models import Agreement, CertificationPoint, OfficerPoint
from enrollment.settings import EnrollmentSettings


def _invalid(errors: list[FieldError]) -> ValidationError:
    return ValidationError(errors, message="; ".join(f"{e.field}: {e.message}" for e in errors))


class Administration:
    def __init__(self, settings: EnrollmentSettings, clock: Clock) -> None:
        self.settings = settings
        self.clock = clock
        self.officers = Officers(settings.access, clock)

    # -- certification points -------------------------------------------------------------
    def add_point(
        self,
        *,
        name: str,
        street: str,
        postal_code: str,
        city: str,
        teryt: str,
        dual_control: bool,
        actor: str,
        opening_hours: str = "",
        phone: str = "",
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
                opening_hours=opening_hours.strip()[:200],
                phone=phone.strip()[:30],
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

    # -- officers (accounts are access's; the points they serve are ours) --------------------
    def add_officer(
        self,
        *,
        username: str,
        password: str,
        roles: Iterable[str],
        points: Iterable[int],
        actor: str,
        approval_id: int | None = None,
    ) -> Officer:
        """A new account; administrator roles need ``approval_id``, an approved role grant
        (:mod:`enrollment.role_grants`), consumed in the same transaction."""
        username = username.strip()
        role_list = sorted(set(roles))
        point_ids = sorted(set(points))
        errors = self.officers.check_new(username, password, role_list)
        if errors:
            raise _invalid(errors)
        password_hash = self.officers.hash_password(password)
        with atomic():
            if role_grants.administrator_roles(role_list):
                role_grants.consume(self.clock, approval_id, username, role_list, actor=actor)
            found = {p.id for p in CertificationPoint.select().where(CertificationPoint.id.in_(point_ids))}
            officer = self.officers.create(username, password_hash, role_list)
            missing = [p for p in point_ids if p not in found]
            if missing:
                raise ValidationError.single("points", f"no certification point(s) {missing}")
            for point_id in point_ids:
                OfficerPoint.create(officer=officer, point=point_id)
            audit.record(
                self.clock,
                actor=actor,
                action="enrollment.officer.add",
                object_type="enrollment_officer",
                object_id=officer.id,
                details={"username": username, "roles": role_list, "points": point_ids, "approval_id": approval_id},
            )
        return officer

    def disable_officer(self, username: str, *, actor: str) -> Officer:
        return self.officers.disable(username, actor=actor)

    def reset_password(self, username: str, password: str, *, actor: str) -> Officer:
        return self.officers.reset_password(username, password, actor=actor)

    # -- portal clients (access's; kept here for the administrators' one entry point) --------
    def add_portal_client(self, *, name: str, scopes: Iterable[str], actor: str) -> NewPortalClient:
        return add_portal_client(self.clock, name=name, scopes=scopes, actor=actor)

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

    def disable_point(self, point_id: int, *, actor: str) -> CertificationPoint:
        """Close a point for new applications (its pending ones stay with its officers)."""
        with atomic():
            point = CertificationPoint.get_or_none(CertificationPoint.id == point_id)
            if point is None:
                raise NotFoundInEnrollmentError(f"no certification point {point_id}")
            CertificationPoint.update(disabled=True).where(CertificationPoint.id == point_id).execute()
            audit.record(
                self.clock,
                actor=actor,
                action="enrollment.point.disable",
                object_type="enrollment_point",
                object_id=point_id,
                details={"name": point.name},
            )
        return point
