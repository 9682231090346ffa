"""``POST /tsa``: RFC 3161 §3.4 time-stamp protocol over HTTP.

Every answer is a TimeStampResp (``application/timestamp-reply``), rejections included; never
problem+json and never a 500.
"""

from __future__ import annotations

import logging

import falcon

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

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.content_type = REPLY_TYPE
        resp.cache_control = ["no-store"]
        try:
            body = self._body(req)
            query = parse_query(body, self.service.rules)
            resp.data = granted(self.service.issue(query))
        except TSARejection as exc:
            if exc.fail_info == "system_failure":
                resp.status = falcon.HTTP_503
            resp.data = rejected(exc.fail_info, exc.message)
        except Exception:
            logger.exception("time-stamp request failed")
            resp.status = falcon.HTTP_503
            resp.data = rejected("system_failure", "the TSA could not complete the request")

    def _body(self, req: falcon.Request) -> bytes:
        media = (req.content_type or "").split(";", 1)[0].strip().lower()
        if media != QUERY_TYPE:
            raise BadDataFormatError(f"the request must be {QUERY_TYPE}")
        if req.content_length is not None and req.content_length > self.limit:
            raise BadRequestTSAError(f"the query exceeds {self.limit} bytes")
        body = req.bounded_stream.read(self.limit + 1)
        if len(body) > self.limit:
            raise BadRequestTSAError(f"the query exceeds {self.limit} bytes")
        return body
