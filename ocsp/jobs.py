"""The pre-signing job: keep a fresh signed response for every valid certificate.

A certificate gets a new response when it has none, when its row changed since the response
was made (issued, revoked, suspended, resumed: the change stamps differ), when the response is
past half its validity (RFC 5019 §4 / CA/B BR §4.9.10 refresh), or when the OCSP signer was
renewed. Rows are read in keyset-paginated batches (bounded memory for millions of
certificates), signed, and upserted with their audit record in one transaction per batch. Two
hosts running it at once do duplicate work at worst, never harm: the upsert keeps the answer
made from the newest read.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import peewee as pw
from cryptography import x509

from ca import status as ca_status
from core import audit
from core.clock import Clock
from core.db import atomic
from ocsp import cache
from ocsp.directory import IssuerDirectory
from ocsp.models import OCSPResponse
from ocsp.responder import ServedIssuer, cert_id_for, sign_response
from ocsp.settings import OCSPSettings
from ocsp.signer import ResponseSigner

logger = logging.getLogger(__name__)

_CERT = ca_status.COLUMNS
_COLUMNS = (_CERT.id, _CERT.serial, *cache.STATUS_COLUMNS)


@dataclass
class PresignReport:
    signed: dict[str, int] = field(default_factory=dict)
    complete: bool = True

    @property
    def total(self) -> int:
        return sum(self.signed.values())

    def summary(self) -> str:
        parts = ", ".join(f"{name}={count}" for name, count in sorted(self.signed.items())) or "no CA"
        return f"signed {self.total} response(s) ({parts}){'' if self.complete else '; more remain'}"


def _changed(column: pw.Field, copy: pw.Field) -> pw.Expression:
    """Null-safe "differs" that reads the same on SQLite and PostgreSQL."""
    return (column != copy) | (column.is_null() & copy.is_null(False)) | (column.is_null(False) & copy.is_null())


def _due(
    issuer: ServedIssuer, signer_serial: str, now: datetime, cutoff: datetime, after_id: int, limit: int
) -> list[tuple[Any, ...]]:
    stale = (
        OCSPResponse.id.is_null()
        | (OCSPResponse.this_update < cutoff)
        | (OCSPResponse.signer_serial != signer_serial)
        | _changed(_CERT.status_changed_at, OCSPResponse.cert_status_changed_at)
        | _changed(_CERT.issued_at, OCSPResponse.cert_issued_at)
    )
    query = (
        cache.join_cached(ca_status.select_certificates(*_COLUMNS))
        .where(
            (_CERT.issuer == issuer.authority_id)
            & (_CERT.id > after_id)
            & (_CERT.state != "failed")
            & (_CERT.not_after > now)
            & stale
        )
        .order_by(_CERT.id)
        .limit(limit)
        .tuples()
    )
    return [tuple(row) for row in query]  # type: ignore[arg-type]


def presign(
    settings: OCSPSettings,
    clock: Clock,
    directory: IssuerDirectory,
    *,
    actor: str = "system:jobs",
    max_signatures: int | None = None,
) -> PresignReport:
    """Sign what is due for every served CA, at most ``presign_max_per_run`` signatures."""
    validity = timedelta(hours=settings.validity_hours)
    budget = max_signatures if max_signatures is not None else settings.presign_max_per_run
    report = PresignReport()
    directory.refresh()
    for issuer in directory.index().issuers:
        done, finished = _presign_issuer(issuer, settings, clock, directory, validity, budget, actor)
        report.signed[issuer.name] = done
        budget -= done
        if not finished:
            report.complete = False
            break
    return report


def _presign_issuer(
    issuer: ServedIssuer,
    settings: OCSPSettings,
    clock: Clock,
    directory: IssuerDirectory,
    validity: timedelta,
    budget: int,
    actor: str,
) -> tuple[int, bool]:
    signer = directory.signer(issuer)
    certificate = directory.index().certificate(issuer.name)
    after_id = 0
    done = 0
    while True:
        if done >= budget:
            return done, False
        read_at = clock.now()  # before the read: a later change always differs from what we saw
        cutoff = read_at - validity / 2
        limit = min(settings.presign_batch_size, budget - done)
        rows = _due(issuer, signer.serial, read_at, cutoff, after_id, limit)
        if not rows:
            return done, True
        batch = [_presigned(issuer, certificate, signer, row, read_at, validity) for row in rows]
        after_id, *_ = rows[-1]  # keyset pagination on the certificate row id
        _store(batch, issuer, signer, clock, actor)
        done += len(batch)
        if len(rows) < limit:
            return done, True


def _presigned(
    issuer: ServedIssuer,
    certificate: x509.Certificate,
    signer: ResponseSigner,
    row: tuple[Any, ...],
    read_at: datetime,
    validity: timedelta,
) -> cache.PresignedRow:
    """A signed response for one due certificate row (SHA-1 CertID, RFC 5019 §2.1.1), with the
    change stamps it was made from."""
    _cert_row_id, serial_hex, *status_row = row
    entry = cache.StatusEntry(status_row)
    cert_id = cert_id_for(certificate, int(serial_hex, 16), "sha1")
    answer = sign_response([(cert_id, entry.status)], signer, produced_at=read_at, validity=validity)
    assert answer.this_update is not None and answer.next_update is not None
    return cache.PresignedRow(
        issuer.authority_id,
        serial_hex,
        answer.der,
        read_at,
        answer.this_update,
        answer.next_update,
        signer.serial,
        entry.status_changed_at,
        entry.issued_at,
        entry.status.kind,
    )


def _store(
    batch: list[cache.PresignedRow], issuer: ServedIssuer, signer: ResponseSigner, clock: Clock, actor: str
) -> None:
    """Upsert a batch with its audit record, in one transaction."""
    with atomic():
        cache.store(batch)
        audit.record(
            clock,
            actor=actor,
            action="ocsp.presign",
            object_type="authority",
            object_id=issuer.name,
            details={
                "responses": len(batch),
                "signer_serial": signer.serial,
                "first_serial": batch[0].serial,
                "last_serial": batch[-1].serial,
            },
        )
