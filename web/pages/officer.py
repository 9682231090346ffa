"""The officer console: the point's queue, search, the application page with the identity check,
dual-control approval, issuance (PIN twice, one-time PKCS#12), the printable agreement, and
suspend / revoke on a citizen's behalf.

Every action calls the same enrollment service as its REST resource and is authorised by the same
matrix (``enrollment.authorization.authorize`` with the REST route), so the pages can never allow
what the API refuses. Personal data (PESEL, document numbers) travels only in POST bodies and page
bodies — never in URLs, titles or logs.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import falcon

from core.auth import Principal
from core.errors import ConflictError, NotFoundError, ValidationError
from enrollment.applications import application_view
from enrollment.authorization import authorize
from enrollment.lifecycle import require_officer_reason
from enrollment.queries import current_agreement, recent_activity
from enrollment.queue import OfficerQueue, QueueFilter
from enrollment.requests import IdentityCheckRequest, IssueRequest, RevokeRequest, SearchRequest
from enrollment.views import to_json
from web.agreement_pdf import agreement_pdf
from web.context import base_context, signed_in_officer
from web.deps import WebDeps
from web.officer_texts import DOCUMENT_TYPES, REVOCATION_REASONS, STATES, field_message
from web.security import check_csrf
from web.templating import render_page

API = "/api/v1/officer"
PAGE_SIZE = 20
SEARCH_KEYS = {
    "reference": "numer wniosku",
    "tracking_code": "kod śledzenia",
    "pesel": "PESEL",
    "document_number": "numer dokumentu",
    "surname": "nazwisko",
}
NOTICES = {
    "sprawdzono": "Zapisano sprawdzenie tożsamości.",
    "zatwierdzono": "Wniosek zatwierdzony.",
    "zawieszono": "Certyfikat zawieszony.",
    "przywrocono": "Zawieszenie cofnięte.",
    "uniewazniono": "Certyfikat unieważniony.",
    "przekazano": "Zapisano przekazanie pliku z kluczem obywatelowi.",
}


def officer(req: falcon.Request) -> Principal:
    return signed_in_officer(req)


def form_of(req: falcon.Request) -> dict[str, str]:
    media = req.get_media() if req.content_length else {}
    if not isinstance(media, dict):
        return {}
    form = {k: v.strip()[:200] for k, v in media.items() if isinstance(v, str)}
    check_csrf(req, form.get("csrf_token"))
    return form


def polish_errors(exc: ValidationError) -> list[tuple[str, str]]:
    return [(e.field.replace(".", "_"), field_message(e.field, e.code)) for e in exc.errors]


class _Page:
    def __init__(self, deps: WebDeps) -> None:
        self.deps = deps
        assert deps.enrollment is not None, "the console needs enrollment's services"
        self.services = deps.enrollment


class QueueResource(_Page):
    """``/urzednik``: the point's waiting applications (filters in the URL hold no personal data)."""

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        principal = officer(req)
        authorize(principal, f"{API}/applications", "GET")
        state = req.get_param("stan") or None
        expiring = req.get_param_as_int("termin", min_value=0, max_value=365)
        page_no = req.get_param_as_int("strona", min_value=1, max_value=10_000) or 1
        wanted = QueueFilter(
            state=state if state in STATES else None,
            expiring_within_days=expiring,
            limit=PAGE_SIZE,
            offset=(page_no - 1) * PAGE_SIZE,
        )
        page = OfficerQueue(self.deps.clock).list(principal, wanted)
        self.render(req, resp, list(page.applications), page.total, page_no, wanted, None, [])

    def render(
        self,
        req: falcon.Request,
        resp: falcon.Response,
        rows: list[Any],
        total: int,
        page_no: int,
        wanted: QueueFilter | None,
        searched: str | None,
        errors: list[tuple[str, str]],
    ) -> None:
        render_page(
            resp,
            "officer_queue.html",
            status=422 if errors else 200,
            title=("Błąd: " if errors else "") + "Wnioski punktu",
            rows=rows,
            total=total,
            page_no=page_no,
            pages=max(1, -(-total // PAGE_SIZE)),
            wanted=wanted,
            searched=searched,
            errors=errors,
            states=STATES,
            search_keys=SEARCH_KEYS,
            now=self.deps.clock.now(),
            **base_context(req, resp),
        )


class SearchResource(QueueResource):
    """``POST /urzednik/szukaj``: a PESEL or document number never goes into a URL."""

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        principal = officer(req)
        form = form_of(req)
        authorize(principal, f"{API}/applications/search", "POST")
        key, value = form.get("klucz", ""), form.get("wartosc", "")
        if key not in SEARCH_KEYS or not value:
            self.render(req, resp, [], 0, 1, None, None, [("wartosc", "Wpisz, czego szukasz.")])
            return
        try:
            rows = self.services.applications().search(SearchRequest.from_json({key: value}), principal)
        except ValidationError:
            self.render(req, resp, [], 0, 1, None, None, [("wartosc", "Ten PESEL jest nieprawidłowy.")])
            return
        self.render(req, resp, rows, len(rows), 1, None, SEARCH_KEYS[key], [])


class ApplicationPageResource(_Page):
    """``/urzednik/wniosek/{reference}``: data, state, and the next step's form."""

    def on_get(self, req: falcon.Request, resp: falcon.Response, reference: str) -> None:
        self.show(req, resp, reference, [], {}, NOTICES.get(req.get_param("komunikat") or ""))

    def show(
        self,
        req: falcon.Request,
        resp: falcon.Response,
        reference: str,
        errors: list[tuple[str, str]],
        form: dict[str, str],
        notice: str | None,
    ) -> None:
        principal = officer(req)
        authorize(principal, f"{API}/applications/{{reference}}", "GET")
        app = self.services.applications().for_officer(reference, principal)
        view = application_view(app, full=True)
        agreement = current_agreement()
        certificates = [self._certificate(c.serial, principal) for c in view.certificates]
        render_page(
            resp,
            "officer_application.html",
            status=422 if errors else 200,
            title=("Błąd: " if errors else "") + f"Wniosek {reference}",
            app=view,
            point=app.point,
            agreement=agreement,
            certificates=[c for c in certificates if c is not None],
            errors=errors,
            form=defaultdict(str, form),  # fields not sent yet render empty
            notice=notice,
            states=STATES,
            document_types=DOCUMENT_TYPES,
            reasons=REVOCATION_REASONS,
            pin_min=self.services.settings.pin_min_length,
            today=self.deps.clock.now().date().isoformat(),
            handover=self.services.handover().handover_state(app),
            **base_context(req, resp),
        )

    def _certificate(self, serial: str, principal: Principal) -> dict[str, Any] | None:
        try:
            lifecycle = self.services.lifecycle()
            view: dict[str, Any] = to_json(lifecycle.status(lifecycle.for_officer(serial, principal)))
            return view
        except NotFoundError:
            return None


class IdentityCheckResource(ApplicationPageResource):
    def on_post(self, req: falcon.Request, resp: falcon.Response, reference: str) -> None:
        principal = officer(req)
        form = form_of(req)
        authorize(principal, f"{API}/applications/{{reference}}/identity-check", "POST")
        errors = []
        if form.get("umowa") != "tak":
            errors.append(("umowa", "Obywatel musi zaakceptować umowę (zaznacz po podpisaniu obu egzemplarzy)."))
        body: dict[str, Any] = {
            "document_type": form.get("document_type"),
            "document_number": form.get("document_number", "").replace(" ", "").upper(),
            "document_expiry": form.get("document_expiry") or None,
            "data_match": form.get("data_match") == "tak",
            "agreement_version": int(form["agreement_version"])
            if form.get("agreement_version", "").isdigit()
            else None,
        }
        if form.get("birth_date"):
            body["birth_date"] = form["birth_date"]
        if errors:
            self.show(req, resp, reference, errors, form, None)
            return
        try:
            self.services.desk().record_identity_check(reference, IdentityCheckRequest.from_json(body), principal)
        except ValidationError as exc:
            self.show(req, resp, reference, polish_errors(exc), form, None)
            return
        raise falcon.HTTPSeeOther(f"/urzednik/wniosek/{reference}?komunikat=sprawdzono")


class ApprovalResource(ApplicationPageResource):
    def on_post(self, req: falcon.Request, resp: falcon.Response, reference: str) -> None:
        principal = officer(req)
        form_of(req)
        authorize(principal, f"{API}/applications/{{reference}}/approval", "POST")
        try:
            self.services.desk().approve(reference, principal)
        except ConflictError:
            self.show(req, resp, reference, [("zatwierdzenie", "Zatwierdza drugi pracownik punktu.")], {}, None)
            return
        raise falcon.HTTPSeeOther(f"/urzednik/wniosek/{reference}?komunikat=zatwierdzono")


def weak_pin(pin: str, minimum: int) -> str | None:
    """The PIN protects the citizen's key file: long enough, not one repeated sign, not a run."""
    if len(pin) < minimum:
        return f"PIN musi mieć co najmniej {minimum} znaków."
    if len(set(pin)) == 1:
        return "PIN nie może składać się z jednego powtórzonego znaku."
    if pin.isdigit() and (pin in "01234567890123456789" or pin in "98765432109876543210"):
        return "PIN nie może być kolejnymi cyframi."
    return None


class IssueResource(ApplicationPageResource):
    """Issuance; a key made at the point needs the citizen's PIN twice. The revocation code and the
    one-time PKCS#12 download are shown once, on a page that is never cached."""

    def on_post(self, req: falcon.Request, resp: falcon.Response, reference: str) -> None:
        principal = officer(req)
        form = form_of(req)
        authorize(principal, f"{API}/applications/{{reference}}/issue", "POST")
        app = self.services.applications().for_officer(reference, principal)
        if not self._reauthenticated(principal, form.get("kod", "")):
            message = "Potwierdź wydanie aktualnym kodem z aplikacji uwierzytelniającej."
            self.show(req, resp, reference, [("kod", message)], {}, None)
            return
        body: dict[str, Any] = {}
        if app.key_generation == "point":
            pin, again = form.get("pin", ""), form.get("pin2", "")
            problem = weak_pin(pin, self.services.settings.pin_min_length)
            if problem is None and pin != again:
                problem = "Oba wpisy PIN-u muszą być takie same."
            if problem:
                self.show(req, resp, reference, [("pin", problem)], {}, None)
                return
            body["pin"] = pin
        try:
            result = self.services.handover().issue(reference, IssueRequest.from_json(body), principal)
        except ValidationError as exc:
            self.show(req, resp, reference, polish_errors(exc), {}, None)
            return
        render_page(
            resp,
            "officer_issued.html",
            title=f"Wydano certyfikat — wniosek {reference}",
            result=result,
            **base_context(req, resp),
        )

    def _reauthenticated(self, principal: Principal, code: str) -> bool:
        """Issuance asks for a fresh TOTP code (re-authentication), whatever the session's age."""
        factor = self.deps.second_factor
        if not self.deps.settings.require_totp or factor is None or not factor.enrolled(int(principal.id)):
            return True
        return factor.verify(int(principal.id), code)


class PKCS12Resource(_Page):
    """The PIN-protected key file, exactly once (the service deletes it in the same transaction)."""

    def on_post(self, req: falcon.Request, resp: falcon.Response, reference: str) -> None:
        principal = officer(req)
        form = form_of(req)
        authorize(principal, f"{API}/applications/{{reference}}/pkcs12", "GET")
        if form.get("rozumiem") != "tak":
            raise falcon.HTTPBadRequest()
        data = self.services.handover().download_pkcs12(reference, principal)
        resp.content_type = "application/x-pkcs12"
        resp.cache_control = ["no-store"]
        resp.downloadable_as = f"{reference}.p12"
        resp.data = data


class HandoverResource(ApplicationPageResource):
    """The officer confirms the downloaded PKCS#12 is on the citizen's pendrive: an audited hand-over."""

    def on_post(self, req: falcon.Request, resp: falcon.Response, reference: str) -> None:
        principal = officer(req)
        form = form_of(req)
        authorize(principal, f"{API}/applications/{{reference}}/pkcs12", "GET")
        if form.get("zapisano") != "tak":
            message = "Potwierdź, że plik zapisano na pendrive obywatela i usunięto z komputera punktu."
            self.show(req, resp, reference, [("zapisano", message)], {}, None)
            return
        try:
            self.services.handover().record_handover(reference, principal)
        except ConflictError:
            message = "Przekazanie można zapisać raz, po pobraniu pliku PKCS#12."
            self.show(req, resp, reference, [("zapisano", message)], {}, None)
            return
        raise falcon.HTTPSeeOther(f"/urzednik/wniosek/{reference}?komunikat=przekazano")


class AgreementPDFResource(_Page):
    """The agreement to print and sign, filled with the application's data, in two copies."""

    def on_get(self, req: falcon.Request, resp: falcon.Response, reference: str) -> None:
        principal = officer(req)
        authorize(principal, f"{API}/applications/{{reference}}", "GET")
        app = self.services.applications().for_officer(reference, principal)
        agreement = current_agreement()
        if agreement is None:
            raise NotFoundError("no agreement published")
        resp.content_type = "application/pdf"
        resp.cache_control = ["no-store"]
        resp.downloadable_as = f"umowa-{reference}.pdf"
        resp.data = agreement_pdf(app, agreement, self.deps.clock.now())


class CertificateActionResource(ApplicationPageResource):
    """Suspend, resume or revoke on the citizen's behalf, after checking their identity document."""

    def on_post(self, req: falcon.Request, resp: falcon.Response, reference: str, action: str) -> None:
        principal = officer(req)
        form = form_of(req)
        routes = {"zawies": "suspend", "przywroc": "resume", "uniewaznij": "revoke"}
        if action not in routes:
            raise falcon.HTTPNotFound()
        authorize(principal, f"{API}/certificates/{{serial}}/{routes[action]}", "POST")
        if form.get("sprawdzono") != "tak":
            self.show(
                req, resp, reference, [("sprawdzono", "Najpierw sprawdź dokument tożsamości obywatela.")], {}, None
            )
            return
        lifecycle = self.services.lifecycle()
        cert = lifecycle.for_officer(form.get("serial", ""), principal)
        if getattr(cert, "application_id", None) != self.services.applications().for_officer(reference, principal).id:
            raise falcon.HTTPNotFound()
        try:
            if action == "zawies":
                lifecycle.suspend(cert, actor=principal.actor, channel="officer")
            elif action == "przywroc":
                lifecycle.resume(cert, actor=principal.actor, channel="officer")
            else:
                request = RevokeRequest.from_json({"reason": form.get("reason")}, require_officer_reason(principal))
                lifecycle.revoke(cert, request, actor=principal.actor, channel="officer")
        except ConflictError:
            self.show(req, resp, reference, [("sprawdzono", "Stan certyfikatu nie pozwala na tę operację.")], {}, None)
            return
        except ValidationError as exc:
            self.show(req, resp, reference, polish_errors(exc), {}, None)
            return
        notice = {"zawies": "zawieszono", "przywroc": "przywrocono", "uniewaznij": "uniewazniono"}[action]
        raise falcon.HTTPSeeOther(f"/urzednik/wniosek/{reference}?komunikat={notice}")


ACTIONS = {
    "enrollment.application.submit": "wniosek złożony",
    "enrollment.identity_check": "tożsamość sprawdzona",
    "enrollment.approve": "wydanie zatwierdzone",
    "enrollment.issue.fail": "wydanie nieudane",
    "enrollment.issue.start": "wydawanie rozpoczęte",
    "enrollment.issue": "certyfikat wydany",
    "enrollment.pkcs12.download": "plik PKCS#12 pobrany",
    "enrollment.handover": "plik PKCS#12 przekazany obywatelowi (na pendrive)",
    "enrollment.pkcs12.purge": "nieodebrany plik PKCS#12 zniszczony",
    "enrollment.application.expire": "wniosek wygasł",
    "enrollment.certificate.suspend": "certyfikat zawieszony",
    "enrollment.certificate.resume": "zawieszenie cofnięte",
    "enrollment.code.wrong": "błędny kod unieważnienia",
    "enrollment.renew": "certyfikat odnowiony",
    "enrollment.certificate.revoke": "certyfikat unieważniony",
}


class ActivityResource(_Page):
    """``/urzednik/aktywnosc``: the latest audit records about the applications of the officer's points."""

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        principal = officer(req)
        authorize(principal, f"{API}/applications", "GET")
        records = recent_activity(principal)
        render_page(
            resp,
            "officer_activity.html",
            title="Ostatnie działania",
            records=records,
            actions=ACTIONS,
            **base_context(req, resp),
        )
