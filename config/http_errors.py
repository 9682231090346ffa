"""The one place where exceptions become HTTP answers: RFC 9457 problem+json.

Every error declares a kind (``core.errors.KINDS``) and the kind alone decides the answer. An
exception without one — a family root, a library's exception, a bug — is a generic 500 whose
text never reaches the client (it is logged with the request id). A database that cannot be
reached or used now (``core.db.is_unavailable``) is a 503 with ``Retry-After`` on every route.

Protocol endpoints (OCSP, TSA) answer in their own protocol inside their resources and never
reach these handlers with protocol errors.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import falcon

from config.problem_texts_pl import translate, wants_polish
from core import db as core_db
from core import errors
from core.request_context import request_id

logger = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
# How long a client should wait before retrying after a 503 (database or key store away).
RETRY_AFTER_SECONDS = 5
GENERIC_DETAIL = "The server could not complete the request."
UNAVAILABLE_DETAIL = "The service is temporarily unavailable; retry later."

# One status per kind (an error inherits exactly one kind; tests/config/test_error_kinds.py).
STATUS_BY_KIND: tuple[tuple[type[errors.SekapError], int], ...] = (
    (errors.ValidationError, 422),
    (errors.BadRequestError, 400),
    (errors.AuthenticationError, 401),
    (errors.PermissionDeniedError, 403),
    (errors.NotFoundError, 404),
    (errors.ConflictError, 409),
    (errors.PayloadTooLargeError, 413),
    (errors.RateLimitedError, 429),
    (errors.UnavailableError, 503),
    (errors.ConfigurationError, 500),
    (errors.IntegrityError, 500),
    (errors.InternalError, 500),
)

TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    413: "Content Too Large",
    422: "Unprocessable Content",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


def status_for(exc: BaseException) -> int:
    """The HTTP status of an error's kind; 500 for anything without a declared kind."""
    for kind, status in STATUS_BY_KIND:
        if isinstance(exc, kind):
            return status
    return 500


def problem(resp: falcon.Response, status: int, detail: str, code: str, *, polish: bool = False, **extra: Any) -> None:
    """``polish``: ``title`` and ``detail`` in Polish (the client asked for ``Accept-Language: pl``)."""
    title = TITLES.get(status, "Error")
    if polish:
        title, detail = translate(status, code)
    body: dict[str, Any] = {
        "type": f"https://sekap-trust.example/problems/{code}",
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
    }
    rid = request_id.get()
    if rid:
        body["request_id"] = rid
    body.update(extra)
    resp.status = falcon.code_to_http_status(status)
    resp.content_type = PROBLEM_JSON
    resp.text = json.dumps(body, ensure_ascii=False)


def _page(req: falcon.Request, resp: falcon.Response, status: int) -> bool:
    """The web pages' paths answer with a Polish HTML page instead (``web.errors``), same status."""
    page = getattr(req.context, "error_page", None)
    if page is None:
        return False
    page(req, resp, status)
    return True


def _answer(req: falcon.Request, resp: falcon.Response, status: int, detail: str, code: str, **extra: Any) -> None:
    if not _page(req, resp, status):
        problem(resp, status, detail, code, polish=wants_polish(req.get_header("Accept-Language")), **extra)


def handle_sekap_error(
    req: falcon.Request, resp: falcon.Response, exc: errors.SekapError, params: dict[str, Any]
) -> None:
    if not errors.kinds_of(type(exc)):
        handle_unexpected(req, resp, exc, params)
        return
    status = status_for(exc)
    extra: dict[str, Any] = {}
    if isinstance(exc, errors.ValidationError):
        extra["errors"] = [{"field": e.field, "message": e.message, "code": e.code} for e in exc.errors]
    if isinstance(exc, errors.RateLimitedError):
        resp.set_header("Retry-After", str(exc.retry_after_seconds))
    if status == 503:
        logger.error("request %s: unavailable: %s", request_id.get(), exc.code, exc_info=exc)
        unavailable(resp, req)
        return
    if status >= 500:
        # Internals stay in the log (without personal data); the client gets a generic text.
        logger.error("request %s failed: %s", request_id.get(), exc.code, exc_info=exc)
        _answer(req, resp, 500, GENERIC_DETAIL, "internal_error")
        return
    _answer(req, resp, status, exc.message, exc.code, **extra)


def unavailable(resp: falcon.Response, req: falcon.Request | None = None) -> None:
    """503 problem+json with Retry-After (RFC 9110 §10.2.3)."""
    if req is not None:
        _answer(req, resp, 503, UNAVAILABLE_DETAIL, "unavailable")
    else:
        problem(resp, 503, UNAVAILABLE_DETAIL, "unavailable")
    resp.set_header("Retry-After", str(RETRY_AFTER_SECONDS))


def handle_http_error(
    req: falcon.Request, resp: falcon.Response, exc: falcon.HTTPError, params: dict[str, Any]
) -> None:
    status = int(str(exc.status).split()[0]) if not isinstance(exc.status, int) else exc.status
    code = (exc.title or "error").lower().replace(" ", "_")
    _answer(req, resp, status, exc.description or exc.title or "", code)
    headers = exc.headers or {}
    pairs: list[tuple[str, str]] = list(headers.items()) if isinstance(headers, dict) else list(headers)  # type: ignore[arg-type]
    for name, value in pairs:
        resp.set_header(name, value)


def handle_unexpected(req: falcon.Request, resp: falcon.Response, exc: Exception, params: dict[str, Any]) -> None:
    if core_db.is_unavailable(exc):
        logger.error("request %s: database unavailable: %s", request_id.get(), type(exc).__name__, exc_info=exc)
        core_db.forget_connections()
        unavailable(resp, req)
        return
    logger.error("request %s failed: unexpected %s", request_id.get(), type(exc).__name__, exc_info=exc)
    _answer(req, resp, 500, GENERIC_DETAIL, "internal_error")


def install(app: falcon.App[falcon.Request, falcon.Response]) -> None:
    # falcon picks the most specific registered handler for each exception.
    app.add_error_handler(Exception, handle_unexpected)
    app.add_error_handler(falcon.HTTPError, handle_http_error)
    app.add_error_handler(errors.SekapError, handle_sekap_error)
