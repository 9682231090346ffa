"""The responder service: parse, choose cached or live, sign — and always answer in OCSP.

Plain single requests with a SHA-1 CertID (the RFC 5019 profile) are served from the
pre-signed cache when it is fresh; requests with a nonce, several CertIDs or another hash are
signed live. Errors become OCSP response statuses here; nothing escapes as an exception.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

import peewee as pw

from ca.status import CertStatus
from core import db as core_db
from core import events
from core.clock import Clock
from ocsp import cache
from ocsp.directory import IssuerDirectory
from ocsp.errors import MalformedRequestError, SignerUnavailableError
from ocsp.ledger import SignatureLedger
from ocsp.request import ParsedRequest, parse_request
from ocsp.responder import IssuerIndex, OCSPAnswer, ServedIssuer, error_response, respond
from ocsp.settings import OCSPSettings

logger = logging.getLogger(__name__)

_PARSE_CACHE_MAX_BYTES = 512
_PARSE_CACHE_ENTRIES = 10_000
PRESIGNED_HASH = "sha1"  # RFC 5019 §2.1.1: clients use SHA-1 CertIDs; pre-signed responses carry them


@dataclass(frozen=True)
class ServedResponse:
    """An answer plus how it was made. ``source`` is ``cache``, ``live`` or ``error``."""

    answer: OCSPAnswer
    source: str
    nonce: bool = False
    http_status: int = 200

    @property
    def der(self) -> bytes:
        return self.answer.der


class OCSPService:
    def __init__(
        self, settings: OCSPSettings, clock: Clock, directory: IssuerDirectory, reader: pw.Database | None = None
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.directory = directory
        self.reader = reader
        self.validity = timedelta(hours=settings.validity_hours)
        self._parsed: dict[bytes, ParsedRequest] = {}
        # Live signatures are counted per signer and minute (ocsp.ledger); pre-signed ones are rows.
        self.ledger = SignatureLedger(clock)

    def handle(self, der: bytes) -> ServedResponse:
        """Answer one DER OCSPRequest. Never raises."""
        try:
            request = self._parse(der)
        except MalformedRequestError as exc:
            return self.error("malformedRequest", exc.http_status)
        try:
            return self._answer(request)
        except SignerUnavailableError as exc:
            logger.error("OCSP signer unavailable: %s", exc.message)
            return self.error("tryLater")
        except Exception as exc:
            # HSM session lost, a bug...: an OCSP internalError, never an HTTP 500.
            logger.exception("OCSP request failed")
            core_db.drop_connection()  # not kept for the next request: it may be broken
            if self.reader is not None and not self.reader.is_closed():
                self.reader.close()
            if core_db.is_unavailable(exc):
                # Database away: RFC 6960 §2.3 tryLater, HTTP 503 (the edge adds Retry-After).
                core_db.forget_connections()
                return self.error("tryLater", 503)
            return self.error("internalError")

    def _parse(self, der: bytes) -> ParsedRequest:
        """Parse, remembering small nonce-less requests: RFC 5019 clients send the same bytes
        for the same certificate again and again, and parsing is pure."""
        parsed = self._parsed.get(der)
        if parsed is not None:
            return parsed
        parsed = parse_request(
            der, max_bytes=self.settings.max_request_bytes, max_requests=self.settings.max_requests_per_message
        )
        if parsed.nonce is None and len(der) <= _PARSE_CACHE_MAX_BYTES:
            if len(self._parsed) >= _PARSE_CACHE_ENTRIES:
                self._parsed.clear()  # crude bound; refilled by the next requests
            self._parsed[der] = parsed
        return parsed

    def error(self, status: str, http_status: int = 200) -> ServedResponse:
        return ServedResponse(OCSPAnswer(error_response(status), status), "error", http_status=http_status)

    def _answer(self, request: ParsedRequest) -> ServedResponse:
        # Re-read at most every ocsp.refresh_seconds: a new CA or a renewed signer shows up then.
        index = self.directory.index()
        now = self.clock.now()
        single = request.single
        if request.nonce is None and single is not None:
            issuer = index.find(single)
            if issuer is not None and single.serial > 0 and single.serial.bit_length() <= 160:
                entry = cache.fetch(issuer, single.serial, self.reader)
                if single.hash_algorithm == PRESIGNED_HASH:
                    cached = entry.usable_cache(now)
                    if cached is not None:
                        events.emit(events.OCSP_CACHE, outcome="hit")
                        return ServedResponse(
                            OCSPAnswer(
                                cached.der,
                                "successful",
                                cached.produced_at,
                                None,
                                cached.next_update,
                                (cached.status,),
                            ),
                            "cache",
                        )
                # Stale, missing or another hash: sign live with the status just read.
                answer = respond(
                    request, index, lambda _i, _s: entry.status, self.directory.signer, now=now, validity=self.validity
                )
                self._count(index, request, answer)
                events.emit(events.OCSP_CACHE, outcome="miss")
                return ServedResponse(answer, "live")
        events.emit(events.OCSP_CACHE, outcome="bypass")  # a nonce, several CertIDs: never cached
        answer = respond(request, index, self._lookup, self.directory.signer, now=now, validity=self.validity)
        self._count(index, request, answer)
        return ServedResponse(answer, "live" if answer.successful else "error", nonce=request.nonce is not None)

    def _count(self, index: IssuerIndex, request: ParsedRequest, answer: OCSPAnswer) -> None:
        """A signed answer is counted under the CA whose delegated signer made it (the first CertID's)."""
        if answer.successful:
            issuer = index.find(request.cert_ids[0])
            self.ledger.add(f"{issuer.name}-ocsp" if issuer is not None else "unknown", answer.der)

    def _lookup(self, issuer: ServedIssuer, serial: int) -> CertStatus:
        return cache.lookup(issuer, serial, self.reader)
