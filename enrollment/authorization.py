"""The authorisation matrix: which principal may call which enrollment route, in one place.

Every enrollment resource is decorated with :func:`protected`, which looks the matched route
(``req.uri_template``) and method up in :data:`MATRIX` before the responder runs; a route missing
from the matrix is refused for everyone (fail closed). ``docs/authorisation.md`` is generated from
this table (:func:`render_markdown`) and a test keeps the two identical.

Grants: ``public`` (anyone, including anonymous callers; the resource then checks a code or a
proof of key possession), ``officer`` (any logged-in officer), ``role:<role>`` (an officer with
that role), ``scope:<scope>`` (a portal client with that scope). Row-level rules (an officer only
sees applications of their own certification points; a citizen only their own certificates) are
enforced by the services and described in the notes column.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import falcon

from core.auth import ANONYMOUS, Principal
from core.errors import AuthenticationError, PermissionDeniedError

P = "/api/v1"


@dataclass(frozen=True)
class Rule:
    grants: frozenset[str]
    note: str


def _rule(*grants: str, note: str = "") -> Rule:
    return Rule(frozenset(grants), note)


MATRIX: dict[tuple[str, str], Rule] = {
    (f"{P}/sessions", "POST"): _rule("public", note="officer login (username + password)"),
    (f"{P}/sessions/current", "DELETE"): _rule("officer", note="logout"),
    (f"{P}/points", "GET"): _rule("scope:applications", "officer", note="list of certification points"),
    (f"{P}/agreements/current", "GET"): _rule("public", note="current agreement text"),
    (f"{P}/agreements", "POST"): _rule("role:ra_admin", note="new agreement version"),
    (f"{P}/applications", "POST"): _rule("scope:applications", note="submit (Idempotency-Key)"),
    (f"{P}/applications/{{reference}}", "GET"): _rule(
        "scope:applications", note="only the submitting portal's applications"
    ),
    (f"{P}/applications/{{reference}}/status", "GET"): _rule(
        "public", note="needs the tracking code (X-Tracking-Code)"
    ),
    (f"{P}/officer/applications", "GET"): _rule(
        "role:ra_officer", "role:ra_admin", "role:auditor", note="queue of own points (auditor: all), filters, paging"
    ),
    (f"{P}/officer/applications/search", "POST"): _rule(
        "role:ra_officer", "role:ra_admin", "role:auditor", note="own points only (auditor: all)"
    ),
    (f"{P}/officer/applications/{{reference}}", "GET"): _rule(
        "role:ra_officer", "role:ra_admin", "role:auditor", note="own points only (auditor: all)"
    ),
    (f"{P}/officer/applications/{{reference}}/evidence", "GET"): _rule(
        "role:ra_admin", "role:auditor", note="identity-check evidence; ra_admin own points only"
    ),
    (f"{P}/officer/applications/{{reference}}/identity-check", "POST"): _rule(
        "role:ra_officer", note="own points only"
    ),
    (f"{P}/officer/applications/{{reference}}/approval", "POST"): _rule(
        "role:ra_officer", "role:ra_admin", note="dual control: not the officer who checked; own points only"
    ),
    (f"{P}/officer/applications/{{reference}}/issue", "POST"): _rule("role:ra_officer", note="own points only"),
    (f"{P}/officer/applications/{{reference}}/pkcs12", "GET"): _rule(
        "role:ra_officer", note="only the issuing officer, exactly once"
    ),
    (f"{P}/officer/certificates/{{serial}}/suspend", "POST"): _rule(
        "role:ra_officer", "role:ca_admin", note="ra_officer: own points only"
    ),
    (f"{P}/officer/certificates/{{serial}}/resume", "POST"): _rule(
        "role:ra_officer", "role:ca_admin", note="ra_officer: own points only"
    ),
    (f"{P}/officer/certificates/{{serial}}/revoke", "POST"): _rule(
        "role:ra_officer", "role:ca_admin", note="ra_officer: own points only"
    ),
    (f"{P}/citizen/certificates", "GET"): _rule("scope:citizens", note="the portal-identified citizen's certificates"),
    (f"{P}/citizen/certificates/{{serial}}", "GET"): _rule("scope:citizens", note="own certificate only"),
    (f"{P}/citizen/certificates/{{serial}}/suspend", "POST"): _rule("scope:citizens", note="own certificate only"),
    (f"{P}/citizen/certificates/{{serial}}/resume", "POST"): _rule(
        "scope:citizens", note="own certificate only, with its revocation code"
    ),
    (f"{P}/citizen/certificates/{{serial}}/revoke", "POST"): _rule("scope:citizens", note="own certificate only"),
    (f"{P}/self-service/status", "POST"): _rule("public", note="serial + revocation code; lockout"),
    (f"{P}/self-service/suspend", "POST"): _rule("public", note="serial + revocation code; lockout"),
    (f"{P}/self-service/resume", "POST"): _rule("public", note="serial + revocation code; lockout"),
    (f"{P}/self-service/revoke", "POST"): _rule(
        "public", note="serial + revocation code; lockout; keyCompromise also signed with the certificate's key"
    ),
    (f"{P}/renewals", "POST"): _rule("public", note="CSR for the new key + signature by the current certificate's key"),
}

ROLES_IN_ORDER = ("ra_officer", "ra_admin", "ca_admin", "auditor")
SCOPES_IN_ORDER = ("applications", "citizens", "verify", "receipts")


def allowed(principal: Principal, rule: Rule) -> bool:
    if "public" in rule.grants:
        return True
    if principal.kind == "officer":
        return "officer" in rule.grants or any(f"role:{r}" in rule.grants for r in principal.roles)
    if principal.kind == "portal":
        return any(f"scope:{s}" in rule.grants for s in principal.scopes)
    return False


def authorize(principal: Principal, route: str | None, method: str) -> None:
    """Raise 401 for anonymous callers and 403 for authenticated ones the matrix does not allow."""
    rule = MATRIX.get((route or "", method.upper()))
    if rule is not None and allowed(principal, rule):
        return
    if not principal.authenticated:
        raise AuthenticationError("authentication required")
    raise PermissionDeniedError("you may not call this route")


def _hook(req: falcon.Request, resp: falcon.Response, resource: Any, params: dict[str, Any]) -> None:
    authorize(getattr(req.context, "principal", ANONYMOUS), req.uri_template, req.method)


R = TypeVar("R")


def protected(cls: type[R]) -> type[R]:
    """Class decorator: every responder of the resource is checked against :data:`MATRIX`."""
    decorated: Callable[[type[R]], type[R]] = falcon.before(_hook)
    return decorated(cls)


def _who(rule: Rule) -> str:
    parts = []
    for grant in sorted(rule.grants):
        kind, _, name = grant.partition(":")
        parts.append({"public": "anyone", "officer": "any officer"}.get(kind, f"{kind} `{name}`"))
    return ", ".join(parts)


def render_markdown() -> str:
    """The matrix as docs/authorisation.md (route × principal; ✓ = allowed)."""
    columns = ["anonymous", *(f"portal:{s}" for s in SCOPES_IN_ORDER), *(f"officer:{r}" for r in ROLES_IN_ORDER)]
    principals = [ANONYMOUS]
    principals += [Principal("portal", "1", scopes=frozenset({s})) for s in SCOPES_IN_ORDER]
    principals += [Principal("officer", "1", roles=frozenset({r})) for r in ROLES_IN_ORDER]
    lines = [
        "# Authorisation matrix (enrollment REST API)",
        "",
        "Generated from `enrollment/authorization.py` (`MATRIX`), which is the only place it is enforced",
        "(every enrollment resource is decorated with `protected`); `tests/enrollment/test_authorization.py`",
        "checks this file against the code and calls every route as every principal.",
        "",
        "✓ = the principal passes the route check (401 for anonymous callers otherwise, 403 for others).",
        "Row-level rules in the last column are enforced by the services: officers act only on applications",
        "and certificates of their own certification points (auditors read all), the portal only on its own",
        "applications and on certificates of the citizen it identified, self-service with a code only on",
        "the certificate that code belongs to (after 5 wrong codes in 15 minutes further wrong codes get 429",
        "with Retry-After; the right code always works).",
        "",
        "Who the caller is comes from the `access` package before this check runs: its middleware turns",
        "`Authorization: Bearer stp_…` into a portal client (with its scopes) and `Bearer sts_…` into an",
        "officer session (with roles, and the certification points enrollment keeps for the officer);",
        "no header is an anonymous caller, an unknown, expired or disabled token a 401. Officers log in",
        "through `POST /api/v1/sessions` (access checks the password, lockout and session lifetime; officers",
        "with a confirmed TOTP factor also send the current code as `totp_code`).",
        "",
        "| method | route | " + " | ".join(columns) + " | notes |",
        "|---|---|" + "---|" * len(columns) + "---|",
    ]
    for (route, method), rule in MATRIX.items():
        marks = ["✓" if allowed(p, rule) else "" for p in principals]
        lines.append(f"| {method} | `{route}` | " + " | ".join(marks) + f" | {_who(rule)}; {rule.note} |")
    lines.append("")
    return "\n".join(lines)
