"""Protections every page gets: security headers, the CSRF token, cookie attributes.

CSRF uses a double-submit token: a random value in an HttpOnly, SameSite=Strict cookie that every
form repeats in a hidden field, compared in constant time. Nothing is stored on the server, so it
works across workers and hosts (DESIGN.md "Scaling out").
"""

from __future__ import annotations

import hmac
import secrets

import falcon

from core.errors import PermissionDeniedError

CSRF_COOKIE = "sekap_csrf"
CSRF_FIELD = "csrf_token"
SESSION_COOKIE = "sekap_sesja"

# No inline script or style anywhere: everything comes from /static on our own origin.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "style-src 'self'",
        "img-src 'self' data:",
        "script-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    )
)
SECURITY_HEADERS = (
    ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
    ("Referrer-Policy", "no-referrer"),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
    ("Permissions-Policy", "camera=(), microphone=(), geolocation=()"),
)


class CSRFError(PermissionDeniedError):
    code = "csrf_failed"


def set_cookie(resp: falcon.Response, name: str, value: str, *, secure: bool, max_age: int | None = None) -> None:
    """Every cookie of the pages: HttpOnly, SameSite=Strict, path /, Secure unless turned off."""
    resp.set_cookie(name, value, max_age=max_age, path="/", secure=secure, http_only=True, same_site="Strict")


def clear_cookie(resp: falcon.Response, name: str, *, secure: bool) -> None:
    # An empty value that expires at once, with the same attributes as when it was set.
    set_cookie(resp, name, "", secure=secure, max_age=0)


def csrf_token(req: falcon.Request, resp: falcon.Response, *, secure: bool) -> str:
    """The visitor's CSRF token; a new one is issued (and set as a cookie) on the first visit."""
    token = getattr(req.context, "csrf_token", None)
    if token:
        return str(token)
    existing = req.cookies.get(CSRF_COOKIE)
    if existing and 20 <= len(existing) <= 100:
        token = existing
    else:
        token = secrets.token_urlsafe(32)
        set_cookie(resp, CSRF_COOKIE, token, secure=secure)
    req.context.csrf_token = token
    return token


def check_csrf(req: falcon.Request, submitted: str | None) -> None:
    """Refuse a form whose hidden token does not match the visitor's cookie."""
    expected = req.cookies.get(CSRF_COOKIE)
    if not expected or not submitted or not hmac.compare_digest(expected.encode(), submitted.encode()):
        raise CSRFError("the form's security token is missing or does not match; reload the page")


def add_security_headers(resp: falcon.Response) -> None:
    for name, value in SECURITY_HEADERS:
        resp.set_header(name, value)
