"""Read-only pages for the CA administrator and the auditor: hierarchy and CRL freshness, OCSP
signer validity, the periodic jobs, the audit chain's verification and its last seal."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import falcon

from ca.overview import AuthoritySummary, hierarchy_overview
from core import audit
from core.auth import Principal
from core.errors import PermissionDeniedError
from web.context import ADMIN_ROLES, base_context, signed_in_officer
from web.deps import WebDeps
from web.templating import render_page

ROLE_NAMES = {
    "root": "główny urząd (root)",
    "issuing": "urząd wydający certyfikaty obywatelom",
    "ocsp": "podpisywanie odpowiedzi OCSP",
    "tsa": "znaczniki czasu (TSA)",
    "audit": "pieczęć dziennika zdarzeń",
}
SOON = timedelta(days=30)


def require_admin(req: falcon.Request) -> Principal:
    # A browser that is not logged in goes to the log-in page (an expired session too).
    principal = signed_in_officer(req)
    if not principal.roles & ADMIN_ROLES:
        raise PermissionDeniedError("administrator or auditor only")
    return principal


@dataclass(frozen=True)
class Freshness:
    text: str
    tone: str  # ok | warn | bad


def validity(row: AuthoritySummary, now: datetime) -> Freshness:
    if row.not_after <= now:
        return Freshness("wygasł", "bad")
    if row.not_after - now <= SOON:
        return Freshness(f"wygasa za {(row.not_after - now).days} dni", "warn")
    return Freshness("ważny", "ok")


def crl_freshness(next_update: datetime, now: datetime) -> Freshness:
    if next_update <= now:
        return Freshness("nieaktualna (minął termin następnej listy)", "bad")
    hours = (next_update - now).total_seconds() / 3600
    return Freshness(f"aktualna, następna najpóźniej za {hours:.0f} h", "ok")


class AdminOverviewResource:
    def __init__(self, deps: WebDeps) -> None:
        self.deps = deps

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        require_admin(req)
        now = self.deps.clock.now()
        rows = hierarchy_overview()
        render_page(
            resp,
            "admin_overview.html",
            title="Hierarchia i listy CRL",
            rows=rows,
            cas=[r for r in rows if r.role in ("root", "issuing")],
            signers=[r for r in rows if r.role == "ocsp"],
            role_names=ROLE_NAMES,
            validity=lambda r: validity(r, now),
            crl_freshness=lambda c: crl_freshness(c.next_update, now),
            **base_context(req, resp),
        )


class AdminAuditResource:
    def __init__(self, deps: WebDeps) -> None:
        self.deps = deps

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        require_admin(req)
        report = audit.verify_chain(self.deps.audit_keys())
        last_seal = audit.AuditSeal.select().order_by(audit.AuditSeal.seq.desc()).first()
        render_page(
            resp,
            "admin_audit.html",
            title="Dziennik zdarzeń",
            report=report,
            last_seal=last_seal,
            **base_context(req, resp),
        )


class AdminJobsResource:
    def __init__(self, deps: WebDeps) -> None:
        self.deps = deps

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        require_admin(req)
        render_page(resp, "admin_jobs.html", title="Zadania okresowe", jobs=self.deps.jobs, **base_context(req, resp))
