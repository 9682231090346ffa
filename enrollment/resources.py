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
from enrollment.auth import officer_login
from enrollment.authorization import protected
from enrollment.desk import Desk
from enrollment.errors import NotFoundInEnrollmentError
from enrollment.lifecycle import CitizenIdentity, Lifecycle, require_officer_reason
from enrollment.models import Agreement, CertificationPoint
from enrollment.settings import EnrollmentSettings

PKCS12_MEDIA_TYPE = "application/x-pkcs12"


@dataclass
class Services:
    """What the resources need: enrollment's settings, the CA's one door and the clock."""

    settings: EnrollmentSettings
    ca: CertificateAuthority
    clock: Clock

    def desk(self) -> Desk:
        return Desk(self.settings, self.ca, self.clock)

    def lifecycle(self) -> Lifecycle:
        return Lifecycle(self.settings, self.ca, self.clock)

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
        body = json_body(req)
        username, password = body.get("username"), body.get("password")
        if not isinstance(username, str) or not isinstance(password, str):
            raise ValidationError.single("username", "username and password are required", "required")
        grant = officer_login(self.services.settings, self.services.clock).login(username, password)
        resp.status = falcon.HTTP_201
        resp.media = {
            "token": grant.token,
            "officer_id": grant.officer_id,
            "expires_at": grant.expires_at.isoformat(),
            "roles": list(grant.roles),
            "points": list(grant.points),
        }


@protected
class CurrentSessionResource(_Base):
    def on_delete(self, req: falcon.Request, resp: falcon.Response) -> None:
        officer_login(self.services.settings, self.services.clock).logout(req.context.bearer_token, principal_of(req))
        resp.status = falcon.HTTP_204


@protected
class PointsResource(_Base):
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = {
            "points": [
                {
                    "id": p.id,
                    "name": p.name,
                    "street": p.street,
                    "postal_code": p.postal_code,
                    "city": p.city,
                    "teryt": p.teryt,
                    "dual_control": p.dual_control,
                }
                for p in CertificationPoint.select().order_by(CertificationPoint.name)
            ]
        }


@protected
class CurrentAgreementResource(_Base):
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        row = Agreement.select().order_by(Agreement.version.desc()).first()
        if row is None:
            raise NotFoundInEnrollmentError("no agreement text has been published yet")
        resp.media = {
            "version": row.version,
            "text": row.text,
            "sha256": row.sha256,
            "created_at": row.created_at.isoformat(),
        }


@protected
class AgreementsResource(_Base):
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        text = json_body(req).get("text")
        if not isinstance(text, str):
            raise ValidationError.single("text", "is required", "required")
        row = Administration(self.services.settings, self.services.clock).add_agreement(
            text, actor=principal_of(req).actor
        )
        resp.status = falcon.HTTP_201
        resp.media = {"version": row.version, "sha256": row.sha256}


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
        resp.media = {
            "reference": result.reference,
            "tracking_code": result.tracking_code,
            "state": result.state,
            "expires_at": result.expires_at.isoformat(),
        }


@protected
class ApplicationResource(_Base):
    def on_get(self, req: falcon.Request, resp: falcon.Response, reference: str) -> None:
        app = self.services.applications().for_portal(reference, principal_of(req))
        resp.media = application_view(app, full=False)


@protected
class ApplicationStatusResource(_Base):
    def on_get(self, req: falcon.Request, resp: falcon.Response, reference: str) -> None:
        app = self.services.applications().by_tracking_code(reference, req.get_header("X-Tracking-Code"))
        resp.media = {"reference": app.reference, "state": app.state, "expires_at": app.expires_at.isoformat()}


@protected
class OfficerSearchResource(_Base):
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        found = self.services.applications().search(json_body(req), principal_of(req))
        resp.media = {"applications": [application_view(a, full=True) for a in found]}


@protected
class OfficerApplicationResource(_Base):
    def on_get(self, req: falcon.Request, resp: falcon.Response, reference: str) -> None:
        app = self.services.applications().for_officer(reference, principal_of(req))
        resp.media = application_view(app, full=True)


@protected
class EvidenceResource(_Base):
    def on_get(self, req: falcon.Request, resp: falcon.Response, reference: str) -> None:
        resp.media = {"identity_checks": self.services.desk().evidence(reference, principal_of(req))}


@protected
class IdentityCheckResource(_Base):
    def on_post(self, req: falcon.Request, resp: falcon.Response, reference: str) -> None:
        check = self.services.desk().record_identity_check(reference, json_body(req), principal_of(req))
        resp.status = falcon.HTTP_201
        resp.media = {
            "reference": reference,
            "check_id": check.id,
            "state": "verified",
            "checked_at": check.checked_at.isoformat(),
        }


@protected
class ApprovalResource(_Base):
    def on_post(self, req: falcon.Request, resp: falcon.Response, reference: str) -> None:
        approval = self.services.desk().approve(reference, principal_of(req))
        resp.status = falcon.HTTP_201
        resp.media = {"reference": reference, "state": "approved", "approved_at": approval.approved_at.isoformat()}


@protected
class IssueResource(_Base):
    def on_post(self, req: falcon.Request, resp: falcon.Response, reference: str) -> None:
        result = self.services.desk().issue(reference, json_body(req), principal_of(req))
        resp.status = falcon.HTTP_201
        resp.cache_control = ["no-store"]
        resp.media = {
            "reference": result.reference,
            "issuer": result.issuer,
            "serial": result.serial,
            "not_before": result.not_before.isoformat(),
            "not_after": result.not_after.isoformat(),
            "certificate": result.certificate_pem,
            "chain": result.chain_pem,
            "revocation_code": result.revocation_code,
            "pkcs12_url": f"/api/v1/officer/applications/{reference}/pkcs12" if result.pkcs12_available else None,
        }


@protected
class PKCS12Resource(_Base):
    def on_get(self, req: falcon.Request, resp: falcon.Response, reference: str) -> None:
        data = self.services.desk().download_pkcs12(reference, principal_of(req))
        resp.content_type = PKCS12_MEDIA_TYPE
        resp.cache_control = ["no-store"]
        resp.downloadable_as = f"{reference}.p12"
        resp.data = data


class _OfficerCertificateAction(_Base):
    action = ""

    def on_post(self, req: falcon.Request, resp: falcon.Response, serial: str) -> None:
        principal = principal_of(req)
        lifecycle = self.services.lifecycle()
        cert = lifecycle.for_officer(serial, principal)
        if self.action == "suspend":
            resp.media = lifecycle.suspend(cert, actor=principal.actor, channel="officer")
        elif self.action == "resume":
            resp.media = lifecycle.resume(cert, actor=principal.actor, channel="officer")
        else:
            reason = json_body(req).get("reason")
            resp.media = lifecycle.revoke(
                cert, reason, actor=principal.actor, channel="officer", allowed=require_officer_reason(principal)
            )


@protected
class OfficerSuspendResource(_OfficerCertificateAction):
    action = "suspend"


@protected
class OfficerResumeResource(_OfficerCertificateAction):
    action = "resume"


@protected
class OfficerRevokeResource(_OfficerCertificateAction):
    action = "revoke"


def citizen_of(req: falcon.Request) -> CitizenIdentity:
    return CitizenIdentity.from_headers(req.get_header("X-Citizen-Pesel"), req.get_header("X-Citizen-Document"))


@protected
class CitizenCertificatesResource(_Base):
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = {"certificates": self.services.lifecycle().list_for_citizen(citizen_of(req))}


@protected
class CitizenCertificateResource(_Base):
    def on_get(self, req: falcon.Request, resp: falcon.Response, serial: str) -> None:
        lifecycle = self.services.lifecycle()
        resp.media = lifecycle.status(lifecycle.for_citizen(serial, citizen_of(req)))


class _CitizenAction(_Base):
    action = ""

    def on_post(self, req: falcon.Request, resp: falcon.Response, serial: str) -> None:
        principal = principal_of(req)
        lifecycle = self.services.lifecycle()
        cert = lifecycle.for_citizen(serial, citizen_of(req))
        if self.action == "suspend":
            resp.media = lifecycle.suspend(cert, actor=principal.actor, channel="portal")
        elif self.action == "resume":
            resp.media = lifecycle.resume(cert, actor=principal.actor, channel="portal")
        else:
            resp.media = lifecycle.revoke(cert, json_body(req).get("reason"), actor=principal.actor, channel="portal")


@protected
class CitizenSuspendResource(_CitizenAction):
    action = "suspend"


@protected
class CitizenResumeResource(_CitizenAction):
    action = "resume"


@protected
class CitizenRevokeResource(_CitizenAction):
    action = "revoke"


class _CodeAction(_Base):
    action = ""

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = json_body(req)
        lifecycle = self.services.lifecycle()
        cert = lifecycle.with_code(body.get("serial"), body.get("code"))
        actor = f"citizen:{cert.id}"
        if self.action == "status":
            resp.media = lifecycle.status(cert)
        elif self.action == "suspend":
            resp.media = lifecycle.suspend(cert, actor=actor, channel="code")
        else:
            resp.media = lifecycle.revoke(cert, body.get("reason"), actor=actor, channel="code")


@protected
class CodeStatusResource(_CodeAction):
    action = "status"


@protected
class CodeSuspendResource(_CodeAction):
    action = "suspend"


@protected
class CodeRevokeResource(_CodeAction):
    action = "revoke"


@protected
class RenewalsResource(_Base):
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        principal = principal_of(req)
        body = json_body(req)
        actor = principal.actor if principal.authenticated else "citizen:renewal"
        result = self.services.lifecycle().renew(body, actor=actor)
        resp.status = falcon.HTTP_201
        resp.media = {
            "issuer": result.issuer,
            "serial": result.serial,
            "not_before": result.not_before.isoformat(),
            "not_after": result.not_after.isoformat(),
            "certificate": result.certificate_pem,
            "chain": result.chain_pem,
        }


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
        (f"{p}/self-service/revoke", CodeRevokeResource(services)),
        (f"{p}/renewals", RenewalsResource(services)),
    ]
