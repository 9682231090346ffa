"""Citizen pages without logging in: the application status (reference + tracking code) and
"Zarządzanie certyfikatem" (serial + revocation code: status, suspend, revoke).

Codes travel only in POST bodies (never in URLs), pages are not cached, and the services' own
attempt limits apply."""

from __future__ import annotations

from typing import Any

import falcon

from core.errors import ConflictError, NotFoundError, PermissionDeniedError, RateLimitedError, ValidationError
from web.context import base_context
from web.deps import WebDeps
from web.security import check_csrf
from web.templating import render_page

MAX_FIELD = 120
APPLICATION_STATES = {
    "submitted": ("Czeka na wizytę w punkcie certyfikacji", "warn"),
    "verified": ("Tożsamość potwierdzona — certyfikat zostanie wkrótce wydany", "ok"),
    "approved": ("Zatwierdzony — certyfikat zostanie wkrótce wydany", "ok"),
    "issuing": ("Certyfikat jest wydawany", "ok"),
    "issued": ("Certyfikat wydany", "ok"),
    "expired": ("Wniosek wygasł — nie potwierdzono go w punkcie w terminie", "bad"),
}
CERTIFICATE_STATES = {
    "valid": ("Certyfikat jest ważny", "ok"),
    "suspended": ("Certyfikat jest zawieszony", "warn"),
    "revoked": ("Certyfikat jest unieważniony", "bad"),
    "expired": ("Certyfikat wygasł", "bad"),
    "not_yet_valid": ("Certyfikat nie jest jeszcze ważny", "warn"),
}
# No keyCompromise here: with the code alone it is refused (issue 15); it needs a request signed
# with the certificate's key (REST API) or an officer, as the page says under the list.
REASONS = {
    "unspecified": "bez podania przyczyny",
    "affiliationChanged": "zmiana danych",
    "superseded": "certyfikat zastąpiony nowym",
    "cessationOfOperation": "certyfikat nie jest już potrzebny",
}


def _form(req: falcon.Request) -> dict[str, str]:
    media = req.get_media() if req.content_length else {}
    if not isinstance(media, dict):
        return {}
    return {k: v.strip()[:MAX_FIELD] for k, v in media.items() if isinstance(v, str)}


def _problem(exc: Exception, wrong: str) -> str:
    """The Polish sentence for a refused code (never which half of the pair was wrong)."""
    if isinstance(exc, RateLimitedError):
        minutes = max(1, exc.retry_after_seconds // 60)
        return f"Zbyt wiele błędnych prób. Spróbuj ponownie za {minutes} min."
    if isinstance(exc, ValidationError):
        return "Sprawdź wpisane dane: " + wrong
    return wrong


class ApplicationStatusPageResource:
    def __init__(self, deps: WebDeps) -> None:
        self.deps = deps

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        self._render(req, resp, [], {}, None)

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        form = _form(req)
        check_csrf(req, form.get("csrf_token"))
        required = (("reference", "Podaj numer wniosku."), ("tracking_code", "Podaj kod śledzenia."))
        errors = [(field, message) for field, message in required if not form.get(field)]
        if errors:
            self._render(req, resp, errors, form, None)
            return
        try:
            status = self.deps.application_status(form["reference"].upper(), form["tracking_code"])
        except (NotFoundError, RateLimitedError, ValidationError) as exc:
            message = _problem(exc, "nie znaleziono wniosku o tym numerze i kodzie śledzenia.")
            self._render(req, resp, [("reference", message[0].upper() + message[1:])], form, None)
            return
        self._render(req, resp, [], {}, status)

    def _render(
        self,
        req: falcon.Request,
        resp: falcon.Response,
        errors: list[tuple[str, str]],
        form: dict[str, str],
        status: Any,
    ) -> None:
        render_page(
            resp,
            "citizen_application.html",
            status=422 if errors else 200,
            title=("Błąd: " if errors else "") + "Stan wniosku",
            errors=errors,
            form={"reference": form.get("reference", "")},
            result=status,
            states=APPLICATION_STATES,
            **base_context(req, resp),
        )


class CertificatePageResource:
    """ "Zarządzanie certyfikatem": the holder's serial and revocation code unlock status, suspend, revoke."""

    def __init__(self, deps: WebDeps) -> None:
        self.deps = deps

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        self._render(req, resp, [], {}, None, None)

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        form = _form(req)
        check_csrf(req, form.get("csrf_token"))
        action = form.get("action", "status")
        if action not in ("status", "suspend", "revoke"):
            raise falcon.HTTPBadRequest()
        errors = self._missing(form, action)
        if errors:
            self._render(req, resp, errors, form, None, None)
            return
        reason = form.get("reason") if action == "revoke" else None
        try:
            result = self.deps.certificate_by_code(form["serial"], form["code"], action, reason)
        except (PermissionDeniedError, RateLimitedError, ValidationError, NotFoundError) as exc:
            message = _problem(exc, "numer seryjny lub kod unieważnienia są nieprawidłowe.")
            self._render(req, resp, [("serial", message[0].upper() + message[1:])], form, None, None)
            return
        except ConflictError:
            result = self.deps.certificate_by_code(form["serial"], form["code"], "status", None)
            self._render(req, resp, [], form, result, "Tej operacji nie można wykonać w obecnym stanie certyfikatu.")
            return
        outcome = {"suspend": "Certyfikat został zawieszony.", "revoke": "Certyfikat został unieważniony."}
        self._render(req, resp, [], form, result, outcome.get(action))

    @staticmethod
    def _missing(form: dict[str, str], action: str) -> list[tuple[str, str]]:
        errors = []
        if not form.get("serial"):
            errors.append(("serial", "Podaj numer seryjny certyfikatu."))
        if not form.get("code"):
            errors.append(("code", "Podaj kod unieważnienia."))
        if action == "revoke":
            if form.get("reason") not in REASONS:
                errors.append(("reason", "Wybierz przyczynę unieważnienia."))
            if form.get("confirm") != "tak":
                errors.append(("confirm", "Potwierdź, że unieważnienie jest ostateczne."))
        return errors

    def _render(
        self,
        req: falcon.Request,
        resp: falcon.Response,
        errors: list[tuple[str, str]],
        form: dict[str, str],
        result: Any,
        done: str | None,
    ) -> None:
        render_page(
            resp,
            "citizen_certificate.html",
            status=422 if errors else 200,
            title=("Błąd: " if errors else "") + "Zarządzanie certyfikatem",
            errors=errors,
            # The code goes back into the page only after it was accepted (to act again without retyping).
            form={"serial": form.get("serial", ""), "code": form.get("code", "") if result else ""},
            result=result,
            done=done,
            states=CERTIFICATE_STATES,
            reasons=REASONS,
            now=self.deps.clock.now(),
            **base_context(req, resp),
        )
