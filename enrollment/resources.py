"""Enrollment's REST resources: small falcon classes that decode, call a service, encode.

Authorisation is not decided here: every class is decorated with
:func:`enrollment.authorization.protected` (the matrix); row-level rules live in the services.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import falcon

from ca.api import CertificateAuthority
from core.auth import Principal
from core.clock import Clock
from core.errors import BadRequestError, ValidationError
from enrollment.admin import Administration
from enrollment.applications import ApplicationService, application_view
from enrollment.auth import login_with_second_factor, officer_login
from enrollment.authorization import protected
from enrollment.desk import Desk
from enrollment.errors import NotFoundInEnrollmentError
from enrollment.handover import HandOver
from enrollment.lifecycle import CITIZEN_REASONS, CitizenIdentity, Lifecycle, require_officer_reason
from enrollment.models import CertificationPoint
from enrollment.queries import current_agreement
from enrollment.queue import OfficerQueue, QueueFilter
from enrollment.renewal import Renewals
from enrollment.requests import (
    AgreementRequest,
    CodeRequest,
    IdentityCheckRequest,
    IssueRequest,
    LoginRequest,
    RenewalRequest,
    RevokeRequest,
    SearchRequest,
)
from enrollment.settings import EnrollmentSettings
from enrollment.views import (
    AgreementAddedView,
    ApplicationStateView,
    ApprovalView,
    CertificateListView,
    IdentityCheckView,
    IssuedView,
    PointView,
    RenewedView,
    SessionView,
    SubmittedView,
    to_json,
)

PKCS12_MEDIA_TYPE = "application/x-pkcs12"


@dataclass
class Services:
    """What the resources need: enrollment's settings, the CA's one door and the clock."""

    settings: EnrollmentSettings
    ca: CertificateAuthority
    clock: Clock

    def desk(self) -> Desk:
        return Desk(self.settings, self.clock)

    def handover(self) -> HandOver:
        return HandOver(self.settings, self.ca, self.clock)

    def lifecycle(self) -> Lifecycle:
        return Lifecycle(self.settings, self.ca, self.clock)

    def renewals(self) -> Renewals:
        return Renewals(self.settings, self.ca, self.clock)

    def applications(self) -> ApplicationService:
        return ApplicationService(self.settings, self.clock)


def principal_of(req: falcon.Request) -> Principal:
    principal: Principal = req.context.principal
    return principal


def json_body(req: falcon.Request) -> dict[str, Any]:
    if req.content_length in (None, 0):
        return {}
    try:
        body = req.get_media()
    except falcon.MediaMalformedError:
        raise BadRequestError("the body is not valid JSON") from None
    if not isinstance(body, dict):
        raise ValidationError.single("", "the body must be a JSON object")
    return body


class _Base:
    def __init__(self, services: Services) -> None:
        self.services = services


@protected
class SessionsResource(_Base):
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        login = LoginRequest.from_json(json_body(req))
        grant = login_with_second_factor(
            self.services.settings, self.services.clock, login.username, login.password, login.totp_code
        )
        resp.status = falcon.HTTP_201
        resp.media = to_json(SessionView.of(grant))


@protected
class CurrentSessionResource(_Base):
    def on_delete(self, req: falcon.Request, resp: falcon.Response) -> None:
        officer_login(self.services.settings, self.services.clock).logout(req.context.bearer_token, principal_of(req))
        resp.status = falcon.HTTP_204


@protected
class PointsResource(_Base):
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        points = CertificationPoint.select().order_by(CertificationPoint.name)
        resp.media = {"points": to_json([PointView.of(p) for p in points])}


@protected
class CurrentAgreementResource(_Base):
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        agreement = current_agreement()
        if agreement is None:
            raise NotFoundInEnrollmentError("no agreement text has been published yet")
        resp.media = to_json(agreement)


@protected
class AgreementsResource(_Base):
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        request = AgreementRequest.from_json(json_body(req))
        row = Administration(self.services.settings, self.services.clock).add_agreement(
            request.text, actor=principal_of(req).actor
        )
        resp.status = falcon.HTTP_201
        resp.media = to_json(AgreementAddedView(row.version, row.sha256))


@protected
class ApplicationsResource(_Base):
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        if req.content_length in (None, 0):
            raise BadRequestError("a JSON body is required")
        try:
            body = req.get_media()
        except falcon.MediaMalformedError:
            raise BadRequestError("the body is not valid JSON") from None
        result = self.services.applications().submit(
            body, principal=principal_of(req), idempotency_key=req.get_header("Idempotency-Key")
        )
        resp.status = falcon.HTTP_200 if result.replayed else falcon.HTTP_201
        resp.location = f"/api/v1/applications/{result.reference}"
        resp.media = to_json(SubmittedView(result.reference, result.tracking_code, result.state, result.expires_at))


@protected
class ApplicationResource(_Base):
    def on_get(self, req: falcon.Request, resp: falcon.Response, reference: str) -> None:
        app = self.services.applications().for_portal(reference, principal_of(req))
        resp.media = to_json(application_view(app, full=False))


@protected
class ApplicationStatusResource(_Base):
    def on_get(self, req: falcon.Request, resp: falcon.Response, reference: str) -> None:
        app = self.services.applications().by_tracking_code(reference, req.get_header("X-Tracking-Code"))
        resp.media = to_json(ApplicationStateView(app.reference, app.state, app.expires_at))


def _int_or(value: int | None, default: int) -> int:
    return default if value is None else value


@protected
class OfficerApplicationsResource(_Base):
    """The queue of the officer's points: ``state``, ``point_id``, ``expiring_within_days``,
    ``limit`` (1-100, default 20) and ``offset``."""

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        try:
            wanted = QueueFilter(
                state=req.get_param("state"),  # a blank state is refused, not read as "any"
                point_id=req.get_param_as_int("point_id"),
                expiring_within_days=req.get_param_as_int("expiring_within_days"),
                limit=_int_or(req.get_param_as_int("limit"), 20),
                offset=_int_or(req.get_param_as_int("offset"), 0),
            )
        except falcon.HTTPInvalidParam as exc:
            raise ValidationError.single(exc.description or "query", "must be a whole number") from None
        page = OfficerQueue(self.services.clock).list(principal_of(req), wanted)
        resp.media = {
            "applications": to_json([application_view(a, full=True) for a in page.applications]),
            "total": page.total,
            "limit": page.limit,
            "offset": page.offset,
        }


@protected
class OfficerSearchResource(_Base):
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        found = self.services.applications().search(SearchRequest.from_json(json_body(req)), principal_of(req))
        resp.media = {"applications": to_json([application_view(a, full=True) for a in found])}


@protected
class OfficerApplicationResource(_Base):
    def on_get(self, req: falcon.Request, resp: falcon.Response, reference: str) -> None:
        app = self.services.applications().for_officer(reference, principal_of(req))
        resp.media = to_json(application_view(app, full=True))


@protected
class EvidenceResource(_Base):
    def on_get(self, req: falcon.Request, resp: falcon.Response, reference: str) -> None:
        resp.media = {"identity_checks": to_json(self.services.desk().evidence(reference, principal_of(req)))}


@protected
class IdentityCheckResource(_Base):
    def on_post(self, req: falcon.Request, resp: falcon.Response, reference: str) -> None:
        request = IdentityCheckRequest.from_json(json_body(req))
        check = self.services.desk().record_identity_check(reference, request, principal_of(req))
        resp.status = falcon.HTTP_201
        resp.media = to_json(IdentityCheckView.of(reference, check))


@protected
class ApprovalResource(_Base):
    def on_post(self, req: falcon.Request, resp: falcon.Response, reference: str) -> None:
        approval = self.services.desk().approve(reference, principal_of(req))
        resp.status = falcon.HTTP_201
        resp.media = to_json(ApprovalView.of(reference, approval))


@protected
class IssueResource(_Base):
    def on_post(self, req: falcon.Request, resp: falcon.Response, reference: str) -> None:
        request = IssueRequest.from_json(json_body(req))
        result = self.services.handover().issue(reference, request, principal_of(req))
        resp.status = falcon.HTTP_201
        resp.cache_control = ["no-store"]
        pkcs12_url = f"/api/v1/officer/applications/{reference}/pkcs12" if result.pkcs12_available else None
        view = IssuedView(
            reference=result.reference,
            issuer=result.issuer,
            serial=result.serial,
            not_before=result.not_before,
            not_after=result.not_after,
            certificate=result.certificate_pem,
            chain=result.chain_pem,
            revocation_code=result.revocation_code,
            pkcs12_url=pkcs12_url,
        )
        resp.media = to_json(view)


@protected
class PKCS12Resource(_Base):
    def on_get(self, req: falcon.Request, resp: falcon.Response, reference: str) -> None:
        data = self.services.handover().download_pkcs12(reference, principal_of(req))
        resp.content_type = PKCS12_MEDIA_TYPE
        resp.cache_control = ["no-store"]
        resp.downloadable_as = f"{reference}.p12"
        resp.data = data


# -- certificates: one resource per action and way in (officer, portal for a citizen, code) ----


@protected
class OfficerSuspendResource(_Base):
    def on_post(self, req: falcon.Request, resp: falcon.Response, serial: str) -> None:
        principal = principal_of(req)
        lifecycle = self.services.lifecycle()
        cert = lifecycle.for_officer(serial, principal)
        resp.media = to_json(lifecycle.suspend(cert, actor=principal.actor, channel="officer"))


@protected
class OfficerResumeResource(_Base):
    def on_post(self, req: falcon.Request, resp: falcon.Response, serial: str) -> None:
        principal = principal_of(req)
        lifecycle = self.services.lifecycle()
        cert = lifecycle.for_officer(serial, principal)
        resp.media = to_json(lifecycle.resume(cert, actor=principal.actor, channel="officer"))


@protected
class OfficerRevokeResource(_Base):
    def on_post(self, req: falcon.Request, resp: falcon.Response, serial: str) -> None:
        principal = principal_of(req)
        lifecycle = self.services.lifecycle()
        cert = lifecycle.for_officer(serial, principal)
        request = RevokeRequest.from_json(json_body(req), require_officer_reason(principal))
        resp.media = to_json(lifecycle.revoke(cert, request, actor=principal.actor, channel="officer"))


def citizen_of(req: falcon.Request) -> CitizenIdentity:
    return CitizenIdentity.from_headers(req.get_header("X-Citizen-Pesel"), req.get_header("X-Citizen-Document"))


@protected
class CitizenCertificatesResource(_Base):
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = to_json(CertificateListView(self.services.lifecycle().list_for_citizen(citizen_of(req))))


@protected
class CitizenCertificateResource(_Base):
    def on_get(self, req: falcon.Request, resp: falcon.Response, serial: str) -> None:
        lifecycle = self.services.lifecycle()
        resp.media = to_json(lifecycle.status(lifecycle.for_citizen(serial, citizen_of(req))))


@protected
class CitizenSuspendResource(_Base):
    def on_post(self, req: falcon.Request, resp: falcon.Response, serial: str) -> None:
        lifecycle = self.services.lifecycle()
        cert = lifecycle.for_citizen(serial, citizen_of(req))
        resp.media = to_json(lifecycle.suspend(cert, actor=principal_of(req).actor, channel="portal"))


@protected
class CitizenResumeResource(_Base):
    """The portal's word is not enough to resume (issue 15): the citizen's revocation code must
    come with it; without one, 422 naming ``revocation_code`` and an audited refusal."""

    def on_post(self, req: falcon.Request, resp: falcon.Response, serial: str) -> None:
        body = json_body(req)
        lifecycle = self.services.lifecycle()
        actor = principal_of(req).actor
        cert = lifecycle.for_citizen(serial, citizen_of(req))
        code = body.get("revocation_code")
        if not isinstance(code, str) or not code.strip():
            lifecycle.refuse(cert, "enrollment.certificate.resume.refused", actor, "portal", "no_code")
            raise ValidationError.single(
                "revocation_code", "resuming needs the certificate's revocation code (or an officer)", "required"
            )
        lifecycle.with_code(CodeRequest(cert.serial, code))
        resp.media = to_json(lifecycle.resume(cert, actor=actor, channel="portal"))


@protected
class CitizenRevokeResource(_Base):
    def on_post(self, req: falcon.Request, resp: falcon.Response, serial: str) -> None:
        lifecycle = self.services.lifecycle()
        cert = lifecycle.for_citizen(serial, citizen_of(req))
        request = RevokeRequest.from_json(json_body(req), CITIZEN_REASONS)
        resp.media = to_json(lifecycle.revoke(cert, request, actor=principal_of(req).actor, channel="portal"))


@protected
class CodeStatusResource(_Base):
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        lifecycle = self.services.lifecycle()
        cert = lifecycle.with_code(CodeRequest.from_json(json_body(req)))
        resp.media = to_json(lifecycle.status(cert))


@protected
class CodeSuspendResource(_Base):
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        lifecycle = self.services.lifecycle()
        cert = lifecycle.with_code(CodeRequest.from_json(json_body(req)))
        resp.media = to_json(lifecycle.suspend(cert, actor=f"citizen:{cert.id}", channel="code"))


@protected
class CodeResumeResource(_Base):
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        lifecycle = self.services.lifecycle()
        cert = lifecycle.with_code(CodeRequest.from_json(json_body(req)))
        resp.media = to_json(lifecycle.resume(cert, actor=f"citizen:{cert.id}", channel="code"))


@protected
class CodeRevokeResource(_Base):
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = json_body(req)
        lifecycle = self.services.lifecycle()
        cert = lifecycle.with_code(CodeRequest.from_json(body))
        # The reason is checked after the code, as always: a wrong code counts whatever the reason.
        request = RevokeRequest.from_json(body, CITIZEN_REASONS)
        resp.media = to_json(lifecycle.revoke(cert, request, actor=f"citizen:{cert.id}", channel="code"))


@protected
class RenewalsResource(_Base):
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        principal = principal_of(req)
        request = RenewalRequest.from_json(json_body(req))
        actor = principal.actor if principal.authenticated else "citizen:renewal"
        result = self.services.renewals().renew(request, actor=actor)
        resp.status = falcon.HTTP_201
        view = RenewedView(
            issuer=result.issuer,
            serial=result.serial,
            not_before=result.not_before,
            not_after=result.not_after,
            certificate=result.certificate_pem,
            chain=result.chain_pem,
        )
        resp.media = to_json(view)


def routes(services: Services) -> list[tuple[str, Any]]:
    """Every enrollment route with its resource (config/wiring/enrollment.py mounts them)."""
    p = "/api/v1"
    return [
        (f"{p}/sessions", SessionsResource(services)),
        (f"{p}/sessions/current", CurrentSessionResource(services)),
        (f"{p}/points", PointsResource(services)),
        (f"{p}/agreements", AgreementsResource(services)),
        (f"{p}/agreements/current", CurrentAgreementResource(services)),
        (f"{p}/applications", ApplicationsResource(services)),
        (f"{p}/applications/{{reference}}", ApplicationResource(services)),
        (f"{p}/applications/{{reference}}/status", ApplicationStatusResource(services)),
        (f"{p}/officer/applications", OfficerApplicationsResource(services)),
        (f"{p}/officer/applications/search", OfficerSearchResource(services)),
        (f"{p}/officer/applications/{{reference}}", OfficerApplicationResource(services)),
        (f"{p}/officer/applications/{{reference}}/evidence", EvidenceResource(services)),
        (f"{p}/officer/applications/{{reference}}/identity-check", IdentityCheckResource(services)),
        (f"{p}/officer/applications/{{reference}}/approval", ApprovalResource(services)),
        (f"{p}/officer/applications/{{reference}}/issue", IssueResource(services)),
        (f"{p}/officer/applications/{{reference}}/pkcs12", PKCS12Resource(services)),
        (f"{p}/officer/certificates/{{serial}}/suspend", OfficerSuspendResource(services)),
        (f"{p}/officer/certificates/{{serial}}/resume", OfficerResumeResource(services)),
        (f"{p}/officer/certificates/{{serial}}/revoke", OfficerRevokeResource(services)),
        (f"{p}/citizen/certificates", CitizenCertificatesResource(services)),
        (f"{p}/citizen/certificates/{{serial}}", CitizenCertificateResource(services)),
        (f"{p}/citizen/certificates/{{serial}}/suspend", CitizenSuspendResource(services)),
        (f"{p}/citizen/certificates/{{serial}}/resume", CitizenResumeResource(services)),
        (f"{p}/citizen/certificates/{{serial}}/revoke", CitizenRevokeResource(services)),
        (f"{p}/self-service/status", CodeStatusResource(services)),
        (f"{p}/self-service/suspend", CodeSuspendResource(services)),
        (f"{p}/self-service/resume", CodeResumeResource(services)),
        (f"{p}/self-service/revoke", CodeRevokeResource(services)),
        (f"{p}/renewals", RenewalsResource(services)),
    ]
