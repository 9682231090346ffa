"""Request ids, database connection per request, body-size limit, JSON access log."""

from __future__ import annotations

import logging
import re
import time
import uuid
from typing import Any

import falcon

from core.db import database
from core.errors import PayloadTooLargeError
from core.request_context import request_id

logger = logging.getLogger("sekap_trust.access")
_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class RequestIdMiddleware:
    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        incoming = req.get_header("X-Request-ID")
        rid = incoming if incoming and _SAFE_ID.match(incoming) else uuid.uuid4().hex
        req.context.request_id = rid
        req.context.started = time.perf_counter()
        req.context.token = request_id.set(rid)

    def process_response(self, req: falcon.Request, resp: falcon.Response, resource: Any, req_succeeded: bool) -> None:
        rid = getattr(req.context, "request_id", None)
        if rid:
            resp.set_header("X-Request-ID", rid)
        started = getattr(req.context, "started", None)
        if started is not None:
            # The path can hold a base64 OCSP request but never personal data (those travel in bodies).
            logger.info(
                "%s %s %s",
                req.method,
                req.path,
                resp.status,
                extra={"duration_ms": round((time.perf_counter() - started) * 1000, 2), "status": resp.status},
            )
        token = getattr(req.context, "token", None)
        if token is not None:
            request_id.reset(token)


class DatabaseMiddleware:
    """One connection per request (peewee's recommended pattern); closed even on errors."""

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        database.connect(reuse_if_open=True)

    def process_response(self, req: falcon.Request, resp: falcon.Response, resource: Any, req_succeeded: bool) -> None:
        if not database.is_closed():
            database.close()


class BodyLimitMiddleware:
    """Refuses bodies over the limit with 413 problem+json — except on protocol resources that
    declare ``speaks_own_protocol = True`` (OCSP, TSA): they enforce their own, smaller limit and
    answer in their protocol's terms."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes

    def process_resource(
        self, req: falcon.Request, resp: falcon.Response, resource: Any, params: dict[str, Any]
    ) -> None:
        if getattr(resource, "speaks_own_protocol", False):
            return
        if req.content_length is not None and req.content_length > self.max_bytes:
            raise PayloadTooLargeError(f"request body exceeds {self.max_bytes} bytes", limit=self.max_bytes)
