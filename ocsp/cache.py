"""Database side of the responder: certificate status with the pre-signed response, in one
query, and the upsert of pre-signed responses (multi-host safe).

Reads may go to a replica (``database.replica_url``); writes (the pre-signing job) go to the
primary through the bound proxy.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, NamedTuple

import peewee as pw

from ca import status as ca_status
from ca.serials import to_hex
from ca.status import CertStatus, StatusKind, relying_party_status
from core import db as core_db
from core.db import UTCDateTimeField
from ocsp.models import OCSPResponse
from ocsp.responder import ServedIssuer


@dataclass(frozen=True)
class CachedResponse:
    der: bytes
    produced_at: datetime
    next_update: datetime
    status: StatusKind


class StatusRow(NamedTuple):
    """One row of :data:`STATUS_COLUMNS`: the certificate's status columns (``ca.status``) and its
    pre-signed response, if any. Values are raw (as the driver returns them)."""

    state: str
    revocation_reason: str | None
    revoked_at: Any
    invalidity_date: Any
    status_changed_at: Any
    issued_at: Any
    response_der: Any
    produced_at: Any
    next_update: Any
    # Copies of status_changed_at / issued_at taken when the response was signed.
    response_status_changed_at: Any
    response_issued_at: Any
    response_status: StatusKind | None


class StatusEntry:
    """A certificate row (state, revocation, change stamps) joined with its pre-signed response,
    as read from the database; values are converted only when used (this is the hot path)."""

    __slots__ = ("_row", "_status")

    def __init__(self, row: Sequence[Any] | None) -> None:
        # tuple.__new__: the NamedTuple without its _make/__new__ overhead (hot path)
        self._row = tuple.__new__(StatusRow, row) if row is not None else None
        self._status: CertStatus | None = None

    @property
    def status(self) -> CertStatus:
        """The status by ``ca.status`` rules; ``unknown`` without a row (never ``good``)."""
        if self._status is None:
            row = self._row
            if row is None:
                self._status = CertStatus("unknown")
            else:
                self._status = relying_party_status(
                    row.state, row.revocation_reason, _time(row.revoked_at), _time(row.invalidity_date)
                )
        return self._status

    @property
    def status_changed_at(self) -> datetime | None:
        return _time(self._row.status_changed_at) if self._row else None

    @property
    def issued_at(self) -> datetime | None:
        return _time(self._row.issued_at) if self._row else None

    def usable_cache(self, now: datetime) -> CachedResponse | None:
        """The pre-signed response if still valid and made from the row as it is now.

        The row's change stamps are compared with the copies taken when the response was made
        (stored values, same columns types: equal iff unchanged). Comparing stamps rather than
        times also catches a change whose transaction committed after the job had read the row."""
        row = self._row
        if row is None or row.response_der is None:
            return None
        if row.response_status_changed_at != row.status_changed_at or row.response_issued_at != row.issued_at:
            return None
        next_update = _time(row.next_update)
        if next_update is None or now >= next_update:
            return None
        produced_at = _time(row.produced_at)
        assert produced_at is not None and row.response_status is not None
        return CachedResponse(bytes(row.response_der), produced_at, next_update, row.response_status)


_TIME_FIELD = UTCDateTimeField()


def _time(raw: Any) -> datetime | None:
    if raw is None:
        return None
    if isinstance(raw, str):
        parsed = _sqlite_datetime(raw)
        if parsed is not None:
            return parsed
    return _TIME_FIELD.python_value(raw)  # type: ignore[no-any-return, no-untyped-call]


@lru_cache(maxsize=4096)
def _sqlite_datetime(raw: str) -> datetime | None:
    """SQLite hands back "YYYY-MM-DD HH:MM:SS[.ffffff]" (naive UTC): fromisoformat reads it much
    faster than peewee's strptime loop, and the same pre-signed response's times come back on
    every request for it, so they are remembered. None: not that shape (the field decides)."""
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# In the order of :class:`StatusRow`.
STATUS_COLUMNS: tuple[pw.Field, ...] = (
    *ca_status.STATUS_COLUMNS,
    OCSPResponse.der,
    OCSPResponse.produced_at,
    OCSPResponse.next_update,
    OCSPResponse.cert_status_changed_at,
    OCSPResponse.cert_issued_at,
    OCSPResponse.cert_status,
)


def join_cached(query: pw.ModelSelect[Any]) -> pw.ModelSelect[Any]:
    return ca_status.join_per_certificate(query, OCSPResponse, OCSPResponse.issuer, OCSPResponse.serial)


def fetch(issuer: ServedIssuer, serial: int, reader: pw.Database | None = None) -> StatusEntry:
    """One indexed query: the certificate row LEFT JOIN its pre-signed response.

    The SQL is compiled once per database (peewee's query building costs more than SQLite's
    execution on this hot path); values go through the model fields' converters as usual."""
    if reader is not None:
        reader.connect(reuse_if_open=True)
        database: pw.Database = reader
    else:
        database = core_db.database.obj
    cursor = database.execute_sql(_fetch_sql(database), (issuer.authority_id, to_hex(serial)))  # type: ignore[no-untyped-call]
    return StatusEntry(cursor.fetchone())


_SQL: dict[int, str] = {}


def _fetch_sql(database: pw.Database) -> str:
    sql = _SQL.get(id(database))
    if sql is None:
        columns = ca_status.COLUMNS
        query = join_cached(ca_status.select_certificates(*STATUS_COLUMNS)).where(
            (columns.issuer == 0) & (columns.serial == "")
        )
        sql, params = database.get_sql_context().sql(query).query()  # type: ignore[no-untyped-call]
        if list(params) != [0, ""]:
            raise RuntimeError(f"unexpected parameters in the status query: {params!r}")
        _SQL[id(database)] = sql
    return sql


def lookup(issuer: ServedIssuer, serial: int, reader: pw.Database | None = None) -> CertStatus:
    """Status only (``ca.status`` rules); never ``good`` for a serial without an issued row."""
    return fetch(issuer, serial, reader).status


@dataclass(frozen=True)
class PresignedRow:
    issuer_id: int
    serial: str
    der: bytes
    produced_at: datetime
    this_update: datetime
    next_update: datetime
    signer_serial: str
    cert_status_changed_at: datetime | None
    cert_issued_at: datetime | None
    cert_status: StatusKind


def store(rows: Sequence[PresignedRow]) -> int:
    """Upsert pre-signed responses; a row is replaced only by one read at the same time or later,
    so two hosts signing concurrently converge on the newest answer."""
    if not rows:
        return 0
    data = [
        {
            "issuer": r.issuer_id,
            "serial": r.serial,
            "der": r.der,
            "produced_at": r.produced_at,
            "this_update": r.this_update,
            "next_update": r.next_update,
            "signer_serial": r.signer_serial,
            "cert_status_changed_at": r.cert_status_changed_at,
            "cert_issued_at": r.cert_issued_at,
            "cert_status": r.cert_status,
        }
        for r in rows
    ]
    updated = (
        "der",
        "produced_at",
        "this_update",
        "next_update",
        "signer_serial",
        "cert_status_changed_at",
        "cert_issued_at",
        "cert_status",
    )
    query = OCSPResponse.insert_many(data).on_conflict(
        conflict_target=[OCSPResponse.issuer, OCSPResponse.serial],
        update={getattr(OCSPResponse, name): getattr(pw.EXCLUDED, name) for name in updated},
        where=(pw.EXCLUDED.produced_at >= OCSPResponse.produced_at),
    )
    query.execute()
    return len(rows)
