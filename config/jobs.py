"""Periodic jobs (CRL refresh, OCSP pre-signing, hold expiry, reminders, purges).

Each job is ``run(runtime) -> str`` (a one-line summary) registered in :data:`JOBS` with its
interval. Jobs must be idempotent and safe to run on several hosts at once (they lock or use
conditional updates in the database), because every app host runs the loop.
``sekap-trust jobs run`` runs each once; ``sekap-trust jobs loop`` runs them forever; gunicorn
starts the loop beside the workers when ``server.run_jobs`` is true.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from config import metrics, system_audit
from config.runtime import Runtime
from core import db as core_db

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    name: str
    interval_seconds: int
    run: Callable[[Runtime], str]


# Every job by name, in the order they run (filled from _all_jobs at the end of this module).
JOBS: dict[str, Job] = {}


def run_once(runtime: Runtime, names: list[str] | None = None) -> dict[str, str]:
    results: dict[str, str] = {}
    for job in JOBS.values():
        if names and job.name not in names:
            continue
        results[job.name] = _run(job, runtime)
    return results


def _run(job: Job, runtime: Runtime) -> str:
    started = time.monotonic()
    try:
        with core_db.connection():
            summary = job.run(runtime)
    except Exception as exc:  # a failing job must not stop the others; it is logged and retried
        logger.exception("job %s failed", job.name)
        metrics.record_job(job.name, failed=True)
        if core_db.is_unavailable(exc):
            core_db.forget_connections()  # reported, and audited once the database is back
        return f"failed: {type(exc).__name__}"
    metrics.record_job(job.name, failed=False)
    system_audit.flush()
    logger.info(
        "job %s: %s", job.name, summary, extra={"job": job.name, "seconds": round(time.monotonic() - started, 3)}
    )
    return summary


def loop(runtime: Runtime, stop: threading.Event | None = None, tick_seconds: float = 1.0) -> None:
    stop = stop or threading.Event()
    system_audit.install(runtime.clock)  # key store and database events of this process
    metrics.install()
    due = dict.fromkeys(JOBS, 0.0)
    while not stop.is_set():
        now = time.monotonic()
        for name, job in JOBS.items():
            if stop.is_set():
                break  # a stop asked during a round (every job is due at start) waits for one job, not all
            if now >= due.get(name, 0.0):
                _run(job, runtime)
                due[name] = time.monotonic() + job.interval_seconds
        stop.wait(tick_seconds)


def seal_at_shutdown(runtime: Runtime) -> str:
    """Seal whatever the chain gained since the last seal, so that a stop leaves it anchored."""
    from config.wiring.audit import seal_now
    from core import audit

    def run(rt: Runtime) -> str:
        if audit.oldest_unsealed_at() is None:
            return "audit chain already sealed"
        return f"sealed the audit chain at record {seal_now(rt, actor='system:shutdown').seq}"

    return _run(Job("audit.seal_at_shutdown", 0, run), runtime)


def _all_jobs() -> list[Job]:
    from ca.settings import CRL_JOB_INTERVAL_SECONDS
    from config.wiring import audit, ca, enrollment, ocsp

    return [
        # Holds expire before the CRLs are built, so one run publishes their revocations.
        Job("ca.holds.expire", 300, ca.expire_holds_job),
        Job("ca.crl.publish_due", CRL_JOB_INTERVAL_SECONDS, ca.crl_publish_due_job),
        Job("ca.ocsp_signers.renew", 3600, ca.renew_ocsp_signers_job),
        Job("ocsp.presign", 60, ocsp.presign_job),
        Job("enrollment.expire_applications", 300, enrollment.expire_applications_job),
        Job("enrollment.expiry_reminders", 3600, enrollment.expiry_reminders_job),
        Job("enrollment.send_mail", 30, enrollment.send_mail_job),
        Job("enrollment.housekeeping", 3600, enrollment.housekeeping_job),
        # Checks every minute; seals when audit.seal_interval_seconds have passed since the last seal.
        Job("audit.seal", 60, audit.seal_job),
        Job("ca.reconcile", 300, ca.reconcile_job),
        Job("approvals.expire", 300, audit.expire_approvals_job),
    ]


JOBS.update((job.name, job) for job in _all_jobs())
