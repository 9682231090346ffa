"""The pages' routes, mounted by ``config.wiring.web``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from web.deps import WebDeps
from web.pages.admin import AdminAuditResource, AdminJobsResource, AdminOverviewResource
from web.pages.citizen import ApplicationStatusPageResource, CertificatePageResource
from web.pages.officer import (
    ActivityResource,
    AgreementPDFResource,
    ApplicationPageResource,
    ApprovalResource,
    CertificateActionResource,
    HandoverResource,
    IdentityCheckResource,
    IssueResource,
    PKCS12Resource,
    QueueResource,
    SearchResource,
)
from web.pages.public import HomeResource, VerificationPageResource
from web.pages.receipt import ReceiptPageResource
from web.pages.session import LoginPageResource, LogoutResource, TOTPEnrolmentResource

STATIC_DIR = Path(__file__).with_name("static")


def routes(deps: WebDeps) -> list[tuple[str, Any]]:
    pages: list[tuple[str, Any]] = [
        ("/", HomeResource()),
        ("/weryfikacja", VerificationPageResource(deps)),
        ("/weryfikacja/upo", ReceiptPageResource(deps)),
        ("/obywatel/wniosek", ApplicationStatusPageResource(deps)),
        ("/obywatel/certyfikat", CertificatePageResource(deps)),
        ("/logowanie", LoginPageResource(deps)),
        ("/wyloguj", LogoutResource(deps)),
        ("/totp", TOTPEnrolmentResource(deps)),
        ("/admin", AdminOverviewResource(deps)),
        ("/admin/audyt", AdminAuditResource(deps)),
        ("/admin/zadania", AdminJobsResource(deps)),
    ]
    if deps.enrollment is not None:
        app = "/urzednik/wniosek/{reference}"
        pages += [
            ("/urzednik", QueueResource(deps)),
            ("/urzednik/szukaj", SearchResource(deps)),
            ("/urzednik/aktywnosc", ActivityResource(deps)),
            (app, ApplicationPageResource(deps)),
            (app + "/tozsamosc", IdentityCheckResource(deps)),
            (app + "/zatwierdzenie", ApprovalResource(deps)),
            (app + "/wydanie", IssueResource(deps)),
            (app + "/pkcs12", PKCS12Resource(deps)),
            (app + "/przekazanie", HandoverResource(deps)),
            (app + "/umowa.pdf", AgreementPDFResource(deps)),
            (app + "/certyfikat/{action}", CertificateActionResource(deps)),
        ]
    return pages
