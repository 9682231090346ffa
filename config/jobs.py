"""Periodic jobs (CRL refresh, OCSP pre-signing, hold expiry, reminders, purges).

Each job is ``run(runtime) -> JobResult`` (a one-line summary and counts; a bare ``str`` is
taken as the summary) registered in :data:`JOBS` with its interval. Jobs must be idempotent and
safe to run on several hosts at once (they lock or use conditional updates in the database),
because every app host runs the loop. Every run is recorded in ``job_run`` (:mod:`core.job_runs`),
failed ones too; with the database down the row is skipped (and logged), the loop goes on.
``sekap-trust jobs run`` runs each once; ``sekap-trust jobs loop`` runs them forever; gunicorn
starts the loop beside the workers when ``server.run_jobs`` is true.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from config import metrics, system_audit
from config.job_schedule import SCHEDULE
from config.runtime import Runtime
from core import db as core_db
from core import job_runs
from core.job_runs import JobResult

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    name: str
    interval_seconds: int
    run: Callable[[Runtime], str | JobResult]


@dataclass(frozen=True)
class JobOutcome:
    """One run as this process saw it, whether or not its row could be stored."""

    job: str
    outcome: str  # core.job_runs.OUTCOMES
    result: JobResult
    error_class: str | None
    started_at: datetime
    seconds: float
    recorded: bool

    @property
    def ok(self) -> bool:
        return self.outcome == job_runs.OK

    @property
    def summary(self) -> str:
        return self.result.summary

    def line(self) -> str:
        """``<outcome> (<seconds> s): <summary>``, and a note when the row could not be stored."""
        note = "" if self.recorded else " [not recorded: database unavailable]"
        return f"{self.outcome} ({self.seconds:.2f} s): {self.summary}{note}"


# Not scheduled: the loop runs it once when it stops (recorded like the others).
SHUTDOWN_SEAL = "audit.seal_at_shutdown"
# Every job by name, in the order they run (filled from _all_jobs at the end of this module).
JOBS: dict[str, Job] = {}


def run_once(runtime: Runtime, names: list[str] | None = None) -> dict[str, JobOutcome]:
    results: dict[str, JobOutcome] = {}
    for job in JOBS.values():
        if names and job.name not in names:
            continue
        results[job.name] = _run(job, runtime)
    return results


def _run(job: Job, runtime: Runtime) -> JobOutcome:
    started_at = runtime.clock.now()
    started = time.monotonic()
    error_class = None
    try:
        with core_db.connection():
            returned = job.run(runtime)
        result = returned if isinstance(returned, JobResult) else JobResult(returned)
        outcome = job_runs.OK
    except Exception as exc:  # a failing job must not stop the others; it is logged and retried
        logger.exception("job %s failed", job.name)
        error_class = type(exc).__name__
        outcome = job_runs.FAILED
        result = JobResult(f"raised {error_class}; the log has the details")
        if core_db.is_unavailable(exc):
            core_db.forget_connections()  # reported, and audited once the database is back
            outcome = job_runs.SKIPPED_DB_UNAVAILABLE
            result = JobResult(f"skipped: the database is unavailable ({error_class})")
    seconds = time.monotonic() - started
    metrics.record_job(job.name, failed=outcome != job_runs.OK)
    # The duration comes from the monotonic clock: a wall-clock step during a run does not bend it.
    finished_at = started_at + timedelta(seconds=seconds)
    recorded = _store(job.name, started_at, finished_at, outcome, result, error_class)
    if outcome == job_runs.OK:
        system_audit.flush()
        logger.info("job %s: %s", job.name, result.summary, extra={"job": job.name, "seconds": round(seconds, 3)})
    return JobOutcome(job.name, outcome, result, error_class, started_at, seconds, recorded)


def _store(
    name: str, started_at: datetime, finished_at: datetime, outcome: str, result: JobResult, error_class: str | None
) -> bool:
    """Write the run's row; with the database down, log and go on (the loop must not stop)."""
    try:
        with core_db.connection():
            job_runs.record(name, started_at, finished_at, outcome, result, error_class)
    except Exception as exc:
        if core_db.is_unavailable(exc):
            core_db.forget_connections()
            logger.warning("job %s: run not recorded, the database is unavailable", name)
        else:
            logger.exception("job %s: could not record the run", name)
        return False
    return True


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
    """Seal whatever the chain gained since the last seal, so that a stop leaves it anchored;
    the summary (recorded as a run of ``audit.seal_at_shutdown``)."""
    from config.wiring.audit import seal_now
    from core import audit

    def run(rt: Runtime) -> str:
        if audit.oldest_unsealed_at() is None:
            return "audit chain already sealed"
        return f"sealed the audit chain at record {seal_now(rt, actor='system:shutdown').seq}"

    return _run(Job(SHUTDOWN_SEAL, 0, run), runtime).summary


def _all_jobs() -> list[Job]:
    from config.wiring import audit, ca, enrollment, ocsp

    code: dict[str, Callable[[Runtime], str | JobResult]] = {
        "ca.holds.expire": ca.expire_holds_job,
        "ca.crl.publish_due": ca.crl_publish_due_job,
        "ca.ocsp_signers.renew": ca.renew_ocsp_signers_job,
        "ocsp.presign": ocsp.presign_job,
        "enrollment.expire_applications": enrollment.expire_applications_job,
        "enrollment.expiry_reminders": enrollment.expiry_reminders_job,
        "enrollment.send_mail": enrollment.send_mail_job,
        "enrollment.housekeeping": enrollment.housekeeping_job,
        "audit.seal": audit.seal_job,
        "ca.reconcile": ca.reconcile_job,
        "approvals.expire": audit.expire_approvals_job,
    }
    return [Job(name, interval, code[name]) for name, interval in SCHEDULE]


JOBS.update((job.name, job) for job in _all_jobs())
