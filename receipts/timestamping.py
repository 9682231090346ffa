"""Our TSA called in process through its public API (a parsed query in, a recorded token out),
for the receipt seal's SignatureTimeStamp (XAdES B-T)."""

from __future__ import annotations

import secrets

from epackage.timestamp import request_der
from receipts.errors import SealUnavailableError
from tsa import TimeStampService, TSAError, parse_query


class InProcessTimestamper:
    def __init__(self, service: TimeStampService) -> None:
        self.service = service

    def __call__(self, digest: bytes) -> bytes:
        try:
            query = parse_query(request_der(digest, secrets.randbits(63)), self.service.rules)
            return self.service.issue(query)
        except TSAError as exc:
            # e.g. timeNotAvailable while the clock is not synchronised: no B-T receipt now.
            raise SealUnavailableError(f"the time-stamping authority refused: {exc}") from None
