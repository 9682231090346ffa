"""Officer log-in and log-out on the pages (the session token lives only in an HttpOnly cookie)."""

from __future__ import annotations

import base64

import falcon

from core.auth import ANONYMOUS, Principal
from core.errors import AuthenticationError, RateLimitedError
from web.context import base_context, landing
from web.deps import WebDeps
from web.security import SESSION_COOKIE, check_csrf, clear_cookie, set_cookie
from web.templating import render_page

MAX_FIELD = 200


class LoginPageResource:
    def __init__(self, deps: WebDeps) -> None:
        self.deps = deps

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        self._form(req, resp, [], "")

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        form = req.get_media() if req.content_length else {}
        check_csrf(req, _text(form, "csrf_token"))
        username, password = _text(form, "username"), _text(form, "password")
        errors = []
        if not username:
            errors.append(("username", "Podaj nazwę użytkownika."))
        if not password:
            errors.append(("password", "Podaj hasło."))
        if errors:
            self._form(req, resp, errors, username)
            return
        try:
            grant = self.deps.login(username, password)
        except RateLimitedError as exc:
            resp.set_header("Retry-After", str(exc.retry_after_seconds))
            minutes = max(1, exc.retry_after_seconds // 60)
            self._form(req, resp, [("username", f"Zbyt wiele nieudanych prób. Spróbuj za {minutes} min.")], username)
            return
        except AuthenticationError:
            self._form(req, resp, [("password", "Nieprawidłowa nazwa użytkownika lub hasło.")], username)
            return
        principal = self.deps.session_principal(grant.token)
        if principal is None:
            raise falcon.HTTPSeeOther("/logowanie")
        problem = self._second_factor(principal, grant.token, _text(form, "code"))
        if problem:
            self._form(req, resp, [("code", problem)], username)
            return
        lifetime = int((grant.expires_at - self.deps.clock.now()).total_seconds())
        max_age = max(60, min(lifetime, self.deps.settings.session_idle_minutes * 60))
        set_cookie(resp, SESSION_COOKIE, grant.token, secure=self.deps.settings.secure_cookies, max_age=max_age)
        raise falcon.HTTPSeeOther(landing(principal))

    def _second_factor(self, principal: Principal, token: str, code: str) -> str | None:
        """With an enrolled factor the code must be right; otherwise the new session ends at once
        (its token never reached the browser). Without one, the session may only enrol."""
        factor, attempts = self.deps.second_factor, self.deps.totp_attempts
        if not self.deps.settings.require_totp or factor is None or attempts is None:
            return None
        officer_id = int(principal.id)
        if not factor.enrolled(officer_id):
            return None
        subject = f"totp:{officer_id}"
        try:
            attempts.check(subject)
        except RateLimitedError:
            self.deps.logout(token, principal)
            return "Zbyt wiele błędnych kodów. Spróbuj ponownie za kilkanaście minut."
        if code and factor.verify(officer_id, code):
            return None
        attempts.failed(subject)
        self.deps.logout(token, principal)
        return "Podaj aktualny kod z aplikacji uwierzytelniającej." if not code else "Nieprawidłowy kod z aplikacji."

    def _form(self, req: falcon.Request, resp: falcon.Response, errors: list[tuple[str, str]], username: str) -> None:
        render_page(
            resp,
            "login.html",
            status=422 if errors else 200,
            title=("Błąd: " if errors else "") + "Logowanie pracowników",
            errors=errors,
            username=username,
            **base_context(req, resp),
        )


class LogoutResource:
    def __init__(self, deps: WebDeps) -> None:
        self.deps = deps

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        form = req.get_media() if req.content_length else {}
        check_csrf(req, _text(form, "csrf_token"))
        token = getattr(req.context, "session_token", None)
        if token:
            self.deps.logout(token, req.context.principal)
        req.context.principal = ANONYMOUS
        clear_cookie(resp, SESSION_COOKIE, secure=self.deps.settings.secure_cookies)
        raise falcon.HTTPSeeOther("/")


def _text(form: object, name: str) -> str:
    value = form.get(name) if isinstance(form, dict) else None
    return value.strip()[:MAX_FIELD] if isinstance(value, str) else ""


class TOTPEnrolmentResource:
    """``/totp``: the first log-in shows a QR code with a new secret (once); the first correct code
    from the officer's authenticator app confirms it."""

    def __init__(self, deps: WebDeps) -> None:
        self.deps = deps

    def _pending(self, req: falcon.Request) -> int:
        principal: Principal = req.context.principal
        if principal.kind != "officer":
            raise falcon.HTTPSeeOther("/logowanie")
        if not getattr(req.context, "totp_pending", False):
            raise falcon.HTTPSeeOther(landing(principal))
        return int(principal.id)

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        self._show(req, resp, [])

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        officer_id = self._pending(req)
        form = req.get_media() if req.content_length else {}
        check_csrf(req, _text(form, "csrf_token"))
        assert self.deps.second_factor is not None
        if self.deps.second_factor.confirm(officer_id, _text(form, "code")):
            raise falcon.HTTPSeeOther(landing(req.context.principal))
        self._show(req, resp, [("code", "Kod się nie zgadza. Zeskanuj nowy kod QR i wpisz kod z aplikacji.")])

    def _show(self, req: falcon.Request, resp: falcon.Response, errors: list[tuple[str, str]]) -> None:
        officer_id = self._pending(req)
        assert self.deps.second_factor is not None
        enrolment = self.deps.second_factor.start_enrolment(officer_id)
        render_page(
            resp,
            "totp.html",
            status=422 if errors else 200,
            title=("Błąd: " if errors else "") + "Drugi składnik logowania",
            errors=errors,
            secret=" ".join(enrolment.secret[i : i + 4] for i in range(0, len(enrolment.secret), 4)),
            qr="data:image/svg+xml;base64," + base64.b64encode(enrolment.qr_svg).decode("ascii"),
            **base_context(req, resp),
        )
