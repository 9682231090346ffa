"""``POST /tsa``: RFC 3161 §3.4 time-stamp protocol over HTTP.

Every answer is a TimeStampResp (``application/timestamp-reply``), rejections included; never
problem+json and never a 500.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from tsa.authority import granted, rejected
from tsa.errors import BadDataFormatError, BadRequestTSAError, TSARejection
from tsa.query import parse_query
from tsa.service import TimeStampService

logger = logging.getLogger(__name__)

QUERY_TYPE = "application/timestamp-query"
REPLY_TYPE = "application/timestamp-reply"


class TimeStampResource:
    speaks_own_protocol = True  # body limit and errors answered as TimeStampResp, not problem+json

    def __init__(self, service: TimeStampService) -> None:
        self.service = service
        self.limit = service.settings.max_request_bytes

    response_type = REPLY_TYPE

    def answer_post(
        self, content_type: str | None, content_length: int | None, read: Callable[[int], bytes]
    ) -> tuple[int, bytes]:
        """The TimeStampResp for a POSTed body, whatever the input (served by
        :class:`config.protocol_lane.App`, which hands over every POST to ``/tsa``; as a falcon
        route the resource has no responders, so other methods get 405)."""
        try:
            body = self._body(content_type, content_length, read)
            query = parse_query(body, self.service.rules)
            return 200, granted(self.service.issue(query))
        except TSARejection as exc:
            return (503 if exc.fail_info == "system_failure" else 200), rejected(exc.fail_info, exc.message)
        except Exception:
            logger.exception("time-stamp request failed")
            return self.failure()

    def failure(self) -> tuple[int, bytes]:
        return 503, rejected("system_failure", "the TSA could not complete the request")

    def _body(self, content_type: str | None, content_length: int | None, read: Callable[[int], bytes]) -> bytes:
        media = (content_type or "").split(";", 1)[0].strip().lower()
        if media != QUERY_TYPE:
            raise BadDataFormatError(f"the request must be {QUERY_TYPE}")
        if content_length is not None and content_length > self.limit:
            raise BadRequestTSAError(f"the query exceeds {self.limit} bytes")
        body = read(self.limit + 1)
        if len(body) > self.limit:
            raise BadRequestTSAError(f"the query exceeds {self.limit} bytes")
        return body
