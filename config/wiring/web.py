"""Mount the Polish pages (``web``): they use the same services as the REST resources."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import timedelta
from typing import cast

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPublicKeyTypes

from access.principals import principal_for_token
from ca.errors import AuthorityNotFoundError
from ca.hierarchy import authority, load_certificate
from config.job_schedule import SCHEDULE
from config.runtime import Runtime, WSGIApp
from config.wiring.enrollment import services_for
from core.auth import Principal
from enrollment.attempts import AttemptLimiter
from enrollment.auth import officer_login, officer_points
from enrollment.lifecycle import CITIZEN_REASONS
from enrollment.notifications import point_text
from enrollment.requests import CodeRequest, RevokeRequest
from enrollment.resources import Services
from enrollment.totp import SecondFactor
from verifier.service import VerificationService
from web.deps import ApplicationStatus, CertificateStatus, JobInfo, LoginGrant, WebDeps
from web.middleware import WebMiddleware
from web.routes import STATIC_DIR, routes


def audit_keys() -> Mapping[str, CertificateIssuerPublicKeyTypes]:
    try:
        row = authority("audit")
    except AuthorityNotFoundError:
        return {}
    # The ceremony makes the audit seal key an EC or RSA key, which can sign.
    return {row.key_label: cast(CertificateIssuerPublicKeyTypes, load_certificate(row).public_key())}


def _application_status(services: Services, reference: str, tracking_code: str) -> ApplicationStatus:
    app = services.applications().by_tracking_code(reference, tracking_code)
    point = app.point
    return ApplicationStatus(
        reference=app.reference,
        state=app.state,
        expires_at=app.expires_at,
        key_generation=app.key_generation,
        point=point_text(point),
    )


def _certificate_by_code(
    services: Services, serial: str, code: str, action: str, reason: str | None
) -> CertificateStatus:
    """The same steps as the self-service REST resources (enrollment.resources._CodeAction)."""
    lifecycle = services.lifecycle()
    cert = lifecycle.with_code(CodeRequest.from_json({"serial": serial, "revocation_code": code}))
    actor = f"citizen:{cert.id}"
    if action == "suspend":
        lifecycle.suspend(cert, actor=actor, channel="code")
    elif action == "revoke":
        request = RevokeRequest.from_json({"reason": reason}, CITIZEN_REASONS)
        lifecycle.revoke(cert, request, actor=actor, channel="code")
    view = lifecycle.status(cert)
    settings = services.settings
    return CertificateStatus(
        serial=view.serial,
        status=view.status,
        not_before=cert.not_before,
        not_after=cert.not_after,
        revoked_at=view.revoked_at,
        revocation_reason=view.revocation_reason,
        renewal_from=cert.not_after - timedelta(days=settings.renewal_window_days),
        remote_renewals_left=max(0, settings.max_remote_renewals - cert.remote_renewals),
    )


def _receipt_seal_fingerprints(name: str) -> frozenset[str]:
    try:
        certificate = load_certificate(authority(name))
    except AuthorityNotFoundError:
        return frozenset()  # no receipt seal in this deployment: no receipt is ours
    return frozenset({certificate.fingerprint(hashes.SHA256()).hex().upper()})


def deps_for(runtime: Runtime) -> WebDeps:
    settings = runtime.settings
    services = services_for(runtime)
    logins = officer_login(settings.enrollment, runtime.clock)

    def login(username: str, password: str) -> LoginGrant:
        grant = logins.login(username, password)
        return LoginGrant(grant.token, grant.expires_at)

    def logout(token: str, principal: Principal) -> None:
        logins.logout(token, principal)

    def session_principal(token: str) -> Principal | None:
        principal = principal_for_token(token, runtime.clock, officer_points)
        return principal if principal is not None and principal.kind == "officer" else None

    return WebDeps(
        settings=settings.web,
        clock=runtime.clock,
        verifier=VerificationService(settings.verifier, runtime.clock, lambda: runtime.key_store),
        login=login,
        logout=logout,
        session_principal=session_principal,
        jobs=tuple(JobInfo(name, interval) for name, interval in SCHEDULE),
        audit_keys=audit_keys,
        application_status=functools.partial(_application_status, services),
        certificate_by_code=functools.partial(_certificate_by_code, services),
        enrollment=services,
        second_factor=SecondFactor(runtime.clock),
        totp_attempts=AttemptLimiter(runtime.clock, max_attempts=5, window_minutes=15),
        receipt_seal_fingerprints=functools.partial(_receipt_seal_fingerprints, settings.receipts.seal_authority),
    )


def mount(app: WSGIApp, runtime: Runtime) -> None:
    deps = deps_for(runtime)
    app.add_middleware(WebMiddleware(deps))
    for route, resource in routes(deps):
        app.add_route(route, resource)
    app.add_static_route("/static", str(STATIC_DIR))
