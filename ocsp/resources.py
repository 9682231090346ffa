"""HTTP edge of the responder (RFC 6960 Appendix A, RFC 5019 §5–§6). Always answers in OCSP."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

import falcon

from core.clock import Clock
from ocsp.errors import MalformedRequestError
from ocsp.request import decode_get_path
from ocsp.service import OCSPService, ServedResponse
from ocsp.settings import OCSPSettings

REQUEST_TYPE = "application/ocsp-request"
RESPONSE_TYPE = "application/ocsp-response"
GET_PREFIX = "/ocsp/"


def _write(resp: falcon.Response, served: ServedResponse) -> None:
    resp.status = falcon.code_to_http_status(served.http_status)
    resp.content_type = RESPONSE_TYPE
    resp.data = served.der


class OCSPPostResource:
    """``POST /ocsp`` with an ``application/ocsp-request`` body (RFC 6960 Appendix A.1).

    POST answers are not cacheable (RFC 5019 §5: caching proxies only work with GET)."""

    speaks_own_protocol = True  # body limit and errors answered as OCSP, not problem+json

    def __init__(self, service: OCSPService, settings: OCSPSettings) -> None:
        self.service = service
        self.settings = settings

    response_type = RESPONSE_TYPE

    def answer_post(
        self, content_type: str | None, content_length: int | None, read: Callable[[int], bytes]
    ) -> tuple[int, bytes]:
        """The answer to a POSTed body, in OCSP whatever the input (served by
        :class:`config.protocol_lane.App`, which hands over every POST to ``/ocsp``)."""
        media_type = (content_type or "").split(";")[0].strip().lower()
        if media_type != REQUEST_TYPE:
            return self._served(self.service.error("malformedRequest"))
        limit = self.settings.max_request_bytes
        if content_length is not None and content_length > limit:
            return self._served(self.service.error("malformedRequest", 413))
        body = read(limit + 1)
        if len(body) > limit:
            return self._served(self.service.error("malformedRequest", 413))
        return self._served(self.service.handle(body))

    def failure(self) -> tuple[int, bytes]:
        return self._served(self.service.error("internalError"))

    @staticmethod
    def _served(served: ServedResponse) -> tuple[int, bytes]:
        return served.http_status, served.der

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        """``GET /ocsp`` without a request: malformedRequest, in OCSP."""
        resp.cache_control = ["no-store"]
        _write(resp, self.service.error("malformedRequest"))


class OCSPGetResource:
    """``GET /ocsp/{url-encoded base64 DER}`` (RFC 6960 Appendix A.1), cacheable per RFC 5019 §6."""

    speaks_own_protocol = True

    def __init__(self, service: OCSPService, settings: OCSPSettings, clock: Clock) -> None:
        self.service = service
        self.settings = settings
        self.clock = clock

    def on_get(self, req: falcon.Request, resp: falcon.Response, encoded: str) -> None:
        # The raw PATH_INFO keeps what routing normalises away (a trailing or doubled '/', both
        # legal in base64); servers have already decoded the %-escapes.
        path = req.env.get("PATH_INFO") or ""
        raw = path[len(GET_PREFIX) :] if path.startswith(GET_PREFIX) else encoded
        try:
            der = decode_get_path(raw, max_bytes=self.settings.max_request_bytes)
        except MalformedRequestError as exc:
            resp.cache_control = ["no-store"]
            _write(resp, self.service.error("malformedRequest", exc.http_status))
            return
        served = self.service.handle(der)
        self._cache_headers(resp, served)
        if served.http_status == 200 and resp.etag and _matches(req.if_none_match, resp.etag):
            resp.status = falcon.HTTP_304  # RFC 9110 §13.1.2
            return
        _write(resp, served)

    def _cache_headers(self, resp: falcon.Response, served: ServedResponse) -> None:
        """RFC 5019 §6.2: max-age no later than nextUpdate, public, no-transform, must-revalidate;
        ETag, Last-Modified = producedAt, Expires = nextUpdate."""
        answer = served.answer
        if served.nonce or not answer.successful or answer.next_update is None or answer.produced_at is None:
            resp.cache_control = ["no-store"]
            return
        now = self.clock.now()
        expires: datetime = answer.next_update
        if "unknown" in answer.statuses:
            expires = min(expires, now + timedelta(seconds=self.settings.unknown_max_age_seconds))
        max_age = max(0, int((expires - now).total_seconds()))
        resp.cache_control = [f"max-age={max_age}", "public", "no-transform", "must-revalidate"]
        resp.etag = f'"{hashlib.sha256(answer.der).hexdigest()}"'
        resp.last_modified = answer.produced_at
        resp.expires = expires


def _matches(tags: Sequence[object] | None, etag: str) -> bool:
    if not tags:
        return False
    bare = etag.strip('"')
    return any(str(tag) in (bare, etag, "*") for tag in tags)
