"""The falcon middleware that puts a :class:`core.auth.Principal` on every request.

- ``Authorization: Bearer <token>`` → the principal of that token (access.principals);
- no header → :data:`core.auth.ANONYMOUS`; anything else → 401 problem+json.
"""

from __future__ import annotations

import logging
from typing import Any

import falcon

from access.principals import OfficerPoints, no_points, principal_for_token
from core.auth import ANONYMOUS
from core.clock import Clock
from core.errors import AuthenticationError

logger = logging.getLogger(__name__)


def bearer_token(req: falcon.Request) -> str | None:
    header = req.get_header("Authorization")
    if header is None:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise AuthenticationError("use 'Authorization: Bearer <token>'")
    return value.strip()


class AuthenticationMiddleware:
    """Sets ``req.context.principal`` on every request (after DatabaseMiddleware opened the connection)."""

    def __init__(self, clock: Clock, points_of: OfficerPoints = no_points) -> None:
        self.clock = clock
        self.points_of = points_of

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        req.context.principal = ANONYMOUS
        token = bearer_token(req)
        if token is None:
            return
        principal = principal_for_token(token, self.clock, self.points_of)
        if principal is None:
            # The token itself never reaches a log line.
            logger.info("rejected bearer token")
            raise AuthenticationError("the bearer token is unknown, expired or disabled")
        req.context.principal = principal
        req.context.bearer_token = token

    def process_response(self, req: falcon.Request, resp: falcon.Response, resource: Any, req_succeeded: bool) -> None:
        if resp.status in (falcon.HTTP_401, 401):
            resp.set_header("WWW-Authenticate", 'Bearer realm="sekap-trust"')
