"""Request ids, database connection per request, body-size limit, JSON access log.

These run on every request, OCSP and TSA included, so they stay cheap: no work a request does
not need (a database connection is taken from the pool only when a query runs)."""

from __future__ import annotations

import random
import re
import threading
import time
from typing import Any

import falcon

from config import system_audit
from config.http_errors import RETRY_AFTER_SECONDS
from config.logging_setup import ACCESS_LOG
from core.db import database
from core.errors import PayloadTooLargeError
from core.request_context import request_id

_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def request_id_for(incoming: str | None) -> str:
    """The client's X-Request-ID when it is a safe token, else a fresh random one.

    A request id needs to be unique, not secret: 128 bits of ``random`` (reseeded in every
    forked worker) without the getrandom(2) call per request that os.urandom costs."""
    return incoming if incoming and _SAFE_ID.match(incoming) else f"{random.getrandbits(128):032x}"


# A worker thread keeps its connection from one request to the next: taking it from the pool
# and giving it back cost as much CPU as the OCSP status query itself. It goes back to the pool
# after a failed request, when a transaction was left open, and at least every KEEP_SECONDS (so
# the pool's stale-connection check still runs).
KEEP_SECONDS = 30.0
_kept = threading.local()


def release_connection(*, failed: bool = False) -> None:
    """End of a request: write any system audit records waiting (after a request that went
    well: the database is there), then keep this thread's connection (if a query opened one) or
    return it."""
    if not failed:
        system_audit.flush()
    if database.is_closed():
        _kept.since = None
        return
    now = time.monotonic()
    since = getattr(_kept, "since", None)
    if failed or database.in_transaction() or (since is not None and now - since > KEEP_SECONDS):
        database.close()
        _kept.since = None
    elif since is None:
        _kept.since = now


class RequestIdMiddleware:
    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        rid = request_id_for(req.get_header("X-Request-ID"))
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
            ACCESS_LOG.write(
                req.method,
                req.path,
                falcon.code_to_http_status(resp.status),
                round((time.perf_counter() - started) * 1000, 2),
                rid,
            )
        token = getattr(req.context, "token", None)
        if token is not None:
            request_id.reset(token)


class DatabaseMiddleware:
    """The connection a request used is kept for the thread's next request, or returned to the
    pool after an error (see :func:`release_connection`).

    A connection is opened by the first query (peewee's ``autoconnect``), not up front:
    requests that never touch the database (health, a rejected body) take none."""

    def process_response(self, req: falcon.Request, resp: falcon.Response, resource: Any, req_succeeded: bool) -> None:
        release_connection(failed=not req_succeeded or resp.status_code >= 500)
        if resp.status_code == 503 and resp.get_header("Retry-After") is None:
            # Every 503 says when to come back, whoever answered it (OCSP GET's tryLater too).
            resp.set_header("Retry-After", str(RETRY_AFTER_SECONDS))


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
