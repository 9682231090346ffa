"""Applications from the portal: submit (idempotent), status, expiry; officers' look-ups.

Row-level rules: the portal sees only its own applications; an officer only those of their own
certification points (auditors: all). Search by PESEL never logs or audits the PESEL.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import peewee as pw

from ca.api import record_refusal
from core import audit
from core.auth import Principal
from core.clock import Clock
from core.db import atomic
from core.errors import ValidationError
from enrollment import notifications
from enrollment.attempts import AttemptLimiter
from enrollment.errors import ApplicationNotFoundError, IdempotencyConflictError, NotPermittedError
from enrollment.models import Application, CertificationPoint, CitizenCertificate, IdentityCheck
from enrollment.requests import SearchRequest
from enrollment.secrets_util import constant_time_equal, new_reference, new_tracking_code
from enrollment.settings import EnrollmentSettings
from enrollment.validation import ApplicationData, parse_application
from enrollment.views import ApplicationView, OfficerApplicationView

MAX_IDEMPOTENCY_KEY = 100


@dataclass(frozen=True)
class Submitted:
    reference: str
    tracking_code: str
    state: str
    expires_at: datetime
    replayed: bool


def request_hash(body: Any) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def officer_sees(principal: Principal, application: Application) -> bool:
    """Officers act on applications of their own points; auditors read everything."""
    if principal.kind != "officer":
        return False
    return "auditor" in principal.roles or application.point_id in principal.points


def application_view(app: Application, *, full: bool) -> ApplicationView:
    """What the API returns about an application (``full`` for officers: identity data too)."""
    certs = list(
        CitizenCertificate.select().where(CitizenCertificate.application == app.id).order_by(CitizenCertificate.id)
    )
    return OfficerApplicationView.full(app, certs) if full else ApplicationView.of(app, certs)


class ApplicationService:
    def __init__(self, settings: EnrollmentSettings, clock: Clock) -> None:
        self.settings = settings
        self.clock = clock

    def submit(self, body: Any, *, principal: Principal, idempotency_key: str | None) -> Submitted:
        client_id = int(principal.id)
        if idempotency_key is not None and not 1 <= len(idempotency_key) <= MAX_IDEMPOTENCY_KEY:
            raise ValidationError.single("Idempotency-Key", f"must be 1 to {MAX_IDEMPOTENCY_KEY} characters")
        digest = request_hash(body)
        if idempotency_key is not None:
            replay = self._replay(client_id, idempotency_key, digest)
            if replay is not None:
                return replay
        try:
            data = parse_application(body)
        except ValidationError as exc:
            csr = body.get("csr") if isinstance(body, Mapping) else None
            csr_bytes = csr.encode("ascii", "replace") if isinstance(csr, str) else None
            record_refusal(self.clock, exc, actor=principal.actor, source="application", csr=csr_bytes)
            raise
        point = CertificationPoint.get_or_none(CertificationPoint.id == data.point_id)
        if point is None or point.disabled:
            raise ValidationError.single("point_id", "no such certification point (or it takes no applications)")
        try:
            app = self._create(data, point, principal, idempotency_key, digest)
        except pw.IntegrityError:
            # A concurrent request with the same Idempotency-Key won the race.
            if idempotency_key is None:
                raise
            replay = self._replay(client_id, idempotency_key, digest)
            if replay is None:
                raise
            return replay
        return Submitted(app.reference, app.tracking_code, app.state, app.expires_at, replayed=False)

    def _create(
        self,
        data: ApplicationData,
        point: CertificationPoint,
        principal: Principal,
        idempotency_key: str | None,
        digest: str,
    ) -> Application:
        """Store the application with its audit record and the citizen's e-mail (one transaction)."""
        client_id = int(principal.id)
        now = self.clock.now()
        expires = now + timedelta(days=self.settings.application_ttl_days)
        with atomic():
            app = Application.create(
                reference=new_reference(),
                tracking_code=new_tracking_code(),
                portal_client=client_id,
                idempotency_key=idempotency_key,
                request_hash=digest,
                point=point,
                state="submitted",
                created_at=now,
                expires_at=expires,
                **_identity_columns(data),
            )
            audit.record(
                self.clock,
                actor=principal.actor,
                action="enrollment.application.submit",
                object_type="enrollment_application",
                object_id=app.id,
                details={
                    "reference": app.reference,
                    "point_id": point.id,
                    "key_generation": data.key_generation,
                    "identity": "pesel" if data.pesel else data.document_type,
                },
            )
            self._received(app, data, point, expires)
        return app

    def _received(self, app: Application, data: ApplicationData, point: CertificationPoint, expires: Any) -> None:
        """The e-mail after submission: tracking code, the point (hours, phone), deadline, what to bring."""
        notifications.queue(
            self.clock,
            "application_received",
            data.email,
            name=data.given_names,
            reference=app.reference,
            tracking_code=app.tracking_code,
            point=notifications.point_text(point),
            expires=notifications.polish_time(expires),
            bring=notifications.what_to_bring(data.key_generation),
        )

    def _replay(self, client_id: int, key: str, digest: str) -> Submitted | None:
        app = Application.get_or_none((Application.portal_client == client_id) & (Application.idempotency_key == key))
        if app is None:
            return None
        if app.request_hash != digest:
            raise IdempotencyConflictError("this Idempotency-Key was used with a different request body")
        return Submitted(app.reference, app.tracking_code, app.state, app.expires_at, replayed=True)

    def for_portal(self, reference: str, principal: Principal) -> Application:
        app = Application.get_or_none(Application.reference == reference)
        if app is None or str(app.portal_client_id) != principal.id:
            raise ApplicationNotFoundError(reference)
        return app

    def by_tracking_code(self, reference: str, tracking_code: str | None) -> Application:
        """Status for the citizen without the portal; wrong codes count towards a lockout."""
        if not tracking_code or not tracking_code.strip():
            # Asked before the lockout: a request without the code is malformed, not an attempt.
            raise ValidationError.single("X-Tracking-Code", "the tracking code is required", "required")
        limiter = AttemptLimiter(
            self.clock, max_attempts=self.settings.code_max_attempts, window_minutes=self.settings.code_window_minutes
        )
        subject = f"track:{reference[:40]}"
        limiter.check(subject)
        app = Application.get_or_none(Application.reference == reference)
        if app is None or not tracking_code or not constant_time_equal(app.tracking_code, tracking_code.strip()):
            limiter.failed(subject)
            raise ApplicationNotFoundError(reference)
        return app

    def for_officer(self, reference: str, principal: Principal) -> Application:
        app: Application | None = (
            Application.select(Application, CertificationPoint)
            .join(CertificationPoint)
            .where(Application.reference == reference)
            .first()
        )
        if app is None or not officer_sees(principal, app):
            raise ApplicationNotFoundError(reference)
        return app

    def own(self, reference: str, principal: Principal) -> Application:
        """The application, if it belongs to one of the officer's points (auditors only read)."""
        app = self.for_officer(reference, principal)
        if app.point_id not in principal.points:
            raise NotPermittedError("only officers of the application's certification point may act on it")
        return app

    def search(self, request: SearchRequest, principal: Principal) -> list[Application]:
        """By ``reference``, ``tracking_code``, ``pesel``, ``document_number`` (the one named in the
        application or checked at the desk) or ``surname`` (case-insensitive, optionally with
        ``given_names``), limited to the officer's points."""
        query = Application.select(Application, CertificationPoint).join(CertificationPoint)
        by = request.by
        query = query.where(_search_condition(request))
        if "auditor" not in principal.roles:
            query = query.where(Application.point.in_(sorted(principal.points) or [0]))
        found = list(query.order_by(Application.created_at.desc()).limit(100))
        # Looking up personal data is itself accountable: who searched, by what kind of key, what
        # was shown (internal ids) — never the searched value.
        with atomic():
            audit.record(
                self.clock,
                actor=principal.actor,
                action="enrollment.application.search",
                object_type="enrollment_application",
                object_id="-",
                details={"by": by, "results": [a.id for a in found]},
            )
        return found

    def expire_due(self, *, actor: str = "system:jobs") -> int:
        """Applications not confirmed in person within the TTL expire (idempotent, multi-host safe)."""
        now = self.clock.now()
        candidates = list(
            Application.select(Application.id, Application.reference, Application.given_names, Application.email)
            .where((Application.state == "submitted") & (Application.expires_at <= now))
            .limit(1000)
        )
        expired = 0
        for app in candidates:
            with atomic():
                changed = (
                    Application.update(state="expired")
                    .where((Application.id == app.id) & (Application.state == "submitted"))
                    .execute()
                )
                if changed:
                    audit.record(
                        self.clock,
                        actor=actor,
                        action="enrollment.application.expire",
                        object_type="enrollment_application",
                        object_id=app.id,
                        details={"reference": app.reference},
                    )
                    notifications.queue(
                        self.clock,
                        "application_expired",
                        app.email,
                        name=app.given_names,
                        reference=app.reference,
                        at=notifications.polish_time(now),
                    )
                    expired += changed
        return expired


def _identity_columns(data: ApplicationData) -> dict[str, Any]:
    """The citizen's data and key choice as stored on the application row."""
    return {
        "given_names": data.given_names,
        "surname": data.surname,
        "pesel": data.pesel,
        "document_type": data.document_type,
        "document_number": data.document_number,
        "email": data.email,
        "phone": data.phone,
        "street": data.street,
        "postal_code": data.postal_code,
        "city": data.city,
        "key_generation": data.key_generation,
        "csr_der": data.csr_der,
    }


def _spellings(name: str) -> list[str]:
    """How a typed name may be stored. SQLite's LOWER() folds only ASCII ("Łukasz" stays), so the
    comparison uses the usual spellings instead of a database function."""
    return sorted({name, name.lower(), name.upper(), name.title(), name[:1].upper() + name[1:].lower()})


def _search_condition(request: SearchRequest) -> Any:
    """The WHERE condition of an officer's search."""
    value = request.value
    if request.by == "reference":
        return Application.reference == value
    if request.by == "tracking_code":
        return Application.tracking_code == value
    if request.by == "pesel":
        return Application.pesel == value
    if request.by == "document_number":
        checked = IdentityCheck.select(IdentityCheck.application).where(IdentityCheck.document_number == value)
        return (Application.document_number == value) | Application.id.in_(checked)
    condition = Application.surname.in_(_spellings(value))
    if request.given_names:
        condition &= Application.given_names.in_(_spellings(request.given_names))
    return condition
