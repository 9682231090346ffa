"""Audit records for what happens to the system rather than through it (issue 15 item 8):
PKCS#11 session loss and recovery, database outages, web worker start and stop.

The events come from :mod:`core.events` (``hsm`` and ``core.db`` cannot import the audit wiring)
and arrive at awkward moments: inside the key store's locks, inside a caller's transaction that
may roll back, or while the database is down. So they are queued in the process and written by
:meth:`SystemAudit.flush`, each in a transaction of its own, at the end of a request (outside any
transaction) and after each job run. A database outage is one record written once the database
is back, with when this process first and last saw it unavailable; while it is down the queue
keeps everything, and a flush is tried at most every :data:`RETRY_SECONDS`.

Every process (worker, jobs loop) reports what it saw itself: under four workers an outage is
up to four records, each naming its host and pid.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from core import audit, events
from core import db as core_db
from core.clock import Clock, SystemClock
from core.db import atomic

logger = logging.getLogger(__name__)

ACTOR = "system"
RETRY_SECONDS = 5.0
_MAX_QUEUED = 1000  # a token flapping for hours must not grow memory without bound

_ACTIONS = {
    events.HSM_SESSION_LOST: "hsm.session_lost",
    events.HSM_SESSION_RECOVERED: "hsm.session_recovered",
}


def process_id() -> str:
    return f"{socket.gethostname()[:100]}:{os.getpid()}"


@dataclass
class _Outage:
    started_at: datetime
    last_seen_at: datetime
    failures: int = 1


@dataclass
class SystemAudit:
    clock: Clock = field(default_factory=SystemClock)
    queue: deque[tuple[datetime, str, str, str, dict[str, Any]]] = field(default_factory=deque)
    outage: _Outage | None = None
    dropped: int = 0
    _retry_at: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock)  # the queue and the outage
    _flushing: threading.Lock = field(default_factory=threading.Lock)  # one writer per process

    def handle(self, name: str, fields: dict[str, Any]) -> None:
        """The :mod:`core.events` subscriber: remember, never touch the database here."""
        if name == events.DATABASE_UNAVAILABLE:
            now = self.clock.now()
            with self._lock:
                if self.outage is None:
                    self.outage = _Outage(now, now)
                else:
                    self.outage.last_seen_at = now
                    self.outage.failures += 1
            return
        action = _ACTIONS.get(name)
        if action is not None:
            # The label names the object; "token" itself is a forbidden detail key (secrets).
            details = {k: v for k, v in fields.items() if k != "token"}
            self.enqueue(action, "hsm_token", str(fields.get("token", "")), details)

    def enqueue(self, action: str, object_type: str, object_id: str, details: dict[str, Any]) -> None:
        with self._lock:
            if len(self.queue) >= _MAX_QUEUED:
                self.dropped += 1
                return
            self.queue.append((self.clock.now(), action, object_type, object_id, dict(details)))

    def pending(self) -> bool:
        return bool(self.queue) or self.outage is not None

    def flush(self, *, force: bool = False) -> int:
        """Write what is queued (each record in its own transaction); the number written.
        Outside a transaction only; never raises (a database still down keeps the queue).
        ``force``: try even within :data:`RETRY_SECONDS` of a failure."""
        if not (self.queue or self.outage is not None) or (time.monotonic() < self._retry_at and not force):
            return 0
        if core_db.database.obj is None or core_db.database.in_transaction():
            return 0
        if not self._flushing.acquire(blocking=False):
            return 0  # another thread of this process is writing them
        try:
            return self._flush_locked()
        except Exception as exc:
            self._retry_at = time.monotonic() + RETRY_SECONDS
            if core_db.is_unavailable(exc):
                core_db.forget_connections()  # and so the outage goes on (see handle)
            else:
                logger.exception("could not write system audit records")
            return 0
        finally:
            self._flushing.release()

    def _flush_locked(self) -> int:
        written = 0
        outage = self.outage
        if outage is not None:
            self._record_outage(outage)
            with self._lock:
                self.outage = None
            written += 1
        while self.queue:
            at, action, object_type, object_id, details = self.queue[0]
            self._record(action, object_type, object_id, {**details, "at": at.isoformat()})
            with self._lock:
                self.queue.popleft()
            written += 1
        if self.dropped:
            self._record("system.audit_events_dropped", "process", process_id(), {"count": self.dropped})
            self.dropped = 0
        return written

    def _record_outage(self, outage: _Outage) -> None:
        ended = self.clock.now()
        self._record(
            "system.database_outage",
            "process",
            process_id(),
            {
                "started_at": outage.started_at.isoformat(),
                "last_seen_at": outage.last_seen_at.isoformat(),
                "ended_at": ended.isoformat(),
                "seconds": round((ended - outage.started_at).total_seconds(), 3),
                "failures": outage.failures,
            },
        )

    def _record(self, action: str, object_type: str, object_id: str, details: dict[str, Any]) -> None:
        with atomic():
            audit.record(
                self.clock,
                actor=ACTOR,
                action=action,
                object_type=object_type,
                object_id=object_id[:200],
                details=details,
            )


# One per process: the events of the key store and the database are the process's.
SYSTEM_AUDIT = SystemAudit()


def install(clock: Clock) -> SystemAudit:
    """Called by ``create_app`` and the jobs loop: audit system events with ``clock``."""
    SYSTEM_AUDIT.clock = clock
    events.subscribe(SYSTEM_AUDIT.handle)
    return SYSTEM_AUDIT


def flush() -> None:
    """At the end of each request and job run; costs two checks when nothing is waiting."""
    if SYSTEM_AUDIT.queue or SYSTEM_AUDIT.outage is not None:
        SYSTEM_AUDIT.flush()


def process_started(process: str, server: str) -> None:
    """Audit this process's start now (or, with the database down, at its first request) and
    its stop at exit. ``process`` is ``web-worker`` (the jobs loop audits its own, see
    ``config.commands.jobs_cmd``); ``server`` is ``granian`` or ``gunicorn``.

    granian's workers are ``multiprocessing`` processes, which end with ``os._exit`` after
    running multiprocessing's finalizers but not ``atexit``; gunicorn's workers end with
    ``sys.exit`` and run ``atexit``. The stop is registered with both and written once."""
    import atexit
    from multiprocessing import util

    details = {"process": process, "server": server}
    SYSTEM_AUDIT.enqueue("process.start", "process", process_id(), details)
    SYSTEM_AUDIT.flush()
    done = threading.Event()

    def stopped() -> None:
        if done.is_set():
            return
        done.set()
        SYSTEM_AUDIT.enqueue("process.stop", "process", process_id(), details)
        SYSTEM_AUDIT.flush(force=True)  # the last chance
        if SYSTEM_AUDIT.pending():
            logger.error("could not audit the stop of %s", process_id())

    atexit.register(stopped)
    util.Finalize(None, stopped, exitpriority=100)
