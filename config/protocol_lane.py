"""The falcon app, with a direct path for the binary protocol hot spots (``POST /ocsp``, ``POST /tsa``).

Relying parties send these by the thousand per second, and for them falcon's request and
response objects plus the middleware chain cost about a third of a cached OCSP answer. The
endpoints need nothing of that: they answer every input in their own protocol and never raise
(so there is nothing for the error mapping to do), need no authentication and enforce their own
body limit. So every POST to exactly such a path is handed straight to the endpoint's
:meth:`PostEndpoint.answer_post` — a malformed Content-Length included, which is read like a
missing one (no body) and so answered in the protocol's own terms, never with problem+json.
Every other request (GET ``/ocsp/...``, other methods on these paths, every REST route) goes
through falcon as before.

What the middleware does for every request is done here too, with the same helpers: the request
id (header in, context variable, ``X-Request-ID`` out), the access line, the request counter and
latency histogram of ``/metrics`` (route = the path), and the database connection kept for the
thread's next request or returned to the pool after a failure.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, Protocol

import falcon

from config import metrics
from config.http_errors import RETRY_AFTER_SECONDS
from config.logging_setup import ACCESS_LOG
from config.middleware import release_connection, request_id_for
from core.request_context import request_id

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIEnvironment

logger = logging.getLogger(__name__)


class PostEndpoint(Protocol):
    """A protocol endpoint that answers a POST body in its own protocol, whatever it is given."""

    response_type: str

    def answer_post(
        self, content_type: str | None, content_length: int | None, read: Callable[[int], bytes]
    ) -> tuple[int, bytes]:
        """``(HTTP status code, body)``; ``read(n)`` returns at most ``n`` octets of the body."""
        ...

    def failure(self) -> tuple[int, bytes]:
        """The protocol's own "internal error" answer, for an exception that escaped anyway."""
        ...


class App(falcon.App):  # type: ignore[type-arg]
    """falcon.App plus :meth:`add_post_endpoint`; everything else is plain falcon."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._post_endpoints: dict[str, PostEndpoint] = {}

    def add_post_endpoint(self, path: str, endpoint: PostEndpoint) -> None:
        """Serve ``POST path`` directly (see the module docstring). Mount a falcon route at the
        same path too, for the other methods (405, or a protocol answer of its own)."""
        self._post_endpoints[path] = endpoint

    def post_endpoint(self, path: str) -> PostEndpoint | None:
        """The endpoint served directly at ``path``, if any."""
        return self._post_endpoints.get(path)

    def post_endpoint_paths(self) -> list[str]:
        """The paths served directly (falcon's route inspection does not see them)."""
        return sorted(self._post_endpoints)

    def __call__(self, env: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if env.get("REQUEST_METHOD") == "POST":
            path = env.get("PATH_INFO", "")
            # Like falcon here (strip_url_path_trailing_slash): "/ocsp/" is "/ocsp".
            route = path[:-1] if len(path) > 1 and path.endswith("/") else path
            endpoint = self._post_endpoints.get(route)
            if endpoint is not None:
                raw = env.get("CONTENT_LENGTH") or ""
                length = int(raw) if raw.isascii() and raw.isdigit() else None
                return self._answer(endpoint, route, length, env, start_response)
        elif env.get("REQUEST_METHOD") == "OPTIONS" and self.post_endpoint(env.get("PATH_INFO", "").rstrip("/")):
            # falcon's Allow lists the route's responders; POST is answered here, not by one of them.
            def start_with_post(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
                headers = [(k, f"{v}, POST" if k.lower() == "allow" and "POST" not in v else v) for k, v in headers]
                return start_response(status, headers, exc_info)

            return super().__call__(env, start_with_post)  # type: ignore[arg-type]
        return super().__call__(env, start_response)

    def _answer(
        self,
        endpoint: PostEndpoint,
        route: str,
        length: int | None,
        env: WSGIEnvironment,
        start_response: StartResponse,
    ) -> Iterable[bytes]:
        started = time.perf_counter()
        rid = request_id_for(env.get("HTTP_X_REQUEST_ID"))
        token = request_id.set(rid)
        try:
            stream = env["wsgi.input"]
            remaining = length or 0  # like falcon's bounded_stream: no Content-Length, no body

            def read(size: int) -> bytes:
                nonlocal remaining
                data: bytes = stream.read(min(size, remaining)) if remaining > 0 else b""
                remaining -= len(data)
                return data

            failed = True
            try:
                code, body = endpoint.answer_post(env.get("CONTENT_TYPE"), length, read)
                failed = code >= 500
            except Exception:
                # answer_post catches everything it expects; this is the last line of defence.
                logger.exception("protocol endpoint failed")
                code, body = endpoint.failure()
            finally:
                release_connection(failed=failed)
            status = falcon.code_to_http_status(code)
            headers = [
                ("Content-Type", endpoint.response_type),
                ("Content-Length", str(len(body))),
                ("Cache-Control", "no-store"),
                ("X-Request-ID", rid),
            ]
            if code == 503:  # tryLater / systemFailure: RFC 9110 §10.2.3
                headers.append(("Retry-After", str(RETRY_AFTER_SECONDS)))
            start_response(status, headers)
            elapsed = time.perf_counter() - started
            ACCESS_LOG.write("POST", env.get("PATH_INFO", ""), status, round(elapsed * 1000, 2), rid)
            metrics.record_lane(route, code, elapsed)
            return [body]
        finally:
            request_id.reset(token)
