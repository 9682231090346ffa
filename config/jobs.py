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

from config.runtime import Runtime
from core import db as core_db

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    name: str
    interval_seconds: int
    run: Callable[[Runtime], str]


# Packages add their jobs here (name → Job), in the order they should run.
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
        return f"failed: {type(exc).__name__}"
    logger.info("job %s: %s", job.name, summary, extra={"job": job.name, "seconds": round(time.monotonic() - started, 3)})
    return summary


def loop(runtime: Runtime, stop: threading.Event | None = None, tick_seconds: float = 1.0) -> None:
    stop = stop or threading.Event()
    due = dict.fromkeys(JOBS, 0.0)
    while not stop.is_set():
        now = time.monotonic()
        for name, job in JOBS.items():
            if now >= due.get(name, 0.0):
                _run(job, runtime)
                due[name] = time.monotonic() + job.interval_seconds
        stop.wait(tick_seconds)
