"""Every live OCSP signature accounted for, cheaply (issue 15 item 5).

Pre-signed responses are rows of ``ocsp_response``; live ones (nonce, several CertIDs, SHA-2
CertIDs, stale cache) used to leave no trace. Each process counts them per signer per minute, with
a SHA-256 over the digests of the responses it signed, and writes those totals to
``ocsp_signature_count`` (one row per signer, minute, host and process) at most every few seconds:
a request pays a hash and a lock, and one request per interval and worker pays one upsert. A
crash loses the counts since the last flush (at most ``FLUSH_SECONDS`` of a busy worker; an idle
worker writes its last counts with its next signature or at exit).
"""

from __future__ import annotations

import atexit
import hashlib
import logging
import os
import socket
import threading
import time
from datetime import datetime
from typing import Any

import peewee as pw

from core import db as core_db
from core.clock import Clock
from core.db import BaseModel, UTCDateTimeField

logger = logging.getLogger(__name__)
FLUSH_SECONDS = 10.0


class OCSPSignatureCount(BaseModel):
    signer = pw.CharField(max_length=60)
    minute = UTCDateTimeField()
    host = pw.CharField(max_length=100)
    pid = pw.IntegerField()
    count = pw.BigIntegerField()
    # SHA-256 over the SHA-256 of each response in signing order (this process, this minute).
    digest = pw.CharField(max_length=64)

    class Meta:
        table_name = "ocsp_signature_count"
        indexes = ((("signer", "minute", "host", "pid"), True), (("minute",), False))


class _Minute:
    __slots__ = ("count", "hasher")

    def __init__(self) -> None:
        self.count = 0
        self.hasher = hashlib.sha256()


class SignatureLedger:
    """Per-process counts of live signatures; :meth:`add` on every live response."""

    def __init__(self, clock: Clock, flush_seconds: float = FLUSH_SECONDS) -> None:
        self.clock = clock
        self.flush_seconds = flush_seconds
        self.host = socket.gethostname()[:100]
        self._lock = threading.Lock()
        self._minutes: dict[tuple[str, datetime], _Minute] = {}
        self._pid = 0
        self._flushing = threading.Lock()
        self._flushed = time.monotonic()

    def add(self, signer: str, der: bytes) -> None:
        minute = self.clock.now().replace(second=0, microsecond=0)
        digest = hashlib.sha256(der).digest()
        with self._lock:
            entry = self._minutes.get((signer, minute))
            if entry is None:
                entry = self._minutes[(signer, minute)] = _Minute()
            entry.count += 1
            entry.hasher.update(digest)
            if self._pid != os.getpid():  # first use in this process (or after a fork)
                self._pid = os.getpid()
                atexit.register(self._flush_quietly)
        due = time.monotonic() - self._flushed >= self.flush_seconds
        # One thread writes, on its own connection, at most every flush_seconds; the others go on.
        if due and self._flushing.acquire(blocking=False):
            try:
                self._flushed = time.monotonic()
                self._flush_quietly()
            finally:
                self._flushing.release()

    def _flush_quietly(self) -> None:
        try:
            self.flush()
        except Exception:  # the database may be away: the counts stay in memory for the next flush
            logger.exception("could not write the OCSP signature counts")

    def flush(self) -> int:
        """Write every open minute's totals (overwriting this process's row); forget finished ones."""
        current = self.clock.now().replace(second=0, microsecond=0)
        with self._lock:
            snapshot = [
                (signer, minute, entry.count, entry.hasher.copy().hexdigest())
                for (signer, minute), entry in self._minutes.items()
            ]
        if not snapshot:
            return 0
        rows: list[dict[str, Any]] = [
            {"signer": s, "minute": m, "host": self.host, "pid": os.getpid(), "count": c, "digest": d}
            for s, m, c, d in snapshot
        ]
        with core_db.connection(), core_db.atomic():
            OCSPSignatureCount.insert_many(rows).on_conflict(
                conflict_target=[
                    OCSPSignatureCount.signer,
                    OCSPSignatureCount.minute,
                    OCSPSignatureCount.host,
                    OCSPSignatureCount.pid,
                ],
                update={OCSPSignatureCount.count: pw.EXCLUDED.count, OCSPSignatureCount.digest: pw.EXCLUDED.digest},
            ).execute()
        with self._lock:
            for signer, minute, count, _ in snapshot:
                entry = self._minutes.get((signer, minute))
                if minute < current and entry is not None and entry.count == count:
                    del self._minutes[(signer, minute)]
        return len(rows)


def live_signatures_since(since: datetime) -> dict[str, int]:
    """Live OCSP signatures per signer from ``since`` (all hosts and processes)."""
    rows = (
        OCSPSignatureCount.select(OCSPSignatureCount.signer, pw.fn.SUM(OCSPSignatureCount.count))
        .where(OCSPSignatureCount.minute >= since)
        .group_by(OCSPSignatureCount.signer)
        .tuples()
    )
    return {str(row[0]): int(row[1]) for row in rows}  # type: ignore[index]
