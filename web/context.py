"""What every page template gets: the caller and the CSRF token for its forms."""

from __future__ import annotations

from typing import Any

import falcon

from core.auth import ANONYMOUS, Principal
from web.security import csrf_token

# Who sees the read-only administration pages.
ADMIN_ROLES = frozenset({"ca_admin", "auditor"})
# Who works at a certification point's desk (the console).
DESK_ROLES = frozenset({"ra_officer", "ra_admin", "auditor"})


def base_context(req: falcon.Request, resp: falcon.Response) -> dict[str, Any]:
    secure = bool(getattr(req.context, "secure_cookies", True))
    principal = getattr(req.context, "principal", ANONYMOUS)
    return {
        "principal": principal,
        "is_admin": principal.kind == "officer" and bool(principal.roles & ADMIN_ROLES),
        "is_desk": principal.kind == "officer" and bool(principal.roles & DESK_ROLES),
        "csrf": csrf_token(req, resp, secure=secure),
    }


def signed_in_officer(req: falcon.Request) -> Principal:
    """The logged-in officer; a browser without a session goes to the log-in page, an officer
    without a confirmed second factor to its enrolment first."""
    principal: Principal = getattr(req.context, "principal", ANONYMOUS)
    if principal.kind != "officer":
        raise falcon.HTTPSeeOther("/logowanie")
    if getattr(req.context, "totp_pending", False):
        raise falcon.HTTPSeeOther("/totp")
    return principal


def landing(principal: Principal) -> str:
    """Where an officer starts: the point's console, or the administration for CA roles."""
    return "/urzednik" if principal.roles & {"ra_officer", "ra_admin"} else "/admin"
