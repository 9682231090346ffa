"""Read-only pages for the CA administrator and the auditor: hierarchy and CRL freshness, OCSP
signer validity, the periodic jobs, the audit chain's verification and its last seal."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import falcon

from ca.overview import AuthoritySummary, hierarchy_overview
from core import audit, job_runs
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
        last_seal = audit.last_seal()
        render_page(
            resp,
            "admin_audit.html",
            title="Dziennik zdarzeń",
            report=report,
            last_seal=last_seal,
            **base_context(req, resp),
        )


OUTCOMES = {
    job_runs.OK: Freshness("powodzenie", "ok"),
    job_runs.FAILED: Freshness("błąd", "bad"),
    job_runs.SKIPPED_DB_UNAVAILABLE: Freshness("pominięte: baza danych niedostępna", "warn"),
}
RECENT_RUNS = 50


def every(seconds: int) -> str:
    """An interval as the schedule column shows it: ``5 min``, ``1 h``, ``15 s``."""
    if seconds >= 3600 and seconds % 3600 == 0:
        return f"{seconds // 3600} h"
    if seconds >= 60 and seconds % 60 == 0:
        return f"{seconds // 60} min"
    return f"{seconds} s"


def duration(seconds: float) -> str:
    """A run's duration in Polish notation (decimal comma)."""
    if seconds >= 60:
        return f"{int(seconds // 60)} min {int(seconds % 60)} s"
    return f"{seconds:.2f} s".replace(".", ",")


def job_state(state: job_runs.JobState) -> Freshness:
    """The mark of a job: never run, stale (no success for two intervals), its last run failed
    (not stale yet), or up to date."""
    if state.last_run is None:
        return Freshness("jeszcze nie uruchomione", "warn")
    if state.stale:
        return Freshness(f"zaległe: brak udanego przebiegu od ponad {every(2 * state.interval_seconds)}", "bad")
    if state.last_run.outcome != job_runs.OK:
        return Freshness("ostatni przebieg nieudany", "warn")
    return Freshness("aktualne", "ok")


class AdminJobsResource:
    """``/admin/zadania``: each job's schedule, last run (any host) and whether it is stale, and the
    latest runs of every job."""

    def __init__(self, deps: WebDeps) -> None:
        self.deps = deps

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        require_admin(req)
        schedule = [(j.name, j.interval_seconds) for j in self.deps.jobs]
        render_page(
            resp,
            "admin_jobs.html",
            title="Zadania okresowe",
            states=job_runs.states(schedule, self.deps.clock.now()),
            runs=job_runs.history(limit=RECENT_RUNS),
            outcomes=OUTCOMES,
            every=every,
            duration=duration,
            job_state=job_state,
            **base_context(req, resp),
        )
