"""The pages' middleware: officer session from the cookie, security headers, HTML error pages."""

from __future__ import annotations

from typing import Any

import falcon

from core.auth import Principal
from web.deps import WebDeps
from web.errors import render_error
from web.security import SESSION_COOKIE, add_security_headers, set_cookie

# Paths the pages own; everything else (REST, OCSP, TSA, downloads) keeps its own answers.
PAGE_PREFIXES = ("/weryfikacja", "/logowanie", "/wyloguj", "/totp", "/admin", "/urzednik", "/obywatel", "/static")


def is_page(path: str) -> bool:
    return path == "/" or any(path == p or path.startswith(p + "/") for p in PAGE_PREFIXES)


class WebMiddleware:
    def __init__(self, deps: WebDeps) -> None:
        self.deps = deps

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        if not is_page(req.path):
            return
        # config.http_errors renders errors of these paths through this page instead of JSON.
        req.context.error_page = render_error
        req.context.secure_cookies = self.deps.settings.secure_cookies
        token = req.cookies.get(SESSION_COOKIE)
        if token and len(token) < 200:
            principal = self.deps.session_principal(token)
            if principal is not None:
                req.context.principal = principal
                req.context.session_token = token
                req.context.totp_pending = self._totp_pending(principal)

    def _totp_pending(self, principal: Principal) -> bool:
        factor = self.deps.second_factor
        return self.deps.settings.require_totp and factor is not None and not factor.enrolled(int(principal.id))

    def process_response(self, req: falcon.Request, resp: falcon.Response, resource: Any, req_succeeded: bool) -> None:
        if not is_page(req.path):
            return
        add_security_headers(resp)
        token = getattr(req.context, "session_token", None)
        if token and req.path != "/wyloguj" and not req.path.startswith("/static"):
            # Idle timeout: every page renews the cookie for session_idle_minutes more.
            minutes = self.deps.settings.session_idle_minutes
            set_cookie(resp, SESSION_COOKIE, token, secure=self.deps.settings.secure_cookies, max_age=minutes * 60)
